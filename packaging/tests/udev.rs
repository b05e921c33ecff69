//! The udev rules the .deb ships (packaging/udev/62-nut-usbups.rules, installed where Debian's
//! nut-server puts its rules) are the ones generated from the USB drivers' tables, give the
//! `nut` group every VID:PID usbhid-ups, nutdrv_qx and blazer_usb match (once each, every
//! matching driver named in its comment), and cover what Debian's own file gives those
//! drivers.
//!
//! After a table change: `UPDATE_UDEV_RULES=1 cargo test -p nut-rs-deb udev` rewrites the
//! file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use nutdrv_qx::usb::{BLAZER_USB_IDS, QX_USB_IDS};
use usbhid_ups::subdriver::select::{self, ORDER};

fn shipped_path() -> PathBuf {
    nut_harness::workspace_root().join("packaging/udev/62-nut-usbups.rules")
}

fn shipped() -> String {
    let path = shipped_path();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The (vid, pid) of an `ATTR{idVendor}=="vvvv", ATTR{idProduct}=="pppp", …` line.
fn attr_ids(line: &str) -> Option<(u16, u16)> {
    let attr = |name: &str| {
        let at = line.find(&format!("ATTR{{{name}}}==\""))? + name.len() + 9;
        u16::from_str_radix(line.get(at..at + 4)?, 16).ok()
    };
    Some((attr("idVendor")?, attr("idProduct")?))
}

/// Per (vid, pid) a rules file gives the `nut` group, the drivers its comment lines (`#  …  -
/// driver`) name. Panics on a device line that does not give the group read-write access, and
/// on a VID:PID listed twice.
fn granted(rules: &str) -> BTreeMap<(u16, u16), BTreeSet<String>> {
    let mut out = BTreeMap::new();
    let mut drivers = BTreeSet::new();
    for line in rules.lines() {
        if let Some(comment) = line.strip_prefix('#') {
            if let Some((_, driver)) = comment.rsplit_once(" - ") {
                drivers.insert(driver.trim().to_owned());
            }
            continue;
        }
        if let Some(id) = attr_ids(line) {
            assert!(
                line.ends_with(", MODE=\"664\", GROUP=\"nut\""),
                "not for the nut group: {line}"
            );
            let seen = out.insert(id, std::mem::take(&mut drivers));
            assert!(seen.is_none(), "{:04x}:{:04x} listed twice", id.0, id.1);
        }
    }
    out
}

/// Per (vid, pid), every driver whose table matches it.
fn wanted() -> BTreeMap<(u16, u16), BTreeSet<String>> {
    let mut out: BTreeMap<(u16, u16), BTreeSet<String>> = BTreeMap::new();
    for sub in ORDER {
        for &id in select::devices(*sub) {
            out.entry(id).or_default().insert("usbhid-ups".into());
        }
    }
    for (driver, ids) in [("nutdrv_qx", QX_USB_IDS), ("blazer_usb", BLAZER_USB_IDS)] {
        for id in ids {
            out.entry((id.vid, id.pid))
                .or_default()
                .insert(driver.into());
        }
    }
    out
}

#[test]
fn shipped_rules_are_the_generated_ones() {
    let generated = nut_rs_deb::udev::shipped_rules();
    let path = shipped_path();
    if std::env::var_os("UPDATE_UDEV_RULES").is_some() {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    }
    assert!(
        shipped() == generated,
        "{path:?} is not what the drivers' tables generate; regenerate it with \
         UPDATE_UDEV_RULES=1 cargo test -p nut-rs-deb udev"
    );
}

#[test]
fn shipped_rules_cover_every_device_of_every_usb_driver_once() {
    let granted = granted(&shipped());
    let wanted = wanted();
    let mut wrong = Vec::new();
    for (id, drivers) in &wanted {
        match granted.get(id) {
            None => wrong.push(format!("{:04x}:{:04x} {drivers:?}: missing", id.0, id.1)),
            Some(named) if named != drivers => wrong.push(format!(
                "{:04x}:{:04x}: comment names {named:?}, matched by {drivers:?}",
                id.0, id.1
            )),
            Some(_) => {}
        }
    }
    for id in granted.keys().filter(|id| !wanted.contains_key(id)) {
        wrong.push(format!("{:04x}:{:04x}: no driver matches it", id.0, id.1));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let by = |driver: &str| wanted.values().filter(|d| d.contains(driver)).count();
    assert!(
        by("usbhid-ups") >= 100,
        "{} usbhid-ups ids",
        by("usbhid-ups")
    );
    assert!(by("nutdrv_qx") >= 15, "{} nutdrv_qx ids", by("nutdrv_qx"));
    assert!(
        by("blazer_usb") >= 10,
        "{} blazer_usb ids",
        by("blazer_usb")
    );
    // Ids more than one driver matches (Q1 devices both Q1 drivers take) are there.
    assert!(granted.values().any(|d| d.len() > 1));
}

/// Every device Debian's NUT 2.8.0 rules file (/lib/udev/rules.d/62-nut-usbups.rules, of
/// nut-server) gives the group for usbhid-ups or nutdrv_qx, ours gives it for the same
/// driver, and ours names those drivers for no id Debian's file lacks. (Debian's file names
/// only nutdrv_qx for the Q1 devices; blazer_usb matches a subset of them.)
#[test]
fn shipped_rules_cover_debians_for_the_same_drivers() {
    let debian = std::fs::read_to_string("/lib/udev/rules.d/62-nut-usbups.rules")
        .expect("Debian's nut-server udev rules (package nut-server) must be installed");
    let theirs = granted(&debian);
    let ours = granted(&shipped());
    for driver in ["usbhid-ups", "nutdrv_qx"] {
        let of = |rules: &BTreeMap<(u16, u16), BTreeSet<String>>| -> BTreeSet<(u16, u16)> {
            rules
                .iter()
                .filter(|(_, d)| d.contains(driver))
                .map(|(id, _)| *id)
                .collect()
        };
        let (t, o) = (of(&theirs), of(&ours));
        assert!(
            t.len() > 10,
            "{driver}: parsed only {} Debian entries",
            t.len()
        );
        let missing: Vec<_> = t.difference(&o).collect();
        // Debian's file lists an id once, under one driver (0925:1234, which nutdrv_qx's armac
        // subdriver matches, is there as richcomm_usb's): an id it names for another driver
        // is in it all the same.
        let extra: Vec<_> = o
            .difference(&t)
            .filter(|id| !theirs.contains_key(id))
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{driver}: missing {missing:04x?}, extra {extra:04x?}"
        );
    }
}
