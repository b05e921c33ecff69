//! upssched in virtual time: clients (one per event) sharing one daemon, as in NUT.

use nut_core::conf::{UpsschedConf, parse_upssched_conf};

use super::*;
use crate::clock::Time;

/// Stands in for the processes: starts the daemon on demand, drops it when it exits.
struct Sched {
    conf: UpsschedConf,
    daemon: Option<TimerDaemon>,
    now: Time,
    /// Every CMDSCRIPT run: time, argv after CMDSCRIPT, and `UPSNAME`.
    runs: Vec<(u64, String, String)>,
    daemon_starts: usize,
}

impl Sched {
    fn new(conf: &str) -> Self {
        let text = format!("CMDSCRIPT /usr/bin/upssched-cmd\nPIPEFN /run/p\nLOCKFN /run/l\n{conf}");
        let parsed = parse_upssched_conf(text, "upssched.conf").expect("valid upssched.conf");
        Self {
            conf: parsed.config,
            daemon: None,
            now: Time::ZERO,
            runs: Vec::new(),
            daemon_starts: 0,
        }
    }

    fn record(&mut self, cmd: RunCmd) {
        assert_eq!(cmd.argv[0], "/usr/bin/upssched-cmd");
        assert_eq!(cmd.argv.len(), 2);
        let ups = cmd
            .env
            .iter()
            .find(|(k, _)| k == "UPSNAME")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        self.runs
            .push((self.now.whole_secs(), cmd.argv[1].clone(), ups));
    }

    fn event(&mut self, secs: u64, notify_type: &str, ups: &str) {
        self.run_until(secs);
        let event = Event::new(notify_type, ups, format!("{notify_type} on {ups}"));
        for step in plan(&self.conf, &event) {
            match step {
                ClientStep::Execute(cmd) => self.record(cmd),
                ClientStep::Send(request) => {
                    if self.daemon.is_none() {
                        if !request.may_start_daemon() {
                            continue;
                        }
                        let script = self.conf.cmdscript.clone().unwrap_or_default();
                        self.daemon = Some(TimerDaemon::new(script, self.now));
                        self.daemon_starts += 1;
                    }
                    if let Some(d) = self.daemon.as_mut() {
                        assert_eq!(d.handle_request(self.now, request), Reply::Ok);
                    }
                    self.drain();
                }
            }
        }
    }

    fn drain(&mut self) {
        while let Some(action) = self.daemon.as_mut().and_then(TimerDaemon::poll_action) {
            match action {
                DaemonAction::Run(cmd) => self.record(cmd),
                DaemonAction::Exit => self.daemon = None,
            }
        }
    }

    fn run_until(&mut self, secs: u64) {
        let end = Time::from_secs(secs);
        while let Some(t) = self.daemon.as_ref().and_then(TimerDaemon::poll_timeout) {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            if let Some(d) = self.daemon.as_mut() {
                d.handle_timeout(self.now);
            }
            self.drain();
        }
        self.now = self.now.max(end);
    }

    fn runs(&self) -> Vec<String> {
        self.runs
            .iter()
            .map(|(t, arg, ups)| format!("{t} {arg} {ups}"))
            .collect()
    }
}

const ONBATT_RULES: &str = "AT ONBATT * START-TIMER onbatt 3\nAT ONLINE * CANCEL-TIMER onbatt\n";

#[test]
fn s9_online_within_the_timer_cancels_it() {
    let mut s = Sched::new(ONBATT_RULES);
    s.event(10, "ONBATT", "ups@h");
    s.event(12, "ONLINE", "ups@h");
    s.run_until(100);
    assert!(s.runs.is_empty(), "{:?}", s.runs());
    assert!(s.daemon.is_none(), "the idle daemon exited");
}

#[test]
fn s9_a_lasting_onbatt_runs_the_command_once() {
    let mut s = Sched::new(ONBATT_RULES);
    s.event(10, "ONBATT", "ups@h");
    s.run_until(20);
    assert_eq!(s.runs(), ["13 onbatt ups@h"]);
    assert!(s.daemon.is_some(), "still within EMPTY_WAIT");
    s.event(25, "ONLINE", "ups@h");
    s.run_until(100);
    assert_eq!(
        s.runs(),
        ["13 onbatt ups@h"],
        "nothing to cancel, no fallback"
    );
    assert!(s.daemon.is_none());
}

#[test]
fn daemon_exits_after_empty_wait_and_is_restarted_on_demand() {
    let mut s = Sched::new(ONBATT_RULES);
    s.event(0, "ONBATT", "ups@h");
    s.run_until(17);
    assert!(s.daemon.is_some(), "fired at 3, idle until 18");
    s.run_until(18);
    assert!(s.daemon.is_none());
    // A cancel without fallback does not start a daemon.
    s.event(20, "ONLINE", "ups@h");
    assert_eq!(s.daemon_starts, 1);
    s.event(30, "ONBATT", "ups@h");
    assert_eq!(s.daemon_starts, 2);
}

#[test]
fn rules_match_type_case_insensitively_ups_exactly_in_file_order() {
    let mut s = Sched::new(
        "AT commbad ups@h EXECUTE first\n\
         AT COMMBAD * EXECUTE second\n\
         AT COMMBAD other@h EXECUTE never\n\
         AT COMMOK * EXECUTE never\n\
         AT COMMBAD ups@h EXECUTE third\n",
    );
    s.event(1, "COMMBAD", "ups@h");
    s.event(2, "commbad", "UPS@h");
    assert_eq!(
        s.runs(),
        [
            "1 first ups@h",
            "1 second ups@h",
            "1 third ups@h",
            "2 second UPS@h"
        ]
    );
    assert!(s.daemon.is_none(), "EXECUTE needs no daemon");
    s.event(3, "NOSUCHTYPE", "ups@h");
    assert_eq!(s.runs.len(), 4);
}

#[test]
fn cancel_fallback_runs_when_no_timer_was_running() {
    let mut s = Sched::new(
        "AT ONBATT * START-TIMER onbatt 30\n\
         AT ONLINE * CANCEL-TIMER onbatt online-after-cancel-miss\n",
    );
    s.event(0, "ONBATT", "ups@h");
    s.event(5, "ONLINE", "ups@h");
    assert!(s.runs.is_empty(), "cancelled silently");
    s.event(6, "ONLINE", "ups@h");
    assert_eq!(s.runs(), ["6 online-after-cancel-miss ups@h"]);
}

#[test]
fn starting_a_running_timer_adds_an_independent_one() {
    let mut s = Sched::new(ONBATT_RULES);
    s.event(0, "ONBATT", "a@h");
    s.event(1, "ONBATT", "b@h");
    s.run_until(10);
    assert_eq!(s.runs(), ["3 onbatt a@h", "4 onbatt b@h"]);
}

#[test]
fn cancel_timer_removes_every_timer_of_that_name() {
    let mut s = Sched::new(ONBATT_RULES);
    s.event(0, "ONBATT", "a@h");
    s.event(1, "ONBATT", "b@h");
    s.event(2, "ONLINE", "a@h");
    s.run_until(10);
    assert!(
        s.runs.is_empty(),
        "2.8.0 would still fire b's timer: {:?}",
        s.runs()
    );
}

#[test]
fn shared_timer_fires_once_for_every_ups() {
    let mut s = Sched::new("AT ONBATT * START-TIMER-SHARED onbatt 5\n");
    s.event(0, "ONBATT", "a@h");
    s.event(2, "ONBATT", "b@h");
    s.event(3, "ONBATT", "a@h");
    s.run_until(20);
    assert_eq!(
        s.runs(),
        ["5 onbatt a@h,b@h"],
        "deadline of the first start"
    );
}

#[test]
fn cancel_timer_matched_cancels_only_the_same_ups() {
    let rules = "AT ONBATT * START-TIMER onbatt 5\n\
                 AT ONLINE * CANCEL-TIMER-MATCHED onbatt\n";
    let mut s = Sched::new(rules);
    s.event(0, "ONBATT", "a@h");
    s.event(1, "ONBATT", "b@h");
    s.event(2, "ONLINE", "a@h");
    s.run_until(20);
    assert_eq!(s.runs(), ["6 onbatt b@h"]);
}

#[test]
fn cancel_timer_matched_on_a_shared_timer_keeps_the_other_upses() {
    let rules = "AT ONBATT * START-TIMER-SHARED onbatt 5\n\
                 AT ONLINE * CANCEL-TIMER-MATCHED onbatt all-back\n";
    let mut s = Sched::new(rules);
    s.event(0, "ONBATT", "a@h");
    s.event(1, "ONBATT", "b@h");
    s.event(2, "ONLINE", "a@h");
    s.run_until(20);
    assert_eq!(s.runs(), ["5 onbatt b@h"], "a is back, b still on battery");

    let mut s = Sched::new(rules);
    s.event(0, "ONBATT", "a@h");
    s.event(1, "ONBATT", "b@h");
    s.event(2, "ONLINE", "a@h");
    s.event(3, "ONLINE", "b@h");
    s.event(4, "ONLINE", "c@h");
    s.run_until(20);
    assert_eq!(
        s.runs(),
        ["4 all-back c@h"],
        "both cancelled; c had nothing running"
    );
}

#[test]
fn timer_environment_is_the_starting_event() {
    let mut d = TimerDaemon::new(vec!["/cmd".into(), "--flag".into()], Time::ZERO);
    let event = Event::new("ONBATT", "ups@h", "UPS ups@h on battery");
    let _ = d.handle_request(
        Time::ZERO,
        Request::Start {
            name: "late".into(),
            seconds: 1,
            origin: Origin::of(&event),
        },
    );
    d.handle_timeout(Time::from_secs(1));
    assert_eq!(
        d.poll_action(),
        Some(DaemonAction::Run(RunCmd {
            argv: vec!["/cmd".into(), "--flag".into(), "late".into()],
            env: vec![
                ("UPSNAME".into(), "ups@h".into()),
                ("NOTIFYTYPE".into(), "ONBATT".into()),
                ("NOTIFYMSG".into(), "UPS ups@h on battery".into()),
            ],
        }))
    );
    assert_eq!(d.poll_timeout(), Some(Time::from_secs(1 + EMPTY_WAIT_SECS)));
}

#[test]
fn shared_timer_environment_lists_each_value_once() {
    let mut d = TimerDaemon::new(vec!["/usr/bin/upssched-cmd".into()], Time::ZERO);
    for (ups, message) in [("a@h", "a on battery"), ("b@h", "b on battery")] {
        let origin = Origin::of(&Event::new("ONBATT", ups, message));
        let request = Request::StartShared {
            name: "onbatt".into(),
            seconds: 5,
            origin,
        };
        assert_eq!(d.handle_request(Time::ZERO, request), Reply::Ok);
    }
    d.handle_timeout(Time::from_secs(5));
    let Some(DaemonAction::Run(cmd)) = d.poll_action() else {
        panic!("the shared timer fires");
    };
    let env = |k: &str| {
        cmd.env
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(env("NOTIFYTYPE"), Some("ONBATT"), "not ONBATT,ONBATT");
    assert_eq!(env("UPSNAME"), Some("a@h,b@h"));
    assert_eq!(env("NOTIFYMSG"), Some("a on battery.\tb on battery"));
}
