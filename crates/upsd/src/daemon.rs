//! The process around the shell: command line, start-up order, listeners, TLS, privileges,
//! backgrounding, the PID file, sd_notify, reload and exit. The plumbing itself (PID files,
//! detaching, logging, notifications, runtime directories) is `nut_daemon`'s, shared with
//! every other nut-rs daemon.
//!
//! Start-up order, and why:
//! 1. refuse a second instance (the PID file is locked) before doing anything else;
//! 2. read upsd.conf, then set up logging (its `DEBUG_MIN` counts);
//! 3. bind the listeners and read CERTFILE while still root;
//! 4. look the run-as account up (a missing one is fatal, exit 67), then chroot (`-r`): the
//!    account database of the host counts, never the jail's;
//! 5. create the PID file's directory when missing (root:nut 0770, as tmpfiles would);
//! 6. go to the background (the launcher waits until upsd is ready);
//! 7. drop privileges, then take the PID file as the `nut` user (as NUT does: root never
//!    writes in a directory that `nut` can write to), read ups.conf, upsd.users and cmdvartab;
//! 8. serve; `READY=1` (and the waiting launcher released) once every listener accepts.

use std::path::Path;

use anyhow::{Context, Result};
use nut_daemon::control::Command;
use nut_daemon::detach::{self, Readiness};
use nut_daemon::exit::{Exit, StartupError};
use nut_daemon::log::{self, Target};
use nut_daemon::pidfile::{self, PidFile, PidFileError};
use nut_daemon::user::{self, User};
use nut_daemon::{notify, paths};

use crate::cli::{Options, USAGE};
use crate::config::{self, Notes, Paths};
use crate::server::{Level, Server};
use crate::shell::{self, Control, ShellConfig, listen, log_line};

/// The program name, for the log and PID file messages.
const PROGRAM: &str = "upsd";
/// File descriptors kept back from MAXCONN's default (listeners, drivers, logs).
const RESERVED_FDS: u64 = 8;
/// The PID file's directory when upsd has to create it (tmpfiles' `d /run/nut 0770 root nut`).
const RUNTIME_DIR_MODE: u32 = 0o770;

/// Entry point of the binary; returns the exit code.
pub fn main() -> i32 {
    // upsd 2.8.0 starts every invocation with its banner on stdout.
    println!("{}", crate::cli::banner());
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            eprint!("{USAGE}");
            return Exit::Usage.status();
        }
    };
    if options.help {
        print!("{USAGE}");
        if options.debug > 0 {
            log::init(PROGRAM, options.debug, Target::Stderr);
            tracing::debug!("{}", crate::cli::TLS_BUILD_INFO);
        }
        return 0;
    }
    if options.version {
        return 0;
    }
    if let Some(command) = options.signal {
        return send_command(command, options.pid);
    }
    start(&options)
}

/// `upsd -c reload|stop`: signal the running instance (its PID file, or `-P`).
fn send_command(command: Command, pid: Option<i32>) -> i32 {
    let path = Paths::from_env().pid_file;
    match pidfile::signal_running(&path, pid, PROGRAM, command.signal()) {
        Ok(_) => 0,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("Failed to signal the currently running daemon (if any)");
            1
        }
    }
}

/// NUT's refusal of a second instance, on one line and naming the running one (after
/// "Fatal error: ", like every fatal start-up error).
fn already_running(pid: i32) -> String {
    format!(
        "A previous upsd instance is already running (PID {pid})! \
         Either stop it first, or use the 'reload' command."
    )
}

/// Start-up messages. Backgrounded, the log is syslog, but until upsd is ready its stderr is
/// still the administrator's terminal: what goes wrong there is also said there (as NUT
/// does before it forks). Once ready, stderr is /dev/null.
#[derive(Clone, Copy)]
struct Console {
    echo: bool,
}

impl Console {
    fn info(self, text: &str) {
        tracing::info!("{text}");
        self.echo(text);
    }

    fn warn(self, text: &str) {
        tracing::warn!("{text}");
        self.echo(text);
    }

    fn fatal(self, text: &str) {
        tracing::error!("{text}");
        self.echo(text);
    }

    fn notes(self, notes: Notes) {
        for note in notes {
            if note.level == Level::Info {
                self.info(&note.text);
            } else {
                log_line(&note);
            }
        }
    }

    fn echo(self, text: &str) {
        if self.echo {
            eprintln!("{text}");
        }
    }
}

fn start(options: &Options) -> i32 {
    let paths = Paths::from_env();
    // Refuse a second instance first, in one line, whatever else would go wrong after.
    if let Err(PidFileError::AlreadyRunning { pid, .. }) =
        pidfile::check_not_running(&paths.pid_file, PROGRAM)
    {
        eprintln!("Fatal error: {}", already_running(pid));
        return Exit::AlreadyRunning.status();
    }
    let background = !options.is_foreground();
    let mut notes = Notes::new();
    let conf = config::read_upsd_conf(&paths, &mut notes);
    let debug_min = conf.as_ref().ok().and_then(|c| c.debug_min).unwrap_or(0);
    let debug = u8::try_from(debug_min)
        .unwrap_or(u8::MAX)
        .max(options.debug);
    let target = if background {
        Target::Syslog
    } else {
        Target::Stderr
    };
    log::init(PROGRAM, debug, target);
    let console = Console { echo: background };
    console.notes(notes);

    // Released by `Hooks::ready`; a start-up failure hands its exit code to the launcher.
    let mut readiness = Readiness::foreground();
    let result = conf
        .map_err(config_error)
        .and_then(|conf| serve(options, paths, conf, console, &mut readiness));
    match result {
        Ok(code) => code,
        Err(e) => {
            console.fatal(&format!("Fatal error: {e:#}"));
            let exit = Exit::of_error(e.as_ref());
            readiness.fail(exit.code());
            exit.status()
        }
    }
}

/// `e`, keeping its one-line message, classified as `exit` for the exit code.
fn tagged(exit: Exit, e: anyhow::Error) -> anyhow::Error {
    StartupError::new(exit, format!("{e:#}")).into()
}

/// A configuration file that could not be used (unreadable for lack of permission, or wrong).
fn config_error(e: anyhow::Error) -> anyhow::Error {
    let exit = Exit::of_config_error(e.as_ref());
    tagged(exit, e)
}

/// A start-up failure of class `exit`.
fn failure(exit: Exit, message: &str) -> anyhow::Error {
    StartupError::new(exit, message).into()
}

fn serve(
    options: &Options,
    paths: Paths,
    conf: nut_core::conf::UpsdConf,
    console: Console,
    readiness: &mut Readiness,
) -> Result<i32> {
    let paths = paths.with_conf(&conf);
    let bound = listen::bind_all(&conf.listeners(), options.family);
    for m in &bound.messages {
        console.info(m);
    }
    if bound.listeners.is_empty() {
        return Err(failure(
            Exit::Unavailable,
            "no listening interface available",
        ));
    }
    if bound.some_failed && !conf.allow_not_all_listeners {
        // nut#723: one working listener is enough; the failures were logged above.
        console
            .warn("WARNING: some listening interfaces were not available; serving on the others");
    }
    let tls =
        shell::tls::server_config(&conf).map_err(|e| failure(Exit::Config, &e.to_string()))?;
    let limits = config::Limits::new(usize::try_from(default_maxconn()).unwrap_or(usize::MAX));

    // Before chroot: inside the jail there is usually no account database at all, and a
    // failed lookup must never leave upsd serving as root.
    let account = run_as(options.user.as_deref(), paths::DEFAULT_USER)?;
    if let Some(dir) = &options.chroot {
        nix::unistd::chroot(Path::new(dir))
            .with_context(|| format!("chroot {dir}"))
            .map_err(|e| tagged(Exit::NoPermission, e))?;
        nix::unistd::chdir("/")
            .context("chdir /")
            .map_err(|e| tagged(Exit::OsError, e))?;
    }
    if options.writes_pid_file()
        && let Some(dir) = paths.pid_file.parent()
    {
        let owner = account.as_ref().map(|u| (0, u.gid.as_raw()));
        paths::ensure_dir(dir, RUNTIME_DIR_MODE, owner)
            .with_context(|| format!("Can't create the PID file directory {}", dir.display()))
            .map_err(|e| tagged(Exit::CantCreate, e))?;
    }

    // systemd names the process it started in WATCHDOG_PID: read it before any fork.
    let watchdog = notify::watchdog_interval();
    if options.is_foreground() {
        if options.writes_pid_file() {
            console.info("Running as foreground process, but saving a PID file anyway");
        } else {
            console.info("Running as foreground process, not saving a PID file");
        }
    } else {
        *readiness = detach::detach()
            .context("Can't go to the background")
            .map_err(|e| tagged(Exit::OsError, e))?;
    }
    if let Some(account) = &account {
        user::become_user(account)
            .with_context(|| format!("can't switch to user {}", account.name))?;
    }
    let _pid_file = if options.writes_pid_file() {
        match PidFile::acquire(&paths.pid_file, PROGRAM) {
            Ok(file) => Some(file),
            // Another instance won the race since the check at the start.
            Err(PidFileError::AlreadyRunning { pid, .. }) => {
                return Err(failure(Exit::AlreadyRunning, &already_running(pid)));
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };

    let mut notes = Notes::new();
    let loaded = config::load_reloadable(&paths, &conf, &mut notes);
    console.notes(notes);
    let loaded = loaded.map_err(config_error)?;
    if loaded.defs.is_empty() {
        if conf.allow_no_device {
            console.info(
                "Normally at least one UPS must be defined in ups.conf, currently there are none (please configure the file and reload the service)",
            );
        } else {
            return Err(failure(
                Exit::Config,
                "at least one UPS must be defined in ups.conf",
            ));
        }
    }

    let server = Server::new(
        config::settings(&conf, tls.is_some(), limits),
        loaded.defs,
        loaded.users,
        loaded.descriptions,
        rand::random::<u64>(),
    );
    let shell_config = ShellConfig {
        server,
        listeners: bound.listeners,
        statepath: paths.statepath.clone(),
        tls,
        watchdog,
    };
    // IO only: every deadline is the shell's timerfd (see shell/mod.rs).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .context("cannot start the runtime")
        .map_err(|e| tagged(Exit::OsError, e))?;
    let local = tokio::task::LocalSet::new();
    let hooks = Hooks {
        tls_on: shell_config.tls.is_some(),
        limits,
        paths,
        // From here on, a failure before READY reaches a waiting launcher as the end of the
        // readiness pipe (exit 1).
        readiness: std::mem::replace(readiness, Readiness::foreground()),
    };
    let exit = local.block_on(&runtime, shell::run(shell_config, hooks));
    let shell::Exit::Signal(sig) = exit?;
    notify::stopping();
    tracing::info!("Signal {sig}: exiting");
    Ok(0)
}

/// What the shell calls back into: readiness, reload, watchdog.
struct Hooks {
    paths: Paths,
    tls_on: bool,
    limits: config::Limits,
    readiness: Readiness,
}

impl Control for Hooks {
    fn reload(&mut self, server: &mut Server) {
        notify::reloading();
        let mut notes = Notes::new();
        let loaded = config::read_upsd_conf(&self.paths, &mut notes).and_then(|conf| {
            config::load_reloadable(&self.paths, &conf, &mut notes).map(|l| (conf, l))
        });
        for note in &notes {
            log_line(note);
        }
        match loaded {
            Ok((conf, loaded)) => {
                if loaded.defs.is_empty() {
                    tracing::warn!("Warning: no UPSes currently defined!");
                }
                let settings = config::settings(&conf, self.tls_on, self.limits);
                if settings.force_tls && !settings.tls_available {
                    tracing::warn!(
                        "FORCESSL is set but TLS is not running (CERTFILE is loaded at start-up \
                         only): USERNAME, PASSWORD and privileged commands are refused until \
                         upsd is restarted"
                    );
                }
                server.reload(settings, loaded.defs, loaded.users, loaded.descriptions);
            }
            Err(e) => tracing::error!("Reload failed, keeping the old configuration: {e:#}"),
        }
        notify::reloaded("serving");
    }

    fn ready(&mut self) {
        self.readiness.ready();
        notify::ready("serving");
    }

    fn watchdog(&mut self) {
        notify::watchdog();
    }
}

/// The account to run as when started as root: `-u user`, else `default` (Debian's build
/// default `nut`). Either one missing is fatal (`user nut not found`, exit 67), as in NUT:
/// upsd never serves as root by accident. Not root: nobody to switch to.
fn run_as(requested: Option<&str>, default: &str) -> Result<Option<User>> {
    Ok(user::run_as(requested.unwrap_or(default))?)
}

/// Raise the soft descriptor limit to the hard one; MAXCONN defaults to what is left.
fn default_maxconn() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return 1024 - RESERVED_FDS;
    };
    let limit = if setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        hard
    } else {
        soft
    };
    limit.saturating_sub(RESERVED_FDS).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_account_is_fatal_with_exit_67_when_root() {
        let missing = "no-such-user-nut-rs";
        for (requested, default) in [(None, missing), (Some(missing), "root")] {
            let result = run_as(requested, default);
            if nix::unistd::geteuid().is_root() {
                let err = result.unwrap_err();
                assert_eq!(err.to_string(), format!("user {missing} not found"));
                assert_eq!(Exit::of_error(err.as_ref()), Exit::NoUser);
                assert_eq!(Exit::of_error(err.as_ref()).code(), 67);
            } else {
                assert!(result.unwrap().is_none());
            }
        }
    }
}
