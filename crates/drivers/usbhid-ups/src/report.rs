//! Reading and writing field values in report buffers, with NUT 2.8.0's conversions.
//!
//! A report buffer starts with the report-id byte; field bits follow little-endian. Reading
//! ([`logical_value`]) masks the raw bits to the width the logical range needs (garbage in
//! higher bits is dropped, as some APC firmware sends), sign-extends when Logical Minimum is
//! negative and clamps to the logical range. [`physical_value`] then maps logical to physical
//! range (when a non-zero physical range is declared) and applies the unit exponent, corrected
//! for the Power Device class' SI units (volts and watts/VA are declared in CGS units, exponent
//! 7). Writing goes the other way ([`logical_for_set`], [`write_bits`]).

use crate::descriptor::Field;

fn hibit(mut x: u64) -> u32 {
    let mut bits = 0;
    while x > 0 {
        x >>= 1;
        bits += 1;
    }
    bits
}

/// The raw bits of a field, unsigned; bits beyond the buffer read as 0.
pub fn raw_bits(buf: &[u8], field: &Field) -> u64 {
    let mut value = 0u64;
    let first = usize::from(field.offset) + 8;
    for (weight, bit) in (first..first + usize::from(field.size)).enumerate() {
        let byte = buf.get(bit >> 3).copied().unwrap_or(0);
        if byte & (1 << (bit & 7)) != 0 && weight < 64 {
            value |= 1 << weight;
        }
    }
    value
}

/// The logical value of a field in a report buffer (NUT's `GetValue`).
pub fn logical_value(buf: &[u8], field: &Field) -> i64 {
    let raw = raw_bits(buf, field);
    let magnitude = |v: i64| -> u64 { if v >= 0 { v as u64 } else { (-(v + 1)) as u64 } };
    let mag = magnitude(field.logical_max).max(magnitude(field.logical_min));
    let sign_shift = hibit(mag).min(63);
    let signbit: u64 = 1 << sign_shift;
    let negative_range = field.logical_min < 0;
    let mask = (signbit - 1) | if negative_range { signbit } else { 0 };
    let mut value = (raw & mask) as i64;
    if negative_range && (raw & signbit) != 0 {
        value |= !(mask as i64);
    }
    if value < field.logical_min {
        field.logical_min
    } else if value > field.logical_max {
        field.logical_max
    } else {
        value
    }
}

/// Writes the low `size` bits of `value` at the field's place (NUT's `SetValue`). Bits beyond
/// the buffer are dropped.
pub fn write_bits(buf: &mut [u8], field: &Field, value: i64) {
    let first = usize::from(field.offset) + 8;
    for (weight, bit) in (first..first + usize::from(field.size)).enumerate() {
        let set = weight < 64 && (value >> weight) & 1 != 0;
        if let Some(byte) = buf.get_mut(bit >> 3) {
            if set {
                *byte |= 1 << (bit & 7);
            } else {
                *byte &= !(1 << (bit & 7));
            }
        }
    }
}

fn physical_range_applies(field: &Field) -> bool {
    field.has_physical_min
        && field.has_physical_max
        && !(field.physical_min == 0 && field.physical_max == 0)
        && field.physical_max > field.physical_min
        && field.logical_max > field.logical_min
}

/// Logical → physical (NUT's `logical_to_physical`).
pub fn logical_to_physical(field: &Field, logical: i64) -> f64 {
    if !physical_range_applies(field) {
        return logical as f64;
    }
    let factor = (field.physical_max - field.physical_min) as f64
        / (field.logical_max - field.logical_min) as f64;
    let physical = (logical - field.logical_min) as f64 * factor + field.physical_min as f64;
    physical.clamp(field.physical_min as f64, field.physical_max as f64)
}

/// Physical → logical (NUT's `physical_to_logical`; truncates toward zero like C's cast).
pub fn physical_to_logical(field: &Field, physical: f64) -> i64 {
    if !physical_range_applies(field) {
        return saturating_trunc(physical);
    }
    let factor = (field.logical_max - field.logical_min) as f64
        / (field.physical_max - field.physical_min) as f64;
    let logical = saturating_trunc((physical - field.physical_min as f64) * factor)
        .saturating_add(field.logical_min);
    logical.clamp(field.logical_min, field.logical_max)
}

fn saturating_trunc(x: f64) -> i64 {
    if x.is_nan() { 0 } else { x as i64 }
}

/// The decimal exponent applied to a field's value: its unit exponent, less 7 for volts and
/// VA/watts (the class declares them in CGS units).
pub fn unit_exponent(field: &Field) -> i32 {
    let correction = match field.unit {
        0x00f0_d121 | 0x0000_d121 => 7,
        _ => 0,
    };
    i32::from(field.unit_exp) - correction
}

/// 10^e computed as NUT does (repeated factors of 10 or 1/10), so values round identically.
fn nut_exponent(e: i32) -> f64 {
    if e > 0 {
        10.0 * nut_exponent(e - 1)
    } else if e < 0 {
        (1.0 / 10.0) * nut_exponent(e + 1)
    } else {
        1.0
    }
}

/// The physical value of a field in a report buffer (NUT's `HIDGetDataValue`).
pub fn physical_value(buf: &[u8], field: &Field) -> f64 {
    let logical = logical_value(buf, field);
    logical_to_physical(field, logical) * nut_exponent(unit_exponent(field).clamp(-64, 64))
}

/// The logical value NUT sends for a physical value (NUT's `HIDSetDataValue` before writing).
pub fn logical_for_set(field: &Field, physical: f64) -> i64 {
    let scaled = physical / nut_exponent(unit_exponent(field).clamp(-64, 64));
    physical_to_logical(field, scaled)
}

/// Formats a value as C's `%g` does (6 significant digits, shortest of %e/%f, trailing zeros
/// removed) — the form NUT prints values in its debug dump.
pub fn format_g(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let precision = 6i32;
    // Exponent after rounding to 6 significant digits.
    let sci = format!("{:.*e}", (precision - 1) as usize, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= precision {
        let m = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (precision - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{v:.decimals$}")).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}
