//! `nut-core`: the sans-IO heart of nut-rs.
//!
//! This crate is deterministic: it opens no sockets, reads no files and never looks at a
//! clock. Everything that speaks NUT builds on it:
//!
//! * [`token`] — the NUT tokenizer, one implementation for every config file, the network
//!   protocol (upsd ⇄ clients) and the driver socket protocol (driver ⇄ upsd).
//!
//! Bytes come in, typed values come out; the daemons and tools around it only move bytes.

pub mod token;
