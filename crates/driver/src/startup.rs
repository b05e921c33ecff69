//! The driver's start-up: command line, configuration, privileges, PID lock, background,
//! the socket, then the event loop of [`crate::runner`] (reference §8.1); and the one-shot
//! modes `-d` (dump) and `-k` (power off). [`main`] is all a driver binary calls.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use nix::sys::signal::Signal as NixSignal;
use nut_core::conf::UpsConf;
use nut_core::conf::ups_conf::Synchronous;
use nut_daemon::detach::{self, Readiness};
use nut_daemon::exit::Exit;
use nut_daemon::notify;
use nut_daemon::pidfile::{self, PidFile, PidFileError};

use crate::cli::{self, Action, Cli, Signal, Target};
use crate::config::{self, DriverConfig};
use crate::executor::Executor;
use crate::reactor::Reactor;
use crate::runner::{Device, Runner, copy_device_info, ignorelb_unusable, publish_framework_vars};
use crate::server::Server;
use crate::{Driver, DriverError, DriverInfo, log, process, shutdown};

/// The NUT release whose behaviour and protocols the framework implements; published as
/// `driver.version`.
pub const NUT_VERSION: &str = "2.8.0";

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
/// `nut_driver::main(&INFO, DummyUps::new)`. The factory checks the configuration and
/// returns the driver with its (still closed) transport; it must not open the device.
pub fn main<D, F>(info: &'static DriverInfo, factory: F) -> ExitCode
where
    D: Driver,
    F: FnOnce(&DriverConfig) -> Result<(D, D::Transport), DriverError>,
{
    let (cli, cfg, statepath) = match configure(info) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let pidfile = process::pid_file(info.name, &cfg.ups_name);

    if let Some(sig) = cli.signal {
        return signal_running(info, &pidfile, cli.pid, sig);
    }

    if cli.kill_power {
        let socket = process::socket_path(&statepath, info.name, &cfg.ups_name);
        if let Some(code) = kill_power_via_socket(&socket, &cfg.ups_name) {
            return code;
        }
    }

    // The factory may hand the run to a companion program (which then says all this).
    let (driver, io) = match factory(&cfg) {
        Ok(d) => d,
        Err(e) => return fail(e.to_string()),
    };
    for n in &cfg.notices {
        crate::notice!("{n}");
    }
    let dev = Device::new(driver, io, &cfg);

    let executor = match executor::<D>() {
        Ok(e) => e,
        Err(code) => return code,
    };
    if cli.kill_power {
        return executor.block_on(kill_power(info, &cfg, dev));
    }
    if let Some(count) = cli.dump_after {
        return executor.block_on(dump_and_exit(info, &cfg, dev, count));
    }

    let socket_group = match drop_privileges(&cfg, &statepath, &pidfile) {
        Ok(g) => g,
        Err(code) => return code,
    };
    let (ready, lock, watchdog) = match detach_and_lock(info, &cli, &cfg, &pidfile) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let socket = process::socket_path(&statepath, info.name, &cfg.ups_name);
    let runner = Runner::new(info, cfg, cli, dev, socket);
    let code = executor.block_on(serve(runner, &executor, socket_group, ready, watchdog));
    drop(lock);
    code
}

/// The banner, the command line (`-h`, `-V`, `-L` end here), the debug level, ups.conf and
/// the driver's configuration, and the state path. `Err`: the run ends here with that
/// status (also after `-h`, `-V`, `-L`).
fn configure(info: &DriverInfo) -> Result<(Cli, DriverConfig, PathBuf), ExitCode> {
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
            return Err(Exit::Usage.into());
        }
    };
    match cli.action {
        Action::Run => {}
        Action::Version => return Err(ExitCode::SUCCESS),
        Action::Help => {
            println!("\n{}", cli::help_text(info.name, info.vars));
            return Err(ExitCode::SUCCESS);
        }
        Action::ListVars => {
            for v in info.vars {
                let kind = match v.kind {
                    crate::VarKind::Value => "VALUE",
                    crate::VarKind::Flag => "FLAG",
                };
                println!("{kind} {} \"{}\"", v.name, v.desc);
            }
            return Err(ExitCode::SUCCESS);
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
            Err(code) => return Err(code),
        },
        _ => None,
    };
    let cfg = match config::build(info, &cli, ups_conf.as_ref()) {
        Ok(c) => c,
        Err(e) => {
            print_lines(&e.lines);
            return Err(exit_code(e.exit_code));
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
    Ok((cli, cfg, statepath))
}

/// Privileges, then the runtime directories (created while still root), then the state
/// path as working directory: the PID lock's file and the socket are then created by the
/// user the driver runs as. Returns the socket's group.
fn drop_privileges(
    cfg: &DriverConfig,
    statepath: &Path,
    pidfile: &Path,
) -> Result<Option<nix::unistd::Gid>, ExitCode> {
    let identity = match process::resolve_user(cfg.user.as_deref()) {
        Ok(id) => id,
        Err((exit, e)) => return Err(fail_as(exit, e)),
    };
    let socket_group = match (&cfg.group, nix::unistd::geteuid().is_root()) {
        (Some(g), true) => match process::resolve_group(g) {
            Ok(gid) => Some(gid),
            Err(e) => return Err(fail_as(Exit::NoUser, e)),
        },
        _ => None,
    };
    if let Some(dir) = &cfg.chroot
        && let Err(e) = process::chroot(Path::new(dir))
    {
        return Err(fail_as(Exit::NoPermission, e));
    }
    let pid_dir = pidfile.parent().unwrap_or(statepath);
    if let Err(e) =
        process::ensure_runtime_dirs(&[statepath, pid_dir], identity.as_ref().map(|id| id.gid))
    {
        return Err(fail_as(Exit::CantCreate, format!("Fatal error: {e}")));
    }
    if let Some(id) = &identity
        && let Err(e) = process::become_user(id)
    {
        return Err(fail_as(Exit::NoPermission, e));
    }
    if let Err(e) = std::env::set_current_dir(statepath) {
        return Err(fail_as(
            Exit::of_io(&e),
            format!(
                "Can't chdir to {}: {}",
                statepath.display(),
                process::strerror(&e)
            ),
        ));
    }

    Ok(socket_group)
}

/// Go to the background unless told otherwise, then take the PID file's lock (in the
/// process that serves, so it records the right PID). Returns the readiness to report, the
/// lock, and systemd's watchdog interval.
fn detach_and_lock(
    info: &DriverInfo,
    cli: &Cli,
    cfg: &DriverConfig,
    pidfile: &Path,
) -> Result<(Readiness, PidFile, Option<std::time::Duration>), ExitCode> {
    // systemd computes WATCHDOG_PID for the process it started: read it before forking.
    let watchdog = notify::watchdog_interval();
    let background = cli.background || (cli.debug == 0 && cli.foreground == 0);
    let mut ready = if background {
        match detach::detach() {
            Ok(r) => r,
            Err(e) => {
                return Err(fail_as(
                    Exit::OsError,
                    format!("Fatal error: can't fork: {e}"),
                ));
            }
        }
    } else {
        Readiness::foreground()
    };
    // Taken by the process that serves (after the fork), so it records the right PID.
    let owner = format!("{} for UPS [{}]", info.name, cfg.ups_name);
    let lock = match PidFile::acquire(pidfile, &owner) {
        Ok(l) => l,
        Err(e @ PidFileError::AlreadyRunning { .. }) => {
            let exit = Exit::from(&e);
            eprintln!(
                "Fatal error: {e}; stop it first ({} -a {} -c exit)",
                info.name, cfg.ups_name
            );
            ready.fail(exit.code());
            return Err(exit.into());
        }
        Err(e) => {
            let exit = Exit::from(&e);
            eprintln!("Fatal error: {e}");
            ready.fail(exit.code());
            return Err(exit.into());
        }
    };
    Ok((ready, lock, watchdog))
}

/// Initialise, open the socket, say we are ready, run the loop.
async fn serve<D: Driver>(
    mut r: Runner<D>,
    executor: &Executor,
    socket_group: Option<nix::unistd::Gid>,
    mut ready: Readiness,
    watchdog: Option<std::time::Duration>,
) -> ExitCode {
    r.dev.set_driver_state("init.starting");
    publish_framework_vars(r.info, &r.cfg, &mut r.dev.state);
    if let Err(e) = r.dev.init().await {
        ready.fail(1);
        return fail(e.to_string());
    }
    r.dev.set_driver_state("init.updateinfo");
    r.dev.poll(Instant::now()).await;
    if let Some(code) = r.dev.exit {
        ready.fail(u8::try_from(code).unwrap_or(1));
        return exit_code(code);
    }
    if let Some(lines) = ignorelb_unusable(&r.cfg, &r.dev.state) {
        print_lines(&lines);
        ready.fail(1);
        return ExitCode::from(1);
    }
    copy_device_info(&mut r.dev.state);
    // NUT sets `quiet` once initialised; a device lost during the first poll stays in
    // `reconnect.trying`.
    if !r.dev.health.is_lost() {
        r.dev.set_driver_state("quiet");
    }
    // Nobody is connected yet: what was queued is part of the first DUMPALL.
    r.dev.state.tree_mut().take_changes();
    let mut reactor = match Reactor::new(executor) {
        Ok(r) => r,
        Err(e) => {
            return fail_as(
                Exit::OsError,
                format!("Fatal error: can't set up the event loop: {e}"),
            );
        }
    };
    let mut server = match Server::bind(&r.socket, socket_group, reactor.epoll()) {
        Ok(s) => s,
        Err(e) => {
            return fail_as(
                Exit::of_io(&e),
                format!(
                    "Fatal error: can't create the socket {}: {}",
                    r.socket.display(),
                    process::strerror(&e)
                ),
            );
        }
    };
    server.set_blocking(r.cfg.synchronous == Synchronous::Yes);
    crate::debug!(1, "Listening on socket {}", r.socket.display());
    let detached = ready.is_detached();
    ready.ready();
    if detached {
        log::use_syslog();
    }
    notify::ready(&r.status());
    let code = r.main_loop(&mut reactor, &mut server, watchdog).await;
    notify::stopping();
    server.close(std::time::Duration::from_secs(1));
    r.dev.cleanup();
    exit_code(code)
}

/// The executor of `D`'s futures ([`crate::executor`]).
fn executor<D: Driver>() -> Result<Executor, ExitCode> {
    Executor::for_driver::<D>().map_err(|e| {
        fail_as(
            Exit::OsError,
            format!("Fatal error: can't start the runtime: {e}"),
        )
    })
}

/// `-c <command>`: signal the driver recorded in the PID file, or `-P <pid>`.
fn signal_running(info: &DriverInfo, pidfile: &Path, pid: Option<i32>, sig: Signal) -> ExitCode {
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

/// How long `-k` waits for a running driver to answer its power-off request.
const KILLPOWER_SOCKET_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// `-k` with a driver already running for this UPS (NUT ≥ 2.8.1): it holds the device (a
/// serial port's lock), so ask it over its socket to run the power-off, allowing it first.
/// `None` when no driver answers on the socket: `-k` then opens the device itself.
fn kill_power_via_socket(socket: &Path, ups: &str) -> Option<ExitCode> {
    use std::io::{BufRead as _, BufReader, Write as _};
    let mut stream = std::os::unix::net::UnixStream::connect(socket).ok()?;
    crate::notice!("Asking the running driver of UPS [{ups}] to power it off");
    let _ = stream.set_read_timeout(Some(KILLPOWER_SOCKET_TIMEOUT));
    let request = "NOBROADCAST\n\
                   SET driver.flag.allow_killpower \"1\" TRACKING nut-rs-k1\n\
                   INSTCMD driver.killpower TRACKING nut-rs-k2\n";
    if let Err(e) = stream.write_all(request.as_bytes()) {
        crate::error!(
            "Can't talk to the running driver: {}",
            process::strerror(&e)
        );
        return Some(ExitCode::from(1));
    }
    for line in BufReader::new(stream).lines() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                crate::error!(
                    "No answer from the running driver: {}",
                    process::strerror(&e)
                );
                return Some(ExitCode::from(1));
            }
        };
        if let Some(code) = line.strip_prefix("TRACKING nut-rs-k2 ") {
            let ok = code.trim() == "0";
            if ok {
                crate::notice!("UPS [{ups}]: the running driver accepted the power-off request");
            } else {
                crate::error!(
                    "UPS [{ups}]: the running driver refused the power-off request ({code})"
                );
            }
            return Some(ExitCode::from(if ok { 0 } else { 1 }));
        }
    }
    crate::error!("The running driver closed the connection without an answer");
    Some(ExitCode::from(1))
}

/// `-k`: open the device, read it, and power it off with `sdcommands` (or the driver's own
/// sequence); exit 0 when the UPS accepted a command, else 1.
async fn kill_power<D: Driver>(
    info: &DriverInfo,
    cfg: &DriverConfig,
    mut dev: Device<D>,
) -> ExitCode {
    publish_framework_vars(info, cfg, &mut dev.state);
    if let Err(e) = dev.init_shutdown().await {
        return fail(e.to_string());
    }
    crate::notice!("Initiating UPS [{}] shutdown", cfg.ups_name);
    let cmds = shutdown::commands(cfg.sdcommands.as_deref());
    let verdict = shutdown::run(&mut dev.driver, &mut dev.io, &mut dev.state, &cmds).await;
    let (level, msg) = verdict.message(&cfg.ups_name);
    log::log(level, &msg);
    dev.cleanup();
    ExitCode::from(verdict.exit_code())
}

/// `-d <count>`: initialise, update `count + 2` times back to back, print the variables as
/// `var: value` and exit. That is what NUT's main loop does on the wire: one update after
/// `upsdrv_initinfo`, then its loop updates and only dumps once its counter (from 0) has
/// reached `count`, without waiting between updates. With a device whose replies change
/// from poll to poll the dump then shows the same one as NUT's.
async fn dump_and_exit<D: Driver>(
    info: &DriverInfo,
    cfg: &DriverConfig,
    mut dev: Device<D>,
    count: u32,
) -> ExitCode {
    publish_framework_vars(info, cfg, &mut dev.state);
    if let Err(e) = dev.init().await {
        return fail(e.to_string());
    }
    dev.poll(Instant::now()).await;
    if let Some(lines) = ignorelb_unusable(cfg, &dev.state) {
        print_lines(&lines);
        return ExitCode::from(1);
    }
    copy_device_info(&mut dev.state);
    for _ in 0..=count {
        if let Some(code) = dev.exit {
            return exit_code(code);
        }
        // Back to back, as NUT; only a due reconnection back-off is waited for (with
        // nothing else to serve: no socket in this mode).
        let now = Instant::now();
        let next = dev.deadline(now);
        if next > now {
            std::thread::sleep(next - now);
        }
        if dev.health.is_lost() {
            dev.reopen(Instant::now()).await;
        } else {
            dev.poll(Instant::now()).await;
        }
    }
    dev.set_driver_state("dumping");
    for v in dev.state.tree().vars() {
        println!("{}: {}", v.name, v.value);
    }
    dev.cleanup();
    ExitCode::SUCCESS
}
