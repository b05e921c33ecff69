//! `World`: one or more simulated upsmon hosts talking to a fake upsd, in virtual time.
//!
//! The fake upsd behaves like NUT's where the monitor can tell: a status poll returns the
//! driver's status (with the `FSD ` prefix once FSD is latched), FSD latches until the test
//! clears it, and NUMLOGINS counts every host that polled the UPS and has not exited yet
//! (plus phantom logins standing for hosts outside the simulation). Replies are immediate.
//!
//! Every action a host emits is logged with its virtual time; [`Host::events`] renders the log
//! as short lines (`"15 ONBATT ups"`, `"20.250 SHUTDOWNCMD"`) for exact assertions. Status
//! polls and NUMLOGINS queries are left out of that view; [`Host::times_of`] looks at them.

use std::collections::{BTreeMap, BTreeSet};

use crate::clock::Time;
use crate::config::{MonitorConfig, MonitorEntry, Role};
use crate::monitor::{Action, Monitor, MonitorId, PollResult};

/// Safety net: a livelock fails the test instead of hanging it.
const MAX_STEPS: usize = 1_000_000;

#[derive(Debug)]
pub struct FakeUps {
    /// upsd answers at all (else every request to it fails).
    pub upsd_up: bool,
    /// The driver's `ups.status`; `None` = driver gone (polls fail with DATA-STALE).
    pub status: Option<String>,
    /// `ups.alarm`.
    pub alarm: Option<String>,
    /// The FSD latch.
    pub fsd: bool,
    /// Logins by clients that are not simulated.
    pub phantom_logins: u32,
    /// upsd refuses `FSD` (e.g. the login lacks the FSD right).
    pub refuse_fsd: bool,
    /// Hosts (by index) logged in.
    logins: BTreeSet<usize>,
}

#[derive(Debug)]
pub struct Host {
    pub monitor: Monitor,
    pub exited: bool,
    pub log: Vec<(Time, Action)>,
    /// Every status poll answered, with what it was answered.
    pub polls: Vec<(Time, MonitorId, PollResult)>,
    names: BTreeMap<MonitorId, String>,
}

impl Host {
    fn render(&self, action: &Action) -> Option<String> {
        let name = |id: &MonitorId| self.names.get(id).cloned().unwrap_or(id.to_string());
        Some(match action {
            Action::Poll(_) | Action::QueryNumLogins(_) => return None,
            Action::Notify(n) => n.to_string(),
            Action::SetFsd(id) => format!("SETFSD {}", name(id)),
            Action::AnnounceShutdown => "ANNOUNCE".into(),
            Action::Shutdown => "SHUTDOWNCMD".into(),
            Action::Exit => "EXIT".into(),
            Action::Disconnect(id) => format!("DISCONNECT {}", name(id)),
        })
    }

    /// The log without polls and NUMLOGINS queries, one line per action.
    pub fn events(&self) -> Vec<String> {
        self.log
            .iter()
            .filter_map(|(t, a)| self.render(a).map(|s| format!("{} {s}", fmt_time(*t))))
            .collect()
    }

    /// Times at which actions matching `pred` were emitted.
    pub fn times_of(&self, pred: impl Fn(&Action) -> bool) -> Vec<String> {
        self.log
            .iter()
            .filter(|(_, a)| pred(a))
            .map(|(t, _)| fmt_time(*t))
            .collect()
    }

    /// How many times `SHUTDOWNCMD` was requested.
    pub fn shutdowns(&self) -> usize {
        self.log
            .iter()
            .filter(|(_, a)| *a == Action::Shutdown)
            .count()
    }
}

/// `15` for whole seconds, `15.250` otherwise.
pub fn fmt_time(t: Time) -> String {
    let ms = t.as_millis();
    if ms.is_multiple_of(1000) {
        (ms / 1000).to_string()
    } else {
        format!("{}.{:03}", ms / 1000, ms % 1000)
    }
}

#[derive(Debug)]
pub struct World {
    pub now: Time,
    pub upses: BTreeMap<String, FakeUps>,
    pub hosts: Vec<Host>,
}

impl World {
    pub fn new() -> Self {
        Self {
            now: Time::ZERO,
            upses: BTreeMap::new(),
            hosts: Vec::new(),
        }
    }

    /// A UPS known to the fake upsd, with this initial status.
    pub fn ups(mut self, system: &str, status: &str) -> Self {
        self.upses.insert(
            system.to_owned(),
            FakeUps {
                upsd_up: true,
                status: Some(status.to_owned()),
                alarm: None,
                fsd: false,
                phantom_logins: 0,
                refuse_fsd: false,
                logins: BTreeSet::new(),
            },
        );
        self
    }

    /// A host starting now; `_name` only documents the test. Returns its index.
    pub fn add_host(
        &mut self,
        _name: &str,
        config: MonitorConfig,
        entries: Vec<MonitorEntry>,
    ) -> usize {
        let monitor = Monitor::new(config, entries, self.now).expect("valid configuration");
        self.hosts.push(Host {
            monitor,
            exited: false,
            log: Vec::new(),
            polls: Vec::new(),
            names: BTreeMap::new(),
        });
        self.hosts.len() - 1
    }

    pub fn fake(&mut self, system: &str) -> &mut FakeUps {
        self.upses
            .get_mut(system)
            .expect("UPS known to the fake upsd")
    }

    /// Set what the driver reports.
    pub fn set_status(&mut self, system: &str, status: &str) {
        self.fake(system).status = Some(status.to_owned());
    }

    /// Kill the driver: upsd stays up, polls fail.
    pub fn kill_driver(&mut self, system: &str) {
        self.fake(system).status = None;
    }

    /// Run the world up to and including `secs` seconds.
    pub fn run_until_secs(&mut self, secs: u64) {
        self.run_until(Time::from_secs(secs));
    }

    pub fn run_until(&mut self, end: Time) {
        for _ in 0..MAX_STEPS {
            self.drain();
            // A monitor that has not exited always has a deadline: without one nothing would
            // ever poll or decide again (docs/issues.md: issue 12 item 1).
            for (i, host) in self.hosts.iter().enumerate().filter(|(_, h)| !h.exited) {
                assert!(
                    host.monitor.poll_timeout().is_some(),
                    "host {i} has no deadline at {:?}: {:?}",
                    self.now,
                    host.monitor
                );
            }
            let next = self
                .hosts
                .iter()
                .filter(|h| !h.exited)
                .filter_map(|h| h.monitor.poll_timeout())
                .min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    let now = self.now;
                    for host in self.hosts.iter_mut().filter(|h| !h.exited) {
                        if host.monitor.poll_timeout().is_some_and(|t| t <= now) {
                            host.monitor.handle_timeout(now);
                        }
                    }
                }
                _ => {
                    self.now = self.now.max(end);
                    return;
                }
            }
        }
        panic!("simulation did not settle (livelock?)");
    }

    /// Hand every queued action to the fake world until all hosts are idle.
    pub fn drain(&mut self) {
        for index in 0..self.hosts.len() {
            for _ in 0..MAX_STEPS {
                let Some(action) = self.hosts[index].monitor.poll_action() else {
                    break;
                };
                self.perform(index, action);
            }
        }
    }

    fn perform(&mut self, index: usize, action: Action) {
        let now = self.now;
        let host = &mut self.hosts[index];
        let ids: Vec<MonitorId> = host.monitor.monitor_ids().collect();
        for id in ids {
            if let Some(e) = host.monitor.entry(id) {
                host.names.insert(id, e.system.clone());
            }
        }
        host.log.push((now, action.clone()));
        let system = |id: &MonitorId| host.names.get(id).cloned().unwrap_or_default();
        let reply = match &action {
            Action::Poll(id) => {
                let sys = system(id);
                let fake = self.upses.get_mut(&sys);
                Some((
                    *id,
                    match fake {
                        Some(f) if f.upsd_up => {
                            f.logins.insert(index);
                            match &f.status {
                                Some(s) => {
                                    let value = if f.fsd { format!("FSD {s}") } else { s.clone() };
                                    let mut r = PollResult::status(&value);
                                    if let PollResult::Status { alarm, .. } = &mut r {
                                        alarm.clone_from(&f.alarm);
                                    }
                                    r
                                }
                                None => PollResult::CommFailure,
                            }
                        }
                        _ => PollResult::CommFailure,
                    },
                ))
            }
            Action::SetFsd(id) => {
                let sys = system(id);
                Some((
                    *id,
                    match self.upses.get_mut(&sys) {
                        Some(f) if f.upsd_up && !f.refuse_fsd => {
                            f.fsd = true;
                            PollResult::FsdSet
                        }
                        _ => PollResult::FsdFailed,
                    },
                ))
            }
            Action::QueryNumLogins(id) => {
                let sys = system(id);
                Some((
                    *id,
                    match self.upses.get(&sys) {
                        Some(f) if f.upsd_up => {
                            PollResult::NumLogins(f.logins.len() as u32 + f.phantom_logins)
                        }
                        _ => PollResult::CommFailure,
                    },
                ))
            }
            Action::Exit => {
                host.exited = true;
                for f in self.upses.values_mut() {
                    f.logins.remove(&index);
                }
                None
            }
            Action::Disconnect(id) => {
                let sys = system(id);
                if let Some(f) = self.upses.get_mut(&sys) {
                    f.logins.remove(&index);
                }
                None
            }
            Action::Notify(_) | Action::AnnounceShutdown | Action::Shutdown => None,
        };
        if let Some((id, result)) = reply {
            if matches!(action, Action::Poll(_)) {
                self.hosts[index].polls.push((now, id, result.clone()));
            }
            self.hosts[index].monitor.handle_poll(now, id, result);
        }
    }
}

/// A MONITOR entry.
pub fn entry(system: &str, power_value: u32, role: Role) -> MonitorEntry {
    MonitorEntry::new(system, power_value, "monuser", "secret", role)
}

/// NUT's defaults with `POLLFREQ`/`POLLFREQALERT` 5, so poll rounds fall on multiples of 5 s.
pub fn config() -> MonitorConfig {
    MonitorConfig::default()
}

/// The UPS of the single-UPS tests.
pub const UPS: &str = "ups@localhost";

/// A world with one UPS in `status` and one host monitoring it.
pub fn single(role: Role, cfg: MonitorConfig, status: &str) -> World {
    let mut w = World::new().ups(UPS, status);
    w.add_host("host", cfg, vec![entry(UPS, 1, role)]);
    w
}

/// The first host's events.
pub fn events(w: &World) -> Vec<String> {
    w.hosts[0].events()
}
