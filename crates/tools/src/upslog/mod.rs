//! `upslog`: poll UPSes at an interval and append one formatted line per UPS to a log file
//! (or stdout).
//!
//! NUT 2.8.0's options (`-s`, `-l`, `-i`, `-f`, `-u`, `-p`, `-F`, `-B`, `-V`, `-h` and the
//! old positional form `<ups> <logfile> <interval> [<format>…]`), plus NUT 2.8.1+'s `-m
//! ups,logfile` (several UPSes, each to its own file) and 2.8.3+'s `-N` (prefix every line
//! with `%UPSHOST%` and a TAB). SIGHUP reopens the log files (logrotate), SIGUSR1 logs at
//! once, SIGINT/SIGQUIT/SIGTERM exit.
//!
//! The daemon side comes from `nut-daemon`, as for every nut-rs daemon: the PID file
//! (`<NUT_PIDPATH>/upslog.pid` or `-p`) is locked for upslog's life, so a second instance is
//! refused with one line naming the running PID, and removed at exit; its directory is created
//! when missing; background mode releases the launcher only once upslog is ready, and logs to
//! syslog; `sd_notify` says `READY=1`, `RELOADING=1` around a SIGHUP reopen, `STOPPING=1`, and
//! pings a watchdog when systemd asks for one. A log file upslog creates is given to the
//! run-as user, so that the reopen after a rotation works once privileges are dropped.

pub mod format;
mod sys;

use std::fs::File;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nut_client::UpsId;
use nut_client::blocking::Client;
use nut_daemon::detach::Readiness;
use nut_daemon::exit::Exit;
use nut_daemon::log;
use nut_daemon::notify::Watchdog;
use nut_daemon::user::User;

use crate::common::{Io, VERSION, connect, parse_ups, prog_name, run_process};
use crate::getopt::{Opt, getopt_argv};
use format::{Context, DEFAULT_FORMAT, Piece};
use sys::PidFileOutcome;
/// Above this interval the connection is closed between polls, as NUT does.
const KEEP_CONNECTED_MAX_INTERVAL: u64 = 30;

fn help(io: &mut Io<'_>, prog: &str) {
    io.out(&format!(
        "UPS status logger.\n\
         \n\
         usage: {prog} [OPTIONS]\n\
         \n\
         \x20 -f <format>\t- line format, see below\n\
         \t\t- quote it (-f \"<format>\") so the shell keeps it in one piece\n\
         \x20 -i <interval>\t- seconds between two polls (default 30)\n\
         \x20 -l <logfile>\t- file to append to, or - for stdout (then in the foreground)\n\
         \x20 -F\t\t- stay in the foreground even when logging to a file\n\
         \x20 -B\t\t- go to the background even when logging to stdout\n\
         \x20 -p <pidbase>  - base name of the PID file (default \"{prog}\")\n\
         \x20 -s <ups>\t- the UPS to log, <upsname>[@<host>[:<port>]]\n\
         \x20       \t- e.g. -s myups@server\n\
         \x20 -m <ups,file>\t- log <ups> to <file>; repeat for several UPSes\n\
         \t\t  (-s and -l are then ignored; - is stdout)\n\
         \x20 -N\t\t- start every line with %UPSHOST% and a TAB\n\
         \x20 -u <user>\t- user to run as when started as root\n\
         \n\
         Format escapes:\n\
         \t%% a single %\n\
         \t%t a TAB\n\
         \t%TIME format% the local time, strftime format with @ instead of %\n\
         \t%ETIME% seconds since the epoch\n\
         \t%HOST% the local host name\n\
         \t%UPSHOST% the UPS as given with -s or -m\n\
         \t%PID% the process id of upslog\n\
         \t%VAR varname% the value of UPS variable varname\n\
         \n\
         Default format:\n\
         {DEFAULT_FORMAT}\n"
    ));
}

/// One UPS to log.
struct Target {
    /// The identifier as given (for messages and `%UPSHOST%`).
    spec: String,
    id: UpsId,
    log_name: String,
    log: Option<File>,
    client: Option<Client>,
}

impl Target {
    fn write_line(&mut self, line: &str) {
        let text = format!("{line}\n");
        match &mut self.log {
            Some(file) => {
                let _ = file.write_all(text.as_bytes()).and_then(|()| file.flush());
            }
            None => {
                let mut out = std::io::stdout();
                let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
            }
        }
    }
}

struct Settings {
    interval: u64,
    format: String,
    user: String,
    pid_base: String,
    foreground: Option<bool>,
    prefix_upshost: bool,
    targets: Vec<(String, String)>,
}

enum Parsed {
    Run(Settings),
    Exit(u8),
}

fn parse(argv: &[String], io: &mut Io<'_>, prog: &str) -> Parsed {
    let (opts, rest) = getopt_argv(argv, prog, "hs:l:i:f:u:Vp:FBm:N");
    let mut settings = Settings {
        interval: 30,
        format: DEFAULT_FORMAT.to_owned(),
        user: nut_daemon::paths::DEFAULT_USER.to_owned(),
        pid_base: prog.to_owned(),
        foreground: None,
        prefix_upshost: false,
        targets: Vec::new(),
    };
    let (mut monhost, mut logfile) = (None, None);
    for opt in opts {
        match opt {
            Opt::Flag('h', _) => {
                help(io, prog);
                return Parsed::Exit(0);
            }
            Opt::Flag('m', Some(tuple)) => {
                let parts: Vec<&str> = tuple.split(',').collect();
                let [ups, file] = parts.as_slice() else {
                    io.errln(
                        "Argument '-m upsspec,logfile' requires exactly 2 components in the tuple",
                    );
                    return Parsed::Exit(Exit::Usage.code());
                };
                settings
                    .targets
                    .push(((*ups).to_owned(), (*file).to_owned()));
            }
            Opt::Flag('s', value) => monhost = value,
            Opt::Flag('l', value) => logfile = value,
            Opt::Flag('i', Some(value)) => {
                settings.interval = u64::try_from(crate::common::atoi(&value)).unwrap_or(0)
            }
            Opt::Flag('f', Some(value)) => settings.format = value,
            Opt::Flag('u', Some(value)) => settings.user = value,
            Opt::Flag('p', Some(value)) => settings.pid_base = value,
            Opt::Flag('F', _) => settings.foreground = Some(true),
            Opt::Flag('B', _) => settings.foreground = Some(false),
            Opt::Flag('N', _) => settings.prefix_upshost = true,
            Opt::Flag('V', _) => return Parsed::Exit(0),
            // NUT 2.8.0 reports an unknown option and carries on (or, for a missing
            // argument, stops with 1); a daemon told something it does not understand
            // should not guess, so both are usage errors here.
            Opt::Invalid(message) => {
                io.errln(&message);
                return Parsed::Exit(Exit::Usage.code());
            }
            Opt::Flag(..) => {}
        }
    }
    // The old form: <ups> <logfile> <interval> [<format words>…].
    match rest.len() {
        0 => {}
        // NUT shows the help and exits 0, which hides the mistake from a script.
        1 | 2 => {
            io.errln(&format!(
                "{prog}: the positional form needs <ups> <logfile> <interval> - see {prog} -h"
            ));
            return Parsed::Exit(Exit::Usage.code());
        }
        _ => {
            monhost = Some(rest[0].clone());
            logfile = Some(rest[1].clone());
            settings.interval = u64::try_from(crate::common::atoi(&rest[2])).unwrap_or(0);
            if rest.len() > 3 {
                settings.format = rest[3..].iter().map(|w| format!("{w} ")).collect();
            }
        }
    }
    if settings.targets.is_empty() {
        let Some(monhost) = monhost else {
            io.errln("No UPS defined for monitoring - use -s <system>");
            return Parsed::Exit(Exit::Usage.code());
        };
        let Some(logfile) = logfile else {
            io.errln("No filename defined for logging - use -l <file>");
            return Parsed::Exit(Exit::Usage.code());
        };
        settings.targets.push((monhost, logfile));
    }
    if settings.prefix_upshost {
        settings.format = format!("%UPSHOST%%t{}", settings.format);
    }
    Parsed::Run(settings)
}

/// Run upslog with `argv` (program name first); returns the exit code.
///
/// Start-up, in this order: signals blocked (a stop during start-up is a clean stop), the
/// run-as user looked up, the PID file taken (a second instance stops here, with one line),
/// UPSes connected and log files opened as root, then background (the launcher is released
/// only once upslog is ready), privileges dropped, `READY=1`.
pub fn run(argv: &[String], io: &mut Io<'_>) -> u8 {
    let prog = prog_name(argv.first().map(String::as_str), "upslog");
    io.out(&format!("Network UPS Tools {prog} {VERSION}\n"));
    let settings = match parse(argv, io, &prog) {
        Parsed::Run(settings) => settings,
        Parsed::Exit(code) => return code,
    };
    if let Err(message) = sys::block_signals() {
        io.errln(&message);
        return Exit::OsError.code();
    }
    let user = match nut_daemon::user::run_as(&settings.user) {
        Ok(user) => user,
        Err(e) => {
            io.errln(&e.to_string());
            return Exit::from(&e).code();
        }
    };
    let pid_file = match sys::take_pid_file(&settings.pid_base, &prog, user.as_ref()) {
        Ok(PidFileOutcome::Taken(pid_file)) => Some(pid_file),
        Ok(PidFileOutcome::Unwritable(message)) => {
            io.errln(&message);
            None
        }
        // The only refusal: another instance holds the PID file.
        Err(message) => {
            io.errln(&message);
            return Exit::AlreadyRunning.code();
        }
    };
    let mut targets = Vec::new();
    for (spec, log_name) in &settings.targets {
        match open_target(spec, log_name, settings.interval, user.as_ref(), io) {
            Ok(target) => targets.push(target),
            Err(exit) => return exit.code(),
        }
    }
    let foreground = settings
        .foreground
        .unwrap_or_else(|| targets.first().is_some_and(|t| t.log.is_none()));
    // WATCHDOG_PID names the process systemd started: read it before any fork.
    let watchdog = Watchdog::from_env();
    let log_target = if foreground {
        log::Target::Stderr
    } else {
        log::Target::Syslog
    };
    log::init(&prog, 0, log_target);
    let mut readiness = if foreground {
        Readiness::foreground()
    } else {
        match nut_daemon::detach::detach() {
            Ok(readiness) => readiness,
            Err(e) => {
                io.errln(&format!("Unable to enter background mode: {e}"));
                return Exit::OsError.code();
            }
        }
    };
    if readiness.is_detached()
        && let Some(pid_file) = &pid_file
        && let Err(e) = pid_file.rewrite(std::process::id())
    {
        io.errln(&format!(
            "can't write PID file {}: {}",
            pid_file.path().display(),
            log::strerror(&e)
        ));
    }
    if let Some(user) = &user
        && let Err(e) = nut_daemon::user::become_user(user)
    {
        io.errln(&format!("can't switch to user {}: {e}", user.name));
        let exit = Exit::from(&e);
        readiness.fail(exit.code());
        return exit.code();
    }
    let pieces = format::compile(&settings.format);
    nut_daemon::notify::ready("logging");
    readiness.ready();
    let exit_signal = poll_loop(&mut targets, &pieces, settings.interval, watchdog);
    nut_daemon::notify::stopping();
    tracing::info!("Signal {exit_signal}: exiting");
    for target in targets {
        if let Some(client) = target.client {
            client.close();
        }
    }
    drop(pid_file);
    0
}

/// Announce, connect and open the log of one UPS; after explaining a fatal problem, its
/// exit class: a bad UPS identifier is a usage error, a log file that cannot be opened is
/// classed by its errno (permission denied, else can't create).
fn open_target(
    spec: &str,
    log_name: &str,
    interval: u64,
    owner: Option<&User>,
    io: &mut Io<'_>,
) -> Result<Target, Exit> {
    io.out(&format!(
        "logging status of {spec} to {log_name} ({interval}s intervals)\n"
    ));
    let id = match parse_ups(Some(spec)) {
        Ok(id) => id,
        Err(line) => {
            if let Some(line) = line {
                io.errln(&line);
            }
            io.errln(
                "Error: invalid UPS definition.  Required format: upsname[@hostname[:port]]\n",
            );
            return Err(Exit::Usage);
        }
    };
    let client = match connect(id.host_or_default(), id.port_or_default()) {
        Ok(client) => Some(client),
        Err(e) => {
            io.errln(&format!(
                "Warning: initial connect failed: {}",
                e.client_message()
            ));
            None
        }
    };
    let log = if log_name == "-" {
        None
    } else {
        match sys::open_log(log_name, owner) {
            Ok(file) => Some(file),
            Err(e) => {
                io.errln(&format!(
                    "could not open logfile {log_name}: {}",
                    log::strerror(&e)
                ));
                return Err(Exit::of_io(&e));
            }
        }
    };
    Ok(Target {
        spec: spec.to_owned(),
        id,
        log_name: log_name.to_owned(),
        log,
        client,
    })
}

/// Poll every target, then wait for the next tick or a signal; returns the signal that
/// ended it.
fn poll_loop(
    targets: &mut [Target],
    pieces: &[Piece],
    interval: u64,
    mut watchdog: Option<Watchdog>,
) -> i32 {
    // NUT spins on `-i 0` (or a non-number); one poll per second is the least we do.
    let period = Duration::from_secs(interval.max(1));
    loop {
        let started = Instant::now();
        for target in targets.iter_mut() {
            poll(target, pieces, interval);
        }
        let next = started + period;
        loop {
            let now = Instant::now();
            if let Some(dog) = &mut watchdog {
                dog.ping_if_due(now);
            }
            if now >= next {
                break;
            }
            let wake = watchdog.map_or(next, |dog| dog.deadline().min(next));
            match sys::wait_signal(wake.saturating_duration_since(now)) {
                None => {}
                Some(sys::SignalAction::Exit(signal)) => return signal,
                Some(sys::SignalAction::LogNow) => break,
                Some(sys::SignalAction::Reopen) => {
                    tracing::info!("Signal {}: reopening log file", libc::SIGHUP);
                    nut_daemon::notify::reloading();
                    reopen(targets);
                    nut_daemon::notify::reloaded("logging");
                }
            }
        }
    }
}

fn reopen(targets: &mut [Target]) {
    for target in targets.iter_mut().filter(|t| t.log.is_some()) {
        match sys::open_log(&target.log_name, None) {
            Ok(file) => target.log = Some(file),
            Err(e) => tracing::warn!(
                "could not reopen logfile {}: {}",
                target.log_name,
                log::strerror(&e)
            ),
        }
    }
}

/// Log one line for `target`, reconnecting first if needed.
fn poll(target: &mut Target, pieces: &[Piece], interval: u64) {
    if target.client.is_none() {
        target.client = connect(target.id.host_or_default(), target.id.port_or_default()).ok();
    }
    let mut ctx = Live {
        client: target.client.take(),
        ups: &target.id.name,
    };
    let line = format::render(pieces, &target.spec, &mut ctx);
    target.client = ctx.client;
    target.write_line(&line);
    if interval > KEEP_CONNECTED_MAX_INTERVAL
        && let Some(client) = target.client.take()
    {
        client.close();
    }
}

/// The real world for [`format::render`].
struct Live<'a> {
    client: Option<Client>,
    ups: &'a str,
}

fn epoch_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Context for Live<'_> {
    fn hostname(&mut self) -> String {
        sys::hostname()
    }

    fn pid(&mut self) -> u32 {
        std::process::id()
    }

    fn epoch_seconds(&mut self) -> i64 {
        epoch_now()
    }

    fn strftime(&mut self, format: &str) -> String {
        sys::strftime_local(format, epoch_now())
    }

    fn var(&mut self, name: &str) -> Option<String> {
        let client = self.client.as_mut()?;
        match client.get_var(self.ups, name) {
            Ok(value) => Some(value),
            Err(e) => {
                if e.is_connection_lost() {
                    // Reconnect on the next poll.
                    self.client = None;
                }
                None
            }
        }
    }
}

/// The `upslog` binary.
pub fn main() -> ExitCode {
    run_process(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_code(args: &[&str]) -> (Option<u8>, String) {
        let argv: Vec<String> = std::iter::once("upslog")
            .chain(args.iter().copied())
            .map(String::from)
            .collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut io = Io {
            out: &mut out,
            err: &mut err,
        };
        let code = match parse(&argv, &mut io, "upslog") {
            Parsed::Run(_) => None,
            Parsed::Exit(code) => Some(code),
        };
        (code, String::from_utf8_lossy(&err).into_owned())
    }

    #[test]
    fn bad_command_lines_are_usage_errors_with_one_line() {
        for args in [
            &["-x", "-s", "u", "-l", "-"][..],
            &["-s", "u", "-l"],
            &["-l", "-"],
            &["-s", "u"],
            &["u", "-"],
            &["-m", "u"],
        ] {
            let (code, err) = parse_code(args);
            assert_eq!(code, Some(Exit::Usage.code()), "{args:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        }
        assert!(matches!(parse_code(&["-s", "u", "-l", "-"]), (None, e) if e.is_empty()));
        assert_eq!(parse_code(&["-h"]).0, Some(0));
    }
}
