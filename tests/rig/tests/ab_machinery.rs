//! The A/B machinery itself, Debian against Debian (our nutdrv_qx does not exist yet):
//! two benches on two simulators with the same recording agree; a planted difference in
//! one simulator is reported; the bytes each instant command and SET VAR makes the driver
//! send are recorded and compared.
//!
//! Switching the right-hand side to our driver is `Impl::Debian` → `Impl::Ours` in
//! `right()`.

use nut_harness::Impl;
use nut_rig::{Bench, BenchBuilder, Difference, Exemptions, Outcome, Protocol, SimConfig};
use nut_rig::{both, compare, fixture_path};

const UPSMART: &str = "megatec-upsmart_mec0003_0001-0000.txt";

/// Replies cycle as recorded until the 2nd status query, then stay put.
fn upsmart() -> SimConfig {
    SimConfig::from_fixture(Protocol::Megatec, fixture_path(UPSMART))
        .unwrap_or_else(|e| panic!("{e}"))
        .freeze_after(2)
}

fn side(which: Impl, driver: &str, sim: SimConfig) -> BenchBuilder {
    Bench::builder(which, driver, sim).key("pollinterval", "1")
}

fn left(driver: &str, sim: SimConfig) -> Bench {
    side(Impl::Debian, driver, sim).start()
}

fn right(driver: &str, sim: SimConfig) -> Bench {
    side(Impl::Debian, driver, sim).start()
}

fn ab(driver: &str, left_sim: SimConfig, right_sim: SimConfig) -> Result<(), nut_rig::Diff> {
    let (l, r) = (left(driver, left_sim), right(driver, right_sim));
    // Not vacuous: the benches serve a full tree.
    assert!(l.snapshot().vars.len() > 20, "{:?}", l.snapshot());
    nut_rig::ab(&l, &r, 4, &Exemptions::standard())
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn nutdrv_qx_against_itself_agrees() {
    if let Err(diff) = ab("nutdrv_qx", upsmart(), upsmart()) {
        panic!("{diff}");
    }
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn blazer_ser_against_itself_agrees() {
    if let Err(diff) = ab("blazer_ser", upsmart(), upsmart()) {
        panic!("{diff}");
    }
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn a_planted_difference_is_reported() {
    // The right simulator's unit reports another input voltage and firmware.
    let altered = upsmart()
        .set("Q1", "(231.0 000.0 232.0 000 49.7 13.6 29.0 00001000")
        .set("I", "#                           V3.9      ");
    let diff = ab("nutdrv_qx", upsmart(), altered).expect_err("the planted difference");
    let text = diff.to_string();
    assert_eq!(
        diff.differences,
        [
            Difference::Var {
                name: "input.voltage".into(),
                left: Some("232.0".into()),
                right: Some("231.0".into()),
            },
            Difference::Var {
                name: "ups.firmware".into(),
                left: Some("V3.8".into()),
                right: Some("V3.9".into()),
            },
        ],
        "{text}"
    );
    assert!(
        text.contains("VAR input.voltage: \"232.0\" | \"231.0\""),
        "{text}"
    );
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn exemptions_hide_only_what_they_name() {
    let sim = upsmart();
    let l = left("nutdrv_qx", sim.clone());
    let r = right("nutdrv_qx", sim);
    let (ls, rs) = (l.snapshot_after_polls(4), r.snapshot_after_polls(4));
    // Each bench has its own pty: without the standard exemptions, the port differs.
    let diff = compare(&ls, &rs, &Exemptions::none(), "left", "right").expect_err("ports");
    assert_eq!(
        diff.differences,
        [Difference::Var {
            name: "driver.parameter.port".into(),
            left: Some(l.sim().path().display().to_string()),
            right: Some(r.sim().path().display().to_string()),
        }]
    );
}

fn sent_text(outcome: &Outcome) -> Vec<String> {
    outcome
        .sent
        .iter()
        .map(|b| b.escape_ascii().to_string())
        .collect()
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn instant_commands_and_set_var_send_the_same_bytes() {
    let (l, r) = (left("nutdrv_qx", upsmart()), right("nutdrv_qx", upsmart()));
    let cmds = l.snapshot().cmds;
    assert_eq!(cmds, r.snapshot().cmds);
    // driver.* are the framework's own (driver.exit would end the test);
    // shutdown.default powers the unit off and ends the driver.
    let device_cmds: Vec<&String> = cmds
        .iter()
        .filter(|c| !c.starts_with("driver.") && *c != "shutdown.default")
        .collect();
    assert!(device_cmds.len() >= 8, "{cmds:?}");
    let mut sent = std::collections::BTreeMap::new();
    for cmd in device_cmds {
        let (lo, ro) = both(&l, &r, |b| b.instcmd(cmd, None));
        assert_eq!(lo.client, "OK", "{cmd} on {}", l.label());
        assert_eq!(sent_text(&lo), sent_text(&ro), "{cmd}: bytes differ");
        sent.insert(cmd.as_str(), sent_text(&lo));
    }
    // The documented Megatec command bytes (docs/nut-behaviour.md §8.4).
    for (cmd, bytes) in [
        ("beeper.toggle", "Q\\r"),
        ("load.on", "C\\r"),
        ("shutdown.stop", "C\\r"),
        ("test.battery.start.quick", "T\\r"),
        ("test.battery.start.deep", "TL\\r"),
        ("test.battery.stop", "CT\\r"),
        ("load.off", "S00R0000\\r"),
    ] {
        assert_eq!(sent[cmd], [bytes], "{cmd}: {sent:?}");
    }
    // An argument (seconds) reaches the wire (minutes); without one the test runs 10 min.
    assert_eq!(sent["test.battery.start"], ["T10\\r"]);
    let (lo, ro) = both(&l, &r, |b| b.instcmd("test.battery.start", Some("120")));
    assert_eq!(sent_text(&lo), ["T02\\r"]);
    assert_eq!(sent_text(&lo), sent_text(&ro));

    // SET VAR: the delay lives in the driver (nothing goes to the unit) and shows in the
    // bytes of the next shutdown command.
    let before = sent["shutdown.return"].clone();
    let (lo, ro) = both(&l, &r, |b| b.setvar("ups.delay.shutdown", "120"));
    assert_eq!(lo.client, "OK", "{lo:?}");
    assert!(lo.sent.is_empty() && ro.sent.is_empty(), "{lo:?} {ro:?}");
    assert_eq!(l.get("ups.delay.shutdown").as_deref(), Ok("120"));
    let (lo, ro) = both(&l, &r, |b| b.instcmd("shutdown.return", None));
    assert_eq!(sent_text(&lo), sent_text(&ro));
    assert_eq!(sent_text(&lo), ["S02R0003\\r"], "was {before:?}");
}
