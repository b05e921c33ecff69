//! PID files that cannot lie.
//!
//! A [`PidFile`] holds an exclusive `flock` on its file for the daemon's whole life, so "is
//! another instance running?" is answered by the kernel, not by guessing from a number that may
//! have been recycled. The PID is written with a single `pwrite` over the old content followed
//! by a truncate, so a reader never sees an empty or half-written file. A file left by a crashed
//! instance holds no lock and is silently taken over. Dropping the guard removes the file.
//!
//! PID files live in `/run/nut`, a directory the `nut` account may write to, and some daemons
//! take theirs as root. So the file is opened with `O_NOFOLLOW` and must turn out to be a
//! regular file with a single link: a symlink or hard link planted by a compromised `nut`
//! process cannot make root truncate or overwrite another file.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Why a PID file could not be taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PidFileError {
    /// Another live process holds the lock.
    #[error("{program} is already running (PID {pid}, PID file {path})")]
    AlreadyRunning {
        /// The program name, for the message.
        program: String,
        /// The PID recorded by the running instance (0 if unreadable).
        pid: i32,
        /// The PID file.
        path: PathBuf,
    },
    /// The path is a symlink, a hard link, or not a regular file: refused, never written
    /// through.
    #[error("refusing PID file {path}: {what}")]
    Unsafe {
        /// The PID file.
        path: PathBuf,
        /// What was found there.
        what: &'static str,
    },
    /// The file could not be created, locked or written.
    #[error("can't write PID file {path}: {source}")]
    Io {
        /// The PID file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

/// A locked PID file, removed when dropped.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    lock: Flock<File>,
}

impl PidFile {
    /// Take `path` for `program`, recording the current process's PID.
    pub fn acquire(path: &Path, program: &str) -> Result<Self, PidFileError> {
        Self::acquire_for(path, program, std::process::id())
    }

    /// Take `path`, recording `pid` (used when the service manager must see a PID other than
    /// ours, e.g. upsmon's privileged parent).
    pub fn acquire_for(path: &Path, program: &str, pid: u32) -> Result<Self, PidFileError> {
        let io_err = |source| PidFileError::Io {
            path: path.to_owned(),
            source,
        };
        let file = match open_pid_file(path) {
            Ok(file) => file,
            // A stale file left by an instance that ran under another account (e.g. an older
            // upsd that wrote it as root): nobody holds it, and the directory is ours to
            // change, so replace it once.
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied && !is_locked(path) => {
                match std::fs::remove_file(path) {
                    Ok(()) => open_pid_file(path).map_err(io_err)?,
                    Err(_) => return Err(io_err(e)),
                }
            }
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(PidFileError::Unsafe {
                    path: path.to_owned(),
                    what: "it is a symbolic link",
                });
            }
            Err(e) => return Err(io_err(e)),
        };
        let meta = file.metadata().map_err(io_err)?;
        if !meta.file_type().is_file() {
            return Err(PidFileError::Unsafe {
                path: path.to_owned(),
                what: "it is not a regular file",
            });
        }
        if meta.nlink() != 1 {
            return Err(PidFileError::Unsafe {
                path: path.to_owned(),
                what: "it has more than one hard link",
            });
        }
        let lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => lock,
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                return Err(already_running(path, program));
            }
            Err((_, errno)) => return Err(io_err(io::Error::from(errno))),
        };
        // Another instance may have removed and recreated the file between our open and our
        // lock; then we hold a lock on an orphaned inode. Start over in that (rare) case.
        let same_inode = std::fs::symlink_metadata(path)
            .ok()
            .zip(lock.metadata().ok())
            .is_some_and(|(on_disk, ours)| {
                on_disk.ino() == ours.ino() && on_disk.dev() == ours.dev()
            });
        if !same_inode {
            drop(lock);
            return Self::acquire_for(path, program, pid);
        }
        let content = format!("{pid}\n");
        lock.write_all_at(content.as_bytes(), 0).map_err(io_err)?;
        lock.set_len(content.len() as u64).map_err(io_err)?;
        Ok(Self {
            path: path.to_owned(),
            lock,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Record a different PID (e.g. after a fork).
    pub fn rewrite(&self, pid: u32) -> io::Result<()> {
        let content = format!("{pid}\n");
        self.lock.write_all_at(content.as_bytes(), 0)?;
        self.lock.set_len(content.len() as u64)
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Only remove the file if it is still ours.
        let ours = std::fs::symlink_metadata(&self.path)
            .ok()
            .zip(self.lock.metadata().ok())
            .is_some_and(|(a, b)| a.ino() == b.ino() && a.dev() == b.dev());
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Open (creating it if needed) a PID file for writing, never through a symlink, and
/// non-blocking so that a FIFO planted at the path cannot hang the daemon.
fn open_pid_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
}

/// Open a PID file for reading, never through a symlink.
fn open_for_reading(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
}

/// Read the PID recorded in a PID file.
pub fn read_pid(path: &Path) -> io::Result<i32> {
    let mut text = String::new();
    open_for_reading(path)?.take(64).read_to_string(&mut text)?;
    text.trim()
        .parse::<i32>()
        .ok()
        .filter(|pid| *pid > 0)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: no PID in file", path.display()),
            )
        })
}

/// Whether a live process holds the lock on `path` (i.e. the daemon is running).
pub fn is_locked(path: &Path) -> bool {
    let Ok(file) = open_for_reading(path) else {
        return false;
    };
    match Flock::lock(file, FlockArg::LockSharedNonblock) {
        Ok(_) => false,
        Err((_, errno)) => errno == nix::errno::Errno::EWOULDBLOCK,
    }
}

/// Refuse early when `path` is held by a running instance, for daemons that can only take the
/// file later (after forking) but must say "already running" before they do anything else.
/// [`PidFile::acquire`] still decides in the end.
pub fn check_not_running(path: &Path, program: &str) -> Result<(), PidFileError> {
    if !is_locked(path) {
        return Ok(());
    }
    Err(already_running(path, program))
}

fn already_running(path: &Path, program: &str) -> PidFileError {
    PidFileError::AlreadyRunning {
        program: program.to_owned(),
        pid: read_pid(path).unwrap_or(0),
        path: path.to_owned(),
    }
}

/// Why a running instance could not be signalled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignalError {
    /// No PID file, or it names no running process.
    #[error("no running {program} found (PID file {path}: {reason})")]
    NotRunning {
        /// The program name, for the message.
        program: String,
        /// The PID file consulted.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// `kill` failed.
    #[error("can't send signal to PID {pid}: {source}")]
    Kill {
        /// The target.
        pid: i32,
        /// The error.
        source: nix::errno::Errno,
    },
}

/// Send `signal` to the instance of `program` recorded in `path`, or to `explicit_pid` (`-P`).
/// Returns the PID signalled.
pub fn signal_running(
    path: &Path,
    explicit_pid: Option<i32>,
    program: &str,
    signal: Signal,
) -> Result<i32, SignalError> {
    let pid = match explicit_pid {
        Some(pid) => pid,
        None => read_pid(path).map_err(|e| SignalError::NotRunning {
            program: program.to_owned(),
            path: path.to_owned(),
            reason: e.to_string(),
        })?,
    };
    if explicit_pid.is_none() && !is_locked(path) {
        return Err(SignalError::NotRunning {
            program: program.to_owned(),
            path: path.to_owned(),
            reason: format!("PID {pid} is stale"),
        });
    }
    // kill(0) signals our own process group, kill(-n) a whole group, kill(1) init: never a
    // daemon. The parsers refuse such -P values already; this guards every other caller.
    if pid < 2 {
        return Err(SignalError::Kill {
            pid,
            source: nix::errno::Errno::ESRCH,
        });
    }
    kill(Pid::from_raw(pid), signal).map_err(|source| SignalError::Kill { pid, source })?;
    Ok(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_instance_is_refused_and_file_removed_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("upsd.pid");
        let first = PidFile::acquire(&path, "upsd").unwrap();
        assert_eq!(read_pid(&path).unwrap(), std::process::id() as i32);
        assert!(is_locked(&path));
        // flock locks belong to the open file description, so a second open in the same
        // process conflicts just as another process would.
        match PidFile::acquire(&path, "upsd") {
            Err(PidFileError::AlreadyRunning { pid, .. }) => {
                assert_eq!(pid, std::process::id() as i32)
            }
            other => panic!("expected AlreadyRunning, got {other:?}"),
        }
        let refused = check_not_running(&path, "upsd").unwrap_err();
        assert_eq!(
            refused.to_string(),
            format!(
                "upsd is already running (PID {}, PID file {})",
                std::process::id(),
                path.display()
            )
        );
        drop(first);
        assert!(!path.exists());
        assert!(check_not_running(&path, "upsd").is_ok());
    }

    #[test]
    fn stale_file_is_taken_over() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.pid");
        std::fs::write(&path, "999999999999\ngarbage that is longer than a pid\n").unwrap();
        assert!(!is_locked(&path));
        let pf = PidFile::acquire_for(&path, "x", 42).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "42\n");
        pf.rewrite(7).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "7\n");
    }

    /// A root-owned file that must come through every refusal unchanged.
    fn victim(dir: &Path) -> (PathBuf, Vec<u8>) {
        let victim = dir.join("victim");
        let content = b"root-only secret content\n".to_vec();
        std::fs::write(&victim, &content).unwrap();
        std::fs::set_permissions(&victim, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        (victim, content)
    }

    #[test]
    fn a_planted_symlink_is_refused_and_its_target_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let (victim, content) = victim(tmp.path());
        let path = tmp.path().join("upsd.pid");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let err = PidFile::acquire(&path, "upsd").unwrap_err();
        assert!(
            matches!(err, PidFileError::Unsafe { .. }),
            "expected a refusal, got {err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "refusing PID file {}: it is a symbolic link",
                path.display()
            )
        );
        assert_eq!(std::fs::read(&victim).unwrap(), content);
        // Neither is the target looked at when checking for a running instance.
        assert!(!is_locked(&path));
        assert!(read_pid(&path).is_err());
        // A dangling symlink does not create its target either.
        let dangling = tmp.path().join("dangling.pid");
        let target = tmp.path().join("created-through-link");
        std::os::unix::fs::symlink(&target, &dangling).unwrap();
        assert!(PidFile::acquire(&dangling, "x").is_err());
        assert!(!target.exists());
    }

    #[test]
    fn hard_links_and_special_files_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let (victim, content) = victim(tmp.path());
        let path = tmp.path().join("linked.pid");
        std::fs::hard_link(&victim, &path).unwrap();
        let err = PidFile::acquire(&path, "x").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "refusing PID file {}: it has more than one hard link",
                path.display()
            )
        );
        assert_eq!(std::fs::read(&victim).unwrap(), content);
        let fifo = tmp.path().join("fifo.pid");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let err = PidFile::acquire(&fifo, "x").unwrap_err();
        assert!(matches!(err, PidFileError::Unsafe { .. }), "{err:?}");
    }

    #[test]
    fn signal_running_never_signals_a_group_or_init() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("z.pid");
        for pid in [-5, -1, 0, 1] {
            // SIGCONT: harmless to whoever would receive it if the guard were missing.
            assert!(
                matches!(
                    signal_running(&path, Some(pid), "z", Signal::SIGCONT),
                    Err(SignalError::Kill { pid: p, .. }) if p == pid
                ),
                "PID {pid} was not refused"
            );
        }
    }

    #[test]
    fn signal_running_refuses_stale_and_missing_files() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("y.pid");
        assert!(matches!(
            signal_running(&path, None, "y", Signal::SIGHUP),
            Err(SignalError::NotRunning { .. })
        ));
        std::fs::write(&path, "1\n").unwrap();
        assert!(matches!(
            signal_running(&path, None, "y", Signal::SIGHUP),
            Err(SignalError::NotRunning { .. })
        ));
        // A locked file naming ourselves: signal 0-like check with a harmless signal.
        let _pf = PidFile::acquire(&path, "y").unwrap();
        let pid = signal_running(&path, None, "y", Signal::SIGWINCH).unwrap();
        assert_eq!(pid, std::process::id() as i32);
    }
}
