//! The driver's event loop, a thin shell over the pure parts: it polls the driver when due,
//! feeds socket events to the [`Dispatcher`] and carries out its outputs, runs the calls it
//! asks for, applies the [`Health`] decisions after every poll, reopens a lost transport
//! when due, and handles signals, reloads and the systemd watchdog. It waits in a
//! [`Reactor`] of its own, not in tokio's loop (why: [`crate::executor`]).

use std::future::{Future, poll_fn};
use std::path::PathBuf;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nut_core::sock::{CmdStatus, VarFlags};
use nut_daemon::notify::{self, Watchdog};
use tokio::sync::oneshot;

use crate::cli::{Cli, Target};
use crate::config::{self, DriverConfig};
use crate::dispatch::{Call, CallId, Dispatcher, Output, Settings};
use crate::health::{Effect, Health};
use crate::reactor::Reactor;
use crate::reload::ReloadDiff;
use crate::server::{Event, Server};
use crate::{Driver, DriverInfo, Outcome, State, Transport, log, shutdown};

/// Exit status used after `reload-or-exit` found changes that need a restart (NUT: 128 +
/// SIGUSR1), so a supervisor restarts the driver.
const EXIT_RELOAD_NEEDS_RESTART: i32 = 128 + 10;

/// Publish what the framework owns before the driver's `init_info`: `device.type`, the
/// versions and name, `driver.parameter.*` / `driver.flag.*`, `default.*` and the immutable
/// `override.*` values (so the driver's own updates cannot replace them).
pub(crate) fn publish_framework_vars(info: &DriverInfo, cfg: &DriverConfig, state: &mut State) {
    state.set_info("device.type", "ups");
    state.set_info("driver.version", crate::NUT_VERSION);
    state.set_info("driver.version.internal", info.version);
    state.set_info("driver.name", info.name);
    for (name, value) in &cfg.published {
        state.set_info(name, value);
    }
    for (var, value) in &cfg.defaults {
        state.set_info(var, value);
    }
    for (var, value) in &cfg.overrides {
        state.tree_mut().force_info(var, value);
        state.add_flags(var, VarFlags::IMMUTABLE);
    }
    state.set_ignorelb(cfg.ignorelb);
}

/// After the first update, `device.mfr/model/serial` take the `ups.*` values when those
/// exist (NUT 2.8.0 copies them over whatever the driver published as `device.*`).
pub(crate) fn copy_device_info(state: &mut State) {
    for what in ["mfr", "model", "serial"] {
        if let Some(v) = state.get(&format!("ups.{what}")).map(str::to_owned) {
            state.set_info(&format!("device.{what}"), &v);
        }
    }
}

/// The lines printed when `ignorelb` is set but the battery state cannot be told.
pub(crate) fn ignorelb_unusable(cfg: &DriverConfig, state: &State) -> Option<Vec<String>> {
    (cfg.ignorelb && state.battery_low().is_none()).then(|| {
        vec![
            "The 'ignorelb' flag is set, but there is no way to determine the".into(),
            "battery state of charge.".into(),
            String::new(),
            "Only set this flag if both 'battery.charge' and 'battery.charge.low'".into(),
            "and/or 'battery.runtime' and 'battery.runtime.low' are available.".into(),
        ]
    })
}

/// A driver, its transport and the state they publish, with the framework's failure
/// semantics applied: what the daemon loop and the one-shot modes (`-d`, `-k`) drive, and
/// what a driver's tests can drive directly (init, polls, reopens) without a process.
pub struct Device<D: Driver> {
    pub(crate) driver: D,
    pub(crate) io: D::Transport,
    pub(crate) state: State,
    pub(crate) health: Health,
    pub(crate) poll_interval: Duration,
    /// Publish `driver.state` (drivers with a device; see compatibility.md).
    pub(crate) report_state: bool,
    /// Set by an [`Effect::Exit`] or a fatal poll error.
    pub(crate) exit: Option<i32>,
    /// Where the [`Health`] decisions go, applied and emptied at once (kept from poll to
    /// poll, so that a good poll allocates nothing).
    effects: Vec<Effect>,
}

impl<D: Driver> Device<D> {
    /// A device for `driver` over `io` (closed), with the configuration's poll interval and
    /// reconnection policy.
    pub fn new(driver: D, io: D::Transport, cfg: &DriverConfig) -> Self {
        Self {
            driver,
            io,
            state: State::new(),
            health: Health::with_messages(&cfg.ups_name, cfg.reconnect, D::COMM_MESSAGES),
            poll_interval: cfg.poll_interval,
            report_state: <D::Transport as Transport>::REPORTS_DRIVER_STATE,
            exit: None,
            effects: Vec::new(),
        }
    }

    /// The published state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The driver.
    pub fn driver(&self) -> &D {
        &self.driver
    }

    /// The transport.
    pub fn transport(&self) -> &D::Transport {
        &self.io
    }

    /// Whether the transport is closed after a loss, waiting for [`reopen`](Self::reopen).
    pub fn is_lost(&self) -> bool {
        self.health.is_lost()
    }

    /// The exit status the framework would stop with now (`reconnect_max_tries` exceeded,
    /// a fatal error), if any.
    pub fn exit_requested(&self) -> Option<i32> {
        self.exit
    }

    /// Publish `driver.state` (when this driver reports it).
    pub fn set_driver_state(&mut self, value: &str) {
        if self.report_state {
            self.state.set_info("driver.state", value);
        }
    }

    /// Open the transport and publish the initial data (`upsdrv_initups`,
    /// `upsdrv_initinfo`).
    pub async fn init(&mut self) -> Result<(), crate::DriverError> {
        self.set_driver_state("init.device");
        self.io.open().await?;
        self.set_driver_state("init.info");
        self.driver.init_info(&mut self.io, &mut self.state).await
    }

    /// Open the transport and prepare a power-off (`-k`: `upsdrv_initups` only).
    pub async fn init_shutdown(&mut self) -> Result<(), crate::DriverError> {
        self.set_driver_state("init.device");
        self.io.open().await?;
        self.driver
            .init_shutdown(&mut self.io, &mut self.state)
            .await
    }

    /// One poll, with NUT's failure semantics applied.
    pub async fn poll(&mut self, now: Instant) {
        let result = self
            .driver
            .update_info(&mut self.io, now, &mut self.state)
            .await;
        let out = &mut self.effects;
        match result {
            Ok(()) => self.health.poll_ok(out),
            Err(e) if e.is_comm_failure() => {
                self.health.poll_failed(now, self.poll_interval, &e, out);
            }
            Err(crate::DriverError::DataStale(why)) => self.health.source_stale(&why, out),
            Err(e) => {
                crate::error!("{e}");
                self.exit = Some(1);
                return;
            }
        }
        self.apply_effects();
    }

    /// What the driver's [`Driver::wait_event`] returned: handle the event; an error in
    /// either step counts like a failed poll.
    pub async fn event(&mut self, received: Result<(), crate::DriverError>, now: Instant) {
        let result = match received {
            Ok(()) => {
                self.driver
                    .handle_event(&mut self.io, now, &mut self.state)
                    .await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {}
            Err(e) if e.is_comm_failure() => {
                self.health
                    .poll_failed(now, self.poll_interval, &e, &mut self.effects);
                self.apply_effects();
            }
            Err(e) => {
                crate::error!("{e}");
                self.exit = Some(1);
            }
        }
    }

    /// Try to reopen the lost transport; poll at once when it is back.
    pub async fn reopen(&mut self, now: Instant) {
        match self.io.open().await {
            Ok(()) => {
                self.health.reopened(&mut self.effects);
                self.apply_effects();
                self.poll(now).await;
            }
            Err(e) => {
                self.health
                    .reopen_failed(now, self.poll_interval, &e, &mut self.effects);
                self.apply_effects();
            }
        }
    }

    /// Carry out the decisions in `effects`, in order, and empty it.
    fn apply_effects(&mut self) {
        let mut effects = std::mem::take(&mut self.effects);
        for e in effects.drain(..) {
            match e {
                Effect::Log(level, msg) => log::log(level, &msg),
                Effect::Debug(level, msg) => log::debug(level, &msg),
                Effect::DataStale => self.state.data_stale(),
                Effect::DataOk => self.state.data_ok(),
                Effect::State(s) => self.set_driver_state(s),
                Effect::Close => self.io.close(),
                Effect::Exit => self.exit = Some(1),
            }
        }
        // The emptied buffer goes back with its capacity.
        self.effects = effects;
    }

    /// When the next poll or reopen attempt is due, given the regular `next_poll`.
    #[must_use]
    pub fn deadline(&self, next_poll: Instant) -> Instant {
        if let Some(at) = self.health.reopen_due() {
            return at;
        }
        match self.driver.next_update() {
            Some(t) if t < next_poll => t,
            _ => next_poll,
        }
    }

    /// Release the driver and its transport (`upsdrv_cleanup`).
    pub fn cleanup(&mut self) {
        self.set_driver_state("cleanup.upsdrv");
        self.driver.cleanup(&mut self.io);
        self.io.close();
    }
}

/// The running daemon.
pub(crate) struct Runner<D: Driver> {
    pub info: &'static DriverInfo,
    pub cfg: DriverConfig,
    pub cli: Cli,
    pub dev: Device<D>,
    pub dispatcher: Dispatcher,
    /// Commands whose result comes later.
    pub pending: Vec<(CallId, oneshot::Receiver<CmdStatus>)>,
    pub socket: PathBuf,
    pub exit: Option<i32>,
}

impl<D: Driver> Runner<D> {
    pub fn new(
        info: &'static DriverInfo,
        cfg: DriverConfig,
        cli: Cli,
        dev: Device<D>,
        socket: PathBuf,
    ) -> Self {
        let dispatcher = Dispatcher::new(Settings {
            cli_debug: cli.debug,
            debug_min: cfg.debug_min,
            allow_killpower: cfg.allow_killpower,
            pid: i64::from(std::process::id()),
        });
        Self {
            info,
            cfg,
            cli,
            dev,
            dispatcher,
            pending: Vec::new(),
            socket,
            exit: None,
        }
    }

    /// The `STATUS=` line systemd shows.
    pub fn status(&self) -> String {
        format!("serving UPS [{}]", self.cfg.ups_name)
    }

    /// Serve until a signal, a fatal error or a framework command stops the driver; the
    /// exit status. One turn: wait ([`Reactor`]), then a stop or reload first, a due poll,
    /// what the driver's futures brought, then the socket; broadcast and answer; write.
    pub async fn main_loop(
        &mut self,
        reactor: &mut Reactor,
        server: &mut Server,
        watchdog: Option<Duration>,
    ) -> i32 {
        let mut watchdog = watchdog.map(|interval| Watchdog::new(interval, Instant::now()));
        let mut next_poll = Instant::now() + self.dev.poll_interval;
        loop {
            let deadline = self.dev.deadline(next_poll);
            let mut wake = watchdog.map_or(deadline, |dog| dog.deadline().min(deadline));
            if let Some(at) = server.resume_at() {
                wake = wake.min(at);
            }
            let woke = match self.wait(reactor, wake).await {
                Ok(w) => w,
                Err(e) => {
                    crate::error!("Fatal error: waiting for events: {e}");
                    return 1;
                }
            };
            for signal in reactor.signals() {
                match signal {
                    Signal::SIGUSR1 => {
                        self.reload(true);
                    }
                    Signal::SIGHUP | Signal::SIGUSR2 => {
                        self.reload(false);
                    }
                    stop => {
                        crate::notice!("Signal {}: exiting", stop as i32);
                        return 0;
                    }
                }
            }
            let now = Instant::now();
            if let Some(dog) = &mut watchdog {
                dog.ping_if_due(now);
            }
            if now >= deadline {
                if self.dev.health.is_lost() {
                    self.dev.reopen(now).await;
                } else {
                    self.dev.poll(now).await;
                }
                if now >= next_poll {
                    next_poll = now + self.dev.poll_interval;
                }
                // The poll's changes go out before the answers to what clients sent
                // meanwhile, as after NUT's `upsdrv_updateinfo`. With polls back to back (a
                // silent device whose read timeout outlasts the poll interval) the socket
                // is still served at every turn: the next wait only looks.
                self.dispatcher.flush(&mut self.dev.state);
            }
            match woke {
                Woke::Io => {}
                Woke::DeviceEvent(received) => self.dev.event(received, Instant::now()).await,
                Woke::CallDone(id, status) => {
                    self.dispatcher.call_done(id, status, &mut self.dev.state);
                }
            }
            server.resume_if_due(now);
            for &ready in reactor.ready() {
                if Server::owns(ready.key()) {
                    server.ready(ready);
                }
            }
            while let Some(ev) = server.next_event() {
                self.socket_event(ev);
            }
            self.dispatcher.flush(&mut self.dev.state);
            self.carry_out(server).await;
            server.flush();
            if let Some(code) = self.exit.or(self.dev.exit) {
                return code;
            }
        }
    }

    /// Wait for the next thing to do: what the device sent on its own, a command's result
    /// that came later, or something in the reactor's set (the socket, a signal) or the
    /// deadline. The driver's futures are polled first: their waker ends the reactor's wait.
    async fn wait(&mut self, reactor: &mut Reactor, deadline: Instant) -> std::io::Result<Woke> {
        let lost = self.dev.health.is_lost();
        let Device { driver, io, .. } = &mut self.dev;
        let pending = &mut self.pending;
        // Made afresh at every wait and dropped after: `wait_event` is cancel-safe.
        let mut event = pin!(driver.wait_event(io));
        poll_fn(|cx| {
            if !lost && let Poll::Ready(received) = event.as_mut().poll(cx) {
                reactor.clear();
                return Poll::Ready(Ok(Woke::DeviceEvent(received)));
            }
            if let Poll::Ready((id, status)) = poll_results(pending, cx) {
                reactor.clear();
                return Poll::Ready(Ok(Woke::CallDone(id, status)));
            }
            reactor.poll_wait(cx, deadline).map_ok(|()| Woke::Io)
        })
        .await
    }

    /// Hand what happened on the socket to the dispatcher.
    fn socket_event(&mut self, ev: Event) {
        match ev {
            Event::Connected(id) => crate::debug!(2, "socket client {id} connected"),
            Event::Closed(id) => {
                crate::debug!(2, "socket client {id} disconnected");
                self.dispatcher.closed(id);
            }
            Event::Request(id, Ok(msg)) => {
                self.dispatcher.request(id, msg, &mut self.dev.state);
            }
            Event::Request(id, Err(bad)) => self.dispatcher.bad_request(id, &bad),
        }
    }

    /// Carry out what the dispatcher decided, running the calls it asks for (whose results
    /// may queue more outputs).
    async fn carry_out(&mut self, server: &mut Server) {
        loop {
            let outputs = self.dispatcher.take_outputs();
            if outputs.is_empty() {
                return;
            }
            for o in outputs {
                match o {
                    Output::Send(id, text) => server.send(id, text),
                    Output::Broadcast(text) => server.broadcast(text),
                    Output::SetBroadcast(id, on) => server.set_broadcast(id, on),
                    Output::Close(id) => server.close_after_flush(id),
                    Output::SetDebug(level) => log::set_debug_level(level),
                    Output::Log(level, msg) => log::log(level, &msg),
                    Output::Exit(code) => self.exit = Some(code),
                    Output::Call(id, call) => self.call(id, call).await,
                }
            }
        }
    }

    async fn call(&mut self, id: CallId, call: Call) {
        let dev = &mut self.dev;
        let outcome = match call {
            Call::InstCmd { cmd, param } => {
                dev.driver
                    .instcmd(&mut dev.io, &cmd, param.as_deref(), &mut dev.state)
                    .await
            }
            Call::Set { var, value } => {
                dev.driver
                    .set_var(&mut dev.io, &var, &value, &mut dev.state)
                    .await
            }
            Call::KillPower => {
                dev.set_driver_state("fsd.killpower");
                let cmds = shutdown::commands(self.cfg.sdcommands.as_deref());
                let verdict =
                    shutdown::run(&mut dev.driver, &mut dev.io, &mut dev.state, &cmds).await;
                let (level, msg) = verdict.message(&self.cfg.ups_name);
                log::log(level, &msg);
                dev.set_driver_state("quiet");
                if matches!(verdict, shutdown::Verdict::Done(_)) {
                    // The UPS is about to cut the power: nothing left to serve.
                    self.exit = Some(0);
                }
                Outcome::Done(verdict.status())
            }
            Call::Reload {
                exit_if_restart_needed,
            } => Outcome::Done(self.reload(exit_if_restart_needed)),
        };
        match outcome {
            Outcome::Done(status) => self.dispatcher.call_done(id, status, &mut self.dev.state),
            Outcome::Later(rx) => self.pending.push((id, rx)),
        }
    }

    /// Re-read ups.conf (signals and `driver.reload*`), telling systemd about it.
    fn reload(&mut self, exit_if_restart_needed: bool) -> CmdStatus {
        notify::reloading();
        let status = self.reload_config(exit_if_restart_needed);
        notify::reloaded(&self.status());
        status
    }

    fn reload_config(&mut self, exit_if_restart_needed: bool) -> CmdStatus {
        crate::notice!("Reloading configuration");
        let Some(Target::Section(_)) = &self.cli.target else {
            return CmdStatus::Handled;
        };
        let conf = match config::read_ups_conf() {
            Ok(c) => c,
            Err(lines) => {
                crate::error!("Reload failed: {}", lines.join(" "));
                return CmdStatus::Invalid;
            }
        };
        let new = match config::build(self.info, &self.cli, Some(&conf)) {
            Ok(c) => c,
            Err(e) => {
                crate::error!("Reload failed: {}", e.lines.join(" "));
                return CmdStatus::Invalid;
            }
        };
        let diff = ReloadDiff::between(&self.cfg, &new);
        diff.apply(&mut self.cfg, &new);
        if diff.applied.contains(&"pollinterval") {
            self.dev.poll_interval = new.poll_interval;
            self.dev.state.set_info(
                "driver.parameter.pollinterval",
                &new.poll_interval.as_secs().to_string(),
            );
        }
        self.dispatcher.set_debug_min(new.debug_min);
        if let Some(min) = new.debug_min {
            log::set_debug_level(self.cli.debug.max(min));
        }
        if diff.need_restart.is_empty() {
            return CmdStatus::Handled;
        }
        crate::notice!(
            "Changed settings need a driver restart to take effect: {}",
            diff.need_restart.join(", ")
        );
        if exit_if_restart_needed {
            self.exit = Some(EXIT_RELOAD_NEEDS_RESTART);
        }
        CmdStatus::Invalid
    }
}

/// What ended a wait of the loop.
enum Woke {
    /// The reactor's set (or the deadline): see [`Reactor::ready`].
    Io,
    /// [`Driver::wait_event`] returned.
    DeviceEvent(Result<(), crate::DriverError>),
    /// A command answered [`Outcome::Later`] has its result (a dropped sender counts as a
    /// failure).
    CallDone(CallId, CmdStatus),
}

/// The first finished result among the pending ones, taken out of the list.
fn poll_results(
    pending: &mut Vec<(CallId, oneshot::Receiver<CmdStatus>)>,
    cx: &mut Context<'_>,
) -> Poll<(CallId, CmdStatus)> {
    for i in 0..pending.len() {
        if let Poll::Ready(r) = Pin::new(&mut pending[i].1).poll(cx) {
            let (id, _) = pending.swap_remove(i);
            return Poll::Ready((id, r.unwrap_or(CmdStatus::Failed)));
        }
    }
    Poll::Pending
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;
