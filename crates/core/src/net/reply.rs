//! Replies: the typed [`Reply`] both sides share, and the server's renderers that produce
//! exactly the bytes upsd 2.8.0 sends.
//!
//! Every renderer *appends* to a caller-owned `String` and ends the line with LF, so a server
//! can build a whole LIST (BEGIN, items, END) in one buffer and send it with one write. The
//! `write_*` free functions take borrowed names and values (no allocation beyond the buffer);
//! [`Reply::write_to`] renders an owned reply through the same functions.
//!
//! Names: upsd echoes the UPS and variable names as the client spelled them
//! (`GET VAR DUMMY UPS.STATUS` → `VAR DUMMY UPS.STATUS "OL"`), except for `server.*`
//! variables ([`server_var`]), `LIST CLIENT` items (canonical UPS name) and list items, whose
//! variable/command names come from the driver.
//!
//! Quoting: values and descriptions are always written as `"…"` with `\`, `"` and `#`
//! escaped (NUT's `pconf_encode`). Names (UPS, variable, command) are echoed raw, as the
//! client spelled them, like upsd's `%s`. Descriptions from cmdvartab are escaped too, where
//! upsd 2.8.0 sends them raw (docs/nut-behaviour.md §12 item 12): Debian's cmdvartab contains none of the
//! three characters, so the bytes are identical in practice, and escaping keeps a custom
//! cmdvartab with quotes from producing lines clients cannot parse.

use std::fmt::Write as _;

use super::errors::ErrCode;
use super::request::ListQuery;
use super::tracking::{TrackingId, TrackingStatus};
use crate::token;

/// The protocol version answered to NETVER/PROTVER.
pub const PROTOCOL_VERSION: &str = "1.3";
/// The upsd version nut-rs reports (`VER`, `server.version`), matching Debian's.
pub const UPSD_VERSION: &str = "2.8.0";
/// The project URL upsd 2.8.0 prints in `VER` and `server.info`.
pub const UPSD_URL: &str = "http://www.networkupstools.org/";
/// upsd 2.8.0's `HELP` text (PRIMARY/MASTER/FSD/NETVER/PROTVER deliberately not listed).
pub const HELP_TEXT: &str =
    "Commands: HELP VER GET LIST SET INSTCMD LOGIN LOGOUT USERNAME PASSWORD STARTTLS";
/// `GET UPSDESC` fallback when the UPS has no `desc`.
pub const UPSDESC_UNAVAILABLE: &str = "Unavailable";
/// Fallback of `LIST UPS` (no `desc`) and of `GET DESC`/`GET CMDDESC` (not in cmdvartab).
pub const DESC_UNAVAILABLE: &str = "Description unavailable";

/// `Network UPS Tools upsd <version> - <url>`: the `VER` reply and the `server.info` value.
pub fn server_info(version: &str, url: &str) -> String {
    format!("Network UPS Tools upsd {version} - {url}")
}

/// How upsd answers `GET VAR <ups> <var>` when `<var>` starts with `server.` (any case): it
/// ignores the UPS name entirely (it need not exist) and answers from itself. Returns the
/// canonical variable name to put in the reply (`server.info` / `server.version`, even when
/// the client wrote `SERVER.VERSION`), `Err(VAR-NOT-SUPPORTED)` for any other `server.*`, or
/// `None` when `var` is not a `server.*` name (a normal lookup). The values are
/// [`server_info`] and the version.
pub fn server_var(var: &str) -> Option<Result<&'static str, ErrCode>> {
    let prefix = var.get(..7)?;
    if !prefix.eq_ignore_ascii_case("server.") {
        return None;
    }
    Some(if var.eq_ignore_ascii_case("server.info") {
        Ok("server.info")
    } else if var.eq_ignore_ascii_case("server.version") {
        Ok("server.version")
    } else {
        Err(ErrCode::VarNotSupported)
    })
}

/// The `OK` family.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OkReply {
    /// `OK` (USERNAME, PASSWORD, LOGIN, SET, INSTCMD without tracking).
    Plain,
    /// `OK TRACKING <id>` (SET VAR / INSTCMD while tracking is on for the connection).
    Tracking(TrackingId),
    /// `OK Goodbye` (LOGOUT).
    Goodbye,
    /// `OK PRIMARY-GRANTED`.
    PrimaryGranted,
    /// `OK MASTER-GRANTED`.
    MasterGranted,
    /// `OK FSD-SET`.
    FsdSet,
    /// `OK STARTTLS` (TLS handshake follows).
    StartTls,
    /// `OK <anything else>` as received from some other server (the words after `OK`).
    Other(String),
}

impl OkReply {
    /// Append the line.
    pub fn write_to(&self, out: &mut String) {
        out.push_str("OK");
        let tail = match self {
            OkReply::Plain => "",
            OkReply::Tracking(id) => {
                out.push_str(" TRACKING ");
                id.as_str()
            }
            OkReply::Goodbye => " Goodbye",
            OkReply::PrimaryGranted => " PRIMARY-GRANTED",
            OkReply::MasterGranted => " MASTER-GRANTED",
            OkReply::FsdSet => " FSD-SET",
            OkReply::StartTls => " STARTTLS",
            OkReply::Other(rest) => {
                out.push(' ');
                rest
            }
        };
        out.push_str(tail);
        out.push('\n');
    }
}

/// The value kind part of a `TYPE` reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// `STRING:<n>`: a string of at most `n` bytes.
    String {
        /// Maximum length (the variable's aux value).
        max_len: i64,
    },
    /// `NUMBER`: what upsd says for everything without the STRING flag — including untyped
    /// strings such as `driver.name` (an upsd quirk reproduced on purpose).
    Number,
}

/// What `GET TYPE` reports: `TYPE <ups> <var>[ RW][ ENUM][ RANGE] STRING:<n>|NUMBER`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VarType {
    /// ` RW`: writable.
    pub rw: bool,
    /// ` ENUM`: has an enum list.
    pub enumerated: bool,
    /// ` RANGE`: has a range list.
    pub range: bool,
    /// ` STRING:<n>` or ` NUMBER`. `None` only when a (non-upsd) server named neither.
    pub kind: Option<ValueKind>,
}

impl VarType {
    /// The type upsd derives from a variable's state: the RW and STRING flags, the aux
    /// value (string length), and whether enum / range lists exist.
    pub fn from_flags(rw: bool, string: bool, aux: i64, has_enum: bool, has_range: bool) -> Self {
        VarType {
            rw,
            enumerated: has_enum,
            range: has_range,
            kind: Some(if string {
                ValueKind::String { max_len: aux }
            } else {
                ValueKind::Number
            }),
        }
    }

    /// Append the type words, each preceded by a space (` RW ENUM NUMBER`).
    pub fn write_words(&self, out: &mut String) {
        if self.rw {
            out.push_str(" RW");
        }
        if self.enumerated {
            out.push_str(" ENUM");
        }
        if self.range {
            out.push_str(" RANGE");
        }
        match self.kind {
            Some(ValueKind::String { max_len }) => {
                let _ = write!(out, " STRING:{max_len}");
            }
            Some(ValueKind::Number) => out.push_str(" NUMBER"),
            None => {}
        }
    }

    /// Parse the words after `TYPE <ups> <var>`. Unknown words are ignored (newer or other
    /// servers may add some); `None` if a `STRING:` length is not a number.
    pub fn from_words<S: AsRef<str>>(words: &[S]) -> Option<VarType> {
        let mut ty = VarType {
            rw: false,
            enumerated: false,
            range: false,
            kind: None,
        };
        for word in words {
            let word = word.as_ref();
            if word == "RW" {
                ty.rw = true;
            } else if word == "ENUM" {
                ty.enumerated = true;
            } else if word == "RANGE" {
                ty.range = true;
            } else if word == "NUMBER" {
                ty.kind = Some(ValueKind::Number);
            } else if let Some(len) = word.strip_prefix("STRING:") {
                ty.kind = Some(ValueKind::String {
                    max_len: len.parse().ok()?,
                });
            }
        }
        Some(ty)
    }
}

/// One item line of a LIST reply. Names are as printed by the server; values unescaped.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ListItem {
    /// `UPS <name> "<desc>"`.
    Ups {
        /// UPS name (canonical, from ups.conf).
        name: String,
        /// Description, or [`DESC_UNAVAILABLE`].
        desc: String,
    },
    /// `VAR <ups> <var> "<value>"`.
    Var {
        /// UPS name as the client spelled it.
        ups: String,
        /// Variable name (canonical, from the driver).
        var: String,
        /// Value.
        value: String,
    },
    /// `RW <ups> <var> "<value>"`.
    Rw {
        /// UPS name as the client spelled it.
        ups: String,
        /// Variable name (canonical).
        var: String,
        /// Value.
        value: String,
    },
    /// `CMD <ups> <cmd>`.
    Cmd {
        /// UPS name as the client spelled it.
        ups: String,
        /// Command name (canonical).
        cmd: String,
    },
    /// `CLIENT <ups> <address>`.
    Client {
        /// UPS name (canonical — upsd prints the ups.conf spelling here).
        ups: String,
        /// Client IP address as printed by inet_ntop.
        address: String,
    },
    /// `ENUM <ups> <var> "<value>"`.
    Enum {
        /// UPS name as the client spelled it.
        ups: String,
        /// Variable name as the client spelled it.
        var: String,
        /// One allowed value.
        value: String,
    },
    /// `RANGE <ups> <var> "<min>" "<max>"`.
    Range {
        /// UPS name as the client spelled it.
        ups: String,
        /// Variable name as the client spelled it.
        var: String,
        /// Lower bound.
        min: i64,
        /// Upper bound.
        max: i64,
    },
}

impl ListItem {
    /// Append the item line.
    pub fn write_to(&self, out: &mut String) {
        match self {
            ListItem::Ups { name, desc } => write_list_ups(out, name, desc),
            ListItem::Var { ups, var, value } => write_list_var(out, ups, var, value),
            ListItem::Rw { ups, var, value } => write_list_rw(out, ups, var, value),
            ListItem::Cmd { ups, cmd } => write_list_cmd(out, ups, cmd),
            ListItem::Client { ups, address } => write_list_client(out, ups, address),
            ListItem::Enum { ups, var, value } => write_list_enum(out, ups, var, value),
            ListItem::Range { ups, var, min, max } => write_list_range(out, ups, var, *min, *max),
        }
    }
}

/// A whole reply to one request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    /// `OK …`.
    Ok(OkReply),
    /// `ERR <code>`.
    Err(ErrCode),
    /// A free-text line: VER, HELP, NETVER/PROTVER.
    Text(String),
    /// `ON` / `OFF` for `GET TRACKING`.
    TrackingMode(bool),
    /// `PENDING` / `SUCCESS` / `ERR <code>` for `GET TRACKING <id>`.
    Tracking(TrackingStatus),
    /// `NUMLOGINS <ups> <n>`.
    NumLogins {
        /// UPS name as the client spelled it.
        ups: String,
        /// Number of LOGINs on the UPS.
        count: u64,
    },
    /// `UPSDESC <ups> "<desc>"`.
    UpsDesc {
        /// UPS name as the client spelled it.
        ups: String,
        /// Description, or [`UPSDESC_UNAVAILABLE`].
        desc: String,
    },
    /// `VAR <ups> <var> "<value>"`.
    Var {
        /// UPS name as the client spelled it.
        ups: String,
        /// Variable name as the client spelled it.
        var: String,
        /// Value.
        value: String,
    },
    /// `TYPE <ups> <var> …`.
    Type {
        /// UPS name as the client spelled it.
        ups: String,
        /// Variable name as the client spelled it.
        var: String,
        /// The type words.
        ty: VarType,
    },
    /// `DESC <ups> <var> "<desc>"`.
    Desc {
        /// UPS name as the client spelled it.
        ups: String,
        /// Variable name as the client spelled it.
        var: String,
        /// Description, or [`DESC_UNAVAILABLE`].
        desc: String,
    },
    /// `CMDDESC <ups> <cmd> "<desc>"`.
    CmdDesc {
        /// UPS name as the client spelled it.
        ups: String,
        /// Command name as the client spelled it.
        cmd: String,
        /// Description, or [`DESC_UNAVAILABLE`].
        desc: String,
    },
    /// `BEGIN LIST <query>`, the items, `END LIST <query>`.
    List {
        /// The query, names as the client spelled them.
        query: ListQuery,
        /// The items in server order.
        items: Vec<ListItem>,
    },
}

impl Reply {
    /// Append all lines of the reply.
    pub fn write_to(&self, out: &mut String) {
        match self {
            Reply::Ok(ok) => ok.write_to(out),
            Reply::Err(code) => write_err(out, code),
            Reply::Text(text) => write_text(out, text),
            Reply::TrackingMode(on) => write_tracking_mode(out, *on),
            Reply::Tracking(status) => status.write_line(out),
            Reply::NumLogins { ups, count } => write_numlogins(out, ups, *count),
            Reply::UpsDesc { ups, desc } => write_upsdesc(out, ups, desc),
            Reply::Var { ups, var, value } => write_var(out, ups, var, value),
            Reply::Type { ups, var, ty } => write_type(out, ups, var, ty),
            Reply::Desc { ups, var, desc } => write_desc(out, ups, var, desc),
            Reply::CmdDesc { ups, cmd, desc } => write_cmddesc(out, ups, cmd, desc),
            Reply::List { query, items } => {
                write_begin_list(out, query);
                for item in items {
                    item.write_to(out);
                }
                write_end_list(out, query);
            }
        }
    }

    /// The reply as a new string.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_to(&mut out);
        out
    }
}

/// Append `<a> <b> "<escaped value>"\n`-style lines: raw words, then one quoted value.
fn write_words_and_value(out: &mut String, words: &[&str], value: &str) {
    for word in words {
        out.push_str(word);
        out.push(' ');
    }
    token::push_quoted(out, value);
    out.push('\n');
}

/// `OK\n`.
pub fn write_ok(out: &mut String) {
    out.push_str("OK\n");
}

/// `ERR <code>\n`.
pub fn write_err(out: &mut String, code: &ErrCode) {
    out.push_str("ERR ");
    out.push_str(code.as_str());
    out.push('\n');
}

/// A free-text line (`VER`, `HELP`, `NETVER` replies): `<text>\n`.
pub fn write_text(out: &mut String, text: &str) {
    out.push_str(text);
    out.push('\n');
}

/// `ON\n` / `OFF\n` (the `GET TRACKING` reply).
pub fn write_tracking_mode(out: &mut String, on: bool) {
    out.push_str(if on { "ON\n" } else { "OFF\n" });
}

/// `NUMLOGINS <ups> <n>\n`.
pub fn write_numlogins(out: &mut String, ups: &str, count: u64) {
    let _ = writeln!(out, "NUMLOGINS {ups} {count}");
}

/// `UPSDESC <ups> "<desc>"\n` (pass [`UPSDESC_UNAVAILABLE`] when there is none).
pub fn write_upsdesc(out: &mut String, ups: &str, desc: &str) {
    write_words_and_value(out, &["UPSDESC", ups], desc);
}

/// `VAR <ups> <var> "<value>"\n` (GET VAR and LIST VAR items).
pub fn write_var(out: &mut String, ups: &str, var: &str, value: &str) {
    write_words_and_value(out, &["VAR", ups, var], value);
}

/// `TYPE <ups> <var>[ RW][ ENUM][ RANGE] STRING:<n>|NUMBER\n`.
pub fn write_type(out: &mut String, ups: &str, var: &str, ty: &VarType) {
    out.push_str("TYPE ");
    out.push_str(ups);
    out.push(' ');
    out.push_str(var);
    ty.write_words(out);
    out.push('\n');
}

/// `DESC <ups> <var> "<desc>"\n` (pass [`DESC_UNAVAILABLE`] when there is none).
pub fn write_desc(out: &mut String, ups: &str, var: &str, desc: &str) {
    write_words_and_value(out, &["DESC", ups, var], desc);
}

/// `CMDDESC <ups> <cmd> "<desc>"\n` (pass [`DESC_UNAVAILABLE`] when there is none).
pub fn write_cmddesc(out: &mut String, ups: &str, cmd: &str, desc: &str) {
    write_words_and_value(out, &["CMDDESC", ups, cmd], desc);
}

/// `BEGIN LIST <query>\n`.
pub fn write_begin_list(out: &mut String, query: &ListQuery) {
    out.push_str("BEGIN LIST ");
    query.write_query(out);
    out.push('\n');
}

/// `END LIST <query>\n`.
pub fn write_end_list(out: &mut String, query: &ListQuery) {
    out.push_str("END LIST ");
    query.write_query(out);
    out.push('\n');
}

/// `UPS <name> "<desc>"\n` (pass [`DESC_UNAVAILABLE`] when there is none).
pub fn write_list_ups(out: &mut String, name: &str, desc: &str) {
    write_words_and_value(out, &["UPS", name], desc);
}

/// `VAR <ups> <var> "<value>"\n`.
pub fn write_list_var(out: &mut String, ups: &str, var: &str, value: &str) {
    write_var(out, ups, var, value);
}

/// `RW <ups> <var> "<value>"\n`.
pub fn write_list_rw(out: &mut String, ups: &str, var: &str, value: &str) {
    write_words_and_value(out, &["RW", ups, var], value);
}

/// `CMD <ups> <cmd>\n`.
pub fn write_list_cmd(out: &mut String, ups: &str, cmd: &str) {
    let _ = writeln!(out, "CMD {ups} {cmd}");
}

/// `CLIENT <ups> <address>\n`.
pub fn write_list_client(out: &mut String, ups: &str, address: &str) {
    let _ = writeln!(out, "CLIENT {ups} {address}");
}

/// `ENUM <ups> <var> "<value>"\n`.
pub fn write_list_enum(out: &mut String, ups: &str, var: &str, value: &str) {
    write_words_and_value(out, &["ENUM", ups, var], value);
}

/// `RANGE <ups> <var> "<min>" "<max>"\n`.
pub fn write_list_range(out: &mut String, ups: &str, var: &str, min: i64, max: i64) {
    let _ = writeln!(out, "RANGE {ups} {var} \"{min}\" \"{max}\"");
}
