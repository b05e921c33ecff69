//! upsmon's decision machine (`nut_upsmon::Monitor`) in a simulated world: arbitrary
//! configurations, status sequences from a fake upsd (statuses, dead drivers, unreachable
//! servers, other hosts' logins), `-c fsd`, reloads (changed settings, MONITOR lines added,
//! removed or changed), replies that arrive late or in any order, and time steps. Checked
//! against the shutdown rule of crates/upsmon's property tests (the same oracle,
//! `nut_upsmon::invariants::could_be_critical`):
//!
//! * SHUTDOWNCMD is requested at most once;
//! * the shutdown starts only on `-c fsd`, or when the UPSes that could be critical given
//!   what upsd reported leave less than MINSUPPLIES of healthy power;
//! * once started it completes within max(HOSTSYNC, 1) s for the FSD replies, HOSTSYNC + 1 s
//!   for the secondaries and FINALDELAY, no status poll follows, and a reload or a late reply
//!   cannot stop it or change its timing;
//! * the machine never stalls: with no request outstanding it always has a next deadline,
//!   until it exits.
#![no_main]

use std::collections::{BTreeMap, VecDeque};

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use nut_upsmon::invariants::could_be_critical;
use nut_upsmon::{
    Action, Monitor, MonitorConfig, MonitorEntry, MonitorId, PollResult, Role, ShutdownReason, Time,
};

const WORDS: &[&str] = &[
    "OL", "OB", "LB", "RB", "CAL", "OFF", "BYPASS", "ALARM", "OVER", "TRIM", "BOOST", "FSD",
    "CHRG", "WAIT", "ECO",
];
/// Systems the fake upsd knows; MONITOR lines pick from these.
const SYSTEMS: usize = 4;

#[derive(Arbitrary, Debug, Clone)]
struct Config {
    min_supplies: u8,
    poll_freq: u8,
    poll_freq_alert: u8,
    host_sync: u8,
    dead_time: u8,
    final_delay: u8,
    off_duration: Option<u8>,
    oblb_duration: u8,
    over_duration: Option<u8>,
    alarm_critical: bool,
}

impl Config {
    fn build(&self) -> MonitorConfig {
        let mut c = MonitorConfig::default();
        c.min_supplies = u32::from(self.min_supplies % 4);
        c.poll_freq = u64::from(self.poll_freq % 7) + 1;
        c.poll_freq_alert = u64::from(self.poll_freq_alert % 7) + 1;
        c.host_sync = u64::from(self.host_sync % 20);
        c.dead_time = u64::from(self.dead_time % 25);
        c.final_delay = u64::from(self.final_delay % 6);
        c.off_duration = self.off_duration.map(|d| u64::from(d % 40));
        c.oblb_duration = u64::from(self.oblb_duration % 12);
        c.over_duration = self.over_duration.map(|d| u64::from(d % 30));
        c.alarm_critical = self.alarm_critical;
        c.nocomm_warn_time = 20;
        c.rb_warn_time = 30;
        c
    }
}

/// MONITOR lines: (system index, power value, primary).
#[derive(Arbitrary, Debug, Clone)]
struct Entries(Vec<(u8, u8, bool)>);

impl Entries {
    fn build(&self) -> Vec<MonitorEntry> {
        self.0
            .iter()
            .take(4)
            .map(|(sys, pv, primary)| {
                let role = if *primary {
                    Role::Primary
                } else {
                    Role::Secondary
                };
                MonitorEntry::new(system(*sys), u32::from(pv % 4), "mon", "pw", role)
            })
            .collect()
    }
}

fn system(i: u8) -> String {
    format!("ups{}@h", usize::from(i) % SYSTEMS)
}

#[derive(Arbitrary, Debug)]
enum Op {
    Status(u8, Vec<u8>),
    KillDriver(u8),
    UpsdDown(u8),
    UpsdUp(u8),
    PhantomLogins(u8, u8),
    Alarm(u8, Option<String>),
    UserFsd,
    /// Answer one outstanding request (replies may come in any order).
    Answer(u8),
    /// Handle the next deadline (within a minute) without answering what it asks.
    Tick,
    /// Answer everything and let this many seconds pass.
    Advance(u8),
    Reload(Config, Entries),
}

#[derive(Arbitrary, Debug)]
struct Input {
    config: Config,
    entries: Entries,
    ops: Vec<Op>,
}

struct FakeUps {
    upsd_up: bool,
    status: Option<String>,
    alarm: Option<String>,
    fsd: bool,
    phantom_logins: u32,
    logged_in: bool,
}

/// The shutdown as seen when it started.
struct Start {
    at: Time,
    config: MonitorConfig,
}

struct World {
    monitor: Monitor,
    config: MonitorConfig,
    now: Time,
    upses: Vec<FakeUps>,
    /// Requests the shell is working on: (what, which entry, its system).
    outstanding: VecDeque<(Action, MonitorId, String)>,
    /// Status polls answered: (when, entry, result).
    polls: Vec<(Time, MonitorId, PollResult)>,
    user_fsd: bool,
    shutdowns: usize,
    exited: bool,
    start: Option<Start>,
}

impl World {
    fn fake(&mut self, system: &str) -> &mut FakeUps {
        let i: usize = system[3..4].parse().expect("our own system names");
        &mut self.upses[i]
    }

    /// Take the monitor's actions: requests to upsd become outstanding.
    fn collect(&mut self) {
        while let Some(action) = self.monitor.poll_action() {
            match &action {
                Action::Poll(id) | Action::SetFsd(id) | Action::QueryNumLogins(id) => {
                    if let Action::Poll(_) = action {
                        assert!(
                            self.start.is_none(),
                            "status polled after the shutdown started"
                        );
                    }
                    let system = self.monitor.entry(*id).map(|e| e.system.clone());
                    let system = system.expect("requests name monitored UPSes");
                    self.outstanding.push_back((action.clone(), *id, system));
                    if let Action::SetFsd(_) = action {
                        self.started();
                    }
                }
                Action::AnnounceShutdown => self.started(),
                Action::Shutdown => {
                    self.shutdowns += 1;
                    assert_eq!(self.shutdowns, 1, "SHUTDOWNCMD twice");
                    let start = self.start.as_ref().expect("announced before SHUTDOWNCMD");
                    // The FSD replies are waited for at most max(HOSTSYNC, 1) s, then the
                    // secondaries get their whole HOSTSYNC (NUT's `now - start > hostsync`:
                    // up to HOSTSYNC + 1 s), then FINALDELAY.
                    let hs = start.config.host_sync;
                    let limit = hs.max(1) + hs + 1 + start.config.final_delay;
                    assert!(
                        self.now.whole_secs_since(start.at) <= limit,
                        "shutdown took {}s, limit {limit}s",
                        self.now.whole_secs_since(start.at)
                    );
                }
                Action::Exit => self.exited = true,
                Action::Disconnect(id) => {
                    if let Some(e) = self.monitor.entry(*id) {
                        let system = e.system.clone();
                        self.fake(&system).logged_in = false;
                    }
                }
                Action::Notify(_) => {}
            }
        }
    }

    /// The shutdown decision: its reason must follow from the poll history.
    fn started(&mut self) {
        if self.start.is_some() {
            return;
        }
        let entries: BTreeMap<MonitorId, MonitorEntry> = self
            .monitor
            .monitor_ids()
            .filter_map(|id| self.monitor.entry(id).map(|e| (id, e.clone())))
            .collect();
        match self.monitor.shutdown_reason() {
            Some(ShutdownReason::UserRequested) => assert!(self.user_fsd),
            Some(ShutdownReason::TooFewSupplies { healthy, required }) => {
                assert_eq!(required, self.config.min_supplies);
                assert!(healthy < u64::from(required));
                let mut surely_healthy = 0u64;
                for (id, entry) in &entries {
                    let polls: Vec<&PollResult> = self
                        .polls
                        .iter()
                        .filter(|(_, pid, _)| pid == id)
                        .map(|(_, _, r)| r)
                        .collect();
                    // DEADTIME (NUT 2.8.0's recalc): a UPS last seen on battery whose last good
                    // poll is older than DEADTIME is promoted to LB, whatever the reason its
                    // newer polls have not come in yet (e.g. the round waited for another
                    // server). The oracle reads only answers, so that case is decided here.
                    let last_good = self
                        .polls
                        .iter()
                        .rev()
                        .find(|(_, pid, r)| {
                            pid == id && matches!(r, PollResult::Status { status, .. } if !status.tokens().is_empty())
                        })
                        .map(|(t, _, _)| *t);
                    let stale_on_battery = last_good.is_some_and(|t| {
                        self.now.whole_secs_since(t) > self.config.dead_time
                            && polls.iter().rev().find_map(|r| match r {
                                PollResult::Status { status, .. }
                                    if !status.tokens().is_empty() =>
                                {
                                    Some(
                                        status
                                            .tokens()
                                            .contains(&nut_core::names::StatusToken::OnBattery),
                                    )
                                }
                                _ => None,
                            }) == Some(true)
                    });
                    if stale_on_battery {
                        continue;
                    }
                    if !could_be_critical(&polls, &self.config) {
                        surely_healthy += u64::from(entry.power_value);
                    }
                }
                assert!(
                    healthy >= surely_healthy,
                    "counted {healthy} healthy, but {surely_healthy} cannot be critical"
                );
            }
            None => panic!("shutting down without a reason"),
        }
        self.start = Some(Start {
            at: self.now,
            config: self.config.clone(),
        });
    }

    fn answer(&mut self, index: usize) {
        let Some((action, id, system)) = self.outstanding.remove(index) else {
            return;
        };
        let now = self.now;
        let fake = self.fake(&system);
        let result = match action {
            Action::Poll(_) if fake.upsd_up => {
                fake.logged_in = true;
                match &fake.status {
                    Some(s) => {
                        let value = if fake.fsd {
                            format!("FSD {s}")
                        } else {
                            s.clone()
                        };
                        let mut r = PollResult::status(&value);
                        if let PollResult::Status { alarm, .. } = &mut r {
                            alarm.clone_from(&fake.alarm);
                        }
                        r
                    }
                    None => PollResult::CommFailure,
                }
            }
            Action::SetFsd(_) if fake.upsd_up => {
                fake.fsd = true;
                PollResult::FsdSet
            }
            Action::SetFsd(_) => PollResult::FsdFailed,
            Action::QueryNumLogins(_) if fake.upsd_up => {
                PollResult::NumLogins(u32::from(fake.logged_in) + fake.phantom_logins)
            }
            _ => PollResult::CommFailure,
        };
        if matches!(action, Action::Poll(_)) && self.start.is_none() {
            self.polls.push((now, id, result.clone()));
        }
        self.monitor.handle_poll(now, id, result);
        self.collect();
    }

    fn answer_all(&mut self) {
        for _ in 0..10_000 {
            if self.outstanding.is_empty() {
                return;
            }
            self.answer(0);
        }
        panic!("requests keep coming without time passing");
    }

    fn tick(&mut self, limit: Time) -> bool {
        match self.monitor.poll_timeout() {
            Some(t) if t <= limit => {
                self.now = self.now.max(t);
                // A poll still unanswered at a deadline may be counted as failed by the
                // monitor (a server that does not answer within POLLFREQ): tell the oracle,
                // which over-approximates, so a UPS whose answer never came can be critical.
                if self.start.is_none() {
                    let now = self.now;
                    let late: Vec<MonitorId> = self
                        .outstanding
                        .iter()
                        .filter(|(a, _, _)| matches!(a, Action::Poll(_)))
                        .map(|(_, id, _)| *id)
                        .collect();
                    for id in late {
                        self.polls.push((now, id, PollResult::CommFailure));
                    }
                }
                self.monitor.handle_timeout(self.now);
                self.collect();
                true
            }
            _ => false,
        }
    }

    fn advance(&mut self, secs: u64) {
        let end = self.now.plus_secs(secs);
        for _ in 0..100_000 {
            self.answer_all();
            if !self.tick(end) {
                self.now = self.now.max(end);
                // Nothing outstanding: unless it exited, the machine must have a deadline.
                assert!(
                    self.exited || self.monitor.poll_timeout().is_some(),
                    "stalled: no deadline and nothing outstanding"
                );
                return;
            }
        }
        panic!("livelock: deadlines without time passing");
    }
}

fuzz_target!(|input: Input| {
    let config = input.config.build();
    let Ok(monitor) = Monitor::new(config.clone(), input.entries.build(), Time::ZERO) else {
        return; // too little power for MINSUPPLIES: refused, as upsmon refuses to start
    };
    let mut w = World {
        monitor,
        config,
        now: Time::ZERO,
        upses: (0..SYSTEMS)
            .map(|_| FakeUps {
                upsd_up: true,
                status: Some("OL".into()),
                alarm: None,
                fsd: false,
                phantom_logins: 0,
                logged_in: false,
            })
            .collect(),
        outstanding: VecDeque::new(),
        polls: Vec::new(),
        user_fsd: false,
        shutdowns: 0,
        exited: false,
        start: None,
    };
    w.collect();
    for op in input.ops.into_iter().take(64) {
        if w.exited {
            break;
        }
        match op {
            Op::Status(i, words) => {
                let status: Vec<&str> = words
                    .iter()
                    .take(4)
                    .map(|b| WORDS[usize::from(*b) % WORDS.len()])
                    .collect();
                w.upses[usize::from(i) % SYSTEMS].status = Some(status.join(" "));
            }
            Op::KillDriver(i) => w.upses[usize::from(i) % SYSTEMS].status = None,
            Op::UpsdDown(i) => w.upses[usize::from(i) % SYSTEMS].upsd_up = false,
            Op::UpsdUp(i) => w.upses[usize::from(i) % SYSTEMS].upsd_up = true,
            Op::PhantomLogins(i, n) => {
                w.upses[usize::from(i) % SYSTEMS].phantom_logins = u32::from(n % 3);
            }
            Op::Alarm(i, text) => {
                w.upses[usize::from(i) % SYSTEMS].alarm = text.map(|t| {
                    t.chars()
                        .filter(|c| (' '..='~').contains(c))
                        .take(20)
                        .collect()
                });
            }
            Op::UserFsd => {
                w.user_fsd = true;
                let now = w.now;
                w.monitor.request_fsd(now);
                w.collect();
            }
            Op::Answer(i) => {
                if !w.outstanding.is_empty() {
                    w.answer(usize::from(i) % w.outstanding.len());
                }
            }
            Op::Tick => {
                let limit = w.now.plus_secs(60);
                w.tick(limit);
            }
            Op::Advance(secs) => w.advance(u64::from(secs % 40)),
            Op::Reload(config, entries) => {
                let config = config.build();
                if w.monitor.reload(config.clone(), entries.build()).is_ok() {
                    w.config = config;
                }
                w.collect();
            }
        }
    }
    // Let whatever started finish: the decision must be carried out.
    let settle = 2 * w.config.host_sync + w.config.final_delay + 4;
    w.advance(settle);
    if let Some(end) = w.start.as_ref().map(|s| {
        s.at.plus_secs(2 * s.config.host_sync + s.config.final_delay + 4)
    }) {
        if w.now < end {
            let more = end.whole_secs_since(w.now) + 1;
            w.advance(more);
        }
        assert_eq!(w.shutdowns, 1, "shutdown started but never completed");
    } else {
        assert!(!w.monitor.is_shutting_down());
        assert_eq!(w.shutdowns, 0);
    }
});
