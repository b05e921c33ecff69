//! `masterguard` (Masterguard A and E series: `WH` identity, `Q3` status, `GS,XX` settings,
//! `GBS,XX` battery, `GSN,XX` serial, `DRC,XX` running time, `MSO`/`PNV` output voltage,
//! `FLT,XX` fault records; commands ending in `,XX` carry the unit's slave address).
//!
//! **Deliberate fix of NUT 2.8.0**: 2.8.0's claim looks up items called `series` and
//! `output_voltages` while its table calls them `experimental.series` and
//! `experimental.output_voltages`, so it gives up before sending anything ("claim: cannot find
//! series") and never drives a device. Here the claim uses the table's names and works as its
//! author meant: `WH` gives the series (A/E), model, nominal power and slave address, `MSO` the
//! selectable output voltages (the enum of `output.voltage.nominal`); `slave_address` in
//! ups.conf must match the unit's; commands the series does not know are skipped.
//!
//! Two further 2.8.0 slips are fixed here (docs/compatibility.md): `shutdown.return` sends the
//! restart delay in minutes (`R` takes minutes; 2.8.0 sent the seconds, so the default 180 s
//! became 180 minutes), and `device.uptime` accepts the `TTTT:hh:mm:ss` form its SET documents.
//! Everything else follows 2.8.0's table (rows, positions, formats, command bytes).

use super::blazer_common::{DEFAULT_OFFDELAY, DEFAULT_ONDELAY};
use super::{ClaimStep, Protocol, ProtocolId};
use crate::cnum;
use crate::engine::{Level, Qx};
use crate::item::{Item, Refused, RwValue, ValueFn, qxf, stf};

const R_SLAVEADDR: &[RwValue] = &[RwValue::new("0"), RwValue::new("99")];
const R_OFFDELAY: &[RwValue] = &[RwValue::new("0"), RwValue::new("5940")];
const R_ONDELAY: &[RwValue] = &[RwValue::new("0"), RwValue::new("599940")];
/// Placeholder range of `battery.packs`, replaced by the model's once `WH` is read.
const R_BATPACKS: &[RwValue] = &[RwValue::new("0"), RwValue::new("9")];

/// A row that is read once from `WH` (113 bytes).
const fn wh(
    var: &'static str,
    from: usize,
    to: usize,
    dfl: &'static str,
    flags: u32,
    pre: Option<ValueFn>,
) -> Item {
    Item::query(
        var,
        "WH\r",
        113,
        Some(b'('),
        from,
        to,
        Some(dfl),
        qxf::STATIC | flags,
        pre,
    )
}

/// A `Q3` status row (71 bytes unless stated).
const fn q3(
    var: &'static str,
    len: usize,
    from: usize,
    to: usize,
    dfl: Option<&'static str>,
    flags: u32,
    pre: Option<ValueFn>,
) -> Item {
    Item::query(var, "Q3\r", len, Some(b'('), from, to, dfl, flags, pre)
}

/// A status/alarm bit of `Q3` (read in quick polls too).
const fn bit(var: &'static str, len: usize, from: usize, to: usize) -> Item {
    q3(var, len, from, to, None, qxf::QUICK_POLL, Some(status))
}

/// A query whose command carries the slave address.
#[allow(clippy::too_many_arguments)]
const fn addr(
    var: &'static str,
    st_flags: u8,
    rw: &'static [RwValue],
    command: &'static str,
    len: usize,
    from: usize,
    to: usize,
    dfl: Option<&'static str>,
    flags: u32,
    pre: Option<ValueFn>,
) -> Item {
    Item {
        var,
        st_flags,
        rw,
        command: Some(command),
        answer_len: len,
        leading: Some(b'('),
        from,
        to,
        dfl,
        flags,
        pre_command: Some(add_slaveaddr),
        pre,
        ..Item::BLANK
    }
}

/// A SET row: `command` is a format for the value (`dfl` says its type: d, f, s, thms).
const fn set(
    var: &'static str,
    command: &'static str,
    dfl: &'static str,
    flags: u32,
    slave: bool,
    pre: ValueFn,
) -> Item {
    Item {
        var,
        command: Some(command),
        dfl: Some(dfl),
        flags: qxf::SETVAR | flags,
        pre_command: if slave { Some(add_slaveaddr) } else { None },
        pre: Some(pre),
        ..Item::BLANK
    }
}

const fn absent(var: &'static str, dfl: &'static str) -> Item {
    Item {
        var,
        dfl: Some(dfl),
        flags: qxf::STATIC | qxf::ABSENT,
        ..Item::BLANK
    }
}

const fn fault(var: &'static str, from: usize, to: usize) -> Item {
    addr(
        var,
        0,
        &[],
        "FLT,XX\r",
        108,
        from,
        to,
        Some("%s"),
        qxf::NONUT,
        Some(fault_record),
    )
}

const fn cmd(
    var: &'static str,
    command: Option<&'static str>,
    slave: bool,
    pre: Option<ValueFn>,
) -> Item {
    Item {
        var,
        command,
        flags: qxf::CMD,
        pre_command: if slave { Some(add_slaveaddr) } else { None },
        pre,
        ..Item::BLANK
    }
}

// > WH\r
// < (00 10.06 03.09 A  700  + 0 Bat Pack-19        0 230 50.00 012 02.30 006.00 012.00 018 10 40 160 276 47.00 53.00\r
// > Q3\r
// < (00 225.9 225.9 229.3 043 50.0 02.27 23.4 017.03 100 00000000 00000000\r
// > GS,00\r   < (00,00 0 1\r
// > GBS,00\r  < (00,100 0017 0000 0708 0712 0994 115 02.28\r
// > GSN,00\r  < (00,SSN=6A1212      2782\r
// > DRC,00\r  < (00,1869:19:06:37\r
// > MSO\r     < (220 230 240\r
// > PNV\r     < (PNV=230\r
// > FLT,00\r  < (00,7 0043 0000:16:48:06 0 0000 0000:00:00:00 … (five records)\r
static TABLE: &[Item] = &[
    absent("device.mfr", "Masterguard"),
    absent("load.high", "140"),
    absent("battery.type", "PbAc"),
    Item {
        st_flags: stf::RW,
        rw: R_SLAVEADDR,
        flags: qxf::SEMI_STATIC | qxf::RANGE,
        ..Item::query(
            "ups.id",
            "WH\r",
            113,
            Some(b'('),
            1,
            2,
            Some("%.0f"),
            0,
            Some(slaveaddr),
        )
    },
    wh("ups.firmware", 4, 8, "%s", 0, None),
    wh("ups.firmware.aux", 10, 14, "%s", 0, None),
    wh(
        "experimental.series",
        16,
        16,
        "%s",
        qxf::NONUT,
        Some(series),
    ),
    wh("device.model", 16, 45, "%s", 0, Some(model)),
    wh("ups.power.nominal", 16, 45, "%s", 0, Some(power)),
    wh("input.voltage.nominal", 49, 51, "%.0f", 0, None),
    wh("input.frequency.nominal", 53, 57, "%.2f", 0, None),
    wh(
        "experimental.number_of_battery_cells",
        59,
        61,
        "%.0f",
        qxf::NONUT,
        Some(numcells),
    ),
    wh(
        "experimental.nominal_cell_voltage",
        63,
        67,
        "%.2f",
        qxf::NONUT,
        None,
    ),
    wh("battery.voltage.nominal", 63, 67, "%.2f", 0, Some(battvolt)),
    wh(
        "experimental.runtime_half",
        69,
        74,
        "%.0f",
        qxf::NONUT,
        Some(mmm_ss),
    ),
    wh(
        "experimental.runtime_full",
        76,
        81,
        "%.0f",
        qxf::NONUT,
        Some(mmm_ss),
    ),
    wh(
        "experimental.recharge_time",
        83,
        85,
        "%.0f",
        qxf::NONUT,
        Some(hhh),
    ),
    wh("ambient.0.temperature.low", 87, 88, "%.0f", 0, None),
    wh("ambient.0.temperature.high", 90, 91, "%.0f", 0, None),
    wh("input.voltage.low.critical", 93, 95, "%.0f", 0, None),
    wh("input.voltage.high.critical", 97, 99, "%.0f", 0, None),
    wh("input.frequency.low", 101, 105, "%.2f", 0, None),
    wh("input.frequency.high", 107, 111, "%.2f", 0, None),
    q3("input.voltage", 71, 4, 8, Some("%.1f"), 0, None),
    q3(
        "experimental.input_fault_voltage",
        71,
        10,
        14,
        Some("%.1f"),
        qxf::NONUT,
        None,
    ),
    q3("output.voltage", 71, 16, 20, Some("%.1f"), 0, None),
    q3("ups.load", 71, 22, 24, Some("%.0f"), 0, None),
    q3("ups.power", 71, 22, 24, Some("%.0f"), 0, Some(ups_power)),
    q3(
        "output.current",
        71,
        22,
        24,
        Some("%f"),
        0,
        Some(output_current),
    ),
    q3("input.frequency", 71, 26, 29, Some("%.1f"), 0, None),
    q3(
        "battery.voltage",
        71,
        31,
        35,
        Some("%.1f"),
        0,
        Some(battvolt),
    ),
    q3("ups.temperature", 71, 37, 40, Some("%.1f"), 0, None),
    q3("ambient.0.temperature", 71, 37, 40, Some("%.1f"), 0, None),
    q3("battery.runtime", 71, 42, 47, Some("%.0f"), 0, Some(mmm_ss)),
    q3("battery.charge", 71, 49, 51, Some("%.0f"), 0, None),
    bit("ups.status", 71, 53, 53), // B7 utility fail
    bit("ups.status", 71, 54, 54), // B6 battery low
    bit("ups.status", 71, 55, 55), // B5 bypass/boost
    bit("ups.alarm", 71, 56, 56),  // B4 UPS failed
    q3("ups.type", 71, 57, 57, None, qxf::STATIC, Some(status)), // B3 UPS type
    bit("ups.status", 71, 58, 58), // B2 test in progress
    bit("ups.status", 71, 59, 59), // B1 shutdown active
    bit("ups.alarm", 69, 63, 63),  // T6 parallel operation problems (69 as in 2.8.0)
    bit("ups.status", 71, 65, 65), // T4 battery end of life
    bit("ups.alarm", 71, 66, 66),  // T3 no battery
    bit("ups.test.result", 71, 67, 69), // T2..T0 test status
    Item {
        pre_answer: Some(new_slaveaddr),
        ..set(
            "ups.id",
            "SS%02d--,XX\r",
            "d",
            qxf::RANGE,
            true,
            set_slaveaddr,
        )
    },
    addr(
        "battery.packs",
        stf::RW,
        R_BATPACKS,
        "GS,XX\r",
        0,
        7,
        7,
        Some("%.0f"),
        qxf::SEMI_STATIC | qxf::RANGE,
        None,
    ),
    set(
        "battery.packs",
        "SS--%1d-,XX\r",
        "d",
        qxf::RANGE,
        true,
        setvar,
    ),
    addr(
        "ups.beeper.status",
        0,
        &[],
        "GS,XX\r",
        11,
        9,
        9,
        None,
        qxf::SEMI_STATIC,
        Some(beeper_status),
    ),
    addr(
        "battery.charge",
        0,
        &[],
        "GBS,XX\r",
        43,
        4,
        6,
        Some("%.0f"),
        0,
        None,
    ),
    addr(
        "device.part",
        0,
        &[],
        "GSN,XX\r",
        25,
        8,
        18,
        Some("%s"),
        qxf::STATIC | qxf::TRIM,
        None,
    ),
    addr(
        "device.serial",
        0,
        &[],
        "GSN,XX\r",
        25,
        20,
        23,
        Some("%s"),
        qxf::STATIC,
        None,
    ),
    addr(
        "device.uptime",
        stf::RW,
        &[],
        "DRC,XX\r",
        17,
        4,
        16,
        Some("%.0f"),
        qxf::SEMI_STATIC,
        Some(tttt_hh_mm_ss),
    ),
    set("device.uptime", "SRC%s,XX\r", "thms", 0, true, setvar),
    Item::query(
        "experimental.output_voltages",
        "MSO\r",
        5,
        Some(b'('),
        1,
        0,
        Some("%s"),
        qxf::STATIC | qxf::NONUT,
        Some(output_voltages),
    ),
    Item {
        st_flags: stf::RW,
        flags: qxf::SEMI_STATIC | qxf::ENUM,
        ..Item::query(
            "output.voltage.nominal",
            "PNV\r",
            8,
            Some(b'('),
            5,
            7,
            Some("%.0f"),
            0,
            None,
        )
    },
    // ENUM: only voltages MSO lists are sent (2.8.0 sends any number).
    set(
        "output.voltage.nominal",
        "PNV=%03d\r",
        "d",
        qxf::ENUM,
        false,
        setvar,
    ),
    Item::query(
        "output.current.nominal",
        "PNV\r",
        8,
        Some(b'('),
        5,
        7,
        Some("%.0f"),
        qxf::SEMI_STATIC,
        Some(output_current_nominal),
    ),
    fault("experimental.fault_1", 4, 23),
    fault("experimental.fault_2", 25, 44),
    fault("experimental.fault_3", 46, 65),
    fault("experimental.fault_4", 67, 86),
    fault("experimental.fault_5", 88, 107),
    cmd("shutdown.return", None, false, Some(shutdown_return)),
    cmd("shutdown.stayoff", None, false, Some(shutdown_stayoff)),
    cmd("shutdown.stop", Some("C\r"), false, None),
    cmd("test.battery.start", None, false, Some(test_battery)),
    cmd("test.battery.start.quick", Some("T\r"), false, None),
    cmd("test.battery.start.deep", Some("TUD\r"), false, None),
    cmd("test.battery.stop", Some("CT\r"), false, None),
    cmd("bypass.start", Some("FOFF\r"), false, None),
    cmd("bypass.stop", Some("FON\r"), false, None),
    cmd("beeper.enable", Some("SS---1,XX\r"), true, None),
    cmd("beeper.disable", Some("SS---0,XX\r"), true, None),
    Item {
        var: "ups.delay.shutdown",
        st_flags: stf::RW,
        rw: R_OFFDELAY,
        dfl: Some(DEFAULT_OFFDELAY),
        flags: qxf::ABSENT | qxf::SETVAR | qxf::RANGE,
        ..Item::BLANK
    },
    Item {
        var: "ups.delay.start",
        st_flags: stf::RW,
        rw: R_ONDELAY,
        dfl: Some(DEFAULT_ONDELAY),
        flags: qxf::ABSENT | qxf::SETVAR | qxf::RANGE,
        ..Item::BLANK
    },
];

/// Commands (their leading capitals) the A series knows.
const COMMANDS_A: &[&str] = &[
    "Q", "Q1", "Q3", "T", "TL", "S", "C", "CT", "WH", "M", "N", "O", "DECO", "DRC", "SRC", "FLT",
    "FCLR", "G", "SS", "GS", "MSO", "PNV", "FOFF", "FON", "TUD", "GBS", "SSN", "GSN",
];
/// Commands (their leading capitals) the E series knows.
const COMMANDS_E: &[&str] = &[
    "Q", "Q1", "Q3", "PSR", "T", "TL", "S", "C", "CT", "WH", "DRC", "SRC", "FLT", "FCLR", "SS",
    "GS", "MSO", "PNV", "FOFF", "FON", "TUD", "GBS", "SSN", "GSN", "BUS", "V", "INVDC", "BUSP",
    "BUSN",
];

fn dbg(qx: &mut Qx, n: u8, msg: String) -> Refused {
    qx.logm(Level::Debug(n), msg);
    Refused
}

/// C `sscanf("%d")` on `s`: the integer and the rest, if there is one.
fn scan_int(s: &str) -> Option<(i64, &str)> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let b = t.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    i += digits;
    Some((cnum::strtol(&t[..i]), &t[i..]))
}

/// `%d<sep>%d<sep>…`: `n` integers separated by `sep`.
fn scan_ints(s: &str, sep: char, n: usize) -> Option<Vec<i64>> {
    let mut out = Vec::with_capacity(n);
    let mut rest = s;
    for k in 0..n {
        if k > 0 {
            rest = rest.strip_prefix(sep)?;
        }
        let (v, r) = scan_int(rest)?;
        out.push(v);
        rest = r;
    }
    Some(out)
}

fn slaveaddr(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    let b = value.as_bytes();
    if b.len() != 2 {
        return Err(dbg(qx, 2, "slaveaddr length not 2".into()));
    }
    qx.scratch.mg_slaveaddr = [b[0], b[1]];
    Ok(value.to_string())
}

fn series(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    match value.as_bytes().first() {
        Some(&c @ (b'A' | b'E')) => {
            qx.scratch.mg_series = Some(c);
            Ok(value[..1].to_string())
        }
        _ => Err(dbg(qx, 2, format!("unknown series {value}"))),
    }
}

/// Model name, nominal power and battery pack range (min, max; rack `-19` models differ).
fn model_info(value: &str) -> Option<(&'static str, i64, u8, u8)> {
    let rack = value.contains("-19");
    let starts = |p: &str| value.starts_with(p);
    Some(if starts("A  700") {
        ("A700", 700, 0, 0)
    } else if starts("A 1000") {
        ("A1000", 1000, 0, 2)
    } else if starts("A 2000") {
        ("A2000", 2000, u8::from(rack), if rack { 5 } else { 2 })
    } else if starts("A 3000") {
        ("A3000", 3000, u8::from(rack), if rack { 5 } else { 2 })
    } else if starts("E 60") {
        ("E60", 6000, 1, 1)
    } else if starts("E100") {
        ("E100", 10000, 1, 1)
    } else if starts("E200") {
        ("E200", 20000, 1, 1)
    } else {
        return None;
    })
}

fn model(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    let Some((name, _, min, max)) = model_info(value) else {
        return Err(dbg(qx, 2, format!("unknown T {value}")));
    };
    if let Some(i) = qx.find("battery.packs", qxf::RANGE, qxf::SETVAR) {
        let vals = vec![min.to_string(), max.to_string()];
        qx.scratch.rw_dynamic.retain(|(j, _)| *j != i);
        qx.scratch.rw_dynamic.push((i, vals));
    }
    let rack = if value.contains("-19") { "-19" } else { "" };
    Ok(format!("{name}{rack}"))
}

fn power(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    let Some((_, p, ..)) = model_info(value) else {
        return Err(dbg(qx, 2, format!("unknown T {value}")));
    };
    qx.scratch.mg_power = p;
    Ok(p.to_string())
}

fn mmm_ss(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    match scan_ints(value, '.', 2) {
        Some(v) => Ok((60 * v[0] + v[1]).to_string()),
        None => Err(dbg(qx, 2, format!("unparsable mmm.ss {value}"))),
    }
}

fn hhh(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    match scan_int(value) {
        Some((h, _)) => Ok((3600 * h).to_string()),
        None => Err(dbg(qx, 2, format!("unparsable hhh {value}"))),
    }
}

fn thms_seconds(value: &str) -> Option<i64> {
    let v = scan_ints(value, ':', 4)?;
    Some(86400 * v[0] + 3600 * v[1] + 60 * v[2] + v[3])
}

fn tttt_hh_mm_ss(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    match thms_seconds(value) {
        Some(s) => Ok(s.to_string()),
        None => Err(dbg(qx, 2, format!("unparsable TTTT:hh:mm:ss {value}"))),
    }
}

fn numcells(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    match scan_int(value) {
        Some((v, _)) => {
            qx.scratch.mg_numcells = v;
            Ok(v.to_string())
        }
        None => Err(dbg(qx, 2, format!("unparsable vvv {value}"))),
    }
}

/// A float as `sscanf("%f")` reads it (leading number required).
fn scan_float(s: &str) -> Option<f64> {
    let t = s.trim_start();
    let b = t.as_bytes();
    let i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    b.get(i)
        .is_some_and(|c| c.is_ascii_digit() || *c == b'.')
        .then(|| cnum::strtod(t))
}

/// Cell voltage times the number of cells.
fn battvolt(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    match scan_float(value) {
        Some(s) => Ok(format!("{:.2}", qx.scratch.mg_numcells as f64 * s)),
        None => Err(dbg(qx, 2, format!("unparsable ss.ss {value}"))),
    }
}

fn ups_power(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    match scan_int(value) {
        Some((q, _)) => Ok(format!(
            "{:.0}",
            q as f64 / 100.0 * qx.scratch.mg_power as f64 + 0.5
        )),
        None => Err(dbg(qx, 2, format!("unparsable qqq {value}"))),
    }
}

/// `fraction` of the nominal power divided by the output voltage. 2.8.0 divides by whatever
/// `output.voltage` holds (and crashes without it); a missing or zero voltage is refused here.
fn current_fraction(qx: &mut Qx, fraction: f64) -> Result<String, Refused> {
    let volts = qx
        .getinfo("output.voltage")
        .map(cnum::strtod)
        .unwrap_or(0.0);
    if volts <= 0.0 {
        return Err(dbg(qx, 2, "output current: no output voltage".into()));
    }
    Ok(format!(
        "{:.2}",
        fraction * qx.scratch.mg_power as f64 / volts + 0.005
    ))
}

fn output_current(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    match scan_int(value) {
        Some((q, _)) => current_fraction(qx, q as f64 / 100.0),
        None => Err(dbg(qx, 2, format!("unparsable qqq {value}"))),
    }
}

fn output_current_nominal(qx: &mut Qx, _idx: usize, _value: &str) -> Result<String, Refused> {
    current_fraction(qx, 1.0)
}

/// Status bits of `Q3` by position: `1` = set. Returns a status token (`!` = clear), an alarm
/// text (empty = none), the UPS type or the test result.
fn status(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let from = qx.item(idx).from;
    let mut neg = match value.as_bytes().first() {
        Some(b'0') => true,
        Some(b'1') => false,
        _ => {
            let c = value.chars().next().unwrap_or(' ');
            return Err(dbg(qx, 2, format!("unknown flag value {c}")));
        }
    };
    let text = match from {
        53 => {
            neg = !neg;
            "OL"
        }
        54 => "LB",
        55 => "BYPASS",
        58 => "CAL",
        59 => "FSD",
        65 => "RB",
        56 | 57 | 63 | 66 | 67 => {
            let t = match from {
                56 => {
                    if neg {
                        ""
                    } else {
                        "UPS Failed"
                    }
                }
                57 => {
                    if neg {
                        "online"
                    } else {
                        "offline"
                    }
                }
                63 => {
                    if neg {
                        ""
                    } else {
                        "problems in parallel operation mode"
                    }
                }
                66 => {
                    if neg {
                        ""
                    } else {
                        "no battery connected"
                    }
                }
                _ => match value.get(..3) {
                    Some("000") => "no test in progress",
                    Some("001") => "in progress",
                    Some("010") => "OK",
                    Some("011") => "failed",
                    Some("100") => "not possible",
                    Some("101") => "aborted",
                    Some("110") => "autonomy time calibration in progress",
                    Some("111") => "unknown",
                    _ => return Err(dbg(qx, 2, format!("unknown test result {value}"))),
                },
            };
            return Ok(t.to_string());
        }
        _ => return Err(dbg(qx, 2, format!("unknown flag position {from}"))),
    };
    Ok(format!("{}{text}", if neg { "!" } else { "" }))
}

fn beeper_status(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    match value.as_bytes().first() {
        Some(b'0') => Ok("disabled".into()),
        Some(b'1') => Ok("enabled".into()),
        _ => Err(dbg(qx, 2, format!("unknown beeper status {value}"))),
    }
}

/// `MSO`: the selectable output voltages become the enum of `output.voltage.nominal`.
fn output_voltages(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    let words: Vec<String> = value
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    for (n, w) in words.iter().enumerate() {
        qx.logm(Level::Debug(4), format!("output voltage #{}: {w}", n + 1));
    }
    if let Some(i) = qx.find("output.voltage.nominal", qxf::ENUM, qxf::SETVAR) {
        qx.scratch.rw_dynamic.retain(|(j, _)| *j != i);
        qx.scratch.rw_dynamic.push((i, words));
    }
    Ok(value.to_string())
}

/// A fault record `c vvvv TTTT:hh:mm:ss` in words.
fn fault_record(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    let parsed = (|| {
        let mut chars = value.chars();
        let c = chars.next()?;
        let rest = chars.as_str();
        let t = rest.trim_start();
        let end = t.find(char::is_whitespace).unwrap_or(t.len());
        let f = scan_float(&t[..end])?;
        Some((c, f, thms_seconds(&t[end..])?))
    })();
    let Some((c, f, secs)) = parsed else {
        return Err(dbg(qx, 1, format!("unparsable fault record {value}")));
    };
    let what = match c {
        '0' => "none".to_string(),
        '1' => format!("bus fault ({f:.0}V)"),
        '2' => format!("inverter fault ({f:.0}V)"),
        '3' => format!("overheat fault ({f:.0}C)"),
        '4' => format!("battery overvoltage fault ({f:.2}V)"),
        '5' => format!("battery mode overload fault ({f:.0}%)"),
        '6' => format!("bypass mode overload fault ({f:.0}%)"),
        '7' => format!("inverter mode outpt short-circuit fault ({f:.0}V)"),
        '8' => "fan lock fault".to_string(),
        '9' => format!("battery fault ({f:.0}V)"),
        'A' => "charger fault".to_string(),
        'B' => "EPO activated".to_string(),
        'C' => "parallel error".to_string(),
        'D' => "MCU communication error".to_string(),
        'E' | 'F' => return Err(dbg(qx, 1, format!("reserved fault id {c}"))),
        _ => return Err(dbg(qx, 1, format!("unknown fault id {c}"))),
    };
    Ok(format!("{secs}: {what}"))
}

/// Replace the `,XX\r` at the end of a command with the slave address.
fn add_slaveaddr(qx: &Qx, _idx: usize, command: &[u8]) -> Result<Vec<u8>, Refused> {
    let Some(head) = command.strip_suffix(b",XX\r") else {
        return Err(Refused);
    };
    let mut out = head.to_vec();
    out.push(b',');
    out.extend_from_slice(&qx.scratch.mg_slaveaddr);
    out.push(b'\r');
    Ok(out)
}

/// A delay variable in seconds, 0..=`max`.
fn delay(qx: &mut Qx, var: &str, max: i64) -> Result<i64, Refused> {
    let raw = qx.getinfo(var).unwrap_or("").to_string();
    match raw.parse::<i64>() {
        Ok(d) if (0..=max).contains(&d) => Ok(d),
        _ => Err(dbg(qx, 2, format!("shutdown: illegal {var} {raw}"))),
    }
}

/// `S<n>[R<mmmm>]`: off delay as `.n` (tenths of a minute, under 60 s) or `nn` minutes.
fn shutdown_command(qx: &mut Qx, stayoff: bool) -> Result<String, Refused> {
    let off = delay(qx, "ups.delay.shutdown", 99 * 60)?;
    let offstr = if off < 60 {
        format!(".{}", off / 6)
    } else {
        format!("{:02}", off / 60)
    };
    if stayoff {
        return Ok(format!("S{offstr}\r"));
    }
    let on = delay(qx, "ups.delay.start", 9999 * 60)?;
    // Deliberate fix: the restart delay is in minutes on the wire (2.8.0 sent the seconds).
    Ok(format!("S{offstr}R{:04}\r", on / 60))
}

fn shutdown_return(qx: &mut Qx, _idx: usize, _value: &str) -> Result<String, Refused> {
    shutdown_command(qx, false)
}

fn shutdown_stayoff(qx: &mut Qx, _idx: usize, _value: &str) -> Result<String, Refused> {
    shutdown_command(qx, true)
}

/// `test.battery.start <seconds>`: 10 = `T` (the 10 s test), 60..5940 = `T<minutes>`.
fn test_battery(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    if value.is_empty() {
        return Err(dbg(qx, 2, "battery test: no duration".into()));
    }
    match value.parse::<i64>() {
        Ok(10) => Ok("T\r".into()),
        Ok(d) if (60..=99 * 60).contains(&d) => Ok(format!("T{:02}\r", d / 60)),
        _ => Err(dbg(
            qx,
            2,
            format!("battery test: illegal duration {value}"),
        )),
    }
}

/// Format a SET command from `value` by the type in the item's `dfl` (d, f, s, thms).
fn setvar(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let it = qx.item(idx);
    let fmt = it.command.unwrap_or("");
    let dfl = it.dfl.unwrap_or("");
    let ill = |qx: &mut Qx| dbg(qx, 2, format!("setvar: illegal {dfl} value {value}"));
    if value.is_empty() {
        return Err(dbg(qx, 2, "setvar: no value".into()));
    }
    match dfl {
        "d" => match value.parse::<i64>() {
            Ok(i) => Ok(cnum::format_num(fmt, i as f64)),
            Err(_) => Err(ill(qx)),
        },
        "f" => match value.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(cnum::format_num(fmt, f)),
            _ => Err(ill(qx)),
        },
        "s" if value.len() < 80 => Ok(cnum::format_str(fmt, value)),
        "thms" => {
            // TTTT:hh:mm:ss, or seconds (2.8.0 read the colon form from the wrong buffer).
            let v = match scan_ints(value, ':', 4) {
                Some(v) => {
                    let ok = (0..=9999).contains(&v[0])
                        && (0..=23).contains(&v[1])
                        && (0..=59).contains(&v[2])
                        && (0..=59).contains(&v[3]);
                    if !ok {
                        return Err(ill(qx));
                    }
                    v
                }
                None => {
                    let Ok(l) = value.parse::<i64>() else {
                        return Err(ill(qx));
                    };
                    if !(0..=9999 * 86400 + 86399).contains(&l) {
                        return Err(ill(qx));
                    }
                    vec![l / 86400, l / 3600 % 24, l / 60 % 60, l % 60]
                }
            };
            let s = format!("{:04}:{:02}:{:02}:{:02}", v[0], v[1], v[2], v[3]);
            Ok(cnum::format_str(fmt, &s))
        }
        _ => Err(ill(qx)),
    }
}

/// `ups.id` SET: remember the new address; it is used once the `SS` command (which still needs
/// the old one) has been answered.
fn set_slaveaddr(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    match value.parse::<i64>() {
        Ok(a) if (0..=99).contains(&a) => {
            qx.scratch.mg_next_slaveaddr = a;
            qx.logm(Level::Debug(3), format!("next slaveaddr {a}"));
            setvar(qx, idx, value)
        }
        _ => Err(dbg(qx, 2, format!("set_slaveaddr: illegal value {value}"))),
    }
}

/// After the `SS` command: switch to the new slave address.
fn new_slaveaddr(qx: &mut Qx, _idx: usize, answer: &[u8]) -> Result<Vec<u8>, Refused> {
    let a = qx.scratch.mg_next_slaveaddr;
    if !(0..=99).contains(&a) {
        return Err(dbg(qx, 2, format!("new_slaveaddr: illegal value {a}")));
    }
    qx.scratch.mg_slaveaddr = [b'0' + (a / 10) as u8, b'0' + (a % 10) as u8];
    qx.logm(Level::Debug(3), format!("new slaveaddr {a:02}"));
    Ok(answer.to_vec())
}

/// `slave_address` from ups.conf must be 0..99 (checked before any I/O).
fn check_slave_option(qx: &mut Qx) -> bool {
    let Some(sa) = qx.options().getval("slave_address").map(str::to_string) else {
        return true;
    };
    if sa.is_empty() {
        qx.logm(Level::Debug(2), "claim: empty slave_address");
        return false;
    }
    if !sa.parse::<i64>().is_ok_and(|a| (0..=99).contains(&a)) {
        qx.logm(
            Level::Debug(2),
            format!("claim: illegal slave_address {sa}"),
        );
        return false;
    }
    true
}

/// Whether `command` starts with the command name `name` (its leading capitals).
fn command_is(command: &str, name: &str) -> bool {
    command
        .strip_prefix(name)
        .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// End of the claim: the slave address matches, unknown commands of the series are skipped.
fn finish_claim(qx: &mut Qx) -> bool {
    if let Some(want) = qx.options().getval("slave_address").map(cnum::strtol) {
        let have = qx.scratch.mg_slaveaddr;
        if have.iter().any(|c| !c.is_ascii_digit())
            || want != cnum::strtol(&String::from_utf8_lossy(&have))
        {
            let have = String::from_utf8_lossy(&have).into_owned();
            qx.logm(
                Level::Debug(2),
                format!("claim: slave address mismatch: want {want:02}, have {have}"),
            );
            return false;
        }
    }
    let commands = match qx.scratch.mg_series {
        Some(b'A') => COMMANDS_A,
        Some(b'E') => COMMANDS_E,
        _ => return false,
    };
    for (i, it) in qx.protocol().table.iter().enumerate() {
        let Some(c) = it.command.filter(|c| !c.is_empty()) else {
            continue;
        };
        let known = commands.iter().any(|n| command_is(c, n));
        let name: String = c
            .chars()
            .take_while(|c| c.is_ascii_uppercase())
            .take(9)
            .collect();
        qx.logm(
            Level::Debug(3),
            format!(
                "command {name} {}implemented",
                if known { "" } else { "NOT " }
            ),
        );
        if !known {
            qx.flags[i] |= qxf::SKIP;
        }
    }
    true
}

/// The masterguard protocol.
pub static PROTOCOL: Protocol = Protocol {
    id: ProtocolId::Masterguard,
    version: "Masterguard 0.02",
    table: TABLE,
    claim: &[
        ClaimStep::Check(check_slave_option),
        ClaimStep::Preprocess("experimental.series", 0, qxf::SETVAR),
        ClaimStep::Preprocess("device.model", 0, qxf::SETVAR),
        ClaimStep::Preprocess("ups.power.nominal", 0, qxf::SETVAR),
        ClaimStep::Preprocess("ups.id", 0, qxf::SETVAR),
        ClaimStep::Preprocess("experimental.output_voltages", 0, qxf::SETVAR),
        ClaimStep::Check(finish_claim),
    ],
    initups: |_| {},
    initinfo: None,
    accepted: None,
    rejected: None,
};
