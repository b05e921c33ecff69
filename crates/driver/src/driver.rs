//! What a driver implements to plug into the framework.

use std::time::Instant;

use nut_core::sock::CmdStatus;

use crate::State;

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

/// A driver failure the framework reports and acts on (usually by exiting).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DriverError(pub String);

impl DriverError {
    /// An error with this message.
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// A UPS driver. The framework owns the state tree, the socket and the main loop; the
/// driver only talks to its device and updates [`State`].
///
/// Callbacks run one at a time on the driver's single thread; while one awaits, socket
/// requests wait (as in NUT, where `upsdrv_updateinfo` blocks the loop), so a driver doing
/// network or device I/O should bound it with timeouts. Every change made to `State` is
/// broadcast to the socket clients when the callback returns.
#[allow(async_fn_in_trait)] // single-threaded runtime: futures need not be Send
pub trait Driver {
    /// Open the device and publish the initial data (`upsdrv_initups` + `upsdrv_initinfo`).
    /// An error stops the driver.
    async fn init_info(&mut self, state: &mut State) -> Result<(), DriverError>;

    /// Poll the device (`upsdrv_updateinfo`). Called every `pollinterval`, and earlier when
    /// [`next_update`](Self::next_update) asks for it. `now` is the time of the call.
    async fn update_info(&mut self, now: Instant, state: &mut State);

    /// An earlier wake-up the driver wants (e.g. the end of a scripted `TIMER`).
    fn next_update(&self) -> Option<Instant> {
        None
    }

    /// Run an instant command. The default refuses everything as NUT's drivers without a
    /// handler do (`STAT_INSTCMD_UNKNOWN`).
    async fn instcmd(&mut self, cmd: &str, param: Option<&str>, state: &mut State) -> CmdStatus {
        let _ = state;
        crate::notice!(
            "instcmd: unknown command [{cmd}] [{}]",
            param.unwrap_or("(null)")
        );
        CmdStatus::Unknown
    }

    /// Set a variable. The default refuses (`STAT_SET_UNKNOWN`).
    async fn set_var(&mut self, var: &str, value: &str, state: &mut State) -> CmdStatus {
        let _ = (value, state);
        crate::notice!("setvar: unknown variable [{var}]");
        CmdStatus::Unknown
    }

    /// Power the load off (`-k`, `driver.killpower`). The default cannot.
    async fn shutdown(&mut self, state: &mut State) -> Result<(), DriverError> {
        let _ = state;
        Err(DriverError::new("shutdown not supported"))
    }

    /// Release the device before exiting (`upsdrv_cleanup`).
    fn cleanup(&mut self) {}
}
