//! `upssched`: upsmon's timer helper, a process shell over [`nut_upsmon::upssched`] (docs/nut-behaviour.md §7).
//!
//! upsmon runs `upssched "<message>"` as NOTIFYCMD with `UPSNAME` and `NOTIFYTYPE` set. This
//! invocation reads upssched.conf, and for each matching `AT` rule either runs CMDSCRIPT now
//! (`EXECUTE`) or sends a timer request to the timer daemon over the PIPEFN socket, starting the
//! daemon first when none answers ([`client`]). The daemon ([`server`]) runs CMDSCRIPT when a
//! timer expires and exits once it has had no timers for a while.
//!
//! Intended differences from NUT 2.8.0:
//! * Starting the daemon is serialised with an `flock` on LOCKFN (NUT creates the file with
//!   `O_EXCL` and deletes it when it finds it, which lets two invocations start two daemons).
//!   The lock file stays in place; it is a lock, not a flag.
//! * A request the daemon did not answer (it was exiting) is sent again, to a new daemon.
//! * `CANCEL-TIMER-MATCHED` works (§12 item 9), CMDSCRIPT gets its argument as one word, and
//!   each timer runs with the environment of the event that started it (NUT 2.8.5+).
//! * Every problem in upssched.conf is reported on every invocation, to syslog (upsmon runs us
//!   with stderr on /dev/null) and to stderr; a rule with an error is skipped and every other
//!   rule still acts (as 2.8.0, which silently skipped bad rules), and the invocation then
//!   exits 78. `upssched -t` checks the file for admins and package scripts.

mod client;
mod conf;
mod exec;
mod server;

use std::process::ExitCode;

use std::path::Path;

use nut_core::conf::{UpsschedConf, parse_upssched_conf_lenient};
use nut_daemon::exit::Exit;
use nut_daemon::getopt::{Arg, Getopt};
use nut_daemon::log::Target;
use nut_daemon::paths;
use nut_upsmon::upssched::{ClientStep, Event, plan};

/// upssched's entry point.
fn main() -> ExitCode {
    ExitCode::from(upssched())
}

struct Args {
    debug: u8,
    list: bool,
    check: bool,
    message: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        debug: 0,
        list: false,
        check: false,
        message: None,
    };
    // POSIX mode: the first operand is the message, and nothing after it is an option.
    for found in Getopt::new("+DltVh", std::env::args().skip(1)) {
        match found.map_err(|e| e.to_string())? {
            Arg::Opt('D', _) => args.debug = args.debug.saturating_add(1),
            Arg::Opt('l', _) => args.list = true,
            Arg::Opt('t', _) => args.check = true,
            Arg::Opt('V', _) => {
                println!(
                    "Network UPS Tools upssched {}",
                    nut_core::net::reply::UPSD_VERSION
                );
                std::process::exit(0);
            }
            Arg::Opt(_, _) => {
                println!(
                    "usage: upssched [-D] [-l] [-t] [-V] [-h] [<message>]\n\n\
                     Run by upsmon as NOTIFYCMD (UPSNAME and NOTIFYTYPE set).\n\
                     \x20 -l\tlist the running timers\n\
                     \x20 -t\tcheck upssched.conf, print its problems, exit 0 only if it has no errors\n\
                     \x20 -D\traise the debugging level (the timer daemon then logs to stderr)"
                );
                std::process::exit(0);
            }
            Arg::Operand(word) => {
                args.message.get_or_insert(word);
            }
        }
    }
    Ok(args)
}

fn upssched() -> u8 {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("upssched: {e}");
            return Exit::Usage.code();
        }
    };
    let path = paths::conf_file("upssched.conf");
    if args.check {
        return check(&path);
    }
    // Without -D the timer daemon has no terminal; syslog is where its messages can go.
    let target = if args.debug > 0 {
        Target::Stderr
    } else {
        Target::Syslog
    };
    nut_daemon::log::init("upssched", args.debug, target);

    // As NUT: the environment is checked before the configuration is read.
    let event = if args.list {
        None
    } else {
        let (Ok(ups), Ok(notify_type)) = (std::env::var("UPSNAME"), std::env::var("NOTIFYTYPE"))
        else {
            println!("Error: UPSNAME and NOTIFYTYPE must be set.");
            println!("This program should only be run from upsmon.");
            return 1;
        };
        Some(Event::new(
            notify_type,
            ups,
            args.message.clone().unwrap_or_default(),
        ))
    };

    let Some(Loaded { conf, errors }) = load(&path, target) else {
        return Exit::Config.code();
    };
    // Rules with errors were left out; the others act, and the exit status says the file
    // needs fixing (upsmon logs a failing NOTIFYCMD).
    let mut code = if errors { Exit::Config.code() } else { 0 };
    let steps = event.as_ref().map(|e| plan(&conf, e));
    if steps.as_ref().is_some_and(Vec::is_empty) {
        // No rule for this event: nothing needs CMDSCRIPT, PIPEFN or LOCKFN.
        return code;
    }
    let (Some(pipefn), Some(lockfn)) = (conf.pipefn.clone(), conf.lockfn.clone()) else {
        report(
            target,
            &format!("{}: PIPEFN and LOCKFN must be set", path.display()),
        );
        return Exit::Config.code();
    };
    if event.is_some() && conf.cmdscript.is_none() {
        report(
            target,
            &format!("{}: CMDSCRIPT must be set", path.display()),
        );
        return Exit::Config.code();
    }
    let daemon = conf::DaemonConf {
        pipefn: pipefn.into(),
        lockfn: lockfn.into(),
        cmdscript: conf.cmdscript.clone().unwrap_or_default(),
        debug: args.debug > 0,
    };

    let Some(steps) = steps else {
        return client::list(&daemon);
    };
    for step in steps {
        match step {
            ClientStep::Execute(cmd) => {
                tracing::info!("Executing command: {}", cmd.argv.last().map_or("", |s| s));
                exec::run(&cmd);
            }
            ClientStep::Send(request) => {
                if let Err(e) = client::send(&daemon, &request) {
                    tracing::error!("{e}");
                    eprintln!("upssched: {e}");
                    code = 1;
                }
            }
        }
    }
    code
}

/// upssched.conf as far as it is usable, and whether it has errors.
struct Loaded {
    conf: UpsschedConf,
    errors: bool,
}

/// Read upssched.conf leniently, reporting every problem; `None` if it cannot be read.
fn load(path: &Path, target: Target) -> Option<Loaded> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) => {
            report(
                target,
                &format!(
                    "Can't open {}: {}",
                    path.display(),
                    nut_daemon::log::strerror(&e)
                ),
            );
            return None;
        }
    };
    let (conf, diagnostics) = parse_upssched_conf_lenient(&text, &path.display().to_string());
    let mut errors = false;
    for d in &diagnostics {
        if d.is_error() {
            errors = true;
            report(
                target,
                &format!("{d} (rule skipped, the others still apply)"),
            );
        } else {
            tracing::warn!("{d}");
        }
    }
    Some(Loaded { conf, errors })
}

/// An error for the log (syslog without -D) and, when that is not stderr already, stderr.
fn report(target: Target, message: &str) {
    tracing::error!("{message}");
    if target != Target::Stderr {
        eprintln!("{message}");
    }
}

/// `upssched -t`: every diagnostic on stderr; 0 without errors, 78 with.
fn check(path: &Path) -> u8 {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "Can't open {}: {}",
                path.display(),
                nut_daemon::log::strerror(&e)
            );
            return Exit::Config.code();
        }
    };
    let (conf, diagnostics) = parse_upssched_conf_lenient(&text, &path.display().to_string());
    // CMDSCRIPT, PIPEFN and LOCKFN missing before an AT line are errors of the parse; a
    // file without rules needs none of them.
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    for d in &diagnostics {
        eprintln!("{d}");
    }
    if errors > 0 {
        eprintln!("{}: {errors} error(s)", path.display());
        Exit::Config.code()
    } else {
        println!("{}: OK ({} rule(s))", path.display(), conf.rules.len());
        0
    }
}
