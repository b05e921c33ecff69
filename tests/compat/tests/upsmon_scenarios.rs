//! Issue 6 acceptance: upsmon scenarios, each run against our upsmon and Debian's
//! /lib/nut/upsmon (2.8.0) on identical stacks (Debian's upsd and dummy-ups), comparing the
//! notifications NOTIFYCMD received and whether SHUTDOWNCMD ran.
//!
//! Where ours differs on purpose, the test asserts our behaviour and names the difference:
//! * FSD is notified by the primary once upsd accepted `FSD` (NUT ≥ 2.8.1; 2.8.0 is silent).
//! * SHUTDOWN_HOSTSYNC, OFF/NOTOFF, BYPASS/NOTBYPASS, NOTCAL exist (NUT 2.8.1–2.8.5 types).
//! * CAL is cleared when the word goes away, so OB LB after a calibration shuts down
//!   (2.8.0 bug, nut-reference.md §12 item 11).
//! * upsmon.pid names the process the service manager started and is removed at exit
//!   (§12 item 10).

#[path = "upsmon_scenarios/support.rs"]
mod support;

use std::time::Instant;

use nut_harness::Impl;
use support::*;

/// The part of the events both implementations must agree on: 2.8.0 does not know the
/// notification types added later, and does not notify FSD from the primary itself.
fn as_2_8_0(events: &[String]) -> Vec<String> {
    const NEWER: &[&str] = &[
        "NOTCAL",
        "OFF",
        "NOTOFF",
        "BYPASS",
        "NOTBYPASS",
        "ECO",
        "NOTECO",
        "ALARM",
        "NOTALARM",
        "OVER",
        "NOTOVER",
        "TRIM",
        "NOTTRIM",
        "BOOST",
        "NOTBOOST",
        "SHUTDOWN_HOSTSYNC",
        "OTHER",
        "NOTOTHER",
    ];
    events
        .iter()
        .filter(|e| {
            let kind = e.split(' ').next().unwrap_or("");
            !NEWER.contains(&kind)
        })
        .cloned()
        .collect()
}

/// Events with the primary's own FSD notifications removed (2.8.0 does not send them).
fn without_own_fsd(events: &[String]) -> Vec<String> {
    events
        .iter()
        .filter(|e| !e.starts_with("FSD "))
        .cloned()
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

// ---- 1. single primary: OL → OB → OB LB ---------------------------------------------------

struct Shutdown {
    events: Vec<String>,
    shutdowns: usize,
    flag: Option<String>,
    ups_status: String,
    killpower: Option<i32>,
    exit_ok: bool,
}

fn single_primary(which: Impl) -> Shutdown {
    let mut stack = stack(&["dummy"]);
    let mon = start(
        &mut stack,
        which,
        "primary",
        "MONITOR dummy@127.0.0.1:{port} 1 admin adminpass primary\nHOSTSYNC 3\n",
    );
    wait_logins(&stack, "dummy", 1);
    set_status(&stack, "dummy", "OB");
    mon.wait_event("ONBATT dummy");
    set_status(&stack, "dummy", "OB LB");
    mon.wait_shutdown();
    mon.wait_event("SHUTDOWN");
    let exit = mon.wait_exit();
    Shutdown {
        events: mon.events(),
        shutdowns: mon.shutdowns(),
        flag: mon.flag_content(),
        ups_status: status(&stack, "dummy"),
        killpower: mon.killpower_check(),
        exit_ok: exit.success(),
    }
}

#[test]
fn s1_single_primary_shuts_down_once() {
    let (ours, debian) = both(single_primary);
    for (who, r) in [("ours", &ours), ("debian", &debian)] {
        assert_eq!(r.shutdowns, 1, "{who}: SHUTDOWNCMD runs exactly once");
        assert_eq!(
            r.flag.as_deref(),
            Some("upsmon-shutdown-file"),
            "{who}: POWERDOWNFLAG"
        );
        assert_eq!(r.ups_status, "FSD OB LB", "{who}: FSD latched in upsd");
        assert_eq!(r.killpower, Some(0), "{who}: upsmon -K");
        assert!(r.exit_ok, "{who}: upsmon exits cleanly after the shutdown");
    }
    assert_eq!(
        ours.events,
        strings(&["ONBATT dummy", "LOWBATT dummy", "FSD dummy", "SHUTDOWN"])
    );
    assert_eq!(without_own_fsd(&ours.events), debian.events);
}
