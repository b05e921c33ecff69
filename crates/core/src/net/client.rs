//! Client side: validate and parse the reply to a request the way libupsclient does.
//!
//! Sans-IO: feed the reply's lines (as read from the socket, with or without the LF) to a
//! [`ReplyParser`] made from the request that was sent; it answers `Ok(None)` while it needs
//! more lines (only LIST replies span several) and `Ok(Some(reply))` when done. Lines are
//! split with the NUT tokenizer, so quoted values come back unescaped.
//!
//! Validation follows libupsclient:
//! * `ERR <code> …` → [`ReplyError::Server`] for any request (for `GET TRACKING <id>` it is
//!   the tracking result instead: [`TrackingStatus::Error`]).
//! * GET: the reply's first words must equal the query words after `GET`, ignoring ASCII
//!   case (`GET VAR ups x` → `VAR ups x "…"`).
//! * LIST: the first line must be `BEGIN LIST <query>` (case-insensitive), each item must
//!   start with the query words (case-insensitive; a mismatch is a protocol error, which
//!   `upsc` silently treats as the end of the list), and the list ends at the first line whose
//!   first two words are exactly `END LIST` (case-sensitive; the rest is not checked).
//! * Commands answered with `OK`: the first word must be `OK` (older servers sent plain `OK`
//!   to PRIMARY/MASTER and `Goodbye...` to LOGOUT; both are accepted).

use thiserror::Error;

use super::errors::ErrCode;
use super::reply::{ListItem, OkReply, Reply, VarType};
use super::request::{GetQuery, ListQuery, Request};
use super::tracking::{TrackingId, TrackingStatus};
use crate::token::{self, TokenError};

/// Why a reply could not be used.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ReplyError {
    /// The server answered `ERR <code>`.
    #[error("server error {0}")]
    Server(ErrCode),
    /// The reply does not match the request (libupsclient's "Protocol error").
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The reply line could not be tokenized.
    #[error("unparsable reply line: {0}")]
    Token(#[from] TokenError),
    /// A LIST reply went past [`MAX_LIST_ITEMS`] items or [`MAX_LIST_BYTES`] bytes: the
    /// server is broken or hostile, and the rest of the reply is not read.
    #[error("LIST reply too large: {0}")]
    TooLarge(String),
}

/// Most items accepted in one LIST reply. A real UPS has a few hundred variables and a busy
/// upsd a few thousand clients; beyond this a server is only trying to exhaust our memory.
pub const MAX_LIST_ITEMS: usize = 65_536;

/// Most bytes (lines with their LF) accepted in one LIST reply, for the same reason.
pub const MAX_LIST_BYTES: usize = 8 * 1024 * 1024;

impl ReplyError {
    fn protocol(what: &str, line: &str) -> Self {
        ReplyError::Protocol(format!("{what}: {line:?}"))
    }

    /// The server's error code, if this is an `ERR` reply.
    pub fn code(&self) -> Option<&ErrCode> {
        match self {
            ReplyError::Server(code) => Some(code),
            _ => None,
        }
    }
}

/// Strip one trailing LF (and a CR before it).
fn trim_eol(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

/// `Some(code)` if the words are an `ERR` reply.
fn err_code(words: &[String]) -> Option<ErrCode> {
    match words {
        [err, code, ..] if err == "ERR" => Some(ErrCode::parse(code)),
        [err] if err == "ERR" => Some(ErrCode::Other(String::new())),
        _ => None,
    }
}

/// Whether `words` starts with `prefix`, ignoring ASCII case.
fn starts_with_words(words: &[String], prefix: &[&str]) -> bool {
    words.len() >= prefix.len()
        && words
            .iter()
            .zip(prefix)
            .all(|(w, p)| w.eq_ignore_ascii_case(p))
}

/// Parse the words after `OK`.
fn ok_reply(rest: &[String]) -> OkReply {
    match rest {
        [] => OkReply::Plain,
        [w, id, ..] if w == "TRACKING" => OkReply::Tracking(TrackingId::from_wire(id.as_str())),
        [w] if w == "Goodbye" => OkReply::Goodbye,
        [w] if w == "PRIMARY-GRANTED" => OkReply::PrimaryGranted,
        [w] if w == "MASTER-GRANTED" => OkReply::MasterGranted,
        [w] if w == "FSD-SET" => OkReply::FsdSet,
        [w] if w == "STARTTLS" => OkReply::StartTls,
        rest => OkReply::Other(token::join_words(rest)),
    }
}

/// Parses the reply to one request, line by line.
#[derive(Clone, Debug)]
pub struct ReplyParser {
    expect: Expect,
}

#[derive(Clone, Debug)]
enum Expect {
    Single(Single),
    List(ListCollector),
    Done,
}

/// The kinds of one-line reply.
#[derive(Clone, Debug)]
enum Single {
    /// Free text (VER, HELP, NETVER).
    Text,
    /// `OK …`.
    Ok,
    /// `ON` / `OFF`.
    TrackingMode,
    /// `PENDING` / `SUCCESS` / `ERR …`.
    Tracking,
    /// An echoing GET reply.
    Get(GetQuery),
}

impl ReplyParser {
    /// A parser for the reply to `request`.
    pub fn new(request: &Request) -> Self {
        let single = match request {
            Request::List(query) => {
                return ReplyParser {
                    expect: Expect::List(ListCollector::new(query.clone())),
                };
            }
            Request::Ver | Request::NetVer | Request::ProtVer | Request::Help => Single::Text,
            Request::StartTls
            | Request::Username(_)
            | Request::Password(_)
            | Request::Login { .. }
            | Request::Logout
            | Request::Primary { .. }
            | Request::Master { .. }
            | Request::Fsd { .. }
            | Request::SetVar { .. }
            | Request::SetTracking(_)
            | Request::InstCmd { .. } => Single::Ok,
            Request::Get(GetQuery::TrackingMode) => Single::TrackingMode,
            Request::Get(GetQuery::Tracking(_)) => Single::Tracking,
            Request::Get(query) => Single::Get(query.clone()),
        };
        ReplyParser {
            expect: Expect::Single(single),
        }
    }

    /// Feed the next reply line (LF optional). `Ok(None)`: more lines needed;
    /// `Ok(Some(_))`: the reply is complete. After completion or an error, further lines are
    /// a protocol error.
    pub fn push_line(&mut self, line: &str) -> Result<Option<Reply>, ReplyError> {
        let expect = std::mem::replace(&mut self.expect, Expect::Done);
        let line = trim_eol(line);
        let single = match expect {
            Expect::List(mut collector) => {
                return match collector.push_line(line)? {
                    None => {
                        self.expect = Expect::List(collector);
                        Ok(None)
                    }
                    Some(items) => Ok(Some(Reply::List {
                        query: collector.query,
                        items,
                    })),
                };
            }
            Expect::Done => return Err(ReplyError::protocol("reply already complete", line)),
            Expect::Single(single) => single,
        };
        let words = token::split_line(line)?;
        if let Single::Tracking = single {
            // `ERR …` is the tracking result here, not a failure of the request.
            return TrackingStatus::from_words(&words)
                .map(|status| Some(Reply::Tracking(status)))
                .ok_or_else(|| ReplyError::protocol("not a tracking status", line));
        }
        if let Some(code) = err_code(&words) {
            return Err(ReplyError::Server(code));
        }
        let reply = match single {
            Single::Text => Reply::Text(line.to_owned()),
            Single::Ok => match words.split_first() {
                Some((ok, rest)) if ok == "OK" => Reply::Ok(ok_reply(rest)),
                Some((bye, _)) if bye.starts_with("Goodbye") => Reply::Ok(OkReply::Goodbye),
                _ => return Err(ReplyError::protocol("expected OK", line)),
            },
            Single::TrackingMode => match words.as_slice() {
                [w] if w.eq_ignore_ascii_case("ON") => Reply::TrackingMode(true),
                [w] if w.eq_ignore_ascii_case("OFF") => Reply::TrackingMode(false),
                _ => return Err(ReplyError::protocol("expected ON or OFF", line)),
            },
            Single::Get(query) => parse_get(&query, words, line)?,
            Single::Tracking => return Err(ReplyError::protocol("not a tracking status", line)),
        };
        Ok(Some(reply))
    }

    /// Whether the parser wants no more lines (the reply is complete, or failed).
    pub fn is_done(&self) -> bool {
        matches!(self.expect, Expect::Done)
    }
}

/// Parse a one-line GET reply after its `ERR` check: the echo of the query words, then the
/// payload.
fn parse_get(query: &GetQuery, words: Vec<String>, line: &str) -> Result<Reply, ReplyError> {
    if !starts_with_words(&words, &query.words()) {
        return Err(ReplyError::protocol(
            "reply does not echo the request",
            line,
        ));
    }
    let missing = || ReplyError::protocol("missing value", line);
    // The echo check guarantees that the name words exist.
    let mut it = words.into_iter().skip(1);
    let ups = it.next().unwrap_or_default();
    Ok(match query {
        GetQuery::NumLogins { .. } => Reply::NumLogins {
            ups,
            count: it
                .next()
                .ok_or_else(missing)?
                .parse()
                .map_err(|_| ReplyError::protocol("bad NUMLOGINS count", line))?,
        },
        GetQuery::UpsDesc { .. } => Reply::UpsDesc {
            ups,
            desc: it.next().ok_or_else(missing)?,
        },
        GetQuery::Var { .. } => Reply::Var {
            ups,
            var: it.next().unwrap_or_default(),
            value: it.next().ok_or_else(missing)?,
        },
        GetQuery::Type { .. } => {
            let var = it.next().unwrap_or_default();
            let rest: Vec<String> = it.collect();
            let ty = VarType::from_words(&rest)
                .ok_or_else(|| ReplyError::protocol("bad TYPE words", line))?;
            Reply::Type { ups, var, ty }
        }
        GetQuery::Desc { .. } => Reply::Desc {
            ups,
            var: it.next().unwrap_or_default(),
            desc: it.next().ok_or_else(missing)?,
        },
        GetQuery::CmdDesc { .. } => Reply::CmdDesc {
            ups,
            cmd: it.next().unwrap_or_default(),
            desc: it.next().ok_or_else(missing)?,
        },
        GetQuery::TrackingMode | GetQuery::Tracking(_) => {
            return Err(ReplyError::protocol("not an echoing GET", line));
        }
    })
}

/// Collects the lines of a LIST reply (`BEGIN LIST …`, items, `END LIST …`).
#[derive(Clone, Debug)]
pub struct ListCollector {
    query: ListQuery,
    state: ListState,
    items: Vec<ListItem>,
    /// Bytes of the reply seen so far, LFs included.
    bytes: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListState {
    Begin,
    Items,
    Done,
}

impl ListCollector {
    /// A collector for the reply to `LIST <query>`.
    pub fn new(query: ListQuery) -> Self {
        ListCollector {
            query,
            state: ListState::Begin,
            items: Vec::new(),
            bytes: 0,
        }
    }

    /// The query being collected.
    pub fn query(&self) -> &ListQuery {
        &self.query
    }

    /// Feed the next line (LF optional). `Ok(None)`: more lines needed; `Ok(Some(items))`:
    /// `END LIST` seen. After completion or an error, further lines are a protocol error.
    /// A reply longer than [`MAX_LIST_ITEMS`] items or [`MAX_LIST_BYTES`] bytes is
    /// [`ReplyError::TooLarge`] (and what was collected is dropped).
    pub fn push_line(&mut self, line: &str) -> Result<Option<Vec<ListItem>>, ReplyError> {
        let line = trim_eol(line);
        let state = std::mem::replace(&mut self.state, ListState::Done);
        if state != ListState::Done {
            self.bytes = self.bytes.saturating_add(line.len() + 1);
            if self.bytes > MAX_LIST_BYTES {
                self.items = Vec::new();
                return Err(ReplyError::TooLarge(format!(
                    "more than {MAX_LIST_BYTES} bytes"
                )));
            }
        }
        let words = token::split_line(line)?;
        if state != ListState::Done
            && let Some(code) = err_code(&words)
        {
            return Err(ReplyError::Server(code));
        }
        match state {
            ListState::Done => Err(ReplyError::protocol("list already complete", line)),
            ListState::Begin => {
                let query = self.query.words();
                // Like libupsclient, words after the query are not checked.
                let ok = words.len() >= query.len() + 2
                    && words[0].eq_ignore_ascii_case("BEGIN")
                    && words[1].eq_ignore_ascii_case("LIST")
                    && starts_with_words(&words[2..], &query);
                if !ok {
                    return Err(ReplyError::protocol("expected BEGIN LIST", line));
                }
                self.state = ListState::Items;
                Ok(None)
            }
            ListState::Items => {
                if words.len() >= 2 && words[0] == "END" && words[1] == "LIST" {
                    return Ok(Some(std::mem::take(&mut self.items)));
                }
                if self.items.len() >= MAX_LIST_ITEMS {
                    self.items = Vec::new();
                    return Err(ReplyError::TooLarge(format!(
                        "more than {MAX_LIST_ITEMS} items"
                    )));
                }
                let item = self.parse_item(words, line)?;
                self.items.push(item);
                self.state = ListState::Items;
                Ok(None)
            }
        }
    }

    fn parse_item(&self, words: Vec<String>, line: &str) -> Result<ListItem, ReplyError> {
        if !starts_with_words(&words, &self.query.words()) {
            return Err(ReplyError::protocol(
                "list item does not echo the query",
                line,
            ));
        }
        let bad = || ReplyError::protocol("malformed list item", line);
        let mut it = words.into_iter().skip(1);
        let mut next = || it.next().ok_or_else(bad);
        let number = |s: String| s.parse::<i64>().map_err(|_| bad());
        Ok(match self.query {
            ListQuery::Ups => ListItem::Ups {
                name: next()?,
                desc: next()?,
            },
            ListQuery::Var { .. } => ListItem::Var {
                ups: next()?,
                var: next()?,
                value: next()?,
            },
            ListQuery::Rw { .. } => ListItem::Rw {
                ups: next()?,
                var: next()?,
                value: next()?,
            },
            ListQuery::Cmd { .. } => ListItem::Cmd {
                ups: next()?,
                cmd: next()?,
            },
            ListQuery::Client { .. } => ListItem::Client {
                ups: next()?,
                address: next()?,
            },
            ListQuery::Enum { .. } => ListItem::Enum {
                ups: next()?,
                var: next()?,
                value: next()?,
            },
            ListQuery::Range { .. } => ListItem::Range {
                ups: next()?,
                var: next()?,
                min: number(next()?)?,
                max: number(next()?)?,
            },
        })
    }
}

/// Parse a complete reply given as text (all its lines), for tests and simple callers.
pub fn parse_reply(request: &Request, text: &str) -> Result<Reply, ReplyError> {
    let mut parser = ReplyParser::new(request);
    for line in text.split_inclusive('\n') {
        if let Some(reply) = parser.push_line(line)? {
            return Ok(reply);
        }
    }
    Err(ReplyError::Protocol("reply ended early".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var_list() -> ListCollector {
        let mut collector = ListCollector::new(ListQuery::Var { ups: "x".into() });
        assert_eq!(collector.push_line("BEGIN LIST VAR x"), Ok(None));
        collector
    }

    #[test]
    fn a_list_reply_is_bounded_in_items() {
        let mut collector = var_list();
        for i in 0..MAX_LIST_ITEMS {
            assert_eq!(collector.push_line(&format!("VAR x v{i} \"1\"")), Ok(None));
        }
        let err = collector.push_line("VAR x one.more \"1\"").unwrap_err();
        assert_eq!(
            err,
            ReplyError::TooLarge(format!("more than {MAX_LIST_ITEMS} items"))
        );
        // Nothing is accepted after the error.
        assert!(collector.push_line("END LIST VAR x").is_err());
    }

    #[test]
    fn a_list_reply_is_bounded_in_bytes() {
        let mut collector = var_list();
        let value = "v".repeat(8000);
        let line = format!("VAR x big \"{value}\"");
        let mut sent = "BEGIN LIST VAR x\n".len();
        let err = loop {
            match collector.push_line(&line) {
                Ok(None) => sent += line.len() + 1,
                Ok(Some(_)) => panic!("no END LIST was sent"),
                Err(e) => break e,
            }
            assert!(sent <= MAX_LIST_BYTES, "accepted {sent} bytes");
        };
        assert!(
            matches!(err, ReplyError::TooLarge(ref m) if m.contains("bytes")),
            "{err:?}"
        );
        // A list just under the limits is fine.
        let mut collector = var_list();
        for i in 0..100 {
            assert_eq!(collector.push_line(&format!("VAR x v{i} \"1\"")), Ok(None));
        }
        let items = collector.push_line("END LIST VAR x").unwrap().unwrap();
        assert_eq!(items.len(), 100);
    }
}
