//! voltronic against Debian's nutdrv_qx 2.8.0. There is no recording of a real Voltronic unit:
//! the replies (`tests/fixtures/serial/synthetic/nutdrv_qx/voltronic_*_synthetic.txt`) are written from the answer
//! formats NUT 2.8.0's nutdrv_qx_voltronic.c documents. Every expected value below is what
//! Debian's `/lib/nut/nutdrv_qx -x protocol=voltronic` did with the same replies on
//! `shared/tools/hwrig/serialsim.py --fixed` (run 2026-12-06): its `-d 1` dump (framework
//! variables removed, the framework's `ALARM` status prefix dropped), its log lines, the bytes it
//! sent (serialsim `--log`), its `ups.alarm` after a full poll (driver socket `DUMPALL`) and
//! the bytes of instant commands and SETs sent to it through its driver socket. Where we differ
//! on purpose (docs/compatibility.md) the test says so.

use crate::support;
use support::*;

use nutdrv_qx::engine::Level;
use nutdrv_qx::{CmdStatus, Outcome, PollResult, ProtocolId, Qx, SetStatus};

/// The synthetic Voltronic units live in `tests/fixtures/serial/synthetic/nutdrv_qx/`.
fn fixture(name: &str) -> Device {
    Device::from_fixture(&format!("synthetic/nutdrv_qx/{name}"))
}

fn vopts(extra: &[(&str, Option<&str>)]) -> nutdrv_qx::QxOptions {
    let mut v = vec![("protocol", Some("voltronic"))];
    v.extend_from_slice(extra);
    opts(&v)
}

fn infos(qx: &mut Qx) -> Vec<String> {
    qx.take_log()
        .into_iter()
        .filter(|(l, _)| *l == Level::Info)
        .map(|(_, m)| m)
        .collect()
}

/// A full poll (pollfreq elapsed since the last one).
fn full_poll(qx: &mut Qx, dev: &mut Device) {
    let s = qx.poll(1100.0 + 40.0 * dev.log.len() as f64);
    assert!(matches!(
        drive(qx, s, dev),
        Outcome::Poll(PollResult::Ok { full: true, .. })
    ));
}

/// A quick poll (right after a full one): status bits only; alarms stay.
fn quick_poll(qx: &mut Qx, dev: &mut Device) {
    let s = qx.poll(1001.5);
    assert!(matches!(
        drive(qx, s, dev),
        Outcome::Poll(PollResult::Ok { full: false, .. })
    ));
}

const P03_DEBIAN: &str = r#"
battery.charge: 68
battery.energysave: no
battery.packs: 1
battery.protection: yes
battery.runtime: 15300
battery.voltage: 26.50
battery.voltage.low: 20.0
battery.voltage.nominal: 24.0
device.mfr: BOH
device.model: OLHVT1K0
device.serial: 12345679012345
driver.parameter.pollfreq: 30
driver.version.data: Voltronic 0.06
input.current.nominal: 0.0
input.frequency: 50.0
input.frequency.high: 53.0
input.frequency.low: 47.0
input.frequency.nominal: 50.0
input.L1-L2.voltage: 213.7
input.L1-L3.voltage: 213.9
input.L1-N.voltage: 123.4
input.L1.current: 11
input.L2-L3.voltage: 213.8
input.L2-N.voltage: 123.5
input.L2.current: 12
input.L3-N.voltage: 123.6
input.L3.current: 13
input.phases: 1
input.transfer.high: 242
input.transfer.high.max: 254
input.transfer.high.min: 241
input.transfer.low: 218
input.transfer.low.max: 219
input.transfer.low.min: 206
input.voltage: 234.9
input.voltage.nominal: 230.0
outlet.0.switchable: yes
outlet.1.delay.shutdown: 480
outlet.1.status: on
outlet.1.switchable: yes
outlet.2.status: off
outlet.2.switchable: yes
output.current: 0.0
output.current.nominal: 4
output.frequency: 50.0
output.frequency.nominal: 50.0
output.phases: 1
output.power.maximum.percent: 23
output.power.minimum.percent: 21
output.powerfactor: 0.8
output.voltage: 229.8
output.voltage.nominal: 230.0
ups.beeper.status: enabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.firmware: 00322.02
ups.firmware.aux: P03
ups.load: 0
ups.power.nominal: 1000
ups.start.auto: no
ups.start.battery: yes
ups.status: OL
ups.temperature: 18.8
ups.type: online
"#;

#[test]
fn p03_on_line_like_debian() {
    let mut dev = fixture("voltronic_p03_synthetic.txt");
    let mut qx = start(&mut dev, vopts(&[]));
    assert_eq!(qx.protocol().id, ProtocolId::Voltronic);
    assert_eq!(dump(&qx), lines(P03_DEBIAN));
    // Debian's exchange: claim (QGS, QPI), init walk, first (quick) poll
    assert_eq!(
        dev.log,
        [
            "QGS", "QPI", "QRI", "QMD", "F", "QMF", "QVFW", "QID", "QGS", "QMOD", "QWS", "QBV",
            "QLDL", "Q3PV", "Q3PC", "QFLAG", "QSK1", "QSK2", "QSK3", "QSK4", "QSKT1", "QSKT2",
            "QHE", "QFRE", "QBYV", "QBYF", "RE0", "QPD", "QPAR", "QGS"
        ]
    );
    // Debian's log lines (stderr of -d 1), in order
    assert_eq!(
        infos(&mut qx),
        [
            "Using protocol: Voltronic 0.06",
            "Warning from UPS: Low battery.",
            "battery_number: 2",
            "battery_number, settable range: 1..9",
            "bypass_alarm: enabled",
            "battery_alarm: disabled",
            "bypass_when_off: disabled",
            "alarm_control: enabled",
            "eco_mode: disabled",
            "bypass_forbidding: disabled",
            "site_fault_detection: disabled",
            "max_bypass_volt: 264",
            "max_bypass_volt, settable range: 231..276",
            "min_bypass_volt: 170",
            "min_bypass_volt, settable range: 110..209",
            "max_bypass_freq: 53.0",
            "max_bypass_freq, settable range: 51.0..54.0",
            "min_bypass_freq: 47.0",
            "min_bypass_freq, settable range: 46.0..49.0",
            "input_phase_angle: 000",
            "output_phase_angle: 120",
            "output_phase_angle, settable values: 000 120 180 240",
            "voltronic_parallel: This UPS is *master* in a system of UPSes in parallel",
        ]
    );
    // settable ranges/enums as Debian's upsrw lists them
    let ds = qx.dstate();
    assert_eq!(ds.var("input.transfer.high").unwrap().ranges, [(241, 254)]);
    assert_eq!(ds.var("input.transfer.low").unwrap().ranges, [(206, 219)]);
    assert_eq!(ds.var("battery.voltage.low").unwrap().ranges, [(20, 24)]);
    assert_eq!(ds.var("ups.start.auto").unwrap().enums, ["no", "yes"]);
    // after a full poll and a quick one: Debian's ups.alarm / ups.status (DUMPALL: "ALARM
    // OL"; the full poll's QWS sets LB, the quick poll's QGS clears it again, as in 2.8.0)
    full_poll(&mut qx, &mut dev);
    assert_eq!(qx.status_string(), "OL LB");
    quick_poll(&mut qx, &mut dev);
    assert_eq!(qx.alarms(), ["UPS warnings: Low battery."]);
    assert_eq!(qx.status_string(), "OL");
}

const P10_DEBIAN: &str = r#"
battery.charge: 68
battery.energysave: no
battery.packs: 1
battery.protection: yes
battery.runtime: 15300
battery.voltage: 24.10
battery.voltage.low: 20.0
battery.voltage.nominal: 24.0
device.mfr: BOH
device.model: OLHVT1K0
device.serial: 12345679012345
driver.parameter.pollfreq: 30
driver.version.data: Voltronic 0.06
input.current.nominal: 0.0
input.frequency: 0.0
input.frequency.high: 53.0
input.frequency.low: 47.0
input.frequency.nominal: 50.0
input.L1-L2.voltage: 213.7
input.L1-L3.voltage: 213.9
input.L1-N.voltage: 123.4
input.L1.current: 11
input.L2-L3.voltage: 213.8
input.L2-N.voltage: 123.5
input.L2.current: 12
input.L3-N.voltage: 123.6
input.L3.current: 13
input.phases: 1
input.transfer.high: 242
input.transfer.high.max: 254
input.transfer.high.min: 241
input.transfer.low: 218
input.transfer.low.max: 219
input.transfer.low.min: 206
input.voltage: 0.0
input.voltage.nominal: 230.0
output.bypass.L1-L2.voltage: 398.1
output.bypass.L1-L3.voltage: 398.3
output.bypass.L1-N.voltage: 230.1
output.bypass.L2-L3.voltage: 398.2
output.bypass.L2-N.voltage: 230.2
output.bypass.L3-N.voltage: 230.3
output.current: 2.1
output.current.nominal: 4
output.frequency: 50.0
output.frequency.nominal: 50.0
output.L1-L2.voltage: 397.1
output.L1-L3.voltage: 397.3
output.L1-N.voltage: 229.1
output.L1.current: 21
output.L1.power.percent: 31
output.L2-L3.voltage: 397.2
output.L2-N.voltage: 229.2
output.L2.current: 22
output.L2.power.percent: 32
output.L3-N.voltage: 229.3
output.L3.current: 23
output.L3.power.percent: 33
output.phases: 1
output.power.maximum.percent: 23
output.power.minimum.percent: 21
output.powerfactor: 0.8
output.voltage: 229.8
output.voltage.nominal: 230.0
ups.beeper.status: enabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.firmware: 00322.02
ups.firmware.aux: P10
ups.load: 35
ups.power.nominal: 1000
ups.start.auto: no
ups.start.battery: yes
ups.status: OB LB OVER RB
ups.temperature: 30.5
ups.type: online
"#;

#[test]
fn p10_on_battery_like_debian() {
    let mut dev = fixture("voltronic_p10_on_battery_synthetic.txt");
    let mut qx = start(&mut dev, vopts(&[]));
    assert_eq!(dump(&qx), lines(P10_DEBIAN));
    assert_eq!(
        dev.log,
        [
            "QGS", "QPI", "QRI", "QMD", "F", "QMF", "QVFW", "QID", "QGS", "QMOD", "QWS", "QBV",
            "QLDL", "Q3PV", "Q3PC", "Q3OV", "Q3OC", "Q3LD", "Q3YV", "QFLAG", "QHE", "QFRE", "QBYV",
            "QBYF", "RE0", "QPD", "QPAR", "QGS"
        ]
    );
    let log = infos(&mut qx);
    assert_eq!(
        &log[..8],
        [
            "Using protocol: Voltronic 0.06",
            "Warning from UPS: Battery disconnected.",
            "Warning from UPS: Low battery.",
            "Warning from UPS: Overload alarm.",
            "Warning from UPS: Warning for Battery replace.",
            "Warning from UPS: Unknown warning from UPS [bit: #59]",
            "Warning from UPS: Unknown warning from UPS [bit: #60]",
            "Warning from UPS: Unknown warning from UPS [bit: #64]",
        ]
    );
    full_poll(&mut qx, &mut dev);
    // Debian (DUMPALL): ups.alarm "UPS warnings: Battery disconnected. Low battery. Overload
    // alarm. Warning for Battery replace. Unknown warnings [bit: #59, #60, #64] Replace
    // battery!", ups.status "ALARM OB LB OVER RB"
    assert_eq!(
        qx.alarms(),
        [
            "UPS warnings: Battery disconnected. Low battery. Overload alarm. Warning for Battery replace. Unknown warnings [bit: #59, #60, #64]",
            "Replace battery!"
        ]
    );
    assert_eq!(qx.status_string(), "OB LB OVER RB");
}

const P00_DEBIAN: &str = r#"
battery.charge: 68
battery.energysave: no
battery.packs: 1
battery.protection: yes
battery.runtime: 15300
battery.voltage: 26.50
battery.voltage.low: 20.0
battery.voltage.nominal: 24.0
device.mfr: BOH
device.model: OLHVT1K0
driver.parameter.pollfreq: 30
driver.version.data: Voltronic 0.06
input.current.nominal: 0.0
input.frequency: 50.0
input.frequency.high: 53.0
input.frequency.low: 47.0
input.frequency.nominal: 50.0
input.phases: 1
input.transfer.high: 242
input.transfer.low: 218
input.voltage: 234.9
input.voltage.nominal: 230.0
outlet.0.switchable: yes
outlet.1.delay.shutdown: 480
outlet.1.status: on
outlet.1.switchable: yes
outlet.2.status: off
outlet.2.switchable: yes
output.current: 0.0
output.current.nominal: 4
output.frequency: 50.0
output.frequency.nominal: 50.0
output.phases: 1
output.power.maximum.percent: 23
output.power.minimum.percent: 21
output.powerfactor: 0.8
output.voltage: 236.1
output.voltage.nominal: 230.0
ups.alarm: UPS is in AVR Mode.
ups.beeper.status: enabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.firmware: 00322.02
ups.firmware.aux: P00
ups.load: 0
ups.power.nominal: 1000
ups.start.auto: no
ups.start.battery: yes
ups.status: OL OFF
ups.temperature: 18.8
ups.type: offline
"#;

#[test]
fn p00_standby_reset_to_default_like_debian() {
    // ups.conf: reset_to_default, testing (QBDR is read)
    let mut dev = fixture("voltronic_p00_standby_synthetic.txt");
    let mut qx = start(
        &mut dev,
        vopts(&[("reset_to_default", None), ("testing", None)]),
    );
    assert_eq!(dump(&qx), lines(P00_DEBIAN));
    // init (PF sent: the unit is in standby), then a full poll because the SET succeeded
    let debian = [
        "QGS", "QPI", "QRI", "QMD", "F", "QMF", "QVFW", "QID", "QGS", "QMOD", "QWS", "QBV", "QLDL",
        "QFLAG", "PF", "QSK1", "QSK2", "QSK3", "QSK4", "QSKT1", "QSKT2", "QHE", "QFRE", "RE0",
        "QPD", "QPAR", "QBDR", "QRI", "QGS", "QMOD", "QWS", "QBV", "QLDL", "QFLAG", "QSK1", "QSK2",
        "QSK3", "QSK4", "QSKT1", "QSKT2", "QHE", "QFRE", "RE0", "QPD", "QGS", "QGS",
    ];
    assert_eq!(dev.log, debian[..debian.len() - 2]);
    let log = infos(&mut qx);
    for l in [
        "device.serial: UPS reported a non-significant serial [00000000]",
        "setvar(reset_to_default, [NULL])",
        "unknown.7: 1234",
    ] {
        assert!(log.iter().any(|m| m == l), "{l} not in {log:?}");
    }
    assert_eq!(qx.alarms(), ["UPS is in AVR Mode."]);
    assert_eq!(qx.status_string(), "OL OFF");
}

const P31_DEBIAN: &str = r#"
battery.charge: 68
battery.energysave: no
battery.packs: 1
battery.protection: yes
battery.runtime: 15300
battery.type: Flooded
battery.voltage: 26.50
battery.voltage.low: 20.0
battery.voltage.nominal: 24.0
device.mfr: BOH
device.model: OLHVT1K0
device.serial: 12345679012345
driver.parameter.pollfreq: 30
driver.version.data: Voltronic 0.06
input.current.nominal: 0.0
input.frequency: 50.0
input.frequency.high: 53.0
input.frequency.low: 47.0
input.frequency.nominal: 50.0
input.phases: 1
input.transfer.high: 242
input.transfer.low: 218
input.voltage: 234.9
input.voltage.nominal: 120.0
output.current: 0.0
output.current.nominal: 10
output.frequency: 50.0
output.frequency.nominal: 60.0
output.phases: 1
output.power.maximum.percent: 23
output.power.minimum.percent: 21
output.powerfactor: 0.8
output.voltage: 219.8
output.voltage.nominal: 120.0
ups.alarm: TRIM UPS warnings: Low battery.
ups.beeper.status: muted
ups.delay.shutdown: 30
ups.delay.start: 180
ups.firmware: 00322.02
ups.firmware.aux: P31
ups.load: 0
ups.power.nominal: 1000
ups.start.auto: no
ups.start.battery: yes
ups.status: OL TRIM
ups.temperature: 18.8
ups.type: line-interactive
"#;

#[test]
fn p31_trim_and_grid_range_like_debian() {
    let mut dev = fixture("voltronic_p31_trim_synthetic.txt");
    let mut qx = start(&mut dev, vopts(&[("work_range_type", Some("UPS"))]));
    // Debian's -d 1 dump came after two more quick polls (QGS clears the LB of QWS)
    quick_poll(&mut qx, &mut dev);
    assert_eq!(dump(&qx), lines(P31_DEBIAN));
    let debian = [
        "QGS", "QPI", "QRI", "QMD", "F", "QMF", "QVFW", "QID", "QGS", "QMOD", "QWS", "QBV", "QLDL",
        "QFLAG", "QHE", "QFRE", "QBT", "QGR", "PGR01", "RE0", "QPD", "QPAR", "QRI", "QGS", "QMOD",
        "QWS", "QBV", "QLDL", "QFLAG", "QHE", "QFRE", "QBT", "QGR", "RE0", "QPD", "QGS", "QGS",
    ];
    assert_eq!(dev.log, debian[..debian.len() - 1]);
    let log = infos(&mut qx);
    for l in [
        "work_range_type: Appliance",
        "work_range_type, settable values: Appliance UPS",
        "setvar(work_range_type, UPS)",
    ] {
        assert!(log.iter().any(|m| m == l), "{l} not in {log:?}");
    }
    // 2.8.0 also files the TRIM token as an alarm text (Debian: "TRIM UPS warnings: Low battery.")
    assert_eq!(qx.alarms(), ["TRIM", "UPS warnings: Low battery."]);
    assert_eq!(qx.status_string(), "OL TRIM");
    assert_eq!(
        qx.dstate().var("battery.type").unwrap().enums,
        ["Li", "Flooded", "AGM"]
    );
}

const P09_DEBIAN: &str = r#"
battery.charge: 68
battery.energysave: no
battery.packs: 1
battery.protection: yes
battery.runtime: 15300
battery.voltage: 26.50
battery.voltage.low: 20.0
battery.voltage.nominal: 24.0
device.mfr: BOH
device.model: OLHVT1K0
device.serial: 12345679012345
driver.parameter.pollfreq: 30
driver.version.data: Voltronic 0.06
input.current.nominal: 0.0
input.frequency: 50.0
input.frequency.high: 63.0
input.frequency.low: 57.0
input.frequency.nominal: 50.0
input.L1-L2.voltage: 213.7
input.L1-N.voltage: 123.4
input.L1.current: 11
input.L2-N.voltage: 123.5
input.L2.current: 12
input.phases: 2
input.transfer.high: 125
input.transfer.high.max: 132
input.transfer.high.min: 123
input.transfer.low: 114
input.transfer.low.max: 117
input.transfer.low.min: 108
input.voltage: 234.9
input.voltage.nominal: 120.0
outlet.0.switchable: yes
outlet.1.status: on
outlet.1.switchable: yes
outlet.2.status: off
outlet.2.switchable: yes
output.current: 0.0
output.current.nominal: 10
output.frequency: 50.0
output.frequency.nominal: 60.0
output.L1-L2.voltage: 397.1
output.L1-N.voltage: 229.1
output.L1.current: 21
output.L1.power.percent: 31
output.L2-N.voltage: 229.2
output.L2.current: 22
output.L2.power.percent: 32
output.phases: 2
output.power.maximum.percent: 23
output.power.minimum.percent: 21
output.powerfactor: 0.8
output.voltage: 229.8
output.voltage.nominal: 120.0
ups.beeper.status: enabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.firmware: 00322.02
ups.firmware.aux: P09
ups.load: 0
ups.power.nominal: 1000
ups.start.auto: no
ups.start.battery: yes
ups.status: OL OVER RB BYPASS
ups.temperature: 18.8
ups.type: online
"#;

#[test]
fn p09_eco_bypass_120v_like_debian() {
    let mut dev = fixture("voltronic_p09_eco_synthetic.txt");
    let mut qx = start(&mut dev, vopts(&[]));
    assert_eq!(dump(&qx), lines(P09_DEBIAN));
    let debian = [
        "QGS", "QPI", "QRI", "QMD", "F", "QMF", "QVFW", "QID", "QGS", "QMOD", "QWS", "QBV", "QLDL",
        "Q3PV", "Q3PC", "Q3OV", "Q3OC", "Q3LD", "Q3YV", "QFLAG", "QSK1", "QSK2", "QSK3", "QSK4",
        "QSKT1", "QSKT2", "QHE", "QFRE", "QBYV", "QBYF", "RE0", "QPD", "QPAR", "QGS", "QGS", "QGS",
    ];
    assert_eq!(dev.log, debian[..debian.len() - 2]);
    assert_eq!(
        infos(&mut qx),
        [
            "Using protocol: Voltronic 0.06",
            "Warning from UPS: Battery disconnected.",
            "Warning from UPS: Low battery.",
            "Warning from UPS: Overload alarm.",
            "Warning from UPS: Warning for Battery replace.",
            "Warning from UPS: Unknown warning from UPS [bit: #59]",
            "Warning from UPS: Unknown warning from UPS [bit: #60]",
            "Warning from UPS: Unknown warning from UPS [bit: #64]",
            "battery_number: 2",
            "battery_number, settable range: 1..9",
            "bypass_alarm: enabled",
            "battery_alarm: disabled",
            "bypass_when_off: disabled",
            "alarm_control: enabled",
            "eco_mode: enabled",
            "bypass_forbidding: disabled",
            "site_fault_detection: disabled",
            "max_bypass_volt: 140",
            "max_bypass_volt, settable range: 60..140",
            "min_bypass_volt: 85",
            "min_bypass_volt, settable range: 60..140",
            "max_bypass_freq: 63.0",
            "max_bypass_freq, settable range: 61.0..70.0",
            "min_bypass_freq: 57.0",
            "min_bypass_freq, settable range: 50.0..59.0",
            "input_phase_angle: 000",
            "output_phase_angle: 120",
            "output_phase_angle, settable values: 000 120 180 240",
            "voltronic_parallel: This UPS is *master* in a system of UPSes in parallel"
        ]
    );
    let ds = qx.dstate();
    assert_eq!(ds.var("input.transfer.high").unwrap().ranges, [(123, 132)]);
    assert_eq!(ds.var("input.transfer.low").unwrap().ranges, [(108, 117)]);
    assert_eq!(ds.var("input.frequency.high").unwrap().ranges, [(63, 70)]);
    assert_eq!(ds.var("input.frequency.low").unwrap().ranges, [(50, 57)]);
    assert!(ds.commands().contains("bypass.start"));
    // Debian (DUMPALL after a full and a quick poll): ups.alarm "UPS is in ECO Mode. UPS
    // warnings: … Replace battery!", ups.status "ALARM OL OVER RB BYPASS"
    full_poll(&mut qx, &mut dev);
    quick_poll(&mut qx, &mut dev);
    assert_eq!(qx.alarms()[0], "UPS is in ECO Mode.");
    assert_eq!(qx.alarms()[2], "Replace battery!");
    assert_eq!(qx.status_string(), "OL OVER RB BYPASS");
}

fn cmd(qx: &mut Qx, dev: &mut Device, name: &str, extra: Option<&str>) -> (CmdStatus, String) {
    dev.log.clear();
    let s = qx.instcmd(name, extra);
    match drive(qx, s, dev) {
        Outcome::InstCmd(st) => (st, dev.log.first().cloned().unwrap_or_default()),
        o => panic!("{o:?}"),
    }
}

fn set(qx: &mut Qx, dev: &mut Device, name: &str, value: &str) -> (SetStatus, String) {
    dev.log.clear();
    let s = qx.setvar(name, value);
    match drive(qx, s, dev) {
        Outcome::SetVar(st) => (st, dev.log.first().cloned().unwrap_or_default()),
        o => panic!("{o:?}"),
    }
}

/// The P03 unit answering `(ACK` to every command the tests send.
fn acking_p03() -> Device {
    let mut dev = fixture("voltronic_p03_synthetic.txt");
    for c in [
        "SOFF", "SON", "CS", "T", "TL", "CT", "PEA", "PDA", "PEE", "PDE", "PER", "BATGN02",
        "W0E22", "HEH250", "FREH54.0", "PSK1005", "S.5R0003", "S.5R0000", "T02", "T.5", "BZOFF",
        "SKOFF1", "S02R0003", "PHV276", "BATN3", "PPD240",
    ] {
        dev.set(c, "(ACK");
    }
    dev
}

#[test]
fn instant_commands_send_debians_bytes() {
    let mut dev = acking_p03();
    let mut qx = start(&mut dev, vopts(&[]));
    let h = CmdStatus::Handled;
    for (name, extra, bytes) in [
        ("shutdown.return", None, "S.5R0003"),
        ("shutdown.stayoff", None, "S.5R0000"),
        ("test.battery.start", Some("120"), "T02"),
        ("test.battery.start", Some("30"), "T.5"),
        ("beeper.toggle", None, "BZOFF"),
        ("load.off", None, "SOFF"),
        ("beeper.enable", None, "PEA"),
        ("bypass.start", None, "PEE"),
        ("outlet.1.load.off", None, "SKOFF1"),
    ] {
        assert_eq!(
            cmd(&mut qx, &mut dev, name, extra),
            (h, bytes.to_string()),
            "{name}"
        );
    }
    // out of range / not numerical: refused without sending anything
    assert_eq!(
        cmd(&mut qx, &mut dev, "test.battery.start", Some("6000")),
        (CmdStatus::Failed, String::new())
    );
    assert_eq!(
        cmd(&mut qx, &mut dev, "test.battery.start", Some("1x")),
        (CmdStatus::Failed, String::new())
    );
    // an answer other than (ACK fails the command (the unit echoes what it does not know)
    assert_eq!(
        cmd(&mut qx, &mut dev, "outlet.2.load.on", None),
        (CmdStatus::Failed, "SKON2".into())
    );
    // outlets 3 and 4 answered (NAK: no commands for them
    assert_eq!(
        cmd(&mut qx, &mut dev, "outlet.3.load.on", None).0,
        CmdStatus::Invalid
    );
}

#[test]
fn sets_send_debians_bytes() {
    let mut dev = acking_p03();
    let mut qx = start(&mut dev, vopts(&[]));
    let h = SetStatus::Handled;
    for (name, value, bytes) in [
        ("ups.start.auto", "yes", "PER"),
        ("battery.packs", "2", "BATGN02"),
        ("battery.voltage.low", "22", "W0E22"),
        ("input.transfer.high", "250", "HEH250"),
        ("input.frequency.high", "54.0", "FREH54.0"),
        ("outlet.1.delay.shutdown", "300", "PSK1005"),
    ] {
        assert_eq!(
            set(&mut qx, &mut dev, name, value),
            (h, bytes.to_string()),
            "{name}"
        );
    }
    // server-side delay, rounded down to what the UPS can do (125 -> 120 = "02" minutes)
    assert_eq!(
        set(&mut qx, &mut dev, "ups.delay.shutdown", "125"),
        (h, String::new())
    );
    assert_eq!(qx.dstate().get("ups.delay.shutdown"), Some("120"));
    assert_eq!(
        cmd(&mut qx, &mut dev, "shutdown.return", None),
        (CmdStatus::Handled, "S02R0003".into())
    );
    // Debian: "setvar: value out of range" for both
    assert_eq!(
        set(&mut qx, &mut dev, "battery.voltage.low", "26"),
        (SetStatus::Unknown, String::new())
    );
    assert_eq!(
        set(&mut qx, &mut dev, "input.transfer.high", "260"),
        (SetStatus::Unknown, String::new())
    );
}

#[test]
fn p31_beeper_toggle_battery_type_and_default_test_time_like_debian() {
    // Debian, through the driver socket right after start-up: beeper.toggle -> BZOFF (init
    // left the beeper "enabled": QFLAG came after QGS), then, after the full poll the success
    // causes (QGS beeper bit 1 with alarm control -> "muted"), beeper.toggle -> BZON;
    // test.battery.start without a time -> T10; battery.type AGM -> PBT02; beeper.disable -> PDA.
    let mut dev = fixture("voltronic_p31_trim_synthetic.txt");
    for c in ["BZOFF", "BZON", "T10", "PBT02", "PDA"] {
        dev.set(c, "(ACK");
    }
    let mut qx = start(&mut dev, vopts(&[]));
    let h = CmdStatus::Handled;
    assert_eq!(qx.dstate().get("ups.beeper.status"), Some("enabled"));
    assert_eq!(
        cmd(&mut qx, &mut dev, "beeper.toggle", None),
        (h, "BZOFF".into())
    );
    let s = qx.poll(1002.0);
    assert!(matches!(
        drive(&mut qx, s, &mut dev),
        Outcome::Poll(PollResult::Ok { full: true, .. })
    ));
    assert_eq!(qx.dstate().get("ups.beeper.status"), Some("muted"));
    assert_eq!(
        cmd(&mut qx, &mut dev, "beeper.toggle", None),
        (h, "BZON".into())
    );
    assert_eq!(
        cmd(&mut qx, &mut dev, "test.battery.start", None),
        (h, "T10".into())
    );
    assert_eq!(
        set(&mut qx, &mut dev, "battery.type", "AGM"),
        (SetStatus::Handled, "PBT02".into())
    );
    assert_eq!(
        cmd(&mut qx, &mut dev, "beeper.disable", None),
        (h, "PDA".into())
    );
    // no 'j' in QFLAG: outlet.0.switchable is not settable (Debian sends nothing)
    assert_eq!(
        set(&mut qx, &mut dev, "outlet.0.switchable", "no"),
        (SetStatus::Unknown, String::new())
    );
}

#[test]
fn ups_conf_settings_at_init() {
    // Debian with max_bypass_volt=276 battery_number=3 output_phase_angle=240 eco_mode=enabled
    // bypass_alarm=enabled: PEE after QFLAG, PHV276 after QBYV, BATN3 after QBYF, PPD003 after
    // QPD ("bypass_alarm is already enabled": nothing sent). Deliberate difference: we send the
    // angle, PPD240 (2.8.0 sends the angle's position in the list).
    let mut dev = acking_p03();
    let o = vopts(&[
        ("max_bypass_volt", Some("276")),
        ("battery_number", Some("3")),
        ("output_phase_angle", Some("240")),
        ("eco_mode", Some("enabled")),
        ("bypass_alarm", Some("enabled")),
    ]);
    let mut qx = start(&mut dev, o);
    let init: Vec<&str> = dev.log.iter().map(String::as_str).take(33).collect();
    assert_eq!(
        init,
        [
            "QGS", "QPI", "QRI", "QMD", "F", "QMF", "QVFW", "QID", "QGS", "QMOD", "QWS", "QBV",
            "QLDL", "Q3PV", "Q3PC", "QFLAG", "PEE", "QSK1", "QSK2", "QSK3", "QSK4", "QSKT1",
            "QSKT2", "QHE", "QFRE", "QBYV", "PHV276", "QBYF", "BATN3", "RE0", "QPD", "PPD240",
            "QPAR"
        ]
    );
    let log = infos(&mut qx);
    assert!(
        log.iter().any(|m| m == "bypass_alarm is already enabled"),
        "{log:?}"
    );
}

#[test]
fn fault_bit_is_read_deliberate_fix() {
    // NUT 2.8.0 never reads QFS (it compares the fault bit's character with the number 1).
    // Here a set bit raises "UPS Fault!" and QFS is read once; 14 = inverter short circuit.
    let mut dev = fixture("voltronic_p10_on_battery_synthetic.txt");
    dev.set(
        "QGS",
        "(000.0 00.0 229.8 50.0 002.1 035 369.1 ---.- 024.1 ---.- 030.5 101101100001",
    );
    dev.set(
        "QFS",
        "(14 212.1 50.0 005.6 49.9 006 010.6 343.8 ---.- 026.2 021.8 01101100",
    );
    let mut qx = start(&mut dev, vopts(&[]));
    assert!(dev.log.iter().any(|c| c == "QFS"), "{:?}", dev.log);
    full_poll(&mut qx, &mut dev);
    let alarms = qx.alarms().to_vec();
    assert!(alarms.iter().any(|a| a == "UPS Fault!"), "{alarms:?}");
    assert!(
        alarms.iter().any(|a| a == "Inverter short-circuited."),
        "{alarms:?}"
    );
    // 43 = overload fault: OVER
    dev.set(
        "QFS",
        "(43 212.1 50.0 005.6 49.9 006 010.6 343.8 ---.- 026.2 021.8 01101100",
    );
    full_poll(&mut qx, &mut dev);
    assert!(qx.alarms().iter().any(|a| a == "Overload fault."));
    assert!(qx.status_tokens().contains(&"OVER"));
    // "(OK": no fault text published
    dev.set("QFS", "(OK");
    full_poll(&mut qx, &mut dev);
    assert!(
        qx.alarms()
            .iter()
            .all(|a| !a.contains("fault") && !a.contains("No fault"))
    );
}

#[test]
fn unsupported_protocol_numbers_are_not_claimed() {
    use nutdrv_qx::{DetectStep, Detector, Reply};
    for pi in ["(PI05", "(PI07", "(PI20", "(XX03"] {
        let mut dev = fixture("voltronic_p03_synthetic.txt");
        dev.set("QPI", pi);
        let mut d = Detector::new(vopts(&[]));
        let mut step = d.start();
        while let DetectStep::Send(b) = step {
            let r = dev.answer(&b);
            step = d.feed(Reply::Data(&r));
        }
        assert!(matches!(step, DetectStep::NotSupported), "{pi}");
        // 3 tries, as in NUT
        assert_eq!(dev.log, ["QGS", "QPI", "QGS", "QPI", "QGS", "QPI"]);
        let log = d.take_log();
        let want = match pi {
            "(XX03" => (
                Level::Debug(2),
                "voltronic_protocol: invalid start characters [XX]".to_string(),
            ),
            _ => (
                Level::Error,
                format!("Protocol [{}] is not supported by this driver", &pi[1..]),
            ),
        };
        // Debian (PI05): the message three times, then "Device not supported!"
        assert_eq!(
            log.iter().filter(|l| **l == want).count(),
            3,
            "{pi}: {log:?}"
        );
    }
    // and auto-detection picks voltronic for a Voltronic unit (first in the order)
    let mut dev = fixture("voltronic_p03_synthetic.txt");
    let qx = detect(&mut dev, opts(&[])).expect("claimed");
    assert_eq!(qx.protocol().id, ProtocolId::Voltronic);
    assert_eq!(dev.log, ["QGS", "QPI"]);
}
