//! `dummy-ups`: NUT's simulation and repeater driver (docs/nut-behaviour.md §8.2) on the nut-driver
//! framework.
//!
//! * Dummy mode plays a `.dev` (`dummy-once`), `.seq` (`dummy-loop`) or `.nds` file into the
//!   state tree (module `sim`); every variable can be changed with SET, and the instant commands
//!   it offers (`load.off`, plus `.nds` `CMD:` lines) succeed.
//! * Repeater mode (`port = ups@host[:port]`) mirrors a UPS of a remote upsd and forwards
//!   SET and INSTCMD to it ([`Repeater`]).
//!
//! Two programs are built from this library. `dummy-ups` is the simulation alone: it is what
//! runs for days on test benches and demo machines, and the repeater's network client with
//! its TLS stack (rustls, ring: two thirds of the code) would double its resident memory
//! without ever running. In repeater mode it hands the run, before doing anything else, to
//! `dummy-ups-repeater` next to it (same arguments, same PID: see
//! [`nut_driver::process::exec_companion`]), which has both modes. Which program serves
//! repeater mode is the type parameter of [`run`].

mod datafile;
mod repeater;
mod sim;
mod table;

pub use repeater::Repeater;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use nut_driver::{
    CmdStatus, Driver, DriverConfig, DriverError, DriverInfo, NoTransport, Outcome, State, VarDecl,
};

use crate::sim::{Mode, Sim};

const VARS: &[VarDecl] = &[
    VarDecl::value(
        "mode",
        "Specify mode instead of guessing it from port value (dummy = dummy-loop, dummy-once, repeater)",
    ),
    VarDecl::flag(
        "repeater_disable_strict_start",
        "Do not terminate the driver encountering errors when starting the repeater mode",
    ),
    VarDecl::value(
        "username",
        "Repeater mode: upsd user name for SET and INSTCMD",
    ),
    VarDecl::sensitive("password", "Repeater mode: password of that user"),
    VarDecl::value(
        "forcessl",
        "Repeater mode: never talk to the remote upsd in clear text (yes/no)",
    ),
    VarDecl::value(
        "certverify",
        "Repeater mode: verify the remote upsd's certificate (yes/no)",
    ),
    VarDecl::value(
        "certpath",
        "Repeater mode: CA certificate file or directory for certverify",
    ),
    VarDecl::value(
        "certhost",
        "Repeater mode: name the remote upsd's certificate must carry",
    ),
    VarDecl::value(
        "certpin",
        "Repeater mode: accept only this remote certificate (PEM file)",
    ),
];

/// `driver.version.internal`: NUT 2.8.0's dummy-ups version.
pub const DUMMY_UPS_VERSION: &str = "0.15";

static INFO: DriverInfo = DriverInfo {
    name: "dummy-ups",
    description: "Device simulation and repeater driver",
    // The version of NUT's dummy-ups whose behaviour this one reproduces (NUT 2.8.0's):
    // clients and scripts read `driver.version.internal` as the driver's version, and a
    // drop-in replacement shows what NUT's shows. See docs/compatibility.md.
    version: DUMMY_UPS_VERSION,
    vars: VARS,
};

/// Which mode the driver runs in, and the `driver.parameter.mode` it publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Once,
    Loop,
    /// `dummy-loop` guessed from a file name that is neither .seq nor .dev: published as
    /// `dummy`, as NUT does.
    LoopGuessed,
    Repeater,
}

impl Kind {
    fn from_config(mode: Option<&str>, port: &str) -> Self {
        match mode {
            Some("dummy-once") => return Self::Once,
            Some("dummy-loop" | "dummy") => return Self::Loop,
            Some("repeater") => return Self::Repeater,
            Some(other) => nut_driver::warning!(
                "Unsupported mode '{other}' (dummy-once, dummy-loop, dummy, repeater): \
                 guessing from the port"
            ),
            None => {}
        }
        if port.contains('@') {
            Self::Repeater
        } else if port.ends_with(".seq") {
            Self::Loop
        } else if port.ends_with(".dev") {
            Self::Once
        } else {
            Self::LoopGuessed
        }
    }

    fn published(self) -> &'static str {
        match self {
            Self::Once => "dummy-once",
            Self::Loop => "dummy-loop",
            Self::LoopGuessed => "dummy",
            Self::Repeater => "repeater",
        }
    }
}

/// Where the data file is: absolute as given, `./` and `../` relative to the working
/// directory (the state path), anything else relative to the configuration directory.
fn data_path(port: &str) -> PathBuf {
    let p = Path::new(port);
    if p.is_absolute() || port.starts_with('.') {
        p.to_path_buf()
    } else {
        nut_daemon::paths::confpath().join(p)
    }
}

/// The program that serves repeater mode: [`Repeater`] itself, or [`RepeaterElsewhere`]
/// (the simulation-only `dummy-ups`, which hands repeater runs to `dummy-ups-repeater`).
#[allow(async_fn_in_trait)] // single-threaded runtime: futures need not be Send
pub trait RepeaterMode: Sized {
    /// Whether this mode needs tokio's runtime (the network client, its time-outs, the
    /// forwarding task): [`Driver::TOKIO`] of the program.
    const TOKIO: bool;
    /// Set up repeater mode for this configuration.
    fn open(cfg: &DriverConfig) -> Result<Self, DriverError>;
    /// Connect and copy the remote UPS.
    async fn start(&mut self, state: &mut State) -> Result<(), DriverError>;
    /// Refresh the copy.
    async fn update(&mut self, now: Instant, state: &mut State) -> Result<(), DriverError>;
    /// Forward an instant command.
    fn instcmd(&mut self, cmd: &str, param: Option<&str>) -> Outcome;
    /// Forward a SET.
    fn set_var(&mut self, var: &str, value: &str) -> Outcome;
}

impl RepeaterMode for Repeater {
    const TOKIO: bool = true;
    fn open(cfg: &DriverConfig) -> Result<Self, DriverError> {
        Repeater::new(cfg)
    }
    async fn start(&mut self, state: &mut State) -> Result<(), DriverError> {
        Repeater::start(self, state).await
    }
    async fn update(&mut self, now: Instant, state: &mut State) -> Result<(), DriverError> {
        Repeater::update(self, now, state).await
    }
    fn instcmd(&mut self, cmd: &str, param: Option<&str>) -> Outcome {
        Repeater::instcmd(self, cmd, param)
    }
    fn set_var(&mut self, var: &str, value: &str) -> Outcome {
        Repeater::set_var(self, var, value)
    }
}

/// The companion program with repeater mode, next to `dummy-ups`.
pub const REPEATER_PROGRAM: &str = "dummy-ups-repeater";

/// Repeater mode lives in [`REPEATER_PROGRAM`]: opening it runs that program in place of
/// this one, so a value of this type never exists (and no repeater code is linked in).
pub enum RepeaterElsewhere {}

impl RepeaterMode for RepeaterElsewhere {
    // The simulation reads its file and waits only for the framework's poll.
    const TOKIO: bool = false;
    fn open(_cfg: &DriverConfig) -> Result<Self, DriverError> {
        Err(nut_driver::process::exec_companion(REPEATER_PROGRAM))
    }
    async fn start(&mut self, _state: &mut State) -> Result<(), DriverError> {
        match *self {}
    }
    async fn update(&mut self, _now: Instant, _state: &mut State) -> Result<(), DriverError> {
        match *self {}
    }
    fn instcmd(&mut self, _cmd: &str, _param: Option<&str>) -> Outcome {
        match *self {}
    }
    fn set_var(&mut self, _var: &str, _value: &str) -> Outcome {
        match *self {}
    }
}

enum Engine<R> {
    Sim(Sim),
    Repeater(Box<R>),
}

struct DummyUps<R> {
    kind: Kind,
    engine: Engine<R>,
}

impl<R: RepeaterMode> DummyUps<R> {
    fn new(cfg: &DriverConfig) -> Result<(Self, NoTransport), DriverError> {
        let kind = Kind::from_config(cfg.value("mode"), &cfg.port);
        let engine = match kind {
            Kind::Repeater => Engine::Repeater(Box::new(R::open(cfg)?)),
            Kind::Once => Engine::Sim(Sim::new(Mode::Once, data_path(&cfg.port))),
            Kind::Loop | Kind::LoopGuessed => {
                Engine::Sim(Sim::new(Mode::Loop, data_path(&cfg.port)))
            }
        };
        if cfg.nolock {
            // Not silently ignored: there is simply no port to lock.
            nut_driver::notice!("nolock: dummy-ups opens no serial port, nothing to lock");
        }
        Ok((Self { kind, engine }, NoTransport))
    }
}

impl<R: RepeaterMode> Driver for DummyUps<R> {
    type Transport = NoTransport;
    const TOKIO: bool = R::TOKIO;

    async fn init_info(
        &mut self,
        _: &mut NoTransport,
        state: &mut State,
    ) -> Result<(), DriverError> {
        state.set_info("driver.parameter.mode", self.kind.published());
        match &mut self.engine {
            Engine::Sim(sim) => sim.start(Instant::now(), state)?,
            Engine::Repeater(r) => r.start(state).await?,
        }
        if matches!(self.engine, Engine::Sim(_)) {
            state.add_cmd("load.off");
            state.data_ok();
        }
        Ok(())
    }

    async fn update_info(
        &mut self,
        _: &mut NoTransport,
        now: Instant,
        state: &mut State,
    ) -> Result<(), DriverError> {
        match &mut self.engine {
            Engine::Sim(sim) => {
                sim.update(now, state);
                Ok(())
            }
            Engine::Repeater(r) => r.update(now, state).await,
        }
    }

    fn next_update(&self) -> Option<Instant> {
        match &self.engine {
            Engine::Sim(sim) => sim.next_update(),
            Engine::Repeater(_) => None,
        }
    }

    async fn instcmd(
        &mut self,
        _: &mut NoTransport,
        cmd: &str,
        param: Option<&str>,
        state: &mut State,
    ) -> Outcome {
        match &mut self.engine {
            Engine::Repeater(r) => r.instcmd(cmd, param),
            Engine::Sim(_) => {
                // NUT's dummy-ups answers every command with STAT_INSTCMD_UNKNOWN; a
                // simulation is more useful when the commands it offers succeed.
                if state.tree().has_command(cmd) {
                    nut_driver::notice!(
                        "instcmd: simulating [{cmd}] [{}]",
                        param.unwrap_or("(null)")
                    );
                    CmdStatus::Handled.into()
                } else {
                    nut_driver::notice!(
                        "instcmd: unknown command [{cmd}] [{}]",
                        param.unwrap_or("(null)")
                    );
                    CmdStatus::Invalid.into()
                }
            }
        }
    }

    async fn set_var(
        &mut self,
        _: &mut NoTransport,
        var: &str,
        value: &str,
        state: &mut State,
    ) -> Outcome {
        match &mut self.engine {
            Engine::Repeater(r) => r.set_var(var, value),
            Engine::Sim(_) => sim_set(state, var, value).into(),
        }
    }
}

/// SET in a simulation: any variable, typed by dummy-ups' table.
fn sim_set(state: &mut State, var: &str, value: &str) -> CmdStatus {
    if var.starts_with("ups.status") {
        sim::set_status(state, &[value]);
        return CmdStatus::Handled;
    }
    if value.is_empty() {
        state.del_info(var);
        return CmdStatus::Handled;
    }
    if table::is_numeric(var) && value.trim().parse::<f64>().is_err() {
        // STAT_SET_INVALID rather than CONVERSION_FAILED: upsd 2.8.0 reports
        // code 4 as ERR UNKNOWN, code 2 as ERR INVALID-ARGUMENT.
        nut_driver::notice!("setvar: {var} needs a number, not '{value}'");
        return CmdStatus::Invalid;
    }
    sim::set_var(state, var, value);
    CmdStatus::Handled
}

/// The whole driver; `R` decides where repeater mode runs.
pub fn run<R: RepeaterMode>() -> ExitCode {
    nut_driver::main(&INFO, DummyUps::<R>::new)
}
