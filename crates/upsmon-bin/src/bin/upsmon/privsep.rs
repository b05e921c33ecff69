//! Privilege separation: a root parent that only runs SHUTDOWNCMD, and an unprivileged child
//! that does everything else (docs/nut-behaviour.md §6.1).
//!
//! ```text
//!   service manager ──starts──▶ parent (root, holds upsmon.pid, sd_notify)
//!                                  │  ▲ child → parent: one byte per request
//!                                  │  │   SHUTDOWN, READY, RELOADING, RELOADED, STOPPING, WATCHDOG
//!                        GO / EOF  ▼  │
//!                               child (RUN_AS_USER: upsd sessions, notifications, decisions)
//! ```
//!
//! The fork happens before any runtime or thread exists. The parent takes the PID file after
//! the fork, so the file names the process the service manager started and that process's
//! lock protects it; only then does it send GO, and the child starts working. The parent
//! relays `SIGHUP`, `SIGUSR1` and `SIGTERM` (what `upsmon -c reload|fsd|stop` sends to the
//! PID in the file) to the child, and forwards the child's readiness to systemd, so that
//! `Type=notify` units need no `NotifyAccess=all`. When the child is gone (pipe EOF) the parent
//! reaps it and exits with its status, removing the PID file.
//!
//! The child notices a dead parent by EOF on the GO pipe and reports NOPARENT.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{Pid, pipe2};
use nut_daemon::detach::Readiness;
use nut_daemon::fork::{Forked, fork};

use super::powerflag;

/// A request from the child to the parent, one byte on the pipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ToParent {
    /// Write POWERDOWNFLAG and run SHUTDOWNCMD (NUT's byte 1).
    Shutdown = 1,
    /// Start-up done: `READY=1`, release a waiting launcher.
    Ready = 2,
    /// `RELOADING=1`.
    Reloading = 3,
    /// `READY=1` after a reload.
    Reloaded = 4,
    /// `STOPPING=1`.
    Stopping = 5,
    /// `WATCHDOG=1`.
    Watchdog = 6,
}

impl ToParent {
    /// Pass a report of the monitoring process on to the service manager, and release a
    /// waiting launcher once ready. [`ToParent::Shutdown`] is a request, not a report: it
    /// does nothing here.
    pub fn report(self, readiness: &mut Readiness) {
        match self {
            Self::Ready => {
                nut_daemon::notify::ready("monitoring");
                readiness.ready();
            }
            Self::Reloading => nut_daemon::notify::reloading(),
            Self::Reloaded => nut_daemon::notify::reloaded("monitoring"),
            Self::Stopping => nut_daemon::notify::stopping(),
            Self::Watchdog => nut_daemon::notify::watchdog(),
            Self::Shutdown => {}
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            1 => Self::Shutdown,
            2 => Self::Ready,
            3 => Self::Reloading,
            4 => Self::Reloaded,
            5 => Self::Stopping,
            6 => Self::Watchdog,
            _ => return None,
        })
    }
}

/// The byte the parent sends once it holds the PID file.
const GO: u8 = b'G';

/// The parent's ends.
pub struct ParentSide {
    child: Pid,
    from_child: File,
    to_child: File,
}

/// The child's ends.
pub struct ChildSide {
    to_parent: File,
    from_parent: OwnedFd,
}

/// Which process we are after [`split`].
pub enum Split {
    /// The privileged parent.
    Parent(ParentSide),
    /// The child that will do the monitoring.
    Child(ChildSide),
}

/// Fork. Refused (an error) unless the process has a single thread.
pub fn split() -> io::Result<Split> {
    // Close-on-exec: NOTIFYCMD and SHUTDOWNCMD must not inherit the pipes (a notifier that
    // stays around, like upssched's timer daemon, would otherwise keep them open and hide
    // the child's exit from the parent).
    let (up_read, up_write) = pipe2(OFlag::O_CLOEXEC).map_err(io::Error::from)?;
    let (down_read, down_write) = pipe2(OFlag::O_CLOEXEC).map_err(io::Error::from)?;
    match fork()? {
        Forked::Parent(child) => {
            drop(up_write);
            drop(down_read);
            Ok(Split::Parent(ParentSide {
                child,
                from_child: File::from(up_read),
                to_child: File::from(down_write),
            }))
        }
        Forked::Child => {
            drop(up_read);
            drop(down_write);
            Ok(Split::Child(ChildSide {
                to_parent: File::from(up_write),
                from_parent: down_read,
            }))
        }
    }
}

impl ChildSide {
    /// Block until the parent says GO. `false` if it gave up (it has explained why).
    pub fn wait_for_go(&self) -> bool {
        let mut byte = [0u8];
        loop {
            match nix::unistd::read(&self.from_parent, &mut byte) {
                Ok(1) => return byte[0] == GO,
                Err(nix::errno::Errno::EINTR) => continue,
                _ => return false,
            }
        }
    }

    /// Split into the request pipe and the pipe whose EOF means the parent died.
    pub fn into_parts(self) -> (File, OwnedFd) {
        (self.to_parent, self.from_parent)
    }
}

/// Send a request to the parent; `false` if the parent is gone.
pub fn send(to_parent: &mut File, request: ToParent) -> bool {
    to_parent.write_all(&[request as u8]).is_ok()
}

/// What the parent needs to do its job.
pub struct ParentJob {
    /// SHUTDOWNCMD as read at start (a reload cannot change it).
    pub shutdowncmd: Option<String>,
    /// POWERDOWNFLAG as read at start.
    pub powerdownflag: Option<PathBuf>,
    /// Release the launcher once the child is ready (background mode).
    pub readiness: Readiness,
}

impl ParentSide {
    /// The child's PID.
    pub fn child(&self) -> Pid {
        self.child
    }

    /// Let the child start.
    pub fn go(&mut self) -> io::Result<()> {
        self.to_child.write_all(&[GO])
    }

    /// Give up before GO: the child exits on EOF; reap it.
    pub fn abandon(self) {
        drop(self.to_child);
        drop(self.from_child);
        let _ = waitpid(self.child, None);
    }

    /// The parent's life after GO: serve requests and relay signals until the child ends.
    /// Returns the exit code for the parent.
    pub fn serve(mut self, mut job: ParentJob) -> u8 {
        let signals = match relay_signals() {
            Ok(fd) => fd,
            Err(e) => {
                tracing::error!("upsmon parent: can't set up signal handling: {e}");
                return 1;
            }
        };
        let mut shutdown_done = false;
        let mut ready = false;
        loop {
            let (pipe_ready, signal_ready) = {
                let mut fds = [
                    PollFd::new(self.from_child.as_fd(), PollFlags::POLLIN),
                    PollFd::new(signals.as_fd(), PollFlags::POLLIN),
                ];
                match poll(&mut fds, PollTimeout::NONE) {
                    Ok(_) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => {
                        tracing::error!("upsmon parent: poll: {e}");
                        break;
                    }
                }
                let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
                (ready(&fds[0]), ready(&fds[1]))
            };
            if signal_ready {
                while let Ok(Some(info)) = signals.read_signal() {
                    self.relay(info.ssi_signo);
                }
            }
            if !pipe_ready {
                continue;
            }
            let mut byte = [0u8];
            match self.from_child.read(&mut byte) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::error!("upsmon parent: read: {e}");
                    break;
                }
            }
            match ToParent::from_byte(byte[0]) {
                Some(ToParent::Shutdown) => {
                    if !shutdown_done {
                        shutdown_done = true;
                        run_shutdown(job.shutdowncmd.as_deref(), job.powerdownflag.as_deref());
                    }
                }
                Some(report) => {
                    ready |= report == ToParent::Ready;
                    report.report(&mut job.readiness);
                }
                None => {
                    tracing::error!("upsmon parent: got bogus pipe command {}", byte[0]);
                    let _ = kill(self.child, Signal::SIGTERM);
                }
            }
        }
        let code = match waitpid(self.child, None) {
            Ok(WaitStatus::Exited(_, code)) => u8::try_from(code).unwrap_or(1),
            Ok(WaitStatus::Signaled(_, sig, _)) => {
                tracing::error!("upsmon parent: child killed by signal {sig}");
                1
            }
            _ => 1,
        };
        if !ready {
            job.readiness.fail(code.max(1));
        }
        if shutdown_done {
            tracing::info!("upsmon parent: exiting after the shutdown command");
            0
        } else {
            tracing::info!("upsmon parent: exiting (child exited)");
            code
        }
    }

    fn relay(&self, signo: u32) {
        let Ok(signal) = Signal::try_from(i32::try_from(signo).unwrap_or(0)) else {
            return;
        };
        let to_child = match signal {
            Signal::SIGHUP | Signal::SIGUSR1 => signal,
            Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT => Signal::SIGTERM,
            // SIGUSR2 is ignored, as in NUT.
            _ => return,
        };
        tracing::debug!("upsmon parent: relaying {signal} to the child as {to_child}");
        let _ = kill(self.child, to_child);
    }
}

/// Block the signals the parent relays and read them from a signalfd instead, so that they
/// arrive between two blocking calls, never inside one.
fn relay_signals() -> nix::Result<SignalFd> {
    nut_daemon::signals::signalfd(&nut_daemon::signals::DRIVER)
}

/// Write POWERDOWNFLAG (if configured) and run SHUTDOWNCMD (if configured) through the shell,
/// waiting for it. Used by the parent, and by the single process of `upsmon -p`.
pub fn run_shutdown(shutdowncmd: Option<&str>, powerdownflag: Option<&Path>) {
    if let Some(flag) = powerdownflag
        && let Err(e) = powerflag::write(flag)
    {
        tracing::error!("Failed to create power down flag {}: {e}", flag.display());
    }
    let Some(cmd) = shutdowncmd else {
        tracing::error!("No SHUTDOWNCMD is defined: can't shut down the system");
        return;
    };
    tracing::info!("Calling shutdown command: {cmd}");
    // The daemon's environment, as NUT's system(3) gives it (nothing of a notification's).
    let env = nut_daemon::exec::environment::<&str, &str>(&[]);
    match Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .env_clear()
        .envs(env)
        .status()
    {
        Ok(status) if status.success() => {
            tracing::info!("Shutdown command finished: {cmd}");
        }
        Ok(status) => tracing::error!("Shutdown command {cmd} failed: {status}"),
        Err(e) => tracing::error!("Unable to call shutdown command {cmd}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdowncmd_gets_the_daemon_environment_and_nothing_else() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("env");
        let flag = tmp.path().join("killpower");
        let cmd = format!("/usr/bin/env -0 > '{}'", out.display());
        run_shutdown(Some(&cmd), Some(&flag));
        assert!(flag.exists(), "POWERDOWNFLAG written first");
        let dumped = nut_daemon::exec::env_dump(&std::fs::read(&out).unwrap());
        assert!(
            !dumped.iter().any(|v| v.starts_with("NOTIFYTYPE=")),
            "{dumped:?}"
        );
        assert_eq!(dumped, nut_daemon::exec::expected_dump(&[]));
    }
}
