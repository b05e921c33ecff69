//! Value types and value grammars shared by several config files.

use std::fmt;

use super::diag::Sink;

/// The role of an upsmon system for a UPS (upsmon.conf `MONITOR`, upsd.users `upsmon`).
///
/// NUT 2.8.0 renamed master/slave to primary/secondary; both spellings are accepted,
/// case-insensitively.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// `primary` (or `master`): the system that powers the UPS down and sets FSD.
    Primary,
    /// `secondary` (or `slave`): shuts down when told to, never powers the UPS down.
    Secondary,
}

impl Role {
    /// Parse `primary|master|secondary|slave`, case-insensitively.
    pub fn parse(word: &str) -> Option<Self> {
        let lower = word.to_ascii_lowercase();
        match lower.as_str() {
            "primary" | "master" => Some(Self::Primary),
            "secondary" | "slave" => Some(Self::Secondary),
            _ => None,
        }
    }

    /// `primary` or `secondary`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Secondary => "secondary",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `CERTIDENT <name> <password>`: the certificate to present and the password of its key
/// or database.
#[derive(Clone, PartialEq, Eq)]
pub struct CertIdent {
    /// Certificate name (NSS nickname).
    pub name: String,
    /// Password for the key or database.
    pub password: String,
}

impl fmt::Debug for CertIdent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keep secrets out of debug logs.
        f.debug_struct("CertIdent")
            .field("name", &self.name)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// Parse a whole number: optional sign, then ASCII digits only. NUT uses `atoi`, which reads
/// `15s` as 15 and `abc` as 0; we reject both.
pub(crate) fn parse_int(word: &str) -> Option<i64> {
    let digits = word.strip_prefix(['-', '+']).unwrap_or(word);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    word.parse().ok()
}

/// NUT's boolean words (case-insensitive): `true|on|yes|1` and `false|off|no|0`; anything
/// else (including surrounding blanks and other numbers) is `None`.
///
/// The one boolean reader of the workspace: config files, client TLS settings, upsd's
/// `ALLOW_*` environment and a driver's `driver.flag.allow_killpower` all go through it;
/// where a caller accepts more (a number of seconds, C's `atoi`, `enabled`) it says so
/// around this call.
pub fn parse_bool(word: &str) -> Option<bool> {
    const TRUE: [&str; 4] = ["true", "on", "yes", "1"];
    const FALSE: [&str; 4] = ["false", "off", "no", "0"];
    if TRUE.iter().any(|w| word.eq_ignore_ascii_case(w)) {
        Some(true)
    } else if FALSE.iter().any(|w| word.eq_ignore_ascii_case(w)) {
        Some(false)
    } else {
        None
    }
}

/// Parse a whole number in `min..=max` into `T`, or record an error naming `what` and
/// return `None`.
pub(crate) fn int_in<T: TryFrom<i64>>(
    sink: &mut Sink,
    line: usize,
    what: &str,
    word: &str,
    min: i64,
    max: i64,
) -> Option<T> {
    let value = parse_int(word)
        .filter(|v| (min..=max).contains(v))
        .and_then(|v| T::try_from(v).ok());
    if value.is_none() {
        let range = if max >= i64::from(i32::MAX) {
            format!(">= {min}")
        } else {
            format!("from {min} to {max}")
        };
        sink.error(
            line,
            format!("{what}: expected a whole number {range}, got '{word}'"),
        );
    }
    value
}

/// [`int_in`] for the common `u32` case (`min..=u32::MAX`).
pub(crate) fn uint(sink: &mut Sink, line: usize, what: &str, word: &str, min: u32) -> Option<u32> {
    int_in(sink, line, what, word, i64::from(min), i64::from(u32::MAX))
}

/// [`int_in`] for signed settings (`min..=i32::MAX`).
pub(crate) fn sint(sink: &mut Sink, line: usize, what: &str, word: &str, min: i32) -> Option<i32> {
    int_in(sink, line, what, word, i64::from(min), i64::from(i32::MAX))
}

/// [`parse_bool`], or record an error naming `what`.
pub(crate) fn boolean(sink: &mut Sink, line: usize, what: &str, word: &str) -> Option<bool> {
    let value = parse_bool(word);
    if value.is_none() {
        sink.error(
            line,
            format!("{what}: expected yes|no (also true|false, on|off, 1|0), got '{word}'"),
        );
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        assert_eq!(parse_int("15"), Some(15));
        assert_eq!(parse_int("-1"), Some(-1));
        assert_eq!(parse_int("+7"), Some(7));
        assert_eq!(parse_int("15s"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("-"), None);
        assert_eq!(parse_int("99999999999999999999999"), None);
    }

    #[test]
    fn bools_and_roles() {
        for word in ["true", "TRUE", "on", "On", "yes", "YES", "1"] {
            assert_eq!(parse_bool(word), Some(true), "{word}");
        }
        for word in ["false", "False", "off", "OFF", "no", "No", "0"] {
            assert_eq!(parse_bool(word), Some(false), "{word}");
        }
        for word in ["2", "01", "", " yes", "y", "enabled", "truee", "-1"] {
            assert_eq!(parse_bool(word), None, "{word:?}");
        }
        assert_eq!(Role::parse("MASTER"), Some(Role::Primary));
        assert_eq!(Role::parse("slave"), Some(Role::Secondary));
        assert_eq!(Role::parse("boss"), None);
        let ident = CertIdent {
            name: "n".into(),
            password: "secret".into(),
        };
        assert!(!format!("{ident:?}").contains("secret"));
    }
}
