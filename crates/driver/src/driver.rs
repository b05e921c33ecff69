//! What a driver implements to plug into the framework: a [`Driver`] (the driver's
//! protocol logic over its state) and a [`Transport`] (the device link), which the
//! framework opens, reopens after a loss and closes. See docs/drivers.md.

use std::time::Instant;

use nut_core::sock::CmdStatus;
use tokio::sync::oneshot;

use crate::{DriverError, State};

/// Whether a `-x`/ups.conf variable of a driver takes a value or is a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarKind {
    /// `name = value` / `-x name=value`.
    Value,
    /// `name` / `-x name`.
    Flag,
}

/// A driver-specific option (NUT's `addvar`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarDecl {
    /// Value or flag.
    pub kind: VarKind,
    /// The option name.
    pub name: &'static str,
    /// One-line description (shown by `-h` and `-L`).
    pub desc: &'static str,
    /// Sensitive values (passwords) are not published as `driver.parameter.*`.
    pub sensitive: bool,
}

impl VarDecl {
    /// A value option.
    pub const fn value(name: &'static str, desc: &'static str) -> Self {
        Self {
            kind: VarKind::Value,
            name,
            desc,
            sensitive: false,
        }
    }

    /// A flag option.
    pub const fn flag(name: &'static str, desc: &'static str) -> Self {
        Self {
            kind: VarKind::Flag,
            name,
            desc,
            sensitive: false,
        }
    }

    /// A value option that is never published (passwords, SNMP secrets).
    pub const fn sensitive(name: &'static str, desc: &'static str) -> Self {
        Self {
            kind: VarKind::Value,
            name,
            desc,
            sensitive: true,
        }
    }
}

/// Static facts about a driver (NUT's `upsdrv_info` + `upsdrv_makevartable`).
#[derive(Clone, Copy, Debug)]
pub struct DriverInfo {
    /// Program name, also the `driver` value in ups.conf and the socket name prefix.
    pub name: &'static str,
    /// Human description for the banner.
    pub description: &'static str,
    /// Published as `driver.version.internal`.
    pub version: &'static str,
    /// Driver-specific options accepted in ups.conf and with `-x`.
    pub vars: &'static [VarDecl],
}

/// The device link of a driver (a serial port, a USB device, a network session…).
///
/// The framework owns its life: [`open`](Self::open) before `init_info`, and again, with
/// back-off, after a poll failed with an error that
/// [needs a reconnect](DriverError::needs_reconnect) (after [`close`](Self::close)). What
/// goes over the link is the driver's business: a driver is written against the concrete
/// transport type (or a trait of its protocol family), so tests can hand it a scripted
/// one.
#[allow(async_fn_in_trait)] // single-threaded runtime: futures need not be Send
pub trait Transport {
    /// Whether the driver publishes `driver.state` (NUT ≥ 2.8.1): drivers with a device do,
    /// so the reconnection progress shows; device-less ones (dummy-ups) keep NUT 2.8.0's
    /// variable set.
    const REPORTS_DRIVER_STATE: bool = true;

    /// Open the device (NUT's `upsdrv_initups`, and the reconnection of later NUT).
    async fn open(&mut self) -> Result<(), DriverError>;

    /// Release the device; [`open`](Self::open) may be called again afterwards.
    fn close(&mut self);
}

/// The transport of a driver without a device: simulations, and relays that manage their
/// own connection (dummy-ups).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTransport;

impl Transport for NoTransport {
    const REPORTS_DRIVER_STATE: bool = false;

    async fn open(&mut self) -> Result<(), DriverError> {
        Ok(())
    }

    fn close(&mut self) {}
}

/// The result of an instant command or SET.
#[derive(Debug)]
pub enum Outcome {
    /// Known now.
    Done(CmdStatus),
    /// Known later (a command forwarded elsewhere): the framework keeps serving the socket
    /// and polling, and answers the client's tracking id when the result arrives. A
    /// dropped sender counts as [`CmdStatus::Failed`].
    Later(oneshot::Receiver<CmdStatus>),
}

impl From<CmdStatus> for Outcome {
    fn from(s: CmdStatus) -> Self {
        Self::Done(s)
    }
}

/// A UPS driver: what it does with its device and its state. The framework owns the state
/// tree, the socket, the main loop, the transport's life and the failure semantics
/// (staleness, log throttling, reconnection, `driver.state`: see [`crate::health`]).
///
/// Callbacks run one at a time on the driver's single thread; while one awaits, socket
/// requests wait (as in NUT, where `upsdrv_updateinfo` blocks the loop), so device I/O must
/// be bounded by timeouts, and anything that may take long (a forwarded command) returns
/// [`Outcome::Later`]. Every change made to `State` is broadcast to the socket clients when
/// the callback returns.
#[allow(async_fn_in_trait)] // single-threaded runtime: futures need not be Send
pub trait Driver {
    /// The device link.
    type Transport: Transport;

    /// How this driver family words its "communications lost" messages.
    const COMM_MESSAGES: crate::health::CommMessages = crate::health::CommMessages::BLAZER;

    /// Whether the driver needs tokio's runtime driven: it awaits tokio's IO (a network
    /// session) or timers (`tokio::time::sleep`, `timeout`, …), or spawns tasks. Its loop
    /// then runs on tokio's current-thread runtime. Otherwise (the default) the framework
    /// runs it on its own executor, which costs a poll of the UPS less CPU (`executor.rs`,
    /// docs/drivers.md); `tokio::task::spawn_blocking` works there too. A driver that
    /// awaits tokio without saying so panics at that await ("no reactor running" or
    /// "timers are disabled"), which its first process test shows.
    const TOKIO: bool = false;

    /// Publish the initial data (`upsdrv_initinfo`); the transport is open. An error stops
    /// the driver.
    async fn init_info(
        &mut self,
        io: &mut Self::Transport,
        state: &mut State,
    ) -> Result<(), DriverError>;

    /// Prepare `-k` once the transport is open. NUT runs only `upsdrv_initups` before
    /// `upsdrv_shutdown`, not `upsdrv_initinfo`, so a driver whose initialisation talks to
    /// the device (walks, rating queries) overrides this to do only what the power-off needs.
    /// The default is [`init_info`](Self::init_info).
    async fn init_shutdown(
        &mut self,
        io: &mut Self::Transport,
        state: &mut State,
    ) -> Result<(), DriverError> {
        self.init_info(io, state).await
    }

    /// Poll the device (`upsdrv_updateinfo`). Called every `pollinterval`, and earlier when
    /// [`next_update`](Self::next_update) asks for it. `now` is the time of the call. A
    /// communication failure ([`DriverError::is_comm_failure`]) is counted by the
    /// framework, which marks the data stale and reopens the transport as NUT's drivers
    /// do; the driver neither calls `data_ok`/`data_stale` for that nor logs it. Other
    /// errors stop the driver.
    async fn update_info(
        &mut self,
        io: &mut Self::Transport,
        now: Instant,
        state: &mut State,
    ) -> Result<(), DriverError>;

    /// An earlier wake-up the driver wants (e.g. the end of a scripted `TIMER`).
    fn next_update(&self) -> Option<Instant> {
        None
    }

    /// Wait for something the device sends on its own (a USB interrupt report, a serial
    /// alert character), for [`handle_event`](Self::handle_event). The framework waits on
    /// it alongside the poll timer and the socket, and drops the future when something
    /// else happens first, so it must be cancel-safe (keep received data in `self`, not in
    /// the future). An error counts like a failed poll. The default never returns.
    async fn wait_event(&mut self, io: &mut Self::Transport) -> Result<(), DriverError> {
        let _ = io;
        std::future::pending().await
    }

    /// Act on what [`wait_event`](Self::wait_event) received (e.g. update `ups.status` from
    /// an interrupt report without waiting for the next poll). An error counts like a
    /// failed poll.
    async fn handle_event(
        &mut self,
        io: &mut Self::Transport,
        now: Instant,
        state: &mut State,
    ) -> Result<(), DriverError> {
        let _ = (io, now, state);
        Ok(())
    }

    /// Run an instant command. The default refuses everything as NUT's drivers without a
    /// handler do (`STAT_INSTCMD_UNKNOWN`).
    async fn instcmd(
        &mut self,
        io: &mut Self::Transport,
        cmd: &str,
        param: Option<&str>,
        state: &mut State,
    ) -> Outcome {
        let _ = (io, state);
        crate::notice!(
            "instcmd: unknown command [{cmd}] [{}]",
            param.unwrap_or("(null)")
        );
        CmdStatus::Unknown.into()
    }

    /// Set a variable. The default refuses (`STAT_SET_UNKNOWN`).
    async fn set_var(
        &mut self,
        io: &mut Self::Transport,
        var: &str,
        value: &str,
        state: &mut State,
    ) -> Outcome {
        let _ = (io, value, state);
        crate::notice!("setvar: unknown variable [{var}]");
        CmdStatus::Unknown.into()
    }

    /// The driver's own power-off sequence, run for `shutdown.default` in `sdcommands`
    /// (NUT's `upsdrv_shutdown`): typically try `shutdown.stop`, then `shutdown.return`
    /// (or `shutdown.stayoff`), each up to [`crate::health::MAXTRIES`] times. The default
    /// cannot ([`DriverError::Unsupported`]).
    async fn shutdown(
        &mut self,
        io: &mut Self::Transport,
        state: &mut State,
    ) -> Result<(), DriverError> {
        let _ = (io, state);
        Err(DriverError::Unsupported("shutdown not supported".into()))
    }

    /// Release what the driver holds before exiting (`upsdrv_cleanup`); the framework
    /// closes the transport afterwards.
    fn cleanup(&mut self, io: &mut Self::Transport) {
        let _ = io;
    }
}
