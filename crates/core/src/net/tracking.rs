//! Status tracking (protocol 1.3): tracking ids and the results `GET TRACKING <id>` reports.

use std::fmt;
use std::hash::{Hash, Hasher};

use super::errors::ErrCode;

/// A tracking id as it appears on the wire (`OK TRACKING <id>`, `GET TRACKING <id>`).
///
/// upsd generates UUIDv4-shaped upper-case ids (`F4F78A1F-D59B-4F21-82C6-9729871FA9DC`), but
/// clients may send any word back, so an id read from the wire is kept verbatim
/// ([`TrackingId::from_wire`]). Equality and hashing ignore ASCII case, because upsd
/// compares ids with `strcasecmp` (a lower-cased id finds the same entry).
#[derive(Clone, Debug)]
pub struct TrackingId(String);

impl TrackingId {
    /// A fresh id from 16 caller-supplied random bytes, formatted `8-4-4-4-12` in upper-case
    /// hex with the UUIDv4 version (`4`) and variant (`8`..`B`) nibbles set, like upsd's.
    /// nut-core has no RNG: the caller draws the bytes.
    pub fn new_v4(mut random: [u8; 16]) -> Self {
        random[6] = (random[6] & 0x0f) | 0x40;
        random[8] = (random[8] & 0x3f) | 0x80;
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut out = String::with_capacity(36);
        for (i, byte) in random.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                out.push('-');
            }
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        TrackingId(out)
    }

    /// An id exactly as received (any word; unknown ids simply match nothing).
    pub fn from_wire(word: impl Into<String>) -> Self {
        TrackingId(word.into())
    }

    /// The id as sent or received.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the id has upsd's shape: 36 characters, hex digits in 8-4-4-4-12 groups
    /// (either case).
    pub fn is_well_formed(&self) -> bool {
        let bytes = self.0.as_bytes();
        bytes.len() == 36
            && bytes.iter().enumerate().all(|(i, b)| {
                if matches!(i, 8 | 13 | 18 | 23) {
                    *b == b'-'
                } else {
                    b.is_ascii_hexdigit()
                }
            })
    }
}

impl PartialEq for TrackingId {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl Eq for TrackingId {}

impl Hash for TrackingId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for b in self.0.bytes() {
            state.write_u8(b.to_ascii_uppercase());
        }
        state.write_u8(0xff);
    }
}

impl fmt::Display for TrackingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What `GET TRACKING <id>` reports for a tracked SET or INSTCMD.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TrackingStatus {
    /// Forwarded to the driver, no result yet (`PENDING`).
    Pending,
    /// The driver carried it out (`SUCCESS`).
    Success,
    /// `ERR <code>`: the driver's failure (`UNKNOWN`, `INVALID-ARGUMENT`, `FAILED`), an
    /// unknown id (`UNKNOWN`), or, seen by a client, any other error upsd answered instead
    /// (e.g. `FEATURE-NOT-CONFIGURED` when tracking is off on the connection).
    Error(ErrCode),
}

impl TrackingStatus {
    /// upsd's mapping of the driver's `TRACKING <id> <result>` code: 0 → `SUCCESS`,
    /// 1 → `ERR UNKNOWN`, 2 and 4 → `ERR INVALID-ARGUMENT`, 3 → `ERR FAILED`, anything
    /// else → `ERR UNKNOWN`.
    pub fn from_driver_result(code: i64) -> Self {
        match code {
            0 => TrackingStatus::Success,
            2 | 4 => TrackingStatus::Error(ErrCode::InvalidArgument),
            3 => TrackingStatus::Error(ErrCode::Failed),
            _ => TrackingStatus::Error(ErrCode::Unknown),
        }
    }

    /// The status upsd reports for an id it does not know (`ERR UNKNOWN`).
    pub fn unknown_id() -> Self {
        TrackingStatus::Error(ErrCode::Unknown)
    }

    /// Whether the command is finished (successfully or not).
    pub fn is_final(&self) -> bool {
        !matches!(self, TrackingStatus::Pending)
    }

    /// Append the reply line (`PENDING\n`, `SUCCESS\n`, `ERR <code>\n`).
    pub fn write_line(&self, out: &mut String) {
        match self {
            TrackingStatus::Pending => out.push_str("PENDING\n"),
            TrackingStatus::Success => out.push_str("SUCCESS\n"),
            TrackingStatus::Error(code) => {
                out.push_str("ERR ");
                out.push_str(code.as_str());
                out.push('\n');
            }
        }
    }

    /// Parse a reply's words (`PENDING`, `SUCCESS`, `ERR <code> …`); `None` if it is
    /// neither.
    pub fn from_words<S: AsRef<str>>(words: &[S]) -> Option<Self> {
        match words {
            [w] if w.as_ref() == "PENDING" => Some(TrackingStatus::Pending),
            [w] if w.as_ref() == "SUCCESS" => Some(TrackingStatus::Success),
            [err, code, ..] if err.as_ref() == "ERR" => {
                Some(TrackingStatus::Error(ErrCode::parse(code.as_ref())))
            }
            _ => None,
        }
    }
}

impl fmt::Display for TrackingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrackingStatus::Pending => f.write_str("PENDING"),
            TrackingStatus::Success => f.write_str("SUCCESS"),
            TrackingStatus::Error(code) => write!(f, "ERR {code}"),
        }
    }
}
