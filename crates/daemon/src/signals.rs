//! The signals each daemon handles, in one place, and the two ways of receiving them.
//!
//! * In a tokio loop: [`Signals`] — one stream for a set, `recv()` tells which signal came.
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
use std::task::Poll;

use nix::sys::signal::{SigSet, Signal};
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

    /// The same signals delivered through one channel by a task of their own: a loop that
    /// wakes often (a driver polling its UPS) then polls one receiver per wake-up instead of
    /// every signal stream. Needs a tokio runtime that can spawn.
    pub fn forward(mut self) -> tokio::sync::mpsc::UnboundedReceiver<Signal> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                if tx.send(self.recv().await).is_err() {
                    return;
                }
            }
        });
        rx
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
