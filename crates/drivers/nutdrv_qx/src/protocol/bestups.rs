//! `bestups`: Best Power / Sola Australia units: Q1 status (no beeper bit; the bypass/boost/buck
//! bit is ignored when on battery, testing or shutting down, and inverted on Patriot Pro
//! models), `ID` ratings/model, `RT` runtime, `BP?`/`BPn` battery packs, `SS?`/`SSn` pin
//! shutdown mode, `M` voltage settings. Commands are answered by silence.

use super::blazer_common::{self as bc, DEFAULT_OFFDELAY, DEFAULT_ONDELAY};
use super::{ClaimStep, Protocol, ProtocolId};
use crate::cnum;
use crate::engine::{Level, Qx, sb};
use crate::item::{Item, Refused, RwValue, qxf, stf};

const R_ONDELAY: &[RwValue] = &[RwValue::new("60"), RwValue::new("599940")];
const R_OFFDELAY: &[RwValue] = &[RwValue::new("12"), RwValue::new("5940")];
const R_PACKS: &[RwValue] = &[RwValue::new("0"), RwValue::new("5")];
const R_PINS: &[RwValue] = &[RwValue::new("0"), RwValue::new("6")];

const fn id_row(
    var: &'static str,
    from: usize,
    to: usize,
    dfl: &'static str,
    flags: u32,
    pre: Option<crate::item::ValueFn>,
) -> Item {
    Item {
        var,
        command: Some("ID\r"),
        answer_len: 28,
        from,
        to,
        dfl: Some(dfl),
        flags,
        pre_answer: Some(id_answer),
        pre,
        ..Item::BLANK
    }
}

const fn m_row(var: &'static str) -> Item {
    Item::query(
        var,
        "M\r",
        2,
        None,
        0,
        0,
        Some("%d"),
        0,
        Some(voltage_settings),
    )
}

static TABLE: &[Item] = crate::qx_table![
    @values("Q1\r", 0),
    @bits_a("Q1\r"),
    @bits_b("Q1\r"),
    // Needs the values processed above: keep it after them.
    Item::query("ups.status", "Q1\r", 47, Some(b'('), 40, 40, None, qxf::QUICK_POLL, Some(bbb_status_bit)),
    // > ID\r  < FOR,750,120,120,20.0,27.6\r (normalised to 28 bytes by id_answer)
    id_row("device.mfr", 0, 2, "%s", qxf::STATIC, Some(manufacturer)),
    id_row("device.model", 0, 2, "%s", qxf::STATIC, Some(model)),
    id_row("ups.power.nominal", 4, 7, "%.0f", qxf::STATIC, None),
    id_row("input.voltage.nominal", 9, 11, "%.0f", qxf::STATIC, None),
    id_row("output.voltage.nominal", 13, 15, "%.0f", qxf::STATIC, None),
    id_row("battery.voltage.low", 17, 20, "%.1f", qxf::SEMI_STATIC, None),
    id_row("battery.voltage.high", 22, 26, "%.1f", qxf::SEMI_STATIC, None),
    // > RT\r  < 025\r (minutes)
    Item::query("battery.runtime", "RT\r", 4, None, 0, 2, Some("%.0f"), qxf::SKIP, Some(batt_runtime)),
    // > BP?\r  < 02\r
    Item {
        var: "battery.packs",
        st_flags: stf::RW,
        rw: R_PACKS,
        command: Some("BP?\r"),
        answer_len: 3,
        from: 0,
        to: 1,
        dfl: Some("%d"),
        flags: qxf::SEMI_STATIC | qxf::RANGE | qxf::SKIP,
        pre: Some(batt_packs),
        ..Item::BLANK
    },
    Item {
        var: "battery.packs",
        rw: R_PACKS,
        command: Some("BP%.0f\r"),
        flags: qxf::SETVAR | qxf::RANGE | qxf::SKIP,
        pre: Some(process_setvar),
        ..Item::BLANK
    },
    // > SS?\r  < 0\r
    Item {
        var: "pins_shutdown_mode",
        st_flags: stf::RW,
        rw: R_PINS,
        command: Some("SS?\r"),
        answer_len: 2,
        dfl: Some("%.0f"),
        flags: qxf::SEMI_STATIC | qxf::RANGE | qxf::NONUT,
        pre: Some(get_pins_shutdown_mode),
        ..Item::BLANK
    },
    Item {
        var: "pins_shutdown_mode",
        rw: R_PINS,
        command: Some("SS%.0f\r"),
        flags: qxf::SETVAR | qxf::RANGE | qxf::NONUT | qxf::SKIP,
        pre: Some(process_setvar),
        ..Item::BLANK
    },
    // > M\r  < 0\r
    m_row("input.transfer.low"),
    m_row("input.transfer.boost.low"),
    m_row("input.transfer.boost.high"),
    m_row("input.voltage.nominal"),
    m_row("output.voltage.nominal"),
    m_row("input.transfer.trim.low"),
    m_row("input.transfer.trim.high"),
    m_row("input.transfer.high"),
    Item::cmd("shutdown.return", "S%s\r", Some(bc::process_command)),
    Item::cmd("shutdown.stayoff", "S%s\r", Some(bc::process_command)),
    Item::cmd("shutdown.stop", "C\r", None),
    Item::cmd("load.on", "C\r", None),
    Item::cmd("load.off", "S00R0000\r", None),
    Item::cmd("test.battery.start", "T%02d\r", Some(bc::process_command)),
    Item::cmd("test.battery.start.deep", "TL\r", None),
    Item::cmd("test.battery.start.quick", "T\r", None),
    Item::cmd("test.battery.stop", "CT\r", None),
    @delays(R_ONDELAY, R_OFFDELAY, DEFAULT_ONDELAY, DEFAULT_OFFDELAY),
];

/// Normalise the `ID` answer so fields sit at fixed offsets: power right-aligned in 4, full
/// charge voltage (with its CR) in 6: `FOR, 750,120,120,20.0, 27.6\r`.
fn id_answer(qx: &mut Qx, idx: usize, raw: &[u8]) -> Result<Vec<u8>, Refused> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    if raw.len() < 25 || raw.len() > 27 {
        let var = qx.item(idx).var;
        qx.logm(
            Level::Debug(4),
            format!(
                "bestups_preprocess_id_answer: wrong length [{}: {}]",
                var,
                raw.len()
            ),
        );
        return Err(Refused);
    }
    let text = String::from_utf8_lossy(cnum::c_str(raw)).into_owned();
    let mut out = String::new();
    let mut n = 0;
    for (i, tok) in text.split(',').filter(|t| !t.is_empty()).enumerate() {
        n = i + 1;
        match n {
            1 => out.push_str(tok),
            2 => out.push_str(&format!(",{tok:>4}")),
            6 => out.push_str(&format!(",{tok:>6}")),
            _ => out.push_str(&format!(",{tok}")),
        }
    }
    if n != 6 || out.len() != 28 {
        qx.logm(
            Level::Debug(2),
            format!("noncompliant reply: '{}'", out.trim_end_matches('\r')),
        );
        return Err(Refused);
    }
    Ok(out.into_bytes())
}

fn bbb_status_bit(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let mut v: Vec<u8> = value.as_bytes().to_vec();
    let st = qx.status_bits();
    if st & sb::OL == 0 || st & (sb::CAL | sb::FSD) != 0 {
        if v.first() == Some(&b'1') {
            v[0] = b'0';
        }
    } else if qx.scratch.inverted_bbb_bit {
        match v.first() {
            Some(b'1') => v[0] = b'0',
            Some(b'0') => v[0] = b'1',
            _ => {}
        }
    }
    bc::status_bits(qx, idx, &String::from_utf8_lossy(&v))
}

fn manufacturer(_qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    Ok(match value {
        "AX1" | "FOR" | "FTC" | "PR2" | "PRO" => "Best Power",
        "325" | "520" | "620" => "Sola Australia",
        _ => "Unknown",
    }
    .into())
}

fn unskip(qx: &mut Qx, name: &str, flag: u32, noflag: u32) -> Result<(), Refused> {
    let i = qx.find(name, flag, noflag).ok_or(Refused)?;
    qx.flags[i] &= !qxf::SKIP;
    Ok(())
}

fn model(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    let name = match value {
        "AX1" => "Axxium Rackmount".to_string(),
        "FOR" => "Fortress".to_string(),
        "FTC" => "Fortress Telecom".to_string(),
        "PR2" => {
            qx.scratch.inverted_bbb_bit = true;
            "Patriot Pro II".to_string()
        }
        "PRO" => {
            qx.scratch.inverted_bbb_bit = true;
            "Patriot Pro".to_string()
        }
        "320" | "325" | "520" | "525" | "620" => format!("Sola {value}"),
        _ => {
            qx.logm(
                Level::Info,
                format!("Unknown model detected - please report this ID: '{value}'"),
            );
            // NUT passes "Unknown (%s)" as the argument of the item's "%s" format, so the
            // published text is literally "Unknown (%s)".
            "Unknown (%s)".to_string()
        }
    };
    if value != "PRO" && value != "320" {
        unskip(qx, "battery.runtime", 0, 0)?;
    }
    if value == "AX1" || value == "620" {
        unskip(qx, "battery.packs", 0, qxf::SETVAR)?;
    }
    Ok(name)
}

fn batt_runtime(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    if !cnum::only_chars(value, "0123456789 .") {
        let var = qx.item(idx).var;
        qx.logm(
            Level::Debug(2),
            format!("non numerical value [{var}: {value}]"),
        );
        return Err(Refused);
    }
    Ok(format!("{:.0}", cnum::strtod(value) * 60.0))
}

fn batt_packs(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    if !cnum::only_chars(value, "0123456789 ") {
        let var = qx.item(idx).var;
        qx.logm(
            Level::Debug(2),
            format!("non numerical value [{var}: {value}]"),
        );
        return Err(Refused);
    }
    let n = cnum::strtol(value);
    unskip(qx, "battery.packs", qxf::SETVAR, 0)?;
    Ok(n.to_string())
}

fn get_pins_shutdown_mode(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    if !cnum::only_chars(value, "0123456789") {
        let var = qx.item(idx).var;
        qx.logm(
            Level::Debug(2),
            format!("non numerical value [{var}: {value}]"),
        );
        return Err(Refused);
    }
    let l = cnum::strtol(value);
    if l > i64::from(i32::MAX) {
        return Err(Refused);
    }
    qx.scratch.pins_shutdown_mode = Some(l);
    let var = qx.item(idx).var;
    if qx.opts.getval(var).is_none() {
        return Ok(l.to_string());
    }
    unskip(qx, var, qxf::SETVAR, 0)?;
    Ok(l.to_string())
}

fn process_setvar(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let it = qx.item(idx);
    if value.is_empty() {
        return Err(Refused);
    }
    let val = cnum::strtod(value);
    if cnum::eq_ic(it.var, "pins_shutdown_mode")
        && qx
            .scratch
            .pins_shutdown_mode
            .is_some_and(|m| m as f64 == val)
    {
        qx.logm(
            Level::Info,
            format!("{} is already set to {:.0}", it.var, val),
        );
        return Err(Refused);
    }
    Ok(cnum::format_num(
        it.command.unwrap_or(""),
        val.round_ties_even(),
    ))
}

/// Voltage settings by `M` index: (low, boost, nominal, buck, high); U models then E models.
const VOLTAGE_SETTINGS: [[i64; 5]; 20] = [
    [96, 109, 120, 130, 146],
    [96, 109, 120, 138, 156],
    [90, 104, 120, 130, 146],
    [90, 104, 120, 138, 156],
    [90, 104, 110, 120, 130],
    [90, 104, 110, 130, 146],
    [90, 96, 110, 120, 130],
    [90, 96, 110, 130, 146],
    [96, 109, 128, 146, 156],
    [90, 104, 128, 146, 156],
    [200, 222, 240, 250, 284],
    [200, 222, 240, 264, 290],
    [188, 210, 240, 250, 284],
    [188, 210, 240, 264, 290],
    [188, 210, 230, 244, 270],
    [188, 210, 230, 250, 284],
    [180, 200, 230, 244, 270],
    [180, 200, 230, 250, 284],
    [165, 188, 208, 222, 244],
    [165, 188, 208, 244, 270],
];

fn voltage_settings(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let var = qx.item(idx).var;
    if !cnum::only_chars(value, "0123456789") {
        qx.logm(
            Level::Debug(2),
            format!("non numerical value [{var}: {value}]"),
        );
        return Err(Refused);
    }
    let mut index = cnum::strtol(value);
    if !(0..=9).contains(&index) {
        qx.logm(
            Level::Debug(2),
            format!("value '{index}' out of range [0..9]"),
        );
        return Err(Refused);
    }
    let nominal = qx
        .getinfo("input.voltage.nominal")
        .or_else(|| qx.getinfo("output.voltage.nominal"))
        .map(cnum::strtol);
    let Some(nominal) = nominal else {
        qx.logm(Level::Debug(2), "unable to get nominal voltage");
        return Err(Refused);
    };
    if nominal > 160 {
        index += 10;
    }
    let row = VOLTAGE_SETTINGS[index as usize];
    let col = match var {
        "input.transfer.low" | "input.transfer.boost.low" => 0,
        "input.transfer.boost.high" => 1,
        "input.voltage.nominal" | "output.voltage.nominal" => 2,
        "input.transfer.trim.low" => 3,
        "input.transfer.trim.high" | "input.transfer.high" => 4,
        _ => return Err(Refused),
    };
    Ok(row[col].to_string())
}

/// The bestups protocol.
pub static PROTOCOL: Protocol = Protocol {
    id: ProtocolId::Bestups,
    version: "BestUPS 0.06",
    table: TABLE,
    claim: &[
        ClaimStep::Query("input.voltage", 0, 0),
        ClaimStep::Query("device.model", 0, 0),
    ],
    initups: bc::initups_light,
    initinfo: None,
    accepted: None,
    rejected: None,
};
