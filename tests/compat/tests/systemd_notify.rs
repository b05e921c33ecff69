//! issue 7 (docs/issues.md), acceptance (b): the test acts as systemd. It binds a `NOTIFY_SOCKET` (with
//! `SO_PASSCRED`, so it knows who sent each message), starts every daemon exactly as its unit
//! does (flags, environment, group and runtime directory read from packaging/systemd), and
//! checks `READY=1` from the main process (`NotifyAccess=main`: anything from another process
//! would be dropped by systemd), then `RELOADING=1` + `READY=1` on the unit's `ExecReload=`,
//! then `STOPPING=1` and a clean exit on stop. With a watchdog configured, `WATCHDOG=1` pings.
//!
//! These tests fail (loudly) for a daemon that is not built yet or not finished; see the
//! report in docs/systemd.md for the state of each daemon.

use crate::systemd_support;

use nut_harness::notify::{Notification, NotifySocket};
use systemd_support::service::TIMEOUT;
use systemd_support::{Kind, Scenario, UPS};

/// What the daemon must visibly do once it says it is ready (READY=1 must mean ready).
fn check_serving(scenario: &Scenario, daemon: &nut_harness::Daemon) {
    match scenario.kind {
        Kind::Server => {
            let reply = nut_harness::wait_until("upsd to serve the UPS", TIMEOUT, || {
                scenario.upsd_status().filter(|r| r.contains("OL"))
            });
            assert_eq!(reply, format!("VAR {UPS} ups.status \"OL\""));
        }
        Kind::Driver => {
            let socket = scenario.root.run().join(format!("dummy-ups-{UPS}"));
            assert!(
                std::os::unix::net::UnixStream::connect(&socket).is_ok(),
                "READY=1 was sent but the driver socket {} does not accept connections; log:\n{}",
                socket.display(),
                daemon.output_so_far()
            );
        }
        Kind::Logger => {
            let log = scenario.root.path().join("log/nut/ups.log");
            nut_harness::wait_until("upslog to write a line", TIMEOUT, || {
                std::fs::read_to_string(&log)
                    .ok()
                    .filter(|t| t.contains("100"))
            });
        }
        Kind::Monitor => {}
    }
}

/// Wait for a message matching `pred` at or after `from`; panic with the transcript.
fn expect(
    socket: &NotifySocket,
    daemon: &nut_harness::Daemon,
    from: usize,
    what: &str,
    pred: impl Fn(&Notification) -> bool,
) -> usize {
    match socket.wait(from, TIMEOUT, pred) {
        Some((index, _)) => index,
        None => panic!(
            "{}: no {what} within {TIMEOUT:?}.\nnotifications:\n{}\ndaemon output:\n{}",
            daemon.label(),
            socket.transcript(),
            daemon.output_so_far()
        ),
    }
}

/// systemd's `NotifyAccess=main`: every message must come from the main PID, and a
/// `MAINPID=` may only confirm it.
fn check_senders(socket: &NotifySocket, daemon: &nut_harness::Daemon) {
    let main = daemon.pid() as i32;
    for n in socket.all() {
        assert_eq!(
            n.pid,
            Some(main),
            "{}: message {:?} came from PID {:?}, not from the main PID {main}; systemd \
             (NotifyAccess=main) would ignore it.\nall notifications:\n{}",
            daemon.label(),
            n.text,
            n.pid,
            socket.transcript()
        );
        if let Some(pid) = n.get("MAINPID") {
            assert_eq!(pid, main.to_string(), "{}: MAINPID", daemon.label());
        }
    }
}

fn notify_cycle(kind: Kind) {
    let scenario = Scenario::new(kind);
    let socket = NotifySocket::bind(scenario.root.path());
    let mut service = scenario.notified_service(&socket);
    scenario.root.create_runtime_directory(&service.unit);
    // nut-server is ordered after nut-driver.target: its driver runs first.
    let _driver = (kind == Kind::Server).then(|| scenario.start_reference_driver());

    let daemon = service.start();
    let ready = expect(&socket, &daemon, 0, "READY=1", |n| n.has("READY", "1"));
    assert!(daemon.is_running(), "{}", daemon.output_so_far());
    check_serving(&scenario, &daemon);

    let (status, output) = service.reload();
    assert!(
        status.success(),
        "{}: ExecReload failed ({status}): {output}",
        service.unit.name
    );
    let reloading = expect(
        &socket,
        &daemon,
        ready + 1,
        "RELOADING=1 after ExecReload",
        |n| n.has("RELOADING", "1"),
    );
    expect(
        &socket,
        &daemon,
        reloading + 1,
        "READY=1 after RELOADING=1",
        |n| n.has("READY", "1"),
    );
    assert!(daemon.is_running(), "{}", daemon.output_so_far());
    check_serving(&scenario, &daemon);

    let before_stop = socket.count();
    let status = service.stop();
    expect(
        &socket,
        &daemon,
        before_stop,
        "STOPPING=1 on SIGTERM",
        |n| n.has("STOPPING", "1"),
    );
    assert_eq!(
        status.code(),
        Some(0),
        "{}: a stop must be a clean exit ({status}); output:\n{}",
        daemon.label(),
        daemon.output_so_far()
    );
    check_senders(&socket, &daemon);
}

fn watchdog(kind: Kind) {
    let scenario = Scenario::new(kind);
    let socket = NotifySocket::bind(scenario.root.path());
    let mut service = scenario.notified_service(&socket);
    scenario.root.create_runtime_directory(&service.unit);
    let _driver = (kind == Kind::Server).then(|| scenario.start_reference_driver());
    // WatchdogSec=2s: systemd expects a ping at least every 2 s (daemons ping every half).
    let daemon = service.start_with_watchdog(2_000_000);
    let ready = expect(&socket, &daemon, 0, "READY=1", |n| n.has("READY", "1"));
    let first = expect(&socket, &daemon, ready, "WATCHDOG=1", |n| {
        n.has("WATCHDOG", "1")
    });
    expect(&socket, &daemon, first + 1, "a second WATCHDOG=1", |n| {
        n.has("WATCHDOG", "1")
    });
    service.stop();
    check_senders(&socket, &daemon);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn nut_server_notifies_ready_reloading_stopping() {
    notify_cycle(Kind::Server);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn nut_monitor_notifies_ready_reloading_stopping() {
    notify_cycle(Kind::Monitor);
}

#[test]
fn nut_driver_notifies_ready_reloading_stopping() {
    notify_cycle(Kind::Driver);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn nut_logger_notifies_ready_reloading_stopping() {
    notify_cycle(Kind::Logger);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn nut_server_pings_the_watchdog() {
    watchdog(Kind::Server);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn nut_monitor_pings_the_watchdog() {
    watchdog(Kind::Monitor);
}

#[test]
fn nut_driver_pings_the_watchdog() {
    watchdog(Kind::Driver);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn nut_logger_pings_the_watchdog() {
    watchdog(Kind::Logger);
}
