//! nut-client: a client library for the NUT network protocol (upsd, protocol 1.3,
//! RFC 9271), blocking ([`blocking::Client`]) and async on tokio ([`aio::Client`]).
//!
//! Both clients have the same methods, one per protocol command (`list_ups`, `list_vars`,
//! `get_var`, `set_var`, `instcmd`, `tracking_status`, `login`, `fsd`, …), generated from one
//! sans-IO core, [`proto`]: each command is a [`proto::Call`] — the request line and the
//! conversion of the validated reply into a Rust value — and both clients only move bytes:
//!
//! ```text
//!   proto::get_var(ups, var) ──line()──▶ socket ──▶ upsd
//!                 │                                   │
//!        exchange().push_line(line) ◀── LineReader ◀──┘   (nut_core::net::ReplyParser inside)
//!                 │
//!                 ▼
//!        Ok(value) | Err(Error::Server { code, .. })
//! ```
//!
//! Connection setup: [`ConnectOptions`] (host, port, connect timeout — default from
//! `NUT_DEFAULT_CONNECT_TIMEOUT` —, I/O timeout) and a [`TlsMode`]: no TLS, opportunistic
//! `STARTTLS` (NUT's default for upsc), or TLS required with certificate verification (CA
//! file or directory, expected server name, or a pinned certificate); a server that cannot do
//! TLS is then an error, never a silent downgrade. rustls with the ring provider, explicitly.
//!
//! [`TlsSettings`] holds the same policy in NUT's words (`FORCESSL`, `CERTVERIFY`, `CERTPATH`,
//! `CERTHOST`, plus our `CERTPIN`), as programs read it from ups.conf keys, flags or the
//! `NUT_CERT*` environment variables ([`TLS_ENV`]); `password_in_clear()` on either client
//! tells a program to warn before a password crosses the network unencrypted.
//!
//! Nothing a server sends can exhaust a client: a reply line is at most 16 KiB, a LIST reply
//! at most 65,536 items or 8 MiB ([`Error::ReplyTooLarge`]), and every request's whole reply
//! has a deadline ([`ConnectOptions::call_timeout`], 30 s by default; [`Error::CallTimeout`])
//! on top of the per-read I/O timeout. After either error the connection is not used again.
//! Timeouts given as text are checked ([`parse_timeout_checked`]): at most a year, never a
//! panic.
//!
//! Credentials are sent quoted when they contain spaces, quotes or `#` (libupsclient sends
//! them raw and breaks on such passwords). Every `ERR` code is a typed [`Error::Server`] with
//! predicates such as [`Error::is_access_denied`] and [`Error::is_data_stale`], and
//! [`Error::client_message`] gives the exact text NUT's clients print.
//!
//! UPS identifiers (`upsname[@host[:port]]`, IPv6 in brackets) are parsed by
//! [`nut_core::conf::UpsId`], re-exported here as [`UpsId`].

pub mod aio;
pub mod blocking;
mod config;
mod error;
pub mod proto;
mod tls;

pub use config::{
    CONNECT_TIMEOUT_ENV, ConnectOptions, DEFAULT_CALL_TIMEOUT, MAX_TIMEOUT, TLS_ENV, TimeoutError,
    TlsMode, TlsOptions, TlsSettings, connect_timeout_env, connect_timeout_from_env, parse_timeout,
    parse_timeout_checked,
};
pub use error::{Error, Result};
pub use nut_core::conf::{UpsId, UpsIdError};
pub use nut_core::net::{ErrCode, TrackingId, TrackingStatus, ValueKind, VarType};
pub use proto::{Range, UpsEntry, Variable};
