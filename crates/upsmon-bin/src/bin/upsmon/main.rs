//! `upsmon`: the NUT shutdown controller, a process shell over [`nut_upsmon::Monitor`].
//!
//! Start-up follows NUT 2.8.0's order and messages: banner, configuration, `-K` / `-c`,
//! warnings, the power check, the "already running" check, the POWERDOWNFLAG cleanup, then
//! background (unless `-F`/`-D`), then the privilege split (unless `-p`).
//!
//! * [`cli`] — the command line.
//! * [`settings`] — upsmon.conf as the shell needs it.
//! * [`privsep`] — the root parent that runs SHUTDOWNCMD, and its pipe protocol.
//! * [`run`] — the monitoring process: runtime, sessions, notifications, signals.
//! * [`session`] — one upsd session per MONITOR line.
//! * [`notifier`] — SYSLOG / WALL / EXEC.
//! * [`powerflag`] — POWERDOWNFLAG and `-K`.
//!
//! Intended differences from NUT 2.8.0 (docs/nut-behaviour.md §6.1, §11.3, §12 item 10):
//! * `upsmon.pid` holds the PID of the process the service manager started — the privileged
//!   parent, which relays `-c reload|fsd|stop` to its child — is `flock`ed while it runs, and
//!   is removed at exit. NUT writes the child's PID and leaves the file behind.
//! * No `fopen …upsmon.pid` noise at start: a missing PID file is the normal case. A second
//!   instance is refused with NUT's message on one line (NUT prints two).
//! * `-u` wins over RUN_AS_USER (NUT lets the file override the command line).
//! * `-f <file>` (NUT ≥ 2.8.1) and `-W` are accepted; `-4`/`-6` pick the address family.

mod cli;
mod notifier;
mod powerflag;
mod privsep;
mod run;
mod session;
mod settings;

use std::process::ExitCode;
use std::time::Duration;

use nut_daemon::control::Command;
use nut_daemon::detach::Readiness;
use nut_daemon::exit::Exit;
use nut_daemon::log::Target;
use nut_daemon::paths;
use nut_daemon::pidfile::{self, PidFile, PidFileError};

use self::privsep::{ParentJob, Split};
use self::run::{Start, Supervisor};

/// The version NUT-compatible tools report.
const VERSION: &str = nut_core::net::reply::UPSD_VERSION;

/// NUT's default connect timeout for upsmon, seconds.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// upsmon's entry point.
fn main() -> ExitCode {
    ExitCode::from(upsmon())
}

fn upsmon() -> u8 {
    let mut args = std::env::args();
    let program = args.next().unwrap_or_else(|| "upsmon".to_owned());
    let cli = match cli::parse(args) {
        Ok(cli) => cli,
        Err(message) => {
            eprintln!("{program}: {message}");
            print!("{}", cli::usage(&program));
            return Exit::Usage.code();
        }
    };
    println!("Network UPS Tools upsmon {VERSION}");
    if cli.help {
        print!("{}", cli::usage(&program));
        return 0;
    }
    if cli.version {
        return 0;
    }
    if let Some(command) = cli.command {
        return send_command(command, cli.pid);
    }

    let conf_path = cli
        .config
        .clone()
        .unwrap_or_else(|| paths::conf_file("upsmon.conf"));
    let (mut settings, warnings) = match settings::load(&conf_path) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("{e}");
            if cli.check_killpower && matches!(e, settings::LoadError::Invalid(_)) {
                // The late-shutdown hook (`upsmon -K && upsdrvctl shutdown`) must get its
                // answer even after a bad edit: as NUT, whose -K looks at the flag whatever
                // invalid lines the file has. Only POWERDOWNFLAG is read.
                nut_daemon::log::init("upsmon", cli.debug, Target::Stderr);
                eprintln!(
                    "{}: has errors, reading only POWERDOWNFLAG",
                    conf_path.display()
                );
                let flag = std::fs::read(&conf_path)
                    .ok()
                    .and_then(|text| powerflag::lenient_path(&text));
                return powerflag::check_killpower(flag.as_deref());
            }
            return Exit::Config.code();
        }
    };
    for w in &warnings {
        eprintln!("{w}");
    }
    for note in &settings.ignored {
        eprintln!("Warning: {note}");
    }

    let foreground = cli.stays_foreground() || cli.check_killpower;
    let debug = cli.debug.max(settings.debug_min);
    let target = if foreground {
        Target::Stderr
    } else {
        Target::Syslog
    };
    nut_daemon::log::init("upsmon", debug, target);

    if cli.check_killpower {
        for line in settings.describe() {
            eprintln!("{line}");
        }
        return powerflag::check_killpower(settings.powerdownflag.as_deref());
    }

    if settings.shutdowncmd.is_none() {
        println!("Warning: no shutdown command defined!");
    }
    if let Some(text) = settings.insufficient_power_text() {
        println!("{text}");
        return Exit::Config.code();
    }

    let pid_dir = paths::pidpath();
    let pid_path = pid_dir.join("upsmon.pid");
    // The PID file is taken after the privilege split (by the parent); refuse a second
    // instance now, before anything else happens. NUT's words, on one line.
    if let Err(PidFileError::AlreadyRunning { pid, .. }) =
        pidfile::check_not_running(&pid_path, "upsmon")
    {
        eprintln!(
            "Fatal error: A previous upsmon instance is already running (PID {pid})! \
             Either stop it first, or use the 'reload' command."
        );
        return Exit::AlreadyRunning.code();
    }
    for line in settings.describe() {
        eprintln!("{line}");
    }
    if let Some(flag) = settings.powerdownflag.clone()
        && !powerflag::clear_stale(&flag)
    {
        settings.powerdownflag = None;
    }

    let user = if cli.privileged || !nix::unistd::geteuid().is_root() {
        None
    } else {
        let name = cli
            .user
            .clone()
            .or_else(|| settings.run_as_user.clone())
            .unwrap_or_else(|| paths::DEFAULT_USER.to_owned());
        match nut_daemon::user::lookup(&name) {
            Ok(user) => Some(user),
            Err(e) => {
                eprintln!("Fatal error: {e}");
                return Exit::from(&e).code();
            }
        }
    };
    let group = user.as_ref().map(|u| u.gid.as_raw());
    if let Err(e) = paths::ensure_dir(&pid_dir, 0o770, group.map(|g| (0, g))) {
        eprintln!("Can't create {}: {e}", pid_dir.display());
        return Exit::of_io(&e).code();
    }

    // systemd computes WATCHDOG_PID for the process it started: read it before forking.
    let watchdog = nut_daemon::notify::watchdog_interval();
    let mut readiness = if cli.stays_foreground() {
        Readiness::foreground()
    } else {
        match nut_daemon::detach::detach() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("Can't go to the background: {e}");
                return Exit::OsError.code();
            }
        }
    };
    let timeout = cli
        .connect_timeout
        .or_else(nut_client::connect_timeout_from_env)
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT);

    if cli.privileged {
        tracing::warn!("Warning: running as one big root process by request (upsmon -p)");
        let pid_file = match PidFile::acquire(&pid_path, "upsmon") {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("{e}");
                let exit = Exit::from(&e);
                readiness.fail(exit.code());
                return exit.code();
            }
        };
        let start = Start {
            supervisor: Supervisor::Direct {
                shutdowncmd: settings.shutdowncmd.clone(),
                powerdownflag: settings.powerdownflag.clone(),
                readiness,
            },
            settings,
            timeout,
            family: cli.family,
            watchdog,
            lifeline: None,
            detached_child: false,
        };
        let code = run::main(start);
        drop(pid_file);
        return code;
    }

    let split = match privsep::split() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("Can't fork the monitoring process: {e}");
            readiness.fail(Exit::OsError.code());
            return Exit::OsError.code();
        }
    };
    match split {
        Split::Parent(mut side) => {
            let pid_file = match PidFile::acquire(&pid_path, "upsmon") {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!("{e}");
                    side.abandon();
                    let exit = Exit::from(&e);
                    readiness.fail(exit.code());
                    return exit.code();
                }
            };
            if let Err(e) = side.go() {
                tracing::error!("upsmon parent: can't start the monitoring process: {e}");
            }
            tracing::debug!("upsmon parent: monitoring process is PID {}", side.child());
            let job = ParentJob {
                shutdowncmd: settings.shutdowncmd.clone(),
                powerdownflag: settings.powerdownflag.clone(),
                readiness,
            };
            let code = side.serve(job);
            drop(pid_file);
            code
        }
        Split::Child(side) => {
            let detached_child = readiness.is_detached();
            // Only the parent reports start-up to a waiting launcher.
            drop(readiness);
            if let Some(user) = &user
                && let Err(e) = nut_daemon::user::become_user(user)
            {
                eprintln!("Fatal error: can't switch to user {}: {e}", user.name);
                return Exit::from(&e).code();
            }
            if !side.wait_for_go() {
                return 1;
            }
            let (pipe, lifeline) = side.into_parts();
            run::main(Start {
                supervisor: Supervisor::Parent { pipe },
                settings,
                timeout,
                family: cli.family,
                watchdog,
                lifeline: Some(lifeline),
                detached_child,
            })
        }
    }
}

/// `upsmon -c <command>`: signal the running instance through its PID file (or `-P`).
fn send_command(command: Command, pid: Option<i32>) -> u8 {
    let path = paths::pidpath().join("upsmon.pid");
    match pidfile::signal_running(&path, pid, "upsmon", command.signal()) {
        Ok(_) => 0,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("Failed to signal the currently running daemon (if any)");
            1
        }
    }
}
