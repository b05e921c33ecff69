//! Self-tests of the harness against Debian's NUT 2.8.0 (our daemons are tested by the
//! compatibility suites once they exist).

use std::path::Path;
use std::time::Duration;

use nut_harness::{Impl, Stack, StackBuilder, wait_until};

const DUMMY_DEV: &str = "ups.status: OL CHRG\nbattery.charge: 100\nups.id: harness\n";
const UPS1_DEV: &str = "ups.status: OB DISCHRG\nbattery.charge: 42\n";

fn debian_stack() -> Stack {
    StackBuilder::new()
        .upsd(Impl::Debian)
        .driver(Impl::Debian)
        .dummy("dummy", "dummy.dev", DUMMY_DEV)
        .ups_section("dummy", "desc = \"Crash Dummy\"")
        .dummy("UPS1", "UPS1.dev", UPS1_DEV)
        .start()
}

fn process_exists(pid: u32) -> bool {
    // A zombie still has a /proc entry; a reaped process has none.
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn debian_stack_serves_both_upses() {
    let stack = debian_stack();
    let mut conn = stack.conn();
    assert_eq!(
        conn.request("LIST UPS"),
        // ups.conf order.
        [
            "BEGIN LIST UPS",
            "UPS dummy \"Crash Dummy\"",
            "UPS UPS1 \"Description unavailable\"",
            "END LIST UPS",
        ]
    );
    assert_eq!(
        conn.request("GET VAR dummy ups.status"),
        ["VAR dummy ups.status \"OL CHRG\""]
    );
    assert_eq!(
        conn.request("GET VAR UPS1 battery.charge"),
        ["VAR UPS1 battery.charge \"42\""]
    );
    assert_eq!(
        conn.request_raw(b"GET VAR dummy ups.id\n"),
        b"VAR dummy ups.id \"harness\"\n"
    );
    assert_eq!(
        conn.request("GET VAR nosuch ups.status"),
        ["ERR UNKNOWN-UPS"]
    );
    assert_eq!(
        stack.ups_id("dummy"),
        format!("dummy@127.0.0.1:{}", stack.port())
    );

    // Debian's client agrees, with the stack's environment.
    let out = stack
        .command(Impl::Debian, "upsc")
        .arg(stack.ups_id("UPS1"))
        .arg("ups.status")
        .output()
        .expect("run upsc");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "OB DISCHRG\n");
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn logs_are_captured_and_labelled() {
    let stack = debian_stack();
    let upsd = stack.upsd_daemon().expect("upsd runs").clone();
    // upsd prints its listening line to stderr in foreground mode.
    upsd.wait_output("listening on 127.0.0.1 port", Duration::from_secs(10));
    let logs = stack.logs();
    assert!(logs.contains("===== upsd#1 (debian)"), "{logs}");
    assert!(logs.contains("===== dummy-ups[dummy] (debian)"), "{logs}");
    assert!(logs.contains("===== dummy-ups[UPS1] (debian)"), "{logs}");
    assert!(
        logs.contains(&format!("listening on 127.0.0.1 port {}", stack.port())),
        "{logs}"
    );
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn drop_kills_every_process_and_removes_the_dir() {
    let stack = debian_stack();
    let dir = stack.dir().to_path_buf();
    let pids: Vec<u32> = ["dummy", "UPS1"]
        .iter()
        .map(|n| stack.driver_daemon(n).expect("driver runs").pid())
        .chain(std::iter::once(
            stack.upsd_daemon().expect("upsd runs").pid(),
        ))
        .collect();
    assert!(pids.iter().all(|&p| process_exists(p)));
    drop(stack);
    for pid in pids {
        assert!(!process_exists(pid), "pid {pid} survived the stack");
    }
    assert!(!dir.exists(), "{} survived the stack", dir.display());
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn driver_and_upsd_restart() {
    let mut stack = debian_stack();
    let mut conn = stack.conn();
    stack.kill_driver("UPS1");
    // upsd notices the lost driver socket on its own schedule: poll for it.
    wait_until(
        "upsd to report UPS1's driver gone",
        Duration::from_secs(30),
        || {
            let reply = conn.request("GET VAR UPS1 ups.status");
            (reply == ["ERR DRIVER-NOT-CONNECTED"] || reply == ["ERR DATA-STALE"]).then_some(())
        },
    );
    stack.start_driver("UPS1");
    stack.wait_ups_ready("UPS1");

    let old_port = stack.port();
    stack.restart_upsd();
    assert_eq!(stack.port(), old_port);
    assert_eq!(
        stack.conn().request("GET VAR UPS1 ups.status"),
        ["VAR UPS1 ups.status \"OB DISCHRG\""]
    );
    // The first upsd's connection is gone with it.
    conn.expect_eof();
    assert!(stack.logs().contains("===== upsd#2 (debian)"));
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn spawned_daemons_are_tracked() {
    let mut stack = debian_stack();
    let mut cmd = std::process::Command::new("sh");
    cmd.args([
        "-c",
        "echo started in \"$PWD\" with $NUT_STATEPATH; exec sleep 600",
    ]);
    let daemon = stack.spawn(cmd);
    let dir = stack.dir().display().to_string();
    daemon.wait_output(
        &format!("started in {dir} with {dir}"),
        Duration::from_secs(10),
    );
    let pid = daemon.pid();
    drop(stack);
    // Our handle keeps the Daemon value alive, but the stack killed the process.
    assert!(daemon.try_wait().is_some());
    assert!(!process_exists(pid));
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
#[should_panic(expected = "exited early")]
fn a_broken_config_fails_fast_with_the_daemon_output() {
    // Debian's upsd refuses an ups.conf section without a driver.
    let _stack = StackBuilder::new()
        .upsd(Impl::Debian)
        .ups_section("broken", "port = nothing")
        .start();
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn debian_upsmon_logs_in_and_runs_notify_scripts() {
    let mut stack = debian_stack();
    stack.write_executable(
        "notify.sh",
        "#!/bin/sh\necho \"$NOTIFYTYPE $UPSNAME\" >> notify.log\n",
    );
    let dir = stack.dir().display().to_string();
    let conf = format!(
        "MONITOR {} 1 admin adminpass primary\n\
         MINSUPPLIES 1\n\
         SHUTDOWNCMD \"/bin/true\"\n\
         NOTIFYCMD {dir}/notify.sh\n\
         NOTIFYFLAG ONBATT SYSLOG+EXEC\n\
         POLLFREQ 1\nPOLLFREQALERT 1\n",
        stack.ups_id("dummy")
    );
    let upsmon = stack.upsmon(Impl::Debian, &conf);
    let mut conn = stack.conn();
    wait_until("upsmon to log in", Duration::from_secs(30), || {
        (conn.request("GET NUMLOGINS dummy") == ["NUMLOGINS dummy 1"]).then_some(())
    });
    // Going on battery makes upsmon run the script (as the unprivileged user nut, in a
    // dir the harness handed to nut).
    let mut admin = stack.conn();
    assert_eq!(admin.request("USERNAME admin"), ["OK"]);
    assert_eq!(admin.request("PASSWORD adminpass"), ["OK"]);
    assert_eq!(admin.request("SET VAR dummy ups.status \"OB\""), ["OK"]);
    let log = stack.dir().join("notify.log");
    let expected = format!("ONBATT {}", stack.ups_id("dummy"));
    wait_until("the ONBATT notification", Duration::from_secs(30), || {
        std::fs::read_to_string(&log)
            .ok()
            .filter(|t| t.contains(&expected))
    });
    assert!(upsmon.is_running(), "{}", upsmon.output_so_far());
    // 2.8.0 wrote its PID file to "/run/nut", which was the stack's private directory.
    assert!(stack.dir().join("run-nut-0/upsmon.pid").exists());

    // upsmon forks an unprivileged child: the whole process group must die with the stack.
    let group = upsmon.pid();
    assert!(
        group_members(group).len() >= 2,
        "upsmon runs as parent + child"
    );
    drop(upsmon);
    drop(stack);
    // The group got SIGKILL; grandchildren (upsmon's child, its notifier scripts) vanish once
    // the kernel has torn them down, which is not instantaneous.
    wait_until(
        "every process of upsmon's group to be gone",
        Duration::from_secs(10),
        || group_members(group).is_empty().then_some(()),
    );
}

/// Live (non-zombie) processes whose process group is `pgid`.
fn group_members(pgid: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the parenthesised command name: state ppid pgrp …
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string() {
            pids.push(pid);
        }
    }
    pids
}

/// `.device()` starts any driver program of the chosen implementation on a port written
/// quoted into ups.conf (here dummy-ups on a file whose name has a blank, which only
/// works quoted).
#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn device_sections_start_the_named_driver_with_a_quoted_port() {
    let stack = StackBuilder::new()
        .upsd(Impl::Debian)
        .device("dev", Impl::Debian, "dummy-ups", "my ups.dev")
        .file("my ups.dev", "ups.status: OB LB\nbattery.charge: 5\n")
        .ups_section("dev", "desc = \"device section\"")
        .start();
    let conf = std::fs::read_to_string(stack.dir().join("ups.conf")).expect("ups.conf");
    assert!(
        conf.contains("[dev]\n\tdriver = dummy-ups\n\tport = \"my ups.dev\"\n"),
        "{conf}"
    );
    assert_eq!(
        stack.driver_socket("dev"),
        stack.dir().join("dummy-ups-dev")
    );
    assert!(stack.driver_socket("dev").exists());
    let daemon = stack.driver_daemon("dev").expect("the driver runs");
    assert_eq!(daemon.label(), "dummy-ups[dev] (debian)");
    let mut conn = stack.conn();
    assert_eq!(
        conn.request("GET VAR dev ups.status"),
        ["VAR dev ups.status \"OB LB\""]
    );
}
