//! C's number parsing, where NUT's behaviour depends on it: `strtol`, `atoi`, `strtod`.
//!
//! NUT reads numbers from config files, command lines and devices with the C library, which
//! takes the longest numeric prefix and ignores the rest (`"12abc"` is 12, `"   ."` is 0,
//! `"0x1A"` is 26 for `strtod`). Drivers publish what comes out, so the same prefix rules are
//! part of the output. One implementation here, used by every crate; none of these functions
//! panics on any input.

/// C's `isspace` in the "C" locale (not Unicode white space).
fn is_c_space(b: u8) -> bool {
    b == b' ' || (b'\t'..=b'\r').contains(&b)
}

/// The index of the first byte after leading C white space, and the sign that follows it:
/// `(index after the sign, negative)`.
fn skip_space_and_sign(b: &[u8]) -> (usize, bool) {
    let mut i = b.iter().take_while(|&&c| is_c_space(c)).count();
    let negative = b.get(i) == Some(&b'-');
    if matches!(b.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    (i, negative)
}

/// `strtol(s, NULL, 10)` on glibc (64-bit `long`): leading white space, an optional sign, the
/// leading decimal digits; 0 when there are none; `i64::MIN`/`i64::MAX` on overflow.
pub fn strtol(s: &str) -> i64 {
    let b = s.as_bytes();
    let (start, negative) = skip_space_and_sign(b);
    // Accumulate negatively so that i64::MIN itself is representable.
    let mut value: i64 = 0;
    for &c in b[start..].iter().take_while(|c| c.is_ascii_digit()) {
        let digit = i64::from(c - b'0');
        match value.checked_mul(10).and_then(|v| v.checked_sub(digit)) {
            Some(v) => value = v,
            None => return if negative { i64::MIN } else { i64::MAX },
        }
    }
    if negative {
        value
    } else {
        value.checked_neg().unwrap_or(i64::MAX)
    }
}

/// `atoi(s)` on glibc: `(int) strtol(s, NULL, 10)`, the conversion to `int` keeping the low 32
/// bits.
pub fn atoi(s: &str) -> i32 {
    strtol(s) as i32
}

/// `strtod(s, NULL)` in the "C" locale: the longest prefix that is a decimal number (digits with
/// an optional `.` and a complete exponent), a hexadecimal one (`0x` digits, optional `.` and
/// `p` exponent), `inf`/`infinity` or `nan`/`nan(…)` (any case), after white space and an
/// optional sign; 0.0 when there is none.
pub fn strtod(s: &str) -> f64 {
    let b = s.as_bytes();
    let (start, negative) = skip_space_and_sign(b);
    let rest = &b[start..];
    let magnitude = special(rest)
        .or_else(|| hexadecimal(rest))
        .or_else(|| decimal(rest))
        .unwrap_or(0.0);
    if negative { -magnitude } else { magnitude }
}

/// `inf`, `infinity`, `nan`, `nan(chars)` at the start of `b`, any case.
fn special(b: &[u8]) -> Option<f64> {
    let starts =
        |word: &str| b.len() >= word.len() && b[..word.len()].eq_ignore_ascii_case(word.as_bytes());
    if starts("inf") {
        return Some(f64::INFINITY);
    }
    if starts("nan") {
        return Some(f64::NAN);
    }
    None
}

/// The decimal number at the start of `b` (no sign), if it has at least one digit.
fn decimal(b: &[u8]) -> Option<f64> {
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut end = int_digits;
    let mut digits = int_digits;
    if b.get(end) == Some(&b'.') {
        let frac = b[end + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        digits += frac;
        end += 1 + frac;
    }
    if digits == 0 {
        return None;
    }
    end += exponent_len(&b[end..], b'e');
    // The prefix is ASCII digits, '.', 'e', sign: valid UTF-8 and a valid Rust float literal
    // (Rust accepts "5." and ".5" as C does).
    std::str::from_utf8(&b[..end]).ok()?.parse().ok()
}

/// The length of a complete exponent (`e`/`p`, optional sign, at least one digit) at the start
/// of `b`, else 0.
fn exponent_len(b: &[u8], marker: u8) -> usize {
    if !b.first().is_some_and(|c| c.eq_ignore_ascii_case(&marker)) {
        return 0;
    }
    let sign = usize::from(matches!(b.get(1), Some(b'+' | b'-')));
    let digits = b[1 + sign..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 { 0 } else { 1 + sign + digits }
}

/// The hexadecimal number (`0x1A`, `0x1.8p1`) at the start of `b` (no sign), if it has at
/// least one hex digit after `0x`.
fn hexadecimal(b: &[u8]) -> Option<f64> {
    if b.len() < 3 || b[0] != b'0' || !b[1].eq_ignore_ascii_case(&b'x') {
        return None;
    }
    let mut mantissa = 0.0f64;
    let mut scale = 0i64; // binary exponent from fraction digits
    let mut i = 2;
    let mut digits = 0;
    while let Some(d) = b.get(i).and_then(|c| (*c as char).to_digit(16)) {
        mantissa = mantissa * 16.0 + f64::from(d);
        digits += 1;
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while let Some(d) = b.get(i).and_then(|c| (*c as char).to_digit(16)) {
            mantissa = mantissa * 16.0 + f64::from(d);
            scale -= 4;
            digits += 1;
            i += 1;
        }
    }
    if digits == 0 {
        // "0x" without digits: C reads the "0" alone.
        return None;
    }
    let exp_len = exponent_len(&b[i..], b'p');
    if exp_len > 0 {
        let text = std::str::from_utf8(&b[i + 1..i + exp_len]).ok()?;
        scale = scale.saturating_add(text.parse::<i64>().unwrap_or(if text.starts_with('-') {
            i64::MIN / 2
        } else {
            i64::MAX / 2
        }));
    }
    let scale = i32::try_from(scale.clamp(-2200, 2200)).unwrap_or(0);
    Some(mantissa * 2f64.powi(scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtol_reads_the_leading_integer() {
        assert_eq!(strtol(" 42abc"), 42);
        assert_eq!(strtol("\t\n-7"), -7);
        assert_eq!(strtol("+13"), 13);
        assert_eq!(strtol("x"), 0);
        assert_eq!(strtol(""), 0);
        assert_eq!(strtol("-"), 0);
        assert_eq!(strtol("130.5"), 130);
        // Unicode white space is not C white space.
        assert_eq!(strtol("\u{a0}5"), 0);
    }

    #[test]
    fn strtol_saturates_like_glibc() {
        assert_eq!(strtol("99999999999999999999999"), i64::MAX);
        assert_eq!(strtol("-99999999999999999999999"), i64::MIN);
        assert_eq!(strtol("-9223372036854775808"), i64::MIN);
        assert_eq!(strtol("9223372036854775807"), i64::MAX);
    }

    #[test]
    fn atoi_keeps_the_low_32_bits() {
        assert_eq!(atoi("12abc"), 12);
        assert_eq!(atoi("4294967297"), 1);
        assert_eq!(atoi("-1"), -1);
    }

    #[test]
    fn strtod_reads_the_longest_decimal_prefix() {
        assert_eq!(strtod("   ."), 0.0);
        assert_eq!(strtod("  12.00   ."), 12.0);
        assert_eq!(strtod("013"), 13.0);
        assert_eq!(strtod("2.28"), 2.28);
        assert_eq!(strtod(".5"), 0.5);
        assert_eq!(strtod("5."), 5.0);
        assert_eq!(strtod("1 2"), 1.0);
        assert_eq!(strtod(""), 0.0);
        assert_eq!(strtod("-3.5x"), -3.5);
        assert_eq!(strtod("1e3"), 1000.0);
        assert_eq!(strtod("1E-2"), 0.01);
        assert_eq!(strtod("1e"), 1.0);
        assert_eq!(strtod("1e+"), 1.0);
        assert_eq!(strtod("+.5e1x"), 5.0);
    }

    #[test]
    fn strtod_reads_hex_inf_and_nan_as_c() {
        assert_eq!(strtod("0x1A"), 26.0);
        assert_eq!(strtod("0x1.8p1"), 3.0);
        assert_eq!(strtod("-0x10p-4"), -1.0);
        assert_eq!(strtod("0x"), 0.0);
        assert_eq!(strtod("0xg"), 0.0);
        assert_eq!(strtod("inf"), f64::INFINITY);
        assert_eq!(strtod("-Infinity"), f64::NEG_INFINITY);
        assert!(strtod("NaN").is_nan());
        assert_eq!(strtod("in"), 0.0);
    }

    #[test]
    fn nothing_panics() {
        for s in [
            "\u{e9}",
            "0x\u{e9}",
            "1e\u{e9}",
            "-",
            "+-1",
            "0x.p",
            "0x1p99999999999999999999",
        ] {
            let _ = (strtol(s), strtod(s), atoi(s));
        }
        assert_eq!(strtod("0x1p99999999999999999999"), f64::INFINITY);
    }
}
