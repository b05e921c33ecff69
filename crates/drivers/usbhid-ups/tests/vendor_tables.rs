//! The belkin, tripplite and powercom tables: every path parses with the subdriver's usage
//! names, every conversion function they use is tested here, and their quirks (per-product
//! scales, PowerCOM's delay encodings, Liebert's exponent correction, identity formatting).

use std::mem::discriminant;

use usbhid_ups::Subdriver;
use usbhid_ups::mapping::{
    Conversion, DeviceState, Function, Inputs, hid_to_nut, hid_to_nut_with, nut_to_hid,
};
use usbhid_ups::subdriver::{belkin, powercom, tripplite};
use usbhid_ups::usage::string_to_path;

use crate::common;

const SUBDRIVERS: [Subdriver; 3] = [Subdriver::Belkin, Subdriver::TrippLite, Subdriver::Powercom];

fn strings(i: u8) -> Option<String> {
    (i == 4).then(|| "PbAc".to_string())
}

fn fun(f: Function, value: f64) -> Option<String> {
    hid_to_nut(&Conversion::Fun(f), value, &strings)
}

fn fun_with(f: Function, value: f64, state: &mut DeviceState) -> Option<String> {
    hid_to_nut_with(
        &Conversion::Fun(f),
        value,
        &Inputs::with_strings(&strings),
        state,
    )
    .into_option()
}

fn reverse(f: Function, value: &str) -> Option<f64> {
    nut_to_hid(Some(&Conversion::Fun(f)), value)
}

/// The functions the tests below exercise (one example of each variant).
const TESTED: &[Function] = &[
    Function::StringId,
    Function::DivideBy10,
    Function::Date,
    Function::KelvinCelsius,
    Function::StatusBits {
        mask: 0,
        equal: 0,
        then: "",
        otherwise: "",
    },
    Function::NonZero("", ""),
    Function::BelkinFirmware,
    Function::BelkinUpsType,
    Function::BelkinSensitivity,
    Function::LiebertConfigVoltage,
    Function::LiebertLineVoltage,
    Function::TrippliteChemistry,
    Function::TrippliteBattVolt,
    Function::TrippliteIoVolt,
    Function::TrippliteIoFreq,
    Function::TrippliteIoAmp,
    Function::PowercomStartup,
    Function::PowercomShutdown,
    Function::PowercomStayoff,
    Function::PowercomVoltage,
];

#[test]
fn every_path_parses_with_the_subdrivers_names() {
    for sub in SUBDRIVERS {
        assert!(sub.is_ported(), "{sub:?}");
        for row in sub.table() {
            assert!(
                string_to_path(row.path, sub.usages()).is_some(),
                "{sub:?}: {} {}",
                row.name(),
                row.path
            );
        }
    }
}

#[test]
fn every_function_used_is_tested() {
    for sub in SUBDRIVERS {
        for row in sub.table() {
            if let Some(Conversion::Fun(f)) = row.conversion {
                assert!(
                    TESTED.iter().any(|t| discriminant(t) == discriminant(&f)),
                    "{sub:?}: {} uses {f:?}, not tested here",
                    row.name()
                );
            }
        }
    }
}

#[test]
fn generic_functions_the_tables_use() {
    assert_eq!(fun(Function::StringId, 4.0).unwrap(), "PbAc");
    assert_eq!(
        fun(Function::StringId, 9.0).unwrap(),
        "",
        "unknown string: empty"
    );
    assert_eq!(fun(Function::DivideBy10, 1234.0).unwrap(), "123.4");
    assert_eq!(fun(Function::DivideBy10, 0.0).unwrap(), "0.0");
    assert_eq!(
        fun(Function::Date, ((2019 - 1980) << 9 | 3 << 5 | 14) as f64).unwrap(),
        "2019/03/14"
    );
    assert_eq!(fun(Function::KelvinCelsius, 300.0).unwrap(), "26.9");
}

#[test]
fn status_bits_and_non_zero() {
    let online = Function::StatusBits {
        mask: 0x0001,
        equal: 0x0001,
        then: "!online",
        otherwise: "online",
    };
    assert_eq!(fun(online, 0.0).unwrap(), "online");
    assert_eq!(fun(online, 0x2001 as f64).unwrap(), "!online");
    // PowerCOM's trim is bit 3 without bit 4; boost both.
    let trim = Function::StatusBits {
        mask: 0x18,
        equal: 0x08,
        then: "trim",
        otherwise: "!trim",
    };
    assert_eq!(fun(trim, 0x08 as f64).unwrap(), "trim");
    assert_eq!(fun(trim, 0x18 as f64).unwrap(), "!trim");
    assert_eq!(fun(trim, 0x10 as f64).unwrap(), "!trim");
    let charging = Function::NonZero("chrg", "!chrg");
    assert_eq!(fun(charging, 0.0).unwrap(), "!chrg");
    assert_eq!(
        fun(charging, 1e-7).unwrap(),
        "chrg",
        "Liebert's 1e-7 still counts"
    );
}

#[test]
fn belkin_functions() {
    assert_eq!(fun(Function::BelkinFirmware, 0x53 as f64).unwrap(), "5");
    assert_eq!(fun(Function::BelkinFirmware, 0x0f as f64).unwrap(), "0");
    for (v, t) in [
        (0x10, "online"),
        (0x21, "offline"),
        (0x02, "line-interactive"),
        (0x03, "simple online"),
        (0x04, "simple offline"),
        (0x05, "simple line-interactive"),
        (0x0e, "online"),
    ] {
        assert_eq!(fun(Function::BelkinUpsType, v as f64).unwrap(), t, "{v:#x}");
    }
    for (v, t) in [(0, "normal"), (1, "reduced"), (2, "low"), (7, "normal")] {
        assert_eq!(fun(Function::BelkinSensitivity, v as f64).unwrap(), t);
    }
    // No reverse: a SET of input.sensitivity is refused (NUT writes -1, documented).
    assert_eq!(reverse(Function::BelkinSensitivity, "low"), None);
}

#[test]
fn liebert_exponent_correction_is_remembered() {
    let mut state = DeviceState::default();
    // A normal line voltage: no correction.
    assert_eq!(
        fun_with(Function::LiebertLineVoltage, 230.04, &mut state).unwrap(),
        "230.0"
    );
    // A value that is small but not exactly 1e-7: reported as is, nothing learnt.
    assert_eq!(
        fun_with(Function::LiebertLineVoltage, 2e-7, &mut state).unwrap(),
        "0.0"
    );
    // ConfigVoltage of exactly 1e-7 sets ×1e8 for itself and ×1e7 for line voltages.
    assert_eq!(
        fun_with(Function::LiebertConfigVoltage, 1e-7, &mut state).unwrap(),
        "10.0"
    );
    assert_eq!(
        fun_with(Function::LiebertLineVoltage, 2.3e-5, &mut state).unwrap(),
        "230.0"
    );
    // A line voltage of exactly 1e-7 sets ×1e7 on its own.
    let mut state = DeviceState::default();
    assert_eq!(
        fun_with(Function::LiebertLineVoltage, 1e-7, &mut state).unwrap(),
        "1.0"
    );
    assert_eq!(state.liebert_line_voltage_mult, 1e7);
    assert_eq!(state.liebert_config_voltage_mult, 1.0);
    // NUT's 10-byte buffer keeps 9 characters.
    assert_eq!(
        fun_with(Function::LiebertLineVoltage, 123456789.0, &mut state).unwrap(),
        "123456789"
    );
}

#[test]
fn tripplite_scales_by_product() {
    assert_eq!(tripplite::scales(0x09ae, 0x1003), (0.1, 1.0, 1.0, 1.0));
    assert_eq!(tripplite::scales(0x09ae, 0x2014), (0.1, 1.0, 1.0, 1.0));
    assert_eq!(tripplite::scales(0x09ae, 0x3016), (1e5, 1e5, 0.01, 0.01));
    assert_eq!(tripplite::scales(0x09ae, 0x3024), (1e5, 1e5, 0.01, 0.01));
    assert_eq!(tripplite::scales(0x09ae, 0x4001), (1.0, 1.0, 1.0, 1.0));
    assert_eq!(tripplite::scales(0x09ae, 0x5555), (1.0, 1.0, 1.0, 1.0));
    assert_eq!(tripplite::scales(0x03f0, 0x1003), (1.0, 1.0, 1.0, 1.0));

    let mut state = DeviceState::default();
    tripplite::prepare(0x09ae, 0x3016, &mut state);
    assert_eq!(
        fun_with(Function::TrippliteIoVolt, 0.001214, &mut state).unwrap(),
        "121.4"
    );
    assert_eq!(
        fun_with(Function::TrippliteIoFreq, 6000.0, &mut state).unwrap(),
        "60.0"
    );
    assert_eq!(
        fun_with(Function::TrippliteIoAmp, 150.0, &mut state).unwrap(),
        "1.5"
    );
    assert_eq!(
        fun_with(Function::TrippliteBattVolt, 0.000136, &mut state).unwrap(),
        "13.6"
    );
    // NUT formats into 8 bytes: 7 characters survive.
    assert_eq!(
        fun_with(Function::TrippliteIoVolt, 12.3456, &mut state).unwrap(),
        "1234560"
    );
    tripplite::prepare(0x09ae, 0x1003, &mut state);
    assert_eq!(
        fun_with(Function::TrippliteBattVolt, 136.0, &mut state).unwrap(),
        "13.6"
    );
    assert_eq!(
        fun_with(Function::TrippliteIoVolt, 121.44, &mut state).unwrap(),
        "121.4"
    );
}

#[test]
fn tripplite_chemistry_workarounds() {
    let mut state = DeviceState::default();
    for (pid, text) in [(0x1003, "unknown"), (0x2005, "unknown"), (0x2009, "PbAc")] {
        tripplite::prepare(0x09ae, pid, &mut state);
        assert_eq!(
            fun_with(Function::TrippliteChemistry, 4.0, &mut state).unwrap(),
            text,
            "{pid:04x}"
        );
    }
}

#[test]
fn powercom_delays_read_and_written_in_their_encodings() {
    // Startup: minutes with swapped bytes.
    assert_eq!(
        fun(Function::PowercomStartup, 0x0500 as f64).unwrap(),
        "300"
    );
    assert_eq!(
        fun(Function::PowercomStartup, 0x0001 as f64).unwrap(),
        "15360"
    );
    assert_eq!(
        reverse(Function::PowercomStartup, "300"),
        Some(0x0500 as f64)
    );
    assert_eq!(
        reverse(Function::PowercomStartup, "59"),
        Some(0.0),
        "whole minutes"
    );
    assert_eq!(reverse(Function::PowercomStartup, "-120"), Some(0.0));
    assert_eq!(
        reverse(Function::PowercomStartup, "4000000"),
        Some(0.0),
        "out of range"
    );
    // Shutdown: low byte minutes, high byte seconds.
    assert_eq!(
        fun(Function::PowercomShutdown, 0x1402 as f64).unwrap(),
        "140"
    );
    assert_eq!(
        reverse(Function::PowercomShutdown, "20"),
        Some(0x5400 as f64)
    );
    assert_eq!(
        reverse(Function::PowercomShutdown, "75"),
        Some(0x4f01 as f64)
    );
    assert_eq!(
        reverse(Function::PowercomShutdown, "0"),
        Some(0x4100 as f64),
        "0 s is 1 s"
    );
    assert_eq!(reverse(Function::PowercomShutdown, "-5"), Some(0.0));
    assert_eq!(
        reverse(Function::PowercomStayoff, "20"),
        Some(0x9400 as f64)
    );
    assert_eq!(
        reverse(Function::PowercomStayoff, "3661"),
        Some(0x813d as f64)
    );
    assert_eq!(
        fun(Function::PowercomStayoff, 0x9400 as f64),
        None,
        "no reading"
    );
    assert_eq!(fun(Function::PowercomVoltage, 57.4).unwrap(), "230");
    // Without a value, the command rows write their delay variable's.
    assert_eq!(
        Function::PowercomShutdown.default_source(),
        Some("ups.delay.shutdown")
    );
    assert_eq!(
        Function::PowercomStartup.default_source(),
        Some("ups.delay.start")
    );
    assert_eq!(Function::DivideBy10.default_source(), None);
}

#[test]
fn identity_formatting() {
    let id = |sub: Subdriver, m: Option<&str>, p: Option<&str>, s: Option<&str>| {
        sub.identity(0x050d, 0x0980, m, p, s)
            .into_iter()
            .filter(|(k, _)| k.starts_with("ups."))
            .collect::<Vec<_>>()
    };
    let get =
        |v: &[(String, String)], k: &str| v.iter().find(|(n, _)| n == k).map(|(_, x)| x.clone());
    let b = id(Subdriver::Belkin, Some("  Belkin Intl"), Some(""), None);
    assert_eq!(get(&b, "ups.mfr").as_deref(), Some("Belkin Intl"));
    assert_eq!(get(&b, "ups.model").as_deref(), Some("unknown"));
    assert_eq!(
        get(&b, "ups.serial"),
        None,
        "the table's iSerialNumber row supplies it"
    );
    assert_eq!(belkin::format_mfr(Some("   ")), "Belkin");
    assert_eq!(belkin::format_mfr(None), "Belkin");
    let p = id(Subdriver::Powercom, None, Some("HID UPS"), Some(""));
    assert_eq!(get(&p, "ups.mfr").as_deref(), Some("PowerCOM"));
    assert_eq!(
        get(&p, "ups.serial"),
        None,
        "an empty USB string counts as none"
    );
    let t = id(
        Subdriver::TrippLite,
        None,
        Some("TRIPP LITE UPS"),
        Some("X1"),
    );
    assert_eq!(get(&t, "ups.mfr"), None);
    assert_eq!(get(&t, "ups.serial").as_deref(), Some("X1"));
}

#[test]
fn powercom_0001_is_read_through_the_interrupt_pipe_only() {
    assert_eq!(powercom::forced_interrupt_size(0x0d9f, 0x0001), Some(8));
    assert_eq!(powercom::forced_interrupt_size(0x0d9f, 0x0004), None);
    let spec = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vendor-specs/powercom_0d9f-0004_r3");
    let spec = spec.to_str().unwrap();
    let (_, mut feature) = common::engine(spec, Subdriver::Powercom);
    feature.init();
    let (_, mut interrupt) = common::engine(spec, Subdriver::Powercom);
    Subdriver::Powercom.prepare(0x0d9f, 0x0001, &mut interrupt);
    interrupt.init();
    // battery.charge.low exists only as a Feature item; RemainingCapacity also as Input.
    assert!(feature.state.vars.contains_key("battery.charge.low"));
    assert!(!interrupt.state.vars.contains_key("battery.charge.low"));
    assert!(interrupt.state.vars.contains_key("battery.charge"));
}

#[test]
fn preset_identity_wins_over_table_rows_and_is_mirrored() {
    let spec = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vendor-specs/belkin_050d-0980_r41");
    let spec = spec.to_str().unwrap();
    // Without a USB serial, the iSerialNumber row publishes ups.serial, mirrored to device.serial.
    let (s, mut engine) = common::engine(spec, Subdriver::Belkin);
    for (i, t) in &s.strings {
        engine.set_string(*i, t.clone());
    }
    engine.init();
    let serial = engine.state.vars.get("ups.serial").cloned();
    assert!(serial.is_some());
    assert_eq!(engine.state.vars.get("device.serial"), serial.as_ref());
    // With one, the row is not used.
    let (_, mut engine) = common::engine(spec, Subdriver::Belkin);
    engine.preset("ups.serial", "USB-SERIAL");
    engine.init();
    assert_eq!(engine.state.vars["ups.serial"], "USB-SERIAL");
    assert_eq!(engine.state.vars["device.serial"], "USB-SERIAL");
}

/// NUT 2.8.0 writes -1 for a value its conversion cannot reverse (`SET input.sensitivity low`
/// sends `ff`); we refuse and send nothing (docs/compatibility.md).
#[test]
fn belkin_sensitivity_set_is_refused_not_garbled() {
    let spec = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vendor-specs/belkin_050d-0980_r43");
    let (_, mut engine) = common::engine(spec.to_str().unwrap(), Subdriver::Belkin);
    engine.init();
    assert!(engine.state.meta["input.sensitivity"].rw);
    assert_eq!(
        engine.setvar("input.sensitivity", "low"),
        Err(usbhid_ups::engine::CommandError::InvalidValue {
            name: "input.sensitivity".into(),
            value: "low".into()
        })
    );
    // A plain number still goes through (input.transfer.low has no conversion).
    assert_eq!(engine.setvar("input.transfer.low", "99").unwrap().len(), 1);
}

/// NUT reads string descriptors into a 20-byte buffer: 19 characters survive
/// (`battery.type` "LeadAcidBatteryChemistryLongName" is published "LeadAcidBatteryChem").
#[test]
fn string_descriptors_keep_19_characters() {
    let long = |_: u8| Some("LeadAcidBatteryChemistryLongName".to_string());
    for f in [Function::StringId, Function::TrippliteChemistry] {
        assert_eq!(
            hid_to_nut(&Conversion::Fun(f), 4.0, &long).unwrap(),
            "LeadAcidBatteryChem",
            "{f:?}"
        );
    }
    let short = |_: u8| Some("PbAc".to_string());
    assert_eq!(
        hid_to_nut(&Conversion::Fun(Function::StringId), 4.0, &short).unwrap(),
        "PbAc"
    );
}
