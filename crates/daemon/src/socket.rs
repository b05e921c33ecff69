//! Binding a daemon's Unix socket (a driver's socket, upssched's PIPEFN) without ever
//! following a link that someone else planted.
//!
//! The socket directory (`/run/nut`) is writable by the `nut` account while the binder may be
//! root, so nothing here changes a file by path after creating it: the mode comes from the
//! umask in force during `bind` (no `chmod` that a swapped-in symlink could redirect), a stale
//! socket is only removed when it really is a socket, and the group is handed over with
//! `lchown`, which changes a symlink itself and never its target.

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixListener;
use std::path::Path;

use nix::sys::stat::{Mode, umask};
use nix::unistd::Gid;

/// Bind a listening Unix socket at `path` with permission bits `mode` (e.g. `0o660`), owned
/// by group `group` when given.
///
/// A stale socket (left by a previous instance) or a symlink at `path` is removed first
/// (`unlink` never follows a link); anything else there (a regular file, a directory, a FIFO)
/// is refused with [`io::ErrorKind::AlreadyExists`], so a mistyped path can never delete a
/// file.
///
/// The umask is process-wide: call this before starting threads that create files.
pub fn bind_unix_listener(path: &Path, mode: u32, group: Option<Gid>) -> io::Result<UnixListener> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            let kind = meta.file_type();
            if kind.is_socket() || kind.is_symlink() {
                std::fs::remove_file(path)?;
            } else {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a socket", path.display()),
                ));
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mask = Mode::from_bits_truncate(!mode & 0o777);
    let previous = umask(mask);
    let bound = UnixListener::bind(path);
    umask(previous);
    let listener = bound?;
    if let Some(gid) = group {
        nix::unistd::fchownat(
            nix::fcntl::AT_FDCWD,
            path,
            None,
            Some(gid),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(io::Error::from)?;
    }
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::sync::Mutex;

    /// The umask is per process and tests run in threads: one binder at a time.
    static UMASK: Mutex<()> = Mutex::new(());

    fn victim(dir: &Path) -> std::path::PathBuf {
        let victim = dir.join("victim");
        std::fs::write(&victim, "root-only secret content\n").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
        victim
    }

    fn snapshot(path: &Path) -> (Vec<u8>, u32, u32, u32) {
        let meta = std::fs::metadata(path).unwrap();
        (
            std::fs::read(path).unwrap(),
            meta.mode(),
            meta.uid(),
            meta.gid(),
        )
    }

    #[test]
    fn mode_comes_from_the_umask_and_the_group_is_set() {
        let _umask = UMASK.lock().unwrap_or_else(|e| e.into_inner());
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("dummy-ups-a");
        let gid = nix::unistd::getegid();
        let listener = bind_unix_listener(&path, 0o660, Some(gid)).unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.mode() & 0o777, 0o660);
        assert_eq!(meta.gid(), gid.as_raw());
        // The process umask is back to what it was.
        let current = umask(Mode::from_bits_truncate(0o022));
        umask(current);
        assert_ne!(current.bits() & 0o777, 0o117);
        drop(listener);
        // A stale socket is replaced.
        bind_unix_listener(&path, 0o600, None).unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
    }

    #[test]
    fn a_planted_symlink_never_reaches_its_target() {
        let _umask = UMASK.lock().unwrap_or_else(|e| e.into_inner());
        let tmp = tempfile::tempdir().unwrap();
        let victim = victim(tmp.path());
        let before = snapshot(&victim);
        let path = tmp.path().join("dummy-ups-a");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        // A group other than the victim's, so that a chown through the link would show.
        let other = Gid::from_raw(before.3 + 1);
        let _listener = bind_unix_listener(&path, 0o660, Some(other)).unwrap();
        assert_eq!(snapshot(&victim), before);
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_socket(), "the link was replaced");
    }

    #[test]
    fn other_files_at_the_path_are_refused_and_kept() {
        let _umask = UMASK.lock().unwrap_or_else(|e| e.into_inner());
        let tmp = tempfile::tempdir().unwrap();
        let victim = victim(tmp.path());
        let before = snapshot(&victim);
        let err = bind_unix_listener(&victim, 0o660, None).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(err.to_string().contains("is not a socket"), "{err}");
        assert_eq!(snapshot(&victim), before);
    }
}
