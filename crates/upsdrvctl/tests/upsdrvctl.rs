//! upsdrvctl with our dummy-ups: start/stop, retries, shutdown order, testing mode
//! compared with Debian's upsdrvctl 2.8.0, and the supervising mode.

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use nut_harness::{Impl, Signal, Stack, StackBuilder, bin, wait_until};

const WAIT: Duration = Duration::from_secs(20);

fn stack(global: &str, sections: &[(&str, &str)]) -> Stack {
    let ours = bin(Impl::Ours, "dummy-ups");
    let driverpath = ours.parent().expect("binary has a directory");
    let mut b = StackBuilder::new()
        .no_upsd()
        .ups_conf_global(&format!("driverpath = {}\n{global}", driverpath.display()))
        .file("a.dev", "ups.status: OL\n")
        .file("b.dev", "ups.status: OB\n");
    for (name, lines) in sections {
        b = b.ups_section(name, lines);
    }
    b.start()
}

fn run(s: &Stack, which: Impl, args: &[&str]) -> Output {
    s.command(which, "upsdrvctl")
        .args(args)
        .output()
        .expect("upsdrvctl runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn driver_pid(socket: &Path) -> Option<u32> {
    let mut stream = UnixStream::connect(socket).ok()?;
    stream.set_read_timeout(Some(WAIT)).ok()?;
    stream.write_all(b"NOBROADCAST\nGETPID\n").ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    line.trim().strip_prefix("PID ")?.parse().ok()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

const TWO: &[(&str, &str)] = &[
    ("a", "driver = dummy-ups\nport = a.dev"),
    ("b", "driver = dummy-ups\nport = b.dev"),
];

#[test]
fn start_and_stop_every_driver() {
    let s = stack("", TWO);
    let out = run(&s, Impl::Ours, &["start"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pids: Vec<u32> = ["a", "b"]
        .iter()
        .map(|n| driver_pid(&s.dir().join(format!("dummy-ups-{n}"))).expect("driver serves"))
        .collect();
    // Starting again changes nothing and is not an error.
    let out = run(&s, Impl::Ours, &["start", "a"]);
    assert!(out.status.success());
    assert!(stderr(&out).contains("Driver for UPS [a] is already running"));
    assert_eq!(driver_pid(&s.dir().join("dummy-ups-a")), Some(pids[0]));

    let out = run(&s, Impl::Ours, &["stop"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for pid in pids {
        assert!(!alive(pid), "driver {pid} still running after stop");
    }
    assert!(!s.dir().join("dummy-ups-a.pid").exists());
    let out = run(&s, Impl::Ours, &["stop", "a"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("dummy-ups-a.pid: No such file or directory"));
}

#[test]
fn failed_starts_are_retried_maxretry_times() {
    let s = stack(
        "maxretry = 3\nretrydelay = 1",
        &[("bad", "driver = dummy-ups\nport = missing.dev")],
    );
    let out = run(&s, Impl::Ours, &["start"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(
        err.matches("Driver failed to start (exit status=1)")
            .count(),
        3,
        "{err}"
    );
    let out = run(&s, Impl::Ours, &["start", "nosuch"]);
    assert!(!out.status.success());
    assert_eq!(stderr(&out).trim(), "UPS nosuch not found in ups.conf");
    let out = run(&s, Impl::Ours, &["bogus"]);
    assert!(!out.status.success());
    assert_eq!(stderr(&out).trim(), "Error: unrecognized command [bogus]");
}

/// The debug lines of a testing-mode run, without timestamps and without the explanatory
/// note (worded differently on purpose).
fn testing_lines(o: &Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter_map(|l| l.split_once('\t').map(|(_, rest)| rest.to_owned()))
        .filter(|l| !l.starts_with("[D2] Note") && l != "[D2] ")
        .collect()
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn testing_mode_matches_debian() {
    let s = stack(
        "maxretry = 2",
        &[
            ("a", "driver = dummy-ups\nport = a.dev\nsdorder = 2"),
            ("b", "driver = dummy-ups\nport = b.dev"),
            ("c", "driver = nosuchdriver\nport = x\nsdorder = 1"),
            ("d", "driver = dummy-ups\nport = b.dev\nsdorder = -1"),
        ],
    );
    for args in [
        &["-t", "start"][..],
        &["-t", "stop"],
        &["-t", "shutdown"],
        &["-t", "-u", "nut", "start", "b"],
    ] {
        let theirs = run(&s, Impl::Debian, args);
        let ours = run(&s, Impl::Ours, args);
        assert_eq!(
            testing_lines(&ours),
            testing_lines(&theirs),
            "upsdrvctl {args:?}"
        );
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "upsdrvctl {args:?}"
        );
        assert_eq!(ours.stdout, theirs.stdout, "upsdrvctl {args:?}");
    }
}

#[test]
fn shutdown_runs_the_driver_with_k() {
    let s = stack("", &[("a", "driver = dummy-ups\nport = a.dev")]);
    let out = run(&s, Impl::Ours, &["shutdown"]);
    // dummy-ups cannot cut the power.
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("shutdown not supported"), "{err}");
    assert!(
        err.contains("Driver failed to start (exit status=1)"),
        "{err}"
    );
}

#[test]
fn supervising_mode_restarts_a_driver_that_dies() {
    let mut s = stack("retrydelay = 1", TWO);
    let mut cmd = s.command(Impl::Ours, "upsdrvctl");
    cmd.args(["-F", "start"]);
    let ctl = s.spawn_as("upsdrvctl -F", cmd);
    let socket = s.dir().join("dummy-ups-a");
    let first = wait_until("driver a to serve", WAIT, || driver_pid(&socket));
    wait_until("driver b to serve", WAIT, || {
        driver_pid(&s.dir().join("dummy-ups-b"))
    });
    // Crash it.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(first as i32), Signal::SIGKILL).unwrap();
    let second = wait_until("driver a to be restarted", WAIT, || {
        driver_pid(&socket).filter(|p| *p != first)
    });
    assert!(alive(second));
    ctl.wait_output("Driver for UPS [a] died (signal 9)", WAIT);
    // SIGTERM stops upsdrvctl and its drivers.
    ctl.signal(Signal::SIGTERM);
    assert!(ctl.wait_exit(WAIT).success());
    wait_until("drivers to stop", WAIT, || (!alive(second)).then_some(()));
}
