//! The one logger of every nut-rs process: daemons (upsd, upsmon, upssched, upslog, nut-web),
//! upsdrvctl and every driver. It writes lines the way NUT 2.8 does:
//!
//! * Foreground, no debugging: each message as a plain line on stderr
//!   (`listening on 127.0.0.1 port 3493`).
//! * Foreground with `-D`: every line gets NUT's relative timestamp (`   0.000208\t`) and debug
//!   lines a `[D<n>] ` tag.
//! * Detached: syslog (`LOG_DAEMON`, ident = program name, with PID). syslog(3) silently drops
//!   messages when no syslog daemon listens, which is the right behaviour: a missing
//!   `/dev/log` must never stop a daemon.
//!
//! Two front ends share that one back end:
//!
//! * NUT's own levels — [`log`] (`upslogx`) with a [`Level`], [`debug`] (`upsdebugx`) with any
//!   debug level, and the [`notice!`](crate::notice), [`warning!`](crate::warning),
//!   [`error!`](crate::error), [`info!`](crate::info) and [`debug!`](crate::debug) macros the
//!   drivers use. The debug level can change at run time (`driver.debug`, `debug_min` on
//!   reload: [`set_debug_level`]), `-q` hides informational messages ([`set_quiet`]).
//! * `tracing` events, which the daemons use: [`init`] installs a minimal subscriber (no
//!   registry, no spans) that maps `ERROR`/`WARN`/`INFO` to [`Level::Error`]/
//!   [`Level::Warning`]/[`Level::Notice`], `DEBUG` to debug level 1 and `TRACE` to 2. Disabled
//!   events cost one comparison: the subscriber's level hint follows the debug level.
//!
//! `RUST_LOG=<level>` (`error`, `warn`, `info`, `debug`, `trace`) overrides the level of
//! `tracing` events for developers. Per-module filters are deliberately not supported: the
//! filter machinery costs every daemon a quarter of a megabyte of resident memory.

use std::ffi::CString;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber, span};

/// Where log lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// stderr (foreground; systemd captures it into the journal).
    Stderr,
    /// syslog (detached).
    Syslog,
}

/// Severity of a non-debug message (its syslog priority).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Errors.
    Error,
    /// Warnings.
    Warning,
    /// Notices (NUT's default for most messages).
    Notice,
    /// Informational messages (silenced by `-q`).
    Info,
}

impl Level {
    fn priority(self) -> libc::c_int {
        match self {
            Self::Error => libc::LOG_ERR,
            Self::Warning => libc::LOG_WARNING,
            Self::Notice => libc::LOG_NOTICE,
            Self::Info => libc::LOG_INFO,
        }
    }
}

static START: OnceLock<Instant> = OnceLock::new();
static IDENT: OnceLock<CString> = OnceLock::new();
static DEBUG_LEVEL: AtomicU32 = AtomicU32::new(0);
static QUIET: AtomicU32 = AtomicU32::new(0);
static SYSLOG: AtomicBool = AtomicBool::new(false);
/// `RUST_LOG`'s level for `tracing` events (0 = unset, else 1 = error … 5 = trace).
static TRACING_OVERRIDE: AtomicU8 = AtomicU8::new(0);

/// Install the process-wide logger: the program name (syslog's ident), the debug level (the
/// number of `-D` / `-d` flags plus any `DEBUG_MIN`; 0 logs informational messages and above)
/// and where lines go. Starts the clock of the debug timestamps. Calling it again changes the
/// level and the target; the first program name stays.
pub fn init(program: &str, debug_level: u8, target: Target) {
    START.get_or_init(Instant::now);
    let _ = IDENT.set(CString::new(program).unwrap_or_default());
    let rust_log = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.trim().parse::<LevelFilter>().ok())
        .and_then(|f| f.into_level())
        .map_or(0, level_rank);
    TRACING_OVERRIDE.store(rust_log, Ordering::Relaxed);
    DEBUG_LEVEL.store(u32::from(debug_level), Ordering::Relaxed);
    // Fails only when already installed: the levels just stored apply through the rebuild.
    let _ = tracing::subscriber::set_global_default(Bridge);
    tracing::callsite::rebuild_interest_cache();
    if target == Target::Syslog {
        use_syslog();
    }
}

/// The current debug level.
pub fn debug_level() -> u32 {
    DEBUG_LEVEL.load(Ordering::Relaxed)
}

/// Change the debug level (`driver.debug`, a reloaded `debug_min`).
pub fn set_debug_level(level: u32) {
    DEBUG_LEVEL.store(level, Ordering::Relaxed);
    tracing::callsite::rebuild_interest_cache();
}

/// Raise the log threshold (`-q`): level 1 hides informational messages.
pub fn set_quiet(level: u32) {
    QUIET.store(level, Ordering::Relaxed);
}

/// Send further messages to syslog instead of stderr (after going to the background).
pub fn use_syslog() {
    let ident = IDENT.get_or_init(|| CString::new("nut").unwrap_or_default());
    // SAFETY: `ident` lives in a static for the rest of the process, as openlog requires.
    unsafe { libc::openlog(ident.as_ptr(), libc::LOG_PID, libc::LOG_DAEMON) };
    SYSLOG.store(true, Ordering::Relaxed);
}

/// Log a message (NUT's `upslogx`).
pub fn log(level: Level, msg: &str) {
    if level == Level::Info && QUIET.load(Ordering::Relaxed) > 0 {
        return;
    }
    if SYSLOG.load(Ordering::Relaxed) {
        write_syslog(level.priority(), msg);
    } else {
        write_stderr(&stderr_line(timestamp(), None, msg));
    }
}

/// Log a debug message if the debug level is at least `level` (NUT's `upsdebugx`).
pub fn debug(level: u32, msg: &str) {
    if debug_level() < level {
        return;
    }
    if SYSLOG.load(Ordering::Relaxed) {
        write_syslog(libc::LOG_DEBUG, msg);
    } else {
        let since = START.get_or_init(Instant::now).elapsed();
        write_stderr(&stderr_line(Some(since), Some(level), msg));
    }
}

/// An I/O error as C's `strerror` prints it (`No such file or directory`), without Rust's
/// ` (os error 2)`: NUT's messages carry the plain text.
pub fn strerror(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// `upslogx(LOG_NOTICE, …)`.
#[macro_export]
macro_rules! notice {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Notice, &format!($($arg)*)) };
}

/// `upslogx(LOG_WARNING, …)`.
#[macro_export]
macro_rules! warning {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Warning, &format!($($arg)*)) };
}

/// `upslogx(LOG_ERR, …)`.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Error, &format!($($arg)*)) };
}

/// `upslogx(LOG_INFO, …)`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Info, &format!($($arg)*)) };
}

/// `upsdebugx(level, …)`; the message is only formatted when it will be shown.
#[macro_export]
macro_rules! debug {
    ($level:expr, $($arg:tt)*) => {
        if $crate::log::debug_level() >= $level {
            $crate::log::debug($level, &format!($($arg)*))
        }
    };
}

/// The time since start when debugging (NUT stamps every line then), else none.
fn timestamp() -> Option<Duration> {
    (debug_level() > 0).then(|| START.get_or_init(Instant::now).elapsed())
}

/// One stderr line, without its newline: `[<seconds>.<micros>\t][[D<n>] ]<msg>`, the seconds
/// right-aligned in at least four columns as NUT prints them.
fn stderr_line(since: Option<Duration>, debug: Option<u32>, msg: &str) -> String {
    let mut line = String::with_capacity(msg.len() + 20);
    if let Some(t) = since {
        let _ = write!(line, "{:4}.{:06}\t", t.as_secs(), t.subsec_micros());
    }
    if let Some(n) = debug {
        let _ = write!(line, "[D{n}] ");
    }
    line.push_str(msg);
    line
}

fn write_stderr(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(line.as_bytes());
    let _ = err.write_all(b"\n");
}

fn write_syslog(priority: libc::c_int, msg: &str) {
    let Ok(text) = CString::new(msg.replace('\0', " ")) else {
        return;
    };
    // SAFETY: a constant "%s" format with one valid C string argument.
    unsafe { libc::syslog(priority, c"%s".as_ptr(), text.as_ptr()) };
}

/// 1 = error … 5 = trace.
fn level_rank(level: tracing::Level) -> u8 {
    match level {
        tracing::Level::ERROR => 1,
        tracing::Level::WARN => 2,
        tracing::Level::INFO => 3,
        tracing::Level::DEBUG => 4,
        tracing::Level::TRACE => 5,
    }
}

/// The most verbose `tracing` level shown: `RUST_LOG`'s, else what the debug level shows.
fn tracing_max_rank() -> u8 {
    match TRACING_OVERRIDE.load(Ordering::Relaxed) {
        0 => match debug_level() {
            0 => 3,
            1 => 4,
            _ => 5,
        },
        set => set,
    }
}

/// Where a `tracing` event goes: a [`Level`] or a debug level.
fn route(level: tracing::Level) -> Result<Level, u32> {
    match level {
        tracing::Level::ERROR => Ok(Level::Error),
        tracing::Level::WARN => Ok(Level::Warning),
        tracing::Level::INFO => Ok(Level::Notice),
        tracing::Level::DEBUG => Err(1),
        tracing::Level::TRACE => Err(2),
    }
}

/// `tracing` events into [`log`] and [`debug`]. Spans are not recorded.
struct Bridge;

impl Bridge {
    fn shows(meta: &Metadata<'_>) -> bool {
        meta.is_event() && level_rank(*meta.level()) <= tracing_max_rank()
    }
}

impl Subscriber for Bridge {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if Self::shows(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        Self::shows(meta)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(match tracing_max_rank() {
            1 => LevelFilter::ERROR,
            2 => LevelFilter::WARN,
            3 => LevelFilter::INFO,
            4 => LevelFilter::DEBUG,
            _ => LevelFilter::TRACE,
        })
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let text = MessageText::of(event);
        match route(*event.metadata().level()) {
            Ok(level) => log(level, &text),
            // Shown whatever the debug level once enabled (`RUST_LOG`), as before.
            Err(n) => {
                if SYSLOG.load(Ordering::Relaxed) {
                    write_syslog(libc::LOG_DEBUG, &text);
                } else {
                    write_stderr(&stderr_line(timestamp(), Some(n), &text));
                }
            }
        }
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

/// The event's message followed by its fields (`message key=value …`).
#[derive(Default)]
struct MessageText(String);

impl MessageText {
    fn of(event: &Event<'_>) -> String {
        let mut text = Self::default();
        event.record(&mut text);
        text.0
    }
}

impl Visit for MessageText {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let rest = std::mem::take(&mut self.0);
            self.0 = format!("{value:?}");
            if !rest.is_empty() {
                self.0.push(' ');
                self.0.push_str(&rest);
            }
        } else {
            if !self.0.is_empty() {
                self.0.push(' ');
            }
            let _ = write!(self.0, "{}={:?}", field.name(), value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            if !self.0.is_empty() {
                self.0.push(' ');
            }
            let _ = write!(self.0, "{}={}", field.name(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_drops_the_os_error_number() {
        let e = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(strerror(&e), "No such file or directory");
        let custom = std::io::Error::other("bad thing");
        assert_eq!(strerror(&custom), "bad thing");
    }

    #[test]
    fn stderr_lines_are_nuts() {
        assert_eq!(
            stderr_line(None, None, "Startup successful"),
            "Startup successful"
        );
        let t = Duration::from_micros(208);
        assert_eq!(stderr_line(Some(t), None, "x"), "   0.000208\tx");
        assert_eq!(
            stderr_line(Some(Duration::new(12_345, 1_000)), Some(3), "y"),
            "12345.000001\t[D3] y"
        );
    }

    #[test]
    fn tracing_levels_map_to_nut_levels() {
        assert_eq!(route(tracing::Level::ERROR), Ok(Level::Error));
        assert_eq!(route(tracing::Level::WARN), Ok(Level::Warning));
        assert_eq!(route(tracing::Level::INFO), Ok(Level::Notice));
        assert_eq!(route(tracing::Level::DEBUG), Err(1));
        assert_eq!(route(tracing::Level::TRACE), Err(2));
        assert_eq!(Level::Notice.priority(), libc::LOG_NOTICE);
        assert_eq!(Level::Info.priority(), libc::LOG_INFO);
    }

    #[test]
    fn tracing_events_follow_the_debug_level() {
        // The only test of this binary that changes the process-wide level.
        let shown = |level| level_rank(level) <= tracing_max_rank();
        set_debug_level(0);
        assert!(shown(tracing::Level::INFO) && !shown(tracing::Level::DEBUG));
        assert_eq!(Bridge.max_level_hint(), Some(LevelFilter::INFO));
        set_debug_level(1);
        assert!(shown(tracing::Level::DEBUG) && !shown(tracing::Level::TRACE));
        set_debug_level(5);
        assert!(shown(tracing::Level::TRACE));
        assert_eq!(Bridge.max_level_hint(), Some(LevelFilter::TRACE));
        set_debug_level(0);
    }

    #[test]
    fn message_text_puts_the_message_first() {
        // Exercise the visitor through real events captured by a test subscriber.
        use std::sync::{Arc, Mutex};
        struct Capture(Arc<Mutex<Vec<String>>>);
        impl Subscriber for Capture {
            fn enabled(&self, _: &Metadata<'_>) -> bool {
                true
            }
            fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
                span::Id::from_u64(1)
            }
            fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
            fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
            fn event(&self, event: &Event<'_>) {
                self.0.lock().unwrap().push(MessageText::of(event));
            }
            fn enter(&self, _: &span::Id) {}
            fn exit(&self, _: &span::Id) {}
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        tracing::subscriber::with_default(Capture(seen.clone()), || {
            tracing::info!("listening on 127.0.0.1 port 3493");
            tracing::info!(ups = "dummy", "Connected to UPS");
        });
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0], "listening on 127.0.0.1 port 3493");
        assert_eq!(seen[1], "Connected to UPS ups=dummy");
    }
}
