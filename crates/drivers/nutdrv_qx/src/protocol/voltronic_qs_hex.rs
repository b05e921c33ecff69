//! `voltronic-qs-hex`: `M` answers `P` or `T` (`PM-P`/`PM-T`); `QS` answers binary fields
//! (with `(` escapes for CR, XON, XOFF, LF and space) that are turned into hex text first:
//! `#6C01 35 6C01 35 03 519A 1312D0 E6 1E 00001001[ 00000010]`; 'T' units add ratings bits and
//! the quick test. Rejected commands answer `N\r`.

use super::blazer_common::{self as bc, DEFAULT_OFFDELAY, DEFAULT_ONDELAY};
use super::{ClaimStep, Protocol, ProtocolId};
use crate::cnum;
use crate::engine::{Level, Qx};
use crate::item::{Item, Refused, RwValue, ValueFn, qxf};

const R_ONDELAY: &[RwValue] = &[RwValue::new("60"), RwValue::new("599940")];
const R_OFFDELAY: &[RwValue] = &[RwValue::new("12"), RwValue::new("540")];

const fn qs(
    var: &'static str,
    len: usize,
    from: usize,
    to: usize,
    dfl: Option<&'static str>,
    flags: u32,
    pre: ValueFn,
) -> Item {
    Item {
        var,
        command: Some("QS\r"),
        answer_len: len,
        leading: Some(b'#'),
        from,
        to,
        dfl,
        flags,
        pre_answer: Some(qs_answer),
        pre: Some(pre),
        ..Item::BLANK
    }
}

static TABLE: &[Item] = &[
    // > M\r  < P\r
    Item::query(
        "ups.firmware.aux",
        "M\r",
        2,
        None,
        0,
        0,
        Some("PM-%s"),
        qxf::STATIC,
        Some(protocol),
    ),
    qs("input.voltage", 47, 1, 7, Some("%.1f"), 0, in_out_voltage),
    qs("output.voltage", 47, 9, 15, Some("%.1f"), 0, in_out_voltage),
    qs("ups.load", 47, 17, 18, Some("%d"), 0, load),
    qs("output.frequency", 47, 20, 30, Some("%.1f"), 0, frequency),
    qs(
        "battery.voltage",
        47,
        32,
        36,
        Some("%.2f"),
        0,
        battery_voltage,
    ),
    qs(
        "ups.status",
        47,
        38,
        38,
        None,
        qxf::QUICK_POLL,
        bc::status_bits,
    ),
    qs(
        "ups.status",
        47,
        39,
        39,
        None,
        qxf::QUICK_POLL,
        bc::status_bits,
    ),
    qs(
        "ups.status",
        47,
        40,
        40,
        None,
        qxf::QUICK_POLL,
        bc::status_bits,
    ),
    qs("ups.alarm", 47, 41, 41, None, 0, bc::status_bits),
    qs(
        "ups.type",
        47,
        42,
        42,
        Some("%s"),
        qxf::STATIC,
        bc::status_bits,
    ),
    qs(
        "ups.status",
        47,
        43,
        43,
        None,
        qxf::QUICK_POLL,
        bc::status_bits,
    ),
    qs(
        "ups.status",
        47,
        44,
        44,
        None,
        qxf::QUICK_POLL,
        bc::status_bits,
    ),
    qs(
        "ups.beeper.status",
        47,
        45,
        45,
        Some("%s"),
        0,
        bc::status_bits,
    ),
    qs(
        "output.frequency.nominal",
        56,
        47,
        47,
        Some("%.1f"),
        qxf::SKIP,
        ratings_bits,
    ),
    qs(
        "battery.voltage.nominal",
        56,
        48,
        49,
        Some("%.1f"),
        qxf::SKIP,
        ratings_bits,
    ),
    qs(
        "output.voltage.nominal",
        56,
        52,
        54,
        Some("%.1f"),
        qxf::SKIP,
        ratings_bits,
    ),
    Item::cmd("beeper.toggle", "Q\r", None),
    Item::cmd("load.off", "S00R0000\r", None),
    Item::cmd("load.on", "C\r", None),
    Item::cmd("shutdown.return", "S%s\r", Some(bc::process_command)),
    Item::cmd("shutdown.stayoff", "S%sR0000\r", Some(bc::process_command)),
    Item::cmd("shutdown.stop", "C\r", None),
    Item {
        flags: qxf::CMD | qxf::SKIP,
        ..Item::cmd("test.battery.start.quick", "T\r", None)
    },
    Item {
        var: "ups.delay.start",
        st_flags: crate::item::stf::RW,
        rw: R_ONDELAY,
        dfl: Some(DEFAULT_ONDELAY),
        flags: qxf::ABSENT | qxf::SETVAR | qxf::RANGE,
        pre: Some(bc::process_setvar),
        ..Item::BLANK
    },
    Item {
        var: "ups.delay.shutdown",
        st_flags: crate::item::stf::RW,
        rw: R_OFFDELAY,
        dfl: Some(DEFAULT_OFFDELAY),
        flags: qxf::ABSENT | qxf::SETVAR | qxf::RANGE,
        pre: Some(bc::process_setvar),
        ..Item::BLANK
    },
];

/// Binary digits of a byte written as a decimal number (0x09 -> 1001).
fn char_to_binary(v: u8) -> u32 {
    let (mut rem, mut ret, mut power) = (v, 0u32, 1u32);
    while rem != 0 {
        if rem & 1 != 0 {
            ret += power;
        }
        power *= 10;
        rem >>= 1;
    }
    ret
}

/// Turn the binary `QS` answer into hex text with fixed offsets.
pub fn qs_answer(qx: &mut Qx, idx: usize, raw: &[u8]) -> Result<Vec<u8>, Refused> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let var = qx.item(idx).var;
    if raw[0] != b'#' {
        qx.logm(
            Level::Debug(4),
            format!("wrong leading character [{}: 0x{:x}]", var, raw[0]),
        );
        return Err(Refused);
    }
    let mut out = String::from("#");
    let mut token = 1;
    let byte = |out: &mut String, token: i32, b: u8| {
        if token != 10 && token != 11 {
            out.push_str(&format!("{b:02x}"));
        } else {
            out.push_str(&format!("{:08}", char_to_binary(b)));
        }
    };
    let mut i = 1;
    while i < raw.len() {
        let b = raw[i];
        if b == 0x20 {
            out.push(' ');
            token += 1;
            i += 1;
            continue;
        }
        if b == 0x28 {
            let esc = match raw.get(i + 1).copied().unwrap_or(0) {
                0x00 => Some(0x0D),
                0x01 => Some(0x11),
                0x02 => Some(0x13),
                0x03 => Some(0x0A),
                0x04 => Some(0x20),
                _ => None,
            };
            match esc {
                Some(e) => {
                    out.push_str(&format!("{e:02x}"));
                    i += 2;
                }
                None => {
                    byte(&mut out, token, b);
                    i += 1;
                }
            }
            continue;
        }
        if b == 0x0D {
            break;
        }
        byte(&mut out, token, b);
        i += 1;
    }
    if !(10..=11).contains(&token)
        || (token == 10 && out.len() != 46)
        || (token == 11 && out.len() != 55)
    {
        qx.logm(Level::Debug(2), format!("noncompliant reply: {out}"));
        return Err(Refused);
    }
    out.push('\r');
    Ok(out.into_bytes())
}

fn protocol(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    if !cnum::eq_ic(value, "P") && !cnum::eq_ic(value, "T") {
        qx.logm(
            Level::Debug(2),
            format!("voltronic_qs_hex_protocol: invalid protocol [{value}]"),
        );
        return Err(Refused);
    }
    let out = cnum::format_str(qx.item(idx).dfl.unwrap_or("%s"), value);
    if cnum::eq_ic(value, "T") {
        for (name, flag) in [
            ("test.battery.start.quick", qxf::CMD),
            ("output.frequency.nominal", 0),
            ("battery.voltage.nominal", 0),
            ("output.voltage.nominal", 0),
        ] {
            let i = qx.find(name, flag, 0).ok_or(Refused)?;
            qx.flags[i] &= !qxf::SKIP;
        }
    }
    Ok(out)
}

const HEX: &str = "0123456789ABCDEFabcdef";

fn non_numerical(qx: &mut Qx, idx: usize, value: &str) -> Refused {
    let var = qx.item(idx).var;
    qx.logm(
        Level::Debug(2),
        format!("non numerical value [{var}: {value}]"),
    );
    Refused
}

/// `strtol(s, &end, 16)` and the rest of the string.
fn hex_prefix(s: &str) -> (i64, &str) {
    let t = s.trim_start();
    let n = t.bytes().take_while(u8::is_ascii_hexdigit).count();
    let v = i64::from_str_radix(&t[..n.min(15)], 16).unwrap_or(0);
    (v, &t[n..])
}

fn in_out_voltage(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    if !cnum::only_chars(value, "0123456789ABCDEFabcdef ") {
        return Err(non_numerical(qx, idx, value));
    }
    let (a, rest) = hex_prefix(value);
    let (b, _) = hex_prefix(rest);
    let val = a.saturating_mul(b) / 51;
    Ok(cnum::format_num(
        qx.item(idx).dfl.unwrap_or("%.1f"),
        val as f64 / 256.0,
    ))
}

fn load(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    if !cnum::only_chars(value, HEX) {
        return Err(non_numerical(qx, idx, value));
    }
    Ok(hex_prefix(value).0.to_string())
}

fn frequency(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    if !cnum::only_chars(value, "0123456789ABCDEFabcdef ") {
        return Err(non_numerical(qx, idx, value));
    }
    let (a, rest) = hex_prefix(value);
    let (b, _) = hex_prefix(rest);
    let mut ret = b as f64 / a as f64;
    if ret > 99.9 {
        ret = 99.9;
    }
    // C prints inf/nan as "inf"/"nan" (division by zero); so do we, in its spelling.
    let s = if ret.is_nan() {
        if ret.is_sign_negative() {
            "-nan".to_string()
        } else {
            "nan".to_string()
        }
    } else {
        cnum::format_num(qx.item(idx).dfl.unwrap_or("%.1f"), ret)
    };
    Ok(s)
}

fn battery_voltage(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    if !cnum::only_chars(value, "0123456789ABCDEFabcdef ") {
        return Err(non_numerical(qx, idx, value));
    }
    let (a, rest) = hex_prefix(value);
    let (b, _) = hex_prefix(rest);
    Ok(cnum::format_num(
        qx.item(idx).dfl.unwrap_or("%.2f"),
        a.saturating_mul(b) as f64 / 510.0,
    ))
}

fn ratings_bits(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let it = qx.item(idx);
    if !cnum::only_chars(value, "01") {
        qx.logm(
            Level::Debug(3),
            format!("unexpected value {}@{}->{}", it.var, it.from, value),
        );
        return Err(Refused);
    }
    let val = cnum::strtol(value);
    let ret = match it.from {
        47 => {
            if val == 0 {
                50.0
            } else {
                60.0
            }
        }
        48 => match val {
            0 => 12.0,
            1 => 24.0,
            10 => 36.0,
            _ => 48.0,
        },
        52 => match val {
            0 => 110.0,
            1 => 120.0,
            10 => 220.0,
            11 => 230.0,
            100 => 240.0,
            _ => return Err(Refused),
        },
        _ => return Err(Refused),
    };
    Ok(cnum::format_num(it.dfl.unwrap_or("%.1f"), ret))
}

/// The voltronic-qs-hex protocol.
pub static PROTOCOL: Protocol = Protocol {
    id: ProtocolId::VoltronicQsHex,
    version: "Voltronic-QS-Hex 0.10",
    table: TABLE,
    claim: &[
        ClaimStep::Query("ups.firmware.aux", 0, 0),
        ClaimStep::Query("input.voltage", 0, 0),
    ],
    initups: bc::initups_light,
    initinfo: None,
    accepted: None,
    rejected: Some("N\r"),
};
