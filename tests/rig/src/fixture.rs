//! Recorded serial exchanges (`tests/fixtures/serial/*.txt`) as a reply table.
//!
//! One exchange per line, `REQUEST -> REPLY`, `#` starts a comment line. Three request
//! spellings occur in the recordings:
//! * plain: `Q1 -> (229.4 …`;
//! * OEM-log style, the command in brackets at the end: `80 06 03 03 09 04 00 66 [Q1] -> (232.0 …`;
//! * with the terminator written out: `QS\r -> (228.6 …\r`.
//!
//! A literal `\r` at the end of a request or reply is the terminator and is dropped (the
//! simulator adds the protocol's own). `(no reply)` means the device said nothing. For APC
//! Smart, `^A` is the control character 0x01 and a trailing `   # nut.variable` comment
//! after the reply is dropped; Megatec replies are kept verbatim (they may start with `#`
//! and carry significant trailing blanks).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::Protocol;

/// What a device answers to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// These bytes, followed by the protocol's terminator.
    Bytes(Vec<u8>),
    /// Nothing at all (recorded as `(no reply)`).
    Silence,
}

/// Requests (without terminator) → the replies recorded for them, in file order.
pub type Table = BTreeMap<Vec<u8>, Vec<Reply>>;

/// A fixture that could not be read or parsed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {reason}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("bad --set {arg:?}: {reason}")]
    Set { arg: String, reason: String },
}

/// Reads and parses the fixture at `path` for `proto`.
pub fn load(path: &Path, proto: Protocol) -> Result<Table, FixtureError> {
    let bytes = std::fs::read(path).map_err(|source| FixtureError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse(&String::from_utf8_lossy(&bytes), proto).map_err(|(line, reason)| FixtureError::Syntax {
        path: path.to_owned(),
        line,
        reason,
    })
}

/// Parses fixture text; `Err((line number, reason))` on a malformed exchange line.
pub fn parse(text: &str, proto: Protocol) -> Result<Table, (usize, String)> {
    let mut table = Table::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((left, right)) = line.split_once(" -> ") else {
            continue;
        };
        let request = request_of(left, proto).map_err(|reason| (number, reason))?;
        let reply = reply_of(right, proto);
        table.entry(request).or_default().push(reply);
    }
    Ok(table)
}

fn request_of(left: &str, proto: Protocol) -> Result<Vec<u8>, String> {
    let left = left.trim_end();
    let command = match left.strip_suffix(']').and_then(|l| l.rsplit_once('[')) {
        Some((_, inner)) => inner,
        None => left.trim(),
    };
    let command = command.strip_suffix("\\r").unwrap_or(command);
    if command.is_empty() {
        return Err("empty request".to_owned());
    }
    let mut bytes = command.as_bytes().to_vec();
    if proto == Protocol::ApcSmart {
        if let [b'^', c] = bytes[..] {
            bytes = vec![c.to_ascii_uppercase().wrapping_sub(64)];
        }
        if bytes.len() != 1 {
            return Err(format!(
                "APC Smart requests are one character, got {command:?}"
            ));
        }
    }
    Ok(bytes)
}

fn reply_of(right: &str, proto: Protocol) -> Reply {
    let mut reply = right;
    if proto == Protocol::ApcSmart {
        if let Some(at) = reply.find(" #").or_else(|| reply.find("\t#")) {
            reply = &reply[..at];
        }
        reply = reply.trim();
    }
    if reply.trim() == "(no reply)" {
        return Reply::Silence;
    }
    let reply = reply.strip_suffix("\\r").unwrap_or(reply);
    Reply::Bytes(reply.as_bytes().to_vec())
}

/// Parses a `CMD=REPLY` override (as `serialsim --set`): `\r`, `\n`, `\\`, `\xNN`
/// escapes in both parts; an empty `REPLY` after `=` is an empty reply (terminator only).
pub fn parse_set(arg: &str) -> Result<(Vec<u8>, Vec<u8>), FixtureError> {
    let bad = |reason: &str| FixtureError::Set {
        arg: arg.to_owned(),
        reason: reason.to_owned(),
    };
    let (cmd, reply) = arg
        .split_once('=')
        .ok_or_else(|| bad("expected CMD=REPLY"))?;
    let cmd = unescape(cmd).map_err(|r| bad(&r))?;
    if cmd.is_empty() {
        return Err(bad("empty command"));
    }
    Ok((cmd, unescape(reply).map_err(|r| bad(&r))?))
}

/// Resolves `\r`, `\n`, `\t`, `\\` and `\xNN`.
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let escaped = bytes
            .get(i + 1)
            .ok_or_else(|| "trailing backslash".to_owned())?;
        match escaped {
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'\\' => out.push(b'\\'),
            b'x' => {
                let hex = bytes
                    .get(i + 2..i + 4)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad \\x escape at byte {i}"))?;
                out.push(hex);
                i += 2;
            }
            other => return Err(format!("unknown escape \\{}", *other as char)),
        }
        i += 2;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> Reply {
        Reply::Bytes(s.as_bytes().to_vec())
    }

    #[test]
    fn the_three_request_spellings() {
        let table = parse(
            "# comment -> not an exchange\n\
             Q1 -> (229.4 229.4 229.4 013 49.9 13.1 25.0 00001001\n\
             80 06 0c 03 09 04 00 66 [I] -> #                           V3.8      \n\
             QS\\r -> (228.6 228.7\\r\n\
             Q\\r -> (no reply)\n\
             Q1 -> second\n",
            Protocol::Megatec,
        )
        .unwrap();
        assert_eq!(
            table[&b"Q1"[..]],
            [
                bytes("(229.4 229.4 229.4 013 49.9 13.1 25.0 00001001"),
                bytes("second")
            ]
        );
        // Trailing blanks are part of the reply.
        assert_eq!(
            table[&b"I"[..]],
            [bytes("#                           V3.8      ")]
        );
        assert_eq!(table[&b"QS"[..]], [bytes("(228.6 228.7")]);
        assert_eq!(table[&b"Q"[..]], [Reply::Silence]);
        assert_eq!(table.len(), 4);
    }

    #[test]
    fn apc_smart_control_chars_and_comments() {
        let table = parse(
            "^A -> SMART-UPS 3000 RM   # ups.model\nf -> 100.0   # battery.charge\n",
            Protocol::ApcSmart,
        )
        .unwrap();
        assert_eq!(table[&[1u8][..]], [bytes("SMART-UPS 3000 RM")]);
        assert_eq!(table[&b"f"[..]], [bytes("100.0")]);
        assert_eq!(
            parse("QQ -> x\n", Protocol::ApcSmart).unwrap_err(),
            (
                1,
                "APC Smart requests are one character, got \"QQ\"".to_owned()
            )
        );
    }

    #[test]
    fn set_overrides_unescape() {
        assert_eq!(
            parse_set("I=#ACME\\x20x\\r").unwrap(),
            (b"I".to_vec(), b"#ACME x\r".to_vec())
        );
        assert_eq!(parse_set("C=").unwrap(), (b"C".to_vec(), Vec::new()));
        assert!(parse_set("noequals").is_err());
        assert!(parse_set("=x").is_err());
        assert!(parse_set("A=\\xZZ").is_err());
        assert!(parse_set("A=\\").is_err());
    }

    #[test]
    fn every_repo_fixture_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/serial");
        let mut seen = 0;
        let entries = std::fs::read_dir(&dir)
            .unwrap()
            .chain(std::fs::read_dir(dir.join("synthetic")).unwrap());
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "txt") {
                continue;
            }
            let proto = if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("apc")
            {
                Protocol::ApcSmart
            } else {
                Protocol::Megatec
            };
            let table = load(&path, proto).unwrap();
            assert!(!table.is_empty(), "{} has no exchange", path.display());
            seen += 1;
        }
        assert!(seen >= 8, "only {seen} fixtures in {}", dir.display());
    }
}
