//! The operating-system side of upslog: local time formatting, host name, PID file and log
//! files, and waiting for signals. Detaching, privileges and notifications are
//! `nut-daemon`'s.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::Signal;
use nut_daemon::log;
use nut_daemon::paths;
use nut_daemon::pidfile::{PidFile, PidFileError};
use nut_daemon::signals;
use nut_daemon::user::User;

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
    paths::pidpath().join(format!("{base}.pid"))
}

/// What became of the PID file, when it did not mean "do not start".
pub enum PidFileOutcome {
    /// Taken and locked until dropped.
    Taken(PidFile),
    /// Not writable (an unprivileged user without `-p`, say): NUT carries on without one, so
    /// do we, after saying why.
    Unwritable(String),
}

/// Take the PID file for `-p base`, creating its directory when missing (0770, group of the
/// run-as user, as tmpfiles would). `Err` is the line refusing a second instance.
pub fn take_pid_file(
    base: &str,
    program: &str,
    owner: Option<&User>,
) -> Result<PidFileOutcome, String> {
    let path = pid_file_path(base);
    if let Some(dir) = path.parent()
        && let Err(e) = paths::ensure_dir(dir, 0o770, owner.map(|u| (0, u.gid.as_raw())))
    {
        return Ok(PidFileOutcome::Unwritable(format!(
            "can't create {}: {}",
            dir.display(),
            log::strerror(&e)
        )));
    }
    match PidFile::acquire(&path, program) {
        Ok(pid_file) => Ok(PidFileOutcome::Taken(pid_file)),
        Err(e @ PidFileError::AlreadyRunning { .. }) => Err(e.to_string()),
        Err(e) => Ok(PidFileOutcome::Unwritable(e.to_string())),
    }
}

/// Open a log file for appending. A file created here is given to `owner` (the user upslog is
/// about to become), so that it can still reopen it on SIGHUP once privileges are dropped.
///
/// The log directory (`/var/log/nut`) is writable by the `nut` account while upslog opens
/// its files as root, so an existing file is only appended to when it is a regular file with
/// one link, reached without following a symlink, and owned by root or by the account upslog
/// runs as (`owner`, else whoever runs it): nothing planted there can make root write
/// device data into another file.
pub fn open_log(path: &str, owner: Option<&User>) -> io::Result<File> {
    let flags = libc::O_NOFOLLOW | libc::O_CLOEXEC;
    match OpenOptions::new()
        .append(true)
        .create_new(true)
        .custom_flags(flags)
        .open(path)
    {
        Ok(file) => {
            if let Some(user) = owner {
                // Best effort: where root may not chown (NFS root squash) the file still
                // works until a rotation, as it does with NUT.
                let _ = std::os::unix::fs::fchown(
                    &file,
                    Some(user.uid.as_raw()),
                    Some(user.gid.as_raw()),
                );
            }
            Ok(file)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            // Looked at first for a clear refusal; the open below re-checks what it got.
            let kind = std::fs::symlink_metadata(path)?.file_type();
            if kind.is_symlink() {
                return Err(refused("it is a symbolic link"));
            }
            if !kind.is_file() {
                return Err(refused("it is not a regular file"));
            }
            // O_NONBLOCK: a FIFO swapped in meanwhile must not hang the open.
            let file = OpenOptions::new()
                .append(true)
                .custom_flags(flags | libc::O_NONBLOCK)
                .open(path)
                .map_err(|e| match e.raw_os_error() {
                    Some(libc::ELOOP) => refused("it is a symbolic link"),
                    _ => e,
                })?;
            let user = owner.map_or_else(|| nix::unistd::geteuid().as_raw(), |u| u.uid.as_raw());
            check_existing_log(&file.metadata()?, user)?;
            Ok(file)
        }
        Err(e) => Err(e),
    }
}

/// Whether an existing log file may be appended to by a process running as (or about to
/// become) `user`.
fn check_existing_log(meta: &std::fs::Metadata, user: u32) -> io::Result<()> {
    if !meta.file_type().is_file() {
        return Err(refused("it is not a regular file"));
    }
    if meta.nlink() != 1 {
        return Err(refused("it has more than one hard link"));
    }
    if meta.uid() != 0 && meta.uid() != user {
        return Err(refused(&format!(
            "it is owned by uid {}, neither root nor uid {user}",
            meta.uid()
        )));
    }
    Ok(())
}

fn refused(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, format!("refused, {why}"))
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

/// Block upslog's signals so they are only ever received by [`wait_signal`] (no handlers,
/// no race between checking a flag and going to sleep).
pub fn block_signals() -> Result<(), String> {
    signals::block(&signals::UPSLOG)
        .map(drop)
        .map_err(|e| format!("Can't block signals: {e}"))
}

/// Wait up to `timeout` for one of upslog's signals.
pub fn wait_signal(timeout: Duration) -> Option<SignalAction> {
    let set = signals::set(&signals::UPSLOG);
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

    #[test]
    fn pid_file_dir_is_created_and_a_second_instance_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("run/nut/upslog.pid");
        let base = path.to_str().unwrap();
        let first = match take_pid_file(base, "upslog", None) {
            Ok(PidFileOutcome::Taken(pid_file)) => pid_file,
            _ => panic!("the first instance must get the PID file"),
        };
        let refused = take_pid_file(base, "upslog", None).err().unwrap();
        assert!(
            refused.contains(&format!("(PID {},", std::process::id())),
            "{refused}"
        );
        assert!(!refused.contains('\n'));
        drop(first);
        assert!(!path.exists());
    }

    #[test]
    fn open_log_appends_and_gives_a_new_file_to_the_owner() {
        use std::io::Write;
        use std::os::unix::fs::MetadataExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("ups.log");
        let name = path.to_str().unwrap();
        let me = User::from_uid(nix::unistd::geteuid()).unwrap().unwrap();
        open_log(name, Some(&me))
            .unwrap()
            .write_all(b"a\n")
            .unwrap();
        open_log(name, None).unwrap().write_all(b"b\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\nb\n");
        assert_eq!(std::fs::metadata(&path).unwrap().uid(), me.uid.as_raw());
        if nix::unistd::geteuid().is_root()
            && let Ok(Some(nut)) = User::from_name("nut")
        {
            let other = tmp.path().join("nut.log");
            open_log(other.to_str().unwrap(), Some(&nut)).unwrap();
            let meta = std::fs::metadata(&other).unwrap();
            assert_eq!(
                (meta.uid(), meta.gid()),
                (nut.uid.as_raw(), nut.gid.as_raw())
            );
        }
    }
}
