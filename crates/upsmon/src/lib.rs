//! `nut-upsmon`: upsmon's and upssched's decision logic as deterministic state machines.
//!
//! Nothing in this library opens a socket, runs a process or reads a clock: inputs (poll
//! results, timer expiries, upssched requests) come in together with the current [`Time`],
//! and the machines answer with actions for a thin shell to carry out. That makes every
//! shutdown decision testable in virtual time.
//!
//! * [`Monitor`] — upsmon: per-UPS state, poll results and time in; notifications, FSD,
//!   NUMLOGINS queries and the shutdown out (docs/nut-behaviour.md §6).
//! * [`notify`] — NOTIFYMSG/NOTIFYFLAG: from a [`Notification`] to text, channels and the
//!   NOTIFYCMD environment.
//! * [`upssched`] — the AT-rule matcher and the timer daemon's state machine (§7).
//! * [`clock`] — the [`Time`] type: milliseconds since an epoch the caller picks (a
//!   monotonic start instant in the daemons, zero in tests). Every "N seconds have passed"
//!   decision uses NUT's whole-second `time_t` arithmetic, so thresholds trip on the same
//!   poll as in NUT.
//! * [`config`] — [`MonitorConfig`] (with NUT's defaults) and [`MonitorEntry`].
//!
//! The `upsmon` and `upssched` binaries (crate `nut-upsmon-bin`) are thin shells over these types.
//! This crate depends on no runtime and does no I/O: `#![forbid(unsafe_code)]`, and clippy
//! refuses clocks, sleeps, sockets, files and processes here (`clippy.toml`).
#![forbid(unsafe_code)]

pub mod clock;
pub mod config;
#[doc(hidden)]
pub mod invariants;
pub mod monitor;
pub mod notify;
pub mod upssched;

pub use clock::Time;
pub use config::{ConfigError, MonitorConfig, MonitorEntry, Role, ShutdownExit, entries_from};
pub use monitor::{Action, Monitor, MonitorId, Notification, PollResult, ShutdownReason};
