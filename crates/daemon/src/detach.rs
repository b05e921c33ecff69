//! Going to the background without a start-up race.
//!
//! [`detach`] forks. The parent waits on a pipe until the child reports [`Readiness::ready`]
//! (then it exits 0) or [`Readiness::fail`] (then it exits with the child's code); if the child
//! dies first, the parent exits 1. So `upsd; upsc ups@localhost` in a script, or systemd's
//! `Type=forking`, never sees a half-started daemon. The child calls `setsid`, moves to `/`, and
//! keeps its stderr until it is ready, so start-up errors still reach the terminal; only then
//! are stdin/stdout/stderr pointed at `/dev/null`.
//!
//! Must be called before any thread or async runtime exists: [`crate::fork`] refuses to fork
//! otherwise.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;

use nix::fcntl::OFlag;
use nix::unistd::{chdir, dup2_stderr, dup2_stdin, dup2_stdout, pipe2, setsid};

use crate::fork::{Forked, fork};

/// The child's handle to report the outcome of its start-up to the waiting parent. In the
/// foreground ([`Readiness::foreground`]) both calls do nothing, so daemons use one code path.
#[derive(Debug)]
pub struct Readiness {
    pipe: Option<File>,
}

impl Readiness {
    /// No parent is waiting (foreground mode).
    pub fn foreground() -> Self {
        Self { pipe: None }
    }

    /// Whether this process was detached by [`detach`].
    pub fn is_detached(&self) -> bool {
        self.pipe.is_some()
    }

    /// Start-up succeeded: release the parent (exit 0) and let go of the terminal.
    pub fn ready(&mut self) {
        if let Some(mut pipe) = self.pipe.take() {
            let _ = pipe.write_all(&[0]);
            stdio_to_null();
        }
    }

    /// Start-up failed with `code` (already explained on stderr): the parent exits with it.
    pub fn fail(&mut self, code: u8) {
        if let Some(mut pipe) = self.pipe.take() {
            let _ = pipe.write_all(&[code.max(1)]);
        }
    }
}

/// Fork into the background. Returns only in the child; the parent exits when the child reports
/// its start-up outcome.
pub fn detach() -> io::Result<Readiness> {
    // Close-on-exec: programs the daemon runs later (SHUTDOWNCMD, NOTIFYCMD) must not inherit
    // the pipe and keep the parent waiting.
    let (read_end, write_end): (OwnedFd, OwnedFd) =
        pipe2(OFlag::O_CLOEXEC).map_err(io::Error::from)?;
    match fork()? {
        Forked::Parent(_) => {
            drop(write_end);
            let mut status = [1u8];
            let mut reader = File::from(read_end);
            let code = match reader.read(&mut status) {
                Ok(1) => status[0],
                _ => 1,
            };
            std::process::exit(i32::from(code));
        }
        Forked::Child => {
            drop(read_end);
            setsid().map_err(io::Error::from)?;
            chdir("/").map_err(io::Error::from)?;
            Ok(Readiness {
                pipe: Some(File::from(write_end)),
            })
        }
    }
}

/// Point stdin, stdout and stderr at `/dev/null`: what a detached process does once nobody
/// reads its terminal output any more (also for processes detached another way, such as
/// upsmon's monitoring child).
pub fn stdio_to_null() {
    if let Ok(null) = File::options().read(true).write(true).open("/dev/null") {
        let _ = dup2_stdin(&null);
        let _ = dup2_stdout(&null);
        let _ = dup2_stderr(&null);
    }
}
