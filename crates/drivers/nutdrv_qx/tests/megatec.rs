//! megatec / q1 against recorded devices; expected values are Debian NUT 2.8.0's: its
//! `/lib/nut/nutdrv_qx -d 1` dump (and `upscmd`/`upsrw` through Debian's upsd) on
//! `shared/tools/hwrig/serialsim.py --fixed` serving the same recording (run 2026-12-06).
//! Framework variables (device.type, driver.name, driver.parameter.port/pollinterval/
//! synchronous, driver.version*) are left out: the framework publishes them.

use crate::support;
use support::*;

use nutdrv_qx::{CmdStatus, Outcome, PollResult, ProtocolId, SetStatus};

const UPSMART_I: &str = "#UPSMART         MEC0003    V3.8      ";

// Debian: serialsim --set 'I=#UPSMART         MEC0003    V3.8      ' ; nutdrv_qx -d 1 (auto-detect)
const UPSMART_DEBIAN: &str = "
battery.charge: 100
battery.voltage: 13.60
battery.voltage.high: 13.00
battery.voltage.low: 10.40
battery.voltage.nominal: 12.0
device.mfr: UPSMART
device.model: MEC0003
driver.parameter.pollfreq: 30
driver.version.data: Megatec 0.06
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
ups.status: OL
ups.temperature: 29.0
ups.type: offline / line interactive
";

fn upsmart() -> Device {
    let mut d = Device::from_fixture("megatec-upsmart_mec0003_0001-0000.txt");
    d.set("I", UPSMART_I);
    d
}

#[test]
fn upsmart_autodetects_megatec_with_debian_values() {
    let mut dev = upsmart();
    let qx = start(&mut dev, opts(&[]));
    assert_eq!(qx.protocol().id, ProtocolId::Megatec);
    assert_eq!(dump(&qx), lines(UPSMART_DEBIAN));
    // Debian's exchange after voltronic's QGS x3 (voltronic is not probed by this build):
    // M x3 (voltronic-qs), M x3 (voltronic-qs-hex), QS x3, D x3, (Q1 ID) x3, (Q1 QPI) x3,
    // Q1 I (claim), Q1 F I (init walk), Q1 (first poll).
    let from = dev
        .log
        .iter()
        .position(|c| c == "M")
        .expect("voltronic-qs probed");
    let expect: Vec<&str> =
        "M M M M M M QS QS QS D D D Q1 ID Q1 ID Q1 ID Q1 QPI Q1 QPI Q1 QPI Q1 I Q1 F I Q1"
            .split(' ')
            .collect();
    assert_eq!(&dev.log[from..], &expect[..]);
}

#[test]
fn upsmart_commands_send_debian_bytes() {
    let mut dev = upsmart();
    let mut qx = start(&mut dev, opts(&[("protocol", Some("megatec"))]));
    let mut cmds: Vec<String> = qx.dstate().commands().iter().cloned().collect();
    cmds.sort();
    assert_eq!(
        cmds,
        [
            "beeper.toggle",
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
    let rw: Vec<&String> = qx
        .dstate()
        .vars()
        .iter()
        .filter(|(_, v)| v.flags & 1 != 0)
        .map(|(k, _)| k)
        .collect();
    assert_eq!(rw, ["ups.delay.shutdown", "ups.delay.start"]);
    assert_eq!(
        qx.dstate().var("ups.delay.shutdown").unwrap().ranges,
        [(12, 600)]
    );
    assert_eq!(
        qx.dstate().var("ups.delay.start").unwrap().ranges,
        [(0, 599940)]
    );

    // (command, extra, bytes Debian sent per the simulator log, status)
    let cases: &[(&str, Option<&str>, Option<&str>, CmdStatus)] = &[
        ("beeper.toggle", None, Some("Q"), CmdStatus::Handled),
        ("load.off", None, Some("S00R0000"), CmdStatus::Handled),
        ("load.on", None, Some("C"), CmdStatus::Handled),
        (
            "shutdown.return",
            None,
            Some("S.5R0003"),
            CmdStatus::Handled,
        ),
        (
            "shutdown.stayoff",
            None,
            Some("S.5R0000"),
            CmdStatus::Handled,
        ),
        ("shutdown.stop", None, Some("C"), CmdStatus::Handled),
        ("test.battery.start", None, Some("T10"), CmdStatus::Handled),
        (
            "test.battery.start",
            Some("120"),
            Some("T02"),
            CmdStatus::Handled,
        ),
        ("test.battery.start", Some("30"), None, CmdStatus::Failed),
        (
            "test.battery.start.deep",
            None,
            Some("TL"),
            CmdStatus::Handled,
        ),
        (
            "test.battery.start.quick",
            None,
            Some("T"),
            CmdStatus::Handled,
        ),
        ("test.battery.stop", None, Some("CT"), CmdStatus::Handled),
        // renamed to beeper.disable, which megatec lacks (Debian: ERR CMD-NOT-SUPPORTED)
        ("beeper.off", None, None, CmdStatus::Invalid),
    ];
    // Megatec units take commands silently and echo what they do not support.
    for c in [
        "Q", "S00R0000", "C", "S.5R0003", "S.5R0000", "T10", "T02", "TL", "T", "CT", "S02",
        "S02R0059", "S02R0000",
    ] {
        dev.mute(c);
    }
    for (cmd, extra, bytes, status) in cases {
        dev.log.clear();
        let s = qx.instcmd(cmd, *extra);
        assert_eq!(
            drive(&mut qx, s, &mut dev),
            Outcome::InstCmd(*status),
            "{cmd} {extra:?}"
        );
        let sent: Vec<&str> = dev.log.iter().map(String::as_str).collect();
        assert_eq!(
            sent,
            bytes.iter().copied().collect::<Vec<_>>(),
            "{cmd} {extra:?}"
        );
    }

    // upsrw sequence as run against Debian: values are rounded down to what the UPS can do.
    let set = |qx: &mut nutdrv_qx::Qx, dev: &mut Device, var: &str, val: &str| {
        let s = qx.setvar(var, val);
        drive(qx, s, dev)
    };
    assert_eq!(
        set(&mut qx, &mut dev, "ups.delay.shutdown", "125"),
        Outcome::SetVar(SetStatus::Handled)
    );
    assert_eq!(
        set(&mut qx, &mut dev, "ups.delay.start", "0"),
        Outcome::SetVar(SetStatus::Handled)
    );
    dev.log.clear();
    let s = qx.instcmd("shutdown.return", None);
    drive(&mut qx, s, &mut dev);
    assert_eq!(dev.log, ["S02"]);
    assert_eq!(
        set(&mut qx, &mut dev, "ups.delay.shutdown", "7"),
        Outcome::SetVar(SetStatus::Unknown)
    );
    assert_eq!(
        set(&mut qx, &mut dev, "ups.delay.start", "3599"),
        Outcome::SetVar(SetStatus::Handled)
    );
    dev.log.clear();
    let s = qx.instcmd("shutdown.return", None);
    drive(&mut qx, s, &mut dev);
    let s = qx.instcmd("shutdown.stayoff", None);
    drive(&mut qx, s, &mut dev);
    assert_eq!(dev.log, ["S02R0059", "S02R0000"]);
    assert_eq!(
        set(&mut qx, &mut dev, "ups.delay.start", "abc"),
        Outcome::SetVar(SetStatus::Unknown)
    );
    // An echoed command means "not supported": failed.
    dev.replies.remove("Q");
    let s = qx.instcmd("beeper.toggle", None);
    assert_eq!(
        drive(&mut qx, s, &mut dev),
        Outcome::InstCmd(CmdStatus::Failed)
    );
    assert_eq!(qx.getinfo("ups.delay.shutdown"), Some("120"));
    assert_eq!(qx.getinfo("ups.delay.start"), Some("3540"));
}

// Debian: serialsim on megatec_powersa-rt3000_ffff-0000.txt; nutdrv_qx -d 1 (auto-detect)
const POWERSA_DEBIAN: &str = "
battery.voltage: 2.28
driver.parameter.pollfreq: 30
driver.version.data: Q1 0.07
input.frequency: 49.9
input.voltage: 227.0
input.voltage.fault: 120.0
output.voltage: 0.0
ups.beeper.status: enabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.load: 0
ups.status: OL
ups.temperature: 25.0
ups.type: online
";

#[test]
fn powersa_falls_back_to_q1() {
    let mut dev = Device::from_fixture("megatec_powersa-rt3000_ffff-0000.txt");
    let qx = start(&mut dev, opts(&[]));
    assert_eq!(qx.protocol().id, ProtocolId::Q1);
    assert_eq!(dump(&qx), lines(POWERSA_DEBIAN));
    // Debian's exchange after voltronic's QGS x3: every claim fails on the echoed commands
    // until q1, then the init walk and one poll. One deliberate difference: masterguard's
    // claim works here (fixed NUT 2.8.0 bug, as in NUT 2.8.1), so it sends its `WH` x3 where
    // Debian's 2.8.0 sends nothing (between zinto's `FW?` and hunnox's `Q1`).
    let from = dev
        .log
        .iter()
        .position(|c| c == "M")
        .expect("voltronic-qs probed");
    let expect: Vec<&str> = "M M M M M M QS QS QS D D D Q1 ID Q1 ID Q1 ID Q1 QPI Q1 QPI Q1 QPI \
         Q1 I Q1 I Q1 I Q1 FW? Q1 FW? Q1 FW? WH WH WH Q1 FW? Q1 FW? Q1 FW? Q1 I Q1 I Q1 I Q1 Q1 Q1"
        .split_whitespace()
        .collect();
    assert_eq!(&dev.log[from..], &expect[..]);
}

// Debian: serialsim on megatec_ippon_0665-5161.txt; nutdrv_qx -d 1 (auto-detect)
const IPPON_DEBIAN: &str = "
battery.voltage: 13.10
driver.parameter.pollfreq: 30
driver.version.data: Q1 0.07
input.frequency: 49.9
input.voltage: 229.4
input.voltage.fault: 229.4
output.voltage: 229.4
ups.beeper.status: enabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.load: 13
ups.status: OL
ups.temperature: 25.0
ups.type: offline / line interactive
";

#[test]
fn ippon_falls_back_to_q1() {
    let mut dev = Device::from_fixture("megatec_ippon_0665-5161.txt");
    let qx = start(&mut dev, opts(&[]));
    assert_eq!(dump(&qx), lines(IPPON_DEBIAN));
}

fn q1_reply(bits: &str, vin: &str, vout: &str) -> String {
    format!("({vin} 140.0 {vout} 024 50.0 13.2 28.0 {bits}")
}

#[test]
fn status_bits_and_power_events() {
    let mut dev = upsmart();
    let mut qx = start(&mut dev, opts(&[("protocol", Some("megatec"))]));
    let mut now = 2000.0;
    let mut poll = |qx: &mut nutdrv_qx::Qx, dev: &mut Device| {
        now += 2.0;
        let s = qx.poll(now);
        drive(qx, s, dev)
    };
    // OL -> OB -> OB LB -> OL (quick polls keep and update the bits)
    for (bits, want) in [
        ("00001000", "OL"),
        ("10001000", "OB"),
        ("11001000", "OB LB"),
        ("00001000", "OL"),
        ("00001100", "OL CAL"),
        ("00001010", "OL FSD"),
    ] {
        dev.set("Q1", &q1_reply(bits, "230.0", "230.0"));
        assert!(matches!(
            poll(&mut qx, &mut dev),
            Outcome::Poll(PollResult::Ok { .. })
        ));
        assert_eq!(qx.status_string(), want, "bits {bits}");
    }
    // bit 40 decided by vout/vin: <0.95 TRIM, <1.05 BYPASS, <1.5 BOOST
    for (vin, vout, want) in [
        ("240.0", "220.0", "OL TRIM"),
        ("230.0", "231.0", "OL BYPASS"),
        ("190.0", "220.0", "OL BOOST"),
    ] {
        dev.set("Q1", &q1_reply("00101000", vin, vout));
        // a full update re-reads the voltages the bit is judged from
        now += 100.0;
        let s = qx.poll(now);
        drive(&mut qx, s, &mut dev);
        assert_eq!(qx.status_string(), want, "{vin}->{vout}");
    }
    // UPS failed bit -> alarm on a full update
    dev.set("Q1", &q1_reply("00011000", "230.0", "230.0"));
    now += 100.0;
    let s = qx.poll(now);
    drive(&mut qx, s, &mut dev);
    assert_eq!(qx.alarms(), ["UPS selftest failed!"]);
}

#[test]
fn silence_fails_polls_then_goes_stale_and_recovers() {
    let mut dev = upsmart();
    let mut qx = start(&mut dev, opts(&[("protocol", Some("megatec"))]));
    dev.silent = true;
    let mut results = Vec::new();
    for i in 0..6 {
        let s = qx.poll(1002.0 + f64::from(i));
        results.push(drive(&mut qx, s, &mut dev));
    }
    let stale: Vec<bool> = results
        .iter()
        .map(|r| matches!(r, Outcome::Poll(PollResult::Failed { stale: true })))
        .collect();
    // NUT: four failures only counted, the fifth and later mark data stale.
    assert_eq!(stale, [false, false, false, false, true, true]);
    dev.silent = false;
    let s = qx.poll(1010.0);
    assert_eq!(
        drive(&mut qx, s, &mut dev),
        Outcome::Poll(PollResult::Ok {
            full: false,
            reestablished: true
        })
    );
}

#[test]
fn options_novendor_norating_ignoresab() {
    let mut dev = upsmart();
    dev.set("Q1", &q1_reply("00001010", "230.0", "230.0"));
    let qx = start(
        &mut dev,
        opts(&[
            ("protocol", Some("megatec")),
            ("novendor", None),
            ("norating", None),
            ("ignoresab", None),
        ]),
    );
    assert!(
        !dev.log.iter().any(|c| c == "I" || c == "F"),
        "{:?}",
        dev.log
    );
    assert_eq!(qx.status_string(), "OL");
    assert!(qx.getinfo("device.mfr").is_none());
}

#[test]
fn shutdown_sequence() {
    let mut dev = upsmart();
    let mut qx = start(
        &mut dev,
        opts(&[
            ("protocol", Some("megatec")),
            ("offdelay", Some("120")),
            ("ondelay", Some("0")),
        ]),
    );
    dev.mute("C");
    dev.mute("S02");
    dev.log.clear();
    let s = qx.shutdown();
    assert_eq!(
        drive(&mut qx, s, &mut dev),
        Outcome::Shutdown(Ok("Shutting down in 120 seconds".into()))
    );
    assert_eq!(dev.log, ["C", "S02"]);
    let mut dev = upsmart();
    let mut qx = start(
        &mut dev,
        opts(&[("protocol", Some("megatec")), ("stayoff", None)]),
    );
    dev.mute("S.5R0000");
    dev.log.clear();
    let s = qx.shutdown();
    drive(&mut qx, s, &mut dev);
    // "C" is echoed (refused) three times: NUT logs "No shutdown pending" and goes on.
    assert_eq!(dev.log, ["C", "C", "C", "S.5R0000"]);
    // A device that echoes every command: shutdown fails after three tries.
    let mut dev = upsmart();
    let mut qx = start(&mut dev, opts(&[("protocol", Some("megatec"))]));
    let s = qx.shutdown();
    assert_eq!(
        drive(&mut qx, s, &mut dev),
        Outcome::Shutdown(Err("Shutdown failed!".into()))
    );
}

#[test]
fn unsupported_device() {
    let mut dev = Device::from_fixture("megatec_ippon_0665-5161.txt");
    dev.silent = true;
    assert!(detect(&mut dev, opts(&[])).is_none());
}
