//! The remaining behaviour of §6.3–§6.4 in virtual time: SHUTDOWNEXIT, polling frequency,
//! OBLBDURATION, the notifications without an acceptance scenario, NOPARENT and reload.
//!
//! Same conventions as [`super::scenarios`].

use super::sim::{UPS, World, config, entry, events, single};
use crate::config::{Role, ShutdownExit};
use crate::monitor::Action;

// ---- SHUTDOWNEXIT ----

#[test]
fn shutdownexit_linger_keeps_sessions_alive_then_exits() {
    let mut cfg = config();
    cfg.shutdown_exit = ShutdownExit::After(3);
    cfg.final_delay = 0;
    let mut w = single(Role::Secondary, cfg, "FSD OL");
    w.run_until_secs(30);
    assert_eq!(
        events(&w),
        [
            "0 FSD ups@localhost",
            "0 ANNOUNCE",
            "0 SHUTDOWN",
            "0 SHUTDOWNCMD",
            "3 EXIT"
        ]
    );
    assert_eq!(
        w.hosts[0].times_of(|a| matches!(a, Action::QueryNumLogins(_))),
        ["1", "2"]
    );
}

#[test]
fn shutdownexit_no_never_exits() {
    let mut cfg = config();
    cfg.shutdown_exit = ShutdownExit::Never;
    let mut w = single(Role::Secondary, cfg, "FSD OL");
    w.run_until_secs(100);
    assert_eq!(w.hosts[0].shutdowns(), 1);
    assert!(!w.hosts[0].exited);
    assert_eq!(
        w.hosts[0]
            .times_of(|a| matches!(a, Action::QueryNumLogins(_)))
            .len(),
        95
    );
}

// ---- polling frequency ----

#[test]
fn pollfreqalert_while_on_battery() {
    let mut cfg = config();
    cfg.poll_freq = 10;
    cfg.poll_freq_alert = 2;
    let mut w = single(Role::Primary, cfg, "OL");
    w.run_until_secs(15);
    w.set_status(UPS, "OB");
    w.run_until_secs(27);
    w.set_status(UPS, "OL");
    w.run_until_secs(50);
    assert_eq!(
        w.hosts[0].times_of(|a| matches!(a, Action::Poll(_))),
        ["0", "10", "20", "22", "24", "26", "28", "38", "48"]
    );
}

#[test]
fn oblbduration_delays_criticality_and_polls_faster() {
    let mut cfg = config();
    cfg.oblb_duration = 6;
    cfg.poll_freq_alert = 4;
    let mut w = single(Role::Primary, cfg, "OL");
    w.run_until_secs(1);
    w.set_status(UPS, "OB LB");
    w.run_until_secs(30);
    // OB LB first judged at 5; gcd(4, 6) = 2 s polls; critical once 6 s have passed.
    assert_eq!(
        w.hosts[0].times_of(|a| matches!(a, Action::Poll(_))),
        ["0", "5", "7", "9", "11"]
    );
    assert_eq!(events(&w)[2], "11 SETFSD ups@localhost");
}

#[test]
fn oblbduration_forgives_a_short_dip() {
    let mut cfg = config();
    cfg.oblb_duration = 20;
    let mut w = single(Role::Primary, cfg, "OL");
    w.run_until_secs(1);
    w.set_status(UPS, "OB LB");
    w.run_until_secs(11);
    w.set_status(UPS, "OB");
    w.run_until_secs(21);
    w.set_status(UPS, "OB LB");
    w.run_until_secs(36);
    assert!(
        !w.hosts[0].monitor.is_shutting_down(),
        "the clock restarted at 25"
    );
    w.run_until_secs(50);
    assert!(w.hosts[0].monitor.is_shutting_down());
}

// ---- the remaining notifications ----

#[test]
fn alarm_renotifies_when_the_text_changes() {
    let mut w = single(Role::Primary, config(), "OL");
    w.run_until_secs(1);
    w.set_status(UPS, "ALARM OL");
    w.fake(UPS).alarm = Some("Replace battery!".into());
    w.run_until_secs(11);
    w.fake(UPS).alarm = Some("Overheat!".into());
    w.run_until_secs(16);
    w.fake(UPS).alarm = None;
    w.run_until_secs(21);
    w.set_status(UPS, "OL");
    w.run_until_secs(26);
    assert_eq!(
        events(&w),
        [
            "5 ALARM ups@localhost [Replace battery!]",
            "15 ALARM ups@localhost [Overheat!]",
            // ups.alarm unreadable at 20: the known alarm is not announced again.
            "25 NOTALARM ups@localhost",
        ]
    );
}

#[test]
fn alarm_is_critical_when_lost_unless_alarmcritical_is_off() {
    for (critical, expect) in [(true, true), (false, false)] {
        let mut cfg = config();
        cfg.alarm_critical = critical;
        let mut w = single(Role::Primary, cfg, "ALARM OL");
        w.run_until_secs(1);
        w.kill_driver(UPS);
        w.run_until_secs(30);
        assert_eq!(w.hosts[0].monitor.is_shutting_down(), expect);
    }
}

#[test]
fn over_trim_boost_and_their_ends() {
    let mut w = single(Role::Primary, config(), "OL");
    w.run_until_secs(1);
    w.set_status(UPS, "OL OVER TRIM");
    w.run_until_secs(6);
    w.set_status(UPS, "OL BOOST");
    w.run_until_secs(11);
    w.set_status(UPS, "OL");
    w.run_until_secs(16);
    assert_eq!(
        events(&w),
        [
            "5 OVER ups@localhost",
            "5 TRIM ups@localhost",
            "10 NOTOVER ups@localhost",
            "10 NOTTRIM ups@localhost",
            "10 BOOST ups@localhost",
            "15 NOTBOOST ups@localhost",
        ]
    );
}

#[test]
fn overduration_makes_a_lost_overloaded_ups_critical() {
    for (limit, expect) in [(None, false), (Some(10), true)] {
        let mut cfg = config();
        cfg.over_duration = limit;
        let mut w = single(Role::Primary, cfg, "OL OVER");
        w.run_until_secs(1);
        w.kill_driver(UPS);
        w.run_until_secs(6);
        assert!(!w.hosts[0].monitor.is_shutting_down(), "lasted 5 s only");
        w.run_until_secs(60);
        assert_eq!(w.hosts[0].monitor.is_shutting_down(), expect, "{limit:?}");
    }
}

#[test]
fn unknown_words_are_other_and_never_mistaken_for_known_ones() {
    let mut w = single(Role::Primary, config(), "OL");
    w.run_until_secs(1);
    // NUT's substring test would see OFF inside OFFLINE and CAL inside CALIBRATING.
    w.set_status(UPS, "OL OFFLINE CALIBRATING WAIT");
    w.run_until_secs(6);
    w.set_status(UPS, "OL WAIT OFFLINE CALIBRATING");
    w.run_until_secs(11);
    w.set_status(UPS, "OL WAIT");
    w.run_until_secs(16);
    w.set_status(UPS, "OL");
    w.run_until_secs(21);
    assert_eq!(
        events(&w),
        [
            // WAIT (upsd's placeholder) is a known word and never reported as OTHER.
            "5 OTHER ups@localhost [OFFLINE CALIBRATING]",
            "15 NOTOTHER ups@localhost",
        ]
    );
}

#[test]
fn lower_case_words_count_as_known() {
    let mut w = single(Role::Primary, config(), "ol");
    w.run_until_secs(1);
    w.set_status(UPS, "ob");
    w.run_until_secs(6);
    assert_eq!(events(&w), ["5 ONBATT ups@localhost"]);
}

#[test]
fn eco_from_the_word_or_from_buzzwords() {
    use crate::monitor::PollResult;
    use nut_core::names::Status;
    let mut w = single(Role::Primary, config(), "OL ECO");
    w.run_until_secs(1);
    w.set_status(UPS, "OL");
    w.run_until_secs(6);
    assert_eq!(
        events(&w),
        ["0 ECO ups@localhost", "5 NOTECO ups@localhost"]
    );
    // Buzzwords: only a word ECO counts (NUT HEAD's inverted test took any value).
    let mon = &mut w.hosts[0].monitor;
    let id = mon.id_of(UPS).expect("known");
    let t = crate::Time::from_secs(10);
    mon.handle_timeout(t);
    let _ = mon.poll_action();
    let poll = |buzz: &str| PollResult::Status {
        status: Status::parse("OL"),
        alarm: None,
        buzzwords: Some(buzz.into()),
    };
    mon.handle_poll(t, id, poll("vendor:apc:HE"));
    assert_eq!(mon.poll_action(), None);
    let t = crate::Time::from_secs(15);
    mon.handle_timeout(t);
    let _ = mon.poll_action();
    mon.handle_poll(t, id, poll("vendor:eaton:ECO"));
    assert!(
        matches!(mon.poll_action(), Some(Action::Notify(n)) if n.kind == nut_core::names::NotifyType::Eco)
    );
}

#[test]
fn fsd_is_notified_once_per_episode() {
    let mut w = single(Role::Primary, config(), "OL");
    let mut cfg = config();
    cfg.min_supplies = 0;
    // A monitoring-only instance sees the latch come and go.
    let mut w2 = World::new().ups(UPS, "OL");
    w2.add_host("watcher", cfg, vec![entry(UPS, 0, Role::Secondary)]);
    w2.run_until_secs(1);
    w2.fake(UPS).fsd = true;
    w2.run_until_secs(11);
    w2.fake(UPS).fsd = false;
    w2.run_until_secs(16);
    w2.fake(UPS).fsd = true;
    w2.run_until_secs(21);
    assert_eq!(
        w2.hosts[0].events(),
        ["5 FSD ups@localhost", "20 FSD ups@localhost"]
    );
    w.run_until_secs(1);
    assert!(events(&w).is_empty());
}

#[test]
fn noparent_is_rate_limited() {
    let mut w = single(Role::Primary, config(), "OL");
    let mon = &mut w.hosts[0].monitor;
    while mon.poll_action().is_some() {}
    for secs in [10, 60, 129, 130, 250] {
        mon.handle_parent_gone(crate::Time::from_secs(secs));
    }
    let mut times = Vec::new();
    while let Some(a) = mon.poll_action() {
        assert!(
            matches!(&a, Action::Notify(n) if n.kind == nut_core::names::NotifyType::NoParent && n.ups.is_none())
        );
        times.push(a);
    }
    assert_eq!(times.len(), 3, "at 10, 130 and 250");
}

#[test]
fn reload_adds_removes_and_relogs() {
    let mut w = World::new()
        .ups("a@h", "OL")
        .ups("b@h", "OL")
        .ups("c@h", "OL");
    w.add_host(
        "host",
        config(),
        vec![
            entry("a@h", 1, Role::Secondary),
            entry("b@h", 1, Role::Secondary),
        ],
    );
    w.run_until_secs(1);
    let mon = &mut w.hosts[0].monitor;
    let a = mon.id_of("a@h").expect("a");
    let b = mon.id_of("b@h").expect("b");
    mon.reload(
        config(),
        vec![
            entry("a@h", 1, Role::Primary),
            entry("c@h", 1, Role::Secondary),
        ],
    )
    .expect("valid");
    assert_eq!(mon.poll_action(), Some(Action::Disconnect(b)));
    assert_eq!(mon.poll_action(), Some(Action::Disconnect(a)));
    let c = mon.id_of("c@h").expect("c added");
    assert!(c > b, "handles are not reused");
    assert!(mon.entry(a).is_some_and(|e| e.is_primary()));
    let mut cfg = config();
    cfg.min_supplies = 5;
    assert!(
        mon.reload(cfg, vec![entry("a@h", 1, Role::Primary)])
            .is_err()
    );
    assert!(mon.entry(c).is_some(), "a failed reload changes nothing");
    w.run_until_secs(6);
    assert_eq!(
        w.hosts[0].times_of(|a| matches!(a, Action::Poll(_))),
        ["0", "0", "5", "5"]
    );
}

#[test]
fn insufficient_power_is_refused() {
    let mut cfg = config();
    cfg.min_supplies = 2;
    assert!(
        crate::Monitor::new(cfg, vec![entry(UPS, 1, Role::Primary)], crate::Time::ZERO).is_err()
    );
}
