//! The driver's life: command line, configuration, privileges, PID lock, background, the
//! socket and the main loop (docs/nut-behaviour.md §8.1). [`main`] is all a driver binary calls.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal as NixSignal;
use nut_core::conf::UpsConf;
use nut_core::sock::tree::render;
use nut_core::sock::{CmdStatus, DriverMsg, ParseError, ServerMsg, VarFlags};
use nut_daemon::detach::{self, Readiness};
use nut_daemon::exit::Exit;
use nut_daemon::notify;
use nut_daemon::pidfile::{self, PidFile, PidFileError};
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::{self, Action, Cli, Signal, Target};
use crate::config::{self, DriverConfig};
use crate::process;
use crate::server::{BadLine, ConnId, Event, Server};
use crate::{Driver, DriverError, DriverInfo, State, log};

/// The NUT release whose behaviour and protocols the framework implements; published as
/// `driver.version`.
pub const NUT_VERSION: &str = "2.8.0";

/// Exit status used after `reload-or-exit` found changes that need a restart (NUT: 128 +
/// SIGUSR1), so a supervisor restarts the driver.
const EXIT_RELOAD_NEEDS_RESTART: i32 = 128 + 10;

fn print_lines(lines: &[String]) {
    for l in lines {
        eprintln!("{l}");
    }
}

/// Say why the driver stops (one line) and exit with the generic failure code.
fn fail(msg: impl AsRef<str>) -> ExitCode {
    fail_as(Exit::Failure, msg)
}

/// A start-up failure of class `exit` (see `nut_daemon::exit`).
fn fail_as(exit: Exit, msg: impl AsRef<str>) -> ExitCode {
    eprintln!("{}", msg.as_ref());
    exit.into()
}

fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Read ups.conf, printing what is wrong with it.
fn read_ups_conf() -> Result<UpsConf, ExitCode> {
    config::read_ups_conf().map_err(|lines| {
        print_lines(&lines);
        Exit::Config.into()
    })
}

/// Everything a driver binary's `main` does: `dummy_ups::main` is
/// `nut_driver::main(&INFO, DummyUps::new)`.
pub fn main<D, F>(info: &'static DriverInfo, factory: F) -> ExitCode
where
    D: Driver,
    F: FnOnce(&DriverConfig) -> Result<D, DriverError>,
{
    let args: Vec<String> = std::env::args().collect();
    let prog = args
        .first()
        .cloned()
        .unwrap_or_else(|| info.name.to_owned());
    log::init(info.name);
    if !process::continuing_as_companion(info.name) {
        println!(
            "Network UPS Tools - {} {} ({NUT_VERSION})",
            info.description, info.version
        );
    }
    let cli = match cli::parse(&prog, &args[1.min(args.len())..]) {
        Ok(cli) => cli,
        Err(e) => {
            print_lines(&e.lines);
            return Exit::Usage.into();
        }
    };
    match cli.action {
        Action::Run => {}
        Action::Version => return ExitCode::SUCCESS,
        Action::Help => {
            println!("\n{}", cli::help_text(info.name, info.vars));
            return ExitCode::SUCCESS;
        }
        Action::ListVars => {
            for v in info.vars {
                let kind = match v.kind {
                    crate::VarKind::Value => "VALUE",
                    crate::VarKind::Flag => "FLAG",
                };
                println!("{kind} {} \"{}\"", v.name, v.desc);
            }
            return ExitCode::SUCCESS;
        }
    }
    let env_debug = std::env::var("NUT_DEBUG_LEVEL")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(0);
    log::set_debug_level(cli.debug.max(env_debug));
    log::set_quiet(cli.quiet);

    let ups_conf = match &cli.target {
        Some(Target::Section(_)) => match read_ups_conf() {
            Ok(c) => Some(c),
            Err(code) => return code,
        },
        _ => None,
    };
    let cfg = match config::build(info, &cli, ups_conf.as_ref()) {
        Ok(c) => c,
        Err(e) => {
            print_lines(&e.lines);
            return exit_code(e.exit_code);
        }
    };
    if let Some(min) = cfg.debug_min
        && log::debug_level() < min
    {
        log::set_debug_level(min);
    }
    let statepath = process::statepath(
        ups_conf
            .as_ref()
            .and_then(|c| c.global.statepath.as_deref()),
    );
    let pidfile = process::pid_file(info.name, &cfg.ups_name);

    if let Some(sig) = cli.signal {
        return signal_running(info, &pidfile, cli.pid, sig);
    }

    // The factory may hand the run to a companion program (which then says all this).
    let mut driver = match factory(&cfg) {
        Ok(d) => d,
        Err(e) => return fail(e.to_string()),
    };
    for n in &cfg.notices {
        crate::notice!("{n}");
    }

    if cli.kill_power {
        return with_runtime(async {
            let mut state = State::new();
            if let Err(e) = driver.init_info(&mut state).await {
                return fail(e.to_string());
            }
            println!("Initiating UPS shutdown");
            match driver.shutdown(&mut state).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e.to_string()),
            }
        });
    }
    if let Some(count) = cli.dump_after {
        return with_runtime(dump_and_exit(info, &cfg, driver, count));
    }

    // Privileges, then the runtime directories (created while still root), then the
    // single-instance lock: the lock's file and the socket are created by the user the
    // driver runs as.
    let identity = match process::resolve_user(cfg.user.as_deref()) {
        Ok(id) => id,
        Err((exit, e)) => return fail_as(exit, e),
    };
    let socket_group = match (&cfg.group, nix::unistd::geteuid().is_root()) {
        (Some(g), true) => match process::resolve_group(g) {
            Ok(gid) => Some(gid),
            Err(e) => return fail_as(Exit::NoUser, e),
        },
        _ => None,
    };
    if let Some(dir) = &cfg.chroot
        && let Err(e) = process::chroot(std::path::Path::new(dir))
    {
        return fail_as(Exit::NoPermission, e);
    }
    let pid_dir = pidfile.parent().unwrap_or(&statepath);
    if let Err(e) =
        process::ensure_runtime_dirs(&[&statepath, pid_dir], identity.as_ref().map(|id| id.gid))
    {
        return fail_as(Exit::CantCreate, format!("Fatal error: {e}"));
    }
    if let Some(id) = &identity
        && let Err(e) = process::become_user(id)
    {
        return fail_as(Exit::NoPermission, e);
    }
    if let Err(e) = std::env::set_current_dir(&statepath) {
        return fail_as(
            Exit::of_io(&e),
            format!(
                "Can't chdir to {}: {}",
                statepath.display(),
                process::strerror(&e)
            ),
        );
    }

    // systemd computes WATCHDOG_PID for the process it started: read it before forking.
    let watchdog = notify::watchdog_interval();
    let background = cli.background || (cli.debug == 0 && cli.foreground == 0);
    let mut ready = if background {
        match detach::detach() {
            Ok(r) => r,
            Err(e) => return fail_as(Exit::OsError, format!("Fatal error: can't fork: {e}")),
        }
    } else {
        Readiness::foreground()
    };
    // Taken by the process that serves (after the fork), so it records the right PID.
    let owner = format!("{} for UPS [{}]", info.name, cfg.ups_name);
    let lock = match PidFile::acquire(&pidfile, &owner) {
        Ok(l) => l,
        Err(e @ PidFileError::AlreadyRunning { .. }) => {
            let exit = Exit::from(&e);
            eprintln!(
                "Fatal error: {e}; stop it first ({} -a {} -c exit)",
                info.name, cfg.ups_name
            );
            ready.fail(exit.code());
            return exit.into();
        }
        Err(e) => {
            let exit = Exit::from(&e);
            eprintln!("Fatal error: {e}");
            ready.fail(exit.code());
            return exit.into();
        }
    };
    let socket = process::socket_path(&statepath, info.name, &cfg.ups_name);
    let runner = Runner {
        info,
        cfg,
        cli,
        driver,
        state: State::new(),
        socket,
        socket_group,
        ready,
        watchdog,
        exit: None,
    };
    let code = with_runtime(runner.run());
    drop(lock);
    code
}

fn with_runtime<F: Future<Output = ExitCode>>(fut: F) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // A driver watches a handful of descriptors (its device, the socket, a few
        // clients): tokio's default of 1024 events per poll would be a 16 KiB buffer.
        .max_io_events_per_tick(64)
        .build()
    {
        Ok(rt) => rt.block_on(fut),
        Err(e) => fail_as(
            Exit::OsError,
            format!("Fatal error: can't start the runtime: {e}"),
        ),
    }
}

/// `-c <command>`: signal the driver recorded in the PID file, or `-P <pid>`.
fn signal_running(
    info: &DriverInfo,
    pidfile: &std::path::Path,
    pid: Option<i32>,
    sig: Signal,
) -> ExitCode {
    let nix_sig = match sig {
        Signal::Reload | Signal::ReloadOrError => NixSignal::SIGHUP,
        Signal::ReloadOrExit => NixSignal::SIGUSR1,
        Signal::ReloadOrRestart => NixSignal::SIGUSR2,
        Signal::Exit => NixSignal::SIGTERM,
    };
    match pidfile::signal_running(pidfile, pid, info.name, nix_sig) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => fail(format!("Failed to signal the running driver: {e}")),
    }
}

/// Publish what the framework owns before the driver's `init_info`: `device.type`, the
/// versions and name, `driver.parameter.*` / `driver.flag.*`, `default.*` and the immutable
/// `override.*` values (so the driver's own updates cannot replace them).
fn publish_framework_vars(info: &DriverInfo, cfg: &DriverConfig, state: &mut State) {
    state.set_info("device.type", "ups");
    state.set_info("driver.version", NUT_VERSION);
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
fn copy_device_info(state: &mut State) {
    for what in ["mfr", "model", "serial"] {
        if let Some(v) = state.get(&format!("ups.{what}")).map(str::to_owned) {
            state.set_info(&format!("device.{what}"), &v);
        }
    }
}

fn check_ignorelb(cfg: &DriverConfig, state: &State) -> Result<(), ExitCode> {
    if cfg.ignorelb && state.battery_low().is_none() {
        print_lines(&[
            "The 'ignorelb' flag is set, but there is no way to determine the".into(),
            "battery state of charge.".into(),
            String::new(),
            "Only set this flag if both 'battery.charge' and 'battery.charge.low'".into(),
            "and/or 'battery.runtime' and 'battery.runtime.low' are available.".into(),
        ]);
        return Err(ExitCode::from(1));
    }
    Ok(())
}

async fn dump_and_exit<D: Driver>(
    info: &DriverInfo,
    cfg: &DriverConfig,
    mut driver: D,
    count: u32,
) -> ExitCode {
    let mut state = State::new();
    publish_framework_vars(info, cfg, &mut state);
    if let Err(e) = driver.init_info(&mut state).await {
        return fail(e.to_string());
    }
    if let Err(code) = check_ignorelb(cfg, &state) {
        return code;
    }
    driver.update_info(Instant::now(), &mut state).await;
    copy_device_info(&mut state);
    for _ in 1..count {
        tokio::time::sleep(cfg.poll_interval).await;
        driver.update_info(Instant::now(), &mut state).await;
    }
    for v in state.tree().vars() {
        println!("{}: {}", v.name, v.value);
    }
    driver.cleanup();
    ExitCode::SUCCESS
}

struct Runner<D> {
    info: &'static DriverInfo,
    cfg: DriverConfig,
    cli: Cli,
    driver: D,
    state: State,
    socket: PathBuf,
    socket_group: Option<nix::unistd::Gid>,
    ready: Readiness,
    /// systemd's watchdog interval, when it asked for pings.
    watchdog: Option<Duration>,
    exit: Option<i32>,
}

impl<D: Driver> Runner<D> {
    async fn run(mut self) -> ExitCode {
        publish_framework_vars(self.info, &self.cfg, &mut self.state);
        if let Err(e) = self.driver.init_info(&mut self.state).await {
            return fail(e.to_string());
        }
        if let Err(code) = check_ignorelb(&self.cfg, &self.state) {
            return code;
        }
        self.driver
            .update_info(Instant::now(), &mut self.state)
            .await;
        copy_device_info(&mut self.state);
        // Nobody is connected yet: what was queued is part of the first DUMPALL.
        self.state.tree_mut().take_changes();
        let mut server = match Server::bind(&self.socket, self.socket_group) {
            Ok(s) => s,
            Err(e) => {
                return fail_as(
                    Exit::of_io(&e),
                    format!(
                        "Fatal error: can't create the socket {}: {}",
                        self.socket.display(),
                        process::strerror(&e)
                    ),
                );
            }
        };
        crate::debug!(1, "Listening on socket {}", self.socket.display());
        let detached = self.ready.is_detached();
        self.ready.ready();
        if detached {
            log::use_syslog();
        }
        notify::ready(&self.status());
        let code = self.main_loop(&mut server).await;
        notify::stopping();
        self.driver.cleanup();
        drop(server);
        exit_code(code)
    }

    /// The `STATUS=` line systemd shows.
    fn status(&self) -> String {
        format!("serving UPS [{}]", self.cfg.ups_name)
    }

    async fn main_loop(&mut self, server: &mut Server) -> i32 {
        let (mut term, mut int, mut quit, mut hup, mut usr1, mut usr2) = match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::quit()),
            signal(SignalKind::hangup()),
            signal(SignalKind::user_defined1()),
            signal(SignalKind::user_defined2()),
        ) {
            (Ok(a), Ok(b), Ok(c), Ok(d), Ok(e), Ok(f)) => (a, b, c, d, e, f),
            _ => {
                crate::error!("Fatal error: can't install signal handlers");
                return 1;
            }
        };
        let mut watchdog = self.watchdog.map(|interval| {
            let mut ticks = tokio::time::interval(notify::watchdog_ping_period(interval));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks
        });
        let mut next_poll = Instant::now() + self.cfg.poll_interval;
        loop {
            let deadline = match self.driver.next_update() {
                Some(t) if t < next_poll => t,
                _ => next_poll,
            };
            tokio::select! {
                _ = tokio::time::sleep_until(deadline.into()) => {
                    let now = Instant::now();
                    self.driver.update_info(now, &mut self.state).await;
                    if now >= next_poll {
                        next_poll = now + self.cfg.poll_interval;
                    }
                }
                ev = server.next_event() => self.handle_event(server, ev).await,
                _ = term.recv() => { crate::notice!("Signal 15: exiting"); return 0; }
                _ = int.recv() => { crate::notice!("Signal 2: exiting"); return 0; }
                _ = quit.recv() => { crate::notice!("Signal 3: exiting"); return 0; }
                _ = hup.recv() => { self.reload(false); }
                _ = usr1.recv() => { self.reload(true); }
                _ = usr2.recv() => { self.reload(false); }
                _ = tick(&mut watchdog) => notify::watchdog(),
            }
            flush(&mut self.state, server);
            if let Some(code) = self.exit {
                return code;
            }
        }
    }

    async fn handle_event(&mut self, server: &mut Server, ev: Event) {
        match ev {
            Event::Connected(id) => crate::debug!(2, "socket client {id} connected"),
            Event::Closed(id) => crate::debug!(2, "socket client {id} disconnected"),
            Event::Request(id, Ok(msg)) => self.handle_request(server, id, msg).await,
            Event::Request(id, Err(bad)) => {
                let (code, text) = match &bad {
                    BadLine::Token(e) => ("INVALID-ARGUMENT", format!("Parse error on sock: {e}")),
                    BadLine::Parse(ParseError::UnknownCommand { .. }, words) => (
                        "UNKNOWN-COMMAND",
                        format!("Unknown command on socket: {}", words.join(" ")),
                    ),
                    BadLine::Parse(e, words) => (
                        "INVALID-ARGUMENT",
                        format!("{e} on socket: {}", words.join(" ")),
                    ),
                };
                crate::notice!("{text}");
                reply(server, id, &DriverMsg::Error { code: code.into() });
            }
        }
    }

    async fn handle_request(&mut self, server: &mut Server, id: ConnId, msg: ServerMsg) {
        let tree = self.state.tree();
        match msg {
            ServerMsg::DumpAll => {
                server.send(id, Arc::from(tree.render_dump_all()));
            }
            ServerMsg::DumpValue { var } => {
                server.send(id, Arc::from(render(&tree.dump_value(&var))));
            }
            ServerMsg::DumpStatus => {
                server.send(id, Arc::from(render(&tree.dump_value("ups.status"))));
            }
            ServerMsg::Ping => reply(server, id, &DriverMsg::Pong),
            ServerMsg::GetPid => reply(
                server,
                id,
                &DriverMsg::Pid {
                    pid: i64::from(std::process::id()),
                },
            ),
            ServerMsg::NoBroadcast => server.set_broadcast(id, false),
            ServerMsg::Broadcast { level } => server.set_broadcast(id, level.is_none_or(|n| n > 0)),
            ServerMsg::Logout => {
                reply(server, id, &DriverMsg::Goodbye);
                server.close_after_flush(id);
            }
            ServerMsg::InstCmd {
                cmd,
                param,
                tracking,
            } => {
                let status = self.instcmd(&cmd, param.as_deref()).await;
                self.finish_command(server, id, tracking, status);
            }
            ServerMsg::Set {
                var,
                value,
                tracking,
            } => {
                let status = self.set_var(&var, &value).await;
                self.finish_command(server, id, tracking, status);
            }
            _ => reply(
                server,
                id,
                &DriverMsg::Error {
                    code: "UNKNOWN-COMMAND".into(),
                },
            ),
        }
    }

    /// Broadcast what the command changed, then answer its tracking id (NUT's order).
    fn finish_command(
        &mut self,
        server: &mut Server,
        id: ConnId,
        tracking: Option<String>,
        status: CmdStatus,
    ) {
        flush(&mut self.state, server);
        if let Some(tid) = tracking {
            reply(server, id, &DriverMsg::Tracking { id: tid, status });
        }
    }

    async fn instcmd(&mut self, cmd: &str, param: Option<&str>) -> CmdStatus {
        match cmd.to_ascii_lowercase().as_str() {
            "driver.exit" => {
                crate::notice!("Requested exit via the driver.exit command");
                self.exit = Some(0);
                CmdStatus::Handled
            }
            "driver.reload" | "driver.reload-or-error" | "driver.reload-or-restart" => {
                self.reload(false)
            }
            "driver.reload-or-exit" => self.reload(true),
            "driver.killpower" => {
                if !self.cfg.allow_killpower {
                    crate::notice!(
                        "driver.killpower refused: set driver.flag.allow_killpower first"
                    );
                    return CmdStatus::Invalid;
                }
                match self.driver.shutdown(&mut self.state).await {
                    Ok(()) => {
                        self.exit = Some(0);
                        CmdStatus::Handled
                    }
                    Err(e) => {
                        crate::error!("{e}");
                        CmdStatus::Failed
                    }
                }
            }
            _ => self.driver.instcmd(cmd, param, &mut self.state).await,
        }
    }

    async fn set_var(&mut self, var: &str, value: &str) -> CmdStatus {
        if var.eq_ignore_ascii_case("driver.debug") {
            return match value.trim().parse::<i64>() {
                Ok(n) => {
                    let level = if n < 0 {
                        self.cli.debug.max(self.cfg.debug_min.unwrap_or(0))
                    } else {
                        u32::try_from(n).unwrap_or(u32::MAX)
                    };
                    log::set_debug_level(level);
                    CmdStatus::Handled
                }
                Err(_) => CmdStatus::ConversionFailed,
            };
        }
        if var.eq_ignore_ascii_case("driver.flag.allow_killpower") {
            let v = value.trim().to_ascii_lowercase();
            self.cfg.allow_killpower =
                v == "1" || v.starts_with("enable") || v == "true" || v == "yes" || v == "on";
            return CmdStatus::Handled;
        }
        self.driver.set_var(var, value, &mut self.state).await
    }

    /// Re-read ups.conf (signals and `driver.reload*`), telling systemd about it.
    fn reload(&mut self, exit_if_restart_needed: bool) -> CmdStatus {
        notify::reloading();
        let status = self.reload_config(exit_if_restart_needed);
        notify::reloaded(&self.status());
        status
    }

    /// `pollinterval` and `debug_min` apply at once; other changes need a restart (logged;
    /// with `exit_if_restart_needed` the driver exits so a supervisor restarts it).
    fn reload_config(&mut self, exit_if_restart_needed: bool) -> CmdStatus {
        crate::notice!("Reloading configuration");
        let Some(Target::Section(_)) = &self.cli.target else {
            return CmdStatus::Handled;
        };
        let conf = match read_ups_conf() {
            Ok(c) => c,
            Err(_) => return CmdStatus::Invalid,
        };
        let new = match config::build(self.info, &self.cli, Some(&conf)) {
            Ok(c) => c,
            Err(e) => {
                crate::error!("Reload failed: {}", e.lines.join(" "));
                return CmdStatus::Invalid;
            }
        };
        if new.poll_interval != self.cfg.poll_interval {
            self.cfg.poll_interval = new.poll_interval;
            self.state.set_info(
                "driver.parameter.pollinterval",
                &new.poll_interval.as_secs().to_string(),
            );
        }
        if let Some(min) = new.debug_min {
            log::set_debug_level(self.cli.debug.max(min));
        }
        let needs_restart = new.port != self.cfg.port
            || new.user != self.cfg.user
            || new.group != self.cfg.group
            || new.values != self.cfg.values
            || new.flags != self.cfg.flags
            || new.overrides != self.cfg.overrides;
        if needs_restart {
            crate::notice!("Changed settings need a driver restart to take effect");
            if exit_if_restart_needed {
                self.exit = Some(EXIT_RELOAD_NEEDS_RESTART);
            }
            return CmdStatus::Invalid;
        }
        CmdStatus::Handled
    }
}

/// The next watchdog tick, or never when systemd asked for no watchdog.
async fn tick(watchdog: &mut Option<tokio::time::Interval>) {
    match watchdog {
        Some(ticks) => {
            ticks.tick().await;
        }
        None => std::future::pending().await,
    }
}

fn reply(server: &mut Server, id: ConnId, msg: &DriverMsg) {
    server.send(id, Arc::from(msg.to_line()));
}

/// Broadcast the changes queued in the state tree.
fn flush(state: &mut State, server: &mut Server) {
    let changes = state.tree_mut().take_changes();
    if !changes.is_empty() {
        server.broadcast(&render(&changes));
    }
}
