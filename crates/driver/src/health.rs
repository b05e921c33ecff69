//! The framework's failure semantics, as pure decisions: what a failed or successful poll
//! means for the published data, what to log (with NUT's counts, wording and throttling),
//! when to reopen a lost device, and the `driver.state` to publish.
//!
//! NUT 2.8.0 leaves this to each driver; the serial Q1 family (`blazer_*`, `nutdrv_qx`) is
//! the model followed here, with the reconnection loop of later NUT (`reconnect_trying()`,
//! `reconnect_max_tries`, `reconnect_report_freq`):
//!
//! * a failed poll is logged at debug level 1 for the first [`MAXTRIES`] consecutive
//!   failures (`Communications with UPS lost: <why>`), as a warning at the next one, and
//!   from then on each failed poll marks the data stale (`DATASTALE`) without logging
//!   (wording and the warning per driver family: [`CommMessages`]);
//! * the first good poll after that logs `Communications with UPS re-established` and
//!   marks the data fresh (`DATAOK`);
//! * a device that is gone (the error says so, [`DriverError::needs_reconnect`]) is closed
//!   and reopened, first at the next poll and then with a doubling back-off capped at
//!   [`MAX_BACKOFF`]; its data is stale at once (as usbhid-ups does), `driver.state` is
//!   `reconnect.trying` meanwhile, and `reconnect_max_tries` / `reconnect_report_freq`
//!   work as in NUT ≥ 2.8.1.
//!
//! Each decision appends its [`Effect`]s, in order, to the caller's buffer, which the caller
//! carries out and empties before the next one (the runner keeps one buffer for the driver's
//! life, so a good poll allocates nothing).

use std::time::{Duration, Instant};

use crate::DriverError;
use crate::log::Level;

/// Failed polls tolerated (logged at debug level) before the one that is logged as a
/// warning; every failure after that marks the data stale (NUT's `MAXTRIES`).
pub const MAXTRIES: u32 = 3;

/// Longest wait between two attempts to reopen a lost device.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the shell has to do after a decision, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Log a message.
    Log(Level, String),
    /// Log a debug message at this level.
    Debug(u32, String),
    /// `dstate_datastale()`.
    DataStale,
    /// `dstate_dataok()`.
    DataOk,
    /// Publish `driver.state`.
    State(&'static str),
    /// Close the transport; it is reopened when [`Health::reopen_due`] says so.
    Close,
    /// Give up: the device stayed away longer than `reconnect_max_tries` allows. The driver
    /// exits with a failure status.
    Exit,
}

/// How a driver family words and throttles its "communications lost" messages: NUT's
/// drivers differ (the `blazer_*` drivers warn once, at the last tolerated failure;
/// `nutdrv_qx` logs every failure at debug level only and says "the UPS").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommMessages {
    /// Prefix of the failure message, followed by `: <error>`.
    pub lost: &'static str,
    /// The message when data comes back after the data went stale.
    pub regained: &'static str,
    /// Log the failure after the [`MAXTRIES`] tolerated ones as a warning (else at debug
    /// level 1 like the others).
    pub warn_at_last_try: bool,
    /// Log like NUT's `ser_comm_fail()` instead (the serial drivers of `drivers/serial.c`:
    /// every failure as a warning up to the 10th, then every 10th, with `Warning:
    /// excessive comm failures, limiting error reporting` at the 10th and every 100th;
    /// `ser_comm_good()`'s message after any failure).
    pub ser_comm_fail: bool,
}

impl CommMessages {
    /// `blazer_ser` / `blazer_usb` (and the default).
    pub const BLAZER: Self = Self {
        lost: "Communications with UPS lost",
        regained: "Communications with UPS re-established",
        warn_at_last_try: true,
        ser_comm_fail: false,
    };

    /// Drivers reporting through NUT's `ser_comm_fail()` / `ser_comm_good()`.
    pub const SER_COMM_FAIL: Self = Self {
        lost: "Communications with UPS lost",
        regained: "Communications with UPS re-established",
        warn_at_last_try: false,
        ser_comm_fail: true,
    };

    /// `nutdrv_qx`.
    pub const NUTDRV_QX: Self = Self {
        lost: "Communications with the UPS lost",
        regained: "Communications with the UPS re-established",
        warn_at_last_try: false,
        ser_comm_fail: false,
    };
}

impl Default for CommMessages {
    fn default() -> Self {
        Self::BLAZER
    }
}

/// Reconnection settings (`reconnect_max_tries`, `reconnect_report_freq`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReconnectPolicy {
    /// `None`: try forever (NUT's -1). `Some(0)`: exit as soon as the device is lost.
    pub max_tries: Option<u32>,
    /// Log "still reconnecting" every this many attempts (0: never).
    pub report_freq: u32,
}

/// The failure bookkeeping of one driver.
#[derive(Debug)]
pub struct Health {
    ups: String,
    policy: ReconnectPolicy,
    messages: CommMessages,
    /// Consecutive failed polls (NUT's static `retry`).
    retry: u32,
    /// Consecutive failures as `ser_comm_fail()` counts them.
    comm_failures: u32,
    /// Reopen attempts so far while the device is lost (0: not lost).
    reconnects: u32,
    /// When the next reopen attempt is due while the device is lost.
    next_reopen: Option<Instant>,
}

impl Health {
    /// A driver for `ups` (the section name, for messages).
    pub fn new(ups: &str, policy: ReconnectPolicy) -> Self {
        Self::with_messages(ups, policy, CommMessages::default())
    }

    /// The same, with a driver family's wording.
    pub fn with_messages(ups: &str, policy: ReconnectPolicy, messages: CommMessages) -> Self {
        Self {
            ups: ups.to_owned(),
            policy,
            messages,
            retry: 0,
            comm_failures: 0,
            reconnects: 0,
            next_reopen: None,
        }
    }

    /// Whether the device is lost and its transport closed.
    pub fn is_lost(&self) -> bool {
        self.next_reopen.is_some()
    }

    /// When the lost device should be reopened (`None`: it is not lost).
    pub fn reopen_due(&self) -> Option<Instant> {
        self.next_reopen
    }

    /// A poll (`update_info`) succeeded.
    pub fn poll_ok(&mut self, out: &mut Vec<Effect>) {
        let logged = if self.messages.ser_comm_fail {
            std::mem::take(&mut self.comm_failures) > 0
        } else {
            self.retry > MAXTRIES
        };
        if logged {
            out.push(Effect::Log(Level::Notice, self.messages.regained.into()));
        }
        self.retry = 0;
        if self.reconnects > 0 {
            out.push(Effect::Debug(
                1,
                format!(
                    "Driver reconnected to the device [{}] after {} attempts",
                    self.ups, self.reconnects
                ),
            ));
            if !logged {
                out.push(Effect::Log(
                    Level::Notice,
                    format!("Communications with UPS [{}] re-established", self.ups),
                ));
            }
            self.reconnects = 0;
        }
        out.push(Effect::State("quiet"));
        out.push(Effect::DataOk);
    }

    /// The device answered that its data is not current ([`DriverError::DataStale`]).
    pub fn source_stale(&mut self, why: &str, out: &mut Vec<Effect>) {
        out.push(Effect::Debug(1, why.to_owned()));
        self.mark_stale(out);
    }

    /// A poll failed with `err` at `now`, with `poll_interval` as the driver's poll period.
    pub fn poll_failed(
        &mut self,
        now: Instant,
        poll_interval: Duration,
        err: &DriverError,
        out: &mut Vec<Effect>,
    ) {
        let why = format!("{}: {err}", self.messages.lost);
        if self.messages.ser_comm_fail {
            self.ser_comm_fail(why, out);
            if self.retry <= MAXTRIES {
                self.retry += 1;
            } else {
                self.mark_stale(out);
            }
        } else if self.retry < MAXTRIES
            || (self.retry == MAXTRIES && !self.messages.warn_at_last_try)
        {
            out.push(Effect::Debug(1, why));
            self.retry += 1;
        } else if self.retry == MAXTRIES {
            out.push(Effect::Log(Level::Warning, why));
            self.retry += 1;
        } else {
            self.mark_stale(out);
        }
        if err.needs_reconnect() && !self.is_lost() {
            out.push(Effect::Close);
            self.mark_stale(out);
            self.start_reconnecting(now, poll_interval, out);
        }
    }

    /// NUT's `ser_comm_fail()` throttling.
    fn ser_comm_fail(&mut self, why: String, out: &mut Vec<Effect>) {
        const LIMIT: u32 = 10;
        const RATE: u32 = 100;
        self.comm_failures = self.comm_failures.saturating_add(1);
        let n = self.comm_failures;
        if n == LIMIT || n.is_multiple_of(RATE) {
            out.push(Effect::Log(
                Level::Warning,
                "Warning: excessive comm failures, limiting error reporting".into(),
            ));
        }
        if n > LIMIT && !n.is_multiple_of(LIMIT) {
            return;
        }
        out.push(Effect::Log(Level::Warning, why));
    }

    /// An attempt to reopen the lost device at `now` failed with `err`.
    pub fn reopen_failed(
        &mut self,
        now: Instant,
        poll_interval: Duration,
        err: &DriverError,
        out: &mut Vec<Effect>,
    ) {
        out.push(Effect::Debug(
            1,
            format!("Can't reopen the device [{}]: {err}", self.ups),
        ));
        self.mark_stale(out);
        self.start_reconnecting(now, poll_interval, out);
    }

    /// The lost device was reopened: the next poll re-reads its data.
    pub fn reopened(&mut self, out: &mut Vec<Effect>) {
        self.next_reopen = None;
        out.extend([
            Effect::Debug(
                1,
                format!(
                    "Driver has technically reconnected to the device [{}] after {} attempts \
                     and is now re-evaluating device data",
                    self.ups, self.reconnects
                ),
            ),
            Effect::State("reconnect.updateinfo"),
        ]);
    }

    fn mark_stale(&self, out: &mut Vec<Effect>) {
        // Repeated like NUT's drivers do; the state tree only broadcasts a change.
        if !out.contains(&Effect::DataStale) {
            out.push(Effect::DataStale);
        }
    }

    /// One more reconnection attempt is planned (NUT's `reconnect_trying(RECONNECT_TRYING)`).
    fn start_reconnecting(&mut self, now: Instant, poll_interval: Duration, out: &mut Vec<Effect>) {
        if self.policy.max_tries == Some(0) {
            out.push(Effect::Log(
                Level::Warning,
                format!(
                    "Driver lost connection to the device [{}] and will exit immediately",
                    self.ups
                ),
            ));
            out.push(Effect::Exit);
            return;
        }
        out.push(Effect::State("reconnect.trying"));
        if self.reconnects == 0 {
            let how = match self.policy.max_tries {
                None => "will try indefinitely".to_owned(),
                Some(n) => format!("will try for max {n} attempts, then will exit"),
            };
            out.push(Effect::Log(
                Level::Warning,
                format!("Driver reconnecting to the device [{}], {how}", self.ups),
            ));
        } else if self.policy.report_freq > 0
            && self.reconnects.is_multiple_of(self.policy.report_freq)
        {
            out.push(Effect::Log(
                Level::Warning,
                format!(
                    "Driver still reconnecting to the device [{}] for {} attempts",
                    self.ups, self.reconnects
                ),
            ));
        }
        self.reconnects = self.reconnects.saturating_add(1);
        if let Some(max) = self.policy.max_tries
            && self.reconnects > max
        {
            out.push(Effect::Log(
                Level::Warning,
                format!(
                    "Driver lost connection to the device [{}] and tried to reconnect for {} \
                     times, now will exit as configured",
                    self.ups, max
                ),
            ));
            out.push(Effect::Exit);
            return;
        }
        self.next_reopen = Some(now + backoff(poll_interval, self.reconnects));
    }
}

/// Wait before reopen attempt `attempt` (1-based): one poll interval, then doubling, at
/// most [`MAX_BACKOFF`] (or the poll interval if that is longer).
pub fn backoff(poll_interval: Duration, attempt: u32) -> Duration {
    let doubled = poll_interval.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    doubled.min(MAX_BACKOFF.max(poll_interval))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLL: Duration = Duration::from_secs(2);

    fn timeout() -> DriverError {
        DriverError::Timeout("Q1".into())
    }

    fn gone() -> DriverError {
        DriverError::Disconnected("device unplugged".into())
    }

    /// The effects one decision pushes.
    fn run(decide: impl FnOnce(&mut Vec<Effect>)) -> Vec<Effect> {
        let mut out = Vec::new();
        decide(&mut out);
        out
    }

    fn logs(effects: &[Effect]) -> Vec<(Level, &str)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Log(l, m) => Some((*l, m.as_str())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn stale_after_maxtries_plus_one_failed_polls_as_nut_q1_drivers() {
        let mut h = Health::new("ups", ReconnectPolicy::default());
        let now = Instant::now();
        for n in 1..=MAXTRIES {
            let e = run(|o| h.poll_failed(now, POLL, &timeout(), o));
            assert_eq!(
                e,
                vec![Effect::Debug(
                    1,
                    "Communications with UPS lost: Q1: timed out".into()
                )],
                "failure {n}"
            );
        }
        let e = run(|o| h.poll_failed(now, POLL, &timeout(), o));
        assert_eq!(
            e,
            vec![Effect::Log(
                Level::Warning,
                "Communications with UPS lost: Q1: timed out".into()
            )]
        );
        // From the fifth failure on: stale, nothing logged.
        for _ in 0..50 {
            assert_eq!(
                run(|o| h.poll_failed(now, POLL, &timeout(), o)),
                vec![Effect::DataStale]
            );
        }
        let e = run(|o| h.poll_ok(o));
        assert_eq!(
            logs(&e),
            vec![(Level::Notice, "Communications with UPS re-established")]
        );
        assert!(e.contains(&Effect::DataOk));
        // Fresh count after recovery.
        assert!(matches!(
            run(|o| h.poll_failed(now, POLL, &timeout(), o))[..],
            [Effect::Debug(1, _)]
        ));
    }

    #[test]
    fn nutdrv_qx_wording_logs_every_failure_at_debug_level() {
        let mut h =
            Health::with_messages("ups", ReconnectPolicy::default(), CommMessages::NUTDRV_QX);
        let now = Instant::now();
        for _ in 0..=MAXTRIES {
            let e = run(|o| h.poll_failed(now, POLL, &timeout(), o));
            assert_eq!(
                e,
                vec![Effect::Debug(
                    1,
                    "Communications with the UPS lost: Q1: timed out".into()
                )]
            );
        }
        assert_eq!(
            run(|o| h.poll_failed(now, POLL, &timeout(), o)),
            vec![Effect::DataStale]
        );
        assert_eq!(
            logs(&run(|o| h.poll_ok(o))),
            vec![(Level::Notice, "Communications with the UPS re-established")]
        );
    }

    #[test]
    fn ser_comm_fail_throttling() {
        let mut h = Health::with_messages(
            "ups",
            ReconnectPolicy::default(),
            CommMessages::SER_COMM_FAIL,
        );
        let now = Instant::now();
        let mut logged = Vec::new();
        for n in 1..=200u32 {
            for (level, msg) in logs(&run(|o| h.poll_failed(now, POLL, &timeout(), o))) {
                assert_eq!(level, Level::Warning);
                logged.push((n, msg.to_owned()));
            }
        }
        let lost: Vec<u32> = logged
            .iter()
            .filter(|(_, m)| m == "Communications with UPS lost: Q1: timed out")
            .map(|(n, _)| *n)
            .collect();
        let limiting: Vec<u32> = logged
            .iter()
            .filter(|(_, m)| m.starts_with("Warning: excessive comm failures"))
            .map(|(n, _)| *n)
            .collect();
        let mut expected: Vec<u32> = (1..=10).collect();
        expected.extend((20..=200).step_by(10));
        assert_eq!(lost, expected);
        assert_eq!(limiting, vec![10, 100, 200]);
        assert_eq!(
            logs(&run(|o| h.poll_ok(o))),
            vec![(Level::Notice, "Communications with UPS re-established")]
        );
        // One failure is enough for ser_comm_good() to say so.
        run(|o| h.poll_failed(now, POLL, &timeout(), o));
        assert_eq!(logs(&run(|o| h.poll_ok(o))).len(), 1);
    }

    #[test]
    fn short_outage_is_not_logged_as_recovery() {
        let mut h = Health::new("ups", ReconnectPolicy::default());
        let now = Instant::now();
        run(|o| h.poll_failed(now, POLL, &timeout(), o));
        run(|o| h.poll_failed(now, POLL, &timeout(), o));
        let e = run(|o| h.poll_ok(o));
        assert!(logs(&e).is_empty(), "{e:?}");
        assert!(e.contains(&Effect::DataOk));
    }

    #[test]
    fn a_lost_device_is_stale_at_once_and_reopened_with_backoff() {
        let mut h = Health::new("myups", ReconnectPolicy::default());
        let t0 = Instant::now();
        let e = run(|o| h.poll_failed(t0, POLL, &gone(), o));
        assert!(
            e.contains(&Effect::Close) && e.contains(&Effect::DataStale),
            "{e:?}"
        );
        assert!(e.contains(&Effect::State("reconnect.trying")));
        assert_eq!(
            logs(&e),
            vec![(
                Level::Warning,
                "Driver reconnecting to the device [myups], will try indefinitely"
            )]
        );
        assert_eq!(h.reopen_due(), Some(t0 + POLL));
        let mut waits = Vec::new();
        let mut now = t0 + POLL;
        for _ in 0..6 {
            let e = run(|o| h.reopen_failed(now, POLL, &gone(), o));
            assert!(logs(&e).is_empty(), "{e:?}");
            let due = h.reopen_due().expect("still lost");
            waits.push(due - now);
            now = due;
        }
        let secs: Vec<u64> = waits.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, vec![4, 8, 16, 30, 30, 30]);
        let e = run(|o| h.reopened(o));
        assert!(e.contains(&Effect::State("reconnect.updateinfo")));
        assert!(!h.is_lost());
        let e = run(|o| h.poll_ok(o));
        assert_eq!(
            logs(&e),
            vec![(
                Level::Notice,
                "Communications with UPS [myups] re-established"
            )]
        );
        assert!(e.contains(&Effect::State("quiet")) && e.contains(&Effect::DataOk));
    }

    #[test]
    fn reconnect_max_tries_and_report_freq() {
        let policy = ReconnectPolicy {
            max_tries: Some(3),
            report_freq: 2,
        };
        let mut h = Health::new("u", policy);
        let now = Instant::now();
        let e = run(|o| h.poll_failed(now, POLL, &gone(), o));
        assert!(!e.contains(&Effect::Exit));
        assert!(
            logs(&e)[0]
                .1
                .ends_with("will try for max 3 attempts, then will exit")
        );
        let e = run(|o| h.reopen_failed(now, POLL, &gone(), o));
        assert!(logs(&e).is_empty());
        let e = run(|o| h.reopen_failed(now, POLL, &gone(), o));
        assert_eq!(
            logs(&e),
            vec![(
                Level::Warning,
                "Driver still reconnecting to the device [u] for 2 attempts"
            )]
        );
        let e = run(|o| h.reopen_failed(now, POLL, &gone(), o));
        assert_eq!(e.last(), Some(&Effect::Exit));

        let mut h = Health::new(
            "u",
            ReconnectPolicy {
                max_tries: Some(0),
                report_freq: 0,
            },
        );
        let e = run(|o| h.poll_failed(now, POLL, &gone(), o));
        assert_eq!(e.last(), Some(&Effect::Exit));
        assert!(
            logs(&e)
                .iter()
                .any(|(_, m)| m.ends_with("will exit immediately"))
        );
    }

    #[test]
    fn backoff_never_shorter_than_the_poll_interval() {
        assert_eq!(backoff(Duration::from_secs(60), 1), Duration::from_secs(60));
        assert_eq!(backoff(Duration::from_secs(60), 9), Duration::from_secs(60));
        assert_eq!(backoff(POLL, 1), POLL);
        assert_eq!(backoff(POLL, u32::MAX), MAX_BACKOFF);
    }
}
