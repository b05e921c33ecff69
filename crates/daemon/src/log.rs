//! NUT-style logging on top of `tracing`.
//!
//! * Foreground, no debugging: each message as a plain line on stderr, as NUT 2.8 prints them
//!   (`listening on 127.0.0.1 port 3493`).
//! * Foreground with `-D`: every line gets NUT's relative timestamp (`   0.000208\t`) and debug
//!   events a `[D<n>] ` tag (`debug!` is level 1, `trace!` level 2).
//! * Detached: syslog (`LOG_DAEMON`, ident = program name, with PID). syslog(3) silently drops
//!   messages when no syslog daemon listens, which is the right behaviour: a missing
//!   `/dev/log` must never stop a daemon.
//!
//! `RUST_LOG=<level>` (`error`, `warn`, `info`, `debug`, `trace`) overrides the level for
//! developers. Per-module filters are deliberately not supported: the filter machinery costs every
//! daemon a quarter of a megabyte of resident memory.

use std::ffi::CString;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::Instant;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// Where log lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// stderr (foreground; systemd captures it into the journal).
    Stderr,
    /// syslog (detached).
    Syslog,
}

/// Install the process-wide logger. `debug_level` is the number of `-D` flags (plus any
/// `DEBUG_MIN`); 0 logs informational messages and above.
pub fn init(program: &str, debug_level: u8, target: Target) {
    let default = match debug_level {
        0 => LevelFilter::INFO,
        1 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.trim().parse::<LevelFilter>().ok())
        .unwrap_or(default);
    let layer = NutLayer {
        target,
        timestamps: debug_level > 0,
    };
    if target == Target::Syslog {
        open_syslog(program);
    }
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(layer)
        .try_init();
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

fn start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

struct NutLayer {
    target: Target,
    timestamps: bool,
}

impl<S: Subscriber> Layer<S> for NutLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut text = MessageText::default();
        event.record(&mut text);
        let level = *event.metadata().level();
        match self.target {
            Target::Stderr => {
                let mut line = String::new();
                if self.timestamps {
                    let elapsed = start().elapsed();
                    let _ = write!(
                        line,
                        "{:4}.{:06}\t",
                        elapsed.as_secs(),
                        elapsed.subsec_micros()
                    );
                }
                if let Some(n) = debug_tag(level) {
                    let _ = write!(line, "[D{n}] ");
                }
                line.push_str(&text.0);
                line.push('\n');
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }
            Target::Syslog => syslog(level, &text.0),
        }
    }
}

fn debug_tag(level: Level) -> Option<u8> {
    match level {
        Level::DEBUG => Some(1),
        Level::TRACE => Some(2),
        _ => None,
    }
}

/// The event's message followed by its fields (`message key=value …`).
#[derive(Default)]
struct MessageText(String);

impl Visit for MessageText {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let mut rest = std::mem::take(&mut self.0);
            self.0 = format!("{value:?}");
            if !rest.is_empty() {
                self.0.push(' ');
                self.0.push_str(&std::mem::take(&mut rest));
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

fn open_syslog(program: &str) {
    static IDENT: OnceLock<CString> = OnceLock::new();
    let ident = IDENT.get_or_init(|| CString::new(program).unwrap_or_default());
    // SAFETY: `ident` lives for the rest of the process, as openlog requires.
    unsafe { libc::openlog(ident.as_ptr(), libc::LOG_PID, libc::LOG_DAEMON) };
}

fn syslog(level: Level, message: &str) {
    let priority = match level {
        Level::ERROR => libc::LOG_ERR,
        Level::WARN => libc::LOG_WARNING,
        Level::INFO => libc::LOG_NOTICE,
        Level::DEBUG | Level::TRACE => libc::LOG_DEBUG,
    };
    let Ok(text) = CString::new(message.replace('\0', " ")) else {
        return;
    };
    // SAFETY: constant "%s" format with one NUL-terminated string argument.
    unsafe { libc::syslog(priority, c"%s".as_ptr(), text.as_ptr()) };
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
    fn message_text_puts_the_message_first() {
        // Exercise the visitor through a real event captured by a test layer.
        use std::sync::{Arc, Mutex};
        struct Capture(Arc<Mutex<Vec<String>>>);
        impl<S: Subscriber> Layer<S> for Capture {
            fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
                let mut text = MessageText::default();
                event.record(&mut text);
                self.0.lock().unwrap().push(text.0);
            }
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(Capture(seen.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("listening on 127.0.0.1 port 3493");
            tracing::info!(ups = "dummy", "Connected to UPS");
        });
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0], "listening on 127.0.0.1 port 3493");
        assert_eq!(seen[1], "Connected to UPS ups=dummy");
    }
}
