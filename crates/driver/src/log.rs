//! Logging the way NUT drivers log (reference Appendix B).
//!
//! In the foreground, messages go to stderr: bare at debug level 0, and prefixed by the
//! seconds since start as NUT prints them (`   0.000208` + TAB) once debugging is on; debug lines also carry
//! `[D<n>] `. In the background they go to syslog (`LOG_DAEMON`, ident = program name),
//! where a missing `/dev/log` silently drops them, as syslog(3) does.

use std::ffi::CString;
use std::io::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Instant;

static START: OnceLock<Instant> = OnceLock::new();
static DEBUG_LEVEL: AtomicU32 = AtomicU32::new(0);
static QUIET: AtomicU32 = AtomicU32::new(0);
static SYSLOG: AtomicBool = AtomicBool::new(false);
static IDENT: OnceLock<CString> = OnceLock::new();

/// Severity of a non-debug message (the syslog priority).
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

/// Start the clock used for timestamps. Call once, early.
pub fn init(program: &str) {
    START.get_or_init(Instant::now);
    let _ = IDENT.set(CString::new(program).unwrap_or_default());
}

/// The current debug level (`-D` count, `debug_min`, `NUT_DEBUG_LEVEL`).
pub fn debug_level() -> u32 {
    DEBUG_LEVEL.load(Ordering::Relaxed)
}

/// Set the debug level.
pub fn set_debug_level(level: u32) {
    DEBUG_LEVEL.store(level, Ordering::Relaxed);
}

/// Raise the log threshold (`-q`): level 1 hides informational messages.
pub fn set_quiet(level: u32) {
    QUIET.store(level, Ordering::Relaxed);
}

/// Send further messages to syslog instead of stderr (after backgrounding).
pub fn use_syslog() {
    if let Some(ident) = IDENT.get() {
        // SAFETY: `ident` lives in a static for the rest of the process, as openlog requires.
        unsafe { libc::openlog(ident.as_ptr(), libc::LOG_PID, libc::LOG_DAEMON) };
    }
    SYSLOG.store(true, Ordering::Relaxed);
}

/// Seconds since start, NUT's way: at least four digits of seconds, then microseconds.
fn timestamp() -> String {
    let elapsed = START.get_or_init(Instant::now).elapsed();
    format!("{:4}.{:06}", elapsed.as_secs(), elapsed.subsec_micros())
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

/// Log a message (NUT's `upslogx`).
pub fn log(level: Level, msg: &str) {
    if level == Level::Info && QUIET.load(Ordering::Relaxed) > 0 {
        return;
    }
    if SYSLOG.load(Ordering::Relaxed) {
        let priority = match level {
            Level::Error => libc::LOG_ERR,
            Level::Warning => libc::LOG_WARNING,
            Level::Notice => libc::LOG_NOTICE,
            Level::Info => libc::LOG_INFO,
        };
        write_syslog(priority, msg);
    } else if debug_level() > 0 {
        write_stderr(&format!("{}\t{msg}", timestamp()));
    } else {
        write_stderr(msg);
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
        write_stderr(&format!("{}\t[D{level}] {msg}", timestamp()));
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
