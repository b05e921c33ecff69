//! A small notation for writing byte-exact protocol input as readable text.
//!
//! Everything is literal except `{…}` groups (NUT input never needs braces in our
//! corpora, so no escaping is defined for them):
//!
//! | group | bytes |
//! |---|---|
//! | `{LF}` `{CR}` `{TAB}` `{VT}` `{FF}` `{NUL}` `{DEL}` `{SP}` | 0x0A 0x0D 0x09 0x0B 0x0C 0x00 0x7F 0x20 |
//! | `{xHH}` | the byte 0xHH |
//! | `{rep N TEXT}` | `TEXT` (itself in this notation, without braces) N times |
//! | `{words N TEXT}` | N words `TEXT1 TEXT2 … TEXTN` separated by spaces |
//!
//! Backslashes, quotes and `#` are literal: `GET VAR "a\"b"` is exactly those bytes.

use std::fmt;

/// A malformed `{…}` group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotationError {
    /// The offending group (or the unterminated tail).
    pub group: String,
}

impl fmt::Display for NotationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad notation group {:?}", self.group)
    }
}

impl std::error::Error for NotationError {}

/// Expands `text` to bytes (see the module docs).
pub fn expand(text: &str) -> Result<Vec<u8>, NotationError> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.extend_from_slice(&rest.as_bytes()[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| NotationError {
            group: rest[open..].to_owned(),
        })?;
        expand_group(&after[..close], &mut out)?;
        rest = &after[close + 1..];
    }
    out.extend_from_slice(rest.as_bytes());
    Ok(out)
}

fn expand_group(group: &str, out: &mut Vec<u8>) -> Result<(), NotationError> {
    let bad = || NotationError {
        group: format!("{{{group}}}"),
    };
    let byte = match group {
        "LF" => Some(b'\n'),
        "CR" => Some(b'\r'),
        "TAB" => Some(b'\t'),
        "VT" => Some(0x0b),
        "FF" => Some(0x0c),
        "NUL" => Some(0),
        "DEL" => Some(0x7f),
        "SP" => Some(b' '),
        _ => None,
    };
    if let Some(b) = byte {
        out.push(b);
        return Ok(());
    }
    if let Some(hex) = group.strip_prefix('x') {
        let b = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
        if hex.len() != 2 {
            return Err(bad());
        }
        out.push(b);
        return Ok(());
    }
    let mut parts = group.splitn(3, ' ');
    let (kind, count, unit) = (parts.next(), parts.next(), parts.next());
    let count: usize = count.and_then(|c| c.parse().ok()).ok_or_else(bad)?;
    let unit = unit.ok_or_else(bad)?.as_bytes();
    match kind {
        Some("rep") => (0..count).for_each(|_| out.extend_from_slice(unit)),
        Some("words") => {
            for i in 1..=count {
                if i > 1 {
                    out.push(b' ');
                }
                out.extend_from_slice(unit);
                out.extend_from_slice(i.to_string().as_bytes());
            }
        }
        _ => return Err(bad()),
    }
    Ok(())
}

/// The inverse for display: printable ASCII stays, everything else becomes a group.
pub fn show(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\n' => out.push_str("{LF}"),
            b'\r' => out.push_str("{CR}"),
            b'\t' => out.push_str("{TAB}"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("{{x{b:02x}}}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_text_is_unchanged() {
        assert_eq!(
            expand(r#"GET VAR "a\"b" #c"#).unwrap(),
            br#"GET VAR "a\"b" #c"#
        );
    }

    #[test]
    fn groups_expand() {
        assert_eq!(
            expand("a{CR}{LF}{x00}{xff}{TAB}").unwrap(),
            b"a\r\n\x00\xff\t"
        );
        assert_eq!(expand("{rep 3 ab}").unwrap(), b"ababab");
        assert_eq!(expand("{words 3 w}").unwrap(), b"w1 w2 w3");
    }

    #[test]
    fn bad_groups_are_errors() {
        for bad in ["{", "{x1}", "{xzz}", "{rep x a}", "{rep 3}", "{what}"] {
            assert!(expand(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn show_round_trips_through_expand() {
        let bytes = b"GET \"x\"\r\n\x00\x7f\xc3\xa9 {".to_vec();
        // `{` is shown literally, so only check bytes without braces round-trip.
        let shown = show(&bytes[..bytes.len() - 1]);
        assert_eq!(expand(&shown).unwrap(), &bytes[..bytes.len() - 1]);
    }
}
