//! POWERDOWNFLAG: the file the privileged side writes just before SHUTDOWNCMD, so that the
//! late shutdown scripts (`upsmon -K && upsdrvctl shutdown`) know the UPS must cut the power.
//!
//! Its content is NUT's magic string without a newline; only a file whose first line starts
//! with it counts as set, so a typo in POWERDOWNFLAG cannot make upsmon delete or trust an
//! unrelated file.

use std::fs::OpenOptions;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The exact content NUT writes.
pub const MAGIC: &str = "upsmon-shutdown-file";

/// What is at POWERDOWNFLAG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagState {
    /// The file exists and starts with [`MAGIC`].
    Set,
    /// No file.
    Missing,
    /// A file that is not ours.
    Foreign,
}

/// Look at the flag file.
pub fn state(path: &Path) -> io::Result<FlagState> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FlagState::Missing),
        Err(e) => return Err(e),
    };
    let mut first = Vec::new();
    BufReader::new(file.take(4096)).read_until(b'\n', &mut first)?;
    Ok(if first.starts_with(MAGIC.as_bytes()) {
        FlagState::Set
    } else {
        FlagState::Foreign
    })
}

/// Write the flag (root, mode 0644 like NUT's fopen under umask 022).
///
/// This runs as root just before SHUTDOWNCMD, so it must not be turned against another file:
/// a symbolic link at the path is refused (`O_NOFOLLOW`), and so is anything but a regular
/// file with a single link (a hard link to a file elsewhere, a FIFO, a device). The file is
/// only truncated after those checks. NUT's `fopen(…, "w")` follows links.
pub fn write(path: &Path) -> io::Result<()> {
    let refuse = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} {why}, not writing through it", path.display()),
        )
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .mode(0o644)
        // O_NONBLOCK: opening a FIFO with no reader fails (ENXIO) instead of hanging the
        // shutdown; it changes nothing for a regular file.
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                refuse("is a symbolic link")
            } else {
                e
            }
        })?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(refuse("is not a regular file"));
    }
    if meta.nlink() > 1 {
        return Err(refuse("has other hard links"));
    }
    file.set_len(0)?;
    file.write_all(MAGIC.as_bytes())?;
    file.sync_all()
}

/// At start-up: remove a flag left by the previous shutdown. Returns whether the flag can be
/// used in this run: a file that is not ours is left alone and disables the flag (NUT does the
/// same, with the same message).
pub fn clear_stale(path: &Path) -> bool {
    match state(path) {
        Ok(FlagState::Missing) => true,
        Ok(FlagState::Set) => {
            if let Err(e) = std::fs::remove_file(path) {
                tracing::error!("Can't remove {}: {e}", path.display());
            }
            true
        }
        Ok(FlagState::Foreign) => {
            tracing::error!(
                "POWERDOWNFLAG ({}) does not contain the upsmon magic string - disabling!",
                path.display()
            );
            false
        }
        Err(e) => {
            tracing::error!("Can't read POWERDOWNFLAG ({}): {e}", path.display());
            true
        }
    }
}

/// POWERDOWNFLAG from an upsmon.conf that does not parse as a whole: the last
/// `POWERDOWNFLAG <file>` line that reads as one, whatever the other lines say.
pub fn lenient_path(text: &[u8]) -> Option<PathBuf> {
    nut_core::token::tokenize_text(text, nut_core::token::Limits::default())
        .into_iter()
        .filter_map(|line| line.into_result().ok())
        .filter(|words| words.len() == 2 && words[0] == "POWERDOWNFLAG" && !words[1].is_empty())
        .map(|words| PathBuf::from(&words[1]))
        .next_back()
}

/// `upsmon -K`: exit code 0 when the flag is set, 1 otherwise, with NUT's messages.
pub fn check_killpower(path: Option<&Path>) -> u8 {
    let Some(path) = path else {
        tracing::info!("Power down flag is not set");
        return 1;
    };
    match state(path) {
        Ok(FlagState::Set) => {
            tracing::info!("Power down flag is set");
            0
        }
        Ok(FlagState::Missing) => {
            tracing::info!("Power down flag is not set");
            1
        }
        Ok(FlagState::Foreign) => {
            tracing::info!(
                "POWERDOWNFLAG ({}) does not contain the upsmon magic string",
                path.display()
            );
            1
        }
        Err(e) => {
            tracing::error!("Can't read POWERDOWNFLAG ({}): {e}", path.display());
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_check_and_clear() {
        let tmp = tempfile::tempdir().unwrap();
        let flag = tmp.path().join("killpower");
        assert_eq!(state(&flag).unwrap(), FlagState::Missing);
        assert_eq!(check_killpower(Some(&flag)), 1);
        assert_eq!(check_killpower(None), 1);
        write(&flag).unwrap();
        assert_eq!(std::fs::read(&flag).unwrap(), MAGIC.as_bytes());
        assert_eq!(check_killpower(Some(&flag)), 0);
        // Written by someone else with a newline: still ours.
        std::fs::write(&flag, format!("{MAGIC}\n")).unwrap();
        assert_eq!(state(&flag).unwrap(), FlagState::Set);
        assert!(clear_stale(&flag));
        assert!(!flag.exists());
        std::fs::write(&flag, "important data\n").unwrap();
        assert_eq!(check_killpower(Some(&flag)), 1);
        assert!(!clear_stale(&flag));
        assert!(flag.exists(), "a foreign file is never removed");
    }

    #[test]
    fn a_planted_link_or_special_file_is_never_written_through() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        std::fs::write(&victim, "root-only secret\n").unwrap();
        let flag = tmp.path().join("killpower");
        // A symbolic link to another file.
        std::os::unix::fs::symlink(&victim, &flag).unwrap();
        let err = write(&flag).expect_err("a symlink is refused");
        assert!(err.to_string().contains("symbolic link"), "{err}");
        // A dangling one must not create its target either.
        let elsewhere = tmp.path().join("created-elsewhere");
        let dangling = tmp.path().join("dangling");
        std::os::unix::fs::symlink(&elsewhere, &dangling).unwrap();
        assert!(write(&dangling).is_err());
        assert!(!elsewhere.exists());
        // A hard link to another file.
        std::fs::remove_file(&flag).unwrap();
        std::fs::hard_link(&victim, &flag).unwrap();
        let err = write(&flag).expect_err("a second link is refused");
        assert!(err.to_string().contains("hard links"), "{err}");
        // A FIFO (no reader): refused, without hanging.
        std::fs::remove_file(&flag).unwrap();
        nix::unistd::mkfifo(&flag, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert!(write(&flag).is_err());
        std::fs::remove_file(&flag).unwrap();
        // A directory.
        std::fs::create_dir(&flag).unwrap();
        assert!(write(&flag).is_err());
        std::fs::remove_dir(&flag).unwrap();
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "root-only secret\n"
        );
        // A plain old flag file is still overwritten as before.
        std::fs::write(&flag, "upsmon-shutdown-file and more").unwrap();
        write(&flag).unwrap();
        assert_eq!(std::fs::read(&flag).unwrap(), MAGIC.as_bytes());
    }

    #[test]
    fn lenient_path_takes_the_last_good_powerdownflag_line() {
        let text = b"MONITOR broken line\nPOWERDOWNFLAG /etc/first\nNOSUCHDIRECTIVE\n\
                     POWERDOWNFLAG\nPOWERDOWNFLAG \"/etc/kill power\"\n";
        assert_eq!(lenient_path(text), Some(PathBuf::from("/etc/kill power")));
        assert_eq!(lenient_path(b"MONITOR x\n"), None);
    }
}
