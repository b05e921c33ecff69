//! Every implemented protocol against a device serving synthetic replies, compared with what
//! Debian NUT 2.8.0's `/lib/nut/nutdrv_qx -d 1` published for the same replies on
//! `shared/tools/hwrig/serialsim.py --fixed` (run 2026-12-06; framework variables removed).
//! The bytes each one sent are compared too where they tell the protocol's logic apart.

use crate::support;
use support::*;

use nutdrv_qx::ProtocolId;
const FX_Q1STD: &str = r#"Q1 -> (215.0 195.0 230.0 014 49.0 22.7 30.0 00000000
QS -> (215.0 195.0 230.0 014 49.0 22.7 30.0 00000000
D -> (215.0 195.0 230.0 014 49.0 22.7 30.0 00000000
F -> #230.0 000 024.0 50.0
I -> #NOT_A_LIVE_UPS  TESTING    TESTING   
FW? -> #NOT_A_LIVE_UPS  TESTING    TESTING   "#;
const FX_MECER: &str = r#"Q1 -> (215.0 195.0 230.0 014 49.0 22.7 30.0 00000000
QPI -> (PI98
F -> #230.0 000 024.0 50.0
I -> #NOT_A_LIVE_UPS  TESTING    TESTING   "#;
const FX_MECERNAK: &str = r#"Q1 -> (215.0 195.0 230.0 014 49.0 22.7 30.0 00000000
QPI -> (NAK
F -> #230.0 000 024.0 50.0
I -> #NOT_A_LIVE_UPS  TESTING    TESTING   "#;
const FX_BESTUPS: &str = r#"Q1 -> (215.0 195.0 230.0 014 49.0 22.7 30.0 00100000
ID -> FOR,750,120,120,20.0,27.6
RT -> 015
BP? -> 02
SS? -> 0
M -> 0"#;
const FX_BESTUPS620: &str = r#"Q1 -> (231.0 195.0 220.0 014 49.0 22.7 30.0 10100000
ID -> 620,1500,230,230,20.0,27.6
RT -> 015
BP? -> 02
SS? -> 3
M -> 4"#;

#[test]
fn mustek_like_debian() {
    let mut dev = Device::from_text(FX_Q1STD);
    let qx = start(&mut dev, opts(&[("protocol", Some("mustek"))]));
    assert_eq!(qx.protocol().id, ProtocolId::Mustek);
    let debian = r#"
battery.charge: 37
battery.voltage: 22.70
battery.voltage.high: 26.00
battery.voltage.low: 20.80
battery.voltage.nominal: 24.0
device.mfr: NOT_A_LIVE_UPS
device.model: TESTING
driver.parameter.pollfreq: 30
driver.version.data: Mustek 0.07
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
ups.status: OL
ups.temperature: 30.0
ups.type: online
"#;
    assert_eq!(dump(&qx), lines(debian));
    // Debian's exchange (claim, init walk, first poll; its -d 1 polled twice more)
    assert_eq!(dev.log, &["QS", "QS", "F", "I", "QS"]);
}

#[test]
fn megatec_old_like_debian() {
    let mut dev = Device::from_text(FX_Q1STD);
    let qx = start(&mut dev, opts(&[("protocol", Some("megatec/old"))]));
    assert_eq!(qx.protocol().id, ProtocolId::MegatecOld);
    let debian = r#"
battery.charge: 37
battery.voltage: 22.70
battery.voltage.high: 26.00
battery.voltage.low: 20.80
battery.voltage.nominal: 24.0
device.mfr: NOT_A_LIVE_UPS
device.model: TESTING
driver.parameter.pollfreq: 30
driver.version.data: Megatec/old 0.07
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
ups.status: OL
ups.temperature: 30.0
ups.type: online
"#;
    assert_eq!(dump(&qx), lines(debian));
    // Debian's exchange (claim, init walk, first poll; its -d 1 polled twice more)
    assert_eq!(dev.log, &["D", "D", "F", "I", "D"]);
}

#[test]
fn zinto_like_debian() {
    let mut dev = Device::from_text(FX_Q1STD);
    let qx = start(&mut dev, opts(&[("protocol", Some("zinto"))]));
    assert_eq!(qx.protocol().id, ProtocolId::Zinto);
    let debian = r#"
battery.charge: 37
battery.voltage: 22.70
battery.voltage.high: 26.00
battery.voltage.low: 20.80
battery.voltage.nominal: 24.0
device.mfr: NOT_A_LIVE_UPS
device.model: TESTING
driver.parameter.pollfreq: 30
driver.version.data: Zinto 0.06
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
ups.status: OL
ups.temperature: 30.0
ups.type: online
"#;
    assert_eq!(dump(&qx), lines(debian));
    // Debian's exchange (claim, init walk, first poll; its -d 1 polled twice more)
    assert_eq!(dev.log, &["Q1", "FW?", "Q1", "F", "FW?", "Q1"]);
}

#[test]
fn hunnox_like_debian() {
    let mut dev = Device::from_text(FX_Q1STD);
    let qx = start(&mut dev, opts(&[("protocol", Some("hunnox"))]));
    assert_eq!(qx.protocol().id, ProtocolId::Hunnox);
    let debian = r#"
battery.charge: 37
battery.voltage: 22.70
battery.voltage.high: 26.00
battery.voltage.low: 20.80
battery.voltage.nominal: 24.0
device.mfr: NOT_A_LIVE_UPS
device.model: TESTING
driver.parameter.pollfreq: 30
driver.version.data: Hunnox 0.01
input.current.nominal: 0.0
input.frequency: 49.0
input.frequency.nominal: 50
input.voltage: 215.0
input.voltage.fault: 195.0
input.voltage.nominal: 230
output.voltage: 230.0
ups.beeper.status: disabled
ups.delay.shutdown: 60
ups.delay.start: 0
ups.firmware: TESTING
ups.load: 14
ups.status: OL
ups.temperature: 30.0
ups.type: online
"#;
    assert_eq!(dump(&qx), lines(debian));
    // Debian's exchange (claim, init walk, first poll; its -d 1 polled twice more)
    assert_eq!(dev.log, &["Q1", "FW?", "Q1", "F", "FW?", "Q1"]);
}

#[test]
fn mecer_like_debian() {
    let mut dev = Device::from_text(FX_MECER);
    let qx = start(&mut dev, opts(&[]));
    assert_eq!(qx.protocol().id, ProtocolId::Mecer);
    let debian = r#"
battery.charge: 37
battery.voltage: 22.70
battery.voltage.high: 26.00
battery.voltage.low: 20.80
battery.voltage.nominal: 24.0
device.mfr: NOT_A_LIVE_UPS
device.model: TESTING
driver.parameter.pollfreq: 30
driver.version.data: Mecer 0.07
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
ups.firmware.aux: Voltronic Power P98
ups.load: 14
ups.status: OL
ups.temperature: 30.0
ups.type: online
"#;
    assert_eq!(dump(&qx), lines(debian));
}

#[test]
fn mecernak_like_debian() {
    let mut dev = Device::from_text(FX_MECERNAK);
    let qx = start(&mut dev, opts(&[("protocol", Some("mecer"))]));
    assert_eq!(qx.protocol().id, ProtocolId::Mecer);
    let debian = r#"
battery.charge: 37
battery.voltage: 22.70
battery.voltage.high: 26.00
battery.voltage.low: 20.80
battery.voltage.nominal: 24.0
device.mfr: NOT_A_LIVE_UPS
device.model: TESTING
driver.parameter.pollfreq: 30
driver.version.data: Mecer 0.07
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
ups.status: OL
ups.temperature: 30.0
ups.type: online
"#;
    assert_eq!(dump(&qx), lines(debian));
    // Debian's exchange (claim, init walk, first poll; its -d 1 polled twice more)
    assert_eq!(dev.log, &["Q1", "QPI", "Q1", "F", "I", "Q1"]);
}

#[test]
fn bestups_like_debian() {
    let mut dev = Device::from_text(FX_BESTUPS);
    let qx = start(&mut dev, opts(&[]));
    assert_eq!(qx.protocol().id, ProtocolId::Bestups);
    let debian = r#"
battery.charge: 36
battery.runtime: 900
battery.voltage: 22.70
battery.voltage.high: 27.6
battery.voltage.low: 20.0
device.mfr: Best Power
device.model: Fortress
driver.parameter.pollfreq: 30
driver.version.data: BestUPS 0.06
input.frequency: 49.0
input.transfer.boost.high: 109
input.transfer.boost.low: 96
input.transfer.high: 146
input.transfer.low: 96
input.transfer.trim.high: 146
input.transfer.trim.low: 130
input.voltage: 215.0
input.voltage.fault: 195.0
input.voltage.nominal: 120
output.voltage: 230.0
output.voltage.nominal: 120
ups.delay.shutdown: 30
ups.delay.start: 180
ups.load: 14
ups.power.nominal: 750
ups.status: OL BOOST
ups.temperature: 30.0
ups.type: online
"#;
    assert_eq!(dump(&qx), lines(debian));
}

#[test]
fn bestups620_like_debian() {
    let mut dev = Device::from_text(FX_BESTUPS620);
    let qx = start(
        &mut dev,
        opts(&[
            ("protocol", Some("bestups")),
            ("pins_shutdown_mode", Some("2")),
        ]),
    );
    assert_eq!(qx.protocol().id, ProtocolId::Bestups);
    let debian = r#"
battery.charge: 100
battery.packs: 2
battery.runtime: 900
battery.voltage: 22.70
battery.voltage.high: 27.6
battery.voltage.low: 20.0
device.mfr: Sola Australia
device.model: Sola 620
driver.parameter.pollfreq: 30
driver.version.data: BestUPS 0.06
input.frequency: 49.0
input.transfer.boost.high: 210
input.transfer.boost.low: 188
input.transfer.high: 270
input.transfer.low: 188
input.transfer.trim.high: 270
input.transfer.trim.low: 244
input.voltage: 231.0
input.voltage.fault: 195.0
input.voltage.nominal: 230
output.voltage: 220.0
output.voltage.nominal: 230
ups.delay.shutdown: 30
ups.delay.start: 180
ups.load: 14
ups.power.nominal: 1500
ups.status: OB
ups.temperature: 30.0
ups.type: online
"#;
    assert_eq!(dump(&qx), lines(debian));
    // Debian's exchange (claim, init walk, first poll; its -d 1 polled twice more)
    assert_eq!(
        dev.log,
        &["Q1", "ID", "Q1", "ID", "RT", "BP?", "SS?", "SS2", "M", "Q1"]
    );
}

#[test]
fn saper2_voltronic_qs_h_is_claimed_by_mustek_like_debian() {
    // The "H" answer to M is neither voltronic-qs ('V') nor -hex ('P'/'T'): Debian ends up
    // with mustek (QS in the Q1 layout); "--.-" leaves ups.temperature out.
    let mut dev = Device::from_fixture("voltronic-qs-h_0665-5161_saper2.txt");
    let qx = start(&mut dev, opts(&[]));
    assert_eq!(qx.protocol().id, ProtocolId::Mustek);
    let debian = r#"
battery.charge: 100
battery.voltage: 13.50
battery.voltage.high: 13.00
battery.voltage.low: 10.40
battery.voltage.nominal: 12.0
driver.parameter.pollfreq: 30
driver.version.data: Mustek 0.07
input.current.nominal: 3.0
input.frequency: 50.0
input.frequency.nominal: 50
input.voltage: 228.6
input.voltage.fault: 228.7
input.voltage.nominal: 230
output.voltage: 228.6
ups.beeper.status: disabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.load: 0
ups.status: OL
ups.type: offline / line interactive
"#;
    assert_eq!(dump(&qx), lines(debian));
    // QGS x3 (voltronic), M x3 (voltronic-qs), M x3 (-hex), then mustek's QS claims it.
    assert_eq!(
        &dev.log[..10],
        ["QGS", "QGS", "QGS", "M", "M", "M", "M", "M", "M", "QS"]
    );
}

#[test]
fn voltronic_qs_like_debian() {
    let mut dev = Device::from_text(
        "M -> V\nQS -> (228.6 228.7 228.6 000 50.0 13.5 --.- 00001000\nF -> #230.0 003 12.00 50.0\n",
    );
    let qx = start(&mut dev, opts(&[]));
    assert_eq!(qx.protocol().id, ProtocolId::VoltronicQs);
    let debian = r#"
battery.charge: 100
battery.voltage: 13.50
battery.voltage.high: 13.00
battery.voltage.low: 10.40
battery.voltage.nominal: 12.0
driver.parameter.pollfreq: 30
driver.version.data: Voltronic-QS 0.07
input.voltage: 228.6
input.voltage.fault: 228.7
output.current.nominal: 3.0
output.frequency: 50.0
output.frequency.nominal: 50
output.voltage: 228.6
output.voltage.nominal: 230
ups.beeper.status: disabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.firmware.aux: PM-V
ups.load: 0
ups.status: OL
ups.type: offline / line interactive
"#;
    assert_eq!(dump(&qx), lines(debian));
    assert_eq!(dev.log, ["QGS", "QGS", "QGS", "M", "QS", "QS", "F", "QS"]);
}

const QS_HEX_P: &[u8] =
    b"#\x6C\x01 \x35 \x6C\x01 \x35 \x03 \x51\x9A \x28\x02\x12\xD0 \xE6 \x1E \x09";
const QS_HEX_T: &[u8] =
    b"#\x69\x01 \x6C \x68\x02 \x6C \x00 \x5F\xD7 \x12\xC0\x00 \xE4 \x1E \x09 \x02";

#[test]
fn voltronic_qs_hex_p_like_debian() {
    let mut dev = Device::from_text("M -> P\n");
    dev.set_bytes("QS", QS_HEX_P);
    let qx = start(&mut dev, opts(&[]));
    assert_eq!(qx.protocol().id, ProtocolId::VoltronicQsHex);
    let debian = r#"
battery.voltage: 13.53
driver.parameter.pollfreq: 30
driver.version.data: Voltronic-QS-Hex 0.10
input.voltage: 112.2
output.frequency: 59.8
output.voltage: 112.2
ups.beeper.status: enabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.firmware.aux: PM-P
ups.load: 3
ups.status: OL
ups.type: offline / line interactive
"#;
    assert_eq!(dump(&qx), lines(debian));
}

#[test]
fn voltronic_qs_hex_t_like_debian() {
    let mut dev = Device::from_text("M -> T\n");
    dev.set_bytes("QS", QS_HEX_T);
    let qx = start(&mut dev, opts(&[]));
    let debian = r#"
battery.charge: 100
battery.voltage: 13.41
battery.voltage.high: 13.00
battery.voltage.low: 10.40
battery.voltage.nominal: 12.0
driver.parameter.pollfreq: 30
driver.version.data: Voltronic-QS-Hex 0.10
input.voltage: 222.4
output.frequency: 50.1
output.frequency.nominal: 50.0
output.voltage: 220.2
output.voltage.nominal: 220.0
ups.beeper.status: enabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.firmware.aux: PM-T
ups.load: 0
ups.status: OL
ups.type: offline / line interactive
"#;
    assert_eq!(dump(&qx), lines(debian));
    assert!(qx.dstate().commands().contains("test.battery.start.quick"));
}

#[test]
fn ablerex_like_debian() {
    // Q5 and At are binary; ablerex sets BOOST straight into ups.status (ahead of OL) and
    // leaves Q5's error code in ups.alarm until the next full update.
    let mut dev = Device::from_text(
        "Q1 -> (215.0 195.0 230.0 014 49.0 2.27 30.0 00101000\nF -> #230.0 004 096.0 50.0\nI -> #ABLEREX         625L       V1.0      \nTR -> #PASS\n",
    );
    dev.set_bytes("Q5", b"(\x01\xf4AAAA\x04\xb0\x03\xc0AA\x00\x00\x00\x17AAAA");
    dev.set_bytes("At", b"(\x00\x00\x02\x58");
    let qx = start(&mut dev, opts(&[("protocol", Some("ablerex"))]));
    let debian = r#"
battery.charge: 100
battery.runtime: 600
battery.voltage: 2.27
battery.voltage.high: 109.20
battery.voltage.low: 76.80
battery.voltage.nominal: 96.0
device.mfr: ABLEREX
device.model: 625L
driver.parameter.pollfreq: 30
driver.version.data: Ablerex 0.01
input.frequency: 49.0
input.voltage: 215.0
input.voltage.fault: 195.0
output.current: 2.3
output.current.nominal: 4.0
output.frequency: 50.0
output.frequency.nominal: 50.0
output.voltage: 230.0
output.voltage.nominal: 230.0
ups.alarm: 0
ups.beeper.status: disabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.firmware: V1.0
ups.load: 14
ups.status: BOOST OL
ups.temperature: 30.0
ups.test.result: PASS
ups.type: offline / line interactive
"#;
    assert_eq!(dump(&qx), lines(debian));
    assert_eq!(
        &dev.log[..9],
        ["Q1", "I", "Q1", "F", "Q5", "At", "TR", "I", "Q1"]
    );
}

#[test]
fn voltronic_devices_are_driven_by_voltronic() {
    // A Voltronic Power unit (QGS + QPI) is voltronic's in NUT (first in the order), not
    // mecer's/megatec's/q1's, although it also answers Q1.
    let mut dev = Device::from_text(
        "QGS -> (234.9 50.0 229.8 50.0 000.0 000 369.1 ---.- 026.5 ---.- 018.8 100000000001\nQPI -> (PI03\nQ1 -> (234.9 140.0 229.8 000 50.0 2.25 30.0 00001000\n",
    );
    let qx = detect(&mut dev, opts(&[])).expect("claimed");
    assert_eq!(qx.protocol().id, ProtocolId::Voltronic);
    assert_eq!(dev.log, ["QGS", "QPI"]);
    // A QPI the 2.8.0 voltronic refuses (PI05): detection goes on as in NUT.
    dev.set("QPI", "(PI05");
    dev.log.clear();
    let qx = detect(&mut dev, opts(&[])).expect("claimed by a later protocol");
    assert_ne!(qx.protocol().id, ProtocolId::Voltronic);
    assert_eq!(&dev.log[..6], ["QGS", "QPI", "QGS", "QPI", "QGS", "QPI"]);
}

#[test]
fn default_and_override_values_like_debian() {
    // Debian: nutdrv_qx -x protocol=megatec -x default.battery.voltage.high=27.0
    //   -x default.battery.voltage.low=21.0 -x default.input.voltage.nominal=240
    //   -x override.ups.load=99 -x override.battery.voltage.nominal=48  (-d 1)
    // The charge is computed from 22.7 V before the pack count (2 x 24 V) is known: 28.
    use nutdrv_qx::{DetectStep, Detector, Reply};
    let mut dev = Device::from_text(FX_Q1STD);
    let mut d = Detector::new(opts(&[("protocol", Some("megatec"))])).with_presets([
        ("battery.voltage.high", "27.0", false),
        ("battery.voltage.low", "21.0", false),
        ("input.voltage.nominal", "240", false),
        ("ups.load", "99", true),
        ("battery.voltage.nominal", "48", true),
    ]);
    let mut step = d.start();
    let mut qx = loop {
        match step {
            DetectStep::Send(b) => {
                let r = dev.answer(&b);
                step = d.feed(Reply::Data(&r));
            }
            DetectStep::Found(qx) => break qx,
            other => panic!("{other:?}"),
        }
    };
    let s = qx.init(1000.0);
    drive(&mut qx, s, &mut dev);
    let s = qx.poll(1001.0);
    drive(&mut qx, s, &mut dev);
    let debian = r#"
battery.charge: 28
battery.voltage: 22.70
battery.voltage.high: 27.0
battery.voltage.low: 21.0
battery.voltage.nominal: 48
device.mfr: NOT_A_LIVE_UPS
device.model: TESTING
driver.parameter.pollfreq: 30
driver.version.data: Megatec 0.06
input.current.nominal: 0.0
input.frequency: 49.0
input.frequency.nominal: 50
input.voltage: 215.0
input.voltage.fault: 195.0
input.voltage.nominal: 240
output.voltage: 230.0
ups.beeper.status: disabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.firmware: TESTING
ups.load: 99
ups.status: OL
ups.temperature: 30.0
ups.type: online
"#;
    assert_eq!(dump(&qx), lines(debian));
    assert_eq!(dev.log, ["Q1", "I", "Q1", "F", "I", "Q1"]);
}

#[test]
fn runtime_estimation_over_full_polls() {
    // runtimecal 240 s at 100 %, 720 s at 50 %: exponent ln3/ln2, nominal runtime 240 s.
    // At init the charge from the voltage (22.7 V in 20.8..26.0 V) is 37 %, so 88.8 s are
    // left at full load. A full poll 31 s later (on line): +240*31/43200 s, then capped by
    // the voltage-derived charge 36.5 % -> 87.69 s: charge 37, runtime at the idle load
    // floor of 10 % (14 % load ^ 1.585 = 4.4 % is below it): 877 s.
    let mut dev = Device::from_text(FX_Q1STD);
    let mut qx = detect(
        &mut dev,
        opts(&[
            ("protocol", Some("megatec")),
            ("runtimecal", Some("240,100,720,50")),
        ]),
    )
    .unwrap();
    let s = qx.init(1000.0);
    assert_eq!(
        drive(&mut qx, s, &mut dev),
        nutdrv_qx::Outcome::Init(Ok(()))
    );
    assert_eq!(qx.getinfo("battery.charge"), Some("37"));
    let s = qx.poll(1031.0);
    assert_eq!(
        drive(&mut qx, s, &mut dev),
        nutdrv_qx::Outcome::Poll(nutdrv_qx::PollResult::Ok {
            full: true,
            reestablished: false
        })
    );
    assert_eq!(qx.getinfo("battery.charge"), Some("37"));
    assert_eq!(qx.getinfo("battery.runtime"), Some("877"));
    // On battery for 60 s at that load: 87.69 - 0.1*60 = 81.69 s -> 34 %, 817 s.
    dev.set("Q1", "(215.0 195.0 230.0 014 49.0 22.7 30.0 10000000");
    let s = qx.poll(1091.0);
    drive(&mut qx, s, &mut dev);
    assert_eq!(qx.status_string(), "OB");
    assert_eq!(qx.getinfo("battery.charge"), Some("34"));
    assert_eq!(qx.getinfo("battery.runtime"), Some("817"));
}

/// (command, extra, bytes sent) as Debian's nutdrv_qx sent them through upsd (simulator log).
fn commands_like_debian(
    qx: &mut nutdrv_qx::Qx,
    dev: &mut Device,
    cases: &[(&str, Option<&str>, &[&str], nutdrv_qx::CmdStatus)],
) {
    for (cmd, extra, sent, st) in cases {
        dev.log.clear();
        let s = qx.instcmd(cmd, *extra);
        assert_eq!(
            drive(qx, s, dev),
            nutdrv_qx::Outcome::InstCmd(*st),
            "{cmd} {extra:?}"
        );
        assert_eq!(&dev.log, sent, "{cmd} {extra:?}");
    }
}

#[test]
fn mecer_commands_like_debian() {
    use nutdrv_qx::CmdStatus::*;
    let mut dev = Device::from_text(FX_MECER);
    for (c, r) in [
        ("Q", "(ACK"),
        ("C", "(NAK"),
        ("T.5", "(ACK"),
        ("T02", "(ACK"),
        ("S.5R0003", "(ACK"),
        ("S.5R0000", "(ACK"),
        ("TL", "(ACK"),
    ] {
        dev.set(c, r);
    }
    let mut qx = start(&mut dev, opts(&[("protocol", Some("mecer"))]));
    commands_like_debian(
        &mut qx,
        &mut dev,
        &[
            ("beeper.toggle", None, &["Q"], Handled),
            ("load.on", None, &["C"], Failed),
            // P98 units take .2-.9 (12-59 s)
            ("test.battery.start", Some("30"), &["T.5"], Handled),
            ("test.battery.start", Some("120"), &["T02"], Handled),
            ("test.battery.start", Some("5"), &[], Failed),
            ("shutdown.return", None, &["S.5R0003"], Handled),
            ("shutdown.stayoff", None, &["S.5R0000"], Handled),
            ("test.battery.start.deep", None, &["TL"], Handled),
            // echoed: short reply -> failed
            ("test.battery.start.quick", None, &["T"], Failed),
        ],
    );
}

#[test]
fn bestups_commands_like_debian() {
    use nutdrv_qx::CmdStatus::*;
    let mut dev = Device::from_text(FX_BESTUPS);
    for c in ["S.5R0003", "S.5", "T10", "S05R0003", "S05"] {
        dev.mute(c);
    }
    let mut qx = start(&mut dev, opts(&[("protocol", Some("bestups"))]));
    let cmds: Vec<&str> = qx.dstate().commands().iter().map(String::as_str).collect();
    assert_eq!(
        cmds,
        [
            "load.off",
            "load.on",
            "shutdown.return",
            "shutdown.stayoff",
            "shutdown.stop",
            "test.battery.start",
            "test.battery.start.deep",
            "test.battery.start.quick",
            "test.battery.stop"
        ]
    );
    commands_like_debian(
        &mut qx,
        &mut dev,
        &[
            ("shutdown.return", None, &["S.5R0003"], Handled),
            // bestups' stayoff is "S<n>" without R0000
            ("shutdown.stayoff", None, &["S.5"], Handled),
            ("test.battery.start", None, &["T10"], Handled),
        ],
    );
    for (v, val, st) in [
        ("ups.delay.shutdown", "300", nutdrv_qx::SetStatus::Handled),
        ("ups.delay.start", "0", nutdrv_qx::SetStatus::Unknown),
    ] {
        let s = qx.setvar(v, val);
        assert_eq!(
            drive(&mut qx, s, &mut dev),
            nutdrv_qx::Outcome::SetVar(st),
            "{v}"
        );
    }
    commands_like_debian(
        &mut qx,
        &mut dev,
        &[
            ("shutdown.return", None, &["S05R0003"], Handled),
            ("shutdown.stayoff", None, &["S05"], Handled),
        ],
    );
}
