//! Behaviour of our dummy-ups behind Debian's upsd 2.8.0: scripted sequences, SET and
//! INSTCMD with tracking, bad input, single instance, `-c` commands.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::common;

use nut_harness::{Conn, Impl, Stack, StackBuilder, wait_until};

const WAIT: Duration = Duration::from_secs(20);

fn stack(name: &str, file: &str, contents: &str) -> Stack {
    StackBuilder::new()
        .upsd(Impl::Debian)
        .driver(Impl::Ours)
        .dummy(name, file, contents)
        .start()
}

fn get(conn: &mut Conn, ups: &str, var: &str) -> String {
    let reply = conn.request(&format!("GET VAR {ups} {var}"));
    let line = reply.first().cloned().unwrap_or_default();
    nut_core::token::split_line(&line)
        .ok()
        .and_then(|w| (w.first().map(String::as_str) == Some("VAR")).then(|| w.get(3).cloned()))
        .flatten()
        .unwrap_or(line)
}

fn login_admin(conn: &mut Conn) {
    assert_eq!(conn.request("USERNAME admin"), ["OK"]);
    assert_eq!(conn.request("PASSWORD adminpass"), ["OK"]);
    assert_eq!(conn.request("SET TRACKING ON"), ["OK"]);
}

fn tracked(conn: &mut Conn, request: &str) -> String {
    common::tracked(conn, request, WAIT)
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn seq_script_changes_reach_a_client_in_order() {
    let script = "ups.status: OL\nbattery.charge: 100\nTIMER 1\n\
                  ups.status: OB\nbattery.charge: 50\nTIMER 1\n\
                  ups.status: OB LB\nbattery.charge: 10\nTIMER 1\n";
    let s = stack("seq", "test.seq", script);
    let mut conn = s.conn();
    let cycle = ["OL", "OB", "OB LB"];
    let mut seen: Vec<String> = Vec::new();
    wait_until(
        "two full cycles of the script",
        Duration::from_secs(30),
        || {
            let status = get(&mut conn, "seq", "ups.status");
            if seen.last() != Some(&status) {
                seen.push(status);
            }
            (seen.len() >= 7).then_some(())
        },
    );
    let start = cycle
        .iter()
        .position(|c| *c == seen[0])
        .unwrap_or_else(|| panic!("unexpected status {:?}", seen[0]));
    for (i, status) in seen.iter().enumerate() {
        assert_eq!(
            status,
            cycle[(start + i) % 3],
            "transitions out of order: {seen:?}"
        );
    }
    assert_eq!(get(&mut conn, "seq", "driver.parameter.mode"), "dummy-loop");
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn set_and_instcmd_are_tracked_to_success_and_refusals_report_their_code() {
    let s = stack(
        "dummy",
        "dummy.dev",
        "ups.status: OL\nbattery.charge: 90\nups.id: myid\n",
    );
    let mut conn = s.conn();
    login_admin(&mut conn);
    assert_eq!(
        tracked(&mut conn, "SET VAR dummy ups.id \"a \\\"b\\\" c\""),
        "SUCCESS"
    );
    // The value went through the driver's broadcast intact (NUT 2.8.0 would mangle it).
    assert_eq!(get(&mut conn, "dummy", "ups.id"), "a \"b\" c");
    assert_eq!(
        tracked(&mut conn, "SET VAR dummy battery.charge 42"),
        "SUCCESS"
    );
    assert_eq!(get(&mut conn, "dummy", "battery.charge"), "42");
    assert_eq!(tracked(&mut conn, "INSTCMD dummy load.off"), "SUCCESS");
    // Refused by the driver: a numeric variable cannot hold text (STAT_SET_INVALID, 2).
    assert_eq!(
        tracked(&mut conn, "SET VAR dummy battery.charge \"abc\""),
        "ERR INVALID-ARGUMENT"
    );
    assert_eq!(get(&mut conn, "dummy", "battery.charge"), "42");
    // SET of ups.status goes through status handling.
    assert_eq!(
        tracked(&mut conn, "SET VAR dummy ups.status \"OB LB\""),
        "SUCCESS"
    );
    assert_eq!(get(&mut conn, "dummy", "ups.status"), "OB LB");
}

fn driver_line(sock: &mut BufReader<UnixStream>) -> String {
    let mut line = String::new();
    sock.read_line(&mut line).expect("driver answers");
    line
}

fn connect_driver(s: &Stack, name: &str) -> BufReader<UnixStream> {
    let stream = UnixStream::connect(s.driver_socket(name)).expect("driver socket accepts");
    stream
        .set_read_timeout(Some(WAIT))
        .expect("set a read timeout");
    BufReader::new(stream)
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn garbage_on_the_socket_gets_an_error_reply_and_others_keep_being_served() {
    let s = stack("dummy", "dummy.dev", "ups.status: OL\n");
    let mut bad = connect_driver(&s, "dummy");
    let mut good = connect_driver(&s, "dummy");
    // Broadcasts go to every client; keep this one quiet to read replies only.
    bad.get_mut().write_all(b"NOBROADCAST\n").unwrap();
    for (junk, reply) in [
        (&b"FOO bar\n"[..], "ERR UNKNOWN-COMMAND\n"),
        (b"SET ups.id\n", "ERR INVALID-ARGUMENT\n"),
        (b"INSTCMD a b c d e f\n", "ERR INVALID-ARGUMENT\n"),
        (b"GET VAR x \"a#b\"\n", "ERR INVALID-ARGUMENT\n"),
        (b"\xff\xfe\x00\x01 bogus\n", "ERR UNKNOWN-COMMAND\n"),
        (b"PING\n", "PONG\n"),
    ] {
        bad.get_mut().write_all(junk).unwrap();
        assert_eq!(driver_line(&mut bad), reply, "reply to {junk:?}");
    }
    good.get_mut().write_all(b"PING\n").unwrap();
    assert_eq!(driver_line(&mut good), "PONG\n");
    let mut conn = s.conn();
    assert_eq!(get(&mut conn, "dummy", "ups.status"), "OL");
    // 2.8.3+ commands.
    good.get_mut().write_all(b"GETPID\n").unwrap();
    let pid = s.driver_daemon("dummy").unwrap().pid();
    assert_eq!(driver_line(&mut good), format!("PID {pid}\n"));
    good.get_mut().write_all(b"DUMPSTATUS\n").unwrap();
    assert_eq!(driver_line(&mut good), "SETINFO ups.status \"OL\"\n");
    assert_eq!(driver_line(&mut good), "SETAUX ups.status 32\n");
    assert_eq!(driver_line(&mut good), "SETFLAGS ups.status RW STRING\n");
    assert_eq!(driver_line(&mut good), "DUMPDONE\n");
    good.get_mut().write_all(b"LOGOUT\n").unwrap();
    assert_eq!(driver_line(&mut good), "OK Goodbye\n");
    let mut rest = String::new();
    good.read_to_string(&mut rest).expect("clean close");
    assert_eq!(rest, "");
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn clients_vanishing_mid_broadcast_do_not_hurt_the_driver() {
    // NUT 2.8.0's dummy-ups could crash here (docs/nut-behaviour.md §3.5).
    let s = stack("dummy", "dummy.dev", "ups.status: OL\nups.id: x\n");
    let mut conn = s.conn();
    login_admin(&mut conn);
    for round in 0..20 {
        let mut clients: Vec<UnixStream> = (0..10)
            .map(|_| UnixStream::connect(s.driver_socket("dummy")).unwrap())
            .collect();
        for c in &mut clients {
            let _ = c.write_all(b"DUMPALL\n");
        }
        // Half of them go away without reading, while a SET makes the driver broadcast.
        clients.truncate(5);
        assert_eq!(
            tracked(&mut conn, &format!("SET VAR dummy ups.id r{round}")),
            "SUCCESS"
        );
        drop(clients);
    }
    assert!(s.driver_daemon("dummy").unwrap().is_running());
    assert_eq!(get(&mut conn, "dummy", "ups.id"), "r19");
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn a_malformed_dev_line_is_reported_with_file_and_line_and_skipped() {
    let s = stack(
        "dummy",
        "bad.dev",
        "ups.status: OL\nthis line has no colon\nbattery.charge: 77\nups.mfr: \"x#y\"\n",
    );
    let driver = s.driver_daemon("dummy").unwrap();
    let path = s.dir().join("bad.dev");
    driver.wait_output(&format!("{}:2: expected", path.display()), WAIT);
    driver.wait_output(&format!("{}:4: Unbalanced word", path.display()), WAIT);
    let mut conn = s.conn();
    assert_eq!(get(&mut conn, "dummy", "battery.charge"), "77");
    assert_eq!(get(&mut conn, "dummy", "ups.mfr"), "Dummy Manufacturer");
    assert!(driver.is_running());
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn a_second_instance_is_refused_and_c_commands_reach_the_running_driver() {
    let s = stack("dummy", "dummy.dev", "ups.status: OL\n");
    let out = s
        .command(Impl::Ours, "dummy-ups")
        .args(["-F", "-a", "dummy"])
        .output()
        .expect("run a second dummy-ups");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one clear line, got {stderr:?}");
    assert!(lines[0].contains("already running"), "{stderr}");
    let driver = s.driver_daemon("dummy").unwrap();
    assert!(driver.is_running());

    let status = s
        .command(Impl::Ours, "dummy-ups")
        .args(["-a", "dummy", "-c", "reload"])
        .status()
        .unwrap();
    assert!(status.success());
    driver.wait_output("Reloading configuration", WAIT);
    assert!(driver.is_running());

    let status = s
        .command(Impl::Ours, "dummy-ups")
        .args(["-a", "dummy", "-c", "exit"])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(driver.wait_exit(WAIT).success());
    assert!(!s.dir().join("dummy-ups-dummy.pid").exists());
    assert!(!s.driver_socket("dummy").exists());
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn nds_declarations_make_typed_writable_variables_and_commands() {
    let nds = "input.transfer.low: 100\nRW:input.transfer.low:ENUM:\"95\"\n\
               RW:input.transfer.low:ENUM:\"100\"\nbattery.charge.low: 20\n\
               RW:battery.charge.low:RANGE:\"10\" \"50\"\nups.id: x\nRW:ups.id:STRING:8\n\
               CMD:beeper.disable\nCMD:test.battery.start\n";
    let s = stack("nds", "dev.nds", nds);
    let mut conn = s.conn();
    assert_eq!(
        conn.request("LIST ENUM nds input.transfer.low"),
        [
            "BEGIN LIST ENUM nds input.transfer.low",
            "ENUM nds input.transfer.low \"95\"",
            "ENUM nds input.transfer.low \"100\"",
            "END LIST ENUM nds input.transfer.low",
        ]
    );
    assert_eq!(
        conn.request("LIST RANGE nds battery.charge.low"),
        [
            "BEGIN LIST RANGE nds battery.charge.low",
            "RANGE nds battery.charge.low \"10\" \"50\"",
            "END LIST RANGE nds battery.charge.low",
        ]
    );
    assert_eq!(
        conn.request("GET TYPE nds ups.id"),
        ["TYPE nds ups.id RW STRING:8"]
    );
    let cmds = conn.request("LIST CMD nds");
    for c in ["beeper.disable", "load.off", "test.battery.start"] {
        assert!(cmds.contains(&format!("CMD nds {c}")), "{cmds:?}");
    }
    login_admin(&mut conn);
    assert_eq!(tracked(&mut conn, "INSTCMD nds beeper.disable"), "SUCCESS");
    assert_eq!(
        conn.request("SET VAR nds input.transfer.low 99"),
        ["ERR INVALID-VALUE"]
    );
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn dummy_once_rereads_the_file_when_it_changes() {
    let s = stack("dummy", "dummy.dev", "ups.status: OL\nbattery.charge: 90\n");
    let mut conn = s.conn();
    assert_eq!(get(&mut conn, "dummy", "battery.charge"), "90");
    // A SET persists while the file does not change...
    login_admin(&mut conn);
    assert_eq!(
        tracked(&mut conn, "SET VAR dummy battery.charge 55"),
        "SUCCESS"
    );
    assert_eq!(get(&mut conn, "dummy", "battery.charge"), "55");
    // ...and editing the file brings its values back. (mtime has one-second granularity
    // on some filesystems: rewrite until the driver notices.)
    wait_until("the driver to re-read the edited file", WAIT, || {
        s.write_file("dummy.dev", "ups.status: OB\nbattery.charge: 12\n");
        (get(&mut conn, "dummy", "ups.status") == "OB").then_some(())
    });
    assert_eq!(get(&mut conn, "dummy", "battery.charge"), "12");
}

#[test]
fn repeater_mode_without_its_program_fails_with_one_clear_line() {
    // dummy-ups alone, without dummy-ups-repeater next to it.
    let dir = tempfile::tempdir().unwrap();
    let lone = dir.path().join("dummy-ups");
    std::fs::copy(nut_harness::bin(Impl::Ours, "dummy-ups"), &lone).unwrap();
    let out = std::process::Command::new(&lone)
        .args(["-F", "-s", "rep", "-x", "port=ups@127.0.0.1:9"])
        .env("NUT_STATEPATH", dir.path())
        .env("NUT_ALTPIDPATH", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = format!(
        "Fatal error: can't run {}: No such file or directory",
        dir.path().join("dummy-ups-repeater").display()
    );
    assert_eq!(stderr.trim_end(), want);
    assert!(!dir.path().join("dummy-ups-rep.pid").exists());
}

/// Clock ticks of CPU (user + system) a process has used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Out of descriptors, `accept` fails while clients wait in the backlog; the driver must
/// pause accepting instead of retrying in a loop that burns a core (regression: it spun),
/// keep serving its clients, and accept again once descriptors are free. The driver runs
/// with a low RLIMIT_NOFILE (`prlimit`, util-linux).
#[test]
fn accept_failing_with_emfile_backs_off_and_recovers() {
    const NOFILE: usize = 24;
    let s = StackBuilder::new()
        .no_upsd()
        .driver(Impl::Ours)
        .file("dummy.dev", "ups.status: OL\n")
        .ups_section("dummy", "driver = dummy-ups\nport = dummy.dev")
        .start();
    let mut cmd = std::process::Command::new("prlimit");
    cmd.arg(format!("--nofile={NOFILE}:{NOFILE}"))
        .arg("--")
        .arg(nut_harness::bin(Impl::Ours, "dummy-ups"))
        .args(["-F", "-a", "dummy"])
        .envs(s.env_vars())
        .current_dir(s.dir());
    let driver = nut_harness::Daemon::spawn("dummy-ups (low NOFILE)", cmd);
    let pid = driver.pid();
    let socket = s.driver_socket("dummy");
    wait_until("the driver socket", WAIT, || socket.exists().then_some(()));
    let mut first = connect_driver(&s, "dummy");
    first.get_mut().write_all(b"PING\n").unwrap();
    assert_eq!(driver_line(&mut first), "PONG\n");
    // More clients than descriptors left: the rest wait in the listen backlog.
    let waiting: Vec<UnixStream> = (0..NOFILE)
        .map(|_| UnixStream::connect(&socket).expect("queued in the backlog"))
        .collect();
    wait_until("the driver to run out of descriptors", WAIT, || {
        (open_fds(pid) >= NOFILE).then_some(())
    });
    // While the backlog cannot be accepted, the driver must stay (nearly) idle. Sampled
    // over an observation window: a spinning accept loop uses all of it.
    let window = Duration::from_secs(2);
    let before = cpu_ticks(pid);
    std::thread::sleep(window);
    let used = cpu_ticks(pid) - before;
    let hz = 100; // USER_HZ on Linux
    assert!(
        used * 4 < window.as_secs() * hz,
        "the driver used {used} ticks of CPU in {window:?} while accept failed"
    );
    // Connected clients are still served.
    first.get_mut().write_all(b"PING\n").unwrap();
    assert_eq!(driver_line(&mut first), "PONG\n");
    // Free the descriptors: new clients are accepted again.
    drop(waiting);
    wait_until("a new client to be served", WAIT, || {
        let stream = UnixStream::connect(&socket).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
        let mut c = BufReader::new(stream);
        c.get_mut().write_all(b"PING\n").ok()?;
        let mut line = String::new();
        c.read_line(&mut line).ok()?;
        (line == "PONG\n").then_some(())
    });
    assert!(driver.is_running(), "{}", driver.output_so_far());
}

/// `-k`: the UPS power-off at the end of a shutdown. dummy-ups has no power-off of its own
/// (`shutdown.default`), so without `sdcommands` both NUT 2.8.0's and ours exit 1; with
/// `sdcommands` ours tries each command in order (NUT ≥ 2.8.3) and exits 0 on the first
/// one handled; with a driver already running, `-k` asks it to do the power-off.
#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn kill_power_runs_sdcommands_in_order_and_exits_like_nut() {
    let s = StackBuilder::new()
        .no_upsd()
        .driver(Impl::Ours)
        .file("dummy.dev", "ups.status: OL\n")
        .ups_section("plain", "driver = dummy-ups\nport = dummy.dev")
        .ups_section(
            "listed",
            "driver = dummy-ups\nport = dummy.dev\nsdcommands = beeper.off,load.off,shutdown.default",
        )
        .dummy("running", "running.dev", "ups.status: OL\n")
        .ups_section("running", "sdcommands = load.off")
        .start();
    let run = |which: Impl, ups: &str| {
        let out = s
            .command(which, "dummy-ups")
            .args(["-a", ups, "-k"])
            .output()
            .expect("dummy-ups runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let (theirs, their_text) = run(Impl::Debian, "plain");
    let (ours, our_text) = run(Impl::Ours, "plain");
    assert_eq!(theirs, Some(1), "Debian: {their_text}");
    assert_eq!(ours, theirs, "ours: {our_text}");
    assert!(
        their_text.contains("shutdown not supported"),
        "{their_text}"
    );
    assert!(
        our_text.contains("UPS [plain]: shutdown not supported"),
        "{our_text}"
    );
    let (code, text) = run(Impl::Ours, "listed");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("UPS [listed]: shutdown request was successful with 'load.off'"),
        "{text}"
    );
    // A driver already runs for the UPS (and would hold a serial port's lock): `-k` asks
    // it over its socket (NUT ≥ 2.8.1); it powers off and exits.
    let (code, text) = run(Impl::Ours, "running");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("the running driver accepted"), "{text}");
    let running = s.driver_daemon("running").unwrap();
    running.wait_output(
        "UPS [running]: shutdown request was successful with 'load.off'",
        WAIT,
    );
    assert!(running.wait_exit(WAIT).success());
}

/// The framework's loop acts on its signals (they reach it from a task of their own):
/// SIGHUP and SIGUSR2 re-read ups.conf, SIGUSR1 too (nothing changed, so the driver stays),
/// and SIGTERM ends the driver with status 0.
#[test]
fn signals_reload_the_configuration_and_stop_the_driver() {
    let s = StackBuilder::new()
        .upsd(Impl::Ours)
        .driver(Impl::Ours)
        .dummy("sig", "sig.dev", "ups.status: OL\n")
        .start();
    let driver = s.driver_daemon("sig").expect("the driver runs");
    let reloads = || {
        driver
            .output_so_far()
            .matches("Reloading configuration")
            .count()
    };
    for (n, sig) in [
        nut_harness::Signal::SIGHUP,
        nut_harness::Signal::SIGUSR1,
        nut_harness::Signal::SIGUSR2,
    ]
    .into_iter()
    .enumerate()
    {
        driver.signal(sig);
        wait_until(&format!("reload {} after {sig}", n + 1), WAIT, || {
            (reloads() > n).then_some(())
        });
    }
    assert!(driver.is_running(), "{}", driver.output_so_far());
    driver.signal(nut_harness::Signal::SIGTERM);
    let status = driver.wait_exit(WAIT);
    assert_eq!(status.code(), Some(0), "{}", driver.output_so_far());
    assert!(
        driver.output_so_far().contains("Signal 15: exiting"),
        "{}",
        driver.output_so_far()
    );
}
