//! `nut-driver`: the framework every nut-rs UPS driver is built on (NUT's `drivers/main.c`
//! and `drivers/dstate.c`; docs/nut-behaviour.md §3 and §8.1). docs/drivers.md is the guide.
//!
//! A driver implements [`Driver`] over a [`Transport`] (its device link, e.g. `nut-serial`)
//! and declares itself with a [`DriverInfo`]; its `main` is one call to [`main`]. The
//! framework provides the rest, with NUT's behaviour:
//!
//! * the common command line (`-a`/`-s`, `-x`, `-D`, `-d`, `-F`/`-FF`/`-B`, `-k`, `-c`, …) —
//!   [`cli`];
//! * ups.conf section handling, `driver.parameter.*` / `driver.flag.*`, `override.*` and
//!   `default.*` — [`config`];
//! * the state tree with NUT's `dstate`/`status`/`alarm` helpers — [`State`];
//! * the socket protocol, decided by the sans-IO [`dispatch::Dispatcher`] (dumps, tracking
//!   order, framework commands `driver.exit`, `driver.reload*`, `driver.killpower`,
//!   `driver.debug`) and carried out by the Unix socket server `STATEPATH/<driver>-<ups>`
//!   (0660, any number of clients, values always escaped) — [`server`];
//! * NUT's failure semantics for every driver, as pure decisions — [`health`]: failed polls
//!   counted to `DATASTALE`, throttled messages, reopening a lost device with back-off,
//!   `driver.state`, `reconnect_*`;
//! * the power-off (`-k`, `driver.killpower`) through `sdcommands` — [`shutdown`];
//!   configuration reloads — [`reload`];
//! * the PID file with a `flock` single-instance guard, background mode, missing runtime
//!   directories created, privilege drop, signals (`-c reload|exit`) — [`process`], over
//!   the plumbing every nut-rs daemon shares ([`nut_daemon`]);
//! * systemd `Type=notify`: `READY=1` once the socket serves, `RELOADING=1`/`READY=1`
//!   around a reload, `STOPPING=1` on the way out, `WATCHDOG=1` when asked;
//! * the event loop (`runner`): poll every `pollinterval`, serve the socket in between,
//!   broadcast every change; [`Device`] runs a driver without the daemon (tests, `-d`).
//!
//! Decisions that matter for compatibility are documented where they are made; the protocol
//! itself lives in the sans-IO [`nut_core::sock`].

pub mod cli;
pub mod config;
pub mod dispatch;
mod driver;
mod error;
mod executor;
pub mod health;
pub mod link;
pub mod log;
pub mod process;
mod reactor;
pub mod reload;
mod runner;
pub mod server;
pub mod shutdown;
mod startup;
mod state;

pub use config::DriverConfig;
pub use driver::{Driver, DriverInfo, NoTransport, Outcome, Transport, VarDecl, VarKind};
pub use error::DriverError;
pub use nut_core::sock::{CmdStatus, VarFlags};
// The logging macros (`notice!`, `debug!(level, …)`, …): nut-daemon's one logger.
pub use nut_daemon::{debug, error, info, notice, warning};
pub use runner::Device;
pub use startup::{NUT_VERSION, main};
pub use state::State;
