//! Logging the way NUT drivers log (docs/nut-behaviour.md Appendix B): nut-daemon's one logger
//! ([`nut_daemon::log`]), shared with every daemon, under the names drivers have always used.
//!
//! In the foreground, messages go to stderr: bare at debug level 0, and prefixed by the
//! seconds since start as NUT prints them (`   0.000208` + TAB) once debugging is on; debug
//! lines also carry `[D<n>] `. In the background they go to syslog (`LOG_DAEMON`, ident =
//! program name). The macros [`notice!`](crate::notice), [`warning!`](crate::warning),
//! [`error!`](crate::error), [`info!`](crate::info) and [`debug!`](crate::debug) are
//! nut-daemon's, re-exported at this crate's root.

pub use nut_daemon::log::{
    Level, debug, debug_level, log, set_debug_level, set_quiet, strerror, use_syslog,
};

/// Install the logger for `program` (stderr, debug level 0) and start the clock used for
/// timestamps. Call once, early; [`set_debug_level`], [`set_quiet`] and [`use_syslog`] adjust
/// it afterwards.
pub fn init(program: &str) {
    nut_daemon::log::init(program, 0, nut_daemon::log::Target::Stderr);
}
