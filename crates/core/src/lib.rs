//! `nut-core`: the sans-IO heart of nut-rs.
//!
//! This crate is deterministic: it opens no sockets, reads no files and never looks at a
//! clock. Everything that speaks NUT builds on it:
//!
//! * [`token`] — the NUT tokenizer, one implementation for every config file, the network
//!   protocol (upsd ⇄ clients) and the driver socket protocol (driver ⇄ upsd).
//! * [`conf`] — typed parsers for ups.conf, upsd.conf, upsd.users, upsmon.conf,
//!   upssched.conf, nut.conf and hosts.conf, with file:line errors and warnings.
//! * [`net`] — the network protocol (RFC 9271, protocol 1.3) as data: requests, replies and
//!   `ERR` codes, parsed and rendered.
//! * [`sock`] — the driver socket protocol, both directions.
//! * [`names`] — `ups.status` tokens and upsmon notification types.
//! * [`cnum`] — C's `strtol`/`atoi`/`strtod` prefix parsing, whose results NUT publishes.
//!
//! Bytes come in, typed values come out; the daemons and tools around it only move bytes.
//!
//! No I/O by construction: `#![forbid(unsafe_code)]`, and clippy refuses clocks, sleeps,
//! sockets, files and processes here (`clippy.toml`, shared with the other pure crates).
#![forbid(unsafe_code)]

pub mod cnum;
pub mod conf;
pub mod names;
pub mod net;
pub mod sock;
pub mod token;
