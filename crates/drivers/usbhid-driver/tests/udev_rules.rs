//! The udev rules the .deb ships (packaging/udev/62-nut-usbups.rules, installed where Debian's
//! nut-server puts its rules) are the ones generated from the subdriver tables, and they give
//! the `nut` group every VID:PID any subdriver claims.
//!
//! After a table change: `UPDATE_UDEV_RULES=1 cargo test -p usbhid-driver udev_rules`
//! rewrites the file.

use std::collections::BTreeSet;
use std::path::PathBuf;

use usbhid_ups::subdriver::select::{self, ORDER};

fn shipped() -> PathBuf {
    nut_harness::workspace_root().join("packaging/udev/62-nut-usbups.rules")
}

/// The (vid, pid) pairs a rules file gives the `nut` group: `ATTR{idVendor}=="vvvv",
/// ATTR{idProduct}=="pppp", MODE="664", GROUP="nut"` lines.
fn granted(rules: &str) -> BTreeSet<(u16, u16)> {
    let mut out = BTreeSet::new();
    for line in rules.lines().filter(|l| !l.starts_with('#')) {
        let attr = |name: &str| {
            let at = line.find(&format!("ATTR{{{name}}}==\""))? + name.len() + 9;
            u16::from_str_radix(line.get(at..at + 4)?, 16).ok()
        };
        if let (Some(v), Some(p)) = (attr("idVendor"), attr("idProduct")) {
            assert!(
                line.contains("MODE=\"664\"") && line.contains("GROUP=\"nut\""),
                "{line}"
            );
            out.insert((v, p));
        }
    }
    out
}

#[test]
fn shipped_rules_are_the_generated_ones() {
    let generated = select::udev_rules();
    let path = shipped();
    if std::env::var_os("UPDATE_UDEV_RULES").is_some() {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    assert!(
        text == generated,
        "{path:?} is not what the subdriver tables generate; regenerate it with \
         UPDATE_UDEV_RULES=1 cargo test -p usbhid-driver udev_rules"
    );
}

#[test]
fn shipped_rules_cover_every_device_of_every_subdriver() {
    let path = shipped();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let granted = granted(&text);
    let mut wanted = BTreeSet::new();
    let mut missing = Vec::new();
    for sub in ORDER {
        for &(v, p) in select::devices(*sub) {
            wanted.insert((v, p));
            if !granted.contains(&(v, p)) {
                missing.push(format!("{v:04x}:{p:04x} ({})", sub.version()));
            }
        }
    }
    assert!(missing.is_empty(), "not in {path:?}: {missing:?}");
    let extra: Vec<_> = granted.difference(&wanted).collect();
    assert!(
        extra.is_empty(),
        "devices no subdriver claims: {extra:04x?}"
    );
    assert!(wanted.len() >= 100, "only {} devices", wanted.len());
}
