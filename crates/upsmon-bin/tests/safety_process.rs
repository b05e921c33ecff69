//! Regressions of issue 12 (docs/issues.md) (upsmon items 1, 2, 3, 4, 6, 10 and POWERDOWNFLAG) at process
//! level: our upsmon against Debian's upsd and dummy-ups, plus loopback servers the test
//! controls (one that never answers, one it can cut off), and an sd_notify socket standing in
//! for systemd.

use std::time::Instant;

use nut_harness::wait_until;

use nut_harness::notify::NotifySocket;

use crate::support;
use support::{
    FakeUpsd, HungServer, Mon, NOTIFY_SCRIPT, PRIMARY, STEP, set_status, stack, wait_logins,
};

/// A MONITOR line for a server on `port` that carries no power (it cannot cause a shutdown).
fn extra_line(name: &str, port: u16, role: &str) -> String {
    format!("MONITOR {name}@127.0.0.1:{port} 0 admin adminpass {role}\n")
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn reload_that_removes_an_entry_mid_poll_keeps_monitoring() {
    // Item 1: the admin removes the MONITOR line of a host whose poll is still outstanding
    // (here: a server that never answers, with a 20 s timeout) and reloads.
    let mut stack = stack();
    set_status(&stack, "OB");
    let hung = HungServer::start();
    let mon = Mon::new(
        &stack,
        "reload",
        &format!("{PRIMARY}{}", extra_line("hung", hung.port(), "secondary")),
    );
    let daemon = mon.spawn(&mut stack, "upsmon reload", &["-F", "-W", "20"]);
    // The dummy's poll has been answered; the hung one is outstanding.
    mon.wait_event("ONBATT");
    mon.write_conf(&stack, PRIMARY);
    assert_eq!(mon.run(&["-c", "reload"]).status.code(), Some(0));
    daemon.wait_output("Reloading configuration", STEP);
    // Monitoring goes on: a later OB LB on the remaining UPS shuts the host down.
    set_status(&stack, "OB LB");
    assert_eq!(mon.wait_shutdowncmd(), ["0"]);
    assert!(daemon.wait_exit(STEP).success());
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn a_server_that_never_answers_does_not_hold_the_shutdown() {
    // Item 10: a power-value-0 entry whose upsd accepts but never answers (600 s timeout)
    // must not keep a primary at OB LB from shutting down.
    let mut stack = stack();
    let hung = HungServer::start();
    let mon = Mon::new(
        &stack,
        "hung",
        &format!("{PRIMARY}{}", extra_line("hung", hung.port(), "secondary")),
    );
    let daemon = mon.spawn(&mut stack, "upsmon hung", &["-F", "-W", "600"]);
    wait_logins(&stack, 1);
    set_status(&stack, "OB LB");
    assert_eq!(mon.wait_shutdowncmd(), ["0"]);
    assert!(daemon.wait_exit(STEP).success());
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn stop_request_during_hostsync_does_not_abandon_the_shutdown() {
    // Item 3: FSD is latched and the secondaries are going down; `upsmon -c stop` now must
    // not leave the primary running without SHUTDOWNCMD and POWERDOWNFLAG.
    let mut stack = stack();
    let mon = Mon::with(
        &stack,
        "stop",
        PRIMARY,
        "NOTIFYFLAG SHUTDOWN_HOSTSYNC SYSLOG+EXEC\nHOSTSYNC 60\n",
        NOTIFY_SCRIPT,
    );
    let daemon = mon.spawn(&mut stack, "upsmon stop", &["-F"]);
    wait_logins(&stack, 1);
    // A secondary, logged in.
    let mut secondary = stack.conn();
    assert_eq!(secondary.request("USERNAME monuser"), ["OK"]);
    assert_eq!(secondary.request("PASSWORD monpass"), ["OK"]);
    assert_eq!(secondary.request("LOGIN dummy"), ["OK"]);
    wait_logins(&stack, 2);
    set_status(&stack, "OB LB");
    mon.wait_event("SHUTDOWN_HOSTSYNC");
    assert_eq!(mon.run(&["-c", "stop"]).status.code(), Some(0));
    daemon.wait_output("shutdown in progress, not exiting", STEP);
    assert!(daemon.is_running(), "{}", daemon.output_so_far());
    // The secondary logs out: the primary goes on and shuts down, then honours the stop.
    assert_eq!(secondary.request("LOGOUT"), ["OK Goodbye"]);
    assert_eq!(mon.wait_shutdowncmd(), ["0"]);
    assert_eq!(
        std::fs::read_to_string(mon.killpower(&stack)).unwrap(),
        "upsmon-shutdown-file"
    );
    assert!(daemon.wait_exit(STEP).success());
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn a_slow_notifier_does_not_delay_the_shutdown_notifications() {
    // Item 4: a NOTIFYCMD that takes long on LOWBATT; FSD and SHUTDOWN notifiers still start
    // at once, within FINALDELAY, before SHUTDOWNCMD.
    let mut stack = stack();
    let script = format!("{NOTIFY_SCRIPT}if [ \"$NOTIFYTYPE\" = LOWBATT ]; then sleep 15; fi\n");
    let mon = Mon::with(&stack, "slow", PRIMARY, "FINALDELAY 3\n", &script);
    let daemon = mon.spawn(&mut stack, "upsmon slow", &["-F"]);
    wait_logins(&stack, 1);
    set_status(&stack, "OB LB");
    mon.wait_shutdowncmd();
    let events = mon.events();
    for kind in ["ONBATT", "LOWBATT", "FSD", "SHUTDOWN"] {
        let prefix = format!("{kind} ");
        assert!(
            events.iter().any(|e| e.starts_with(&prefix)),
            "{kind} notifier started before SHUTDOWNCMD: {events:?}"
        );
    }
    assert!(daemon.wait_exit(STEP).success());
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn shutdown_sequence_does_not_reconnect_to_a_lost_server() {
    // Item 6: FSD and the HOSTSYNC NUMLOGINS queries use the existing connection or give up
    // at once; reconnecting to a black-holed upsd would cost a connect timeout per step.
    let mut stack = stack();
    let fake = FakeUpsd::start();
    let mon = Mon::with(
        &stack,
        "noreconnect",
        &format!("{PRIMARY}{}", extra_line("fake", fake.port(), "primary")),
        // No poll round between cutting the server off and the FSD request.
        "POLLFREQ 60\nPOLLFREQALERT 60\nHOSTSYNC 25\n",
        NOTIFY_SCRIPT,
    );
    let daemon = mon.spawn(&mut stack, "upsmon noreconnect", &["-F", "-W", "600"]);
    wait_logins(&stack, 1);
    wait_until("the fake upsd polled", STEP, || {
        (!fake.status_polls().is_empty()).then_some(())
    });
    fake.blackhole();
    let connections = fake.connections();
    assert_eq!(mon.run(&["-c", "fsd"]).status.code(), Some(0));
    assert_eq!(mon.wait_shutdowncmd(), ["0"]);
    assert_eq!(
        fake.connections(),
        connections,
        "no new connection to the lost server during the shutdown sequence"
    );
    assert!(daemon.wait_exit(STEP).success());
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn watchdog_pings_only_while_the_monitor_polls() {
    // Item 2: acting as systemd (NOTIFY_SOCKET + WATCHDOG_USEC). Every WATCHDOG=1 must come
    // with monitoring actually going on: here, with a status poll of the UPS in the watchdog
    // interval before it. The stall is provoked as in item 1 (a reload mid-round), which
    // stopped monitoring for good while a free-running timer kept pinging.
    let mut stack = stack();
    let fake = FakeUpsd::start();
    let hung = HungServer::start();
    let fake_line = format!(
        "MONITOR fake@127.0.0.1:{} 1 admin adminpass primary\n",
        fake.port()
    );
    let mon = Mon::new(
        &stack,
        "watchdog",
        &format!(
            "{fake_line}{}",
            extra_line("hung", hung.port(), "secondary")
        ),
    );
    let socket = NotifySocket::bind(stack.dir());
    let interval = std::time::Duration::from_secs(4);
    let mut cmd = mon.command(&["-F", "-W", "20"]);
    cmd.env("NOTIFY_SOCKET", socket.path())
        .env("WATCHDOG_USEC", interval.as_micros().to_string());
    let daemon = stack.spawn_as("upsmon watchdog", cmd);
    wait_until("the fake upsd polled", STEP, || {
        (!fake.status_polls().is_empty()).then_some(())
    });
    mon.write_conf(&stack, &fake_line);
    assert_eq!(mon.run(&["-c", "reload"]).status.code(), Some(0));
    daemon.wait_output("Reloading configuration", STEP);
    let reloaded = Instant::now();
    // Watch the pings for a while (six of them, 2 s apart).
    let pings = || -> Vec<Instant> {
        let all = socket.all().into_iter();
        all.filter(|n| n.has_line("WATCHDOG=1"))
            .map(|n| n.received)
            .collect()
    };
    wait_until("six WATCHDOG=1 after the reload", STEP, || {
        let after = pings().into_iter().filter(|p| *p > reloaded).count();
        (after >= 6).then_some(())
    });
    let pings = pings();
    let polls = fake.status_polls();
    for ping in pings.iter().filter(|p| **p > reloaded + interval) {
        assert!(
            polls
                .iter()
                .any(|poll| *poll <= *ping && ping.duration_since(*poll) <= interval),
            "WATCHDOG=1 {:?} after the reload with no status poll in the {interval:?} before it \
             (polls at {:?} after the reload)",
            ping.duration_since(reloaded),
            polls
                .iter()
                .filter(|p| **p > reloaded)
                .map(|p| p.duration_since(reloaded))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn powerdownflag_planted_as_a_symlink_is_not_written_through() {
    // Item 11 (upsmon's part): after start-up someone replaces POWERDOWNFLAG with a symlink
    // to another file; the root parent must not overwrite that file at shutdown, and the
    // shutdown itself still happens.
    let mut stack = stack();
    let mon = Mon::new(&stack, "planted", PRIMARY);
    let daemon = mon.spawn(&mut stack, "upsmon planted", &["-F"]);
    wait_logins(&stack, 1);
    let victim = stack.dir().join("victim");
    std::fs::write(&victim, "root-only secret\n").unwrap();
    std::os::unix::fs::symlink(&victim, mon.killpower(&stack)).unwrap();
    set_status(&stack, "OB LB");
    assert_eq!(mon.wait_shutdowncmd(), ["0"]);
    assert!(daemon.wait_exit(STEP).success());
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "root-only secret\n"
    );
    assert!(
        daemon.output_so_far().contains("is a symbolic link"),
        "{}",
        daemon.output_so_far()
    );
}
