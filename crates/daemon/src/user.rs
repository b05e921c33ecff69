//! The unprivileged account a daemon runs as (`nut` by default, `-u`, `RUN_AS_USER`), and
//! switching to it after the privileged part of the start-up (PID file, runtime directory,
//! log files) is done.

use std::ffi::CString;

use nix::errno::Errno;
pub use nix::unistd::User;

/// Why the account could not be found or taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserError {
    /// No such account.
    #[error("user {0} not found")]
    NotFound(String),
    /// The account database could not be read.
    #[error("getpwnam({name}): {source}")]
    Lookup {
        /// The account asked for.
        name: String,
        /// The error.
        source: Errno,
    },
    /// One step of the switch failed (the process may be half switched: exit).
    #[error("{step}: {source}")]
    Switch {
        /// `initgroups`, `setgid` or `setuid`.
        step: &'static str,
        /// The error.
        source: Errno,
    },
}

/// Look up the account `name`.
pub fn lookup(name: &str) -> Result<User, UserError> {
    match User::from_name(name) {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(UserError::NotFound(name.to_owned())),
        Err(source) => Err(UserError::Lookup {
            name: name.to_owned(),
            source,
        }),
    }
}

/// The account to switch to: `name` when running as root, `None` otherwise (there is no
/// privilege to give up, and NUT then runs as whoever started it).
pub fn run_as(name: &str) -> Result<Option<User>, UserError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    lookup(name).map(Some)
}

/// Become `user` for good: supplementary groups, then group, then user (never the other way
/// round: once the uid is gone, the groups can no longer be changed).
pub fn become_user(user: &User) -> Result<(), UserError> {
    let switch = |step| move |source| UserError::Switch { step, source };
    let name = CString::new(user.name.as_str()).map_err(|_| UserError::Switch {
        step: "initgroups",
        source: Errno::EINVAL,
    })?;
    nix::unistd::initgroups(&name, user.gid).map_err(switch("initgroups"))?;
    nix::unistd::setgid(user.gid).map_err(switch("setgid"))?;
    nix::unistd::setuid(user.uid).map_err(switch("setuid"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_root_and_names_a_missing_user() {
        assert_eq!(lookup("root").unwrap().uid.as_raw(), 0);
        let missing = lookup("no-such-user-nut-rs").unwrap_err();
        assert_eq!(missing.to_string(), "user no-such-user-nut-rs not found");
    }

    #[test]
    fn run_as_is_none_unless_root() {
        let user = run_as("root").unwrap();
        assert_eq!(user.is_some(), nix::unistd::geteuid().is_root());
    }
}
