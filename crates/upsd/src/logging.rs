//! Logging the way NUT's daemons do: plain messages on stderr in the foreground (debug
//! lines prefixed by the seconds since start and `[D<n>]`), syslog when backgrounded.

use std::ffi::CString;
use std::io::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Instant;

use crate::server::{Level, LogLine};

static START: OnceLock<Instant> = OnceLock::new();
static DEBUG: AtomicU8 = AtomicU8::new(0);
static SYSLOG: AtomicBool = AtomicBool::new(false);

/// Set the debug level (`-D` count, or DEBUG_MIN).
pub fn set_debug(level: u8) {
    START.get_or_init(Instant::now);
    DEBUG.store(level, Ordering::Relaxed);
}

/// The current debug level.
pub fn debug_level() -> u8 {
    DEBUG.load(Ordering::Relaxed)
}

/// Send further messages to syslog (after backgrounding).
pub fn use_syslog() {
    static IDENT: OnceLock<CString> = OnceLock::new();
    let ident = IDENT.get_or_init(|| CString::from(c"upsd"));
    // SAFETY: the identity string lives for the whole process, as openlog requires.
    unsafe { libc::openlog(ident.as_ptr(), libc::LOG_PID, libc::LOG_DAEMON) };
    SYSLOG.store(true, Ordering::Relaxed);
}

/// Log an informational message.
pub fn info(text: &str) {
    emit(Level::Info, text);
}

/// Log a debug message of level `n`.
pub fn debug(n: u8, text: &str) {
    emit(Level::Debug(n), text);
}

/// Log a line produced by the server state.
pub fn line(line: &LogLine) {
    emit(line.level, &line.text);
}

fn emit(level: Level, text: &str) {
    if let Level::Debug(n) = level
        && n > debug_level()
    {
        return;
    }
    if SYSLOG.load(Ordering::Relaxed) {
        let priority = match level {
            Level::Info => libc::LOG_NOTICE,
            Level::Debug(_) => libc::LOG_DEBUG,
        };
        if let Ok(msg) = CString::new(text.replace('\0', "")) {
            // SAFETY: "%s" with one valid C string argument.
            unsafe { libc::syslog(priority, c"%s".as_ptr(), msg.as_ptr()) };
        }
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = match level {
        Level::Info => writeln!(err, "{text}"),
        Level::Debug(n) => {
            let elapsed = START.get_or_init(Instant::now).elapsed().as_secs_f64();
            writeln!(err, "{elapsed:12.6}\t[D{n}] {text}")
        }
    };
}
