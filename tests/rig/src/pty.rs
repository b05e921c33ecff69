//! The IO shell around [`Simulator`]: a pseudo-terminal served by a thread. The driver opens
//! the slave side (`/dev/pts/N`, or a symlink to it) like a serial port; the thread reads
//! the master side, feeds the simulator and writes its replies when they are due.
//!
//! The slave stays open in this process for the simulator's whole life, so a driver that
//! closes and reopens the port never gets EIO/HUP; its mode is 0666 so that drivers which
//! drop privileges (Debian's run as `nut`) can open it.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::{Mode, fchmod};
use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};

use crate::RigError;
use crate::sim::{Exchange, Fault, Output, Power, RawEvent, SimConfig, Simulator, format_exchange};

/// Pause after an unexpected poll error, so a broken fd cannot spin the thread.
const ERROR_PAUSE: Duration = Duration::from_millis(50);

/// A simulator serving a pty on its own thread; stopped (and its symlink removed) on drop.
pub struct PtySim {
    shared: Arc<Shared>,
    /// The pty currently "plugged in" (`None` after [`PtySim::unplug`]).
    line: Option<Line>,
    /// The last pty path (kept while unplugged, for messages).
    pty: PathBuf,
    link: Option<PathBuf>,
}

/// The simulator state, shared by the serving thread and the test (it outlives a
/// unplug/plug cycle: replies keep cycling, logs keep growing).
struct Shared {
    sim: Mutex<Simulator>,
    start: Instant,
}

/// One pty and the thread serving it.
struct Line {
    thread: JoinHandle<()>,
    stop: Arc<AtomicBool>,
    /// Closed to wake the serving thread for a stop; it otherwise sleeps until the driver
    /// writes or a delayed reply is due (no idle ticking).
    wake: OwnedFd,
}

impl Line {
    /// Opens a pty (raw, mode 0666, master non-blocking), links it and serves it.
    fn open(shared: &Arc<Shared>, link: Option<&Path>) -> Result<(Line, PathBuf), RigError> {
        let pty = nix::pty::openpty(None, None).map_err(|e| io_err("openpty", e))?;
        // Not inherited by the drivers and daemons the tests start: the device end must
        // really close on `unplug` (else the driver never sees the hang-up).
        for fd in [&pty.master, &pty.slave] {
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))
                .map_err(|e| io_err("FD_CLOEXEC", e))?;
        }
        let mut termios = tcgetattr(&pty.slave).map_err(|e| io_err("tcgetattr", e))?;
        cfmakeraw(&mut termios);
        tcsetattr(&pty.slave, SetArg::TCSANOW, &termios).map_err(|e| io_err("tcsetattr", e))?;
        fchmod(pty.slave.as_fd(), Mode::from_bits_truncate(0o666))
            .map_err(|e| io_err("fchmod pty", e))?;
        let path = nix::unistd::ttyname(&pty.slave).map_err(|e| io_err("ttyname", e))?;
        let flags = fcntl(&pty.master, FcntlArg::F_GETFL).map_err(|e| io_err("F_GETFL", e))?;
        fcntl(
            &pty.master,
            FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
        )
        .map_err(|e| io_err("F_SETFL", e))?;
        if let Some(link) = link {
            let _ = std::fs::remove_file(link);
            std::os::unix::fs::symlink(&path, link).map_err(|source| RigError::Io {
                what: format!("symlink {}", link.display()),
                source,
            })?;
        }
        let (wake_rx, wake_tx) =
            nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| io_err("pipe", e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let shared = Arc::clone(shared);
            let stop = Arc::clone(&stop);
            let (master, slave) = (pty.master, pty.slave);
            std::thread::Builder::new()
                .name("nut-rig-pty".to_owned())
                .spawn(move || serve(&shared, &stop, &master, slave, &wake_rx))
                .map_err(|source| RigError::Io {
                    what: "spawn simulator thread".to_owned(),
                    source,
                })?
        };
        let line = Line {
            thread,
            stop,
            wake: wake_tx,
        };
        Ok((line, path))
    }

    /// Stops the thread; the pty closes with it (a driver on it sees a hang-up).
    fn close(self) {
        self.stop.store(true, Ordering::Relaxed);
        // Closing the write end makes the read end readable (EOF): the thread wakes.
        drop(self.wake);
        let _ = self.thread.join();
    }
}

fn io_err(what: &str, errno: Errno) -> RigError {
    RigError::Io {
        what: what.to_owned(),
        source: std::io::Error::from(errno),
    }
}

impl PtySim {
    /// Opens a pty and starts serving `config` on it.
    pub fn start(config: SimConfig) -> Result<PtySim, RigError> {
        PtySim::start_inner(config, None)
    }

    /// Like [`PtySim::start`], and makes `link` a symlink to the pty (replacing a stale
    /// one), so a test can write a stable port path into ups.conf.
    pub fn start_linked(config: SimConfig, link: impl AsRef<Path>) -> Result<PtySim, RigError> {
        PtySim::start_inner(config, Some(link.as_ref().to_owned()))
    }

    fn start_inner(config: SimConfig, link: Option<PathBuf>) -> Result<PtySim, RigError> {
        let shared = Arc::new(Shared {
            sim: Mutex::new(Simulator::new(config)),
            start: Instant::now(),
        });
        let (line, pty) = Line::open(&shared, link.as_deref())?;
        Ok(PtySim {
            shared,
            line: Some(line),
            pty,
            link,
        })
    }

    /// The device goes away, like a USB-serial adapter pulled out: the pty closes (a
    /// driver on it gets a hang-up) and the symlink disappears. Idempotent.
    pub fn unplug(&mut self) {
        if let Some(line) = self.line.take() {
            line.close();
        }
        if let Some(link) = &self.link {
            let _ = std::fs::remove_file(link);
        }
    }

    /// The device comes back on a new pty (the symlink, if any, points to it), with the
    /// simulator state it had. No-op while plugged in.
    pub fn plug(&mut self) -> Result<(), RigError> {
        if self.line.is_none() {
            let (line, pty) = Line::open(&self.shared, self.link.as_deref())?;
            self.line = Some(line);
            self.pty = pty;
        }
        Ok(())
    }

    /// Whether the device is plugged in.
    pub fn is_plugged(&self) -> bool {
        self.line.is_some()
    }

    /// The port to give the driver: the symlink if there is one, else the pty.
    pub fn path(&self) -> &Path {
        self.link.as_deref().unwrap_or(&self.pty)
    }

    /// The pty slave (`/dev/pts/N`; the last one while unplugged).
    pub fn pty_path(&self) -> &Path {
        &self.pty
    }

    /// Time since the simulator started (the clock of its logs).
    pub fn elapsed(&self) -> Duration {
        self.shared.start.elapsed()
    }

    /// Runs `f` on the simulator (under its lock: keep it short).
    pub fn with<R>(&self, f: impl FnOnce(&mut Simulator) -> R) -> R {
        f(&mut self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Simulator> {
        self.shared.sim.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// See [`Simulator::set_power`].
    pub fn set_power(&self, power: Option<Power>) {
        self.lock().set_power(power);
    }

    /// See [`Simulator::schedule`].
    pub fn schedule(&self, after: u64, power: Power) {
        self.lock().schedule(after, power);
    }

    /// See [`Simulator::set_fault`].
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.lock().set_fault(fault);
    }

    /// See [`Simulator::set_fault_for`].
    pub fn set_fault_for(&self, command: impl AsRef<[u8]>, fault: Fault) {
        self.lock().set_fault_for(command, fault);
    }

    /// Status queries so far.
    pub fn status_polls(&self) -> u64 {
        self.lock().status_polls()
    }

    /// A position in the exchange log, for [`PtySim::exchanges_since`].
    pub fn mark(&self) -> usize {
        self.lock().exchanges().len()
    }

    /// Every exchange so far.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.lock().exchanges().to_vec()
    }

    /// The exchanges after `mark`.
    pub fn exchanges_since(&self, mark: usize) -> Vec<Exchange> {
        self.lock()
            .exchanges()
            .get(mark..)
            .unwrap_or_default()
            .to_vec()
    }

    /// Every byte in and out so far.
    pub fn raw(&self) -> Vec<RawEvent> {
        self.lock().raw().to_vec()
    }

    /// The exchange log as text, one [`format_exchange`] line each.
    pub fn log_text(&self) -> String {
        self.lock()
            .exchanges()
            .iter()
            .map(|e| format_exchange(e) + "\n")
            .collect()
    }

    /// Waits (at most `timeout`) until `n` status queries have come in; `false` on timeout.
    pub fn wait_status_polls(&self, n: u64, timeout: Duration) -> bool {
        nut_harness::poll_until(timeout, || (self.status_polls() >= n).then_some(())).is_some()
    }
}

impl Drop for PtySim {
    fn drop(&mut self) {
        self.unplug();
    }
}

/// The serving loop: read what the driver wrote, write replies when due.
fn serve(shared: &Shared, stop: &AtomicBool, master: &OwnedFd, _slave: OwnedFd, wake: &OwnedFd) {
    let mut queue: Vec<Output> = Vec::new();
    let mut buf = [0u8; 4096];
    // A due reply the pty could not take: wait until it can (POLLOUT), not on a timer.
    let mut blocked = false;
    while !stop.load(Ordering::Relaxed) {
        let now = shared.start.elapsed();
        let timeout = match queue.first() {
            None => PollTimeout::NONE,
            Some(_) if blocked => PollTimeout::NONE,
            Some(o) => {
                let millis = o.due.saturating_sub(now).as_millis();
                // Round up, so a reply is never written a millisecond early.
                PollTimeout::from(u16::try_from(millis + 1).unwrap_or(u16::MAX))
            }
        };
        let events = if blocked {
            PollFlags::POLLIN | PollFlags::POLLOUT
        } else {
            PollFlags::POLLIN
        };
        let mut fds = [
            PollFd::new(master.as_fd(), events),
            PollFd::new(wake.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, timeout) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => std::thread::sleep(ERROR_PAUSE),
        }
        loop {
            match nix::unistd::read(master, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let now = shared.start.elapsed();
                    let outputs = lock(shared).receive(&buf[..n], now);
                    for output in outputs {
                        let at = queue.partition_point(|o| o.due <= output.due);
                        queue.insert(at, output);
                    }
                }
            }
        }
        blocked = flush_due(shared, master, &mut queue);
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, Simulator> {
    shared.sim.lock().unwrap_or_else(|e| e.into_inner())
}

/// Writes every due reply (in order); a reply the pty cannot take yet stays queued and
/// `true` is returned.
fn flush_due(shared: &Shared, master: &OwnedFd, queue: &mut Vec<Output>) -> bool {
    while let Some(first) = queue.first_mut() {
        let now = shared.start.elapsed();
        if first.due > now {
            return false;
        }
        match nix::unistd::write(master, &first.bytes) {
            Ok(n) => {
                lock(shared).sent(&first.bytes[..n], now);
                first.bytes.drain(..n);
                if first.bytes.is_empty() {
                    queue.remove(0);
                }
            }
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => return true,
            Err(_) => {
                // The line is gone (should not happen while we hold the slave): drop it.
                queue.remove(0);
            }
        }
    }
    false
}
