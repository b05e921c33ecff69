//! The units' sandboxing (docs/systemd.md, "Sandboxing"): `systemd-analyze security
//! --offline=yes` scores each unit file as packaged, and a score may only get better; and the
//! settings that keep each daemon doing its job are there.

use std::process::Command;

use crate::units;

use units::{setting, unit_dir, unit_text};

/// The recorded exposure of each unit (systemd 252, Debian 12). A change that raises one
/// fails; one that lowers it should lower the number here too.
const RECORDED: [(&str, f64); 5] = [
    ("nut-server.service", 3.0),
    ("nut-driver@.service", 3.5),
    ("nut-monitor.service", 6.9),
    ("nut-web.service", 3.2),
    ("nut-logger.service", 9.6),
];

/// `systemd-analyze security`'s overall exposure for the unit file.
fn exposure(unit: &str) -> f64 {
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager", unit])
        .current_dir(unit_dir())
        .output()
        .unwrap_or_else(|e| panic!("systemd-analyze is needed (apt-get install systemd): {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level for"))
        .unwrap_or_else(|| panic!("{unit}: no overall exposure in:\n{text}"));
    let after = line.rsplit_once(": ").map(|(_, v)| v).unwrap_or_default();
    after
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{unit}: cannot read the score in {line:?}"))
}

#[test]
fn exposure_scores_do_not_get_worse() {
    let mut worse = Vec::new();
    for (unit, recorded) in RECORDED {
        let score = exposure(unit);
        eprintln!("{unit}: {score} (recorded {recorded})");
        if score > recorded + 1e-9 {
            worse.push(format!("{unit}: {score} > recorded {recorded}"));
        }
    }
    assert!(worse.is_empty(), "exposure got worse: {worse:?}");
}

fn words(text: &str, key: &str) -> Vec<String> {
    setting(text, key)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[test]
fn sandboxes_leave_each_daemon_what_it_needs() {
    // upsd: binds, chroots and switches user as root; ExecReload signals it.
    let upsd = unit_text("nut-server.service");
    let caps = words(&upsd, "CapabilityBoundingSet");
    for cap in [
        "CAP_NET_BIND_SERVICE",
        "CAP_SETUID",
        "CAP_SETGID",
        "CAP_SYS_CHROOT",
        "CAP_KILL",
    ] {
        assert!(caps.iter().any(|c| c == cap), "upsd lacks {cap}: {caps:?}");
    }
    assert!(words(&upsd, "SystemCallFilter").contains(&"chroot".to_owned()));

    // Drivers: devices, network (SNMP, XML/HTTP, the repeater) and netlink (libusb).
    let driver = unit_text("nut-driver@.service");
    for key in [
        "PrivateDevices",
        "DevicePolicy",
        "DeviceAllow",
        "ProtectClock",
    ] {
        assert_eq!(
            setting(&driver, key),
            None,
            "a driver unit must not set {key}="
        );
    }
    assert_eq!(setting(&driver, "PrivateNetwork"), None);
    let families = words(&driver, "RestrictAddressFamilies");
    for family in ["AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"] {
        assert!(
            families.iter().any(|f| f == family),
            "drivers need {family}"
        );
    }
    assert!(words(&driver, "CapabilityBoundingSet").contains(&"CAP_SETUID".to_owned()));

    // upsmon: SHUTDOWNCMD is any root command, POWERDOWNFLAG is written under /etc, and
    // WALL/NOTIFYCMD run setgid helpers and reach the consoles.
    let upsmon = unit_text("nut-monitor.service");
    for key in [
        "CapabilityBoundingSet",
        "NoNewPrivileges",
        "PrivateDevices",
        "PrivateTmp",
        "DevicePolicy",
        "DeviceAllow",
        "ProtectClock",
        "RestrictSUIDSGID",
        "MemoryDenyWriteExecute",
        "ReadOnlyPaths",
        "InaccessiblePaths",
    ] {
        assert_eq!(
            setting(&upsmon, key),
            None,
            "upsmon's unit must not set {key}="
        );
    }
    assert_eq!(
        setting(&upsmon, "ProtectSystem").as_deref(),
        Some("yes"),
        "/etc (POWERDOWNFLAG) must stay writable"
    );
    let filter = setting(&upsmon, "SystemCallFilter").unwrap_or_default();
    assert!(
        filter.starts_with('~') && !filter.contains("@reboot") && !filter.contains("@mount"),
        "upsmon's filter may only deny, and never shutting down or unmounting: {filter}"
    );
}
