//! `nut-driver`: the framework every nut-rs UPS driver is built on (NUT's `drivers/main.c`
//! and `drivers/dstate.c`; docs/nut-behaviour.md §3 and §8.1).
//!
//! A driver implements [`Driver`] (open the device and publish, poll, run instant commands,
//! set variables, kill power) and declares itself with a [`DriverInfo`]; its `main` is one
//! call to [`main`]. The framework provides the rest, with NUT's behaviour:
//!
//! * the common command line (`-a`/`-s`, `-x`, `-D`, `-d`, `-F`/`-FF`/`-B`, `-k`, `-c`, …) —
//!   [`cli`];
//! * ups.conf section handling, `driver.parameter.*` / `driver.flag.*`, `override.*` and
//!   `default.*` — [`config`];
//! * the state tree with NUT's `dstate`/`status`/`alarm` helpers — [`State`];
//! * the Unix socket `STATEPATH/<driver>-<ups>` (0660) serving any number of clients with
//!   the full socket protocol, values always escaped — [`server`];
//! * the PID file with a `flock` single-instance guard, background mode, missing runtime
//!   directories created, privilege drop, signals (`-c reload|exit`) — [`process`], over
//!   the plumbing every nut-rs daemon shares ([`nut_daemon`]);
//! * systemd `Type=notify`: `READY=1` once the socket serves, `RELOADING=1`/`READY=1`
//!   around a reload, `STOPPING=1` on the way out, `WATCHDOG=1` when asked;
//! * the main loop: poll every `pollinterval`, serve the socket in between, broadcast every
//!   change, framework commands (`driver.exit`, `driver.reload*`, `driver.killpower`).
//!
//! Decisions that matter for compatibility are documented where they are made; the protocol
//! itself lives in the sans-IO [`nut_core::sock`].

pub mod cli;
pub mod config;
mod driver;
pub mod log;
pub mod process;
mod run;
pub mod server;
mod state;

pub use config::DriverConfig;
pub use driver::{Driver, DriverError, DriverInfo, VarDecl, VarKind};
pub use nut_core::sock::{CmdStatus, VarFlags};
pub use run::{NUT_VERSION, main};
pub use state::State;
