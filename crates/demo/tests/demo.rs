//! Issue 8 acceptance: the demo, run non-interactively, shows the power cut, on-battery,
//! low-battery and shutdown-decision events in that order, and leaves no process or file behind.
//!
//! The demo runs the sibling programs of the `nut` binary (dummy-ups, upsd, upsmon, upsc), so
//! the whole workspace must be built first (`cargo build --workspace --bins`, as scripts/test
//! does).

use std::path::Path;
use std::process::Command;

/// Processes whose environment mentions `needle` (the demo's temp dir is in NUT_CONFPATH).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let text = String::from_utf8_lossy(&[environ, cmdline].concat()).into_owned();
        if text.contains(needle) {
            found.push(format!("{pid}: {}", text.replace('\0', " ")));
        }
    }
    found
}

#[test]
fn demo_timeline_runs_in_order_and_cleans_up() {
    let nut = Path::new(env!("CARGO_BIN_EXE_nut"));
    for sibling in ["dummy-ups", "upsd", "upsmon", "upsc"] {
        assert!(
            nut.with_file_name(sibling).exists(),
            "{sibling} is not built next to {}; run `cargo build --workspace --bins` first",
            nut.display()
        );
    }
    let out = Command::new(nut)
        .args(["demo", "--for", "30"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");

    let position = |what: &str| {
        stdout
            .find(what)
            .unwrap_or_else(|| panic!("timeline lacks {what:?}:\n{stdout}\n{stderr}"))
    };
    let power_cut = position("POWER-CUT");
    let on_battery = position("upsmon ONBATT");
    let low_battery = position("upsmon LOWBATT");
    let decision = position("DECISION");
    let shutdown = position("SHUTDOWNCMD ran");
    assert!(
        power_cut < on_battery
            && on_battery < low_battery
            && low_battery < decision
            && decision < shutdown,
        "events out of order:\n{stdout}"
    );

    // The temp dir is named on the "stack up" line; it must be gone, and no process may
    // still refer to it.
    let dir = stdout
        .split_whitespace()
        .find(|w| w.contains("nut-demo-"))
        .expect("the demo names its directory")
        .trim_end_matches(',');
    assert!(!Path::new(dir).exists(), "{dir} was left behind");
    let left = processes_mentioning(dir);
    assert!(left.is_empty(), "processes left behind: {left:#?}");
}
