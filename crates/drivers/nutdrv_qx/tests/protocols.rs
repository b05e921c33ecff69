//! Every implemented protocol against a device serving synthetic replies, compared with what
//! Debian NUT 2.8.0's `/lib/nut/nutdrv_qx -d 1` published for the same replies on
//! `shared/tools/hwrig/serialsim.py --fixed` (run 2026-12-06; framework variables removed).
//! The bytes each one sent are compared too where they tell the protocol's logic apart.

mod support;
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
