//! Issue 4 (docs/issues.md) acceptance, part 2: third-party clients in other languages, driven by the
//! scripts in `tests/compat/peers/` and installed by `.ci/peers.sh`: PyPI pynutclient's
//! bundled `test_nutclient.py` (anonymous, with credentials, and with STARTTLS refused),
//! aionut (Home Assistant), npm node-nut, and Perl UPS::Nut. Each runs against Debian's
//! upsd and against ours.
//!
//! The scripts report what the client library returned, one JSON object per step; the
//! expectations (observed with Debian's upsd) live here, next to the fixture.

use crate::real_support;

use std::process::Command;
use std::time::Duration;

use nut_harness::{Impl, Stack};
use real_support::*;
use serde_json::{Value, json};

both_impls!(
    pynutclient_anonymous,
    pynutclient_admin,
    pynutclient_starttls_fallback,
    aionut,
    node_nut,
    ups_nut_perl
);

fn dummy_vars() -> Value {
    json_map(&expected_vars(DUMMY_DEV, "dummy.dev"))
}

/// `LIST RW`: dummy-ups marks every variable it read from the .dev file writable.
fn dummy_rw_vars() -> Value {
    let rw: Vec<(String, String)> = expected_vars(DUMMY_DEV, "dummy.dev")
        .into_iter()
        .filter(|(k, _)| !k.starts_with("driver."))
        .collect();
    json_map(&rw)
}

fn ups_list() -> Value {
    json!({"dummy": DUMMY_DESC, "UPS1": UPS1_DESC})
}

// ---- PyPI pynutclient: test_nutclient.py ---------------------------------------------------

fn run_test_nutclient(stack: &Stack, credentials: Option<(&str, &str)>) -> String {
    let python = venv_python();
    let script = venv_package_file("PyNUTClient/test_nutclient.py");
    let mut cmd = Command::new(python);
    cmd.arg(&script)
        .current_dir(script.parent().expect("script dir"))
        .env("NUT_HOST", "127.0.0.1")
        .env("NUT_PORT", stack.port().to_string());
    if let Some((user, pass)) = credentials {
        cmd.env("NUT_USER", user).env("NUT_PASS", pass);
    }
    let r = run(cmd, Duration::from_secs(60));
    r.assert_code(0, "test_nutclient.py");
    let out = strip_ansi(&r.stdout);
    assert!(
        !out.contains("TEST-CASE FAILED") && !out.contains("Traceback"),
        "test_nutclient.py reported failures:\n{out}\n{}",
        r.stderr
    );
    for expected in [
        "{b'dummy': b'Test device', b'UPS1': b'Second test device'}",
        "b'ups.status': b'OL CHRG'",
        // PyNUT asks `GET CMDDESC dummy b'load.off'` (a bytes repr): upsd's fallback text.
        "{b'load.off': b'Description unavailable'}",
        "EXCEPTION: ERR UNKNOWN-UPS\n(anticipated error: bogus device name was tested)",
    ] {
        assert!(
            out.contains(expected),
            "test_nutclient.py output lacks {expected:?}:\n{out}"
        );
    }
    out
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final-byte
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn pynutclient_anonymous(which: Impl) {
    let stack = stack(which);
    let out = run_test_nutclient(&stack, None);
    // INSTCMD, SET VAR and LOGIN without USERNAME: exactly ERR USERNAME-REQUIRED.
    assert_eq!(
        out.matches(
            "EXCEPTION: ERR USERNAME-REQUIRED\n(anticipated error: no credentials were provided)"
        )
        .count(),
        3,
        "{out}"
    );
}

fn pynutclient_admin(which: Impl) {
    let stack = stack(which);
    let out = run_test_nutclient(&stack, Some(("admin", "adminpass")));
    for expected in [
        "Testing 'RunUPSCommand' (Test front panel) :\nEXCEPTION: ERR CMD-NOT-SUPPORTED\n",
        "Testing 'SetUPSVar' (set ups.id to test):\nEXCEPTION: ERR VAR-NOT-SUPPORTED\n",
        "current credentials should have an upsmon role in upsd.users) :\nOK\n",
        "{b'dummy': [b'127.0.0.1']}",
    ] {
        assert!(
            out.contains(expected),
            "test_nutclient.py output lacks {expected:?}:\n{out}"
        );
    }
}

/// NUT_SSL=true (not forced): the client opens with STARTTLS; a server without CERTFILE
/// must answer ERR FEATURE-NOT-CONFIGURED, after which PyNUT carries on in plain text and
/// the whole script must still pass.
fn pynutclient_starttls_fallback(which: Impl) {
    let stack = stack(which);
    let script = venv_package_file("PyNUTClient/test_nutclient.py");
    let mut cmd = Command::new(venv_python());
    cmd.arg(&script)
        .current_dir(script.parent().expect("script dir"))
        .env("NUT_HOST", "127.0.0.1")
        .env("NUT_PORT", stack.port().to_string())
        .env("NUT_SSL", "true")
        .env("DEBUG", "true");
    let r = run(cmd, Duration::from_secs(60));
    r.assert_code(0, "test_nutclient.py with NUT_SSL=true");
    let out = strip_ansi(&r.stdout);
    assert!(!out.contains("TEST-CASE FAILED"), "{out}");
    for expected in [
        "[DEBUG] STARTTLS failed: b'ERR FEATURE-NOT-CONFIGURED\\n'",
        "[DEBUG] STARTTLS failed, but not forced, continuing insecurely",
        "{b'dummy': b'Test device', b'UPS1': b'Second test device'}",
    ] {
        assert!(out.contains(expected), "output lacks {expected:?}:\n{out}");
    }
}

// ---- aionut (Home Assistant) ----------------------------------------------------------------

fn aionut(which: Impl) {
    let python = venv_python();
    venv_package_file("aionut/client.py");
    let mut stack = fixture(which).upsd_conf(SHORT_MAXAGE).start();
    let signals = stack.dir().join("signals");
    std::fs::create_dir_all(&signals).expect("mkdir signals");
    let mut cmd = Command::new(python);
    cmd.arg(peers_dir().join("python/aionut_peer.py"))
        .arg("127.0.0.1")
        .arg(stack.port().to_string())
        .arg(&signals);
    let peer = stack.spawn(cmd);
    let release = |name: &str| std::fs::write(signals.join(name), b"").expect("signal peer");
    let patience = Duration::from_secs(60);

    // The server drops every connection; aionut must reconnect transparently, once.
    peer.wait_output(r#"{"step": "pause-drop"}"#, patience);
    restart_server(&mut stack);
    release("pause-drop");

    peer.wait_output(r#"{"step": "pause-stale"}"#, patience);
    let frozen = make_stale(&stack, "dummy");
    release("pause-stale");
    peer.wait_output(r#"{"step": "done""#, patience);
    drop(frozen);
    let status = peer.wait_exit(patience);
    let report = Report::parse(&peer.output_so_far());
    assert!(status.success(), "aionut peer: {status}\n{}", report.raw);

    assert_eq!(report.ok("list_ups"), &ups_list());
    assert_eq!(report.ok("description"), DUMMY_DESC);
    assert_eq!(report.ok("list_vars"), &dummy_vars());
    assert_eq!(report.ok("list_commands"), &json!(["load.off"]));
    assert_eq!(
        report.err("run_command_anon"),
        "NUTCommandError: Error running: INSTCMD dummy load.off: ERR USERNAME-REQUIRED"
    );
    assert_eq!(
        report.err("list_vars_unknown"),
        "NUTCommandError: Error running: LIST VAR nosuch: ERR UNKNOWN-UPS"
    );
    assert_eq!(report.ok("run_command_admin"), "OK");
    // PASSWORD always answers OK; the wrong password shows up at INSTCMD, which makes
    // Home Assistant ask for new credentials (NUTLoginError).
    assert_eq!(
        report.err("run_command_wrong_password"),
        "NUTLoginError: Error running: INSTCMD dummy load.off: ERR ACCESS-DENIED"
    );
    assert_eq!(report.ok("list_ups_after_drop"), &ups_list());
    assert_eq!(report.ok("reconnected"), true, "aionut did not reconnect");
    // What HA users see for a stale device: "Error fetching UPS state: … ERR DATA-STALE".
    assert_eq!(
        report.err("list_vars_stale"),
        "NUTCommandError: Error running: LIST VAR dummy: ERR DATA-STALE"
    );
    assert_eq!(report.ok("list_ups_stale"), &ups_list());
}

// ---- npm node-nut ---------------------------------------------------------------------------

fn node_nut(which: Impl) {
    let (node, dir) = node_with_node_nut();
    let stack = stack(which);
    let mut cmd = Command::new(node);
    cmd.arg("node_peer.js")
        .arg("127.0.0.1")
        .arg(stack.port().to_string())
        .current_dir(&dir);
    let r = run(cmd, Duration::from_secs(60));
    let report = Report::parse(&r.stdout);
    r.assert_code(0, "node_peer.js");
    report.ok("done");

    let ver = report.ok("ver").as_str().unwrap_or_default();
    assert!(
        ver.starts_with("Network UPS Tools upsd ")
            && ver.ends_with('\n')
            && ver.lines().count() == 1,
        "VER as node-nut saw it: {ver:?}"
    );
    assert_eq!(report.ok("netver"), "1.3\n");
    assert_eq!(report.ok("list_ups"), &ups_list());
    assert_eq!(report.ok("list_vars"), &dummy_vars());
    assert_eq!(report.ok("list_cmds"), &json!(["load.off"]));
    assert_eq!(report.ok("list_rw"), &dummy_rw_vars());
    assert_eq!(report.ok("type_ups_id"), "STRING:16");
    assert_eq!(report.ok("type_charge"), "NUMBER");
    assert_eq!(report.ok("desc_status"), "UPS status");
    assert_eq!(
        report.ok("cmddesc_load_off"),
        "Turn off the load immediately"
    );
    assert_eq!(report.ok("enum_status"), &json!([]));
    assert_eq!(report.ok("range_status"), &json!([]));
    assert_eq!(report.err("list_vars_unknown"), "UNKNOWN-UPS");
    assert_eq!(report.err("instcmd_anon"), "USERNAME-REQUIRED\n");
    for step in [
        "username",
        "password",
        "set_ups_id",
        "instcmd_admin",
        "master",
        "fsd",
    ] {
        assert_eq!(report.ok(step), &Value::Null, "{step}");
    }
    assert_eq!(report.err("instcmd_unknown"), "CMD-NOT-SUPPORTED\n");
    assert_eq!(
        report.ok("list_vars_ups1")["ups.status"],
        "FSD OB DISCHRG",
        "FSD latch as node-nut saw it"
    );
    // node-nut's SET VAR sends the value unquoted; the driver got it.
    wait_for_value(&stack, "dummy", "ups.id", "nodeval");
}

// ---- Perl UPS::Nut --------------------------------------------------------------------------

fn ups_nut_perl(which: Impl) {
    let perl = perl_with_ups_nut();
    let stack = stack(which);
    let mut cmd = Command::new(perl);
    cmd.arg(peers_dir().join("perl/upsnut_peer.pl"))
        .arg("127.0.0.1")
        .arg(stack.port().to_string());
    let r = run(cmd, Duration::from_secs(120));
    let report = Report::parse(&r.stdout);
    r.assert_code(0, "upsnut_peer.pl");
    report.ok("done");

    assert_eq!(report.ok("status"), "OL CHRG");
    assert_eq!(report.ok("batt_percent"), "100");
    assert_eq!(report.ok("line_voltage"), "230.1");
    assert_eq!(report.ok("list_ups"), &ups_list());
    assert_eq!(report.ok("list_var"), &dummy_vars());
    assert_eq!(report.ok("list_rw"), &dummy_rw_vars());
    assert_eq!(report.ok("list_cmd"), &json!(["load.off"]));
    assert_eq!(report.ok("list_enum"), &json!([]));
    assert_eq!(report.ok("get_type"), "RW STRING:16");
    assert_eq!(report.ok("get_desc"), "UPS status");
    // UPS::Nut 1.51 expects "DESC" in reply to GET CMDDESC (a client bug): it reports the
    // correct CMDDESC line as unrecognized.
    assert!(
        report
            .err("get_cmddesc")
            .ends_with(r#"CMDDESC dummy load.off "Turn off the load immediately""#),
        "{}",
        report.raw
    );
    assert_eq!(
        report.err("get_unknown_var"),
        "Error: ERR VAR-NOT-SUPPORTED.  Requested no.such.var."
    );
    assert_eq!(
        report.err("instcmd_anon"),
        "Can't send instant command load.off. Reason: ERR USERNAME-REQUIRED"
    );
    // new() sends LIST VAR, which fails for an unknown UPS.
    assert_eq!(report.ok("connect_unknown_ups"), "refused");
    assert_eq!(report.ok("master"), 1);
    assert_eq!(report.ok("set_charge"), "\"42\"");
    assert_eq!(report.ok("get_after_set"), "42");
    assert_eq!(report.ok("instcmd_admin"), 1);
    assert_eq!(report.ok("fsd"), 1);
    assert_eq!(report.ok("status_after_fsd"), "FSD OB DISCHRG");
}
