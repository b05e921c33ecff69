//! The one `fork` of nut-rs, audited once: every fork site (going to the background, upsmon's
//! privileged parent, upssched's timer daemon, the group-lookup child) goes through [`fork`].
//!
//! `fork` copies only the calling thread. A child forked from a process with other threads
//! (a tokio runtime, a resolver thread) can deadlock on any lock another thread held at that
//! moment — the allocator's included — so the child would be unsafe to do anything but
//! `exec`. [`fork`] therefore counts the process's threads first (`Threads:` in
//! `/proc/self/status`) and refuses with [`ForkError::Threaded`] when there is more than one.
//! Where `/proc` is not mounted (inside a chroot jail without it), the count cannot be read:
//! the fork then proceeds, and the callers' structure (every fork happens before any runtime
//! or thread is started) remains the guarantee.

use std::io;

use nix::errno::Errno;
use nix::unistd::{ForkResult, Pid};

/// Which side of a [`fork`] this process is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forked {
    /// The parent, with the child's PID.
    Parent(Pid),
    /// The new child.
    Child,
}

/// Why [`fork`] did not fork.
#[derive(Debug, thiserror::Error)]
pub enum ForkError {
    /// Other threads run: the child would inherit locks nobody can release.
    #[error(
        "refusing to fork: this process runs {0} threads, and a child would copy only one of them"
    )]
    Threaded(usize),
    /// fork(2) itself failed.
    #[error("fork: {0}")]
    Fork(Errno),
}

impl From<ForkError> for io::Error {
    fn from(e: ForkError) -> Self {
        match e {
            ForkError::Fork(errno) => errno.into(),
            threaded @ ForkError::Threaded(_) => io::Error::other(threaded),
        }
    }
}

/// The number of threads of this process, `None` when `/proc` cannot tell.
pub fn thread_count() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    threads_in_status(&status)
}

/// The `Threads:` field of a `/proc/<pid>/status` text.
fn threads_in_status(status: &str) -> Option<usize> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}

/// Whether this process is known to have exactly one thread.
pub fn single_threaded() -> bool {
    thread_count() == Some(1)
}

/// Fork, if this process has a single thread (see the module documentation).
pub fn fork() -> Result<Forked, ForkError> {
    if let Some(n) = thread_count()
        && n > 1
    {
        return Err(ForkError::Threaded(n));
    }
    // SAFETY: the process has one thread (counted just above; no thread can have been
    // started since, as starting one would take this very thread), so the child is a
    // faithful single-threaded copy that may do anything the parent could.
    match unsafe { nix::unistd::fork() } {
        Ok(ForkResult::Parent { child }) => Ok(Forked::Parent(child)),
        Ok(ForkResult::Child) => Ok(Forked::Child),
        Err(errno) => Err(ForkError::Fork(errno)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_count_is_read_from_proc_status() {
        let status = "Name:\tupsd\nUmask:\t0022\nThreads:\t3\nSigQ:\t0/63\n";
        assert_eq!(threads_in_status(status), Some(3));
        assert_eq!(threads_in_status("Name:\tupsd\n"), None);
        assert_eq!(threads_in_status("Threads:\tmany\n"), None);
    }

    #[test]
    fn a_process_with_threads_is_not_forked() {
        // Hold a second thread for sure, whatever the test runner does.
        let (stop, parked) = std::sync::mpsc::channel::<()>();
        let other = std::thread::spawn(move || parked.recv());
        let n = thread_count().expect("/proc is mounted where the tests run");
        assert!(n >= 2, "{n}");
        let refused = fork().expect_err("must not fork with threads");
        assert!(
            matches!(refused, ForkError::Threaded(m) if m >= 2),
            "{refused:?}"
        );
        assert!(
            refused
                .to_string()
                .starts_with("refusing to fork: this process runs "),
            "{refused}"
        );
        assert!(!single_threaded());
        drop(stop);
        let _ = other.join();
    }
}
