//! POWERDOWNFLAG: the file the privileged side writes just before SHUTDOWNCMD, so that the
//! late shutdown scripts (`upsmon -K && upsdrvctl shutdown`) know the UPS must cut the power.
//!
//! Its content is NUT's magic string without a newline; only a file whose first line starts
//! with it counts as set, so a typo in POWERDOWNFLAG cannot make upsmon delete or trust an
//! unrelated file.

use std::fs::OpenOptions;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

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
pub fn write(path: &Path) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(path)?;
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
}
