//! NUT's directories, their environment overrides, and creating missing runtime directories.
//!
//! Defaults follow Debian's packages (the system nut-rs replaces): configuration in `/etc/nut`,
//! sockets and PID files in `/run/nut`, descriptions (`cmdvartab`) in `/usr/share/nut`.

use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Built-in configuration directory.
pub const DEFAULT_CONFPATH: &str = "/etc/nut";
/// Built-in state directory (driver sockets).
pub const DEFAULT_STATEPATH: &str = "/run/nut";
/// Built-in PID directory for daemons started as root.
pub const DEFAULT_PIDPATH: &str = "/run/nut";
/// Built-in data directory (`cmdvartab`).
pub const DEFAULT_DATAPATH: &str = "/usr/share/nut";
/// The unprivileged user the daemons run as by default.
pub const DEFAULT_USER: &str = "nut";

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `NUT_CONFPATH`, else `/etc/nut`.
pub fn confpath() -> PathBuf {
    env_path("NUT_CONFPATH").unwrap_or_else(|| PathBuf::from(DEFAULT_CONFPATH))
}

/// A file in the configuration directory.
pub fn conf_file(name: &str) -> PathBuf {
    confpath().join(name)
}

/// `NUT_STATEPATH`, else `/run/nut`.
pub fn statepath() -> PathBuf {
    env_path("NUT_STATEPATH").unwrap_or_else(|| PathBuf::from(DEFAULT_STATEPATH))
}

/// Where drivers, upsd and upssched keep PID files: `NUT_ALTPIDPATH`, else the state path.
pub fn altpidpath() -> PathBuf {
    env_path("NUT_ALTPIDPATH").unwrap_or_else(statepath)
}

/// Where upsmon and upslog keep PID files: `NUT_PIDPATH`, else `/run/nut`.
pub fn pidpath() -> PathBuf {
    env_path("NUT_PIDPATH").unwrap_or_else(|| PathBuf::from(DEFAULT_PIDPATH))
}

/// `NUT_DATADIR`, else `/usr/share/nut`.
pub fn datapath() -> PathBuf {
    env_path("NUT_DATADIR").unwrap_or_else(|| PathBuf::from(DEFAULT_DATAPATH))
}

/// Make sure `dir` exists. When it is missing and we are root, create it (and its parents)
/// with `mode`, owned by `owner` (uid, gid) if given. An existing directory is left alone.
///
/// This is what makes a first start on a machine without `/run/nut` quiet and successful.
pub fn ensure_dir(dir: &Path, mode: u32, owner: Option<(u32, u32)>) -> io::Result<()> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a directory", dir.display()),
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))?;
    if let Some((uid, gid)) = owner
        && nix::unistd::geteuid().is_root()
    {
        std::os::unix::fs::chown(dir, Some(uid), Some(gid))?;
    }
    Ok(())
}

/// Look up a user by name: (uid, gid).
pub fn user_ids(name: &str) -> Option<(u32, u32)> {
    nix::unistd::User::from_name(name)
        .ok()
        .flatten()
        .map(|u| (u.uid.as_raw(), u.gid.as_raw()))
}

/// Whether a config file can be read by "others" (NUT warns about this for files that hold
/// passwords).
pub fn is_world_readable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.mode() & 0o004 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensure_dir_creates_missing_dirs_and_keeps_existing_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run/nut");
        ensure_dir(&dir, 0o770, None).unwrap();
        let meta = std::fs::metadata(&dir).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.mode() & 0o777, 0o770);
        // An existing directory is not touched.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure_dir(&dir, 0o770, None).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o755);
        // A file in the way is an error.
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(ensure_dir(&file, 0o770, None).is_err());
    }
}
