//! The signals each daemon handles, in one place, and the ways of receiving them.
//!
//! * In a tokio loop: [`Signals`] — one stream for a set, `recv()` tells which signal came.
//! * In a loop of its own that must not change how signals act before it runs (a driver's:
//!   a stop during a long device initialisation still stops it): [`Caught`] — a handler
//!   records the signal and makes an eventfd readable, which the loop waits on.
//! * Without a runtime: [`block`] the set (so the signals stay pending instead of running a
//!   default action) and read them synchronously, from a [`signalfd`] or with `sigtimedwait`
//!   over [`set`].
//!
//! The sets, as NUT's daemons handle them:
//!
//! | set | signals | who |
//! |---|---|---|
//! | [`STOP`] | TERM, INT, QUIT: exit | every daemon |
//! | [`DAEMON`] | [`STOP`] + HUP: reload | upsd |
//! | [`DRIVER`] | [`DAEMON`] + USR1, USR2 | drivers (reload variants), upsmon (USR1 = FSD, USR2 ignored) and its privileged parent |
//! | [`UPSLOG`] | [`DAEMON`] + USR1 (log now) | upslog |
//!
//! nut-web and upsdrvctl's supervisor (not NUT programs) take TERM, INT and HUP; upssched's
//! timer daemon TERM and INT.

use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::task::Poll;

use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// TERM, INT, QUIT: exit.
pub const STOP: [Signal; 3] = [Signal::SIGTERM, Signal::SIGINT, Signal::SIGQUIT];

/// [`STOP`] and HUP (reload): upsd.
pub const DAEMON: [Signal; 4] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGHUP,
];

/// [`DAEMON`] and both user signals: drivers and upsmon.
pub const DRIVER: [Signal; 6] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGHUP,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

/// [`DAEMON`] and USR1 (log now): upslog.
pub const UPSLOG: [Signal; 5] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGHUP,
    Signal::SIGUSR1,
];

/// Whether `signal` asks a daemon to exit.
pub fn is_stop(signal: Signal) -> bool {
    STOP.contains(&signal)
}

/// `signals` as a [`SigSet`].
pub fn set(signals: &[Signal]) -> SigSet {
    let mut set = SigSet::empty();
    for &signal in signals {
        set.add(signal);
    }
    set
}

/// Block `signals` for the calling thread (and the threads it starts later), so that they
/// wait to be read instead of running their default action; returns the set.
pub fn block(signals: &[Signal]) -> nix::Result<SigSet> {
    let set = set(signals);
    set.thread_block()?;
    Ok(set)
}

/// Block `signals` and read them from a non-blocking, close-on-exec signalfd.
pub fn signalfd(signals: &[Signal]) -> nix::Result<SignalFd> {
    let set = block(signals)?;
    SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
}

/// A set of signals received in a tokio loop. Create it before telling anyone the daemon is
/// ready: from then on the signals are caught instead of killing the process.
#[derive(Debug)]
pub struct Signals {
    streams: Vec<(Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    /// Catch `signals` (inside a tokio runtime).
    pub fn new(signals: &[Signal]) -> io::Result<Self> {
        let streams = signals
            .iter()
            .map(|&s| {
                let kind = tokio::signal::unix::SignalKind::from_raw(s as i32);
                tokio::signal::unix::signal(kind).map(|stream| (s, stream))
            })
            .collect::<io::Result<_>>()?;
        Ok(Self { streams })
    }

    /// The next signal of the set that arrives (the first of the set when several are
    /// pending). Cancel-safe: a signal is never lost when the future is dropped.
    pub async fn recv(&mut self) -> Signal {
        poll_fn(|cx| {
            for (signal, stream) in &mut self.streams {
                if let Poll::Ready(Some(())) = stream.poll_recv(cx) {
                    return Poll::Ready(*signal);
                }
            }
            Poll::Pending
        })
        .await
    }
}

/// How many [`Caught`] may live at once: one in a daemon, a few in a test process.
const SLOTS: usize = 8;
/// Per live [`Caught`]: the signals its handler caught and it has not taken, one bit per
/// number, and the eventfd the handler makes readable (-1: slot free).
static CAUGHT: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static CAUGHT_FD: [AtomicI32; SLOTS] = [const { AtomicI32::new(-1) }; SLOTS];

extern "C" fn record(signal: libc::c_int) {
    // Only async-signal-safe steps: atomics and write(2), errno kept for the code the
    // signal interrupted.
    // SAFETY: errno is thread-local; reading and restoring it is what a handler must do.
    let errno = unsafe { *libc::__errno_location() };
    for (bits, fd) in CAUGHT.iter().zip(&CAUGHT_FD) {
        let fd = fd.load(Ordering::SeqCst);
        if fd < 0 {
            continue;
        }
        if (0..64).contains(&signal) {
            bits.fetch_or(1 << signal, Ordering::SeqCst);
        }
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live local to an eventfd; a failure (the counter
        // is full, the slot just freed) leaves nothing to repair.
        unsafe { libc::write(fd, (&raw const one).cast(), 8) };
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

/// Signals caught by a handler that records them and makes an eventfd readable: for a loop
/// that waits in `epoll`/`poll` without a runtime. Until it is created the signals act as
/// before (a stop during start-up still stops the process); whichever thread a signal is
/// delivered to, the loop's descriptor becomes readable.
#[derive(Debug)]
pub struct Caught {
    /// Never closed: a handler running on another thread may still write to it after
    /// [`Drop`] freed the slot, and must not hit a descriptor number reused by then.
    fd: std::mem::ManuallyDrop<EventFd>,
    slot: usize,
    signals: Vec<Signal>,
}

impl Caught {
    /// Catch `signals` from now on.
    pub fn new(signals: &[Signal]) -> io::Result<Self> {
        let fd = EventFd::from_value_and_flags(0, EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)?;
        let raw = fd.as_fd().as_raw_fd();
        let slot = CAUGHT_FD
            .iter()
            .position(|s| {
                s.compare_exchange(-1, raw, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            })
            .ok_or_else(|| io::Error::other("too many signal catchers"))?;
        let caught = Self {
            fd: std::mem::ManuallyDrop::new(fd),
            slot,
            signals: signals.to_vec(),
        };
        let action = SigAction::new(
            SigHandler::Handler(record),
            SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        for &signal in signals {
            // SAFETY: the handler only uses async-signal-safe operations.
            unsafe { sigaction(signal, &action) }?;
        }
        Ok(caught)
    }

    /// The signals caught since the last call, in the order of the set given to
    /// [`new`](Self::new); the descriptor stops being readable until the next one.
    pub fn take(&self) -> Vec<Signal> {
        // Reset first: a signal caught after this sets its bit and the descriptor again.
        let _ = self.fd.read();
        let bits = CAUGHT[self.slot].swap(0, Ordering::SeqCst);
        self.signals
            .iter()
            .copied()
            .filter(|&s| bits & (1 << (s as i32)) != 0)
            .collect()
    }
}

impl AsRawFd for Caught {
    /// Readable while a caught signal has not been taken.
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_fd().as_raw_fd()
    }
}

impl Drop for Caught {
    fn drop(&mut self) {
        // The handler stays (restoring the defaults would let a late signal kill a process
        // on its way out) but no longer writes to this descriptor, which stays open (see
        // `fd`): one per catcher, and a daemon has one.
        CAUGHT_FD[self.slot].store(-1, Ordering::SeqCst);
        CAUGHT[self.slot].store(0, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sets_nest_as_documented() {
        assert!(STOP.iter().all(|s| DAEMON.contains(s)));
        assert!(
            DAEMON
                .iter()
                .all(|s| DRIVER.contains(s) && UPSLOG.contains(s))
        );
        assert!(!UPSLOG.contains(&Signal::SIGUSR2));
        assert!(is_stop(Signal::SIGQUIT) && !is_stop(Signal::SIGHUP));
        let s = set(&UPSLOG);
        assert!(s.contains(Signal::SIGUSR1) && !s.contains(Signal::SIGUSR2));
    }

    #[test]
    fn a_signal_caught_by_the_handler_makes_the_descriptor_readable_and_is_taken_once() {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        // SIGURG is used by no other test of this crate (its default action is to ignore).
        let caught = Caught::new(&[Signal::SIGURG]).unwrap();
        let other = Caught::new(&[Signal::SIGURG]).unwrap();
        assert!(caught.take().is_empty());
        nix::sys::signal::raise(Signal::SIGURG).unwrap();
        for c in [&caught, &other] {
            let mut fds = [PollFd::new(c.fd.as_fd(), PollFlags::POLLIN)];
            let n = poll(&mut fds, PollTimeout::from(10_000u16)).unwrap();
            assert_eq!(n, 1, "the descriptor did not become readable");
            assert_eq!(c.take(), vec![Signal::SIGURG]);
            assert!(c.take().is_empty(), "taken twice");
            let mut fds = [PollFd::new(c.fd.as_fd(), PollFlags::POLLIN)];
            assert_eq!(
                poll(&mut fds, PollTimeout::ZERO).unwrap(),
                0,
                "still readable"
            );
        }
    }

    #[test]
    fn a_caught_signal_is_named() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            // SIGUSR2 and SIGHUP are not used by any other test of this crate.
            let mut signals = Signals::new(&[Signal::SIGHUP, Signal::SIGUSR2]).unwrap();
            nix::sys::signal::raise(Signal::SIGUSR2).unwrap();
            let got = tokio::time::timeout(std::time::Duration::from_secs(10), signals.recv())
                .await
                .expect("SIGUSR2 arrives");
            assert_eq!(got, Signal::SIGUSR2);
        });
    }
}
