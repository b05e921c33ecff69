//! systemd notifications (`Type=notify` units). Every call is a no-op unless systemd (or a test
//! acting as systemd) set `NOTIFY_SOCKET`, and a failure to notify never stops a daemon.

use std::time::{Duration, Instant};

use sd_notify::NotifyState;

fn send(states: &[NotifyState<'_>]) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}

/// `READY=1` with a status line.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// `READY=1` plus `MAINPID=<pid>`: the process systemd must supervise is not the one
/// notifying (upsmon's privileged parent is the main process; its child does the work).
pub fn ready_with_main_pid(pid: u32, status: &str) {
    send(&[
        NotifyState::MainPid(pid),
        NotifyState::Ready,
        NotifyState::Status(status),
    ]);
}

/// `RELOADING=1` (with the monotonic timestamp systemd ≥ 253 wants), before re-reading config.
pub fn reloading() {
    let usec = monotonic_usec();
    send(&[NotifyState::Reloading, NotifyState::MonotonicUsec(usec)]);
}

/// `READY=1` again after a reload.
pub fn reloaded(status: &str) {
    ready(status);
}

/// `STOPPING=1`, at the start of a clean shutdown.
pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

/// `WATCHDOG=1`.
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// The watchdog interval systemd asked for, if any (half of it is the usual ping period).
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.parse::<u32>().ok()? != std::process::id()
    {
        return None;
    }
    Some(Duration::from_micros(usec))
}

/// How often to ping a watchdog of `interval`: half of it (systemd's advice), at least every
/// 100 ms so a tiny `WatchdogSec=` cannot make a daemon spin.
pub fn watchdog_ping_period(interval: Duration) -> Duration {
    (interval / 2).max(Duration::from_millis(100))
}

/// When `WATCHDOG=1` is due, for every daemon: a loop that waits with a timeout (upsmon's
/// parent, a driver's `timerfd`) waits no longer than [`Watchdog::deadline`] and calls
/// [`Watchdog::ping_if_due`]; a tokio `select!` loop has a [`watchdog_due`] branch. Either
/// way the pings come from the daemon's main loop, so a loop that hangs stops them and
/// systemd's `WatchdogSec=` restarts the daemon.
#[derive(Clone, Copy, Debug)]
pub struct Watchdog {
    period: Duration,
    next: Instant,
}

impl Watchdog {
    /// The watchdog systemd asked for, if any. Call it before forking: `WATCHDOG_PID` names
    /// the process systemd started.
    pub fn from_env() -> Option<Self> {
        watchdog_interval().map(|interval| Self::new(interval, Instant::now()))
    }

    /// A watchdog of `interval`, the first ping due one period after `now`.
    pub fn new(interval: Duration, now: Instant) -> Self {
        let period = watchdog_ping_period(interval);
        Self {
            period,
            next: now + period,
        }
    }

    /// When the next ping is due.
    pub fn deadline(&self) -> Instant {
        self.next
    }

    /// Ping if the deadline has passed; returns whether it did.
    pub fn ping_if_due(&mut self, now: Instant) -> bool {
        let due = self.advance(now);
        if due {
            watchdog();
        }
        due
    }

    /// Whether a ping is due at `now`; if so, the next one is a period later. For a loop
    /// that decides itself whether to ping (upsmon pings only while it keeps its deadlines).
    pub fn advance(&mut self, now: Instant) -> bool {
        if now < self.next {
            return false;
        }
        self.next = now + self.period;
        true
    }
}

/// Resolves when `dog`'s next ping is due, and moves its deadline a period on; never when
/// there is no watchdog. The caller pings ([`watchdog`]) or decides not to. Cancel-safe: the
/// deadline lives in `dog`, so a `select!` loop may drop the future at every turn.
pub async fn watchdog_due(dog: &mut Option<Watchdog>) {
    let Some(dog) = dog else {
        return std::future::pending().await;
    };
    tokio::time::sleep_until(dog.deadline().into()).await;
    dog.advance(Instant::now());
}

fn monotonic_usec() -> i128 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|ts| i128::from(ts.tv_sec()) * 1_000_000 + i128::from(ts.tv_nsec()) / 1_000)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::os::unix::net::UnixDatagram;

    use super::*;

    #[test]
    fn notifications_reach_the_socket() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        // SAFETY: this test binary sets NOTIFY_SOCKET in this one test only.
        unsafe { std::env::set_var("NOTIFY_SOCKET", &path) };
        ready("serving");
        reloading();
        stopping();
        unsafe { std::env::remove_var("NOTIFY_SOCKET") };
        let mut buf = [0u8; 512];
        let mut got = Vec::new();
        for _ in 0..3 {
            let n = sock.recv(&mut buf).unwrap();
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        assert!(
            got[0].contains("READY=1") && got[0].contains("STATUS=serving"),
            "{got:?}"
        );
        assert!(
            got[1].contains("RELOADING=1") && got[1].contains("MONOTONIC_USEC="),
            "{got:?}"
        );
        assert!(got[2].contains("STOPPING=1"), "{got:?}");
    }

    #[test]
    fn watchdog_pings_every_half_interval() {
        assert_eq!(
            watchdog_ping_period(Duration::from_secs(2)),
            Duration::from_secs(1)
        );
        assert_eq!(
            watchdog_ping_period(Duration::from_millis(10)),
            Duration::from_millis(100)
        );
        let start = Instant::now();
        let mut dog = Watchdog::new(Duration::from_secs(2), start);
        assert_eq!(dog.deadline(), start + Duration::from_secs(1));
        // (`advance`, not `ping_if_due`: another test here owns NOTIFY_SOCKET.)
        assert!(!dog.advance(start + Duration::from_millis(999)));
        let late = start + Duration::from_millis(1500);
        assert!(dog.advance(late));
        // The next ping counts from the one just sent.
        assert_eq!(dog.deadline(), late + Duration::from_secs(1));
        assert!(!dog.advance(late));
    }

    #[test]
    fn watchdog_due_waits_for_the_deadline_and_moves_it_on() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let start = Instant::now();
            let mut dog = Some(Watchdog::new(Duration::from_millis(200), start));
            watchdog_due(&mut dog).await;
            let now = Instant::now();
            assert!(now >= start + Duration::from_millis(100));
            let next = dog.as_ref().unwrap().deadline();
            // A period after the ping that was just due.
            assert!(next > now && next >= start + Duration::from_millis(200));
            // No watchdog: never due.
            let mut none = None;
            let never =
                tokio::time::timeout(Duration::from_millis(50), watchdog_due(&mut none)).await;
            assert!(never.is_err());
        });
    }
}
