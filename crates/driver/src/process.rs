//! Process-level duties of a driver: paths, the PID file and single-instance lock, signals
//! to a running instance, backgrounding and dropping privileges.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::os::fd::{AsRawFd as _, OwnedFd};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{self, Signal};
use nix::unistd::{self, ForkResult, Pid};

/// Debian's built-in paths (NUT_CONFPATH / NUT_STATEPATH / NUT_ALTPIDPATH override them).
pub const DEFAULT_CONFPATH: &str = "/etc/nut";
/// Debian's STATEPATH.
pub const DEFAULT_STATEPATH: &str = "/run/nut";

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `NUT_CONFPATH`, else `/etc/nut`.
pub fn confpath() -> PathBuf {
    env_path("NUT_CONFPATH").unwrap_or_else(|| DEFAULT_CONFPATH.into())
}

/// `NUT_STATEPATH`, else ups.conf's `statepath`, else `/run/nut`.
pub fn statepath(from_conf: Option<&str>) -> PathBuf {
    env_path("NUT_STATEPATH")
        .or_else(|| from_conf.map(PathBuf::from))
        .unwrap_or_else(|| DEFAULT_STATEPATH.into())
}

/// `NUT_ALTPIDPATH`, else the state path.
pub fn altpidpath(statepath: &Path) -> PathBuf {
    env_path("NUT_ALTPIDPATH").unwrap_or_else(|| statepath.to_path_buf())
}

/// `<ALTPIDPATH>/<driver>-<ups>.pid`.
pub fn pid_file(altpidpath: &Path, driver: &str, ups: &str) -> PathBuf {
    altpidpath.join(format!("{driver}-{ups}.pid"))
}

/// `<STATEPATH>/<driver>-<ups>`.
pub fn socket_path(statepath: &Path, driver: &str, ups: &str) -> PathBuf {
    statepath.join(format!("{driver}-{ups}"))
}

/// Why the PID file could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock.
    #[error("another instance is already running (PID {pid})")]
    Running {
        /// The PID written by the other instance, if readable.
        pid: String,
    },
    /// The file could not be opened or locked.
    #[error("can't open or lock {path}: {source}")]
    Io {
        /// The PID file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// The PID file, locked with `flock` for as long as the driver runs: a second instance for
/// the same UPS fails to lock it and is refused. The lock is tied to the open file, so it
/// survives `fork` (the background child keeps it) and vanishes when the process dies.
#[derive(Debug)]
pub struct PidLock {
    file: Flock<File>,
    path: PathBuf,
}

impl PidLock {
    /// Open and lock `path`, without blocking.
    pub fn acquire(path: &Path) -> Result<Self, LockError> {
        let io_err = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .open(path)
            .map_err(io_err)?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(file) => Ok(Self {
                file,
                path: path.to_path_buf(),
            }),
            Err((mut file, nix::errno::Errno::EWOULDBLOCK)) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let pid = text.trim();
                Err(LockError::Running {
                    pid: if pid.is_empty() {
                        "unknown".into()
                    } else {
                        pid.into()
                    },
                })
            }
            Err((_, errno)) => Err(io_err(io::Error::from(errno))),
        }
    }

    /// Write this process's PID into the file.
    pub fn write_pid(&mut self) -> io::Result<()> {
        use std::io::Seek as _;
        let mut f: &File = &self.file;
        f.set_len(0)?;
        f.seek(io::SeekFrom::Start(0))?;
        writeln!(f, "{}", std::process::id())
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PidLock {
    fn drop(&mut self) {
        // Remove while still holding the lock, so no other instance can be between its
        // own open and lock on this name.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether a running driver holds the lock of this PID file; returns the PID it wrote.
/// Never creates or removes the file.
pub fn lock_holder(path: &Path) -> Option<String> {
    let file = OpenOptions::new().read(true).open(path).ok()?;
    match Flock::lock(file, FlockArg::LockSharedNonblock) {
        Ok(_unlocked_on_drop) => None,
        Err((mut file, nix::errno::Errno::EWOULDBLOCK)) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            Some(text.trim().to_owned())
        }
        Err(_) => None,
    }
}

/// The C library's text for an I/O error (`strerror`), without Rust's "(os error N)".
pub fn strerror(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_owned(),
        None => e.to_string(),
    }
}

/// Read the PID stored in a PID file.
pub fn read_pid(path: &Path) -> io::Result<i32> {
    let text = std::fs::read_to_string(path)?;
    text.trim()
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "no PID in file"))
}

/// Send `sig` to `pid`.
pub fn send_signal(pid: i32, sig: Signal) -> nix::Result<()> {
    signal::kill(Pid::from_raw(pid), sig)
}

/// The parent's side of backgrounding: it waits until the child reports that it is ready
/// (socket listening) and exits 0, or exits 1 if the child dies first.
#[derive(Debug)]
pub struct Ready {
    pipe: Option<OwnedFd>,
}

impl Ready {
    /// A no-op handle for foreground runs.
    pub fn foreground() -> Self {
        Self { pipe: None }
    }

    /// Tell the waiting parent that the driver is up, then detach stdio and log to syslog.
    pub fn signal(&mut self) {
        if let Some(fd) = self.pipe.take() {
            let mut f = File::from(fd);
            let _ = f.write_all(b"G");
            drop(f);
            detach_stdio();
            crate::log::use_syslog();
        }
    }
}

fn detach_stdio() {
    if let Ok(null) = OpenOptions::new().read(true).write(true).open("/dev/null") {
        for fd in 0..=2 {
            // SAFETY: dup2 onto the standard descriptors, which this process owns.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
}

/// Fork into the background. Must run before any thread (the tokio runtime) exists. Returns
/// in the child only; the parent exits with the child's readiness.
pub fn background() -> io::Result<Ready> {
    let (read_end, write_end) = unistd::pipe().map_err(io::Error::from)?;
    // SAFETY: the process is single-threaded here (no runtime yet), so fork is sound.
    match unsafe { unistd::fork() }.map_err(io::Error::from)? {
        ForkResult::Parent { .. } => {
            drop(write_end);
            let mut f = File::from(read_end);
            let mut byte = [0u8; 1];
            let code = match f.read(&mut byte) {
                Ok(1) if byte[0] == b'G' => 0,
                _ => 1,
            };
            std::process::exit(code);
        }
        ForkResult::Child => {
            drop(read_end);
            let _ = unistd::setsid();
            Ok(Ready {
                pipe: Some(write_end),
            })
        }
    }
}

/// The ids a driver switches to when started as root.
#[derive(Debug, Clone)]
pub struct Identity {
    /// User name.
    pub name: String,
    /// uid.
    pub uid: unistd::Uid,
    /// Primary gid.
    pub gid: unistd::Gid,
}

/// Look up the user to run as: the configured one (an error if unknown), else Debian's
/// `nut` if it exists. `None` when not root or when there is nothing to switch to.
pub fn resolve_user(configured: Option<&str>) -> Result<Option<Identity>, String> {
    if !unistd::geteuid().is_root() {
        return Ok(None);
    }
    let name = configured.unwrap_or("nut");
    match unistd::User::from_name(name) {
        Ok(Some(u)) => Ok(Some(Identity {
            name: u.name,
            uid: u.uid,
            gid: u.gid,
        })),
        Ok(None) if configured.is_none() => Ok(None),
        Ok(None) => Err(format!("getpwnam({name}): no such user")),
        Err(e) => Err(format!("getpwnam({name}): {e}")),
    }
}

/// Look up a group by name.
pub fn resolve_group(name: &str) -> Result<unistd::Gid, String> {
    match unistd::Group::from_name(name) {
        Ok(Some(g)) => Ok(g.gid),
        Ok(None) => Err(format!("getgrnam({name}): no such group")),
        Err(e) => Err(format!("getgrnam({name}): {e}")),
    }
}

/// Switch to `id` for good (supplementary groups, gid, uid).
pub fn become_user(id: &Identity) -> Result<(), String> {
    let cname = std::ffi::CString::new(id.name.clone()).map_err(|e| e.to_string())?;
    unistd::initgroups(&cname, id.gid).map_err(|e| format!("initgroups: {e}"))?;
    unistd::setgid(id.gid).map_err(|e| format!("setgid: {e}"))?;
    unistd::setuid(id.uid).map_err(|e| format!("setuid: {e}"))?;
    Ok(())
}

/// chroot into `dir` and move to its root.
pub fn chroot(dir: &Path) -> Result<(), String> {
    unistd::chroot(dir).map_err(|e| format!("chroot({}): {e}", dir.display()))?;
    unistd::chdir("/").map_err(|e| format!("chdir(/): {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_with_the_pid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dummy-ups-x.pid");
        let mut first = PidLock::acquire(&path).unwrap();
        first.write_pid().unwrap();
        match PidLock::acquire(&path) {
            Err(LockError::Running { pid }) => assert_eq!(pid, std::process::id().to_string()),
            other => panic!("second lock: {other:?}"),
        }
        assert_eq!(read_pid(&path).unwrap(), std::process::id() as i32);
        drop(first);
        assert!(!path.exists());
        assert!(PidLock::acquire(&path).is_ok());
    }
}
