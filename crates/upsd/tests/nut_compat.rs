//! upsd's console and log output against Debian's upsd 2.8.0 (docs/issues.md: issue 16, found by running
//! NUT's integration suite against both): the banner and `-h`, `-Dh`'s TLS build line,
//! the LISTEN binding order and messages, and when staleness is logged.

use std::process::{Command, Output};

use nut_harness::{Impl, STARTUP_TIMEOUT, Signal, StackBuilder, bin, free_port, poll_until};

const DEV: &str = "ups.status: OL\nbattery.charge: 100\n";

fn run(which: Impl, args: &[&str]) -> Output {
    Command::new(bin(which, "upsd"))
        .args(args)
        .env("NUT_CONFPATH", "/nonexistent")
        .output()
        .unwrap_or_else(|e| panic!("cannot run upsd ({which}) {args:?}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn help_and_version_are_byte_identical() {
    for args in [&["-h"][..], &["-V"], &["-h", "-x"], &["-4", "-h"]] {
        let theirs = run(Impl::Debian, args);
        let ours = run(Impl::Ours, args);
        assert_eq!(
            text(&ours.stdout),
            text(&theirs.stdout),
            "stdout of upsd {args:?}"
        );
        assert_eq!(ours.status.code(), theirs.status.code(), "upsd {args:?}");
        assert!(
            text(&ours.stdout).starts_with("Network UPS Tools upsd 2.8.0\n"),
            "{args:?}"
        );
    }
    let help = text(&run(Impl::Ours, &["-h"]).stdout);
    assert!(help.contains("\nNetwork server for UPS data.\n\nusage: upsd [OPTIONS]\n"));
}

/// NUT's integration suite greps `upsd -Dh` for this line to decide which TLS tests to run;
/// current NUT logs it at debug level 1, 2.8.0 not at all.
#[test]
fn debug_help_names_the_tls_build() {
    let out = run(Impl::Ours, &["-Dh"]);
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("NUT data server was built with"))
        .unwrap_or_else(|| panic!("no TLS build line in {err:?}"));
    // What NIT's `case` patterns look for, in their order.
    assert!(!line.contains("without SSL"), "{line}");
    assert!(line.contains("OpenSSL sans CERTIDENT"), "{line}");
    assert!(
        line.contains("with client certificate validation"),
        "{line}"
    );
    assert!(!line.contains("without client certificate"), "{line}");
    // Without -D the line is not printed.
    let plain = run(Impl::Ours, &["-h"]);
    assert!(!text(&plain.stderr).contains("built with"));
    assert!(!text(&plain.stdout).contains("built with"));
}

/// The lines about listeners and staleness in a upsd's output, in order.
fn interesting(log: &str, what: &[&str]) -> Vec<String> {
    log.lines()
        .filter(|l| what.iter().any(|w| l.contains(w)))
        .map(str::to_owned)
        .collect()
}

/// Starts a stack with `which` upsd and the given extra upsd.conf lines, stops upsd with
/// SIGTERM and returns its whole output, the harness's own port shown as `<port>`.
fn upsd_output_with_listen(which: Impl, extra: &str) -> String {
    let stack = StackBuilder::new()
        .upsd(which)
        .driver(Impl::Debian)
        .dummy("a", "a.dev", DEV)
        .upsd_conf(extra)
        .start();
    let upsd = stack.upsd_daemon().unwrap().clone();
    upsd.signal(Signal::SIGTERM);
    upsd.wait_exit(STARTUP_TIMEOUT);
    upsd.output_so_far()
        .replace(&format!("port {}", stack.port()), "port <port>")
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn listen_lines_are_bound_last_first_and_logged_by_name() {
    let p = free_port();
    let extra = format!("LISTEN localhost {p}\nLISTEN 127.0.0.1 {p}\nLISTEN ::1 {p}");
    let theirs = upsd_output_with_listen(Impl::Debian, &extra);
    let ours = upsd_output_with_listen(Impl::Ours, &extra);
    let what = ["listening on"];
    let t = interesting(&theirs, &what);
    let o = interesting(&ours, &what);
    assert_eq!(o, t, "ours:\n{ours}\nDebian's:\n{theirs}");
    // The harness's own LISTEN line comes first in the file, so it is bound last.
    assert_eq!(o.len(), 4, "{o:?}");
    assert_eq!(o[0], format!("listening on ::1 port {p}"));
    assert_eq!(o[2], format!("not listening on localhost port {p}"));
    assert_eq!(o[3], "listening on 127.0.0.1 port <port>");
    // Both print the banner at start-up.
    for out in [&theirs, &ours] {
        assert!(
            out.lines().any(|l| l == "Network UPS Tools upsd 2.8.0"),
            "{out}"
        );
    }
}

/// The staleness lines one upsd logs over a life with a driver that connects late, one that
/// freezes and recovers, one that stops, and a shutdown.
fn staleness_lines(which: Impl) -> Vec<String> {
    let mut stack = StackBuilder::new()
        .upsd(which)
        .driver(Impl::Debian)
        .dummy("a", "a.dev", DEV)
        .ups_section("late", "driver = dummy-ups\nport = late.dev")
        .file("late.dev", DEV)
        .upsd_conf("MAXAGE 3")
        .start();
    let mut conn = stack.conn();
    let wait_for = |conn: &mut nut_harness::Conn, request: &str, want: &str| {
        let mut last = Vec::new();
        let ok = poll_until(STARTUP_TIMEOUT, || {
            last = conn.request(request);
            (last == [want]).then_some(())
        });
        assert!(
            ok.is_some(),
            "{which}: {request}: wanted {want:?}, last {last:?}"
        );
    };
    wait_for(
        &mut conn,
        "GET VAR late ups.status",
        "ERR DRIVER-NOT-CONNECTED",
    );
    // The late driver starts and is picked up.
    let mut cmd = stack.command(Impl::Debian, "dummy-ups");
    cmd.args(["-F", "-a", "late"]);
    let late = stack.spawn_as("dummy-ups[late]", cmd);
    wait_for(
        &mut conn,
        "GET VAR late ups.status",
        "VAR late ups.status \"OL\"",
    );
    // A frozen driver goes stale and comes back.
    let a = stack.driver_daemon("a").unwrap().clone();
    a.signal(Signal::SIGSTOP);
    wait_for(&mut conn, "GET VAR a ups.status", "ERR DATA-STALE");
    a.signal(Signal::SIGCONT);
    wait_for(&mut conn, "GET VAR a ups.status", "VAR a ups.status \"OL\"");
    // A driver stops.
    late.signal(Signal::SIGTERM);
    late.wait_exit(STARTUP_TIMEOUT);
    wait_for(
        &mut conn,
        "GET VAR late ups.status",
        "ERR DRIVER-NOT-CONNECTED",
    );
    // Shutting down: the other driver goes first, then upsd.
    stack.kill_driver("a");
    wait_for(
        &mut conn,
        "GET VAR a ups.status",
        "ERR DRIVER-NOT-CONNECTED",
    );
    let upsd = stack.upsd_daemon().unwrap().clone();
    upsd.signal(Signal::SIGTERM);
    upsd.wait_exit(STARTUP_TIMEOUT);
    interesting(&upsd.output_so_far(), &["stale"])
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn staleness_is_logged_only_for_connected_drivers_as_2_8_0() {
    let theirs = staleness_lines(Impl::Debian);
    let ours = staleness_lines(Impl::Ours);
    assert_eq!(ours, theirs);
    assert_eq!(
        ours,
        [
            "Data for UPS [a] is stale - check driver",
            "UPS [a] data is no longer stale"
        ],
        "only the frozen driver is reported"
    );
}
