//! `usbhid-ups -k` on replayed devices sends the SET_REPORTs Debian's NUT 2.8.0 sent for the
//! same spec (tests/fixtures/hid/debian-2.8.0/*.shutdown, recorded through the libusb
//! stand-in's transfer log) and exits as it did. Needs `cargo build -p usbhid-driver --bins`.

use crate::common;
use common::{fixtures, header_x_options, run_driver, spec};

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
    let recorded = fixtures().join(format!("debian-2.8.0/{name}.shutdown"));
    let options = header_x_options(&std::fs::read_to_string(&recorded).expect("shutdown fixture"));
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("transfers.log");
    let mut args: Vec<&str> = options.iter().flat_map(|o| ["-x", o.as_str()]).collect();
    args.push("-k");
    let out = run_driver(
        &format!("replay:{}", spec(name).display()),
        &args,
        &[("FAKEUSB_LOG", &log)],
    );
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

/// Every fixture with a recorded Debian power-off (the recordings and the synthetic devices of
/// the small subdrivers): the same SET_REPORTs and exit code.
#[test]
fn killpower_sends_the_reports_debian_sent() {
    let dir = fixtures().join("debian-2.8.0");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir:?}: {e}"))
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "shutdown")
                .then(|| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .flatten()
        })
        .collect();
    names.sort();
    let mut problems = Vec::new();
    let mut compared = Vec::new();
    for name in &names {
        compared.push(name.as_str());
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
    // 12 recordings and 12 synthetic devices (every subdriver).
    assert!(compared.len() >= 24, "compared: {compared:?}");
}
