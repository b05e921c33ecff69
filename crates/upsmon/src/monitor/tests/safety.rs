//! Regressions of issue 12 (docs/issues.md) (upsmon items 1, 2, 3, 6, 9, 10) in the decision machine: a reload
//! mid-round, a server that never answers, bounded shutdown steps, stall detection for the
//! watchdog, and the ALARM text when `ups.alarm` cannot be read.
//!
//! These drive [`Monitor`] by hand where the simulated world ([`super::sim`]) answers every
//! request at once and so cannot leave one outstanding.

use std::time::Duration;

use super::sim::{UPS, config, events, single};
use crate::clock::Time;
use crate::config::{MonitorConfig, MonitorEntry, Role};
use crate::monitor::{Action, Monitor, MonitorId, PollResult};

/// Every queued action, in order.
fn drain(m: &mut Monitor) -> Vec<Action> {
    std::iter::from_fn(|| m.poll_action()).collect()
}

fn polls(actions: &[Action]) -> Vec<MonitorId> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Poll(id) => Some(*id),
            _ => None,
        })
        .collect()
}

/// Answer every poll in `actions` for `id` with `status`; returns what that produced.
fn answer(m: &mut Monitor, now: Time, id: MonitorId, result: PollResult) -> Vec<Action> {
    m.handle_poll(now, id, result);
    drain(m)
}

fn two(cfg: &MonitorConfig) -> (Monitor, MonitorEntry, MonitorId, MonitorId) {
    let a = MonitorEntry::new("a@h", 1, "u", "p", Role::Primary);
    let b = MonitorEntry::new("b@dead", 0, "u", "p", Role::Secondary);
    let m = Monitor::new(cfg.clone(), vec![a.clone(), b], Time::ZERO).expect("valid");
    let (ia, ib) = (m.id_of("a@h").unwrap(), m.id_of("b@dead").unwrap());
    (m, a, ia, ib)
}

// ---- item 1: a reload that removes the entry whose poll is outstanding ----

#[test]
fn reload_removing_the_last_outstanding_poll_keeps_monitoring() {
    let cfg = config();
    let (mut m, a, ia, ib) = two(&cfg);
    drain(&mut m);
    answer(&mut m, Time::from_millis(5), ia, PollResult::status("OL"));
    // b is removed while its poll (stuck in a connect timeout) is outstanding.
    m.reload(cfg, vec![a]).expect("valid reload");
    assert_eq!(drain(&mut m), [Action::Disconnect(ib)]);
    // Its session answers before closing.
    answer(&mut m, Time::from_secs(3), ib, PollResult::CommFailure);
    let next = m
        .poll_timeout()
        .expect("monitoring goes on after the reload");
    m.handle_timeout(next);
    assert_eq!(
        polls(&drain(&mut m)),
        [ia],
        "the next round polls the remaining UPS"
    );
    // A later OB LB on the remaining UPS still shuts the host down.
    let acts = answer(&mut m, next, ia, PollResult::status("OB LB"));
    assert!(acts.contains(&Action::SetFsd(ia)), "{acts:?}");
}

#[test]
fn reload_removing_an_entry_that_never_answers_still_ends_the_round() {
    let cfg = config();
    let (mut m, a, ia, _ib) = two(&cfg);
    drain(&mut m);
    answer(
        &mut m,
        Time::from_millis(5),
        ia,
        PollResult::status("OB LB"),
    );
    m.reload(cfg.clone(), vec![a]).expect("valid reload");
    drain(&mut m);
    // No answer ever comes for b: the round still ends at its deadline (POLLFREQ).
    let due = m
        .poll_timeout()
        .expect("a deadline while the round is open");
    assert_eq!(due, Time::from_secs(cfg.poll_freq));
    m.handle_timeout(due);
    assert!(m.is_shutting_down(), "a, primary and OB LB, is critical");
}

// ---- item 10: one hung server must not hold the decision for the others ----

#[test]
fn a_poll_not_answered_within_pollfreq_counts_as_failed_for_that_ups_only() {
    let mut cfg = config();
    cfg.poll_freq = 5;
    let (mut m, _a, ia, ib) = two(&cfg);
    drain(&mut m);
    // a is answered at once and is critical; b's server accepted but never answers.
    let acts = answer(
        &mut m,
        Time::from_millis(10),
        ia,
        PollResult::status("OB LB"),
    );
    assert!(
        !acts.contains(&Action::SetFsd(ia)),
        "round still open: {acts:?}"
    );
    assert_eq!(m.poll_timeout(), Some(Time::from_secs(5)));
    m.handle_timeout(Time::from_secs(5));
    let acts = drain(&mut m);
    let commbad_b = acts.iter().any(|a| {
        matches!(a, Action::Notify(n) if n.kind == nut_core::names::NotifyType::CommBad
            && n.ups.as_deref() == Some("b@dead"))
    });
    assert!(commbad_b, "b's unanswered poll is a failed poll: {acts:?}");
    assert!(acts.contains(&Action::SetFsd(ia)), "{acts:?}");
    // b's late answer is ignored (it is no longer part of a round).
    m.handle_poll(Time::from_secs(9), ib, PollResult::status("OL"));
    assert!(m.is_shutting_down());
}

#[test]
fn a_ups_whose_poll_timed_out_is_not_waited_for_until_it_answers() {
    let cfg = config();
    let (mut m, _a, ia, ib) = two(&cfg);
    drain(&mut m);
    answer(&mut m, Time::from_millis(10), ia, PollResult::status("OL"));
    m.handle_timeout(Time::from_secs(5));
    drain(&mut m);
    // The next round is due POLLFREQ after the first one started, so at once: waiting for
    // b does not stretch the polling of a.
    assert_eq!(m.poll_timeout(), Some(Time::from_secs(5)));
    m.handle_timeout(Time::from_secs(5));
    // b is asked again (the shell may keep waiting for its first answer) but this round does
    // not wait for it: a's answer ends the round.
    assert_eq!(polls(&drain(&mut m)), [ia, ib]);
    let acts = answer(&mut m, Time::from_secs(5), ia, PollResult::status("OB LB"));
    assert!(
        acts.contains(&Action::SetFsd(ia)),
        "decided at once: {acts:?}"
    );
}

#[test]
fn a_late_answer_counts_when_it_comes_and_the_ups_is_waited_for_again() {
    let cfg = config();
    let (mut m, _a, ia, ib) = two(&cfg);
    drain(&mut m);
    answer(&mut m, Time::from_millis(10), ia, PollResult::status("OL"));
    m.handle_timeout(Time::from_secs(5));
    m.handle_timeout(Time::from_secs(5));
    drain(&mut m);
    answer(&mut m, Time::from_secs(5), ia, PollResult::status("OL"));
    assert_eq!(
        m.poll_timeout(),
        Some(Time::from_secs(10)),
        "round ended at 5"
    );
    // b's first answer arrives between rounds: applied at once.
    let acts = answer(&mut m, Time::from_secs(6), ib, PollResult::status("OL"));
    assert!(
        acts.iter().any(
            |a| matches!(a, Action::Notify(n) if n.kind == nut_core::names::NotifyType::CommOk)
        ),
        "{acts:?}"
    );
    // From now on rounds wait for b again.
    m.handle_timeout(Time::from_secs(10));
    drain(&mut m);
    answer(&mut m, Time::from_secs(10), ia, PollResult::status("OL"));
    assert_eq!(
        m.poll_timeout(),
        Some(Time::from_secs(15)),
        "b's poll is awaited"
    );
    answer(&mut m, Time::from_secs(11), ib, PollResult::status("OL"));
    assert_eq!(
        m.poll_timeout(),
        Some(Time::from_secs(16)),
        "round ended at 11"
    );
}

// ---- bounded shutdown steps (items 3, 6, 10) ----

#[test]
fn unanswered_fsd_and_numlogins_cannot_hold_the_shutdown() {
    let mut cfg = config();
    cfg.host_sync = 4;
    cfg.final_delay = 0;
    let a = MonitorEntry::new("a@h", 1, "u", "p", Role::Primary);
    let mut m = Monitor::new(cfg, vec![a], Time::ZERO).unwrap();
    let ia = m.id_of("a@h").unwrap();
    drain(&mut m);
    let acts = answer(&mut m, Time::ZERO, ia, PollResult::status("OB LB"));
    assert!(acts.contains(&Action::SetFsd(ia)));
    assert!(m.must_finish_shutdown());
    // The FSD request is never answered: after HOSTSYNC the host sync starts anyway.
    assert_eq!(m.poll_timeout(), Some(Time::from_secs(4)));
    m.handle_timeout(Time::from_secs(4));
    assert_eq!(drain(&mut m), [Action::QueryNumLogins(ia)]);
    // NUMLOGINS is never answered either: HOSTSYNC after the sync started, shut down.
    assert_eq!(m.poll_timeout(), Some(Time::from_secs(9)));
    m.handle_timeout(Time::from_secs(9));
    let acts = drain(&mut m);
    assert!(acts.contains(&Action::Shutdown), "{acts:?}");
    assert!(!m.must_finish_shutdown());
}

#[test]
fn must_finish_shutdown_covers_fsd_hostsync_and_finaldelay_only() {
    let mut cfg = config();
    cfg.final_delay = 5;
    let mut w = single(Role::Primary, cfg, "OL");
    w.run_until_secs(1);
    assert!(!w.hosts[0].monitor.must_finish_shutdown());
    w.set_status(UPS, "OB LB");
    w.fake(UPS).phantom_logins = 1;
    w.run_until_secs(6);
    assert!(
        w.hosts[0].monitor.must_finish_shutdown(),
        "{:?}",
        events(&w)
    );
    w.fake(UPS).phantom_logins = 0;
    w.run_until_secs(30);
    assert_eq!(w.hosts[0].shutdowns(), 1);
    assert!(!w.hosts[0].monitor.must_finish_shutdown());
}

// ---- item 2: stall detection for the watchdog ----

#[test]
fn a_monitor_whose_deadline_is_not_served_is_stalled() {
    let cfg = config();
    let (mut m, _a, ia, ib) = two(&cfg);
    let grace = Duration::from_secs(2);
    drain(&mut m);
    assert!(!m.is_stalled(Time::from_secs(1), grace), "round under way");
    answer(&mut m, Time::from_secs(1), ia, PollResult::status("OL"));
    answer(&mut m, Time::from_secs(1), ib, PollResult::status("OL"));
    // Idle until the next round at 6 s: healthy, also a little after it is due.
    assert!(!m.is_stalled(Time::from_secs(6), grace));
    assert!(!m.is_stalled(Time::from_secs(8), grace));
    // Nobody starts the round: stalled.
    assert!(m.is_stalled(Time::from_millis(8_001), grace));
    m.handle_timeout(Time::from_millis(8_001));
    assert!(!m.is_stalled(Time::from_millis(8_001), grace));
}

// ---- item 9: ALARM text ----

#[test]
fn alarm_is_not_renotified_when_the_text_cannot_be_read() {
    let mut w = single(Role::Primary, config(), "OL");
    w.fake(UPS).alarm = Some("Fan failure".into());
    w.set_status(UPS, "OL ALARM");
    w.run_until_secs(1);
    // ups.alarm cannot be read for a while, then can again, unchanged.
    w.fake(UPS).alarm = None;
    w.run_until_secs(11);
    w.fake(UPS).alarm = Some("Fan failure".into());
    w.run_until_secs(21);
    w.fake(UPS).alarm = Some("Fan failure; Overheat".into());
    w.run_until_secs(26);
    assert_eq!(
        events(&w),
        [
            "0 ALARM ups@localhost [Fan failure]",
            "25 ALARM ups@localhost [Fan failure; Overheat]"
        ]
    );
}

#[test]
fn a_late_fsd_reply_does_not_pass_for_the_numlogins_answer() {
    let mut cfg = config();
    cfg.host_sync = 4;
    cfg.final_delay = 0;
    let a = MonitorEntry::new("a@h", 1, "u", "p", Role::Primary);
    let mut m = Monitor::new(cfg, vec![a], Time::ZERO).unwrap();
    let ia = m.id_of("a@h").unwrap();
    drain(&mut m);
    answer(&mut m, Time::ZERO, ia, PollResult::status("OB LB"));
    // FSD unanswered until the step times out; then its reply comes, before NUMLOGINS's.
    m.handle_timeout(Time::from_secs(4));
    assert_eq!(drain(&mut m), [Action::QueryNumLogins(ia)]);
    let acts = answer(&mut m, Time::from_secs(5), ia, PollResult::FsdSet);
    assert!(!acts.contains(&Action::Shutdown), "{acts:?}");
    // The real answer: a secondary is still logged in, so the primary keeps waiting.
    let acts = answer(&mut m, Time::from_secs(5), ia, PollResult::NumLogins(2));
    assert!(!acts.contains(&Action::Shutdown), "{acts:?}");
    assert!(m.must_finish_shutdown());
}

#[test]
fn a_ups_on_battery_whose_server_stops_answering_is_critical_after_deadtime() {
    // Before, the unanswered poll kept the round open: no DEADTIME check, no shutdown ever.
    let cfg = config();
    let a = MonitorEntry::new("a@h", 1, "u", "p", Role::Primary);
    let mut m = Monitor::new(cfg.clone(), vec![a], Time::ZERO).unwrap();
    let ia = m.id_of("a@h").unwrap();
    drain(&mut m);
    answer(&mut m, Time::ZERO, ia, PollResult::status("OB"));
    // From now on the server accepts but never answers; the shell keeps the monitor's
    // deadlines and answers nothing.
    let mut now = Time::ZERO;
    while !m.is_shutting_down() {
        now = m.poll_timeout().expect("a deadline");
        assert!(now <= Time::from_secs(60), "no shutdown by {now:?}");
        m.handle_timeout(now);
        drain(&mut m);
    }
    assert!(
        now.whole_secs() > cfg.dead_time,
        "not before DEADTIME: {now:?}"
    );
}

#[test]
fn a_late_failure_does_not_make_the_rounds_wait_for_a_hung_server_again() {
    let cfg = config();
    let (mut m, _a, ia, ib) = two(&cfg);
    drain(&mut m);
    answer(&mut m, Time::from_millis(10), ia, PollResult::status("OL"));
    m.handle_timeout(Time::from_secs(5));
    m.handle_timeout(Time::from_secs(5));
    drain(&mut m);
    answer(&mut m, Time::from_secs(5), ia, PollResult::status("OL"));
    // The hung request finally times out; the server still does not answer.
    answer(&mut m, Time::from_secs(9), ib, PollResult::CommFailure);
    m.handle_timeout(Time::from_secs(10));
    drain(&mut m);
    let acts = answer(&mut m, Time::from_secs(10), ia, PollResult::status("OB LB"));
    assert!(
        acts.contains(&Action::SetFsd(ia)),
        "decided at once: {acts:?}"
    );
}

// ---- a reload while a decided shutdown is carried out (found by the upsmon_monitor fuzzer) ----

/// NUT's upsmon does not return to its main loop once it has decided to shut down, so a
/// SIGHUP then changes nothing. Here a reload with a longer HOSTSYNC and FINALDELAY arrives
/// while the forced shutdown waits for the FSD replies: it is refused, the shutdown keeps the
/// timing it was decided with, and the entries stay as they were.
#[test]
fn a_reload_during_a_decided_shutdown_is_refused_and_changes_no_timing() {
    let cfg = config();
    let (mut m, a, ia, _ib) = two(&cfg);
    drain(&mut m);
    answer(
        &mut m,
        Time::from_millis(5),
        ia,
        PollResult::status("OB LB"),
    );
    let due = m.poll_timeout().expect("round deadline");
    m.handle_timeout(due);
    assert!(
        m.must_finish_shutdown(),
        "a, primary and OB LB, is critical"
    );
    let deadline_before = m.poll_timeout();

    let mut slower = cfg.clone();
    slower.host_sync = cfg.host_sync + 100;
    slower.final_delay = cfg.final_delay + 100;
    let refused = m.reload(slower, vec![a]);
    assert!(
        matches!(refused, Err(crate::config::ConfigError::ShutdownInProgress)),
        "{refused:?}"
    );
    assert_eq!(
        m.poll_timeout(),
        deadline_before,
        "the shutdown keeps its timing"
    );
    assert!(
        m.id_of("b@dead").is_some(),
        "the entries are left as they were"
    );
    assert!(
        !drain(&mut m)
            .iter()
            .any(|a| matches!(a, Action::Disconnect(_))),
        "nothing is disconnected"
    );
}
