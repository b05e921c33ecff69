//! `usbhid-ups -k` on replayed devices sends the SET_REPORTs Debian's NUT 2.8.0 sent for the
//! same spec (tests/fixtures/hid/debian-2.8.0/*.shutdown, recorded through the libusb
//! stand-in's transfer log) and exits as it did. Needs `cargo build -p usbhid-driver --bins`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use nut_harness::Impl;

fn fixtures() -> PathBuf {
    nut_harness::workspace_root().join("tests/fixtures/hid")
}

/// Debian's recording: the `set_report` lines and the exit code.
fn debian(name: &str) -> (Vec<String>, i32) {
    let path = fixtures().join(format!("debian-2.8.0/{name}.shutdown"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let rc = text
        .lines()
        .find_map(|l| l.split("rc=").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{path:?}: no rc= in the header"));
    let lines = text
        .lines()
        .filter(|l| l.starts_with("set_report"))
        .map(str::to_string)
        .collect();
    (lines, rc)
}

fn ours(name: &str) -> (Vec<String>, i32) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("transfers.log");
    let spec = fixtures().join(format!("{name}.spec"));
    let out = Command::new(nut_harness::bin(Impl::Ours, "usbhid-ups"))
        .args(["-s", "t", "-x"])
        .arg(format!("port=replay:{}", spec.display()))
        .args(["-u", "root", "-k"])
        .env("NUT_STATEPATH", dir.path())
        .env("NUT_ALTPIDPATH", dir.path())
        .env("FAKEUSB_LOG", &log)
        .stdin(Stdio::null())
        .output()
        .expect("our usbhid-ups");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let lines = text
        .lines()
        .filter(|l| l.starts_with("set_report"))
        .map(str::to_string)
        .collect();
    (lines, out.status.code().unwrap_or(-1))
}

/// Debian sends a report it never read with a zero first byte where the report id belongs;
/// ours always starts with the id (docs/compatibility.md). Anything else must be identical.
fn same_modulo_report_id(debian: &str, ours: &str) -> bool {
    if debian == ours {
        return true;
    }
    let split = |l: &str| {
        let (head, bytes) = l.split_once(": ")?;
        let id: u8 = head.rsplit(' ').next()?.parse().ok()?;
        Some((head.to_string(), id, bytes.to_string()))
    };
    match (split(debian), split(ours)) {
        (Some((dh, id, db)), Some((oh, _, ob))) => {
            dh == oh
                && db.strip_prefix("00") == ob.strip_prefix(&format!("{id:02x}"))
                && db.starts_with("00")
        }
        _ => false,
    }
}

#[test]
fn killpower_sends_the_reports_debian_sent() {
    let mut problems = Vec::new();
    for name in [
        "apc_back-ups-rs-1000g",
        "apc_back-ups-xs-1400u",
        "apc_smart-ups-x-750",
        "cyberpower_cp1500pfclcd",
        "powerwalker_vi-1200-shl",
        "salicru_slc-twin-pro2-3kva",
    ] {
        let (d, drc) = debian(name);
        let (o, orc) = ours(name);
        if drc != orc {
            problems.push(format!("{name}: exit {orc}, Debian {drc}"));
        }
        let same = d.len() == o.len() && d.iter().zip(&o).all(|(a, b)| same_modulo_report_id(a, b));
        if !same {
            problems.push(format!("{name}: sent {o:?}, Debian {d:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
