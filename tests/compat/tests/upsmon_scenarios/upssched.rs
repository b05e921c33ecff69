//! Scenario 9: upsmon with upssched as NOTIFYCMD (ours with ours, Debian's with Debian's).

use nut_harness::Impl;

use super::support::*;
use super::{PRIMARY, strings};

// ---- 9. upssched timers ----------------------------------------------------------------------

/// Write upssched.conf (with `rules`) and its CMDSCRIPT into upsmon `tag`'s config dir;
/// returns the file CMDSCRIPT appends `<arg> <UPSNAME> <NOTIFYTYPE>` lines to.
fn upssched_files(stack: &nut_harness::Stack, tag: &str, rules: &str) -> std::path::PathBuf {
    let dir = stack.dir();
    let log = dir.join(format!("{tag}-timers.log"));
    let conf_dir = dir.join(format!("{tag}-conf"));
    stack.write_executable(
        &format!("{tag}-conf/cmd.sh"),
        format!(
            "#!/bin/sh\necho \"$1 $UPSNAME $NOTIFYTYPE\" >> {}\n",
            log.display()
        ),
    );
    stack.write_file(
        &format!("{tag}-conf/upssched.conf"),
        format!(
            "CMDSCRIPT {}/cmd.sh\nPIPEFN {}/{tag}-upssched.pipe\nLOCKFN {}/{tag}-upssched.lock\n{rules}",
            conf_dir.display(),
            dir.display(),
            dir.display()
        ),
    );
    log
}

fn timer_lines(log: &std::path::Path, port: u16) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| l.replace(&format!("@127.0.0.1:{port}"), ""))
        .collect()
}

fn wait_timer_lines(log: &std::path::Path, port: u16, n: usize) -> Vec<String> {
    nut_harness::wait_until(
        &format!("{n} CMDSCRIPT runs in {}", log.display()),
        STEP,
        || {
            let lines = timer_lines(log, port);
            (lines.len() >= n).then_some(lines)
        },
    )
}

fn upssched_timers(which: Impl) -> Vec<String> {
    let mut stack = stack(&["dummy"]);
    // The witness timer starts on ONLINE and outlasts a 3 s timer started before it: once
    // the witness ran, a cancelled `onbatt` would have run too.
    let log = upssched_files(
        &stack,
        "primary",
        "AT ONBATT * START-TIMER onbatt 3\n\
         AT ONLINE * CANCEL-TIMER onbatt\n\
         AT ONLINE * START-TIMER witness 4\n",
    );
    let mon = start_chained(
        &mut stack,
        which,
        "primary",
        &format!("{PRIMARY}HOSTSYNC 3\n"),
        &nut_harness::bin(which, "upssched"),
    );
    let port = stack.port();
    wait_logins(&stack, "dummy", 1);
    // A short ONBATT: the timer is cancelled.
    set_status(&stack, "dummy", "OB");
    mon.wait_event("ONBATT dummy");
    set_status(&stack, "dummy", "OL");
    mon.wait_event("ONLINE dummy");
    wait_timer_lines(&log, port, 1);
    // A lasting ONBATT: the command runs once.
    set_status(&stack, "dummy", "OB");
    mon.wait_count("ONBATT dummy", 2);
    wait_timer_lines(&log, port, 2);
    set_status(&stack, "dummy", "OL");
    mon.wait_count("ONLINE dummy", 2);
    wait_timer_lines(&log, port, 3)
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn s9_upssched_timer_cancelled_by_online_and_run_once() {
    let (ours, debian) = both(upssched_timers);
    let names = |lines: &[String]| {
        lines
            .iter()
            .map(|l| l.split(' ').next().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    let want = strings(&["witness", "onbatt", "witness"]);
    assert_eq!(names(&ours), want, "ours: {ours:?}");
    assert_eq!(names(&debian), want, "debian: {debian:?}");
    // Each timer runs with the event that started it (NUT 2.8.5+). 2.8.0's daemon keeps the
    // environment of the invocation that started the daemon (docs/nut-behaviour.md §7).
    assert_eq!(
        ours,
        strings(&[
            "witness dummy ONLINE",
            "onbatt dummy ONBATT",
            "witness dummy ONLINE"
        ])
    );
}

fn upssched_cancel_matched(which: Impl) -> Vec<String> {
    let mut stack = stack(&["alpha", "beta"]);
    let log = upssched_files(
        &stack,
        "host",
        "AT ONBATT * START-TIMER onbatt 3\n\
         AT ONLINE * CANCEL-TIMER-MATCHED onbatt\n\
         AT ONLINE * START-TIMER witness 5\n",
    );
    let mon = start_chained(
        &mut stack,
        which,
        "host",
        "MONITOR alpha@127.0.0.1:{port} 1 admin adminpass primary\n\
         MONITOR beta@127.0.0.1:{port} 1 admin adminpass primary\n\
         MINSUPPLIES 1\nHOSTSYNC 3\n",
        &nut_harness::bin(which, "upssched"),
    );
    let port = stack.port();
    wait_logins(&stack, "alpha", 1);
    wait_logins(&stack, "beta", 1);
    set_status(&stack, "alpha", "OB");
    mon.wait_event("ONBATT alpha");
    set_status(&stack, "beta", "OB");
    mon.wait_event("ONBATT beta");
    // alpha's power returns: only alpha's timer is cancelled.
    set_status(&stack, "alpha", "OL");
    mon.wait_event("ONLINE alpha");
    let lines = wait_timer_lines(&log, port, 1);
    if lines.iter().any(|l| l.starts_with("witness")) {
        return lines;
    }
    wait_until_line(&log, port, "witness")
}

fn wait_until_line(log: &std::path::Path, port: u16, prefix: &str) -> Vec<String> {
    nut_harness::wait_until(&format!("{prefix} in {}", log.display()), STEP, || {
        let lines = timer_lines(log, port);
        lines.iter().any(|l| l.starts_with(prefix)).then_some(lines)
    })
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn s9b_upssched_cancel_timer_matched() {
    let (ours, debian) = both(upssched_cancel_matched);
    // Fixed (docs/nut-behaviour.md §12 item 9): CANCEL-TIMER-MATCHED cancels only the timer the
    // same UPS started, so beta's still runs.
    assert_eq!(
        ours,
        strings(&["onbatt beta ONBATT", "witness alpha ONLINE"])
    );
    // 2.8.0's AT parser does not know CANCEL-TIMER-MATCHED: nothing is cancelled.
    let onbatt = debian.iter().filter(|l| l.starts_with("onbatt")).count();
    assert_eq!(onbatt, 2, "debian: {debian:?}");
}
