//! Generic driver logic: status words and their order, alarms, conversions, options, and the
//! engine's handling of interrupt reports and unreadable reports.

use usbhid_ups::engine::{Engine, EngineOptions};
use usbhid_ups::mapping::{Conversion, Function, format_number, hid_to_nut, nut_to_hid};
use usbhid_ups::status::{Bit, Status};
use usbhid_ups::{ReportDescriptor, Subdriver};

fn no_strings(_: u8) -> Option<String> {
    None
}

#[test]
fn status_words_follow_nuts_order() {
    let mut s = Status::default();
    assert_eq!(s.words(false), ["OB"], "nothing known means on battery");
    for w in [
        "online",
        "chrg",
        "overload",
        "replacebatt",
        "boost",
        "cal",
        "lowbatt",
    ] {
        assert!(s.apply(w));
    }
    assert_eq!(
        s.words(false),
        ["OL", "CHRG", "LB", "OVER", "RB", "BOOST", "CAL"]
    );
    s.apply("fullycharged");
    assert!(!s.words(false).contains(&"CHRG"));
    assert!(s.apply("!CAL"), "case-insensitive, ! clears");
    assert!(!s.has(Bit::Cal));
    assert!(!s.apply("nonsense"));
}

#[test]
fn online_discharging_is_ob_only_with_the_option() {
    let mut s = Status::default();
    s.apply("online");
    s.apply("dischrg");
    assert_eq!(s.words(false), ["OL", "DISCHRG"]);
    assert!(s.online_discharging_unexplained(false));
    assert_eq!(s.words(true), ["OB", "DISCHRG"]);
    s.apply("depleted");
    assert_eq!(s.words(true), ["OB"]);
}

#[test]
fn alarms_and_transfer_reason() {
    let mut s = Status::default();
    for w in ["replacebatt", "nobattery", "bypassman", "frange"] {
        s.apply(w);
    }
    assert_eq!(
        s.alarms(),
        [
            "Replace battery!",
            "No battery installed!",
            "Manual bypass mode!"
        ]
    );
    assert_eq!(s.transfer_reason(), Some("input frequency out of range"));
    s.apply("vrange");
    assert_eq!(s.transfer_reason(), Some("input voltage out of range"));
    assert!(s.words(false).contains(&"BYPASS"));
}

#[test]
fn conversions() {
    let date = Conversion::Fun(Function::Date);
    assert_eq!(hid_to_nut(&date, 0.0, &no_strings).unwrap(), "not set");
    // 2015/07/02 = (35 << 9) | (7 << 5) | 2
    assert_eq!(
        hid_to_nut(&date, f64::from((35 << 9) | (7 << 5) | 2), &no_strings).unwrap(),
        "2015/07/02"
    );
    assert_eq!(
        nut_to_hid(Some(&date), "2015/07/02"),
        Some(f64::from((35 << 9) | (7 << 5) | 2))
    );
    let apc = Conversion::Fun(Function::ApcDate);
    assert_eq!(
        hid_to_nut(&apc, f64::from(0x0009_2501), &no_strings).unwrap(),
        "2001/09/25"
    );
    assert_eq!(
        nut_to_hid(Some(&apc), "2001/09/25"),
        Some(f64::from(0x0009_2501))
    );
    assert_eq!(
        hid_to_nut(
            &Conversion::Fun(Function::KelvinCelsius),
            300.0,
            &no_strings
        )
        .unwrap(),
        "26.9"
    );
    assert_eq!(
        hid_to_nut(&Conversion::Fun(Function::KelvinCelsius), 40.0, &no_strings).unwrap(),
        "40.0"
    );
    assert_eq!(
        hid_to_nut(&Conversion::Fun(Function::Hex), 255.0, &no_strings).unwrap(),
        "000000ff"
    );
    assert_eq!(format_number("%.1f", 24.0), "24.0");
    assert_eq!(
        format_number("%.0f", 2.5),
        "2",
        "round half to even as glibc"
    );
    assert_eq!(format_number("%0.1f", 12.34), "12.3");
    let beeper = Conversion::Lookup(usbhid_ups::mapping::tables::BEEPER);
    assert_eq!(hid_to_nut(&beeper, 2.0, &no_strings).unwrap(), "enabled");
    assert_eq!(hid_to_nut(&beeper, 9.0, &no_strings), None);
    assert_eq!(nut_to_hid(Some(&beeper), "muted"), Some(3.0));
    assert_eq!(nut_to_hid(None, "42abc"), Some(42.0));
}

fn apc_engine(options: EngineOptions) -> Engine {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../tests/fixtures/hid/apc_back-ups-xs-1400u.spec"),
    )
    .unwrap();
    let hex = |s: &str| {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect::<Vec<u8>>()
    };
    let desc: Vec<u8> = text
        .lines()
        .filter_map(|l| l.strip_prefix("desc "))
        .flat_map(hex)
        .collect();
    let mut d = ReportDescriptor::parse(&desc).unwrap();
    Subdriver::Apc.fix_report_desc(0x051d, 0x0002, &mut d);
    let mut e = Engine::new(d, Subdriver::Apc.table(), Subdriver::Apc.usages(), options);
    for l in text.lines().filter_map(|l| l.strip_prefix("feature ")) {
        e.file_report(&hex(l.split_once(' ').unwrap().1));
    }
    e
}

#[test]
fn options_and_commands() {
    let mut e = apc_engine(EngineOptions {
        lowbatt: Some("25%".into()),
        offdelay: Some("60".into()),
        ..EngineOptions::default()
    });
    e.init();
    assert_eq!(e.state.vars["battery.charge.low"], "25");
    assert_eq!(e.state.vars["ups.delay.shutdown"], "60");
    assert!(
        !e.state.vars.contains_key("ups.delay.start"),
        "this model has no startup delay"
    );
    // Debian's usbhid-ups logs "Adding command" for these on this spec (-DDD), and adds
    // load.off itself (a load.off.delay path exists; no load.on.delay path, so no load.on,
    // shutdown.return or shutdown.stayoff).
    let expected = [
        "beeper.disable",
        "beeper.enable",
        "beeper.mute",
        "beeper.off",
        "beeper.on",
        "load.off",
        "load.off.delay",
        "shutdown.reboot",
        "shutdown.stop",
        "test.battery.start.deep",
        "test.battery.start.quick",
        "test.battery.stop",
        "test.panel.start",
        "test.panel.stop",
    ];
    assert_eq!(
        e.state
            .commands
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        expected
    );
    assert!(e.state.meta["input.sensitivity"].rw);
}

#[test]
fn interrupt_report_changes_status_without_a_poll() {
    let mut e = apc_engine(EngineOptions::default());
    e.init();
    e.update(true);
    assert_eq!(e.state.committed_status(), ("OL".to_string(), None));
    // The UPS loses mains: it sends, on the interrupt pipe, every input report carrying
    // ACPresent (now 0) and Discharging (now 1). The quick poll that follows reads the
    // reports just filed (NUT keeps interrupt reports as fresh data).
    let fields: Vec<_> = e
        .descriptor()
        .fields
        .iter()
        .filter(|f| {
            f.kind == usbhid_ups::ReportType::Input
                && [0x0085_00d0, 0x0085_0045, 0xff86_0060].contains(&f.usage())
        })
        .cloned()
        .collect();
    let mut ids: Vec<u8> = fields.iter().map(|f| f.report_id).collect();
    ids.dedup();
    assert!(
        ids.len() >= 2,
        "status is spread over several reports: {ids:?}"
    );
    for id in ids {
        let mut report = vec![0u8; e.buffer_len(id)];
        report[0] = id;
        for f in fields.iter().filter(|f| f.report_id == id) {
            // Discharging 1, ACPresent 0, APC's status flag 16 (running on battery).
            let v = match f.usage() {
                0x0085_0045 => 1,
                0xff86_0060 => 16,
                _ => 0,
            };
            usbhid_ups::report::write_bits(&mut report, f, v);
        }
        e.interrupt_report(&report);
    }
    e.update(false);
    assert_eq!(e.state.status, ["OB", "DISCHRG"]);
}

#[test]
fn cyberpower_battery_voltage_scale_is_decided_once() {
    // A minimal CyberPower-like descriptor: PowerSummary.ConfigVoltage (report 1) and
    // PowerSummary.Voltage (report 2), 8-bit, no units.
    let desc = [
        0x05, 0x84, 0x09, 0x04, 0xa1, 0x01, 0x09, 0x24, 0xa1, 0x00, 0x75, 0x08, 0x95, 0x01, 0x15,
        0x00, 0x26, 0xff, 0x00, 0x85, 0x01, 0x09, 0x40, 0xb1, 0x02, 0x85, 0x02, 0x09, 0x30, 0xb1,
        0x02, 0xc0, 0xc0,
    ];
    let sub = Subdriver::Cps;
    let mut e = Engine::new(
        ReportDescriptor::parse(&desc).unwrap(),
        sub.table(),
        sub.usages(),
        EngineOptions::default(),
    );
    sub.prepare(0x0764, 0x0501, &mut e);
    e.file_report(&[1, 24]);
    e.file_report(&[2, 36]); // 1.5 × nominal: the unit reports 3/2 of the real voltage
    e.init();
    assert_eq!(e.state.vars["battery.voltage"], "24.0");
    e.file_report(&[2, 30]);
    e.update(true);
    assert_eq!(
        e.state.vars["battery.voltage"], "20.0",
        "the scale stays once decided"
    );
    // Other CyberPower products are not checked.
    let mut other = Engine::new(
        ReportDescriptor::parse(&desc).unwrap(),
        sub.table(),
        sub.usages(),
        EngineOptions::default(),
    );
    sub.prepare(0x0764, 0x0601, &mut other);
    other.file_report(&[1, 24]);
    other.file_report(&[2, 36]);
    other.init();
    assert_eq!(other.state.vars["battery.voltage"], "36.0");
}

#[test]
fn setvar_and_instcmd_errors_and_driver_side_variables() {
    let mut e = apc_engine(EngineOptions::default());
    e.init();
    assert_eq!(e.setvar("ups.delay.shutdown", "45"), Ok(vec![]));
    assert_eq!(e.state.vars["ups.delay.shutdown"], "45");
    assert!(matches!(
        e.setvar("battery.charge", "5"),
        Err(usbhid_ups::engine::CommandError::ReadOnly(_))
    ));
    assert!(matches!(
        e.setvar("input.sensitivity", "extreme"),
        Err(usbhid_ups::engine::CommandError::InvalidValue { .. })
    ));
    assert!(matches!(
        e.instcmd("no.such.command", None),
        Err(usbhid_ups::engine::CommandError::Unknown(_))
    ));
    // input.sensitivity "high" = 2: one SET_REPORT starting with its report id; filing it back
    // (as the device would answer) reads "high".
    let actions = e.setvar("input.sensitivity", "high").unwrap();
    let [usbhid_ups::engine::Action::SetReport { report_id, data }] = actions.as_slice() else {
        panic!("one SET_REPORT expected: {actions:?}")
    };
    assert_eq!(data[0], *report_id);
    e.file_report(data);
    e.update(true);
    assert_eq!(e.state.vars["input.sensitivity"], "high");
}

#[test]
fn alarms_prefix_the_status_and_persist_over_quick_walks() {
    let mut e = apc_engine(EngineOptions::default());
    e.init();
    e.update(true);
    // NeedReplacement in the PresentStatus input report 0x16, via the interrupt pipe.
    let f = e
        .descriptor()
        .fields
        .iter()
        .find(|f| {
            f.report_id == 0x16
                && f.kind == usbhid_ups::ReportType::Feature
                && f.usage() == 0x0085_004b
        })
        .unwrap()
        .clone();
    let mut report = vec![0u8; e.buffer_len(0x16)];
    report[0] = 0x16;
    usbhid_ups::report::write_bits(&mut report, &f, 1);
    // on mains, battery present
    for usage in [0x0085_00d0, 0x0085_00d1] {
        let g = e
            .descriptor()
            .fields
            .iter()
            .find(|g| {
                g.report_id == 0x16
                    && g.kind == usbhid_ups::ReportType::Feature
                    && g.usage() == usage
            })
            .unwrap()
            .clone();
        usbhid_ups::report::write_bits(&mut report, &g, 1);
    }
    e.file_report(&report);
    e.update(true);
    let (status, alarm) = e.state.committed_status();
    assert!(status.starts_with("ALARM "), "{status}");
    assert!(status.split(' ').any(|w| w == "RB"), "{status}");
    assert_eq!(alarm.as_deref(), Some("Replace battery!"));
    e.update(false);
    assert_eq!(
        e.state.alarms,
        ["Replace battery!"],
        "quick walks keep the alarms"
    );
}

#[test]
fn reports_needed_follow_the_walk_mode() {
    let mut e = apc_engine(EngineOptions::default());
    let init = e.reports_needed(usbhid_ups::engine::WalkMode::Init);
    e.init();
    let quick = e.reports_needed(usbhid_ups::engine::WalkMode::Quick);
    let full = e.reports_needed(usbhid_ups::engine::WalkMode::Full);
    // Quick polls read only status and timer reports; full polls more; init everything bound.
    assert!(!quick.is_empty());
    assert!(
        quick.iter().all(|id| full.contains(id)),
        "{quick:?} ⊄ {full:?}"
    );
    assert!(
        full.iter().all(|id| init.contains(id)),
        "{full:?} ⊄ {init:?}"
    );
    assert!(
        quick.len() < full.len() && full.len() < init.len(),
        "{quick:?} {full:?} {init:?}"
    );
    // The PresentStatus report (0x16) is read on every poll.
    assert!(quick.contains(&0x16));
    // Semi-static rows (transfer limits, sensitivity) join full polls after a SET/command.
    e.data_changed();
    assert!(e.reports_needed(usbhid_ups::engine::WalkMode::Full).len() > full.len());
}

/// NUT reads an indexed string (battery.type, ups.firmware, …) into a 20-byte buffer: at most
/// 19 characters, trailing newlines trimmed; string 0 (the language list) is never a text.
#[test]
fn string_conversion_is_cut_and_trimmed_as_nut() {
    let strings = |i: u8| match i {
        0 => Some("bogus".to_string()),
        1 => Some("INV: 01.11.0018 NMC: 02.00.0001".to_string()),
        2 => Some("PbAc\n".to_string()),
        _ => None,
    };
    let conv = Conversion::Fun(Function::StringId);
    let got = |v: f64| hid_to_nut(&conv, v, &strings);
    assert_eq!(got(1.0).as_deref(), Some("INV: 01.11.0018 NMC"));
    assert_eq!(got(2.0).as_deref(), Some("PbAc"));
    assert_eq!(got(0.0).as_deref(), Some(""));
    assert_eq!(got(9.0).as_deref(), Some(""));
}
