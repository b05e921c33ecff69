//! The acceptance scenarios 1–7 of issue 6 (docs/issues.md) at the logic level (scenario 9 is in
//! `upssched::tests`; 8 needs processes), plus `-c fsd`.
//!
//! Unless a test says otherwise: POLLFREQ = POLLFREQALERT = 5 s (rounds at 0, 5, 10 …),
//! HOSTSYNC 15, DEADTIME 15, FINALDELAY 5, and status changes are made between rounds.

use super::sim::{UPS, World, config, entry, events, single};
use crate::config::Role;
use crate::monitor::{Action, ShutdownReason};

// ---- scenario 1: single primary ----

#[test]
fn s1_single_primary_ol_ob_oblb_shuts_down_once() {
    let mut w = single(Role::Primary, config(), "OL");
    w.run_until_secs(3);
    assert!(
        events(&w).is_empty(),
        "first OL is silent: {:?}",
        events(&w)
    );
    w.set_status(UPS, "OB DISCHRG");
    w.run_until_secs(12);
    w.set_status(UPS, "OB LB");
    w.run_until_secs(100);
    assert_eq!(
        events(&w),
        [
            "5 ONBATT ups@localhost",
            "15 LOWBATT ups@localhost",
            "15 SETFSD ups@localhost",
            "15 FSD ups@localhost",
            "15 ANNOUNCE",
            "15 SHUTDOWN",
            "20 SHUTDOWNCMD",
            "20 EXIT",
        ]
    );
    assert_eq!(w.hosts[0].shutdowns(), 1);
    assert!(w.upses[UPS].fsd, "FSD latched on upsd");
    assert_eq!(
        w.hosts[0].monitor.shutdown_reason(),
        Some(ShutdownReason::TooFewSupplies {
            healthy: 0,
            required: 1
        })
    );
    // Status polling stopped when the shutdown began.
    assert_eq!(
        w.hosts[0].times_of(|a| matches!(a, Action::Poll(_))),
        ["0", "5", "10", "15"]
    );
}

#[test]
fn s1_ob_and_lb_in_one_poll_notify_onbatt_before_lowbatt() {
    let mut w = single(Role::Primary, config(), "OL");
    w.run_until_secs(1);
    w.set_status(UPS, "OB LB");
    w.run_until_secs(30);
    assert_eq!(
        events(&w)[..3],
        [
            "5 ONBATT ups@localhost",
            "5 LOWBATT ups@localhost",
            "5 SETFSD ups@localhost"
        ]
    );
    assert_eq!(w.hosts[0].shutdowns(), 1);
}

#[test]
fn s1_fsd_refused_still_shuts_down_without_fsd_notification() {
    let mut w = single(Role::Primary, config(), "OB LB");
    w.fake(UPS).refuse_fsd = true;
    w.run_until_secs(30);
    assert_eq!(
        events(&w),
        [
            "0 ONBATT ups@localhost",
            "0 LOWBATT ups@localhost",
            "0 SETFSD ups@localhost",
            "0 ANNOUNCE",
            "0 SHUTDOWN",
            "5 SHUTDOWNCMD",
            "5 EXIT",
        ]
    );
}

// ---- scenario 2: one primary and two secondaries ----

#[test]
fn s2_primary_waits_for_secondaries_to_log_out() {
    let mut w = World::new().ups(UPS, "OL");
    let p = w.add_host("primary", config(), vec![entry(UPS, 1, Role::Primary)]);
    let s1 = w.add_host("secondary1", config(), vec![entry(UPS, 1, Role::Secondary)]);
    let s2 = w.add_host("secondary2", config(), vec![entry(UPS, 1, Role::Secondary)]);
    w.run_until_secs(7);
    w.set_status(UPS, "OB LB");
    w.run_until_secs(60);
    assert_eq!(
        w.hosts[p].events(),
        [
            "10 ONBATT ups@localhost",
            "10 LOWBATT ups@localhost",
            "10 SETFSD ups@localhost",
            "10 FSD ups@localhost",
            "10 SHUTDOWN_HOSTSYNC",
            // The secondaries exited at 15; the next NUMLOGINS query sees only us.
            "15.250 ANNOUNCE",
            "15.250 SHUTDOWN",
            "20.250 SHUTDOWNCMD",
            "20.250 EXIT",
        ]
    );
    for s in [s1, s2] {
        assert_eq!(
            w.hosts[s].events(),
            [
                // upsd prefixes FSD; words are handled in order.
                "10 FSD ups@localhost",
                "10 ONBATT ups@localhost",
                "10 LOWBATT ups@localhost",
                "10 ANNOUNCE",
                "10 SHUTDOWN",
                "15 SHUTDOWNCMD",
                "15 EXIT",
            ]
        );
        assert_eq!(w.hosts[s].shutdowns(), 1);
    }
    // NUMLOGINS every 250 ms from 10 s until the secondaries were gone.
    assert_eq!(
        w.hosts[p]
            .times_of(|a| matches!(a, Action::QueryNumLogins(_)))
            .len(),
        22
    );
}

// ---- scenario 3: a secondary that never logs out ----

#[test]
fn s3_primary_gives_up_after_hostsync() {
    let mut w = World::new().ups(UPS, "OL");
    w.fake(UPS).phantom_logins = 1;
    w.add_host("primary", config(), vec![entry(UPS, 1, Role::Primary)]);
    w.run_until_secs(7);
    w.set_status(UPS, "OB LB");
    w.run_until_secs(60);
    assert_eq!(
        events(&w),
        [
            "10 ONBATT ups@localhost",
            "10 LOWBATT ups@localhost",
            "10 SETFSD ups@localhost",
            "10 FSD ups@localhost",
            "10 SHUTDOWN_HOSTSYNC",
            // NUT: `now - start > HOSTSYNC` on whole seconds: 26 - 10 = 16 > 15.
            "26 ANNOUNCE",
            "26 SHUTDOWN",
            "31 SHUTDOWNCMD",
            "31 EXIT",
        ]
    );
    let queries = w.hosts[0].times_of(|a| matches!(a, Action::QueryNumLogins(_)));
    assert_eq!(queries.first().map(String::as_str), Some("10"));
    assert_eq!(queries.last().map(String::as_str), Some("26"));
    assert_eq!(queries.len(), 65);
}

// ---- scenario 4: power values and MINSUPPLIES ----

#[test]
fn s4_minsupplies_counts_power_values() {
    let mut cfg = config();
    cfg.min_supplies = 2;
    let mut w = World::new().ups("alpha@h", "OL").ups("beta@h", "OL");
    w.add_host(
        "netserver",
        cfg,
        vec![
            entry("alpha@h", 2, Role::Primary),
            entry("beta@h", 1, Role::Primary),
        ],
    );
    w.run_until_secs(2);
    w.set_status("beta@h", "OB LB");
    w.run_until_secs(30);
    assert_eq!(
        events(&w),
        ["5 ONBATT beta@h", "5 LOWBATT beta@h"],
        "alpha alone still provides MINSUPPLIES"
    );
    w.set_status("alpha@h", "OB LB");
    w.run_until_secs(60);
    assert_eq!(
        events(&w)[2..],
        [
            "35 ONBATT alpha@h",
            "35 LOWBATT alpha@h",
            // Every UPS we are primary for gets FSD.
            "35 SETFSD alpha@h",
            "35 SETFSD beta@h",
            "35 FSD alpha@h",
            "35 FSD beta@h",
            "35 ANNOUNCE",
            "35 SHUTDOWN",
            "40 SHUTDOWNCMD",
            "40 EXIT",
        ]
    );
}

#[test]
fn s4_monitoring_only_never_shuts_down() {
    let mut cfg = config();
    cfg.min_supplies = 0;
    let mut w = World::new().ups(UPS, "OB LB");
    w.add_host("watcher", cfg, vec![entry(UPS, 0, Role::Secondary)]);
    w.run_until_secs(100);
    assert_eq!(
        events(&w),
        ["0 ONBATT ups@localhost", "0 LOWBATT ups@localhost"]
    );
}

// ---- scenario 5: UPS lost while on battery ----

#[test]
fn s5_lost_on_battery_is_critical_after_deadtime() {
    let mut w = single(Role::Primary, config(), "OL");
    w.run_until_secs(3);
    w.set_status(UPS, "OB DISCHRG");
    w.run_until_secs(7);
    w.kill_driver(UPS);
    w.run_until_secs(60);
    assert_eq!(
        events(&w),
        [
            "5 ONBATT ups@localhost",
            "10 COMMBAD ups@localhost",
            // Last good poll at 5; NUT promotes once `now - lastpoll > DEADTIME`: 25 - 5 = 20.
            "25 SETFSD ups@localhost",
            "25 FSD ups@localhost",
            "25 ANNOUNCE",
            "25 SHUTDOWN",
            "30 SHUTDOWNCMD",
            "30 EXIT",
        ]
    );
}

#[test]
fn s5_secondary_lost_on_battery_shuts_down_after_deadtime_and_hostsync() {
    let mut w = single(Role::Secondary, config(), "OB DISCHRG");
    w.run_until_secs(2);
    w.kill_driver(UPS);
    w.run_until_secs(60);
    assert_eq!(
        events(&w),
        [
            "0 ONBATT ups@localhost",
            "5 COMMBAD ups@localhost",
            // Dead since 0: promoted at 20 (20 > 15); last not-critical 0: 20 > HOSTSYNC.
            "20 ANNOUNCE",
            "20 SHUTDOWN",
            "25 SHUTDOWNCMD",
            "25 EXIT",
        ]
    );
}

// ---- scenario 6: UPS lost while on line ----

#[test]
fn s6_lost_on_line_warns_but_never_shuts_down() {
    let mut cfg = config();
    cfg.nocomm_warn_time = 30;
    let mut w = single(Role::Primary, cfg, "OL");
    w.run_until_secs(2);
    w.kill_driver(UPS);
    w.run_until_secs(101);
    w.set_status(UPS, "OL");
    w.run_until_secs(130);
    assert_eq!(
        events(&w),
        [
            "5 COMMBAD ups@localhost",
            // First NOCOMM once `now - lastpoll >= NOCOMMWARNTIME`, then whenever more than
            // NOCOMMWARNTIME passed since the previous one.
            "30 NOCOMM ups@localhost",
            "65 NOCOMM ups@localhost",
            "100 NOCOMM ups@localhost",
            "105 COMMOK ups@localhost",
        ]
    );
    assert!(!w.hosts[0].monitor.is_shutting_down());
}

#[test]
fn s6_upsd_unreachable_from_the_start() {
    let mut cfg = config();
    cfg.nocomm_warn_time = 30;
    let mut w = single(Role::Primary, cfg, "OL");
    w.fake(UPS).upsd_up = false;
    w.run_until_secs(78);
    w.fake(UPS).upsd_up = true;
    w.run_until_secs(90);
    assert_eq!(
        events(&w),
        [
            // Never contacted: NOCOMM follows on the next failure (NUT's lastpoll is 0).
            "0 COMMBAD ups@localhost",
            "5 NOCOMM ups@localhost",
            "40 NOCOMM ups@localhost",
            "75 NOCOMM ups@localhost",
            "80 COMMOK ups@localhost",
        ]
    );
}

#[test]
fn s6_login_refused_leaves_the_state_alone() {
    use crate::monitor::PollResult;
    let mut w = single(Role::Primary, config(), "OL");
    w.run_until_secs(1);
    let mon = &mut w.hosts[0].monitor;
    let id = mon.id_of(UPS).expect("known");
    mon.handle_timeout(crate::Time::from_secs(5));
    assert_eq!(mon.poll_action(), Some(Action::Poll(id)));
    mon.handle_poll(crate::Time::from_secs(5), id, PollResult::NoLogin);
    assert_eq!(mon.poll_action(), None, "no COMMBAD for a refused login");
    assert_eq!(mon.poll_timeout(), Some(crate::Time::from_secs(10)));
}

// ---- scenario 7: the other conditions ----

#[test]
fn s7_ol_lb_is_not_critical() {
    let mut w = single(Role::Primary, config(), "OL");
    w.run_until_secs(1);
    w.set_status(UPS, "OL LB");
    w.run_until_secs(11);
    w.set_status(UPS, "OL");
    w.run_until_secs(30);
    assert_eq!(events(&w), ["5 LOWBATT ups@localhost"]);
}

#[test]
fn s7_ob_alone_then_back_online() {
    let mut w = single(Role::Primary, config(), "OL");
    w.run_until_secs(1);
    w.set_status(UPS, "OB DISCHRG");
    w.run_until_secs(1000);
    w.set_status(UPS, "OL CHRG");
    w.run_until_secs(1010);
    assert_eq!(
        events(&w),
        ["5 ONBATT ups@localhost", "1005 ONLINE ups@localhost"]
    );
}

#[test]
fn s7_calibration_is_cleared_so_a_later_ob_lb_is_critical() {
    let mut w = single(Role::Primary, config(), "OL");
    w.run_until_secs(1);
    w.set_status(UPS, "OB LB CAL");
    w.run_until_secs(21);
    assert!(
        !w.hosts[0].monitor.is_shutting_down(),
        "OB LB while calibrating is not critical"
    );
    w.set_status(UPS, "OL");
    w.run_until_secs(31);
    // Fixed: 2.8.0 never cleared CAL, so this OB LB would have been ignored.
    w.set_status(UPS, "OB LB");
    w.run_until_secs(60);
    assert_eq!(
        events(&w),
        [
            "5 ONBATT ups@localhost",
            "5 LOWBATT ups@localhost",
            "5 CAL ups@localhost",
            "25 NOTCAL ups@localhost",
            "25 ONLINE ups@localhost",
            "35 ONBATT ups@localhost",
            "35 LOWBATT ups@localhost",
            "35 SETFSD ups@localhost",
            "35 FSD ups@localhost",
            "35 ANNOUNCE",
            "35 SHUTDOWN",
            "40 SHUTDOWNCMD",
            "40 EXIT",
        ]
    );
}

#[test]
fn s7_short_off_is_announced_without_shutdown() {
    let mut w = single(Role::Primary, config(), "OL");
    w.run_until_secs(1);
    w.set_status(UPS, "OFF");
    w.run_until_secs(21);
    w.set_status(UPS, "OL");
    w.run_until_secs(60);
    assert_eq!(
        events(&w),
        ["5 OFF ups@localhost", "25 NOTOFF ups@localhost"]
    );
}

#[test]
fn s7_off_longer_than_offduration_is_critical() {
    let mut w = single(Role::Primary, config(), "OL");
    w.run_until_secs(1);
    w.set_status(UPS, "OFF");
    w.run_until_secs(60);
    assert_eq!(
        events(&w)[..3],
        [
            "5 OFF ups@localhost",
            // OFF since 5; OFFDURATION 30 is exceeded (NUT: strictly) at the 40 s poll.
            "40 SETFSD ups@localhost",
            "40 FSD ups@localhost",
        ]
    );
}

#[test]
fn s7_off_is_never_critical_with_negative_offduration() {
    let mut cfg = config();
    cfg.off_duration = None;
    let mut w = single(Role::Primary, cfg, "OL");
    w.run_until_secs(1);
    w.set_status(UPS, "OFF");
    w.run_until_secs(7);
    w.kill_driver(UPS);
    w.run_until_secs(500);
    assert!(!w.hosts[0].monitor.is_shutting_down());
}

#[test]
fn s7_off_with_offduration_zero_is_critical_at_once() {
    let mut cfg = config();
    cfg.off_duration = Some(0);
    let mut w = single(Role::Primary, cfg, "OFF");
    w.run_until_secs(10);
    assert_eq!(
        events(&w)[..2],
        ["0 OFF ups@localhost", "0 SETFSD ups@localhost"]
    );
}

#[test]
fn s7_bypass_is_announced_and_critical_only_when_lost() {
    let mut w = single(Role::Primary, config(), "OL");
    w.run_until_secs(1);
    w.set_status(UPS, "OL BYPASS");
    w.run_until_secs(11);
    w.set_status(UPS, "OL");
    w.run_until_secs(16);
    w.set_status(UPS, "OL BYPASS");
    w.run_until_secs(21);
    assert!(!w.hosts[0].monitor.is_shutting_down());
    w.kill_driver(UPS);
    w.run_until_secs(40);
    assert_eq!(
        events(&w),
        [
            "5 BYPASS ups@localhost",
            "15 NOTBYPASS ups@localhost",
            "20 BYPASS ups@localhost",
            "25 COMMBAD ups@localhost",
            "25 SETFSD ups@localhost",
            "25 FSD ups@localhost",
            "25 ANNOUNCE",
            "25 SHUTDOWN",
            "30 SHUTDOWNCMD",
            "30 EXIT",
        ]
    );
}

#[test]
fn s7_replbatt_repeats_every_rbwarntime() {
    let mut cfg = config();
    cfg.rb_warn_time = 20;
    let mut w = single(Role::Primary, cfg, "OL RB");
    w.run_until_secs(80);
    assert_eq!(
        events(&w),
        [
            "0 REPLBATT ups@localhost",
            "25 REPLBATT ups@localhost",
            "50 REPLBATT ups@localhost",
            "75 REPLBATT ups@localhost",
        ]
    );
}

#[test]
fn s7_secondary_seeing_fsd_shuts_down() {
    let mut w = single(Role::Secondary, config(), "OL");
    w.run_until_secs(1);
    // The primary ran `upsmon -c fsd` while on line power.
    w.fake(UPS).fsd = true;
    w.run_until_secs(30);
    assert_eq!(
        events(&w),
        [
            "5 FSD ups@localhost",
            "5 ANNOUNCE",
            "5 SHUTDOWN",
            "10 SHUTDOWNCMD",
            "10 EXIT",
        ]
    );
}

#[test]
fn s7_secondary_gives_the_primary_hostsync_seconds() {
    let mut w = single(Role::Secondary, config(), "OL");
    w.run_until_secs(1);
    // The primary never raises FSD.
    w.set_status(UPS, "OB LB");
    w.run_until_secs(60);
    assert_eq!(
        events(&w),
        [
            "5 ONBATT ups@localhost",
            "5 LOWBATT ups@localhost",
            // Last seen not critical during the 5 s poll (before LB was handled).
            "25 ANNOUNCE",
            "25 SHUTDOWN",
            "30 SHUTDOWNCMD",
            "30 EXIT",
        ]
    );
}

// ---- -c fsd ----

#[test]
fn user_fsd_on_a_primary_sets_fsd_and_waits_for_secondaries() {
    let mut w = World::new().ups(UPS, "OL");
    w.fake(UPS).phantom_logins = 1;
    let mut cfg = config();
    cfg.host_sync = 2;
    cfg.final_delay = 0;
    w.add_host("primary", cfg, vec![entry(UPS, 1, Role::Primary)]);
    w.run_until_secs(7);
    let now = w.now;
    w.hosts[0].monitor.request_fsd(now);
    w.run_until_secs(30);
    assert_eq!(
        events(&w),
        [
            "7 SETFSD ups@localhost",
            "7 FSD ups@localhost",
            "7 SHUTDOWN_HOSTSYNC",
            "10 ANNOUNCE",
            "10 SHUTDOWN",
            "10 SHUTDOWNCMD",
            "10 EXIT",
        ]
    );
    assert_eq!(
        w.hosts[0].monitor.shutdown_reason(),
        Some(ShutdownReason::UserRequested)
    );
}

#[test]
fn user_fsd_on_a_secondary_shuts_down_at_once_and_only_once() {
    let mut w = single(Role::Secondary, config(), "OL");
    w.run_until_secs(3);
    let now = w.now;
    w.hosts[0].monitor.request_fsd(now);
    w.hosts[0].monitor.request_fsd(now);
    w.run_until_secs(30);
    assert_eq!(
        events(&w),
        ["3 ANNOUNCE", "3 SHUTDOWN", "8 SHUTDOWNCMD", "8 EXIT"]
    );
}
