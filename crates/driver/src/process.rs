//! What a driver process does beyond serving its UPS: where its socket and PID file are,
//! creating a missing runtime directory, and dropping privileges.
//!
//! The generic parts are nut-daemon's, shared with every other daemon: NUT's paths and their
//! environment overrides ([`nut_daemon::paths`]), the `flock`ed PID file that refuses a second
//! instance ([`nut_daemon::pidfile`]), going to the background without a start-up race
//! ([`nut_daemon::detach`]) and systemd notifications ([`nut_daemon::notify`]).

use std::ffi::CString;
use std::path::{Path, PathBuf};

use nix::unistd;
use nut_daemon::exit::Exit;
pub use nut_daemon::log::strerror;
use nut_daemon::user::{self, User, UserError};
use nut_daemon::{paths, pidfile};

/// Where a driver's socket lives: `NUT_STATEPATH`, else ups.conf's `statepath`, else
/// `/run/nut`.
pub fn statepath(from_conf: Option<&str>) -> PathBuf {
    let env_set = std::env::var_os("NUT_STATEPATH").is_some_and(|v| !v.is_empty());
    match from_conf {
        Some(dir) if !env_set => PathBuf::from(dir),
        _ => paths::statepath(),
    }
}

/// `<ALTPIDPATH>/<driver>-<ups>.pid`. As in NUT, ups.conf's `statepath` does not move PID
/// files: only `NUT_ALTPIDPATH` / `NUT_STATEPATH` do.
pub fn pid_file(driver: &str, ups: &str) -> PathBuf {
    paths::altpidpath().join(format!("{driver}-{ups}.pid"))
}

/// `<STATEPATH>/<driver>-<ups>`.
pub fn socket_path(statepath: &Path, driver: &str, ups: &str) -> PathBuf {
    statepath.join(format!("{driver}-{ups}"))
}

/// The PID recorded by a running driver that holds the lock of this PID file ("unknown" if
/// the file has no PID); `None` when no driver holds it. Never creates or removes the file.
pub fn lock_holder(path: &Path) -> Option<String> {
    pidfile::is_locked(path).then(|| {
        pidfile::read_pid(path).map_or_else(|_| "unknown".to_owned(), |pid| pid.to_string())
    })
}

/// Set in the environment of a companion program ([`exec_companion`]), which continues a run
/// that already printed the banner.
pub const COMPANION_ENV: &str = "NUT_DRIVER_COMPANION";

/// Continue this run in `program`, a companion program in the same directory as this one
/// (with the same arguments, `argv[0]` included, and the same PID): a driver can keep a mode
/// whose code would weigh on every run in a separate program. Call it before the driver
/// takes its PID file or goes to the background (the driver factory is the place). Returns
/// only if `program` could not be run.
pub fn exec_companion(program: &str) -> crate::DriverError {
    use std::os::unix::ffi::OsStrExt as _;
    let path = match std::env::current_exe() {
        Ok(exe) => exe.with_file_name(program),
        Err(e) => {
            return crate::DriverError::new(format!(
                "Fatal error: can't find {program}: {}",
                strerror(&e)
            ));
        }
    };
    let cannot = |why: &str| {
        crate::DriverError::new(format!("Fatal error: can't run {}: {why}", path.display()))
    };
    // execve(2) directly: std's Command would add its whole spawning machinery to every
    // driver for this one call. The environment is built here, not changed in place.
    let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else {
        return cannot("NUL in path");
    };
    let Ok(argv) = std::env::args_os()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
    else {
        return cannot("NUL in an argument");
    };
    let env = nut_daemon::exec::envp(&nut_daemon::exec::environment(&[(COMPANION_ENV, "1")]));
    crate::debug!(1, "Continuing in {}", path.display());
    let Err(errno) = unistd::execve(&c_path, &argv, &env);
    cannot(errno.desc())
}

/// Whether this process is a companion started by [`exec_companion`]; forgets the marker so
/// it does not reach programs the driver runs, and takes the driver's name back for `ps`.
pub(crate) fn continuing_as_companion(name: &str) -> bool {
    if std::env::var_os(COMPANION_ENV).is_none() {
        return false;
    }
    // SAFETY: called at the start of `main`, before any thread exists.
    unsafe { std::env::remove_var(COMPANION_ENV) };
    if let Ok(name) = CString::new(name) {
        let _ = nix::sys::prctl::set_name(&name);
    }
    true
}

/// Create the state and PID directories when they are missing, as systemd's
/// `RuntimeDirectory=` and the tmpfiles entry would: mode 0770, owned by root and `gid` (the
/// group of the user the driver runs as) when running as root. Existing directories are
/// left as they are.
pub fn ensure_runtime_dirs(dirs: &[&Path], gid: Option<unistd::Gid>) -> Result<(), String> {
    let owner = gid.map(|g| (0, g.as_raw()));
    for dir in dirs {
        paths::ensure_dir(dir, 0o770, owner)
            .map_err(|e| format!("Can't create {}: {}", dir.display(), strerror(&e)))?;
    }
    Ok(())
}

/// Look up the user to run as: the configured one, else Debian's `nut`. Either one missing
/// is an error in NUT's words (exit 67): a driver never stays root by accident. `None` when
/// not root.
pub fn resolve_user(configured: Option<&str>) -> Result<Option<User>, (Exit, String)> {
    resolve_user_or(configured, paths::DEFAULT_USER)
}

fn resolve_user_or(
    configured: Option<&str>,
    default: &str,
) -> Result<Option<User>, (Exit, String)> {
    user::run_as(configured.unwrap_or(default)).map_err(|e| {
        let exit = Exit::from(&e);
        match e {
            UserError::NotFound(name) => (exit, format!("User {name} not found")),
            other => (exit, other.to_string()),
        }
    })
}

/// Look up a group by name.
pub fn resolve_group(name: &str) -> Result<unistd::Gid, String> {
    match unistd::Group::from_name(name) {
        Ok(Some(g)) => Ok(g.gid),
        Ok(None) => Err(format!("getgrnam({name}): no such group")),
        Err(e) => Err(format!("getgrnam({name}): {e}")),
    }
}

/// Switch to `user` for good (supplementary groups, gid, uid).
pub fn become_user(user: &User) -> Result<(), String> {
    user::become_user(user).map_err(|e| e.to_string())
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
    fn a_missing_default_account_is_fatal_when_root() {
        let result = resolve_user_or(None, "no-such-user-nut-rs");
        if unistd::geteuid().is_root() {
            let (exit, message) = result.unwrap_err();
            assert_eq!(exit.code(), 67);
            assert_eq!(message, "User no-such-user-nut-rs not found");
        } else {
            assert!(result.unwrap().is_none());
        }
    }

    #[test]
    fn lock_holder_names_the_running_instance_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dummy-ups-x.pid");
        assert_eq!(lock_holder(&path), None);
        let held = pidfile::PidFile::acquire(&path, "dummy-ups").unwrap();
        assert_eq!(lock_holder(&path), Some(std::process::id().to_string()));
        drop(held);
        assert_eq!(lock_holder(&path), None);
        std::fs::write(&path, "12345\n").unwrap();
        assert_eq!(
            lock_holder(&path),
            None,
            "a stale file is not a running driver"
        );
    }

    #[test]
    fn runtime_dirs_are_created_0770() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run/nut");
        ensure_runtime_dirs(&[&run, &run], None).unwrap();
        let mode = std::fs::metadata(&run).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o770);
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let err = ensure_runtime_dirs(&[&file], None).unwrap_err();
        assert!(
            err.starts_with(&format!("Can't create {}", file.display())),
            "{err}"
        );
    }
}
