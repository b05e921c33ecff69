//! `voltronic` (Voltronic Power protocols P00–P99 as NUT 2.8.0's "Voltronic 0.06" drives them):
//! `QPI` protocol number, `QRI`/`QMD`/`F` ratings, `QMF`/`QVFW`/`QID`/`I` identity, `QGS` status
//! (values and a 12-bit flag field), `QMOD` working mode, `QFS` faults, `QWS` 64 warning bits,
//! `QBV` battery, `QLDL` load range, `Q3PV`/`Q3PC`/`Q3OV`/`Q3OC`/`Q3LD`/`Q3YV` per phase,
//! `QFLAG` capabilities (and their `PE<x>`/`PD<x>` settings), `QSK<n>`/`QSKT<n>` programmable
//! outlets, `QHE`/`QFRE` ECO mode limits, `QBYV`/`QBYF` bypass limits, `QBT`/`QGR` (P31),
//! `RE0` battery low voltage, `QPD` phase angles, `QPAR` parallel role, `QBDR`.
//!
//! The protocol number decides which rows exist (multi-phase values for P03/P09/P10, bypass
//! limits for all but P00/P08/P31, battery type and grid range for P31) and which settable
//! ranges apply (bypass and ECO limits by protocol and nominal voltage/frequency). Capabilities
//! the unit reports switch on their SETs, `beeper.enable/disable`, `bypass.start/stop`, ECO
//! limits and outlet rows.
//!
//! Deliberate fixes of 2.8.0 (docs/compatibility.md): the UPS Fault bit of `QGS` is honoured
//! (2.8.0 compares the character with the number 1, so it never reads the fault), and
//! `output_phase_angle` sends the angle (`PPD120`), not its position in the list (`PPD001`).

use super::blazer_common::{DEFAULT_OFFDELAY, DEFAULT_ONDELAY};
use super::{ClaimStep, Protocol, ProtocolId};
use crate::cnum::{self, eq_ic};
use crate::engine::{Level, Qx, sb};
use crate::item::{Item, Refused, RwFilter, RwValue, ValueFn, qxf, stf};

/// The driver's memory of what the unit reported (NUT keeps these in file-level statics).
#[derive(Clone, Debug, Default)]
pub struct State {
    /// NONUT capabilities (`CAPS_NONUT` order): `Some("enabled"|"disabled")` once reported.
    pub caps: [Option<&'static str>; 12],
    /// Bypass limits as last read.
    pub max_bypass_volt: i64,
    /// Bypass limits as last read.
    pub min_bypass_volt: i64,
    /// Bypass limits as last read.
    pub max_bypass_freq: f64,
    /// Bypass limits as last read.
    pub min_bypass_freq: f64,
    /// Batteries per pack as last read.
    pub battery_number: i64,
    /// Output phase angle as last read.
    pub output_phase_angle: i64,
    /// P31 grid working range as last read.
    pub work_range_type: i64,
}

/// NONUT capabilities: ups.conf name and `QFLAG` letter.
const CAPS_NONUT: [(&str, u8); 12] = [
    ("bypass_alarm", b'p'),
    ("battery_alarm", b'b'),
    ("bypass_when_off", b'o'),
    ("alarm_control", b'a'),
    ("converter_mode", b'v'),
    ("eco_mode", b'e'),
    ("battery_open_status_check", b'd'),
    ("bypass_forbidding", b'f'),
    ("site_fault_detection", b'l'),
    ("advanced_eco_mode", b'n'),
    ("constant_phase_angle", b'q'),
    ("limited_runtime_on_battery", b'w'),
];
const ALARM_CONTROL: usize = 3;
const ECO_MODE: usize = 5;

/// Capabilities with a NUT variable and their `QFLAG` letter.
const CAPS_NUT: [(&str, u8); 5] = [
    ("ups.start.auto", b'r'),
    ("battery.protection", b's'),
    ("battery.energysave", b'g'),
    ("ups.start.battery", b'c'),
    ("outlet.0.switchable", b'j'),
];

const fn rw(value: &'static str, filter: RwFilter) -> RwValue {
    RwValue {
        value,
        filter: Some(filter),
    }
}

const R_ONDELAY: &[RwValue] = &[RwValue::new("0"), RwValue::new("599940")];
const R_OFFDELAY: &[RwValue] = &[RwValue::new("12"), RwValue::new("5940")];
const E_PHASE: &[RwValue] = &[
    RwValue::new("000"),
    RwValue::new("120"),
    RwValue::new("180"),
    RwValue::new("240"),
];
const R_BATT_LOW: &[RwValue] = &[RwValue::new("20"), rw("24", batt_low), rw("28", batt_low)];
const R_OUTLET_DELAY: &[RwValue] = &[RwValue::new("0"), RwValue::new("59940")];
const E_WORK_RANGE: &[RwValue] = &[RwValue::new("Appliance"), RwValue::new("UPS")];
const E_BATT_TYPE: &[RwValue] = &[
    RwValue::new("Li"),
    RwValue::new("Flooded"),
    RwValue::new("AGM"),
];
const R_BATT_PACKS: &[RwValue] = &[RwValue::new("1"), RwValue::new("99")];
const R_BATT_NUMB: &[RwValue] = &[RwValue::new("1"), RwValue::new("9")];
const R_BYPASS_VOLT_MAX: &[RwValue] = &[
    rw("60", bypass_volt_max),
    rw("115", bypass_volt_max),
    rw("120", bypass_volt_max),
    rw("132", bypass_volt_max),
    rw("138", bypass_volt_max),
    rw("140", bypass_volt_max),
    rw("230", bypass_volt_max),
    rw("231", bypass_volt_max),
    rw("261", bypass_volt_max),
    rw("264", bypass_volt_max),
    rw("276", bypass_volt_max),
];
const R_BYPASS_VOLT_MIN: &[RwValue] = &[
    rw("50", bypass_volt_min),
    rw("55", bypass_volt_min),
    rw("60", bypass_volt_min),
    rw("85", bypass_volt_min),
    rw("104", bypass_volt_min),
    rw("110", bypass_volt_min),
    rw("115", bypass_volt_min),
    rw("140", bypass_volt_min),
    rw("149", bypass_volt_min),
    rw("170", bypass_volt_min),
    rw("209", bypass_volt_min),
    rw("220", bypass_volt_min),
];
const R_BYPASS_FREQ_MAX: &[RwValue] = &[
    rw("51.0", bypass_freq_max),
    rw("54.0", bypass_freq_max),
    rw("60.0", bypass_freq_max),
    rw("61.0", bypass_freq_max),
    rw("64.0", bypass_freq_max),
    rw("70.0", bypass_freq_max),
];
const R_BYPASS_FREQ_MIN: &[RwValue] = &[
    rw("40.0", bypass_freq_min),
    rw("46.0", bypass_freq_min),
    rw("49.0", bypass_freq_min),
    rw("50.0", bypass_freq_min),
    rw("56.0", bypass_freq_min),
    rw("59.0", bypass_freq_min),
];
const R_ECO_FREQ_MIN: &[RwValue] = &[
    rw("40.0", eco_freq_min),
    rw("46.0", eco_freq_min),
    rw("47.0", eco_freq_min),
    rw("48.0", eco_freq_min),
    rw("50.0", eco_freq_min),
    rw("56.0", eco_freq_min),
    rw("57.0", eco_freq_min),
    rw("58.0", eco_freq_min),
];
const R_ECO_FREQ_MAX: &[RwValue] = &[
    rw("52.0", eco_freq_max),
    rw("53.0", eco_freq_max),
    rw("54.0", eco_freq_max),
    rw("60.0", eco_freq_max),
    rw("62.0", eco_freq_max),
    rw("63.0", eco_freq_max),
    rw("64.0", eco_freq_max),
    rw("70.0", eco_freq_max),
];
const E_CAP: &[RwValue] = &[RwValue::new("no"), RwValue::new("yes")];
const E_CAP_NONUT: &[RwValue] = &[RwValue::new("enabled"), RwValue::new("disabled")];

/// A query row.
#[allow(clippy::too_many_arguments)]
const fn q(
    var: &'static str,
    st_flags: u8,
    rw: &'static [RwValue],
    command: &'static str,
    answer_len: usize,
    leading: u8,
    from: usize,
    to: usize,
    dfl: &'static str,
    flags: u32,
    pre: Option<ValueFn>,
) -> Item {
    Item {
        var,
        st_flags,
        rw,
        command: Some(command),
        answer_len,
        leading: Some(leading),
        from,
        to,
        dfl: Some(dfl),
        flags,
        pre,
        ..Item::BLANK
    }
}

/// A plain query row (no rw list, `(` leading).
const fn v(
    var: &'static str,
    command: &'static str,
    answer_len: usize,
    from: usize,
    to: usize,
    dfl: &'static str,
    flags: u32,
) -> Item {
    q(
        var,
        0,
        &[],
        command,
        answer_len,
        b'(',
        from,
        to,
        dfl,
        flags,
        None,
    )
}

/// A row of the `QGS` status answer.
const fn gs(var: &'static str, from: usize, to: usize, flags: u32, pre: Option<ValueFn>) -> Item {
    let dfl = if pre.is_some() { "%s" } else { "%.1f" };
    q(var, 0, &[], "QGS\r", 76, b'(', from, to, dfl, flags, pre)
}

/// A capability row of `QFLAG`.
const fn flag(var: &'static str, nut: bool) -> Item {
    let (st, rw, flags) = if nut {
        (stf::RW, E_CAP, qxf::SEMI_STATIC | qxf::ENUM)
    } else {
        (0, &[] as &[RwValue], qxf::SEMI_STATIC | qxf::NONUT)
    };
    q(
        var,
        st,
        rw,
        "QFLAG\r",
        4,
        b'(',
        1,
        0,
        "%s",
        flags,
        Some(capability),
    )
}

/// A SET row answered `(ACK`.
const fn set(
    var: &'static str,
    rw: &'static [RwValue],
    command: &'static str,
    flags: u32,
    pre: ValueFn,
) -> Item {
    Item {
        var,
        rw,
        command: Some(command),
        answer_len: 5,
        leading: Some(b'('),
        from: 1,
        to: 3,
        flags: qxf::SETVAR | flags,
        pre: Some(pre),
        ..Item::BLANK
    }
}

/// An instant command answered `(ACK`.
const fn cmd(var: &'static str, command: &'static str, flags: u32, pre: Option<ValueFn>) -> Item {
    Item {
        var,
        command: Some(command),
        answer_len: 5,
        leading: Some(b'('),
        from: 1,
        to: 3,
        flags: qxf::CMD | flags,
        pre,
        ..Item::BLANK
    }
}

const SK: u32 = qxf::SKIP;
const SS: u32 = qxf::SEMI_STATIC;
const ST: u32 = qxf::STATIC;

#[rustfmt::skip]
static TABLE: &[Item] = &[
    // > QPI\r  < (PI03\r
    q("ups.firmware.aux", 0, &[], "QPI\r", 6, b'(', 1, 4, "%s", ST, Some(protocol)),
    // > QRI\r  < (230.0 004 024.0 50.0\r
    v("output.voltage.nominal", "QRI\r", 22, 1, 5, "%.1f", ST),
    v("output.current.nominal", "QRI\r", 22, 7, 9, "%.0f", ST),
    v("battery.voltage.nominal", "QRI\r", 22, 11, 15, "%.1f", SS),
    v("output.frequency.nominal", "QRI\r", 22, 17, 20, "%.1f", ST),
    // > QMD\r  < (#######OLHVT1K0 ###1000 80 1/1 230 230 02 12.0\r
    v("device.model", "QMD\r", 48, 1, 15, "%s", ST | qxf::TRIM),
    v("ups.power.nominal", "QMD\r", 48, 17, 23, "%s", ST | qxf::TRIM),
    q("output.powerfactor", 0, &[], "QMD\r", 48, b'(', 25, 26, "%.1f", ST, Some(powerfactor)),
    v("input.phases", "QMD\r", 48, 28, 28, "%.0f", ST),
    v("output.phases", "QMD\r", 48, 30, 30, "%.0f", ST),
    v("input.voltage.nominal", "QMD\r", 48, 32, 34, "%.1f", ST),
    v("output.voltage.nominal", "QMD\r", 48, 36, 38, "%.1f", ST),
    // > F\r  < #220.0 000 024.0 50.0\r
    q("input.voltage.nominal", 0, &[], "F\r", 22, b'#', 1, 5, "%.1f", ST, None),
    q("input.current.nominal", 0, &[], "F\r", 22, b'#', 7, 9, "%.1f", ST, None),
    q("battery.voltage.nominal", 0, &[], "F\r", 22, b'#', 11, 15, "%.1f", ST, None),
    q("input.frequency.nominal", 0, &[], "F\r", 22, b'#', 17, 20, "%.1f", ST, None),
    // > QMF\r  < (#######BOH\r
    v("device.mfr", "QMF\r", 2, 1, 0, "%s", ST | qxf::TRIM),
    // > QVFW\r  < (VERFW:00322.02\r
    v("ups.firmware", "QVFW\r", 16, 7, 14, "%s", ST),
    // > QID\r  < (12345679012345\r
    q("device.serial", 0, &[], "QID\r", 2, b'(', 1, 0, "%s", ST, Some(serial_numb)),
    // > I\r  < #-------------   ------     VT12046Q  \r
    q("device.mfr", 0, &[], "I\r", 39, b'#', 1, 15, "%s", ST | qxf::TRIM, None),
    q("device.model", 0, &[], "I\r", 39, b'#', 17, 26, "%s", ST | qxf::TRIM, None),
    q("ups.firmware", 0, &[], "I\r", 39, b'#', 28, 37, "%s", ST | qxf::TRIM, None),
    // > QGS\r  < (234.9 50.0 229.8 50.0 000.0 000 369.1 ---.- 026.5 ---.- 018.8 100000000001\r
    gs("input.voltage", 1, 5, 0, None),
    gs("input.frequency", 7, 10, 0, None),
    gs("output.voltage", 12, 16, 0, None),
    gs("output.frequency", 18, 21, 0, None),
    gs("output.current", 23, 27, 0, None),
    q("ups.load", 0, &[], "QGS\r", 76, b'(', 29, 31, "%.0f", 0, None),
    q("battery.voltage", 0, &[], "QGS\r", 76, b'(', 45, 49, "%.2f", 0, None),
    gs("ups.temperature", 57, 61, 0, None),
    gs("ups.type", 63, 64, SS, Some(status)),
    gs("ups.status", 65, 65, qxf::QUICK_POLL, Some(status)), // utility fail
    gs("ups.status", 66, 66, qxf::QUICK_POLL, Some(status)), // battery low
    gs("ups.status", 67, 67, qxf::QUICK_POLL, Some(status)), // bypass/boost/buck
    gs("ups.alarm", 67, 67, 0, Some(status)),                // bypass/boost/buck
    gs("ups.alarm", 68, 68, 0, Some(status)),                // UPS fault
    gs("ups.status", 70, 70, qxf::QUICK_POLL, Some(status)), // test in progress
    gs("ups.status", 71, 71, qxf::QUICK_POLL, Some(status)), // shutdown active
    gs("ups.beeper.status", 72, 72, 0, Some(status)),
    // > QMOD\r  < (L\r
    q("ups.alarm", 0, &[], "QMOD\r", 3, b'(', 1, 1, "%s", 0, Some(mode)),
    q("ups.status", 0, &[], "QMOD\r", 3, b'(', 1, 1, "%s", 0, Some(mode)),
    // > QFS\r  < (OK\r  or  (14 212.1 50.0 005.6 49.9 006 010.6 343.8 ---.- 026.2 021.8 01101100\r
    q("ups.alarm", 0, &[], "QFS\r", 4, b'(', 1, 2, "%s", SK, Some(fault)),
    // > QWS\r  < (0000000100000000000000000000000000000000000000000000000000000000\r
    q("ups.alarm", 0, &[], "QWS\r", 66, b'(', 1, 64, "%s", 0, Some(warning)),
    // > QBV\r  < (026.5 02 01 068 255\r
    q("battery.voltage", 0, &[], "QBV\r", 21, b'(', 1, 5, "%.2f", 0, None),
    q("battery_number", stf::RW, R_BATT_NUMB, "QBV\r", 21, b'(', 7, 9, "%d", SS | qxf::RANGE | qxf::NONUT, Some(batt_numb)),
    q("battery.packs", stf::RW, R_BATT_PACKS, "QBV\r", 21, b'(', 10, 11, "%.0f", SS | qxf::RANGE, None),
    q("battery.charge", 0, &[], "QBV\r", 21, b'(', 13, 15, "%.0f", 0, None),
    q("battery.runtime", 0, &[], "QBV\r", 21, b'(', 17, 19, "%.0f", 0, Some(batt_runtime)),
    // > QLDL\r  < (021 023\r
    v("output.power.minimum.percent", "QLDL\r", 9, 1, 3, "%.0f", 0),
    v("output.power.maximum.percent", "QLDL\r", 9, 5, 7, "%.0f", 0),
    // > Q3PV\r  < (123.4 123.4 123.4 123.4 123.4 123.4\r  (and Q3PC, Q3OV, Q3OC, Q3LD, Q3YV)
    v("input.L1-N.voltage", "Q3PV\r", 37, 1, 5, "%.1f", SK),
    v("input.L2-N.voltage", "Q3PV\r", 37, 7, 11, "%.1f", SK),
    v("input.L3-N.voltage", "Q3PV\r", 37, 13, 17, "%.1f", SK),
    v("input.L1-L2.voltage", "Q3PV\r", 37, 19, 23, "%.1f", SK),
    v("input.L2-L3.voltage", "Q3PV\r", 37, 25, 29, "%.1f", SK),
    v("input.L1-L3.voltage", "Q3PV\r", 37, 31, 35, "%.1f", SK),
    v("input.L1.current", "Q3PC\r", 13, 1, 3, "%.0f", SK),
    v("input.L2.current", "Q3PC\r", 13, 5, 7, "%.0f", SK),
    v("input.L3.current", "Q3PC\r", 13, 9, 11, "%.0f", SK),
    v("output.L1-N.voltage", "Q3OV\r", 37, 1, 5, "%.1f", SK),
    v("output.L2-N.voltage", "Q3OV\r", 37, 7, 11, "%.1f", SK),
    v("output.L3-N.voltage", "Q3OV\r", 37, 13, 17, "%.1f", SK),
    v("output.L1-L2.voltage", "Q3OV\r", 37, 19, 23, "%.1f", SK),
    v("output.L2-L3.voltage", "Q3OV\r", 37, 25, 29, "%.1f", SK),
    v("output.L1-L3.voltage", "Q3OV\r", 37, 31, 35, "%.1f", SK),
    v("output.L1.current", "Q3OC\r", 13, 1, 3, "%.0f", SK),
    v("output.L2.current", "Q3OC\r", 13, 5, 7, "%.0f", SK),
    v("output.L3.current", "Q3OC\r", 13, 9, 11, "%.0f", SK),
    v("output.L1.power.percent", "Q3LD\r", 13, 1, 3, "%.0f", SK),
    v("output.L2.power.percent", "Q3LD\r", 13, 5, 7, "%.0f", SK),
    v("output.L3.power.percent", "Q3LD\r", 13, 9, 11, "%.0f", SK),
    v("output.bypass.L1-N.voltage", "Q3YV\r", 37, 1, 5, "%.1f", SK),
    v("output.bypass.L2-N.voltage", "Q3YV\r", 37, 7, 11, "%.1f", SK),
    v("output.bypass.L3-N.voltage", "Q3YV\r", 37, 13, 17, "%.1f", SK),
    v("output.bypass.L1-N.voltage", "Q3YV\r", 19, 1, 5, "%.1f", SK), // P09
    v("output.bypass.L2-N.voltage", "Q3YV\r", 19, 7, 11, "%.1f", SK), // P09
    v("output.bypass.L1-L2.voltage", "Q3YV\r", 37, 19, 23, "%.1f", SK),
    v("output.bypass.L2-L3.voltage", "Q3YV\r", 37, 25, 29, "%.1f", SK),
    v("output.bypass.L1-L3.voltage", "Q3YV\r", 37, 31, 35, "%.1f", SK),
    // > QFLAG\r  < (EpashcDbroegfl\r
    flag("ups.start.auto", true),
    flag("battery.protection", true),
    flag("battery.energysave", true),
    flag("ups.start.battery", true),
    flag("outlet.0.switchable", true),
    flag("bypass_alarm", false),
    flag("battery_alarm", false),
    flag("bypass_when_off", false),
    flag("alarm_control", false),
    flag("converter_mode", false),
    flag("eco_mode", false),
    flag("battery_open_status_check", false),
    flag("bypass_forbidding", false),
    flag("site_fault_detection", false),
    flag("advanced_eco_mode", false),
    flag("constant_phase_angle", false),
    flag("limited_runtime_on_battery", false),
    // > PE<x>\r / PD<x>\r / PF\r  < (ACK\r
    set("ups.start.auto", E_CAP, "P%sR\r", qxf::ENUM | SK, capability_set),
    set("battery.protection", E_CAP, "P%sS\r", qxf::ENUM | SK, capability_set),
    set("battery.energysave", E_CAP, "P%sG\r", qxf::ENUM | SK, capability_set),
    set("ups.start.battery", E_CAP, "P%sC\r", qxf::ENUM | SK, capability_set),
    set("outlet.0.switchable", E_CAP, "P%sJ\r", qxf::ENUM | SK, capability_set),
    set("reset_to_default", &[], "PF\r", qxf::NONUT | SK, capability_reset),
    set("bypass_alarm", E_CAP_NONUT, "P%sP\r", qxf::ENUM | qxf::NONUT | SK, capability_set_nonut),
    set("battery_alarm", E_CAP_NONUT, "P%sB\r", qxf::ENUM | qxf::NONUT | SK, capability_set_nonut),
    set("bypass_when_off", E_CAP_NONUT, "P%sO\r", qxf::ENUM | qxf::NONUT | SK, capability_set_nonut),
    set("alarm_control", E_CAP_NONUT, "P%sA\r", qxf::ENUM | qxf::NONUT | SK, capability_set_nonut),
    set("converter_mode", E_CAP_NONUT, "P%sV\r", qxf::ENUM | qxf::NONUT | SK, capability_set_nonut),
    set("eco_mode", E_CAP_NONUT, "P%sE\r", qxf::ENUM | qxf::NONUT | SK, capability_set_nonut),
    set("battery_open_status_check", E_CAP_NONUT, "P%sD\r", qxf::ENUM | qxf::NONUT | SK, capability_set_nonut),
    set("bypass_forbidding", E_CAP_NONUT, "P%sF\r", qxf::ENUM | qxf::NONUT | SK, capability_set_nonut),
    set("site_fault_detection", E_CAP_NONUT, "P%sL\r", qxf::ENUM | qxf::NONUT | SK, capability_set_nonut),
    set("advanced_eco_mode", E_CAP_NONUT, "P%sN\r", qxf::ENUM | qxf::NONUT | SK, capability_set_nonut),
    set("constant_phase_angle", E_CAP_NONUT, "P%sQ\r", qxf::ENUM | qxf::NONUT | SK, capability_set_nonut),
    set("limited_runtime_on_battery", E_CAP_NONUT, "P%sW\r", qxf::ENUM | qxf::NONUT | SK, capability_set_nonut),
    // > QSK1\r  < (1\r  (on), (0\r  (off), (NAK\r  (not programmable)
    v_outlet("outlet.1.switchable", "QSK1\r"),
    v_outlet("outlet.1.status", "QSK1\r"),
    v_outlet("outlet.2.switchable", "QSK2\r"),
    v_outlet("outlet.2.status", "QSK2\r"),
    v_outlet("outlet.3.switchable", "QSK3\r"),
    v_outlet("outlet.3.status", "QSK3\r"),
    v_outlet("outlet.4.switchable", "QSK4\r"),
    v_outlet("outlet.4.status", "QSK4\r"),
    // > QSKT1\r  < (008\r  (minutes)
    outlet_delay_row("outlet.1.delay.shutdown", "QSKT1\r"),
    outlet_delay_row("outlet.2.delay.shutdown", "QSKT2\r"),
    outlet_delay_row("outlet.3.delay.shutdown", "QSKT3\r"),
    outlet_delay_row("outlet.4.delay.shutdown", "QSKT4\r"),
    // > PSK1nnn\r  < (ACK\r
    set("outlet.1.delay.shutdown", R_OUTLET_DELAY, "PSK1%03d\r", qxf::RANGE | SK, outlet_delay_set),
    set("outlet.2.delay.shutdown", R_OUTLET_DELAY, "PSK2%03d\r", qxf::RANGE | SK, outlet_delay_set),
    set("outlet.3.delay.shutdown", R_OUTLET_DELAY, "PSK3%03d\r", qxf::RANGE | SK, outlet_delay_set),
    set("outlet.4.delay.shutdown", R_OUTLET_DELAY, "PSK4%03d\r", qxf::RANGE | SK, outlet_delay_set),
    // > QHE\r  < (242 218\r  (the ranges are set by eco_volt)
    q("input.transfer.high", stf::RW, &[], "QHE\r", 9, b'(', 1, 3, "%.0f", SS | qxf::RANGE | SK, Some(eco_volt)),
    q("input.transfer.low", stf::RW, &[], "QHE\r", 9, b'(', 5, 7, "%.0f", SS | qxf::RANGE | SK, Some(eco_volt)),
    q("input.transfer.low.min", 0, &[], "QHE\r", 9, b'(', 5, 7, "%.0f", SS | SK, Some(eco_volt_range)),
    q("input.transfer.low.max", 0, &[], "QHE\r", 9, b'(', 5, 7, "%.0f", SS | SK, Some(eco_volt_range)),
    q("input.transfer.high.min", 0, &[], "QHE\r", 9, b'(', 1, 3, "%.0f", SS | SK, Some(eco_volt_range)),
    q("input.transfer.high.max", 0, &[], "QHE\r", 9, b'(', 1, 3, "%.0f", SS | SK, Some(eco_volt_range)),
    // > HEHnnn\r / HELnnn\r  < (ACK\r
    set("input.transfer.high", &[], "HEH%03.0f\r", qxf::RANGE | SK, process_setvar),
    set("input.transfer.low", &[], "HEL%03.0f\r", qxf::RANGE | SK, process_setvar),
    // > QFRE\r  < (53.0 47.0\r
    q("input.frequency.high", stf::RW, R_ECO_FREQ_MAX, "QFRE\r", 11, b'(', 1, 4, "%.1f", SS | qxf::RANGE | SK, Some(eco_freq)),
    q("input.frequency.low", stf::RW, R_ECO_FREQ_MIN, "QFRE\r", 11, b'(', 6, 9, "%.1f", SS | qxf::RANGE | SK, Some(eco_freq)),
    // > FREHnn.n\r / FRELnn.n\r  < (ACK\r
    set("input.frequency.high", R_ECO_FREQ_MAX, "FREH%04.1f\r", qxf::RANGE | SK, process_setvar),
    set("input.frequency.low", R_ECO_FREQ_MIN, "FREL%04.1f\r", qxf::RANGE | SK, process_setvar),
    // > QBYV\r  < (264 170\r
    q("max_bypass_volt", stf::RW, R_BYPASS_VOLT_MAX, "QBYV\r", 9, b'(', 1, 3, "%.0f", SS | qxf::RANGE | qxf::NONUT | SK, Some(bypass)),
    q("min_bypass_volt", stf::RW, R_BYPASS_VOLT_MIN, "QBYV\r", 9, b'(', 5, 7, "%.0f", SS | qxf::RANGE | qxf::NONUT | SK, Some(bypass)),
    // > PHVnnn\r / PLVnnn\r  < (ACK\r
    set("max_bypass_volt", R_BYPASS_VOLT_MAX, "PHV%03.0f\r", qxf::RANGE | qxf::NONUT | SK, process_setvar),
    set("min_bypass_volt", R_BYPASS_VOLT_MIN, "PLV%03.0f\r", qxf::RANGE | qxf::NONUT | SK, process_setvar),
    // > QBYF\r  < (53.0 47.0\r
    q("max_bypass_freq", stf::RW, R_BYPASS_FREQ_MAX, "QBYF\r", 11, b'(', 1, 4, "%.1f", SS | qxf::RANGE | qxf::NONUT | SK, Some(bypass)),
    q("min_bypass_freq", stf::RW, R_BYPASS_FREQ_MIN, "QBYF\r", 11, b'(', 6, 9, "%.1f", SS | qxf::RANGE | qxf::NONUT | SK, Some(bypass)),
    // > PGFnn.n\r / PSFnn.n\r  < (ACK\r
    set("max_bypass_freq", R_BYPASS_FREQ_MAX, "PGF%04.1f\r", qxf::RANGE | qxf::NONUT | SK, process_setvar),
    set("min_bypass_freq", R_BYPASS_FREQ_MIN, "PSF%04.1f\r", qxf::RANGE | qxf::NONUT | SK, process_setvar),
    // > BATNn\r  < (ACK\r
    set("battery_number", R_BATT_NUMB, "BATN%1.0f\r", qxf::RANGE | qxf::NONUT, process_setvar),
    // > BATGNn\r  < (ACK\r
    set("battery.packs", R_BATT_PACKS, "BATGN%02.0f\r", qxf::RANGE, process_setvar),
    // > QBT\r  < (01\r  (P31: 00 Li, 01 Flooded, 02 AGM)
    q("battery.type", stf::RW, E_BATT_TYPE, "QBT\r", 4, b'(', 1, 2, "%s", SS | qxf::ENUM | SK, Some(p31b)),
    set("battery.type", E_BATT_TYPE, "PBT%02.0f\r", qxf::ENUM | SK, p31b_set),
    // > QGR\r  < (01\r  (P31: 00 Appliance, 01 UPS)
    q("work_range_type", stf::RW, E_WORK_RANGE, "QGR\r", 4, b'(', 1, 2, "%s", SS | qxf::ENUM | qxf::NONUT | SK, Some(p31g)),
    set("work_range_type", E_WORK_RANGE, "PGR%02.0f\r", qxf::ENUM | qxf::NONUT | SK, p31g_set),
    // > RE0\r  < #20\r
    q("battery.voltage.low", stf::RW, R_BATT_LOW, "RE0\r", 3, b'#', 1, 2, "%.1f", SS | qxf::RANGE, None),
    // > W0Enn\r  < (ACK\r
    set("battery.voltage.low", R_BATT_LOW, "W0E%02.0f\r", qxf::RANGE, process_setvar),
    // > QPD\r  < (000 120\r
    q("input_phase_angle", 0, &[], "QPD\r", 9, b'(', 1, 3, "%03d", SS | qxf::NONUT, Some(phase)),
    q("output_phase_angle", stf::RW, E_PHASE, "QPD\r", 9, b'(', 5, 7, "%03d", SS | qxf::ENUM | qxf::NONUT, Some(phase)),
    // > PPDnnn\r  < (ACK\r
    set("output_phase_angle", E_PHASE, "PPD%03.0f\r", qxf::ENUM | qxf::NONUT | SK, phase_set),
    // > QPAR\r  < (001\r
    q("voltronic_parallel", 0, &[], "QPAR\r", 5, b'(', 1, 3, "%s", ST | qxf::NONUT, Some(parallel)),
    // > QBDR\r  < (1234\r  (meaning unknown; read with the `testing` flag only)
    v("unknown.7", "QBDR\r", 5, 1, 0, "%s", ST | qxf::NONUT | SK),
    cmd("load.off", "SOFF\r", 0, None),
    cmd("load.on", "SON\r", 0, None),
    cmd("shutdown.return", "S%s\r", 0, Some(process_command)),
    cmd("shutdown.stayoff", "S%sR0000\r", 0, Some(process_command)),
    cmd("shutdown.stop", "CS\r", 0, None),
    cmd("test.battery.start", "T%s\r", 0, Some(process_command)),
    cmd("test.battery.start.deep", "TL\r", 0, None),
    cmd("test.battery.start.quick", "T\r", 0, None),
    cmd("test.battery.stop", "CT\r", 0, None),
    cmd("beeper.toggle", "BZ%s\r", 0, Some(process_command)),
    cmd("beeper.enable", "PEA\r", SK, None),
    cmd("beeper.disable", "PDA\r", SK, None),
    cmd("outlet.1.load.off", "SKOFF1\r", SK, None),
    cmd("outlet.1.load.on", "SKON1\r", SK, None),
    cmd("outlet.2.load.off", "SKOFF2\r", SK, None),
    cmd("outlet.2.load.on", "SKON2\r", SK, None),
    cmd("outlet.3.load.off", "SKOFF3\r", SK, None),
    cmd("outlet.3.load.on", "SKON3\r", SK, None),
    cmd("outlet.4.load.off", "SKOFF4\r", SK, None),
    cmd("outlet.4.load.on", "SKON4\r", SK, None),
    cmd("bypass.start", "PEE\r", SK, None),
    cmd("bypass.stop", "PDE\r", SK, None),
    Item {
        var: "ups.delay.start",
        st_flags: stf::RW,
        rw: R_ONDELAY,
        dfl: Some(DEFAULT_ONDELAY),
        flags: qxf::ABSENT | qxf::SETVAR | qxf::RANGE,
        pre: Some(process_setvar),
        ..Item::BLANK
    },
    Item {
        var: "ups.delay.shutdown",
        st_flags: stf::RW,
        rw: R_OFFDELAY,
        dfl: Some(DEFAULT_OFFDELAY),
        flags: qxf::ABSENT | qxf::SETVAR | qxf::RANGE,
        pre: Some(process_setvar),
        ..Item::BLANK
    },
];

const fn v_outlet(var: &'static str, command: &'static str) -> Item {
    q(
        var,
        0,
        &[],
        command,
        3,
        b'(',
        1,
        1,
        "%s",
        SS | SK,
        Some(outlet),
    )
}

const fn outlet_delay_row(var: &'static str, command: &'static str) -> Item {
    q(
        var,
        stf::RW,
        R_OUTLET_DELAY,
        command,
        5,
        b'(',
        1,
        3,
        "%.0f",
        SS | qxf::RANGE | SK,
        Some(outlet_delay),
    )
}

// ---------------------------------------------------------------- helpers

fn dbg(qx: &mut Qx, n: u8, msg: String) -> Refused {
    qx.logm(Level::Debug(n), msg);
    Refused
}

/// The protocol number from `ups.firmware.aux` (`P03` → 3; 0 when unknown).
fn protocol_number(qx: &Qx) -> i64 {
    qx.getinfo("ups.firmware.aux")
        .and_then(|p| p.get(1..))
        .map_or(0, cnum::strtol)
}

fn info_long(qx: &Qx, var: &str) -> Option<i64> {
    qx.getinfo(var).map(cnum::strtol)
}

fn info_double(qx: &Qx, var: &str) -> Option<f64> {
    qx.getinfo(var).map(cnum::strtod)
}

fn numeric(qx: &mut Qx, idx: usize, value: &str) -> Result<(), Refused> {
    if cnum::only_chars(value, "0123456789 .") {
        return Ok(());
    }
    let var = qx.item(idx).var;
    Err(dbg(qx, 2, format!("non numerical value [{var}: {value}]")))
}

/// Clear the SKIP flag of the first item named `name` (with `flag`); `false` if none.
fn unskip(qx: &mut Qx, name: &str, flag: u32) -> bool {
    match qx.find(name, flag, 0) {
        Some(i) => {
            qx.flags[i] &= !qxf::SKIP;
            true
        }
        None => false,
    }
}

fn dfl_num(qx: &Qx, idx: usize, x: f64) -> String {
    cnum::format_num(qx.item(idx).dfl.unwrap_or("%.0f"), x)
}

// ---------------------------------------------------------------- rw filters

const fn in_list(p: i64, list: &[i64]) -> bool {
    let mut i = 0;
    while i < list.len() {
        if list[i] == p {
            return true;
        }
        i += 1;
    }
    false
}

/// P02/P03/P10/P13/P14 (+ P99 when `p99`).
fn group2(p: i64, p99: bool) -> bool {
    in_list(p, &[2, 3, 10, 13, 14]) || (p99 && p == 99)
}

fn batt_low(qx: &Qx, value: &str) -> bool {
    let (Some(ovn), Some(ocn)) = (
        info_long(qx, "output.voltage.nominal"),
        info_long(qx, "output.current.nominal"),
    ) else {
        return false;
    };
    let val = cnum::strtol(value);
    if ovn.saturating_mul(ocn) < 1000 {
        val == 24
    } else {
        val == 28
    }
}

fn bypass_volt_max(qx: &Qx, value: &str) -> bool {
    let Some(ivn) = info_long(qx, "input.voltage.nominal") else {
        return false;
    };
    let p = protocol_number(qx);
    let (lo, hi) = (ivn < 200, ivn >= 200);
    match cnum::strtol(value) {
        60 => p == 9,
        115 => lo && group2(p, true),
        120 => lo && p == 1,
        132 => lo && p == 99,
        138 => lo && group2(p, false),
        140 => p == 9 || (lo && p == 1),
        230 => hi && p == 1,
        231 => hi && group2(p, true),
        261 => hi && p == 99,
        264 => hi && p == 1,
        276 => hi && group2(p, false),
        _ => false,
    }
}

fn bypass_volt_min(qx: &Qx, value: &str) -> bool {
    let Some(ivn) = info_long(qx, "input.voltage.nominal") else {
        return false;
    };
    let p = protocol_number(qx);
    let (lo, hi) = (ivn < 200, ivn >= 200);
    match cnum::strtol(value) {
        50 => lo && p == 99,
        55 | 104 => lo && group2(p, false),
        60 | 140 => p == 9,
        85 => lo && (p == 1 || p == 99),
        110 => hi && group2(p, false),
        115 => lo && p == 1,
        149 => hi && p == 99,
        170 | 220 => hi && p == 1,
        209 => hi && group2(p, true),
        _ => false,
    }
}

/// A frequency limit entry valid for nominal `ofn` and protocols `p01` (P01/P09) or `g2`
/// (P02/P03/P10/P13/P14/P99).
fn freq_entry(qx: &Qx, ofn_wanted: f64, p01: bool, g2: bool) -> bool {
    let Some(ofn) = info_double(qx, "output.frequency.nominal") else {
        return false;
    };
    if ofn != ofn_wanted {
        return false;
    }
    let p = protocol_number(qx);
    (p01 && (p == 1 || p == 9)) || (g2 && group2(p, true))
}

fn bypass_freq_max(qx: &Qx, value: &str) -> bool {
    match cnum::strtol(value) {
        51 => freq_entry(qx, 50.0, true, true),
        54 => freq_entry(qx, 50.0, false, true),
        60 => freq_entry(qx, 50.0, true, false),
        61 => freq_entry(qx, 60.0, true, true),
        64 => freq_entry(qx, 60.0, false, true),
        70 => freq_entry(qx, 60.0, true, false),
        _ => false,
    }
}

fn bypass_freq_min(qx: &Qx, value: &str) -> bool {
    match cnum::strtol(value) {
        40 => freq_entry(qx, 50.0, true, false),
        46 => freq_entry(qx, 50.0, false, true),
        49 => freq_entry(qx, 50.0, true, true),
        50 => freq_entry(qx, 60.0, true, false),
        56 => freq_entry(qx, 60.0, false, true),
        59 => freq_entry(qx, 60.0, true, true),
        _ => false,
    }
}

fn eco_freq_min(qx: &Qx, value: &str) -> bool {
    match cnum::strtol(value) {
        40 | 47 => freq_entry(qx, 50.0, true, false),
        46 | 48 => freq_entry(qx, 50.0, false, true),
        50 | 57 => freq_entry(qx, 60.0, true, false),
        56 | 58 => freq_entry(qx, 60.0, false, true),
        _ => false,
    }
}

fn eco_freq_max(qx: &Qx, value: &str) -> bool {
    match cnum::strtol(value) {
        52 | 54 => freq_entry(qx, 50.0, false, true),
        53 | 60 => freq_entry(qx, 50.0, true, false),
        62 | 64 => freq_entry(qx, 60.0, false, true),
        63 | 70 => freq_entry(qx, 60.0, true, false),
        _ => false,
    }
}

// ---------------------------------------------------------------- claim-time unskipping

/// The rows the protocol number switches on.
fn massive_unskip(qx: &mut Qx, p: i64) {
    let testing = qx.options().testvar("testing");
    let reset = qx.options().testvar("reset_to_default");
    for (i, it) in qx.protocol().table.iter().enumerate() {
        if it.command.is_none() {
            continue;
        }
        let n = |s: &str| eq_ic(it.var, s);
        let any = |names: &[&str]| names.iter().any(|s| eq_ic(it.var, s));
        let setvar = qx.flags[i] & qxf::SETVAR != 0;
        let on = (p == 9
            && ((n("output.bypass.L1-N.voltage") || n("output.bypass.L2-N.voltage"))
                && it.answer_len == 19))
            || (p == 10
                && (n("output.L3-N.voltage")
                    || (n("output.L2-L3.voltage") && it.from == 25)
                    || (n("output.L1-L3.voltage") && it.from == 31)
                    || (any(&[
                        "output.bypass.L1-N.voltage",
                        "output.bypass.L2-N.voltage",
                        "output.bypass.L3-N.voltage",
                    ]) && it.answer_len == 37)
                    || any(&[
                        "output.bypass.L1-L2.voltage",
                        "output.bypass.L2-L3.voltage",
                        "output.bypass.L1-L3.voltage",
                        "output.L3.current",
                        "output.L3.power.percent",
                    ])))
            || ((p == 9 || p == 10)
                && any(&[
                    "output.L1-N.voltage",
                    "output.L2-N.voltage",
                    "output.L1-L2.voltage",
                    "output.L1.current",
                    "output.L2.current",
                    "output.L1.power.percent",
                    "output.L2.power.percent",
                ]))
            || ((p == 3 || p == 9 || p == 10)
                && any(&[
                    "input.L1-N.voltage",
                    "input.L2-N.voltage",
                    "input.L1-L2.voltage",
                    "input.L1.current",
                    "input.L2.current",
                ]))
            || ((p == 3 || p == 10)
                && (n("input.L3-N.voltage")
                    || (n("input.L2-L3.voltage") && it.from == 25)
                    || (n("input.L1-L3.voltage") && it.from == 31)
                    || n("input.L3.current")))
            || (p == 31
                && (n("battery.type")
                    || (n("work_range_type")
                        && (!setvar || qx.options().getval("work_range_type").is_some()))))
            || (p != 0
                && p != 8
                && p != 31
                && !setvar
                && any(&[
                    "max_bypass_volt",
                    "min_bypass_volt",
                    "max_bypass_freq",
                    "min_bypass_freq",
                ]))
            || (n("reset_to_default") && reset)
            || (n("unknown.7") && testing);
        if on {
            qx.flags[i] &= !qxf::SKIP;
        }
    }
}

// ---------------------------------------------------------------- value functions

/// `QPI`: `PInn` with one of the protocol numbers 2.8.0 supports; switches rows on.
fn protocol(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    let Some(num) = value
        .get(..2)
        .filter(|p| p.eq_ignore_ascii_case("PI"))
        .map(|_| &value[2..])
    else {
        let start: String = value.chars().take(2).collect();
        return Err(dbg(
            qx,
            2,
            format!("voltronic_protocol: invalid start characters [{start}]"),
        ));
    };
    if !cnum::only_chars(num, "0123489") {
        qx.logm(
            Level::Error,
            format!("Protocol [{value}] is not supported by this driver"),
        );
        return Err(Refused);
    }
    let p = cnum::strtol(num);
    if ![0, 1, 2, 3, 8, 9, 10, 13, 14, 31, 99].contains(&p) {
        qx.logm(
            Level::Error,
            format!("Protocol [PI{p:02}] is not supported by this driver"),
        );
        return Err(Refused);
    }
    massive_unskip(qx, p);
    Ok(format!("P{p:02}"))
}

/// `QMD` power factor in percent → 0.8.
fn powerfactor(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    numeric(qx, idx, value)?;
    Ok(dfl_num(qx, idx, cnum::strtod(value) * 0.01))
}

/// An all-zero serial number is logged, not published.
fn serial_numb(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    if cnum::only_chars(value, "0") {
        let var = qx.item(idx).var;
        qx.logm(
            Level::Info,
            format!("{var}: UPS reported a non-significant serial [{value}]"),
        );
        return Err(Refused);
    }
    Ok(value.to_string())
}

/// The 12 flag bits of `QGS`, by position.
fn status(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let it = qx.item(idx);
    if !cnum::only_chars(value, "01") {
        return Err(dbg(
            qx,
            3,
            format!(
                "voltronic_status: unexpected value {value}@{}->{value}",
                it.from
            ),
        ));
    }
    let bit = value.as_bytes().first() == Some(&b'1');
    let val: &str = match it.from {
        63 => match cnum::strtol(value) {
            0 => "offline",
            1 => "line-interactive",
            10 => "online",
            _ => {
                return Err(dbg(
                    qx,
                    2,
                    format!("voltronic_status: invalid type [{}: {value}]", it.var),
                ));
            }
        },
        65 => {
            if bit {
                "!OL"
            } else {
                "OL"
            }
        }
        66 => {
            if bit {
                "LB"
            } else {
                "!LB"
            }
        }
        67 if bit => {
            let vi = info_double(qx, "input.voltage").unwrap_or(0.0);
            let vo = info_double(qx, "output.voltage").unwrap_or(0.0);
            if vo < 0.5 * vi {
                return Err(dbg(
                    qx,
                    2,
                    "voltronic_status: output voltage too low".into(),
                ));
            }
            if vo < 0.95 * vi {
                "TRIM"
            } else if vo < 1.05 * vi {
                let p = protocol_number(qx);
                let alarm = eq_ic(it.var, "ups.alarm");
                match (p == 0 || p == 8, alarm) {
                    (true, true) => "UPS is in AVR Mode.",
                    (false, false) => "BYPASS",
                    _ => "",
                }
            } else if vo < 1.5 * vi {
                "BOOST"
            } else {
                return Err(dbg(
                    qx,
                    2,
                    "voltronic_status: output voltage too high".into(),
                ));
            }
        }
        67 => "",
        // Deliberate fix: 2.8.0 compares the character with the number 1 (never true).
        68 if bit => {
            if let Some(i) = qx
                .protocol()
                .table
                .iter()
                .position(|it| it.command == Some("QFS\r"))
            {
                qx.flags[i] &= !qxf::SKIP;
            }
            "UPS Fault!"
        }
        68 => "",
        70 => {
            if bit {
                "CAL"
            } else {
                "!CAL"
            }
        }
        71 => {
            if bit {
                "FSD"
            } else {
                "!FSD"
            }
        }
        72 => {
            if qx.scratch.voltronic.caps[ALARM_CONTROL].is_some() {
                let cur = qx.getinfo("ups.beeper.status");
                if cur.is_none_or(|b| !eq_ic(b, "disabled")) {
                    if bit { "muted" } else { "enabled" }
                } else {
                    ""
                }
            } else if bit {
                "disabled"
            } else {
                "enabled"
            }
        }
        _ => return Err(Refused),
    };
    Ok(val.to_string())
}

/// `QMOD`: the working mode letter.
fn mode(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let (status, alarm) = match value.as_bytes().first() {
        Some(b'P') => (None, Some("UPS is going ON")),
        Some(b'S') => (Some("OFF"), None),
        Some(b'Y') => (Some("BYPASS"), None),
        Some(b'L') => (Some("OL"), None),
        Some(b'B') => (Some("!OL"), None),
        Some(b'T') => (Some("CAL"), None),
        Some(b'F') => (None, Some("Fault reported by UPS.")),
        Some(b'E') => (None, Some("UPS is in ECO Mode.")),
        Some(b'C') => (None, Some("UPS is in Converter Mode.")),
        Some(b'D') => (Some("FSD"), Some("UPS is shutting down!")),
        _ => {
            return Err(dbg(
                qx,
                2,
                format!("voltronic_mode: invalid reply from the UPS [{value}]"),
            ));
        }
    };
    let var = qx.item(idx).var;
    let out = if eq_ic(var, "ups.alarm") {
        alarm
    } else if eq_ic(var, "ups.status") {
        status
    } else {
        None
    };
    Ok(out.unwrap_or("").to_string())
}

/// P31 fault codes.
fn fault_p31(code: i64) -> Option<&'static str> {
    Some(match code {
        1 => "Fan failure.",
        2 => "Over temperature fault.",
        3 => "Battery voltage is too high.",
        4 => "Battery voltage too low.",
        5 => "Inverter relay short-circuited.",
        6 => "Inverter voltage over maximum value.",
        7 => "Overload fault.",
        8 => "Bus voltage exceeds its upper limit.",
        9 => "Bus soft start fail.",
        10 => "Unknown fault [Fault code: 10]",
        51 => "Over current fault.",
        52 => "Bus voltage below its under limit.",
        53 => "Inverter soft start fail.",
        54 => "Self test fail.",
        55 => "Output DC voltage exceeds its upper limit.",
        56 => "Battery open fault.",
        57 => "Current sensor fault.",
        58 => "Battery short.",
        59 => "Inverter voltage below its lower limit.",
        _ => return None,
    })
}

/// Fault codes of all other protocols (code 1 with a phase letter is handled by the caller).
fn fault_other(code: i64) -> Option<&'static str> {
    Some(match code {
        1 => "Bus voltage not within default setting.",
        2 => "Bus voltage over maximum value.",
        3 => "Bus voltage below minimum value.",
        4 => "Bus voltage differences out of acceptable range.",
        5 => "Bus voltage of slope rate drops too fast.",
        6 => "Over current in PFC input inductor.",
        11 => "Inverter voltage not within default setting.",
        12 => "Inverter voltage over maximum value.",
        13 => "Inverter voltage below minimum value.",
        14 => "Inverter short-circuited.",
        15 => "L2 phase inverter short-circuited.",
        16 => "L3 phase inverter short-circuited.",
        17 => "L1L2 inverter short-circuited.",
        18 => "L2L3 inverter short-circuited.",
        19 => "L3L1 inverter short-circuited.",
        21 => "Battery SCR short-circuited.",
        22 => "Line SCR short-circuited.",
        23 => "Inverter relay open fault.",
        24 => "Inverter relay short-circuited.",
        25 => "Input and output wires oppositely connected.",
        26 => "Battery oppositely connected.",
        27 => "Battery voltage is too high.",
        28 => "Battery voltage too low.",
        29 => "Failure for battery fuse being open-circuited.",
        31 => "CAN-bus communication fault.",
        32 => "Host signal circuit fault.",
        33 => "Synchronous signal circuit fault.",
        34 => "Synchronous pulse signal circuit fault.",
        35 => "Parallel cable disconnected.",
        36 => "Load unbalanced.",
        41 => "Over temperature fault.",
        42 => "Communication failure between CPUs in control board.",
        43 => "Overload fault.",
        44 => "Fan failure.",
        45 => "Charger failure.",
        46 => "Model fault.",
        47 => "MCU communication fault.",
        _ => return None,
    })
}

/// `QFS` (read once after the UPS Fault bit was seen): the fault in words.
fn fault(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let p = protocol_number(qx);
    qx.logm(Level::Info, "Checking for faults..");
    qx.flags[idx] |= qxf::SKIP;
    if eq_ic(value, "OK") {
        // 2.8.0 would publish this text as an alarm; a unit without fault has none.
        qx.logm(Level::Info, "No fault found");
        return Ok(String::new());
    }
    let b = value.as_bytes();
    let span = |set: &[u8]| b.iter().take_while(|c| set.contains(c)).count();
    let after_first = |set: &[u8]| {
        b.get(1..)
            .map_or(0, |r| r.iter().take_while(|c| set.contains(c)).count())
    };
    let valid = span(b"0123456789ABC") == 2
        && (b.first() == Some(&b'1') || after_first(b"0123456789") == 1);
    let unknown = || format!("Unknown fault [{value}]");
    let code = cnum::strtol(value);
    let alarm = if !valid {
        unknown()
    } else if p == 31 {
        if b[1..].iter().any(|c| b"ABC".contains(c)) {
            unknown()
        } else {
            if code == 7 {
                qx.update_status("OVER");
            }
            fault_p31(code).map_or_else(unknown, str::to_string)
        }
    } else if code == 1 {
        match b.get(1) {
            Some(b'A') => "L1 inverter negative power out of acceptable range.".into(),
            Some(b'B') => "L2 inverter negative power out of acceptable range.".into(),
            Some(b'C') => "L3 inverter negative power out of acceptable range.".into(),
            _ => "Bus voltage not within default setting.".into(),
        }
    } else {
        if code == 43 {
            qx.update_status("OVER");
        }
        fault_other(code).map_or_else(unknown, str::to_string)
    };
    qx.logm(Level::Info, format!("Fault found: {alarm}"));
    Ok(alarm)
}

/// The text of warning bit `i` (0-based), with the status it implies.
fn warning_text(i: usize) -> Option<(&'static str, Option<&'static str>)> {
    const W: [&str; 58] = [
        "Battery disconnected.",
        "Neutral not connected.",
        "Site fault.",
        "Phase sequence incorrect.",
        "Phase sequence incorrect in bypass.",
        "Input frequency unstable in bypass.",
        "Battery overcharged.",
        "Low battery.",
        "Overload alarm.",
        "Fan alarm.",
        "EPO enabled.",
        "Unable to turn on UPS.",
        "Over temperature alarm.",
        "Charger alarm.",
        "Remote auto shutdown.",
        "L1 input fuse not working.",
        "L2 input fuse not working.",
        "L3 input fuse not working.",
        "Positive PFC abnormal in L1.",
        "Negative PFC abnormal in L1.",
        "Positive PFC abnormal in L2.",
        "Negative PFC abnormal in L2.",
        "Positive PFC abnormal in L3.",
        "Negative PFC abnormal in L3.",
        "Abnormal in CAN-bus communication.",
        "Abnormal in synchronous signal circuit.",
        "Abnormal in synchronous pulse signal circuit.",
        "Abnormal in host signal circuit.",
        "Male connector of parallel cable not connected well.",
        "Female connector of parallel cable not connected well.",
        "Parallel cable not connected well.",
        "Battery connection not consistent in parallel systems.",
        "AC connection not consistent in parallel systems.",
        "Bypass connection not consistent in parallel systems.",
        "UPS model types not consistent in parallel systems.",
        "Capacity of UPSes not consistent in parallel systems.",
        "Auto restart setting not consistent in parallel systems.",
        "Battery cell over charge.",
        "Battery protection setting not consistent in parallel systems.",
        "Battery detection setting not consistent in parallel systems.",
        "Bypass not allowed setting not consistent in parallel systems.",
        "Converter setting not consistent in parallel systems.",
        "High loss point for frequency in bypass mode not consistent in parallel systems.",
        "Low loss point for frequency in bypass mode not consistent in parallel systems.",
        "High loss point for voltage in bypass mode not consistent in parallel systems.",
        "Low loss point for voltage in bypass mode not consistent in parallel systems.",
        "High loss point for frequency in AC mode not consistent in parallel systems.",
        "Low loss point for frequency in AC mode not consistent in parallel systems.",
        "High loss point for voltage in AC mode not consistent in parallel systems.",
        "Low loss point for voltage in AC mode not consistent in parallel systems.",
        "Warning for locking in bypass mode after 3 consecutive overloads within 30 min.",
        "Warning for three-phase AC input current unbalance.",
        "Warning for a three-phase input current unbalance detected in battery mode.",
        "Warning for Inverter inter-current unbalance.",
        "Programmable outlets cut off pre-alarm.",
        "Warning for Battery replace.",
        "Abnormal warning on input phase angle.",
        "Warning!! Cover of maintain switch is open.",
    ];
    let status = match i {
        7 => Some("LB"),
        8 => Some("OVER"),
        55 => Some("RB"),
        _ => None,
    };
    match i {
        61 => Some(("EEPROM operation error.", None)),
        _ => W.get(i).map(|w| (*w, status)),
    }
}

/// NUT's maximum value length (`ST_MAX_VALUE_LEN`).
const ST_MAX_VALUE_LEN: usize = 256;

/// `QWS`: 64 warning bits → one alarm text ("UPS warnings: …").
fn warning(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    if !cnum::only_chars(value, "01") {
        return Err(dbg(
            qx,
            2,
            format!("voltronic_warning: invalid reply from the UPS [{value}]"),
        ));
    }
    if cnum::only_chars(value, "0") {
        return Ok(String::new());
    }
    let (mut warns, mut bitwarns, mut unk) = (String::new(), String::new(), String::new());
    for (i, _) in value.bytes().enumerate().filter(|(_, c)| *c == b'1') {
        match warning_text(i) {
            Some((w, st)) => {
                if let Some(s) = st {
                    qx.update_status(s);
                }
                qx.logm(Level::Info, format!("Warning from UPS: {w}"));
                if warns.is_empty() {
                    bitwarns = format!("Known (see log or manual) [bit: #{:02}", i + 1);
                    warns = w.to_string();
                } else {
                    bitwarns.push_str(&format!(", #{:02}", i + 1));
                    warns.push(' ');
                    warns.push_str(w);
                }
            }
            None => {
                let w = format!("Unknown warning from UPS [bit: #{:02}]", i + 1);
                qx.logm(Level::Info, format!("Warning from UPS: {w}"));
                unk.push_str(&format!(", #{:02}", i + 1));
            }
        }
    }
    if !warns.is_empty() {
        if unk.is_empty() {
            bitwarns.push(']');
        } else {
            warns.push_str(&format!(" Unknown warnings [bit:{}]", &unk[1..]));
            bitwarns.push_str(&format!("]; Unknown warnings [bit:{}]", &unk[1..]));
        }
    } else {
        warns = format!("Unknown warnings [bit:{}]", &unk[1..]);
        bitwarns = warns.clone();
    }
    let body = if ST_MAX_VALUE_LEN - 32 > warns.len() {
        warns
    } else {
        bitwarns
    };
    Ok(format!("UPS warnings: {body}"))
}

/// `QBV` batteries per pack (NONUT, settable from ups.conf `battery_number`).
fn batt_numb(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    numeric(qx, idx, value)?;
    let n = cnum::strtol(value);
    if n > i64::from(i32::MAX) {
        let var = qx.item(idx).var;
        return Err(dbg(
            qx,
            2,
            format!("voltronic_batt_numb: battery number out of range [{var}: {value}]"),
        ));
    }
    qx.scratch.voltronic.battery_number = n;
    if qx.options().getval("battery_number").is_some() && !unskip(qx, "battery_number", qxf::SETVAR)
    {
        return Err(Refused);
    }
    Ok(n.to_string())
}

/// `QBV` runtime in minutes → seconds.
fn batt_runtime(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    numeric(qx, idx, value)?;
    Ok(dfl_num(qx, idx, cnum::strtod(value) * 60.0))
}

/// `strtok_r(value + 1, "D")` then the rest: the enabled and the disabled letters of `QFLAG`
/// (the first character, normally `E`, is skipped).
fn split_flags(value: &str) -> (Option<&str>, Option<&str>) {
    let raw = value.get(1..).unwrap_or("");
    let raw = raw.trim_start_matches('D');
    if raw.is_empty() {
        return (None, None);
    }
    match raw.split_once('D') {
        Some((en, rest)) => (Some(en), (!rest.is_empty()).then_some(rest)),
        None => (Some(raw), None),
    }
}

/// `QFLAG`: one capability, `yes`/`no` or `enabled`/`disabled`; switches on what depends on it.
fn capability(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let var = qx.item(idx).var;
    let (en, dis) = split_flags(value);
    if en.is_none() && dis.is_none() {
        return Err(dbg(qx, 2, "voltronic_capability: parsing failed".into()));
    }
    let (en, dis) = (en.unwrap_or(""), dis.unwrap_or(""));
    let has = |s: &str, c: u8| s.as_bytes().contains(&c);
    let pick = |c: u8, yes: &'static str, no: &'static str| {
        if has(en, c) {
            Some(yes)
        } else if has(dis, c) {
            Some(no)
        } else {
            None
        }
    };
    let val: Option<&'static str> = if let Some(k) =
        CAPS_NONUT.iter().position(|(n, _)| eq_ic(n, var))
    {
        let letter = CAPS_NONUT[k].1;
        let special = k == ALARM_CONTROL || k == ECO_MODE;
        if special && !has(value, letter) {
            None
        } else {
            let v = pick(letter, "enabled", "disabled");
            if let Some(v) = v {
                qx.scratch.voltronic.caps[k] = Some(v);
            }
            if k == ALARM_CONTROL {
                match v {
                    Some("enabled")
                        if qx.getinfo("ups.beeper.status").is_none_or(|b| b != "muted") =>
                    {
                        qx.dstate_mut().set("ups.beeper.status", "enabled");
                    }
                    Some("enabled") | None => {}
                    Some(_) => qx.dstate_mut().set("ups.beeper.status", "disabled"),
                }
                if !unskip(qx, "beeper.enable", qxf::CMD) || !unskip(qx, "beeper.disable", qxf::CMD)
                {
                    return Err(Refused);
                }
            } else if k == ECO_MODE {
                let all = unskip(qx, "bypass.start", qxf::CMD)
                    && unskip(qx, "bypass.stop", qxf::CMD)
                    && unskip(qx, "input.transfer.high", qxf::SEMI_STATIC)
                    && unskip(qx, "input.transfer.low", qxf::SEMI_STATIC)
                    && unskip(qx, "input.frequency.high", qxf::SEMI_STATIC)
                    && unskip(qx, "input.frequency.low", qxf::SEMI_STATIC);
                if !all {
                    return Err(Refused);
                }
            }
            v
        }
    } else if let Some((_, letter)) = CAPS_NUT.iter().find(|(n, _)| eq_ic(n, var)) {
        let v = pick(*letter, "yes", "no");
        if *letter == b'j' && v == Some("yes") {
            for n in 1..=4 {
                if !unskip(qx, &format!("outlet.{n}.switchable"), 0)
                    || !unskip(qx, &format!("outlet.{n}.status"), 0)
                {
                    return Err(Refused);
                }
            }
        }
        v
    } else {
        None
    };
    let Some(val) = val else {
        return Err(Refused);
    };
    let nonut = qx.flags[idx] & qxf::NONUT != 0;
    if nonut && qx.options().getval(var).is_none() {
        return Ok(val.to_string());
    }
    if !unskip(qx, var, qxf::SETVAR) {
        return Err(Refused);
    }
    Ok(val.to_string())
}

/// SET of a capability with a NUT variable: `yes` → `PE<x>`, `no` → `PD<x>`.
fn capability_set(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let it = qx.item(idx);
    let fmt = it.command.unwrap_or("");
    if eq_ic(value, "yes") {
        return Ok(cnum::format_str(fmt, "E"));
    }
    if eq_ic(value, "no") {
        return Ok(cnum::format_str(fmt, "D"));
    }
    qx.logm(
        Level::Error,
        format!(
            "{}: given value [{value}] is not acceptable. Enter either 'yes' or 'no'.",
            it.var
        ),
    );
    Err(Refused)
}

/// One-time SET of a NONUT capability from ups.conf (`enabled`/`disabled`).
fn capability_set_nonut(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let it = qx.item(idx);
    let Some(k) = CAPS_NONUT.iter().position(|(n, _)| eq_ic(n, it.var)) else {
        return Err(Refused);
    };
    let Some(current) = qx.scratch.voltronic.caps[k] else {
        return Err(Refused);
    };
    if eq_ic(value, current) {
        qx.logm(Level::Info, format!("{} is already {current}", it.var));
        return Err(Refused);
    }
    let fmt = it.command.unwrap_or("");
    if eq_ic(value, "disabled") {
        Ok(cnum::format_str(fmt, "D"))
    } else if eq_ic(value, "enabled") {
        Ok(cnum::format_str(fmt, "E"))
    } else {
        qx.logm(
            Level::Error,
            format!(
                "{}: [{value}] is not within acceptable values [enabled/disabled]",
                it.var
            ),
        );
        Err(Refused)
    }
}

/// `reset_to_default` (ups.conf flag): `PF`, only while the UPS is in standby (OFF).
fn capability_reset(qx: &mut Qx, idx: usize, _value: &str) -> Result<String, Refused> {
    if !qx.options().testvar("reset_to_default") {
        return Err(Refused);
    }
    let it = qx.item(idx);
    if qx.status_bits() & sb::OFF == 0 {
        qx.logm(
            Level::Error,
            format!(
                "{}: UPS capability options can be reset only when the UPS is in Standby Mode (i.e. ups.status = 'OFF').",
                it.var
            ),
        );
        return Err(Refused);
    }
    Ok(it.command.unwrap_or("").to_string())
}

/// `QHE` ECO mode voltage limits: the value and, from the nominal output voltage and the
/// protocol, the settable ranges (and `.min`/`.max` rows).
fn eco_volt(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    numeric(qx, idx, value)?;
    let it = qx.item(idx);
    let out = dfl_num(qx, idx, cnum::strtod(value));
    let p = protocol_number(qx);
    let Some(ovn) = qx.getinfo("output.voltage.nominal").map(cnum::strtol) else {
        qx.logm(
            Level::Debug(2),
            "voltronic_eco_volt: unable to get output voltage nominal",
        );
        return Ok(out);
    };
    if !(0..=i64::from(i32::MAX)).contains(&ovn) {
        qx.logm(
            Level::Debug(2),
            format!("voltronic_eco_volt: unable to get output voltage nominal: {ovn}"),
        );
        return Ok(out);
    }
    let (a, b) = if p == 1 || p == 9 {
        if ovn >= 200 { (24, 7) } else { (12, 3) }
    } else if group2(p, true) {
        if ovn >= 200 { (24, 11) } else { (12, 5) }
    } else {
        qx.logm(
            Level::Debug(2),
            "voltronic_eco_volt: the UPS doesn't seem to support ECO Mode",
        );
        return Ok(out);
    };
    let range = if eq_ic(it.var, "input.transfer.high") {
        Some([ovn + b, ovn + a])
    } else if eq_ic(it.var, "input.transfer.low") {
        Some([ovn - a, ovn - b])
    } else {
        None
    };
    if let Some(r) = range {
        qx.scratch.rw_dynamic.retain(|(j, _)| *j != idx);
        qx.scratch
            .rw_dynamic
            .push((idx, r.iter().map(i64::to_string).collect()));
    }
    let ok = unskip(qx, &format!("{}.min", it.var), qxf::SEMI_STATIC)
        && unskip(qx, &format!("{}.max", it.var), qxf::SEMI_STATIC)
        && unskip(qx, it.var, qxf::SETVAR);
    if !ok {
        return Err(Refused);
    }
    Ok(out)
}

/// `input.transfer.{low,high}.{min,max}`: the bounds `eco_volt` worked out.
fn eco_volt_range(qx: &mut Qx, idx: usize, _value: &str) -> Result<String, Refused> {
    let var = qx.item(idx).var;
    let Some((base, which)) = var.rsplit_once('.') else {
        return Err(Refused);
    };
    let i = match which {
        "min" => 0,
        "max" => 1,
        _ => return Err(Refused),
    };
    let Some(from) = qx.find(base, qxf::SEMI_STATIC, 0) else {
        return Err(Refused);
    };
    qx.scratch
        .rw_dynamic
        .iter()
        .find(|(j, _)| *j == from)
        .and_then(|(_, r)| r.get(i).cloned())
        .ok_or(Refused)
}

/// `QFRE` ECO mode frequency limits.
fn eco_freq(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    numeric(qx, idx, value)?;
    let out = dfl_num(qx, idx, cnum::strtod(value));
    let var = qx.item(idx).var;
    if !unskip(qx, var, qxf::SETVAR) {
        return Err(Refused);
    }
    Ok(out)
}

/// `QBYV`/`QBYF` bypass limits (NONUT; settable from ups.conf).
fn bypass(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    numeric(qx, idx, value)?;
    let var = qx.item(idx).var;
    let st = &mut qx.scratch.voltronic;
    let val = match var {
        "max_bypass_volt" => {
            st.max_bypass_volt = cnum::strtol(value);
            st.max_bypass_volt as f64
        }
        "min_bypass_volt" => {
            st.min_bypass_volt = cnum::strtol(value);
            st.min_bypass_volt as f64
        }
        "max_bypass_freq" => {
            st.max_bypass_freq = cnum::strtod(value);
            st.max_bypass_freq
        }
        "min_bypass_freq" => {
            st.min_bypass_freq = cnum::strtod(value);
            st.min_bypass_freq
        }
        _ => return Err(Refused),
    };
    let out = dfl_num(qx, idx, val);
    if qx.options().getval(var).is_some() && !unskip(qx, var, qxf::SETVAR) {
        return Err(Refused);
    }
    Ok(out)
}

/// `QSK<n>`: `1` on, `0` off (then the outlet's delay, SET and commands exist).
fn outlet(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let var = qx.item(idx).var;
    let status = match value.as_bytes().first() {
        Some(b'1') => "on",
        Some(b'0') => "off",
        _ => {
            return Err(dbg(
                qx,
                2,
                format!("voltronic_outlet: invalid reply from the UPS [{var}: {value}]"),
            ));
        }
    };
    let out = if var.contains("switchable") {
        "yes"
    } else if var.contains("status") {
        status
    } else {
        return Err(Refused);
    };
    let n = var.get(7..8).unwrap_or("");
    let ok = unskip(qx, &format!("outlet.{n}.delay.shutdown"), qxf::SEMI_STATIC)
        && unskip(qx, &format!("outlet.{n}.load.on"), qxf::CMD)
        && unskip(qx, &format!("outlet.{n}.load.off"), qxf::CMD);
    if !ok {
        return Err(Refused);
    }
    Ok(out.to_string())
}

/// `QSKT<n>`: minutes → seconds.
fn outlet_delay(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    numeric(qx, idx, value)?;
    let var = qx.item(idx).var;
    let out = dfl_num(qx, idx, cnum::strtod(value) * 60.0);
    if !unskip(qx, var, qxf::SETVAR) {
        return Err(Refused);
    }
    Ok(out)
}

/// `PSK<n>mmm`: seconds → minutes.
fn outlet_delay_set(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let minutes = cnum::strtol(value) / 60;
    if minutes > i64::from(i32::MAX) || minutes < i64::from(i32::MIN) {
        return Err(dbg(
            qx,
            2,
            format!("voltronic_outlet_delay_set: invalid delay {value}"),
        ));
    }
    Ok(cnum::format_num(
        qx.item(idx).command.unwrap_or(""),
        minutes as f64,
    ))
}

/// Position of `value` in the item's enum (case-insensitive).
fn enum_index(qx: &mut Qx, idx: usize, value: &str) -> Result<usize, Refused> {
    let it = qx.item(idx);
    match it.rw.iter().position(|r| eq_ic(r.value, value)) {
        Some(i) => Ok(i),
        None => {
            qx.logm(
                Level::Error,
                format!("{}: value [{value}] out of range", it.var),
            );
            Err(Refused)
        }
    }
}

/// `QBT` (P31): `00` Li, `01` Flooded, `02` AGM.
fn p31b(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let b = value.as_bytes();
    if b.first() != Some(&b'0')
        || b.get(1..)
            .map_or(0, |r| r.iter().take_while(|c| b"012".contains(c)).count())
            != 1
    {
        return Err(dbg(
            qx,
            2,
            format!("voltronic_p31b: invalid battery type reported by the UPS [{value}]"),
        ));
    }
    let i = cnum::strtol(value) as usize;
    Ok(qx.item(idx).rw.get(i).map_or("", |r| r.value).to_string())
}

fn p31b_set(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let i = enum_index(qx, idx, value)?;
    process_setvar(qx, idx, &i.to_string())
}

/// `QGR` (P31): `00` Appliance, `01` UPS.
fn p31g(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let b = value.as_bytes();
    if b.first() != Some(&b'0')
        || b.get(1..)
            .map_or(0, |r| r.iter().take_while(|c| b"01".contains(c)).count())
            != 1
    {
        return Err(dbg(
            qx,
            2,
            format!(
                "voltronic_p31g: invalid device grid working range reported by the UPS [{value}]"
            ),
        ));
    }
    let i = cnum::strtol(value);
    qx.scratch.voltronic.work_range_type = i;
    Ok(qx
        .item(idx)
        .rw
        .get(i as usize)
        .map_or("", |r| r.value)
        .to_string())
}

fn p31g_set(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let i = enum_index(qx, idx, value)?;
    if i as i64 == qx.scratch.voltronic.work_range_type {
        let it = qx.item(idx);
        qx.logm(
            Level::Info,
            format!("{} is already set to {}", it.var, it.rw[i].value),
        );
        return Err(Refused);
    }
    process_setvar(qx, idx, &i.to_string())
}

/// `QPD` phase angles (NONUT; `output_phase_angle` settable from ups.conf).
fn phase(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    numeric(qx, idx, value)?;
    let var = qx.item(idx).var;
    let angle = cnum::strtol(value);
    if eq_ic(var, "output_phase_angle") {
        qx.scratch.voltronic.output_phase_angle = angle;
        if qx.options().getval(var).is_some() && !unskip(qx, var, qxf::SETVAR) {
            return Err(Refused);
        }
    }
    if !(0..=i64::from(i32::MAX)).contains(&angle) {
        return Err(dbg(
            qx,
            2,
            format!("voltronic_phase: phase angle out of range [{value}: {angle}]"),
        ));
    }
    Ok(dfl_num(qx, idx, angle as f64))
}

/// `PPDnnn`. Deliberate fix: 2.8.0 sends the angle's position in the list (`PPD001` for 120).
fn phase_set(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let i = enum_index(qx, idx, value)?;
    let it = qx.item(idx);
    let angle = it.rw[i].value;
    if cnum::strtol(angle) == qx.scratch.voltronic.output_phase_angle {
        qx.logm(Level::Info, format!("{} is already set to {angle}", it.var));
        return Err(Refused);
    }
    process_setvar(qx, idx, angle)
}

/// `QPAR`: master or slave in a parallel system.
fn parallel(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    if !cnum::only_chars(value, "0123456789") {
        let var = qx.item(idx).var;
        return Err(dbg(
            qx,
            2,
            format!("voltronic_parallel: non numerical value [{var}: {value}]"),
        ));
    }
    let role = match cnum::strtol(value) {
        1 => "master",
        2 | 3 => "slave",
        _ => {
            return Err(dbg(
                qx,
                2,
                format!("voltronic_parallel: invalid reply from the UPS [{value}]"),
            ));
        }
    };
    Ok(format!(
        "This UPS is *{role}* in a system of UPSes in parallel"
    ))
}

/// SETs: delays rounded down to what the UPS can do; other values formatted into the command
/// (refused when the unit already has them).
fn process_setvar(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let it = qx.item(idx);
    if value.is_empty() {
        return Err(dbg(
            qx,
            2,
            format!("voltronic_process_setvar: value not given for {}", it.var),
        ));
    }
    let mut val = cnum::strtod(value);
    let trunc = |v: f64| if v.is_finite() { v.trunc() as i64 } else { 0 };
    if eq_ic(it.var, "ups.delay.start") {
        val -= (trunc(val) % 60) as f64;
        return Ok(format!("{val:.0}"));
    }
    if eq_ic(it.var, "ups.delay.shutdown") {
        let step = if val < 60.0 { 6 } else { 60 };
        val -= (trunc(val) % step) as f64;
        return Ok(format!("{val:.0}"));
    }
    let st = &qx.scratch.voltronic;
    let current = match it.var {
        "max_bypass_freq" => Some((st.max_bypass_freq, 1)),
        "min_bypass_freq" => Some((st.min_bypass_freq, 1)),
        "max_bypass_volt" => Some((st.max_bypass_volt as f64, 0)),
        "min_bypass_volt" => Some((st.min_bypass_volt as f64, 0)),
        "battery_number" => Some((st.battery_number as f64, 0)),
        _ => None,
    };
    if let Some((cur, prec)) = current
        && (val - cur).abs() < f64::EPSILON
    {
        qx.logm(
            Level::Info,
            format!("{} is already set to {val:.prec$}", it.var),
        );
        return Err(Refused);
    }
    Ok(cnum::format_num(it.command.unwrap_or(""), val))
}

/// Instant commands with a parameter: shutdown delays, battery test time, beeper toggle.
fn process_command(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let it = qx.item(idx);
    let long = |qx: &Qx, v: &str| info_long(qx, v).unwrap_or(0);
    let off = |d: i64| {
        if d < 60 {
            format!(".{}", d / 6)
        } else {
            format!("{:02}", d / 60)
        }
    };
    let arg = match it.var {
        "shutdown.return" => {
            let offdelay = long(qx, "ups.delay.shutdown");
            let ondelay = long(qx, "ups.delay.start") / 60;
            if ondelay == 0 {
                off(offdelay)
            } else {
                format!("{}R{ondelay:04}", off(offdelay))
            }
        }
        "shutdown.stayoff" => off(long(qx, "ups.delay.shutdown")),
        "test.battery.start" => {
            if !cnum::only_chars(value, "0123456789") {
                qx.logm(
                    Level::Error,
                    format!("{}: non numerical value [{value}]", it.var),
                );
                return Err(Refused);
            }
            let delay = if value.is_empty() {
                600
            } else {
                cnum::strtol(value)
            };
            if !(12..=5940).contains(&delay) {
                qx.logm(
                    Level::Error,
                    format!(
                        "{}: battery test time '{delay}' out of range [12..5940] seconds",
                        it.var
                    ),
                );
                return Err(Refused);
            }
            off(delay)
        }
        "beeper.toggle" => {
            let beeper = qx.getinfo("ups.beeper.status").unwrap_or("").to_string();
            if qx.scratch.voltronic.caps[ALARM_CONTROL].is_some() {
                match beeper.as_str() {
                    "enabled" => "OFF".into(),
                    "muted" => "ON".into(),
                    _ => {
                        qx.logm(Level::Info, "The beeper is already disabled");
                        return Err(Refused);
                    }
                }
            } else {
                match beeper.as_str() {
                    "enabled" => "OFF".into(),
                    "disabled" => "ON".into(),
                    _ => String::new(),
                }
            }
        }
        _ => return Err(Refused),
    };
    Ok(cnum::format_str(it.command.unwrap_or(""), &arg))
}

/// The voltronic protocol.
pub static PROTOCOL: Protocol = Protocol {
    id: ProtocolId::Voltronic,
    version: "Voltronic 0.06",
    table: TABLE,
    claim: &[
        ClaimStep::Query("input.voltage", 0, 0),
        ClaimStep::Query("ups.firmware.aux", 0, 0),
    ],
    initups: |_| {},
    initinfo: None,
    accepted: Some("ACK"),
    rejected: Some("(NAK\r"),
};
