//! The messages of the driver socket protocol, parsed from tokenizer words and rendered to
//! lines.

use std::fmt;

use super::{CmdStatus, VarFlags};
use crate::token::{push_quoted, push_word};

/// A line a driver sends to its socket clients (docs/nut-behaviour.md §3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DriverMsg {
    /// `SETINFO <var> "<value>"`: create or update a variable.
    SetInfo {
        /// Variable name.
        var: String,
        /// New value (unescaped).
        value: String,
    },
    /// `DELINFO <var>`.
    DelInfo {
        /// Variable name.
        var: String,
    },
    /// `ADDENUM <var> "<value>"`.
    AddEnum {
        /// Variable name.
        var: String,
        /// Enumerated value.
        value: String,
    },
    /// `DELENUM <var> "<value>"`.
    DelEnum {
        /// Variable name.
        var: String,
        /// Enumerated value.
        value: String,
    },
    /// `ADDRANGE <var> <min> <max>`.
    AddRange {
        /// Variable name.
        var: String,
        /// Lower bound.
        min: i64,
        /// Upper bound.
        max: i64,
    },
    /// `DELRANGE <var> <min> <max>`.
    DelRange {
        /// Variable name.
        var: String,
        /// Lower bound.
        min: i64,
        /// Upper bound.
        max: i64,
    },
    /// `SETAUX <var> <n>`: for STRING variables, the maximum length.
    SetAux {
        /// Variable name.
        var: String,
        /// Aux value.
        aux: i64,
    },
    /// `SETFLAGS <var> <flag>…`: replace the variable's flags.
    SetFlags {
        /// Variable name.
        var: String,
        /// New flags (only the wire part is rendered).
        flags: VarFlags,
    },
    /// `ADDCMD <cmd>`.
    AddCmd {
        /// Instant command name.
        cmd: String,
    },
    /// `DELCMD <cmd>`.
    DelCmd {
        /// Instant command name.
        cmd: String,
    },
    /// `DUMPDONE`: end of a DUMPALL / DUMPVALUE / DUMPSTATUS reply.
    DumpDone,
    /// `DATAOK`.
    DataOk,
    /// `DATASTALE`.
    DataStale,
    /// `PONG`.
    Pong,
    /// `TRACKING <id> <code>`: result of a tracked SET or INSTCMD.
    Tracking {
        /// The tracking id the request carried.
        id: String,
        /// The result.
        status: CmdStatus,
    },
    /// `PID <pid>` (reply to GETPID, NUT 2.8.3+).
    Pid {
        /// The driver's process id.
        pid: i64,
    },
    /// `OK Goodbye` (reply to LOGOUT, NUT 2.8.3+).
    Goodbye,
    /// `ERR <code>`: nut-rs drivers answer a line they cannot understand with this
    /// (`UNKNOWN-COMMAND` or `INVALID-ARGUMENT`); NUT drivers only log such lines.
    Error {
        /// The error code word.
        code: String,
    },
}

/// A line a socket client (upsd, upsdrvctl, a debugging tool) sends to a driver
/// (docs/nut-behaviour.md §3.3).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerMsg {
    /// `DUMPALL`: send the whole state tree, then `DUMPDONE`.
    DumpAll,
    /// `DUMPVALUE <var>` (2.8.3+): one variable, then `DUMPDONE`.
    DumpValue {
        /// Variable name.
        var: String,
    },
    /// `DUMPSTATUS` (2.8.3+): `ups.status`, then `DUMPDONE`.
    DumpStatus,
    /// `PING`.
    Ping,
    /// `GETPID` (2.8.3+).
    GetPid,
    /// `NOBROADCAST` (2.8.1+): stop pushing updates to this connection.
    NoBroadcast,
    /// `BROADCAST [<n>]` (2.8.1+): resume pushing updates; `n <= 0` disables instead.
    Broadcast {
        /// The optional level word, parsed like C's `atoi`.
        level: Option<i64>,
    },
    /// `LOGOUT` (2.8.3+): reply `OK Goodbye` and close.
    Logout,
    /// `INSTCMD <cmd> [<param>] [TRACKING <id>]`.
    InstCmd {
        /// Instant command name.
        cmd: String,
        /// Optional parameter.
        param: Option<String>,
        /// Tracking id; when present the driver answers `TRACKING <id> <code>`.
        tracking: Option<String>,
    },
    /// `SET <var> "<value>" [TRACKING <id>]`.
    Set {
        /// Variable name.
        var: String,
        /// New value (unescaped).
        value: String,
        /// Tracking id; when present the driver answers `TRACKING <id> <code>`.
        tracking: Option<String>,
    },
}

/// Why a line is not a valid message. NUT ignores such lines (upsd silently, drivers with a
/// log line); the caller decides what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The line had no words.
    #[error("empty line")]
    Empty,
    /// The first word is not a command of this direction.
    #[error("unknown command: {command}")]
    UnknownCommand {
        /// The offending first word.
        command: String,
    },
    /// Fewer words than the command needs.
    #[error("{command}: needs at least {min} words, got {got}")]
    TooFewArgs {
        /// Canonical command name.
        command: &'static str,
        /// Minimum number of words, command included.
        min: usize,
        /// Words received, command included.
        got: usize,
    },
    /// The words do not form one of the command's valid shapes (INSTCMD, SET).
    #[error("malformed {command} request")]
    Malformed {
        /// Canonical command name.
        command: &'static str,
    },
}

/// C `atoi`/`strtol(…, 10)` semantics: optional leading whitespace and sign, then digits;
/// anything unparsable yields 0 and overflow saturates. NUT reads numbers this way, so a
/// lenient reading keeps us from rejecting what upsd would accept.
pub(crate) fn atoi(word: &str) -> i64 {
    let s = word.trim_start();
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    // Accumulate towards the sign, as strtol saturates at LONG_MIN or LONG_MAX: i64::MIN
    // itself has no positive counterpart to negate.
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        let d = i64::from(b - b'0');
        n = n.saturating_mul(10);
        n = if negative {
            n.saturating_sub(d)
        } else {
            n.saturating_add(d)
        };
    }
    n
}

fn need<S: AsRef<str>>(words: &[S], command: &'static str, min: usize) -> Result<(), ParseError> {
    if words.len() < min {
        Err(ParseError::TooFewArgs {
            command,
            min,
            got: words.len(),
        })
    } else {
        Ok(())
    }
}

fn word<S: AsRef<str>>(words: &[S], i: usize) -> String {
    words
        .get(i)
        .map(|w| w.as_ref().to_owned())
        .unwrap_or_default()
}

impl DriverMsg {
    /// Parse one tokenized line sent by a driver. Command names are case-insensitive; extra
    /// words are ignored, as upsd does.
    pub fn parse<S: AsRef<str>>(words: &[S]) -> Result<Self, ParseError> {
        let Some(first) = words.first() else {
            return Err(ParseError::Empty);
        };
        let cmd = first.as_ref().to_ascii_uppercase();
        let msg = match cmd.as_str() {
            "SETINFO" => {
                need(words, "SETINFO", 3)?;
                Self::SetInfo {
                    var: word(words, 1),
                    value: word(words, 2),
                }
            }
            "DELINFO" => {
                need(words, "DELINFO", 2)?;
                Self::DelInfo {
                    var: word(words, 1),
                }
            }
            "ADDENUM" => {
                need(words, "ADDENUM", 3)?;
                Self::AddEnum {
                    var: word(words, 1),
                    value: word(words, 2),
                }
            }
            "DELENUM" => {
                need(words, "DELENUM", 3)?;
                Self::DelEnum {
                    var: word(words, 1),
                    value: word(words, 2),
                }
            }
            "ADDRANGE" => {
                need(words, "ADDRANGE", 4)?;
                Self::AddRange {
                    var: word(words, 1),
                    min: atoi(words[2].as_ref()),
                    max: atoi(words[3].as_ref()),
                }
            }
            "DELRANGE" => {
                need(words, "DELRANGE", 4)?;
                Self::DelRange {
                    var: word(words, 1),
                    min: atoi(words[2].as_ref()),
                    max: atoi(words[3].as_ref()),
                }
            }
            "SETAUX" => {
                need(words, "SETAUX", 3)?;
                Self::SetAux {
                    var: word(words, 1),
                    aux: atoi(words[2].as_ref()),
                }
            }
            "SETFLAGS" => {
                need(words, "SETFLAGS", 3)?;
                Self::SetFlags {
                    var: word(words, 1),
                    flags: VarFlags::from_wire_words(&words[2..]),
                }
            }
            "ADDCMD" => {
                need(words, "ADDCMD", 2)?;
                Self::AddCmd {
                    cmd: word(words, 1),
                }
            }
            "DELCMD" => {
                need(words, "DELCMD", 2)?;
                Self::DelCmd {
                    cmd: word(words, 1),
                }
            }
            "DUMPDONE" => Self::DumpDone,
            "DATAOK" => Self::DataOk,
            "DATASTALE" => Self::DataStale,
            "PONG" => Self::Pong,
            "TRACKING" => {
                need(words, "TRACKING", 3)?;
                let code = atoi(words[2].as_ref());
                Self::Tracking {
                    id: word(words, 1),
                    status: CmdStatus::from_code(
                        i32::try_from(code).unwrap_or(CmdStatus::Unknown.code()),
                    ),
                }
            }
            "PID" => {
                need(words, "PID", 2)?;
                Self::Pid {
                    pid: atoi(words[1].as_ref()),
                }
            }
            "OK" if words.len() >= 2 && words[1].as_ref().eq_ignore_ascii_case("Goodbye") => {
                Self::Goodbye
            }
            "ERR" => {
                need(words, "ERR", 2)?;
                Self::Error {
                    code: word(words, 1),
                }
            }
            _ => {
                return Err(ParseError::UnknownCommand {
                    command: first.as_ref().to_owned(),
                });
            }
        };
        Ok(msg)
    }

    /// Parse a raw line (without its LF) with the NUT tokenizer.
    pub fn parse_line(line: &str) -> Result<Self, ParseError> {
        let words = crate::token::split_line(line)
            .map_err(|_| ParseError::Malformed { command: "line" })?;
        Self::parse(&words)
    }

    /// The line with its terminating LF.
    pub fn to_line(&self) -> String {
        let mut out = String::with_capacity(64);
        self.write_line(&mut out);
        out
    }

    /// Append the line and its LF to `out`.
    pub fn write_line(&self, out: &mut String) {
        use fmt::Write as _;
        // Writing into a String cannot fail.
        let _ = write!(out, "{self}");
        out.push('\n');
    }
}

impl fmt::Display for DriverMsg {
    /// The line without LF. Values are always escaped and quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::with_capacity(64);
        let with_value = |out: &mut String, cmd: &str, var: &str, value: &str| {
            out.push_str(cmd);
            out.push(' ');
            push_word(out, var);
            out.push(' ');
            push_quoted(out, value);
        };
        let with_name = |out: &mut String, cmd: &str, name: &str| {
            out.push_str(cmd);
            out.push(' ');
            push_word(out, name);
        };
        match self {
            Self::SetInfo { var, value } => with_value(&mut out, "SETINFO", var, value),
            Self::DelInfo { var } => with_name(&mut out, "DELINFO", var),
            Self::AddEnum { var, value } => with_value(&mut out, "ADDENUM", var, value),
            Self::DelEnum { var, value } => with_value(&mut out, "DELENUM", var, value),
            Self::AddRange { var, min, max } => {
                with_name(&mut out, "ADDRANGE", var);
                out.push_str(&format!(" {min} {max}"));
            }
            Self::DelRange { var, min, max } => {
                with_name(&mut out, "DELRANGE", var);
                out.push_str(&format!(" {min} {max}"));
            }
            Self::SetAux { var, aux } => {
                with_name(&mut out, "SETAUX", var);
                out.push_str(&format!(" {aux}"));
            }
            Self::SetFlags { var, flags } => {
                with_name(&mut out, "SETFLAGS", var);
                for w in flags.wire_words() {
                    out.push(' ');
                    out.push_str(w);
                }
            }
            Self::AddCmd { cmd } => with_name(&mut out, "ADDCMD", cmd),
            Self::DelCmd { cmd } => with_name(&mut out, "DELCMD", cmd),
            Self::DumpDone => out.push_str("DUMPDONE"),
            Self::DataOk => out.push_str("DATAOK"),
            Self::DataStale => out.push_str("DATASTALE"),
            Self::Pong => out.push_str("PONG"),
            Self::Tracking { id, status } => {
                with_name(&mut out, "TRACKING", id);
                out.push_str(&format!(" {status}"));
            }
            Self::Pid { pid } => out.push_str(&format!("PID {pid}")),
            Self::Goodbye => out.push_str("OK Goodbye"),
            Self::Error { code } => with_name(&mut out, "ERR", code),
        }
        f.write_str(&out)
    }
}

impl ServerMsg {
    /// Parse one tokenized line sent to a driver. Command names are case-insensitive.
    pub fn parse<S: AsRef<str>>(words: &[S]) -> Result<Self, ParseError> {
        let Some(first) = words.first() else {
            return Err(ParseError::Empty);
        };
        let cmd = first.as_ref().to_ascii_uppercase();
        let is_tracking = |i: usize| {
            words
                .get(i)
                .is_some_and(|w| w.as_ref().eq_ignore_ascii_case("TRACKING"))
        };
        let msg = match cmd.as_str() {
            "DUMPALL" => Self::DumpAll,
            "DUMPVALUE" => {
                need(words, "DUMPVALUE", 2)?;
                Self::DumpValue {
                    var: word(words, 1),
                }
            }
            "DUMPSTATUS" => Self::DumpStatus,
            "PING" => Self::Ping,
            "GETPID" => Self::GetPid,
            "NOBROADCAST" => Self::NoBroadcast,
            "BROADCAST" => Self::Broadcast {
                level: words.get(1).map(|w| atoi(w.as_ref())),
            },
            "LOGOUT" => Self::Logout,
            "INSTCMD" => {
                let (param, tracking) = match words.len() {
                    2 => (None, None),
                    3 => (Some(word(words, 2)), None),
                    4 if is_tracking(2) => (None, Some(word(words, 3))),
                    5 if is_tracking(3) => (Some(word(words, 2)), Some(word(words, 4))),
                    _ => return Err(ParseError::Malformed { command: "INSTCMD" }),
                };
                Self::InstCmd {
                    cmd: word(words, 1),
                    param,
                    tracking,
                }
            }
            "SET" => {
                let tracking = match words.len() {
                    3 => None,
                    5 if is_tracking(3) => Some(word(words, 4)),
                    _ => return Err(ParseError::Malformed { command: "SET" }),
                };
                Self::Set {
                    var: word(words, 1),
                    value: word(words, 2),
                    tracking,
                }
            }
            _ => {
                return Err(ParseError::UnknownCommand {
                    command: first.as_ref().to_owned(),
                });
            }
        };
        Ok(msg)
    }

    /// Parse a raw line (without its LF) with the NUT tokenizer.
    pub fn parse_line(line: &str) -> Result<Self, ParseError> {
        let words = crate::token::split_line(line)
            .map_err(|_| ParseError::Malformed { command: "line" })?;
        Self::parse(&words)
    }

    /// The line with its terminating LF.
    pub fn to_line(&self) -> String {
        format!("{self}\n")
    }

    /// The tracking id, for SET and INSTCMD.
    pub fn tracking(&self) -> Option<&str> {
        match self {
            Self::InstCmd { tracking, .. } | Self::Set { tracking, .. } => tracking.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for ServerMsg {
    /// The line without LF. Values and parameters are always escaped and quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::with_capacity(64);
        match self {
            Self::DumpAll => out.push_str("DUMPALL"),
            Self::DumpValue { var } => {
                out.push_str("DUMPVALUE ");
                push_word(&mut out, var);
            }
            Self::DumpStatus => out.push_str("DUMPSTATUS"),
            Self::Ping => out.push_str("PING"),
            Self::GetPid => out.push_str("GETPID"),
            Self::NoBroadcast => out.push_str("NOBROADCAST"),
            Self::Broadcast { level: None } => out.push_str("BROADCAST"),
            Self::Broadcast { level: Some(n) } => out.push_str(&format!("BROADCAST {n}")),
            Self::Logout => out.push_str("LOGOUT"),
            Self::InstCmd {
                cmd,
                param,
                tracking,
            } => {
                out.push_str("INSTCMD ");
                push_word(&mut out, cmd);
                if let Some(param) = param {
                    out.push(' ');
                    push_quoted(&mut out, param);
                }
                if let Some(id) = tracking {
                    out.push_str(" TRACKING ");
                    push_word(&mut out, id);
                }
            }
            Self::Set {
                var,
                value,
                tracking,
            } => {
                out.push_str("SET ");
                push_word(&mut out, var);
                out.push(' ');
                push_quoted(&mut out, value);
                if let Some(id) = tracking {
                    out.push_str(" TRACKING ");
                    push_word(&mut out, id);
                }
            }
        }
        f.write_str(&out)
    }
}
