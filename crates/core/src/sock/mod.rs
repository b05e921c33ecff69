//! The driver socket protocol ("sock protocol", docs/nut-behaviour.md §3): the text lines a driver and
//! upsd (or any other socket client) exchange over `STATEPATH/<driver>-<ups>`.
//!
//! * [`DriverMsg`] — lines a driver sends (SETINFO, ADDENUM, DUMPDONE, PONG, TRACKING, …).
//! * [`ServerMsg`] — lines a client sends to a driver (DUMPALL, PING, SET, INSTCMD, …).
//! * [`VarFlags`] — the flag set carried by SETFLAGS.
//! * [`mirror::DriverState`] — the state tree a client rebuilds from a driver's messages
//!   (what upsd keeps per UPS).
//! * [`tree::StateTree`] — the driver-side state tree, with the change messages it broadcasts
//!   and its DUMPALL / DUMPVALUE renderings.
//!
//! Both message types parse from tokenizer words (command names case-insensitive, NUT's
//! argument-count minimums) and render to one line. Rendering always escapes and quotes
//! values: NUT 2.8.0 broadcasts SETINFO/ADDENUM/DELENUM values raw (docs/nut-behaviour.md §12 item 1),
//! which corrupts values holding `"` or `\`. The parsers accept both forms, since a quoted
//! and a bare single-word value tokenize the same.

mod flags;
mod msg;
mod status;
mod var;

pub mod mirror;
pub mod tree;

#[cfg(test)]
mod tests;

pub use flags::VarFlags;
pub use msg::{DriverMsg, ParseError, ServerMsg};
pub use status::CmdStatus;
pub use var::{Range, Var};
