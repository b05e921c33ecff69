//! The NUT network protocol (upsd ⇄ clients, protocol 1.3, RFC 9271) as data.
//!
//! No sockets here: requests and replies are parsed from, and rendered to, text. The data
//! flow of one round trip:
//!
//! ```text
//!  client                                   server (upsd)
//!  ------                                   -------------
//!  Request ──write_line──▶ "GET VAR ups x\n" ──▶ token::Tokenizer ──▶ Line { words }
//!                                                   │
//!                          Command::from_word ◀─────┘   UNKNOWN-COMMAND
//!                          Command::check_credentials_present   USERNAME-/PASSWORD-REQUIRED
//!                          Request::parse_args                  INVALID-ARGUMENT
//!                                                   │
//!                                       server state checks (UNKNOWN-UPS, DATA-STALE, …)
//!                                                   │
//!  ReplyParser::push_line ◀── "VAR ups x \"v\"\n" ◀─ reply::write_* / Reply::write_to
//!        │
//!        ▼
//!  Reply::Var { … }  or  ReplyError::Server(ErrCode)
//! ```
//!
//! * [`errors`] — [`ErrCode`], every `ERR` word with libupsclient's message.
//! * [`request`] — [`Command`], [`Request`] ([`GetQuery`], [`ListQuery`]): parsing with
//!   upsd's exact argument errors, rendering as a correct client sends it. Its module docs
//!   give the order in which upsd applies its checks.
//! * [`reply`] — [`Reply`] and the server's byte-exact renderers (`write_*`), constants for
//!   the 2.8.0 texts (`VER`, `HELP`, fallbacks).
//! * [`client`] — [`ReplyParser`] / [`ListCollector`]: libupsclient's validation of a reply
//!   against the request, line by line.
//! * [`tracking`] — [`TrackingId`], [`TrackingStatus`] (protocol 1.3 status tracking).

pub mod client;
pub mod errors;
pub mod reply;
pub mod request;
pub mod tracking;

pub use client::{ListCollector, ReplyError, ReplyParser, parse_reply};
pub use errors::ErrCode;
pub use reply::{ListItem, OkReply, Reply, ValueKind, VarType};
pub use request::{Command, GetQuery, ListQuery, Request};
pub use tracking::{TrackingId, TrackingStatus};

/// The IANA port of the NUT network protocol.
pub const DEFAULT_PORT: u16 = 3493;
