//! `ablerex`: megatec with Ablerex extras: battery voltage/charge from the per-cell Q1 field
//! and the nominal voltage, `Q5` (binary: output frequency, current, error code, battery
//! voltages), `At` (runtime), `TR` (test result); its bypass/boost/buck and "battery
//! abnormal" bits are set straight into ups.status (before the other tokens), and `ups.alarm`
//! holds the Q5 error code until the next full update, as NUT 2.8.0 does. `load.off` is `S.2`.

use super::blazer_common::{self as bc, DEFAULT_OFFDELAY, DEFAULT_ONDELAY, R_OFFDELAY, R_ONDELAY};
use super::{CLAIM_VENDOR, Protocol, ProtocolId};
use crate::cnum;
use crate::engine::{Level, Qx};
use crate::item::{Item, Refused, ValueFn, qxf};

const fn q1(
    var: &'static str,
    from: usize,
    to: usize,
    dfl: Option<&'static str>,
    flags: u32,
    pre: Option<ValueFn>,
) -> Item {
    Item::query(var, "Q1\r", 47, Some(b'('), from, to, dfl, flags, pre)
}

const fn f(
    var: &'static str,
    from: usize,
    to: usize,
    dfl: &'static str,
    pre: Option<ValueFn>,
) -> Item {
    Item::query(
        var,
        "F\r",
        22,
        Some(b'#'),
        from,
        to,
        Some(dfl),
        qxf::QUICK_POLL,
        pre,
    )
}

static TABLE: &[Item] = crate::qx_table![
    q1("input.voltage", 1, 5, Some("%.1f"), 0, None),
    q1("input.voltage.fault", 7, 11, Some("%.1f"), 0, None),
    q1("output.voltage", 13, 17, Some("%.1f"), 0, None),
    q1("ups.load", 19, 21, Some("%.0f"), 0, None),
    q1("input.frequency", 23, 26, Some("%.1f"), 0, None),
    q1("battery.voltage", 28, 31, Some("%.2f"), 0, Some(battery)),
    q1("battery.charge", 28, 31, Some("%.2f"), 0, Some(battery_charge)),
    q1("ups.temperature", 33, 36, Some("%.1f"), 0, None),
    @bits_a("Q1\r"),
    q1("ups.status", 40, 42, None, qxf::QUICK_POLL, Some(status_bits)),
    q1("ups.status", 41, 41, None, qxf::QUICK_POLL, Some(status_bits)),
    @bits_b("Q1\r"),
    @beeper("Q1\r"),
    // > F\r  < #220.0 000 024.0 50.0\r (polled quickly too, as in NUT)
    f("output.voltage.nominal", 1, 5, "%.1f", None),
    f("output.current.nominal", 7, 9, "%.1f", None),
    f("battery.voltage.nominal", 11, 15, "%.1f", None),
    f("output.frequency.nominal", 17, 20, "%.1f", None),
    f("battery.voltage.low", 1, 2, "%.2f", Some(battery_limits)),
    f("battery.voltage.high", 2, 3, "%.2f", Some(battery_limits)),
    Item::query("output.frequency", "Q5\r", 22, Some(b'('), 1, 18, Some("%.1f"), 0, Some(q5)),
    Item::query("battery.runtime", "At\r", 0, Some(b'('), 0, 0, Some("%d"), 0, Some(at)),
    Item::query("ups.test.result", "TR\r", 0, Some(b'#'), 0, 0, Some("%s"), 0, Some(tr)),
    @vendor("I\r"),
    Item::cmd("beeper.toggle", "Q\r", None),
    Item::cmd("load.off", "S.2\r", None),
    Item::cmd("load.on", "C\r", None),
    Item::cmd("shutdown.return", "S%s\r", Some(bc::process_command)),
    Item::cmd("shutdown.stayoff", "S%sR0000\r", Some(bc::process_command)),
    Item::cmd("shutdown.stop", "C\r", None),
    Item::cmd("test.battery.start", "T%02d\r", Some(bc::process_command)),
    Item::cmd("test.battery.start.deep", "TL\r", None),
    Item::cmd("test.battery.start.quick", "T\r", None),
    Item::cmd("test.battery.stop", "CT\r", None),
    @delays(R_ONDELAY, R_OFFDELAY, DEFAULT_ONDELAY, DEFAULT_OFFDELAY),
];

fn ans(qx: &Qx, i: usize) -> u8 {
    qx.answer.get(i).copied().unwrap_or(0)
}

fn word(qx: &Qx, i: usize) -> i64 {
    i64::from(ans(qx, i)) * 256 + i64::from(ans(qx, i + 1))
}

fn nominal(qx: &Qx) -> Option<f64> {
    qx.getinfo("battery.voltage.nominal").map(cnum::strtod)
}

/// Battery voltage: from Q5's value if known, else per-cell values (< 3 V) scaled by the
/// nominal voltage.
fn battery(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    let v = cnum::strtod(value);
    let Some(nom) = nominal(qx) else {
        return Ok(format!("{v:.2}"));
    };
    let act = if qx.scratch.ablerex_q5_vb > 0 {
        qx.scratch.ablerex_q5_vb as f64 * nom / 1200.0
    } else if v > 3.0 {
        v
    } else {
        v * 6.0 * nom / 12.0
    };
    Ok(format!("{act:.2}"))
}

/// Charge from a per-cell (< 3 V) or per-12 V-block voltage table.
fn charge_of(v: f64) -> i64 {
    const ON_P: [f64; 56] = [
        2.22, 2.21, 2.20, 2.19, 2.18, 2.17, 2.16, 2.15, 2.14, 2.13, 2.12, 2.11, 2.10, 2.09, 2.08,
        2.07, 2.06, 2.05, 2.04, 2.03, 2.02, 2.01, 2.00, 1.99, 1.98, 1.97, 1.96, 1.95, 1.94, 1.93,
        1.92, 1.91, 1.90, 1.89, 1.88, 1.87, 1.86, 1.85, 1.84, 1.83, 1.82, 1.81, 1.80, 1.79, 1.78,
        1.77, 1.76, 1.75, 1.74, 1.73, 1.72, 1.71, 1.70, 1.69, 1.68, 1.67,
    ];
    const ON_C: [i64; 57] = [
        100, 90, 88, 87, 85, 83, 82, 80, 78, 77, 75, 73, 72, 70, 68, 65, 65, 62, 62, 58, 58, 55,
        55, 53, 52, 50, 48, 47, 45, 43, 42, 40, 38, 37, 35, 33, 32, 30, 28, 27, 25, 23, 22, 20, 18,
        17, 15, 13, 12, 10, 8, 7, 5, 3, 2, 0, -1,
    ];
    const OFF_P: [f64; 35] = [
        13.5, 13.3, 13.2, 13.1, 13.0, 12.9, 12.8, 12.7, 12.6, 12.5, 12.4, 12.3, 12.2, 12.1, 12.0,
        11.9, 11.8, 11.7, 11.6, 11.5, 11.4, 11.3, 11.2, 11.1, 11.0, 10.9, 10.8, 10.7, 10.6, 10.5,
        10.4, 10.3, 10.2, 10.1, 10.0,
    ];
    const OFF_C: [i64; 36] = [
        100, 90, 88, 86, 83, 80, 77, 74, 72, 69, 66, 63, 61, 58, 55, 52, 49, 47, 44, 41, 38, 36,
        33, 30, 27, 24, 22, 19, 16, 13, 11, 8, 5, 2, 0, -1,
    ];
    let (p, c): (&[f64], &[i64]) = if v < 3.0 {
        (&ON_P, &ON_C)
    } else {
        (&OFF_P, &OFF_C)
    };
    for (i, &pct) in c.iter().enumerate() {
        if pct <= 0 {
            break;
        }
        if p.get(i).is_some_and(|&th| v >= th) {
            return pct;
        }
    }
    0
}

fn battery_charge(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    let mut v = cnum::strtod(value);
    let Some(nom) = nominal(qx) else {
        return Ok("100".into());
    };
    if v > 3.0 {
        v /= nom / 12.0;
    }
    Ok(charge_of(v).to_string())
}

/// battery.voltage.low/high from the nominal voltage (and Q5's cut-off voltage, when read).
fn battery_limits(qx: &mut Qx, idx: usize, _value: &str) -> Result<String, Refused> {
    let nom = nominal(qx).unwrap_or(0.0);
    let low = if qx.scratch.ablerex_q5_vbc > 0 {
        qx.scratch.ablerex_q5_vbc as f64 * nom / 1200.0
    } else {
        960.0 * nom / 1200.0
    };
    let high = 1365.0 * nom / 1200.0;
    match qx.item(idx).from {
        1 => Ok(format!("{low:.2}")),
        2 => Ok(format!("{high:.2}")),
        _ => Err(Refused),
    }
}

/// Bypass/boost/buck (bits 40-42: the type bit decides how) and "battery abnormal" (41),
/// set directly into ups.status as NUT's ablerex does.
fn status_bits(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let v = value.as_bytes();
    match qx.item(idx).from {
        40 => {
            if v.first() == Some(&b'1') {
                let vi = cnum::strtod(qx.getinfo("input.voltage").unwrap_or(""));
                let vo = cnum::strtod(qx.getinfo("output.voltage").unwrap_or(""));
                if v.get(2) == Some(&b'1') {
                    let t = if vo < 0.5 * vi {
                        qx.logm(
                            Level::Debug(2),
                            "ablerex_process_status_bits: output voltage too low",
                        );
                        return Err(Refused);
                    } else if vo < 0.95 * vi {
                        "TRIM"
                    } else if vo < 1.05 * vi {
                        "BYPASS"
                    } else if vo < 1.5 * vi {
                        "BOOST"
                    } else {
                        qx.logm(
                            Level::Debug(2),
                            "ablerex_process_status_bits: output voltage too high",
                        );
                        return Err(Refused);
                    };
                    qx.raw_status.push(t);
                } else {
                    qx.raw_status.push("BYPASS");
                }
            }
        }
        41 => {
            if v.first() == Some(&b'1') {
                qx.raw_status.push("RB");
            }
            if cnum::strtod(qx.getinfo("output.voltage").unwrap_or("")) < 50.0 {
                qx.raw_status.push("OFF");
            }
        }
        _ => return Err(Refused),
    }
    Ok(String::new())
}

/// Q5 (binary): output frequency (bytes 1-2), battery voltage (7-8), cut-off voltage
/// (9-10), error code (13-14), output current (15-16), all big-endian tenths.
fn q5(qx: &mut Qx, _idx: usize, _value: &str) -> Result<String, Refused> {
    let fout = word(qx, 1);
    qx.scratch.ablerex_q5_vb = word(qx, 7);
    qx.scratch.ablerex_q5_vbc = word(qx, 9);
    let err = word(qx, 13);
    let cur = word(qx, 15);
    qx.ds
        .set("output.frequency", &format!("{:.1}", 0.1 * fout as f64));
    qx.ds.set("ups.alarm", &err.to_string());
    qx.ds
        .set("output.current", &format!("{:.1}", 0.1 * cur as f64));
    Ok(format!("{:.1}", fout as f64 * 0.1))
}

/// At: runtime from bytes 1-4 (NUT's odd weights kept: b1·2^24 + b2·2^16 + b3·2^8 + b4).
fn at(qx: &mut Qx, _idx: usize, _value: &str) -> Result<String, Refused> {
    let raw = (i64::from(ans(qx, 1)) * 65536 * 256
        + i64::from(ans(qx, 2)) * 65536
        + i64::from(ans(qx, 3)) * 256
        + i64::from(ans(qx, 4))) as i32;
    Ok(raw.to_string())
}

/// TR: the four characters after the leading one.
fn tr(qx: &mut Qx, _idx: usize, _value: &str) -> Result<String, Refused> {
    let b: Vec<u8> = (1..5).map(|i| ans(qx, i)).take_while(|&c| c != 0).collect();
    Ok(String::from_utf8_lossy(&b).into_owned())
}

/// The ablerex protocol.
pub static PROTOCOL: Protocol = Protocol {
    id: ProtocolId::Ablerex,
    version: "Ablerex 0.01",
    table: TABLE,
    claim: CLAIM_VENDOR,
    initups: bc::initups,
    initinfo: None,
    accepted: Some("ACK"),
    rejected: None,
};
