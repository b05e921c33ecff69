//! [`Monitor`]: upsmon's decisions as a sans-IO state machine (docs/nut-behaviour.md §6.3–§6.4, §6.7).
//!
//! The monitor owns the polling schedule and the shutdown sequence. It never talks to upsd or
//! runs anything itself: it asks for work through [`Action`]s and learns the outcome through
//! [`Monitor::handle_poll`]. Time is always an argument (see [`crate::clock`]).
//!
//! Methods come in four groups, as in quinn-proto's `Connection`:
//!
//! * getters: [`Monitor::entry`], [`Monitor::monitor_ids`], [`Monitor::is_shutting_down`],
//!   [`Monitor::shutdown_reason`], [`Monitor::poll_interval`];
//! * input handlers: [`Monitor::handle_poll`] (the reply to a [`Action::Poll`],
//!   [`Action::SetFsd`] or [`Action::QueryNumLogins`]), [`Monitor::handle_timeout`],
//!   [`Monitor::handle_parent_gone`];
//! * commands: [`Monitor::request_fsd`] (`upsmon -c fsd`), [`Monitor::reload`];
//! * output polls, called after every input or command until they return `None`:
//!   [`Monitor::poll_action`] then [`Monitor::poll_timeout`].
//!
//! # One loop of NUT's upsmon, as data
//!
//! NUT polls every UPS in turn, then recalculates (`recalc`), then sleeps POLLFREQ (or
//! POLLFREQALERT). Here a *round* starts with one [`Action::Poll`] per UPS; when the last of
//! them has been answered the monitor recalculates and schedules the next round `poll_interval`
//! later. The shell may answer the polls in any order and concurrently. A round lasts at most
//! POLLFREQ seconds: a poll still unanswered then counts as failed for its UPS only
//! ([`PollResult::CommFailure`]) and the round is decided for the others, so a server that
//! accepts connections but never answers cannot hold every decision. Later rounds still ask
//! that UPS but do not wait for it (each counts as a failed poll) until its server answers a
//! status again; an answer that comes late counts when it arrives.
//!
//! When the healthy power value falls below MINSUPPLIES (or on `-c fsd`) the forced shutdown
//! starts and status polling stops, as in NUT where `forceshutdown()` never returns:
//!
//! 1. [`Action::SetFsd`] for every UPS this host is primary for; each reply
//!    ([`PollResult::FsdSet`] / [`PollResult::FsdFailed`]) is awaited, for at most HOSTSYNC
//!    seconds. A successful one notifies FSD for that UPS unless already notified (NUT HEAD;
//!    2.8.0 stays silent).
//! 2. A primary then waits for its secondaries: [`Action::QueryNumLogins`] for each primary
//!    UPS every 250 ms until no UPS has more than one login (ourselves) or HOSTSYNC seconds
//!    have passed (also when queries go unanswered); SHUTDOWN_HOSTSYNC is notified after the
//!    first round that still saw secondaries. A host that is primary for nothing skips this
//!    step.
//! 3. [`Action::AnnounceShutdown`] and the SHUTDOWN notification, then FINALDELAY seconds.
//! 4. [`Action::Shutdown`] (write POWERDOWNFLAG, run SHUTDOWNCMD: the root parent's job),
//!    emitted exactly once, then [`Action::Exit`] as SHUTDOWNEXIT says; while lingering, the
//!    sessions are kept alive with a NUMLOGINS query per UPS every second.
//!
//! Steps 1–3 must be carried out once begun ([`Monitor::is_stalled`] and
//! [`Monitor::must_finish_shutdown`] tell the shell what it needs for its watchdog and its
//! stop requests). Every phase except the end has a deadline, so [`Monitor::poll_timeout`]
//! is `None` only after [`Action::Exit`].
//!
//! # Intended differences from NUT
//!
//! * Status words are compared as whole words everywhere (NUT clears LB, FSD, CAL, OFF and
//!   BYPASS after a substring test on the whole status string, so an unknown word such as
//!   `OFFLINE` could keep OFF set; docs/nut-behaviour.md §12 item 8).
//! * CAL is cleared when the word disappears and NOTCAL is notified; in 2.8.0 a single
//!   calibration made every later `OB LB` non-critical until restart (§12 item 11).
//! * ECO via the buzzword variables needs a word `ECO` (or `…:ECO`); NUT HEAD's inverted test
//!   treats any non-empty buzzwords as ECO (§12 item 7).
//! * The polling interval is derived from the current state (POLLFREQALERT while any UPS is on
//!   battery, off, bypassed, calibrating, overloaded or in alarm) instead of being latched by
//!   the last transition of whichever UPS was polled last. POLLFREQ applies from the first
//!   round (2.8.0, observed: its built-in 5 s until the first OL/OB transition, whatever
//!   POLLFREQ says). An interval of 0 is treated as 1 s.
//! * A status with no words at all counts as a failed poll, like NUT's empty string.
//! * The 2.8.0-era notification types (0–10) and the later ones (OFF, BYPASS, ALARM, OTHER,
//!   SHUTDOWN_HOSTSYNC …) are all produced, and OFF (after OFFDURATION), and BYPASS / CAL /
//!   ALARM / OVER on a UPS that stopped answering, are critical, as in NUT HEAD; 2.8.0 ignores
//!   all of these.
//! * A primary that set FSD itself notifies FSD for that UPS (NUT HEAD); 2.8.0 does not
//!   (observed: ONBATT, LOWBATT, SHUTDOWN).

pub(crate) mod ups;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use nut_core::names::{NotifyType, Status};

use crate::clock::{Time, secs_since};
use crate::config::{ConfigError, MonitorConfig, MonitorEntry, validate};
use ups::{StatusInput, Ups};

#[cfg(test)]
mod tests;

/// How often a primary asks upsd for NUMLOGINS while waiting for its secondaries (NUT's 250 ms
/// `usleep`).
const HOSTSYNC_QUERY_MS: u64 = 250;
/// Minimum seconds between two NOPARENT notifications.
const NOPARENT_INTERVAL: u64 = 120;
/// Seconds between keep-alive queries while lingering after SHUTDOWNCMD.
const LINGER_KEEPALIVE: u64 = 1;

/// Stable handle of one MONITOR entry. Handles are never reused, also across reloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonitorId(u32);

impl fmt::Display for MonitorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A notification for NOTIFYCMD/syslog/wall; see [`crate::notify`] for turning it into text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// The event.
    pub kind: NotifyType,
    /// The UPS as written in MONITOR (`%s` in the message, `UPSNAME` for NOTIFYCMD); `None`
    /// for events not tied to a UPS (SHUTDOWN, NOPARENT, SHUTDOWN_HOSTSYNC).
    pub ups: Option<String>,
    /// The second `%s`: the `ups.alarm` text for ALARM, the unclassified words for OTHER.
    pub detail: Option<String>,
}

impl Notification {
    /// An event about one UPS.
    pub fn for_ups(kind: NotifyType, ups: &str) -> Self {
        Self {
            kind,
            ups: Some(ups.to_owned()),
            detail: None,
        }
    }

    /// An event about the whole system.
    pub fn global(kind: NotifyType) -> Self {
        Self {
            kind,
            ups: None,
            detail: None,
        }
    }
}

impl fmt::Display for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.name())?;
        if let Some(ups) = &self.ups {
            write!(f, " {ups}")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, " [{detail}]")?;
        }
        Ok(())
    }
}

/// Work the monitor asks the shell to do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum Action {
    /// Poll the UPS: (re)connect and log in if needed (USERNAME, PASSWORD, LOGIN, and PRIMARY
    /// for a primary entry), then `GET VAR <ups> ups.status`, plus `ups.alarm` when the status
    /// has ALARM and the buzzword variables. Answer with [`Monitor::handle_poll`].
    Poll(MonitorId),
    /// Notify: syslog / wall / NOTIFYCMD as NOTIFYFLAG says.
    Notify(Notification),
    /// Send `FSD <ups>`; answer [`PollResult::FsdSet`] on an `OK` reply, else
    /// [`PollResult::FsdFailed`].
    SetFsd(MonitorId),
    /// Send `GET NUMLOGINS <ups>`; answer [`PollResult::NumLogins`], or
    /// [`PollResult::CommFailure`] if no number came back.
    QueryNumLogins(MonitorId),
    /// The shutdown is decided: log `Executing automatic power-fail shutdown` at CRIT and
    /// wall it (NUT does this whatever NOTIFYFLAG says). The SHUTDOWN notification follows.
    AnnounceShutdown,
    /// Write POWERDOWNFLAG (if configured) and run SHUTDOWNCMD, as root. Emitted at most once.
    Shutdown,
    /// Exit the monitoring process (log `Exiting upsmon program after initiating shutdown`).
    Exit,
    /// Close the upsd session for this entry: it was removed by a reload, or its role or
    /// credentials changed and it must log in again. A later [`Action::Poll`] reconnects.
    Disconnect(MonitorId),
}

/// The outcome of an [`Action`] that talks to upsd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PollResult {
    /// `ups.status` was read.
    Status {
        /// The status words.
        status: Status,
        /// `ups.alarm`, when the status has ALARM and the variable could be read.
        alarm: Option<String>,
        /// `ups.mode.buzzwords` or `experimental.ups.mode.buzzwords`, if either exists.
        buzzwords: Option<String>,
    },
    /// Connecting or the query failed (also: empty reply, unknown UPS, data stale).
    CommFailure,
    /// Connected, but USERNAME/PASSWORD/LOGIN was refused. NUT leaves the UPS's state
    /// untouched in that case (no COMMBAD); it only completes the poll round.
    NoLogin,
    /// `NUMLOGINS <ups> <n>`.
    NumLogins(u32),
    /// `FSD <ups>` was answered `OK`.
    FsdSet,
    /// `FSD <ups>` failed.
    FsdFailed,
}

impl PollResult {
    /// A status reply without `ups.alarm` or buzzwords, parsed from the wire value.
    pub fn status(value: &str) -> Self {
        Self::Status {
            status: Status::parse(value),
            alarm: None,
            buzzwords: None,
        }
    }
}

/// Why the forced shutdown started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownReason {
    /// The power value of the UPSes that are not critical fell below MINSUPPLIES.
    TooFewSupplies {
        /// Summed power value of the healthy UPSes.
        healthy: u64,
        /// MINSUPPLIES.
        required: u32,
    },
    /// `upsmon -c fsd` (SIGUSR1).
    UserRequested,
}

#[derive(Debug)]
enum Phase {
    /// Normal operation: poll rounds.
    Monitoring {
        /// When the next round starts; `None` while one is under way.
        next_round: Option<Time>,
        /// Polls of the current round not answered yet.
        pending: BTreeSet<MonitorId>,
        /// While a round is under way: when its unanswered polls count as failed.
        round_deadline: Option<Time>,
        /// When the current (or last) round started.
        round_started: Time,
    },
    /// Forced shutdown, step 1: FSD replies outstanding, until `until` at the latest.
    SettingFsd {
        pending: BTreeSet<MonitorId>,
        until: Time,
    },
    /// Forced shutdown, step 2: waiting for secondaries to log out.
    HostSync {
        started: Time,
        pending: BTreeSet<MonitorId>,
        max_logins: u32,
        next_query: Option<Time>,
        announced: bool,
    },
    /// Forced shutdown, step 3: FINALDELAY.
    FinalDelay { until: Time },
    /// After SHUTDOWNCMD, keeping the upsd sessions alive (SHUTDOWNEXIT no / N).
    Lingering {
        until: Option<Time>,
        next_keepalive: Time,
    },
    /// Nothing more will happen.
    Exited,
}

/// upsmon's decision logic. See the [module documentation](self).
#[derive(Debug)]
pub struct Monitor {
    config: MonitorConfig,
    upses: BTreeMap<MonitorId, Ups>,
    next_id: u32,
    phase: Phase,
    actions: VecDeque<Action>,
    reason: Option<ShutdownReason>,
    last_noparent: Option<Time>,
    /// UPSes whose poll went unanswered past a round's deadline and whose server has not
    /// answered since: later rounds do not wait for them (each counts as a failed poll) until
    /// a status comes back.
    overdue: BTreeSet<MonitorId>,
}

impl Monitor {
    /// A monitor for these MONITOR entries; the first poll round is queued at once.
    ///
    /// Repeated systems are ignored (NUT keeps the first); a power sum below MINSUPPLIES is an
    /// error, as NUT's `insufficient power configured` is fatal.
    pub fn new(
        config: MonitorConfig,
        entries: Vec<MonitorEntry>,
        now: Time,
    ) -> Result<Self, ConfigError> {
        let entries = validate(&config, entries)?;
        let mut monitor = Self {
            config,
            upses: BTreeMap::new(),
            next_id: 0,
            phase: Phase::Monitoring {
                next_round: Some(now),
                pending: BTreeSet::new(),
                round_deadline: None,
                round_started: now,
            },
            actions: VecDeque::new(),
            reason: None,
            last_noparent: None,
            overdue: BTreeSet::new(),
        };
        for entry in entries {
            monitor.add(entry);
        }
        monitor.start_round(now);
        Ok(monitor)
    }

    fn add(&mut self, entry: MonitorEntry) -> MonitorId {
        let id = MonitorId(self.next_id);
        self.next_id += 1;
        self.upses.insert(id, Ups::new(entry));
        id
    }

    // ---- getters ----

    /// The settings in force.
    pub fn config(&self) -> &MonitorConfig {
        &self.config
    }

    /// The MONITOR entry behind a handle.
    pub fn entry(&self, id: MonitorId) -> Option<&MonitorEntry> {
        self.upses.get(&id).map(|u| &u.entry)
    }

    /// All handles, in MONITOR order.
    pub fn monitor_ids(&self) -> impl Iterator<Item = MonitorId> + '_ {
        self.upses.keys().copied()
    }

    /// The handle of a system name (`ups@host:port` as written in MONITOR).
    pub fn id_of(&self, system: &str) -> Option<MonitorId> {
        self.upses
            .iter()
            .find(|(_, u)| u.entry.system == system)
            .map(|(id, _)| *id)
    }

    /// Whether the forced shutdown has started.
    pub fn is_shutting_down(&self) -> bool {
        !matches!(self.phase, Phase::Monitoring { .. })
    }

    /// Whether the forced shutdown has started and [`Action::Shutdown`] has not been emitted
    /// yet. NUT's `forceshutdown` never returns and ignores exit signals, so a decided
    /// shutdown is carried out: a shell must not stop in this window (FSD is already latched
    /// upstream and the secondaries are going down).
    pub fn must_finish_shutdown(&self) -> bool {
        matches!(
            self.phase,
            Phase::SettingFsd { .. } | Phase::HostSync { .. } | Phase::FinalDelay { .. }
        )
    }

    /// Whether the monitor has stopped making progress: it has no deadline although it has
    /// not exited, or its deadline ([`Monitor::poll_timeout`]) passed more than `grace` ago
    /// without [`Monitor::handle_timeout`] being called. Every step of the monitor has a
    /// deadline (poll rounds end after POLLFREQ at the latest, the shutdown steps are bounded
    /// too), so a shell that drives it properly never sees this; a shell uses it to feed a
    /// watchdog only while the decisions are really being made.
    pub fn is_stalled(&self, now: Time, grace: std::time::Duration) -> bool {
        if matches!(self.phase, Phase::Exited) {
            return false;
        }
        let grace = Time::from_duration(grace).as_millis();
        self.poll_timeout()
            .is_none_or(|due| now > due.plus_millis(grace))
    }

    /// Why the forced shutdown started, if it did.
    pub fn shutdown_reason(&self) -> Option<ShutdownReason> {
        self.reason
    }

    /// Seconds between the end of one poll round and the start of the next, as things stand.
    pub fn poll_interval(&self) -> u64 {
        let alerting = self.upses.values().any(Ups::is_alerting);
        let mut secs = if alerting {
            self.config.poll_freq_alert
        } else {
            self.config.poll_freq
        };
        // While an OB+LB condition waits out OBLBDURATION, poll often enough to act on time.
        if self.config.oblb_duration > 0 && self.upses.values().any(Ups::oblb_pending) {
            secs = gcd(self.config.poll_freq_alert, self.config.oblb_duration);
        }
        secs.max(1)
    }

    // ---- output polls ----

    /// The next piece of work, in the order it must be done.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Monitor::handle_timeout`] must be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Time> {
        match &self.phase {
            Phase::Monitoring {
                next_round,
                round_deadline,
                ..
            } => next_round.or(*round_deadline),
            Phase::SettingFsd { until, .. } => Some(*until),
            Phase::Exited => None,
            Phase::HostSync {
                next_query,
                started,
                ..
            } => Some(next_query.unwrap_or_else(|| self.host_sync_deadline(*started))),
            Phase::FinalDelay { until } => Some(*until),
            Phase::Lingering {
                until,
                next_keepalive,
            } => Some(until.map_or(*next_keepalive, |u| u.min(*next_keepalive))),
        }
    }

    // ---- input handlers ----

    /// The deadline from [`Monitor::poll_timeout`] has passed.
    pub fn handle_timeout(&mut self, now: Time) {
        let host_sync_end = match &self.phase {
            Phase::HostSync { started, .. } => Some(self.host_sync_deadline(*started)),
            _ => None,
        };
        match &mut self.phase {
            Phase::Monitoring {
                next_round,
                round_deadline,
                pending,
                round_started,
            } => {
                if next_round.is_some_and(|t| t <= now) {
                    self.start_round(now);
                } else if round_deadline.is_some_and(|t| t <= now) {
                    // A server that accepted the connection but does not answer must not hold
                    // the decisions for every other UPS: its poll counts as failed.
                    let started = *round_started;
                    let late = std::mem::take(pending);
                    self.overdue.extend(late.iter().copied());
                    for id in late {
                        if let Some(u) = self.upses.get(&id) {
                            tracing::warn!(ups = %u.entry.system, "poll not answered within POLLFREQ, counted as failed");
                        }
                        self.apply_poll(now, id, PollResult::CommFailure);
                    }
                    self.end_round(now);
                    // The next round is due the poll interval after this one *started*: the
                    // wait for the late poll must not also stretch the polling of the others.
                    let interval = self.poll_interval();
                    if let Phase::Monitoring {
                        next_round: Some(next),
                        ..
                    } = &mut self.phase
                    {
                        *next = now.max(started.plus_secs(interval));
                    }
                }
            }
            Phase::SettingFsd { until, pending } => {
                if *until <= now {
                    for id in std::mem::take(pending) {
                        if let Some(u) = self.upses.get(&id) {
                            tracing::error!(ups = %u.entry.system, "FSD set on UPS not answered in time, going on");
                        }
                    }
                    self.start_host_sync(now);
                }
            }
            Phase::HostSync {
                next_query,
                pending,
                ..
            } => {
                let expired = next_query.is_none()
                    && !pending.is_empty()
                    && host_sync_end.is_some_and(|end| end <= now);
                if next_query.is_some_and(|t| t <= now) {
                    self.query_logins(now);
                } else if expired {
                    tracing::info!(
                        "host sync timer expired with queries unanswered, forcing shutdown"
                    );
                    self.do_shutdown(now);
                }
            }
            Phase::FinalDelay { until } => {
                if *until <= now {
                    self.finish_shutdown(now);
                }
            }
            Phase::Lingering {
                until,
                next_keepalive,
            } => {
                if until.is_some_and(|t| t <= now) {
                    self.actions.push_back(Action::Exit);
                    self.phase = Phase::Exited;
                } else if *next_keepalive <= now {
                    *next_keepalive = now.plus_secs(LINGER_KEEPALIVE);
                    let ids: Vec<MonitorId> = self.upses.keys().copied().collect();
                    self.actions
                        .extend(ids.into_iter().map(Action::QueryNumLogins));
                }
            }
            Phase::Exited => {}
        }
    }

    /// The outcome of a [`Action::Poll`], [`Action::SetFsd`] or [`Action::QueryNumLogins`]
    /// for `ups`. Results that do not fit the current step (late replies, unknown handles) are
    /// ignored.
    pub fn handle_poll(&mut self, now: Time, ups: MonitorId, result: PollResult) {
        match &mut self.phase {
            Phase::Monitoring { pending, .. } => {
                let was_pending = pending.remove(&ups);
                let round_done = was_pending && pending.is_empty();
                // Only a server that answers is waited for again; a late failure (the hung
                // request finally timing out) leaves it overdue.
                if matches!(result, PollResult::Status { .. } | PollResult::NoLogin) {
                    self.overdue.remove(&ups);
                }
                self.apply_poll(now, ups, result);
                if round_done {
                    self.end_round(now);
                }
            }
            Phase::SettingFsd { pending, .. } => {
                if !matches!(result, PollResult::FsdSet | PollResult::FsdFailed)
                    || !pending.remove(&ups)
                {
                    return;
                }
                let done = pending.is_empty();
                let system = self.upses.get(&ups).map(|u| u.entry.system.clone());
                match result {
                    PollResult::FsdSet => {
                        if let Some(u) = self.upses.get_mut(&ups)
                            && !u.fsd_notified
                        {
                            u.fsd_notified = true;
                            self.actions.push_back(Action::Notify(Notification::for_ups(
                                NotifyType::Fsd,
                                &u.entry.system,
                            )));
                        }
                    }
                    _ => tracing::error!(ups = ?system, "FSD set on UPS failed"),
                }
                if done {
                    self.start_host_sync(now);
                }
            }
            Phase::HostSync {
                pending,
                max_logins,
                ..
            } => {
                // Only a NUMLOGINS answer (or its failure) counts: a late FSD reply of a step
                // that timed out must not pass for it.
                if !matches!(result, PollResult::NumLogins(_) | PollResult::CommFailure)
                    || !pending.remove(&ups)
                {
                    return;
                }
                if let PollResult::NumLogins(n) = result {
                    *max_logins = (*max_logins).max(n);
                }
                if pending.is_empty() {
                    self.host_sync_round_done(now);
                }
            }
            Phase::FinalDelay { .. } | Phase::Lingering { .. } | Phase::Exited => {}
        }
    }

    /// The root parent process is gone, so SHUTDOWNCMD can no longer run: notify NOPARENT, at
    /// most every two minutes.
    pub fn handle_parent_gone(&mut self, now: Time) {
        if secs_since(now, self.last_noparent) < NOPARENT_INTERVAL {
            return;
        }
        self.last_noparent = Some(now);
        tracing::error!("parent died - shutdown impossible");
        self.actions
            .push_back(Action::Notify(Notification::global(NotifyType::NoParent)));
    }

    // ---- commands ----

    /// `upsmon -c fsd`: start the forced shutdown now, whatever the UPSes say.
    pub fn request_fsd(&mut self, now: Time) {
        tracing::info!("user requested FSD, initiating forced shutdown");
        self.force_shutdown(now, ShutdownReason::UserRequested);
    }

    /// Replace the settings and MONITOR entries (SIGHUP). Entries are matched by system name:
    /// kept ones keep their state, new ones join the next round, removed ones get
    /// [`Action::Disconnect`]. A kept entry whose role or credentials changed also gets
    /// [`Action::Disconnect`] so that it logs in again. On error nothing changes.
    ///
    /// Once a shutdown is decided ([`Monitor::must_finish_shutdown`]) a reload is refused
    /// with [`ConfigError::ShutdownInProgress`]: new HOSTSYNC/FINALDELAY values or removed
    /// entries must not change a shutdown that other machines already act on.
    pub fn reload(
        &mut self,
        config: MonitorConfig,
        entries: Vec<MonitorEntry>,
    ) -> Result<(), ConfigError> {
        if self.must_finish_shutdown() {
            return Err(ConfigError::ShutdownInProgress);
        }
        let entries = validate(&config, entries)?;
        self.config = config;
        let removed: Vec<MonitorId> = self
            .upses
            .iter()
            .filter(|(_, u)| !entries.iter().any(|e| e.system == u.entry.system))
            .map(|(id, _)| *id)
            .collect();
        for id in removed {
            if let Some(u) = self.upses.remove(&id) {
                tracing::info!(ups = %u.entry.system, "no longer monitoring UPS");
            }
            // A poll of the removed entry that is still outstanding stays in the round: its
            // session answers it before closing (or the round deadline counts it as failed),
            // and that answer ends the round as usual. Dropping it here could leave a round
            // that nothing ever ends, and with it no further polls and no shutdown.
            self.actions.push_back(Action::Disconnect(id));
        }
        for entry in entries {
            match self.id_of(&entry.system) {
                Some(id) => {
                    let Some(u) = self.upses.get_mut(&id) else {
                        continue;
                    };
                    let relogin = u.entry.role != entry.role
                        || u.entry.username != entry.username
                        || u.entry.password != entry.password;
                    u.entry = entry;
                    if relogin {
                        self.actions.push_back(Action::Disconnect(id));
                    }
                }
                None => {
                    self.add(entry);
                }
            }
        }
        Ok(())
    }

    // ---- internals ----

    fn start_round(&mut self, now: Time) {
        let all: BTreeSet<MonitorId> = self.upses.keys().copied().collect();
        self.actions.extend(all.iter().copied().map(Action::Poll));
        // A UPS still owing the answer to a poll that timed out is asked again (the shell may
        // just keep waiting for the old answer) but not waited for: this round counts it as
        // failed, and its answer counts whenever it comes.
        self.overdue.retain(|id| all.contains(id));
        let overdue: Vec<MonitorId> = self.overdue.iter().copied().collect();
        for id in overdue {
            self.apply_poll(now, id, PollResult::CommFailure);
        }
        let ids: BTreeSet<MonitorId> = all.difference(&self.overdue).copied().collect();
        let empty = ids.is_empty();
        self.phase = Phase::Monitoring {
            next_round: None,
            pending: ids,
            round_deadline: Some(now.plus_secs(self.config.poll_freq.max(1))),
            round_started: now,
        };
        if empty {
            self.end_round(now);
        }
    }

    fn apply_poll(&mut self, now: Time, id: MonitorId, result: PollResult) {
        let Some(ups) = self.upses.get_mut(&id) else {
            return;
        };
        let mut out = Vec::new();
        match &result {
            PollResult::Status {
                status,
                alarm,
                buzzwords,
            } => ups.apply_status(
                now,
                StatusInput {
                    status,
                    alarm: alarm.as_deref(),
                    buzzwords: buzzwords.as_deref(),
                },
                &self.config,
                &mut out,
            ),
            PollResult::CommFailure => ups.gone(now, &self.config, &mut out),
            PollResult::NoLogin
            | PollResult::NumLogins(_)
            | PollResult::FsdSet
            | PollResult::FsdFailed => {}
        }
        self.actions.extend(out.into_iter().map(Action::Notify));
    }

    /// NUT's `recalc`.
    fn end_round(&mut self, now: Time) {
        let mut healthy: u64 = 0;
        for ups in self.upses.values_mut() {
            ups.promote_if_dead(now, &self.config);
            // A UPS never heard from counts as healthy.
            if !ups.is_critical(now, &self.config) {
                healthy += u64::from(ups.entry.power_value);
            }
        }
        let required = self.config.min_supplies;
        if healthy < u64::from(required) {
            tracing::warn!(
                healthy,
                required,
                "too few UPS(es) are healthy, initiating forced shutdown"
            );
            self.force_shutdown(now, ShutdownReason::TooFewSupplies { healthy, required });
            return;
        }
        let next = now.plus_secs(self.poll_interval());
        if let Phase::Monitoring {
            next_round,
            round_deadline,
            ..
        } = &mut self.phase
        {
            *next_round = Some(next);
            *round_deadline = None;
        }
    }

    fn primaries(&self) -> Vec<MonitorId> {
        self.upses
            .iter()
            .filter(|(_, u)| u.entry.is_primary())
            .map(|(id, _)| *id)
            .collect()
    }

    /// NUT's `forceshutdown`; a second call is a no-op.
    fn force_shutdown(&mut self, now: Time, reason: ShutdownReason) {
        if self.is_shutting_down() {
            return;
        }
        self.reason = Some(reason);
        let primaries = self.primaries();
        if primaries.is_empty() {
            self.do_shutdown(now);
            return;
        }
        self.actions
            .extend(primaries.iter().copied().map(Action::SetFsd));
        self.phase = Phase::SettingFsd {
            pending: primaries.into_iter().collect(),
            until: now.plus_secs(self.config.host_sync.max(1)),
        };
    }

    /// When the wait for secondaries ends even if NUMLOGINS queries go unanswered.
    fn host_sync_deadline(&self, started: Time) -> Time {
        started.plus_secs(self.config.host_sync.saturating_add(1))
    }

    fn start_host_sync(&mut self, now: Time) {
        self.phase = Phase::HostSync {
            started: now,
            pending: BTreeSet::new(),
            max_logins: 0,
            next_query: None,
            announced: false,
        };
        self.query_logins(now);
    }

    fn query_logins(&mut self, now: Time) {
        let primaries = self.primaries();
        self.actions
            .extend(primaries.iter().copied().map(Action::QueryNumLogins));
        if let Phase::HostSync {
            pending,
            max_logins,
            next_query,
            ..
        } = &mut self.phase
        {
            *pending = primaries.into_iter().collect();
            *max_logins = 0;
            *next_query = None;
            if pending.is_empty() {
                self.host_sync_round_done(now);
            }
        }
    }

    fn host_sync_round_done(&mut self, now: Time) {
        let Phase::HostSync {
            started,
            max_logins,
            next_query,
            announced,
            ..
        } = &mut self.phase
        else {
            return;
        };
        // One login is our own.
        if *max_logins <= 1 {
            self.do_shutdown(now);
            return;
        }
        if !*announced {
            *announced = true;
            self.actions.push_back(Action::Notify(Notification::global(
                NotifyType::ShutdownHostsync,
            )));
        }
        if now.whole_secs_since(*started) > self.config.host_sync {
            tracing::info!("host sync timer expired, forcing shutdown");
            self.do_shutdown(now);
            return;
        }
        *next_query = Some(now.plus_millis(HOSTSYNC_QUERY_MS));
    }

    /// NUT's `doshutdown`, up to the FINALDELAY sleep.
    fn do_shutdown(&mut self, now: Time) {
        tracing::error!("executing automatic power-fail shutdown");
        self.actions.push_back(Action::AnnounceShutdown);
        self.actions
            .push_back(Action::Notify(Notification::global(NotifyType::Shutdown)));
        self.phase = Phase::FinalDelay {
            until: now.plus_secs(self.config.final_delay),
        };
        if self.config.final_delay == 0 {
            self.finish_shutdown(now);
        }
    }

    fn finish_shutdown(&mut self, now: Time) {
        self.actions.push_back(Action::Shutdown);
        self.phase = match self.config.shutdown_exit {
            crate::config::ShutdownExit::Exit => {
                self.actions.push_back(Action::Exit);
                Phase::Exited
            }
            crate::config::ShutdownExit::After(secs) => Phase::Lingering {
                until: Some(now.plus_secs(secs)),
                next_keepalive: now.plus_secs(LINGER_KEEPALIVE),
            },
            crate::config::ShutdownExit::Never => Phase::Lingering {
                until: None,
                next_keepalive: now.plus_secs(LINGER_KEEPALIVE),
            },
        };
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}
