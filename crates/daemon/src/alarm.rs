//! A one-shot alarm for event loops that must not wake up with nothing to do.
//!
//! tokio's timer wheel fires a far deadline in steps: it wakes at the start of the
//! coarse slot holding the deadline, moves the timer to a finer level, and sleeps again,
//! so a 50-second sleep costs two or three wake-ups. An [`Alarm`] is a `timerfd`
//! registered with the runtime: one wake-up per deadline, none while it is disarmed.
//! A daemon keeps one per loop, re-arms it with the next deadline its sans-IO core
//! reports, and waits on it next to its other events.
//!
//! A rung alarm is not read: its expiry count is reset by the next `set` (the descriptor
//! then stops being readable), and a deadline that has passed by the monotonic clock it
//! counts in is what tells a ring from a stale readiness. Per deadline that is one
//! `timerfd_settime` and the wait, no `read`.

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::{Duration, Instant};

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// What the runtime watches (`AsyncFd` wants `AsRawFd`).
#[derive(Debug)]
struct Timer(TimerFd);

impl AsRawFd for Timer {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// A one-shot `CLOCK_MONOTONIC` alarm driven by the current tokio runtime.
#[derive(Debug)]
pub struct Alarm {
    fd: AsyncFd<Timer>,
    armed: Option<Instant>,
}

impl Alarm {
    /// A disarmed alarm. Must be called inside a tokio runtime with IO enabled.
    pub fn new() -> io::Result<Alarm> {
        let timer = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        // SAFETY: `Timer` owns the descriptor and the `AsyncFd` owns the `Timer`, so the
        // descriptor stays open and the same while registered.
        let fd = unsafe { AsyncFd::register_with_interest(Timer(timer), Interest::READABLE) }
            .map_err(io::Error::from)?;
        Ok(Alarm { fd, armed: None })
    }

    /// When the alarm goes off next (`None`: never).
    pub fn deadline(&self) -> Option<Instant> {
        self.armed
    }

    /// Go off at `at` (at once when it has passed), or never (`None`). Replaces the previous
    /// setting.
    pub fn set(&mut self, at: Option<Instant>) -> io::Result<()> {
        if self.armed == at {
            return Ok(());
        }
        match at {
            Some(at) => {
                // A zero expiry would disarm the timer: at least one nanosecond.
                let wait = at
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_nanos(1));
                self.fd.get_ref().0.set(
                    Expiration::OneShot(TimeSpec::from_duration(wait)),
                    TimerSetTimeFlags::empty(),
                )?;
            }
            None => self.fd.get_ref().0.unset()?,
        }
        self.armed = at;
        Ok(())
    }

    /// Wait until the alarm goes off; it is then disarmed. Waits forever while disarmed.
    /// Cancel-safe: dropping the future loses nothing.
    ///
    /// The timer is not read: the kernel counts `CLOCK_MONOTONIC` from the `set` that armed
    /// it, so it can only have expired once [`Instant::now`] (the same clock) has reached
    /// the deadline; a readiness seen before that is left from an earlier setting. The
    /// expiry stays counted until the next `set` resets it, and the runtime's
    /// edge-triggered registration reports only the next expiry.
    pub async fn ring(&mut self) -> io::Result<()> {
        loop {
            let mut guard = self.fd.readable().await?;
            // Either way nothing new is pending until the timer expires again.
            guard.clear_ready();
            if let Some(at) = self.armed
                && Instant::now() >= at
            {
                self.armed = None;
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn rings_once_at_the_deadline_and_not_before() {
        runtime().block_on(async {
            let mut alarm = Alarm::new().unwrap();
            let start = Instant::now();
            let at = start + Duration::from_millis(30);
            alarm.set(Some(at)).unwrap();
            assert_eq!(alarm.deadline(), Some(at));
            alarm.ring().await.unwrap();
            assert!(Instant::now() >= at, "rang before its deadline");
            assert_eq!(alarm.deadline(), None);
        });
    }

    #[test]
    fn a_past_deadline_rings_at_once_and_a_disarmed_alarm_never() {
        runtime().block_on(async {
            let mut alarm = Alarm::new().unwrap();
            alarm.set(Some(Instant::now())).unwrap();
            alarm.ring().await.unwrap();
            alarm
                .set(Some(Instant::now() + Duration::from_secs(3600)))
                .unwrap();
            alarm.set(None).unwrap();
            // Nothing is pending: the read side must not be ready.
            let polled = tokio::time::timeout(Duration::ZERO, alarm.ring()).await;
            assert!(polled.is_err(), "a disarmed alarm rang");
        });
    }

    #[test]
    fn an_expiry_left_from_an_earlier_setting_does_not_ring() {
        runtime().block_on(async {
            let mut alarm = Alarm::new().unwrap();
            alarm.set(Some(Instant::now())).unwrap();
            // The runtime has seen the expiry: the descriptor is ready, nobody rang.
            drop(alarm.fd.readable().await.unwrap());
            alarm
                .set(Some(Instant::now() + Duration::from_secs(3600)))
                .unwrap();
            let polled = tokio::time::timeout(Duration::ZERO, alarm.ring()).await;
            assert!(polled.is_err(), "rang for a deadline an hour away");
            assert!(alarm.deadline().is_some());
        });
    }
}
