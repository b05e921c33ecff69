//! The pty shell and the `serialsim` program, driven directly from the test (no driver):
//! real ptys, real bytes.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use nut_harness::{Daemon, wait_until};
use nut_rig::{Direction, Fault, Power, Protocol, PtySim, SimConfig, fixture_path};

const UPSMART: &str = "megatec-upsmart_mec0003_0001-0000.txt";
const DEADLINE: Duration = Duration::from_secs(10);

fn open_port(path: &Path) -> File {
    let port = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    // The simulator set the slave raw; reads must not block forever in a failing test.
    nix::sys::termios::tcgetattr(&port).expect("a tty");
    port
}

/// Reads until `terminator` is at the end of what came in, or the deadline passes.
fn read_reply(port: &mut File, terminator: &[u8], timeout: Duration) -> Vec<u8> {
    use std::os::fd::AsFd;
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    while !got.ends_with(terminator) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let mut fds = [nix::poll::PollFd::new(
            port.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        let millis = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        if nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(millis)).unwrap_or(0) == 0 {
            continue;
        }
        let mut buf = [0u8; 256];
        let n = port.read(&mut buf).expect("read the pty");
        got.extend_from_slice(&buf[..n]);
    }
    got
}

fn ask(port: &mut File, request: &[u8]) -> Vec<u8> {
    port.write_all(request).expect("write the pty");
    read_reply(port, b"\r", DEADLINE)
}

fn upsmart() -> SimConfig {
    SimConfig::from_fixture(Protocol::Megatec, fixture_path(UPSMART)).expect("fixture")
}

#[test]
fn a_pty_simulator_serves_logs_and_cleans_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let link = dir.path().join("ttyQX");
    let sim = PtySim::start_linked(upsmart(), &link).expect("start");
    assert_eq!(sim.path(), link);
    assert!(
        sim.pty_path().starts_with("/dev/pts"),
        "{}",
        sim.pty_path().display()
    );
    let mode = std::fs::metadata(sim.pty_path())
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o666,
        0o666,
        "drivers that drop privileges must open it"
    );

    let mut port = open_port(&link);
    assert_eq!(
        ask(&mut port, b"Q1\r"),
        b"(232.0 000.0 232.0 000 49.9 13.6 29.0 00001000\r"
    );
    assert_eq!(
        ask(&mut port, b"I\r"),
        b"#                           V3.8      \r"
    );
    // Unknown commands come back as sent.
    assert_eq!(ask(&mut port, b"QPI\r"), b"QPI\r");
    // A driver closing and reopening the port keeps talking to the same unit.
    drop(port);
    let mut port = open_port(&link);
    assert_eq!(
        ask(&mut port, b"Q1\r"),
        b"(232.0 000.0 232.0 000 49.7 13.6 29.0 00001000\r"
    );

    sim.set_power(Some(Power::LowBattery));
    assert_eq!(
        ask(&mut port, b"Q1\r"),
        b"(000.0 000.0 232.0 000 49.9 13.6 29.0 11001000\r"
    );
    sim.set_fault(Some(Fault::Silent));
    port.write_all(b"Q1\r").expect("write");
    wait_until("the silent exchange", DEADLINE, || {
        (sim.mark() == 6).then_some(())
    });
    sim.set_fault(None);

    let requests: Vec<Vec<u8>> = sim.exchanges().into_iter().map(|e| e.request).collect();
    assert_eq!(
        requests,
        [&b"Q1\r"[..], b"I\r", b"QPI\r", b"Q1\r", b"Q1\r", b"Q1\r"]
    );
    assert_eq!(sim.status_polls(), 4);
    let received: Vec<u8> = sim
        .raw()
        .into_iter()
        .filter(|r| r.direction == Direction::Received)
        .flat_map(|r| r.bytes)
        .collect();
    assert_eq!(received, b"Q1\rI\rQPI\rQ1\rQ1\rQ1\r");
    assert_eq!(sim.log_text().lines().count(), 6);
    assert!(
        sim.log_text().ends_with("\"Q1\\r\" -> (silence)\n"),
        "{}",
        sim.log_text()
    );

    drop(sim);
    assert!(!link.exists(), "the symlink outlived the simulator");
}

#[test]
fn slow_replies_arrive_late_but_whole() {
    let sim = PtySim::start(upsmart().fixed()).expect("start");
    let mut port = open_port(sim.pty_path());
    sim.set_fault(Some(Fault::Slow(Duration::from_millis(400))));
    assert_eq!(ask(&mut port, b"F\r"), b"#   .   .  12.00   . \r");
    // On the simulator's own clock, the reply left no earlier than 400 ms after the request.
    let raw = sim.raw();
    let received = raw
        .iter()
        .find(|r| r.direction == Direction::Received)
        .expect("in");
    let sent = raw
        .iter()
        .find(|r| r.direction == Direction::Sent)
        .expect("out");
    assert!(
        sent.at - received.at >= Duration::from_millis(400),
        "{raw:?}"
    );
}

fn serialsim(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_serialsim"));
    cmd.args(args);
    cmd
}

#[test]
fn serialsim_program_prints_the_pty_logs_and_takes_control_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (log, control) = (dir.path().join("log"), dir.path().join("control"));
    let fixture = fixture_path("megatec_ippon_0665-5161.txt");
    let cmd = serialsim(&[
        "--proto",
        "megatec",
        fixture.to_str().expect("utf-8 path"),
        "--set",
        "I=#ACME\\x20UPS",
        "--log",
        log.to_str().expect("utf-8"),
        "--control",
        control.to_str().expect("utf-8"),
    ]);
    let sim = Daemon::spawn("serialsim", cmd);
    let first = sim.wait_output("\n", DEADLINE);
    let path = first.lines().next().unwrap_or_default().to_owned();
    assert!(path.starts_with("/dev/pts/"), "{first:?}");
    let mut port = open_port(Path::new(&path));
    assert_eq!(ask(&mut port, b"I\r"), b"#ACME UPS\r");
    std::fs::write(&control, "power ob\nfault short:6\n").expect("control");
    let short = wait_until("the control lines to apply", DEADLINE, || {
        let reply = ask(&mut port, b"Q1\r");
        (reply == b"(000.0\r").then_some(reply)
    });
    assert_eq!(short, b"(000.0\r");
    let text = wait_until("the log", DEADLINE, || {
        let text = std::fs::read_to_string(&log).ok()?;
        text.contains("\"Q1\\r\" -> \"(000.0\\r\"").then_some(text)
    });
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.ends_with("\"I\\r\" -> \"#ACME UPS\\r\"")),
        "{text}"
    );
    sim.signal(nut_harness::Signal::SIGTERM);
    let status = sim.wait_exit(DEADLINE);
    assert!(status.success(), "{status}");
}

#[test]
fn serialsim_rejects_bad_arguments_clearly() {
    for (args, needle) in [
        (
            &["--proto", "modbus", "x"][..],
            "unknown protocol \"modbus\"",
        ),
        (
            &["--proto", "megatec", "/nonexistent/fixture.txt"][..],
            "/nonexistent/fixture.txt",
        ),
        (&["--proto", "megatec"][..], "FIXTURE is required"),
        (&["--fault", "loud"][..], "unknown fault \"loud\""),
        (&["--set", "noequals"][..], "expected CMD=REPLY"),
    ] {
        let fixture = fixture_path(UPSMART);
        let mut args = args.to_vec();
        if args[0] == "--set" {
            args.splice(
                0..0,
                ["--proto", "megatec", fixture.to_str().expect("utf-8")],
            );
        }
        let out = serialsim(&args).output().expect("serialsim");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// A driver that stops reading while the unit keeps answering: the replies wait for room
/// in the pty and none is lost or reordered.
#[test]
fn replies_wait_for_room_when_the_driver_does_not_read() {
    let sim = PtySim::start(upsmart().fixed()).expect("start");
    let mut port = open_port(sim.pty_path());
    let reply = b"(232.0 000.0 232.0 000 49.9 13.6 29.0 00001000\r";
    let count = 2000; // ~96 KB of replies, far more than a pty buffers
    for _ in 0..count {
        port.write_all(b"Q1\r").expect("write");
    }
    let want: Vec<u8> = reply.repeat(count);
    let mut got = Vec::with_capacity(want.len());
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.len() < want.len() && Instant::now() < deadline {
        got.extend(read_reply(&mut port, b"\r", DEADLINE));
    }
    assert_eq!(got.len(), want.len());
    assert!(got == want, "replies corrupted or reordered");
    assert_eq!(sim.status_polls(), count as u64);
}

/// Unplug closes the pty (the reader sees a hang-up) and removes the link; plug serves a
/// new pty at the same link with the simulator state kept.
#[test]
fn unplug_and_plug_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let link = dir.path().join("ttyUSB0");
    let mut sim = PtySim::start_linked(upsmart(), &link).expect("start");
    let mut port = open_port(&link);
    assert_eq!(
        ask(&mut port, b"Q1\r"),
        b"(232.0 000.0 232.0 000 49.9 13.6 29.0 00001000\r"
    );
    sim.unplug();
    assert!(!sim.is_plugged());
    assert!(!link.exists());
    // The old port is dead: reads end (EOF or EIO) instead of blocking.
    let mut buf = [0u8; 16];
    assert!(matches!(port.read(&mut buf), Ok(0) | Err(_)));
    sim.plug().expect("plug");
    let mut port = open_port(&link);
    // Replies go on cycling where they were.
    assert_eq!(
        ask(&mut port, b"Q1\r"),
        b"(232.0 000.0 232.0 000 49.7 13.6 29.0 00001000\r"
    );
    assert_eq!(sim.status_polls(), 2);
}
