//! The few C library conversions whose exact behaviour shows in the values NUT publishes:
//! `strtod`/`strtol` prefix parsing (nut-core's, re-exported), `printf`-style fixed formats and
//! the trimming helper.
//!
//! nutdrv_qx passes device fields through `strtod` and a `printf` format such as `%.1f`, so a
//! field like `"   ."` becomes `0` and `"013"` becomes `13`. These functions reproduce that
//! behaviour on arbitrary bytes without ever panicking.

/// `strspn(s, set) == strlen(s)`: every byte of `s` is in `set` (true for the empty string).
pub fn only_chars(s: &str, set: &str) -> bool {
    s.bytes().all(|b| set.as_bytes().contains(&b))
}

pub use nut_core::cnum::{strtod, strtol};

use std::fmt::Write;

/// Format `x` with a `printf` conversion of the forms NUT's tables use: `%.Nf`, `%f`, `%d`,
/// `%ld`, `%0Nd`, optionally surrounded by literal text (e.g. `PM-%s` is handled by
/// [`format_str`]). Unknown formats fall back to `%.1f`-free plain output.
pub fn format_num(fmt: &str, x: f64) -> String {
    let mut out = String::new();
    format_num_into(&mut out, fmt, x);
    out
}

/// [`format_num`] appended to `out`: the engine formats every measurement of every full poll
/// into one buffer it keeps, instead of allocating strings for them.
pub fn format_num_into(out: &mut String, fmt: &str, x: f64) {
    let (pre, spec, post) = split_spec(fmt);
    out.push_str(pre);
    // Writing into a String cannot fail.
    let _ = match spec {
        Spec::Float { prec, width, zero } => {
            if zero {
                write!(out, "{:0width$.prec$}", x)
            } else {
                write!(out, "{:width$.prec$}", x)
            }
        }
        Spec::Int { width, zero } => {
            // C would need an integer argument here; tables that use %d pass an integer.
            let v = if x.is_finite() { x.trunc() as i64 } else { 0 };
            if zero {
                write!(out, "{:0width$}", v, width = width)
            } else {
                write!(out, "{:width$}", v, width = width)
            }
        }
        Spec::Str | Spec::None => write!(out, "{x}"),
    };
    out.push_str(post);
}

/// Format a string through a `%s` format (e.g. `"%s"`, `"PM-%s"`).
pub fn format_str(fmt: &str, s: &str) -> String {
    match fmt.find("%s") {
        Some(p) => format!("{}{}{}", &fmt[..p], s, &fmt[p + 2..]),
        None => fmt.to_string(),
    }
}

enum Spec {
    Float {
        prec: usize,
        width: usize,
        zero: bool,
    },
    Int {
        width: usize,
        zero: bool,
    },
    Str,
    None,
}

fn split_spec(fmt: &str) -> (&str, Spec, &str) {
    let Some(p) = fmt.find('%') else {
        return (fmt, Spec::None, "");
    };
    let rest = &fmt[p + 1..];
    let b = rest.as_bytes();
    let mut i = 0;
    let zero = i < b.len() && b[i] == b'0';
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let width: usize = rest[..i].parse().unwrap_or(0);
    let mut prec = 6;
    if i < b.len() && b[i] == b'.' {
        let s = i + 1;
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        prec = rest[s..i].parse().unwrap_or(0);
    }
    while i < b.len() && (b[i] == b'l' || b[i] == b'h') {
        i += 1;
    }
    let spec = match b.get(i) {
        Some(b'f') => Spec::Float { prec, width, zero },
        Some(b'd') | Some(b'i') | Some(b'u') => Spec::Int { width, zero },
        Some(b's') => Spec::Str,
        _ => return (fmt, Spec::None, ""),
    };
    (&fmt[..p], spec, &rest[i + 1..])
}

/// NUT's `str_trim_m`: strip leading and trailing bytes found in `set`.
pub fn trim_set<'a>(s: &'a str, set: &str) -> &'a str {
    s.trim_matches(|c: char| set.contains(c))
}

/// Bytes as NUT would treat a C string: up to (not including) the first NUL.
pub fn c_str(b: &[u8]) -> &[u8] {
    // CStr's search looks at a word at a time (the engine calls this per item and poll).
    match std::ffi::CStr::from_bytes_until_nul(b) {
        Ok(s) => s.to_bytes(),
        Err(_) => b,
    }
}

/// Case-insensitive ASCII comparison (`strcasecmp(a, b) == 0`). The same table string (the
/// common case: items sharing one command) compares without a byte loop.
pub fn eq_ic(a: &str, b: &str) -> bool {
    a.len() == b.len() && (a.as_ptr() == b.as_ptr() || a.eq_ignore_ascii_case(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_formats() {
        assert_eq!(format_num("%.1f", 232.0), "232.0");
        assert_eq!(format_num("HEH%03.0f\r", 5.0), "HEH005\r");
        assert_eq!(format_num("FREL%04.1f\r", 5.25), "FREL05.2\r");
        assert_eq!(format_num("PGF%04.1f\r", 53.0), "PGF53.0\r");
        assert_eq!(format_num("BATN%1.0f\r", 3.0), "BATN3\r");
        assert_eq!(format_num("%5.1f", -2.0), " -2.0");
        assert_eq!(format_num("%.0f", 13.0), "13");
        assert_eq!(format_num("%.2f", 13.6), "13.60");
        assert_eq!(format_num("%.0f", 0.0), "0");
        assert_eq!(format_num("%d", 2.0), "2");
        assert_eq!(format_num("%02d", 4.0), "04");
        assert_eq!(format_str("PM-%s", "V"), "PM-V");
        assert_eq!(trim_set("#  V3.8   ", "# "), "V3.8");
    }

    #[test]
    fn c_strings_and_case_blind_equality() {
        assert_eq!(c_str(b"(230.0\r"), b"(230.0\r");
        assert_eq!(c_str(b"(23\x000.0\r"), b"(23");
        assert_eq!(c_str(b"\x00abc"), b"");
        assert_eq!(c_str(b""), b"");
        let long = [b'x'; 100];
        assert_eq!(c_str(&long), &long[..]);
        let mut nul_late = [b'y'; 100];
        nul_late[77] = 0;
        assert_eq!(c_str(&nul_late).len(), 77);
        assert!(eq_ic("Q1\r", "q1\r"));
        let same = "ups.status";
        assert!(eq_ic(same, same));
        assert!(!eq_ic("ups.status", "ups.statu"));
        assert!(!eq_ic("ups.status", "ups.statux"));
        assert!(eq_ic("", ""));
    }
}
