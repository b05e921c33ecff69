//! Result codes a driver reports for SET and INSTCMD (NUT's `STAT_SET_*` / `STAT_INSTCMD_*`).

use std::fmt;

/// The outcome of a SET or INSTCMD, as carried by `TRACKING <id> <code>`.
///
/// The SET and INSTCMD code tables are identical in NUT, so one type serves both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmdStatus {
    /// 0: done.
    Handled,
    /// 1: unspecified error (also what a driver without a handler answers).
    Unknown,
    /// 2: invalid command or variable, or not writable.
    Invalid,
    /// 3: the device refused or the operation failed.
    Failed,
    /// 4: the value could not be converted.
    ConversionFailed,
    /// Any other code a driver sent.
    Other(i32),
}

impl CmdStatus {
    /// The numeric code sent on the socket.
    pub const fn code(self) -> i32 {
        match self {
            Self::Handled => 0,
            Self::Unknown => 1,
            Self::Invalid => 2,
            Self::Failed => 3,
            Self::ConversionFailed => 4,
            Self::Other(code) => code,
        }
    }

    /// The status for a numeric code.
    pub const fn from_code(code: i32) -> Self {
        match code {
            0 => Self::Handled,
            1 => Self::Unknown,
            2 => Self::Invalid,
            3 => Self::Failed,
            4 => Self::ConversionFailed,
            other => Self::Other(other),
        }
    }

    /// What upsd answers to `GET TRACKING <id>` for this result (docs/nut-behaviour.md §2.5):
    /// `SUCCESS`, or an `ERR …` line.
    pub const fn tracking_reply(self) -> &'static str {
        match self {
            Self::Handled => "SUCCESS",
            Self::Invalid | Self::ConversionFailed => "ERR INVALID-ARGUMENT",
            Self::Failed => "ERR FAILED",
            Self::Unknown | Self::Other(_) => "ERR UNKNOWN",
        }
    }
}

impl fmt::Display for CmdStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}
