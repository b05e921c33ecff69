//! The mge subdriver's stateful behaviour through the engine, on a small synthetic Eaton-style
//! descriptor: ABM (charger mode vs the plain Charging/Discharging bits), the model family
//! from iProduct + iModel (battery voltages of Evolution 650), `ups.date`/`ups.time` and their
//! SET, and the nominal-power fallback of the model name.

use usbhid_ups::engine::{Action, Engine, EngineOptions};
use usbhid_ups::localtime::LocalTime;
use usbhid_ups::{ReportDescriptor, Subdriver};

/// Report 1: PowerSummary.PresentStatus ACPresent, Charging, Discharging (1 bit each).
/// Report 2: BatterySystem.Charger ABMEnable, Mode (8 bits each).
/// Report 3: PowerSummary iModel, ConfigVoltage, Voltage (8 bits each), Time (32 bits).
const DESC: &[u8] = &[
    0x05, 0x84, 0x09, 0x04, 0xa1, 0x01, // UPS
    0x09, 0x24, 0xa1, 0x00, // PowerSummary
    0x85, 0x01, 0x09, 0x02, 0xa1, 0x02, // PresentStatus
    0x05, 0x85, 0x09, 0xd0, 0x09, 0x44, 0x09, 0x45, // ACPresent, Charging, Discharging
    0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x03, 0xb1, 0x02, //
    0x75, 0x05, 0x95, 0x01, 0xb1, 0x01, 0xc0, // padding, end PresentStatus
    0x85, 0x03, 0x06, 0xff, 0xff, 0x09, 0xf0, // iModel
    0x15, 0x00, 0x26, 0xff, 0x00, 0x75, 0x08, 0x95, 0x01, 0xb1, 0x02, //
    0x05, 0x84, 0x09, 0x40, 0x09, 0x30, // ConfigVoltage, Voltage
    0x75, 0x08, 0x95, 0x02, 0xb1, 0x02, //
    0x06, 0xff, 0xff, 0x09, 0x97, // Time
    0x15, 0x00, 0x27, 0xff, 0xff, 0xff, 0x7f, 0x75, 0x20, 0x95, 0x01, 0xb1, 0x02, //
    0xc0, // end PowerSummary
    0x05, 0x84, 0x09, 0x10, 0xa1, 0x00, 0x09, 0x14, 0xa1, 0x00, // BatterySystem.Charger
    0x85, 0x02, 0x06, 0xff, 0xff, 0x09, 0x87, 0x09, 0x94, // ABMEnable, Mode
    0x15, 0x00, 0x26, 0xff, 0x00, 0x75, 0x08, 0x95, 0x02, 0xb1, 0x02, //
    0xc0, 0xc0, 0xc0,
];

/// 2021-03-04 05:06:07 UTC.
const TIME: u32 = 1_614_834_367;

fn report3(imodel: u8) -> Vec<u8> {
    report3_at(imodel, TIME)
}

fn report3_at(imodel: u8, time: u32) -> Vec<u8> {
    let mut r = vec![3, imodel, 24, 27];
    r.extend_from_slice(&time.to_le_bytes());
    r
}

fn engine(product: &str, imodel: u8) -> (Engine, Vec<(String, String)>) {
    engine_in(LocalTime::utc(), TIME, product, imodel)
}

/// The engine with the shell's time zone and the UPS clock at `time`.
fn engine_in(
    zone: LocalTime,
    time: u32,
    product: &str,
    imodel: u8,
) -> (Engine, Vec<(String, String)>) {
    let desc = ReportDescriptor::parse(DESC).expect("descriptor parses");
    let sub = Subdriver::Mge;
    let mut e = Engine::new(desc, sub.table(), sub.usages(), EngineOptions::default());
    e.device_state_mut().local_time = zone;
    e.file_report(&[1, 0b011]); // on line, charging
    e.file_report(&[2, 1, 3]); // ABM enabled, floating
    e.file_report(&report3_at(imodel, time));
    e.set_string(5, "650".into());
    let id = sub.identity_with(&mut e, 0x0463, 0xffff, None, Some(product), None);
    e.init();
    e.update(true);
    (e, id)
}

fn status(e: &Engine) -> String {
    e.state.committed_status().0
}

#[test]
fn abm_decides_charging_and_discharging() {
    let (mut e, _) = engine("Eaton 5SC", 0);
    // ABM enabled: the charger mode, not the Charging bit, says CHRG.
    assert_eq!(status(&e), "OL CHRG");
    assert_eq!(e.state.vars["battery.charger.status"], "floating");
    // Resting: no CHRG although the Charging bit is still set.
    e.file_report(&[2, 1, 4]);
    e.update(false);
    assert_eq!(status(&e), "OL");
    assert_eq!(e.state.vars["battery.charger.status"], "resting");
    // On battery: discharging from the mode; the plain Discharging bit is not even set.
    e.file_report(&[1, 0b000]);
    e.file_report(&[2, 1, 2]);
    e.update(false);
    assert_eq!(status(&e), "OB DISCHRG");
    assert_eq!(e.state.vars["battery.charger.status"], "discharging");
    // ABM switched off: the charger status disappears, the plain bits count.
    e.file_report(&[1, 0b101]);
    e.file_report(&[2, 0, 2]);
    e.update(false);
    assert!(!e.state.vars.contains_key("battery.charger.status"));
    assert_eq!(status(&e), "OL DISCHRG");
    e.file_report(&[1, 0b011]);
    e.update(false);
    assert_eq!(status(&e), "OL CHRG");
}

#[test]
fn model_family_from_iproduct_and_imodel() {
    // Evolution 650: listed without a name (so "iProduct iModel"); a 12 V nominal battery
    // whatever the device says, and battery.voltage published.
    let (e, id) = engine("Evolution", 5);
    let model =
        |id: &[(String, String)], k: &str| id.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(model(&id, "ups.model").as_deref(), Some("Evolution 650"));
    assert_eq!(model(&id, "device.model").as_deref(), Some("Evolution 650"));
    assert_eq!(model(&id, "ups.mfr").as_deref(), Some("Eaton"));
    assert_eq!(e.state.vars["battery.voltage.nominal"], "12");
    assert_eq!(e.state.vars["battery.voltage"], "27.0");
    // Another product: not a listed family, so no battery voltages at all.
    let (e, id) = engine("Ellipse PRO", 5);
    assert_eq!(model(&id, "ups.model").as_deref(), Some("Ellipse PRO 650"));
    assert!(!e.state.vars.contains_key("battery.voltage"));
    assert!(!e.state.vars.contains_key("battery.voltage.nominal"));
    // No iModel string (index 0 has none) and no nominal power: the product as it is.
    let (_, id) = engine("Ellipse PRO", 0);
    assert_eq!(model(&id, "ups.model").as_deref(), Some("Ellipse PRO"));
}

#[test]
fn date_and_time_read_and_set() {
    let (mut e, _) = engine("Eaton 5SC", 0);
    assert_eq!(e.state.vars["ups.date"], "2021/03/04");
    assert_eq!(e.state.vars["ups.time"], "05:06:07");
    assert!(e.state.meta["ups.date"].rw);
    // The new date keeps the published time of day.
    let actions = e.setvar("ups.date", "2022/01/02").unwrap();
    let want: u32 = 1_641_099_967; // 2022-01-02 05:06:07 UTC
    let mut bytes = vec![3, 0, 24, 27];
    bytes.extend_from_slice(&want.to_le_bytes());
    assert_eq!(
        actions,
        vec![Action::SetReport {
            report_id: 3,
            data: bytes
        }]
    );
    // A time that does not parse writes 0, as NUT does.
    let actions = e.setvar("ups.time", "noon").unwrap();
    assert_eq!(
        actions,
        vec![Action::SetReport {
            report_id: 3,
            data: vec![3, 0, 24, 27, 0, 0, 0, 0]
        }]
    );
}

/// The SET_REPORT of report 3 writing the UPS clock (iModel 0, voltages 24 and 27).
fn clock_set(unix: u32) -> Vec<Action> {
    vec![Action::SetReport {
        report_id: 3,
        data: report3_at(0, unix),
    }]
}

/// As NUT (localtime_r / mktime), `ups.date` and `ups.time` are the driver's local time: with
/// a fixed offset east and west of UTC, the day changes where it should, and a SET is turned
/// back with the same offset.
#[test]
fn date_and_time_in_a_fixed_local_offset_both_ways() {
    // UTC+05:30: 2021-03-04 05:06:07 UTC is 10:36:07 local.
    let (mut e, _) = engine_in(LocalTime::fixed(19_800), TIME, "Eaton 5SC", 0);
    assert_eq!(e.state.vars["ups.date"], "2021/03/04");
    assert_eq!(e.state.vars["ups.time"], "10:36:07");
    // 2022-01-02 10:36:07 local = 05:06:07 UTC.
    assert_eq!(
        e.setvar("ups.date", "2022/01/02").unwrap(),
        clock_set(1_641_099_967)
    );
    // The published date with 23:59:59 local = 2021-03-04 18:29:59 UTC (2021-03-04 00:00 UTC
    // is 1_614_816_000).
    assert_eq!(
        e.setvar("ups.time", "23:59:59").unwrap(),
        clock_set(1_614_816_000 + 18 * 3600 + 29 * 60 + 59)
    );

    // UTC-08:00: the same instant is still the evening before.
    let (mut e, _) = engine_in(LocalTime::fixed(-8 * 3600), TIME, "Eaton 5SC", 0);
    assert_eq!(e.state.vars["ups.date"], "2021/03/03");
    assert_eq!(e.state.vars["ups.time"], "21:06:07");
    // Setting the date it shows, with the time it shows, writes the same instant back.
    assert_eq!(e.setvar("ups.date", "2021/03/03").unwrap(), clock_set(TIME));
}

/// Daylight-saving time: each conversion uses the offset in effect at the time it converts
/// (the shell's `localtime_r`), not the one of the moment the driver started. Central
/// European Time in 2021: +1 h, +2 h from 2021-03-28 01:00 UTC to 2021-10-31 01:00 UTC.
#[test]
fn date_and_time_follow_daylight_saving_time() {
    let cet = LocalTime::from_fn(|t| {
        if (1_616_893_200..1_635_642_000).contains(&t) {
            7200
        } else {
            3600
        }
    });
    // The UPS clock at 2021-07-01 12:00:00 UTC: 14:00:00 summer time.
    let summer: u32 = 1_625_140_800;
    let (mut e, _) = engine_in(cet, summer, "Eaton 5SC", 0);
    assert_eq!(e.state.vars["ups.date"], "2021/07/01");
    assert_eq!(e.state.vars["ups.time"], "14:00:00");
    // A winter date with the published 14:00:00 is 14:00 CET = 13:00 UTC (2021-01-15
    // 00:00 UTC is 1_610_668_800): not the summer offset of the clock's current time.
    assert_eq!(
        e.setvar("ups.date", "2021/01/15").unwrap(),
        clock_set(1_610_668_800 + 13 * 3600)
    );
    // A time on the summer day is turned back with the summer offset.
    assert_eq!(
        e.setvar("ups.time", "14:00:01").unwrap(),
        clock_set(summer + 1)
    );
}

#[test]
fn mge_is_ported_with_its_version() {
    assert!(Subdriver::Mge.is_ported());
    assert_eq!(Subdriver::Mge.version(), "MGE HID 1.46");
}

#[test]
fn imodel_index_zero_or_missing_string_falls_back_to_the_product() {
    // Index 0 is never a text, even if a string 0 were supplied.
    let desc = ReportDescriptor::parse(DESC).expect("descriptor parses");
    let sub = Subdriver::Mge;
    let mut e = Engine::new(desc, sub.table(), sub.usages(), EngineOptions::default());
    e.file_report(&report3(0));
    e.set_string(0, "bogus".into());
    e.set_string(7, "850\n".into());
    let id = sub.identity_with(&mut e, 0x0463, 0xffff, Some("EATON"), Some("3S"), None);
    assert!(
        id.contains(&("ups.model".to_string(), "3S".to_string())),
        "{id:?}"
    );
    // A string with a trailing newline is trimmed, and names the model.
    e.file_report(&report3(7));
    let id = sub.identity_with(
        &mut e,
        0x0463,
        0xffff,
        Some("EATON"),
        Some("Evolution"),
        None,
    );
    assert!(
        id.contains(&("ups.model".to_string(), "Evolution 850".to_string())),
        "{id:?}"
    );
    assert!(id.contains(&("ups.mfr".to_string(), "EATON".to_string())));
}

#[test]
fn identity_paths_name_the_reports_to_read_first() {
    let desc = ReportDescriptor::parse(DESC).expect("descriptor parses");
    let sub = Subdriver::Mge;
    let e = Engine::new(desc, sub.table(), sub.usages(), EngineOptions::default());
    let ids: Vec<Option<u8>> = sub
        .identity_paths()
        .iter()
        .map(|p| e.report_of(p))
        .collect();
    // iModel is in report 3; this descriptor has no UPS.Flow.[4].ConfigApparentPower.
    assert_eq!(ids, [Some(3), None]);
    assert!(Subdriver::Apc.identity_paths().is_empty());
}
