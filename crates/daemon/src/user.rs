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
    let groups = supplementary_groups(user).map_err(switch("initgroups"))?;
    nix::unistd::setgroups(&groups).map_err(switch("initgroups"))?;
    nix::unistd::setgid(user.gid).map_err(switch("setgid"))?;
    nix::unistd::setuid(user.uid).map_err(switch("setuid"))?;
    Ok(())
}

/// `user`'s groups as `initgroups` would set them (its primary group included).
///
/// Collecting them walks every group source in nsswitch.conf, which loads each NSS module
/// (libnss_systemd with libm and libcap on Debian, sssd, ldap…) into the process for good:
/// ~700 KB resident in a daemon that otherwise needs ~3.5 MB, plus whatever sockets or threads
/// a module keeps. So the walk happens in a short-lived child that sends the list back over a
/// pipe. [`crate::fork`] forks only while the process has one thread; otherwise (and if the child
/// cannot be had) the walk happens here.
fn supplementary_groups(user: &User) -> Result<Vec<nix::unistd::Gid>, Errno> {
    let name = CString::new(user.name.as_str()).map_err(|_| Errno::EINVAL)?;
    if let Some(groups) = groups_from_child(&name, user.gid) {
        return groups;
    }
    nix::unistd::getgrouplist(&name, user.gid)
}

/// The child's answer: `None` when no child could be had (the caller asks in-process).
fn groups_from_child(
    name: &CString,
    gid: nix::unistd::Gid,
) -> Option<Result<Vec<nix::unistd::Gid>, Errno>> {
    use crate::fork::{Forked, fork};
    use nix::sys::wait::{WaitStatus, waitpid};
    use std::io::{Read, Write};

    let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).ok()?;
    // The child only looks the groups up, writes them and exits. A process with threads is
    // not forked (the caller then asks in-process).
    match fork().ok()? {
        Forked::Child => {
            drop(read_end);
            let mut pipe = std::fs::File::from(write_end);
            // One message: an errno (0 = success) then the group ids, all as u32.
            let (errno, groups) = match nix::unistd::getgrouplist(name, gid) {
                Ok(groups) => (0, groups),
                Err(e) => (e as i32 as u32, Vec::new()),
            };
            let mut message = errno.to_ne_bytes().to_vec();
            for group in groups {
                message.extend_from_slice(&group.as_raw().to_ne_bytes());
            }
            let code = i32::from(pipe.write_all(&message).is_err());
            // SAFETY: leave at once, without running the parent's exit handlers or
            // flushing its buffers a second time.
            unsafe { libc::_exit(code) }
        }
        Forked::Parent(child) => {
            drop(write_end);
            let mut message = Vec::new();
            let read = std::fs::File::from(read_end).read_to_end(&mut message);
            let status = waitpid(child, None);
            if read.is_err() || !matches!(status, Ok(WaitStatus::Exited(_, 0))) {
                return None;
            }
            let mut words = message
                .chunks_exact(4)
                .map(|word| u32::from_ne_bytes([word[0], word[1], word[2], word[3]]));
            let errno = words.next()?;
            if errno != 0 {
                return Some(Err(Errno::from_raw(errno as i32)));
            }
            Some(Ok(words.map(nix::unistd::Gid::from_raw).collect()))
        }
    }
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
    fn a_threaded_process_looks_the_groups_up_itself() {
        // The test runner has threads: no child is forked (crate::fork refuses), and the
        // lookup happens in-process with the same answer. The child's path runs in every
        // daemon that switches user (single-threaded at that point).
        let root = lookup("root").unwrap();
        let name = CString::new("root").unwrap();
        assert!(groups_from_child(&name, root.gid).is_none());
        let in_process = nix::unistd::getgrouplist(&name, root.gid).unwrap();
        let groups = supplementary_groups(&root).unwrap();
        assert_eq!(groups, in_process);
        assert!(groups.contains(&root.gid), "{groups:?}");
    }

    #[test]
    fn run_as_is_none_unless_root() {
        let user = run_as("root").unwrap();
        assert_eq!(user.is_some(), nix::unistd::geteuid().is_root());
    }
}
