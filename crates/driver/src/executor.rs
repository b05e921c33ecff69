//! What runs a driver's futures on its thread.
//!
//! A driver's calls are `async` so that the few drivers that wait on something else than
//! their own descriptors (USB interrupt reports through nusb, a network session, tokio
//! timers) can, but most complete without ever waiting: a serial driver's exchange is
//! bounded `poll(2)` calls inside the call. Running those on tokio's loop cost a poll of a
//! UPS about a fifth of what NUT's whole poll costs (docs/benchmarks-drivers.md): its
//! wake-up, park and readiness machinery is code a poll runs through from cold caches after
//! a poll interval of idling. So the framework's loop ([`crate::reactor`]) is its own, and
//! which executor runs it depends on the driver ([`Driver::TOKIO`]):
//!
//! * [`Executor::Plain`]: the future is polled on the spot; when it has to wait, the thread
//!   sleeps on an eventfd that its waker writes to. The same eventfd is in the loop's epoll
//!   set, so the loop's one `epoll_wait` also ends when a driver's future is woken. A
//!   tokio runtime without IO or timers is entered around it, only so that
//!   `spawn_blocking` (a USB device search) has a pool to run on.
//! * [`Executor::Tokio`]: tokio's current-thread runtime, with IO and timers, runs the
//!   future; the loop's epoll set is then one descriptor tokio watches.

use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::eventfd::{EfdFlags, EventFd};

use crate::Driver;

/// The wake-up of a thread run by [`Executor::Plain`]: an eventfd that a [`Waker`] made from
/// it writes to, from any thread.
#[derive(Debug)]
pub(crate) struct WakeFd(EventFd);

impl WakeFd {
    pub fn new() -> io::Result<Arc<Self>> {
        let fd = EventFd::from_value_and_flags(0, EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)?;
        Ok(Arc::new(Self(fd)))
    }

    /// Forget the wake-ups so far: the descriptor stops being readable.
    pub fn reset(&self) {
        // EAGAIN: nothing to forget.
        let _ = self.0.read();
    }

    /// Sleep until woken (at once when a wake-up is pending), then [`reset`](Self::reset).
    fn wait(&self) {
        let mut fds = [PollFd::new(self.0.as_fd(), PollFlags::POLLIN)];
        // EINTR (a signal): the caller polls its future again, which costs nothing.
        let _ = poll(&mut fds, PollTimeout::NONE);
        self.reset();
    }
}

impl AsRawFd for WakeFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

impl Wake for WakeFd {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Only fails when the counter would overflow: then it is readable anyway.
        let _ = self.0.write(1);
    }
}

/// Runs a driver's futures: see the module's documentation.
pub(crate) enum Executor {
    /// Polled on the spot, sleeping on `wake` when they must wait.
    Plain {
        wake: Arc<WakeFd>,
        /// Entered while running, for `spawn_blocking`; never driven.
        blocking_pool: tokio::runtime::Runtime,
    },
    /// tokio's current-thread runtime, IO and timers enabled.
    Tokio(tokio::runtime::Runtime),
}

impl Executor {
    /// The executor `D` needs.
    pub fn for_driver<D: Driver>() -> io::Result<Self> {
        let mut builder = tokio::runtime::Builder::new_current_thread();
        if D::TOKIO {
            builder
                .enable_io()
                .enable_time()
                // A driver watches a handful of descriptors: tokio's default of 1024
                // events per poll would be a 16 KiB buffer.
                .max_io_events_per_tick(64);
            return Ok(Self::Tokio(builder.build()?));
        }
        Ok(Self::Plain {
            wake: WakeFd::new()?,
            blocking_pool: builder.build()?,
        })
    }

    /// The eventfd that wakes the thread, when this executor has one (the loop puts it in
    /// its epoll set).
    pub fn wake_fd(&self) -> Option<Arc<WakeFd>> {
        match self {
            Self::Plain { wake, .. } => Some(wake.clone()),
            Self::Tokio(_) => None,
        }
    }

    /// Run `fut` to completion on this thread.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        match self {
            Self::Tokio(rt) => rt.block_on(fut),
            Self::Plain {
                wake,
                blocking_pool,
            } => {
                let _entered = blocking_pool.enter();
                let waker = Waker::from(wake.clone());
                let mut cx = Context::from_waker(&waker);
                let mut fut = pin!(fut);
                loop {
                    if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                        return out;
                    }
                    wake.wait();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Plain;
    impl Driver for Plain {
        type Transport = crate::NoTransport;
        async fn init_info(
            &mut self,
            _: &mut crate::NoTransport,
            _: &mut crate::State,
        ) -> Result<(), crate::DriverError> {
            Ok(())
        }
        async fn update_info(
            &mut self,
            _: &mut crate::NoTransport,
            _: std::time::Instant,
            _: &mut crate::State,
        ) -> Result<(), crate::DriverError> {
            Ok(())
        }
    }

    #[test]
    fn a_plain_executor_sleeps_until_a_future_is_woken_from_another_thread() {
        let exec = Executor::for_driver::<Plain>().unwrap();
        assert!(exec.wake_fd().is_some());
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        // Sends only once the future has been polled and found nothing: the executor must
        // sleep and be woken.
        let sender = std::thread::spawn(move || {
            go_rx.recv().unwrap();
            tx.send(42).unwrap();
        });
        let mut go = Some(go_tx);
        let got = exec.block_on(std::future::poll_fn(|cx| {
            let r = std::pin::Pin::new(&mut rx).poll(cx);
            if r.is_pending()
                && let Some(go) = go.take()
            {
                go.send(()).unwrap();
            }
            r
        }));
        assert_eq!(got, Ok(42));
        assert!(go.is_none(), "the future never had to wait");
        sender.join().unwrap();
    }

    #[test]
    fn a_plain_executor_runs_blocking_work_on_tokios_pool() {
        let exec = Executor::for_driver::<Plain>().unwrap();
        let got = exec.block_on(async {
            tokio::task::spawn_blocking(|| std::thread::current().id())
                .await
                .unwrap()
        });
        assert_ne!(got, std::thread::current().id());
    }
}
