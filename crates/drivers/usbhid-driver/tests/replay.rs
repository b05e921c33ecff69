//! Our usbhid-ups on recorded HID devices (`port = "replay:<spec>"`) under our upsd: the
//! variables upsd serves are those Debian's NUT 2.8.0 usbhid-ups published for the same spec
//! (tests/fixtures/hid/debian-2.8.0/*.vars, driver.* aside), interrupt reports change
//! `ups.status` before the next poll, the driver heals itself after the device vanished and
//! came back under a new device number, and a recording replays to the same variables.
//! Needs `cargo build -p usbhid-driver -p nut-upsd --bins`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nut_harness::{Conn, Impl, Stack, StackBuilder, poll_until};

const WAIT: Duration = Duration::from_secs(30);

fn fixtures() -> PathBuf {
    nut_harness::workspace_root().join("tests/fixtures/hid")
}

fn spec(name: &str) -> PathBuf {
    fixtures().join(format!("{name}.spec"))
}

/// A stack with our upsd and our usbhid-ups for `[ups]` on a replayed spec.
fn stack(spec: &Path, extra: &str, env: &[(&str, &Path)]) -> Stack {
    let mut b = StackBuilder::new()
        .upsd(Impl::Ours)
        .device(
            "ups",
            Impl::Ours,
            "usbhid-ups",
            &format!("replay:{}", spec.display()),
        )
        .ups_section("ups", extra);
    for (k, v) in env {
        b = b.env(k, &v.to_string_lossy());
    }
    b.start()
}

/// `LIST VAR ups` as a map.
fn list_var(conn: &mut Conn) -> BTreeMap<String, String> {
    let lines = conn.request("LIST VAR ups");
    assert!(
        lines.first().is_some_and(|l| l == "BEGIN LIST VAR ups"),
        "LIST VAR: {lines:?}"
    );
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("VAR ups "))
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim_matches('"').replace("\\\"", "\"")))
        })
        .collect()
}

fn debian_vars(name: &str) -> BTreeMap<String, String> {
    let path = fixtures().join(format!("debian-2.8.0/{name}.vars"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("driver."))
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap_or((l.trim_end_matches(':'), ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn without_driver_vars(vars: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    vars.iter()
        .filter(|(k, _)| !k.starts_with("driver."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn replayed_devices_serve_what_debian_published() {
    // The fixtures whose subdriver tables are ported (apc, cps, liebert/phoenixtec, salicru,
    // explore); `extra` is what Debian's recording needed as well.
    let cases: &[(&str, &str)] = &[
        ("apc_back-ups-rs-1000g", ""),
        ("apc_back-ups-xs-1400u", ""),
        ("apc_smart-ups-x-750", ""),
        ("cyberpower_cp1500pfclcd", ""),
        ("powerwalker_vi-1200-shl", ""),
        ("salicru_slc-twin-pro2-3kva", ""),
        ("unknown-5131_2007", "explore\nvendorid = 5131\n"),
    ];
    let mut diffs = Vec::new();
    for (name, extra) in cases {
        let s = stack(&spec(name), extra, &[]);
        let ours = without_driver_vars(&list_var(&mut s.conn()));
        let debian = debian_vars(name);
        if ours != debian {
            for (k, v) in &debian {
                if ours.get(k) != Some(v) {
                    diffs.push(format!("{name}: {k}: debian {v:?}, ours {:?}", ours.get(k)));
                }
            }
            for (k, v) in &ours {
                if !debian.contains_key(k) {
                    diffs.push(format!("{name}: {k}: ours {v:?}, debian none"));
                }
            }
        }
        // driver.version.data names the subdriver NUT chose.
        let all = list_var(&mut s.conn());
        assert!(
            all.get("driver.version.data")
                .is_some_and(|v| !v.is_empty()),
            "{name}: no driver.version.data in {all:?}"
        );
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// The instant commands upsd lists for a replayed APC include those Debian's driver found and
/// the composite one NUT adds from load.off.delay; a writable variable is listed as such and
/// a SET sends its report (and shows the new value after the re-read).
#[test]
fn replayed_apc_lists_commands_and_sets_variables() {
    let name = "apc_back-ups-xs-1400u";
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("transfers.log");
    let s = stack(&spec(name), "pollinterval = 1\n", &[("FAKEUSB_LOG", &log)]);
    let mut conn = s.conn();
    let lines = conn.request("LIST CMD ups");
    let cmds: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("CMD ups "))
        .collect();
    let text = std::fs::read_to_string(fixtures().join(format!("debian-2.8.0/{name}.cmds")))
        .expect("cmds fixture");
    for want in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(cmds.contains(&want), "{want} missing in {cmds:?}");
    }
    // NUT adds load.off for a bound load.off.delay (this unit has no load.on.delay, so no
    // load.on, shutdown.return or shutdown.stayoff of the composite kind).
    assert!(cmds.contains(&"load.off"), "load.off missing in {cmds:?}");
    assert!(
        !cmds.contains(&"load.on"),
        "load.on without load.on.delay: {cmds:?}"
    );
    let rw = conn.request("LIST RW ups");
    for var in ["input.sensitivity", "ups.delay.shutdown"] {
        assert!(
            rw.iter().any(|l| l.starts_with(&format!("RW ups {var} "))),
            "{var} not writable: {rw:?}"
        );
    }
    for (req, want) in [
        ("USERNAME admin", "OK"),
        ("PASSWORD adminpass", "OK"),
        ("SET VAR ups input.sensitivity high", "OK"),
    ] {
        assert_eq!(conn.request(req), vec![want.to_string()], "{req}");
    }
    // UPS.Input.APCSensitivity: report 0x35, "high" = 2.
    let mut last = String::new();
    let sent = poll_until(WAIT, || {
        last = std::fs::read_to_string(&log).unwrap_or_default();
        last.lines()
            .any(|l| l == "set_report 3 53: 35 02")
            .then_some(())
    });
    assert!(sent.is_some(), "no SET_REPORT 35 02; transfer log:\n{last}");
    wait_reply(
        &s,
        "input.sensitivity",
        "VAR ups input.sensitivity \"high\"",
    );
}

fn append(path: &Path, line: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("events file");
    writeln!(f, "{line}").expect("write event");
}

fn get_var(conn: &mut Conn, var: &str) -> String {
    conn.request(&format!("GET VAR ups {var}"))
        .into_iter()
        .next()
        .unwrap_or_default()
}

fn wait_reply(stack: &Stack, var: &str, want: &str) {
    let mut conn = stack.conn();
    let mut last = String::new();
    let ok = poll_until(WAIT, || {
        last = get_var(&mut conn, var);
        (last == want).then_some(())
    });
    assert!(
        ok.is_some(),
        "GET VAR ups {var}: never {want:?}, last {last:?}; logs:\n{}",
        stack.logs()
    );
}

/// The UPS loses mains: the interrupt report alone (the Feature reports still say "on line",
/// and the next poll is minutes away) changes ups.status.
#[test]
fn interrupt_report_changes_status_before_the_next_poll() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = dir.path().join("events");
    std::fs::write(&events, "").expect("events file");
    let s = stack(
        &spec("apc_back-ups-xs-1400u"),
        "pollinterval = 300\n",
        &[("FAKEUSB_EVENTS", &events)],
    );
    wait_reply(&s, "ups.status", "VAR ups ups.status \"OL\"");
    let started = Instant::now();
    // PresentStatus (report 0x16): Discharging and BatteryPresent, no ACPresent.
    append(&events, "intr 16 0a 00 00 00");
    wait_reply(&s, "ups.status", "VAR ups ups.status \"OB DISCHRG\"");
    assert!(
        started.elapsed() < Duration::from_secs(300),
        "the change must not come from a poll"
    );
}

/// Unplugged: upsd says the data is stale; back under device number 9: the same driver
/// process serves the UPS again, and an instant command sent afterwards reaches the device.
#[test]
fn unplug_and_replug_under_a_new_number_heals_without_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = dir.path().join("events");
    let log = dir.path().join("transfers.log");
    std::fs::write(&events, "").expect("events file");
    let s = stack(
        &spec("apc_back-ups-xs-1400u"),
        "pollinterval = 1\n",
        &[("FAKEUSB_EVENTS", &events), ("FAKEUSB_LOG", &log)],
    );
    wait_reply(&s, "ups.status", "VAR ups ups.status \"OL\"");
    let pid = s.driver_daemon("ups").expect("driver").pid();

    append(&events, "unplug");
    wait_reply(&s, "ups.status", "ERR DATA-STALE");
    append(&events, "replug 9");
    wait_reply(&s, "ups.status", "VAR ups ups.status \"OL\"");
    let driver = s.driver_daemon("ups").expect("driver");
    assert!(driver.is_running(), "driver exited:\n{}", s.logs());
    assert_eq!(driver.pid(), pid, "the driver was restarted");

    let mut conn = s.conn();
    for (req, want) in [
        ("USERNAME admin", "OK"),
        ("PASSWORD adminpass", "OK"),
        ("INSTCMD ups beeper.disable", "OK"),
    ] {
        assert_eq!(conn.request(req), vec![want.to_string()], "{req}");
    }
    // beeper.disable: UPS.PowerSummary.AudibleAlarmControl (report 0x18) = 1.
    let mut last = String::new();
    let sent = poll_until(WAIT, || {
        last = std::fs::read_to_string(&log).unwrap_or_default();
        let after = last.split("event: replug 9").nth(1)?;
        after
            .lines()
            .any(|l| l.starts_with("set_report 3 24: 18 01"))
            .then_some(())
    });
    assert!(
        sent.is_some(),
        "no SET_REPORT for beeper.disable after the replug; transfer log:\n{last}"
    );
}

/// Runs our usbhid-ups once (`-d 1`) and returns the dumped variables, driver.* aside.
fn dump(port: &str, extra: &[&str]) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(nut_harness::bin(Impl::Ours, "usbhid-ups"))
        .args(["-s", "t", "-x"])
        .arg(format!("port={port}"))
        .args(extra)
        .args(["-u", "root", "-d", "1"])
        .env("NUT_STATEPATH", dir.path())
        .env("NUT_ALTPIDPATH", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("our usbhid-ups");
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = poll_until(Duration::from_secs(60), || child.try_wait().ok().flatten());
    if done.is_none() || Instant::now() > deadline {
        let _ = child.kill();
        panic!("usbhid-ups on {port}: no dump within 60 s");
    }
    let out = child.wait_with_output().expect("output");
    assert!(out.status.success(), "usbhid-ups on {port}: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(": "))
        .filter(|(k, _)| !k.starts_with("driver.") && !k.contains(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_recording_replays_to_the_same_variables() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["apc_back-ups-xs-1400u", "cyberpower_cp1500pfclcd"] {
        let rec = dir.path().join(format!("{name}.rec.spec"));
        let original = dump(
            &format!("replay:{}", spec(name).display()),
            &["-x", &format!("record={}", rec.display())],
        );
        assert!(original.contains_key("ups.status"), "{name}: {original:?}");
        let text = std::fs::read_to_string(&rec).expect("the recording exists");
        assert!(text.lines().any(|l| l.starts_with("desc ")), "{text}");
        let replayed = dump(&format!("replay:{}", rec.display()), &[]);
        assert_eq!(original, replayed, "{name}: recording:\n{text}");
    }
}

#[test]
fn unknown_and_bad_options_are_refused() {
    let port = format!("port=replay:{}", spec("apc_back-ups-xs-1400u").display());
    for (args, needle) in [
        (vec!["-x", "frobnicate=1"], "frobnicate"),
        (vec!["-x", "explore"], "vendorid"),
        (vec!["-x", "interruptsize=0"], "invalid interruptsize"),
        (vec!["-x", "subdriver=nosuch"], "nosuch"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = Command::new(nut_harness::bin(Impl::Ours, "usbhid-ups"))
            .args(["-s", "t", "-x", &port])
            .args(&args)
            .args(["-u", "root", "-d", "1"])
            .env("NUT_STATEPATH", dir.path())
            .env("NUT_ALTPIDPATH", dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("our usbhid-ups");
        let err = String::from_utf8_lossy(&out.stderr);
        // NUT 2.8.0 exits 0 after "not a valid variable name" (and so do we); the others
        // are failures.
        assert_eq!(
            out.status.code(),
            Some(if needle == "frobnicate" { 0 } else { 1 }),
            "{args:?}: {err}"
        );
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("ups.status"),
            "{args:?}: the driver ran"
        );
    }
}
