//! String-descriptor language IDs as NUT's Q1-over-USB subdrivers handle them: the `langid_fix`
//! option (read the command strings raw in one language and convert them by hand), and the scan of
//! string descriptor 0 that `noscanlangid` turns off.

use std::time::Duration;

use crate::{UsbError, UsbTransport};

/// The value of the `langid_fix` option. NUT skips the first two characters (meant to be `0x`)
/// and reads the rest as hex, so `0x0409` and `0X409` are 0x0409, and `4095` is 0x95.
pub fn parse_langid_fix(value: &str) -> Result<u16, String> {
    let bad = || format!("Error enabling language ID workaround (langid_fix = {value:?})");
    let rest = value.get(2..).ok_or_else(bad)?.trim_start();
    let rest = rest
        .strip_prefix("0x")
        .or_else(|| rest.strip_prefix("0X"))
        .unwrap_or(rest);
    let end = rest
        .find(|c: char| !c.is_ascii_hexdigit())
        .unwrap_or(rest.len());
    if end == 0 {
        return Err(bad());
    }
    u32::from_str_radix(&rest[..end], 16)
        .ok()
        .and_then(|v| u16::try_from(v).ok())
        .ok_or_else(bad)
}

/// A raw string descriptor read with `langid_fix`, converted as NUT's krauler, hunnox and snr
/// subdrivers do: `None` when the length the descriptor claims (byte 0) is not the number of
/// bytes read (NUT: "size mismatch", and it asks again); else one byte per UTF-16 unit, `?` for a
/// unit with a high byte, at most `buffer_len - 1` bytes.
pub fn langid_fix_ascii(raw: &[u8], buffer_len: usize) -> Option<Vec<u8>> {
    let size = usize::from(*raw.first()?);
    if size != raw.len() {
        return None;
    }
    let mut out = Vec::new();
    for si in (2..size).step_by(2) {
        if out.len() + 1 >= buffer_len {
            break;
        }
        let hi = raw.get(si + 1).copied().unwrap_or(0);
        out.push(if hi != 0 { b'?' } else { raw[si] });
    }
    Some(out)
}

/// The LANGIDs string descriptor 0 lists, read with language 0 as NUT does at start-up (unless
/// `noscanlangid`); NUT reports the first one.
pub fn supported_langids(
    t: &mut dyn UsbTransport,
    timeout: Duration,
) -> Result<Vec<u16>, UsbError> {
    let d = t.string_descriptor(0, 0, 255, timeout)?;
    if d.len() < 4 {
        return Err(UsbError::Io("string descriptor 0 lists no LANGID".into()));
    }
    let n = usize::from(d[0]).min(d.len());
    Ok(d[2..n]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn langid_fix_skips_two_characters_as_nut() {
        assert_eq!(parse_langid_fix("0x0409"), Ok(0x0409));
        assert_eq!(parse_langid_fix("0x4095"), Ok(0x4095));
        assert_eq!(parse_langid_fix("0X409"), Ok(0x409));
        assert_eq!(parse_langid_fix("4095"), Ok(0x95));
        assert_eq!(parse_langid_fix("0x409z"), Ok(0x409));
        assert!(parse_langid_fix("0x").is_err());
        assert!(parse_langid_fix("1").is_err());
        assert!(parse_langid_fix("0xzz").is_err());
        assert!(parse_langid_fix("0x10000").is_err());
    }

    #[test]
    fn raw_strings_convert_or_report_a_size_mismatch() {
        let d = [10, 3, b'(', 0, b'2', 0, 0x3a, 0x26, 0xe9, 0];
        assert_eq!(langid_fix_ascii(&d, 102).unwrap(), b"(2?\xe9");
        assert_eq!(langid_fix_ascii(&d, 3).unwrap(), b"(2");
        assert_eq!(langid_fix_ascii(&d[..8], 102), None);
        assert_eq!(langid_fix_ascii(&[], 102), None);
        assert_eq!(langid_fix_ascii(&[2, 3], 102).unwrap(), b"");
    }
}
