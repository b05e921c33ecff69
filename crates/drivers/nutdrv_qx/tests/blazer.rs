//! blazer_ser's core against the same simulated devices as Debian's /lib/nut/blazer_ser 2.8.0
//! (`-d 1` dumps on `shared/tools/hwrig/serialsim.py --fixed`, and `upscmd` through Debian's
//! upsd with `ondelay = 2`, `offdelay = 45`; run 2026-12-06). device.* (copied from ups.* by
//! the framework) and driver.* variables are left out.

use crate::support;
use support::*;

use nutdrv_qx::{
    Blazer, CmdStatus, Outcome, PollResult, ProtocolId, QxOptions, Reply, Step, Variant,
};

fn bopts(pairs: &[(&str, Option<&str>)]) -> QxOptions {
    QxOptions::parse(Variant::BlazerSer, pairs.iter().copied()).expect("valid options")
}

fn bdrive(b: &mut Blazer, mut s: Step, dev: &mut Device) -> Outcome {
    loop {
        match s {
            Step::Send(c) => {
                let r = dev.answer(&c);
                s = b.feed(Reply::Data(&r));
            }
            Step::Done(o) => return o,
        }
    }
}

/// Like blazer_ser -d 1: init, then the polls Debian made.
fn bstart(dev: &mut Device, o: QxOptions) -> Blazer {
    let mut b = Blazer::new(o).expect("delays in range");
    let s = b.init(100.0);
    assert_eq!(bdrive(&mut b, s, dev), Outcome::Init(Ok(())));
    for i in 0..3 {
        let s = b.poll(100.0 + f64::from(i));
        assert!(matches!(
            bdrive(&mut b, s, dev),
            Outcome::Poll(PollResult::Ok { .. })
        ));
    }
    b
}

fn bdump(b: &Blazer) -> Vec<String> {
    let mut v: Vec<String> = b
        .dstate()
        .vars()
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.value))
        .collect();
    let alarm = !b.alarms().is_empty();
    v.push(format!(
        "ups.status: {}{}",
        if alarm { "ALARM " } else { "" },
        b.status_string()
    ));
    if alarm {
        v.push(format!("ups.alarm: {}", b.alarms().join(" ")));
    }
    v.sort();
    v
}

const Q1STD: &str = "Q1 -> (215.0 195.0 230.0 014 49.0 22.7 30.0 00000000\nQS -> (215.0 195.0 230.0 014 49.0 22.7 30.0 00000000\nF -> #230.0 000 024.0 50.0\nI -> #NOT_A_LIVE_UPS  TESTING    TESTING   \n";

#[test]
fn megatec_like_debian() {
    let mut dev = Device::from_text(Q1STD);
    let b = bstart(&mut dev, bopts(&[]));
    assert_eq!(b.protocol(), Some(ProtocolId::Megatec));
    assert_eq!(
        bdump(&b),
        lines(
            r#"
battery.charge: 37
battery.voltage: 22.70
battery.voltage.high: 26.00
battery.voltage.low: 20.80
battery.voltage.nominal: 24.0
input.current.nominal: 0.0
input.frequency: 49.0
input.frequency.nominal: 50
input.voltage: 215.0
input.voltage.fault: 195.0
input.voltage.nominal: 230
output.voltage: 230.0
ups.beeper.status: disabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.firmware: TESTING
ups.load: 14
ups.mfr: NOT_A_LIVE_UPS
ups.model: TESTING
ups.status: OL
ups.temperature: 30.0
ups.type: online
"#
        )
    );
    assert_eq!(dev.log, ["Q1", "F", "I", "Q1", "Q1", "Q1"]);
}

#[test]
fn mustek_like_debian() {
    let mut dev = Device::from_text(Q1STD);
    let b = bstart(&mut dev, bopts(&[("protocol", Some("mustek"))]));
    assert_eq!(
        bdump(&b),
        lines(
            r#"
battery.charge: 37
battery.voltage: 22.70
battery.voltage.high: 26.00
battery.voltage.low: 20.80
battery.voltage.nominal: 24.0
input.current.nominal: 0.0
input.frequency: 49.0
input.frequency.nominal: 50
input.voltage: 215.0
input.voltage.fault: 195.0
input.voltage.nominal: 230
output.voltage: 230.0
ups.beeper.status: disabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.firmware: TESTING
ups.load: 14
ups.mfr: NOT_A_LIVE_UPS
ups.model: TESTING
ups.status: OL
ups.temperature: 30.0
ups.type: online
"#
        )
    );
    assert_eq!(dev.log, ["QS", "F", "I", "QS", "QS", "QS"]);
}

#[test]
fn upsmart_like_debian() {
    let mut dev = Device::from_fixture("megatec-upsmart_mec0003_0001-0000.txt");
    dev.set("I", "#UPSMART         MEC0003    V3.8      ");
    let b = bstart(&mut dev, bopts(&[]));
    assert_eq!(
        bdump(&b),
        lines(
            r#"
battery.charge: 100
battery.voltage: 13.60
battery.voltage.high: 13.00
battery.voltage.low: 10.40
battery.voltage.nominal: 12.0
input.current.nominal: 0.0
input.frequency: 49.9
input.frequency.nominal: 0
input.voltage: 232.0
input.voltage.fault: 0.0
input.voltage.nominal: 0
output.voltage: 232.0
ups.beeper.status: disabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.firmware: V3.8
ups.load: 0
ups.mfr: UPSMART
ups.model: MEC0003
ups.status: OL
ups.temperature: 29.0
ups.type: offline / line interactive
"#
        )
    );
}

#[test]
fn powersa_like_debian() {
    // blazer accepts the 22-byte F answer nutdrv_qx's q1 never asks for; 36 packs of 2.28 V.
    let mut dev = Device::from_fixture("megatec_powersa-rt3000_ffff-0000.txt");
    let b = bstart(&mut dev, bopts(&[]));
    assert_eq!(
        bdump(&b),
        lines(
            r#"
battery.charge: 100
battery.voltage: 82.08
battery.voltage.high: 78.00
battery.voltage.low: 62.40
battery.voltage.nominal: 72.0
input.current.nominal: 13.0
input.frequency: 49.9
input.frequency.nominal: 50
input.voltage: 227.0
input.voltage.fault: 120.0
input.voltage.nominal: 220
output.voltage: 0.0
ups.beeper.status: enabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.load: 0
ups.status: OL
ups.temperature: 25.0
ups.type: online
"#
        )
    );
    assert_eq!(dev.log, ["Q1", "F", "I", "I", "I", "Q1", "Q1", "Q1"]);
}

#[test]
fn runtimecal_and_delays_like_debian() {
    let mut dev = Device::from_text(Q1STD);
    let b = bstart(
        &mut dev,
        bopts(&[
            ("runtimecal", Some("240,100,720,50")),
            ("ondelay", Some("2")),
            ("offdelay", Some("45")),
        ]),
    );
    assert_eq!(
        bdump(&b),
        lines(
            r#"
battery.charge: 0
battery.runtime: 0
battery.voltage: 22.70
battery.voltage.high: 26.00
battery.voltage.low: 20.80
battery.voltage.nominal: 24.0
input.current.nominal: 0.0
input.frequency: 49.0
input.frequency.nominal: 50
input.voltage: 215.0
input.voltage.fault: 195.0
input.voltage.nominal: 230
output.voltage: 230.0
ups.beeper.status: disabled
ups.delay.shutdown: 42
ups.delay.start: 120
ups.firmware: TESTING
ups.load: 14
ups.mfr: NOT_A_LIVE_UPS
ups.model: TESTING
ups.status: OL
ups.temperature: 30.0
ups.type: online
"#
        )
    );
}

#[test]
fn status_bits_and_alarms_like_debian() {
    let mut dev = Device::from_text(
        "Q1 -> (215.0 195.0 230.0 014 49.0 22.7 30.0 10111110\nF -> #230.0 000 024.0 50.0\n",
    );
    let b = bstart(&mut dev, bopts(&[("novendor", None)]));
    assert_eq!(
        bdump(&b),
        lines(
            r#"
battery.charge: 37
battery.voltage: 22.70
battery.voltage.high: 26.00
battery.voltage.low: 20.80
battery.voltage.nominal: 24.0
input.current.nominal: 0.0
input.frequency: 49.0
input.frequency.nominal: 50
input.voltage: 215.0
input.voltage.fault: 195.0
input.voltage.nominal: 230
output.voltage: 230.0
ups.alarm: UPS selftest failed! Shutdown imminent!
ups.beeper.status: disabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.load: 14
ups.status: ALARM OB BOOST CAL FSD
ups.temperature: 30.0
ups.type: offline / line interactive
"#
        )
    );
}

#[test]
fn ippon_unknown_nominal_battery_voltage_publishes_no_limits() {
    // Deliberate fix (docs/compatibility.md): Debian's blazer_ser 2.8.0 "guesses" low/high
    // from the unknown (-1) nominal battery voltage of this unit and publishes -0.87/-1.08.
    // We publish no battery.voltage.low/high at all when the nominal voltage is unknown.
    let mut dev = Device::from_fixture("megatec_ippon_0665-5161.txt");
    let b = bstart(&mut dev, bopts(&[]));
    assert_eq!(b.dstate().get("battery.voltage.high"), None);
    assert_eq!(b.dstate().get("battery.voltage.low"), None);
    for (var, v) in b.dstate().vars() {
        if var.starts_with("battery.") {
            assert!(!v.value.starts_with('-'), "{var} = {}", v.value);
        }
    }
}

#[test]
fn commands_send_debian_bytes() {
    let mut dev = Device::from_text(Q1STD);
    let mut b = bstart(
        &mut dev,
        bopts(&[("ondelay", Some("2")), ("offdelay", Some("45"))]),
    );
    for c in ["Q", "S.7R0002", "S.7R0000", "T10", "T05", "S00R0000"] {
        dev.mute(c);
    }
    for (cmd, extra, sent, st) in [
        ("beeper.toggle", None, Some("Q"), CmdStatus::Handled),
        (
            "shutdown.return",
            None,
            Some("S.7R0002"),
            CmdStatus::Handled,
        ),
        (
            "shutdown.stayoff",
            None,
            Some("S.7R0000"),
            CmdStatus::Handled,
        ),
        ("test.battery.start", None, Some("T10"), CmdStatus::Handled),
        (
            "test.battery.start",
            Some("5"),
            Some("T05"),
            CmdStatus::Handled,
        ),
        ("test.battery.start", Some("120"), None, CmdStatus::Failed),
        ("load.off", None, Some("S00R0000"), CmdStatus::Handled),
        ("beeper.enable", None, None, CmdStatus::Unknown),
        // echoed = not supported
        ("test.battery.stop", None, Some("CT"), CmdStatus::Failed),
    ] {
        dev.log.clear();
        let s = b.instcmd(cmd, extra);
        assert_eq!(bdrive(&mut b, s, &mut dev), Outcome::InstCmd(st), "{cmd}");
        assert_eq!(dev.log, sent.iter().copied().collect::<Vec<_>>(), "{cmd}");
    }
    assert!(
        b.dstate().vars().values().all(|v| v.flags == 0),
        "no writable variables"
    );
    dev.log.clear();
    let s = b.shutdown();
    assert_eq!(
        bdrive(&mut b, s, &mut dev),
        Outcome::Shutdown(Ok("Shutting down in 42 seconds".into()))
    );
    assert_eq!(dev.log, ["C", "C", "C", "S.7R0002"]);
}

#[test]
fn delays_out_of_range_are_refused() {
    assert!(Blazer::new(bopts(&[("ondelay", Some("10000"))])).is_err());
    assert!(Blazer::new(bopts(&[("offdelay", Some("11"))])).is_err());
    assert!(Blazer::new(bopts(&[("offdelay", Some("601"))])).is_err());
    // nutdrv_qx-only options are not blazer_ser's.
    assert!(QxOptions::parse(Variant::BlazerSer, [("pollfreq", Some("10"))]).is_err());
    assert!(QxOptions::parse(Variant::BlazerSer, [("protocol", Some("q1"))]).is_err());
}

#[test]
fn goes_stale_after_four_failures_and_recovers() {
    let mut dev = Device::from_text(Q1STD);
    let mut b = bstart(&mut dev, bopts(&[]));
    dev.silent = true;
    let mut stale = Vec::new();
    for i in 0..6 {
        let s = b.poll(200.0 + f64::from(i));
        stale.push(matches!(
            bdrive(&mut b, s, &mut dev),
            Outcome::Poll(PollResult::Failed { stale: true })
        ));
    }
    assert_eq!(stale, [false, false, false, false, true, true]);
    dev.silent = false;
    let s = b.poll(300.0);
    assert_eq!(
        bdrive(&mut b, s, &mut dev),
        Outcome::Poll(PollResult::Ok {
            full: true,
            reestablished: true
        })
    );
}
