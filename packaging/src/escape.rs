//! systemd's escaping of unit instance names (what `systemd-escape` does without options), so
//! that any ups.conf section name maps to a valid `nut-driver@<instance>.service` and the unit
//! gets the section name back unchanged through the `%I` specifier.
//!
//! Rules (systemd.unit(5), "String Escaping for Inclusion in Unit Names"): `/` becomes `-`;
//! ASCII letters, digits, `:`, `_` and `.` (except a leading `.`) stay; every other byte —
//! `-` included — becomes `\xNN` in lower-case hex.

/// The longest unit name systemd accepts (`UNIT_NAME_MAX`).
pub const UNIT_NAME_MAX: usize = 255;

/// Escape `name` for use as a unit instance name.
pub fn escape_instance(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, byte) in name.bytes().enumerate() {
        match byte {
            b'/' => out.push('-'),
            b'.' if i == 0 => out.push_str("\\x2e"),
            b if b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'.') => {
                out.push(char::from(b))
            }
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// Undo [`escape_instance`] (what systemd's `%I` specifier yields). `None` for a string that
/// is not a valid escape (a truncated `\x`, non-hex digits, bytes that are not UTF-8).
pub fn unescape_instance(escaped: &str) -> Option<String> {
    let bytes = escaped.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' => {
                out.push(b'/');
                i += 1;
            }
            b'\\' => {
                let hex = escaped.get(i + 2..i + 4)?;
                if bytes.get(i + 1) != Some(&b'x') {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 4;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The full unit name of the driver instance for ups.conf section `section`, or `None` when
/// the escaped name would be longer than systemd allows.
pub fn driver_unit(section: &str) -> Option<String> {
    let unit = format!("nut-driver@{}.service", escape_instance(section));
    (unit.len() <= UNIT_NAME_MAX && !section.is_empty()).then_some(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_stay_and_the_rest_is_hex_escaped() {
        assert_eq!(escape_instance("myups"), "myups");
        assert_eq!(escape_instance("ups.1:a_b"), "ups.1:a_b");
        assert_eq!(escape_instance("my-ups"), "my\\x2dups");
        assert_eq!(escape_instance(".hidden"), "\\x2ehidden");
        assert_eq!(escape_instance("a b\\c"), "a\\x20b\\x5cc");
        assert_eq!(escape_instance("a/b"), "a-b");
        assert_eq!(escape_instance("é"), "\\xc3\\xa9");
    }

    #[test]
    fn unescape_round_trips() {
        for name in ["myups", "my-ups", ".x", "a b", "rack/1", "é-ñ", "x\\y\"z%"] {
            assert_eq!(
                unescape_instance(&escape_instance(name)).as_deref(),
                Some(name)
            );
        }
        assert_eq!(unescape_instance("bad\\x"), None);
        assert_eq!(unescape_instance("bad\\xzz"), None);
        assert_eq!(unescape_instance("bad\\y41"), None);
    }

    #[test]
    fn unit_names_have_a_length_limit() {
        assert_eq!(
            driver_unit("my-ups").as_deref(),
            Some("nut-driver@my\\x2dups.service")
        );
        assert!(driver_unit(&"x".repeat(200)).is_some());
        assert!(driver_unit(&"-".repeat(100)).is_none());
        assert!(driver_unit("").is_none());
    }
}
