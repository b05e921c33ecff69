//! The config parsers against the repository's own fixture files
//! (`tests/fixtures/conf/good`: a realistic server setup that must parse cleanly into the
//! expected values; `tests/fixtures/conf/broken`: one file per kind, full of mistakes, whose
//! diagnostics must match `<file>.expected` line for line).
//!
//! After an intended change of wording, regenerate the expectations with
//! `UPDATE_EXPECTED=1 cargo test -p nut-core --test conf_fixtures` and review the diff.

#![allow(
    clippy::disallowed_methods,
    reason = "reading fixture files is what these tests are for; nut-core itself reads none"
)]

use std::path::{Path, PathBuf};

use nut_core::conf::upsd_conf::{ListenAddr, ListenAddr::Host};
use nut_core::conf::upssched_conf::AtAction;
use nut_core::conf::{self, Action, ConfResult, Mode, Role};
use nut_core::names::{NotifyFlags, NotifyType};

fn dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conf")
        .join(kind)
}

fn good(name: &str) -> Vec<u8> {
    let path = dir("good").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn clean<T: std::fmt::Debug>(name: &str, result: ConfResult<T>) -> T {
    match result {
        Ok(p) if p.warnings.is_empty() => p.config,
        Ok(p) => panic!("{name}: unexpected warnings {:#?}", p.warnings),
        Err(e) => panic!("{name}: unexpected errors\n{e}"),
    }
}

#[test]
fn good_ups_conf() {
    let c = clean(
        "ups.conf",
        conf::parse_ups_conf(good("ups.conf"), "ups.conf"),
    );
    assert_eq!(c.sections.len(), 2);
    let rack = c.section("rack-a").expect("rack-a");
    assert_eq!(rack.driver, "usbhid-ups");
    assert_eq!(rack.desc.as_deref(), Some("Rack A, \"left\" side"));
    assert_eq!(rack.get("serial"), Some("AS1234567890"));
    assert_eq!(rack.overrides.len(), 2);
    assert_eq!(
        rack.defaults.get("input.transfer.high").map(String::as_str),
        Some("280")
    );
    assert!(rack.ignorelb && !rack.nolock);
    assert_eq!(c.effective_pollinterval(rack), 2);
    assert_eq!(c.effective_retrydelay(rack), 10);
    let sim = c.section("sim").expect("sim");
    assert_eq!(c.effective_pollinterval(sim), 5);
    assert_eq!(sim.sdorder, -1);
    let own: Vec<&str> = sim.driver_options().map(|e| e.key.as_str()).collect();
    assert_eq!(own, ["mode"]);
    assert_eq!(c.global.user.as_deref(), Some("nut"));
}

#[test]
fn good_upsd_conf() {
    let c = clean(
        "upsd.conf",
        conf::parse_upsd_conf(good("upsd.conf"), "upsd.conf"),
    );
    let addrs: Vec<(ListenAddr, u16)> = c
        .listeners()
        .into_iter()
        .map(|l| (l.addr, l.port))
        .collect();
    assert_eq!(
        addrs,
        [
            (Host("127.0.0.1".into()), 3493),
            (Host("::1".into()), 3493),
            (Host("192.0.2.10".into()), 3493),
        ]
    );
    assert_eq!((c.maxage, c.trackingdelay, c.maxconn), (25, 600, Some(256)));
    assert!(!c.allow_no_device && c.disable_weak_ssl);
    assert_eq!(c.certrequest, conf::upsd_conf::CertRequest::Request);
}

#[test]
fn good_upsd_users() {
    let u = clean(
        "upsd.users",
        conf::parse_upsd_users(good("upsd.users"), "upsd.users"),
    );
    let admin = u
        .authenticate("admin", "correct horse")
        .expect("admin logs in");
    assert!(admin.can(Action::Set) && admin.can_instcmd("shutdown.return"));
    let primary = u
        .authenticate("monprimary", "primarypass")
        .expect("primary");
    assert!(primary.can(Action::Primary) && primary.can(Action::Fsd) && !primary.can(Action::Set));
    let secondary = u.get("monsecondary").expect("secondary");
    assert_eq!(secondary.upsmon, Some(Role::Secondary));
    assert!(secondary.can(Action::Login) && !secondary.can(Action::Fsd));
    let tester = u.get("tester").expect("tester");
    assert!(tester.can_instcmd("beeper.mute") && tester.can_instcmd("Test.Battery.Stop"));
    assert!(!tester.can_instcmd("load.off"));
}

#[test]
fn good_upsmon_conf() {
    let c = clean(
        "upsmon.conf",
        conf::parse_upsmon_conf(good("upsmon.conf"), "upsmon.conf"),
    );
    let systems: Vec<&str> = c.monitors.iter().map(|m| m.system.as_str()).collect();
    assert_eq!(
        systems,
        [
            "rack-a@localhost",
            "sim@localhost:3493",
            "far@[2001:db8::5]:3494"
        ]
    );
    assert_eq!(c.monitors[2].ups.host.as_deref(), Some("2001:db8::5"));
    assert_eq!(c.monitors[2].role, Role::Secondary);
    assert_eq!(c.total_power_value(), 2);
    assert_eq!(
        c.notify_message(NotifyType::OnBatt),
        "%s switched to battery"
    );
    assert_eq!(c.notify_flags(NotifyType::ReplBatt), NotifyFlags::IGNORE);
    assert!(c.notify_flags(NotifyType::OnBatt).exec);
    assert_eq!(c.notify_flags(NotifyType::LowBatt), NotifyFlags::DEFAULT);
    assert_eq!(c.shutdownexit, conf::upsmon_conf::ShutdownExit::Never);
    assert_eq!(c.nocommwarntime, 600);
}

#[test]
fn good_upssched_conf() {
    let c = clean(
        "upssched.conf",
        conf::parse_upssched_conf(good("upssched.conf"), "upssched.conf"),
    );
    let for_rack: Vec<&AtAction> = c
        .matching(NotifyType::LowBatt, "rack-a@localhost")
        .map(|r| &r.action)
        .collect();
    assert_eq!(
        for_rack,
        [&AtAction::Execute {
            command: "battery-low".into()
        }]
    );
    assert_eq!(
        c.matching(NotifyType::LowBatt, "far@[2001:db8::5]:3494")
            .count(),
        0
    );
    assert_eq!(c.rules.len(), 5);
}

#[test]
fn good_nut_conf_hosts_conf_and_cmdvartab() {
    let n = clean(
        "nut.conf",
        conf::parse_nut_conf(good("nut.conf"), "nut.conf"),
    );
    assert_eq!(n.mode(), Mode::NetServer);
    assert_eq!(n.get("UPSD_OPTIONS"), Some("-D"));

    let h = clean(
        "hosts.conf",
        conf::parse_hosts_conf(good("hosts.conf"), "hosts.conf"),
    );
    assert_eq!(h.monitors[1].description, "Remote site");
    assert_eq!(h.monitors[1].ups.port_or_default(), 3494);

    let t = clean(
        "cmdvartab",
        conf::parse_cmdvartab(good("cmdvartab"), "cmdvartab"),
    );
    assert_eq!(
        t.var_desc("Battery.Charge"),
        Some("Charge left in the battery, percent")
    );
}

/// Every diagnostic, one per line, as `error: file:line: message` or `warning: …`.
fn render<T>(result: ConfResult<T>) -> String {
    let lines: Vec<String> = match result {
        Ok(parsed) => parsed
            .warnings
            .iter()
            .map(|d| format!("{}: {d}", d.severity))
            .collect(),
        Err(e) => e
            .diagnostics()
            .into_iter()
            .map(|d| format!("{}: {d}", d.severity))
            .collect(),
    };
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn broken_files_give_the_expected_diagnostics() {
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let mut failures = Vec::new();
    let names = [
        "ups.conf",
        "upsd.conf",
        "upsd.users",
        "upsmon.conf",
        "upssched.conf",
        "nut.conf",
        "hosts.conf",
        "cmdvartab",
    ];
    for name in names {
        let path = dir("broken").join(name);
        let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let got = match name {
            "ups.conf" => render(conf::parse_ups_conf(&text, name)),
            "upsd.conf" => render(conf::parse_upsd_conf(&text, name)),
            "upsd.users" => render(conf::parse_upsd_users(&text, name)),
            "upsmon.conf" => render(conf::parse_upsmon_conf(&text, name)),
            "upssched.conf" => render(conf::parse_upssched_conf(&text, name)),
            "nut.conf" => render(conf::parse_nut_conf(&text, name)),
            "hosts.conf" => render(conf::parse_hosts_conf(&text, name)),
            _ => render(conf::parse_cmdvartab(&text, name)),
        };
        assert!(
            got.contains("error: "),
            "{name}: the broken fixture must fail"
        );
        let expected_path = dir("broken").join(format!("{name}.expected"));
        if update {
            std::fs::write(&expected_path, &got).expect("write expectation");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        if got != expected {
            failures.push(format!("--- {name}: expected\n{expected}+++ got\n{got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
