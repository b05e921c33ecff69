//! The operating-system side of upslog: local time formatting, host name, PID file,
//! backgrounding, dropping privileges and waiting for signals.

use std::ffi::CString;
use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::unistd::{User, geteuid, getuid};

/// strftime(3) of `epoch` in local time, as C formats it (NUL bytes make it empty; so does a
/// result longer than 511 bytes, like NUT's buffer).
pub fn strftime_local(format: &str, epoch: i64) -> String {
    let Ok(format) = CString::new(format) else {
        return String::new();
    };
    let mut buf = [0u8; 512];
    // SAFETY: localtime_r and strftime only write into the buffers we pass, whose sizes are
    // given; `format` is a valid NUL-terminated string for the duration of the call.
    let written = unsafe {
        let time: libc::time_t = epoch as libc::time_t;
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&time, &mut tm).is_null() {
            return String::new();
        }
        libc::strftime(buf.as_mut_ptr().cast(), buf.len(), format.as_ptr(), &tm)
    };
    String::from_utf8_lossy(&buf[..written]).into_owned()
}

/// The local host name.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Where `writepid(base)` puts the PID file: `base` itself if absolute, else
/// `<NUT_PIDPATH or /run/nut>/<base>.pid` (Debian's PIDPATH).
pub fn pid_file_path(base: &str) -> PathBuf {
    if base.starts_with('/') {
        return PathBuf::from(base);
    }
    let dir = std::env::var_os("NUT_PIDPATH").unwrap_or_else(|| "/run/nut".into());
    PathBuf::from(dir).join(format!("{base}.pid"))
}

/// Write our PID; a failure is reported (like NUT's notice) but not fatal.
pub fn write_pid_file(path: &std::path::Path) -> Result<(), String> {
    std::fs::write(path, format!("{}\n", std::process::id()))
        .map_err(|e| format!("writepid: fopen {}: {}", path.display(), strerror(&e)))
}

/// An I/O error's C text, without Rust's ` (os error N)`.
pub fn strerror(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Detach into the background (fork, new session, stdio to /dev/null), as NUT's
/// `background()`. The parent exits inside.
pub fn background() -> Result<(), String> {
    // SAFETY: called while the process is single-threaded (upslog starts no threads), so
    // forking inside daemon(3) is sound.
    nix::unistd::daemon(true, false).map_err(|e| format!("Unable to enter background mode: {e}"))
}

/// The account to become when running as root; `None` when not root (nothing to drop).
pub fn lookup_user(name: &str) -> Result<Option<User>, String> {
    if !getuid().is_root() && !geteuid().is_root() {
        return Ok(None);
    }
    match User::from_name(name) {
        Ok(Some(user)) => Ok(Some(user)),
        Ok(None) => Err(format!("user {name} not found")),
        Err(e) => Err(format!("getpwnam({name}): {e}")),
    }
}

/// Switch to `user` (groups, gid, uid), irrevocably.
pub fn become_user(user: &User) -> Result<(), String> {
    let name = CString::new(user.name.as_str()).map_err(|e| e.to_string())?;
    nix::unistd::initgroups(&name, user.gid).map_err(|e| format!("initgroups: {e}"))?;
    nix::unistd::setgid(user.gid).map_err(|e| format!("setgid: {e}"))?;
    nix::unistd::setuid(user.uid).map_err(|e| format!("setuid: {e}"))?;
    Ok(())
}

/// What a signal asks upslog to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalAction {
    /// SIGHUP: reopen the log files (logrotate).
    Reopen,
    /// SIGUSR1: log now.
    LogNow,
    /// SIGINT, SIGQUIT, SIGTERM: exit (the signal number is printed).
    Exit(i32),
}

const SIGNALS: [Signal; 5] = [
    Signal::SIGHUP,
    Signal::SIGUSR1,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
];

fn signal_set() -> SigSet {
    let mut set = SigSet::empty();
    for signal in SIGNALS {
        set.add(signal);
    }
    set
}

/// Block upslog's signals so they are only ever received by [`wait_signal`] (no handlers,
/// no race between checking a flag and going to sleep).
pub fn block_signals() -> Result<(), String> {
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&signal_set()), None)
        .map_err(|e| format!("Can't block signals: {e}"))
}

/// Wait up to `timeout` for one of upslog's signals.
pub fn wait_signal(timeout: Duration) -> Option<SignalAction> {
    let set = signal_set();
    let spec = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
    };
    // SAFETY: `set` and `spec` are valid for the call; a null siginfo pointer is allowed.
    let signal = unsafe { libc::sigtimedwait(set.as_ref(), std::ptr::null_mut(), &spec) };
    match Signal::try_from(signal).ok()? {
        Signal::SIGHUP => Some(SignalAction::Reopen),
        Signal::SIGUSR1 => Some(SignalAction::LogNow),
        other => Some(SignalAction::Exit(other as i32)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strftime_formats_in_c() {
        assert_eq!(strftime_local("%Y", 0).len(), 4);
        assert_eq!(strftime_local("", 0), "");
        assert_eq!(strftime_local("a\0b", 0), "");
        assert_eq!(strftime_local("100%%", 0), "100%");
    }

    #[test]
    fn pid_file_paths() {
        assert_eq!(pid_file_path("/tmp/x.pid"), PathBuf::from("/tmp/x.pid"));
        assert!(pid_file_path("upslog").ends_with("upslog.pid"));
    }
}
