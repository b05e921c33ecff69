//! Where the driver's loop waits: one level-triggered epoll set holding the socket (the
//! listener and its clients, which the [`Server`](crate::server::Server) registers under its
//! own keys), the caught signals, and what ends a wait for the driver's futures.
//!
//! Under the plain executor (see [`crate::executor`]) a wait is one `epoll_wait` whose
//! timeout is the loop's next deadline, and the executor's eventfd is in the set, so a
//! woken driver future (a USB search done on tokio's blocking pool, a forwarded command's
//! answer) ends it too — NUT's `select` loop, plus that. Under tokio the set is one
//! descriptor tokio's runtime watches, and a timerfd in it carries the deadline.

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use nut_daemon::epoll::{Epoll, Interest, Ready};
use nut_daemon::signals::{self, Caught};
use tokio::io::unix::AsyncFd;

use crate::executor::{Executor, WakeFd};

const SIGNALS_KEY: u64 = 0;
const WAKE_KEY: u64 = 1;
const TIMER_KEY: u64 = 2;
// The server's keys start at crate::server::FIRST_KEY.

/// Most descriptors reported by one wait; more stay ready for the next (level-triggered).
const MAX_READY: usize = 32;

/// The loop's epoll set and what it reported last.
pub(crate) struct Reactor {
    epoll: Epoll,
    ready: Vec<Ready>,
    signals: Caught,
    waits: Waits,
}

/// How a wait blocks, by executor.
enum Waits {
    /// `epoll_wait` on this thread; the executor's eventfd is in the set.
    Plain(Arc<WakeFd>),
    /// tokio watches the set; the deadline is a timerfd in it.
    Tokio {
        set: AsyncFd<Epoll>,
        timer: TimerFd,
        armed: Option<Instant>,
    },
}

impl Reactor {
    /// The set for a loop run by `executor`, catching the driver's signals from now on.
    /// Under tokio, call it inside the runtime.
    pub fn new(executor: &Executor) -> io::Result<Self> {
        let epoll = Epoll::new()?;
        let signals = Caught::new(&signals::DRIVER)?;
        epoll.add(signals.as_raw_fd(), SIGNALS_KEY, Interest::Read)?;
        let waits = match executor.wake_fd() {
            Some(wake) => {
                epoll.add(wake.as_raw_fd(), WAKE_KEY, Interest::Read)?;
                Waits::Plain(wake)
            }
            None => {
                let timer = TimerFd::new(
                    ClockId::CLOCK_MONOTONIC,
                    TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
                )?;
                epoll.add(timer.as_fd().as_raw_fd(), TIMER_KEY, Interest::Read)?;
                // SAFETY: the `AsyncFd` owns a handle on the set, so its descriptor stays
                // open and the same while registered.
                let set = unsafe {
                    AsyncFd::register_with_interest(epoll.clone(), tokio::io::Interest::READABLE)
                }
                .map_err(io::Error::from)?;
                Waits::Tokio {
                    set,
                    timer,
                    armed: None,
                }
            }
        };
        Ok(Self {
            epoll,
            ready: Vec::with_capacity(MAX_READY),
            signals,
            waits,
        })
    }

    /// The set, for the server to register its descriptors in.
    pub fn epoll(&self) -> &Epoll {
        &self.epoll
    }

    /// What the last wait reported.
    pub fn ready(&self) -> &[Ready] {
        &self.ready
    }

    /// Forget what the last wait reported (the loop woke for something else).
    pub fn clear(&mut self) {
        self.ready.clear();
    }

    /// The signals caught, when the last wait reported some.
    pub fn signals(&self) -> Vec<Signal> {
        if self.ready.iter().any(|r| r.key() == SIGNALS_KEY) {
            self.signals.take()
        } else {
            Vec::new()
        }
    }

    /// Wait until something in the set is ready or `deadline` has passed. Under the plain
    /// executor this blocks the thread (`cx`'s waker is the eventfd in the set); under
    /// tokio it registers `cx` with the runtime and returns `Pending`.
    pub fn poll_wait(&mut self, cx: &mut Context<'_>, deadline: Instant) -> Poll<io::Result<()>> {
        match &mut self.waits {
            Waits::Plain(wake) => {
                self.epoll.wait(&mut self.ready, Some(deadline))?;
                if self.ready.iter().any(|r| r.key() == WAKE_KEY) {
                    wake.reset();
                }
                Poll::Ready(Ok(()))
            }
            Waits::Tokio { set, timer, armed } => {
                if *armed != Some(deadline) {
                    // A zero expiry would disarm the timer: at least one nanosecond.
                    let wait = deadline
                        .saturating_duration_since(Instant::now())
                        .max(Duration::from_nanos(1));
                    timer.set(
                        Expiration::OneShot(TimeSpec::from_duration(wait)),
                        TimerSetTimeFlags::empty(),
                    )?;
                    *armed = Some(deadline);
                }
                loop {
                    let mut guard = ready!(set.poll_read_ready(cx))?;
                    // Only look: tokio said the set has something.
                    self.epoll.wait(&mut self.ready, Some(Instant::now()))?;
                    if self.ready.is_empty() {
                        guard.clear_ready();
                        continue;
                    }
                    if self.ready.iter().any(|r| r.key() == TIMER_KEY) {
                        // Rung: read it so it stops being ready; the next wait sets it again.
                        let _ = timer.wait();
                        *armed = None;
                    }
                    return Poll::Ready(Ok(()));
                }
            }
        }
    }
}
