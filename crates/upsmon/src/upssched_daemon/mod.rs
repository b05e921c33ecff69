//! The `upssched` process shell over [`nut_upsmon::upssched`] (nut-reference.md §7).
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

mod client;
mod server;

use std::process::ExitCode;

use nut_core::conf::{UpsschedConf, parse_upssched_conf};
use nut_daemon::exit::Exit;
use nut_daemon::getopt::{Arg, Getopt};
use nut_daemon::log::Target;
use nut_daemon::paths;
use nut_upsmon::upssched::{ClientStep, Event, RunCmd, plan};

/// upssched's entry point.
pub fn main() -> ExitCode {
    ExitCode::from(upssched())
}

struct Args {
    debug: u8,
    list: bool,
    message: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        debug: 0,
        list: false,
        message: None,
    };
    // POSIX mode: the first operand is the message, and nothing after it is an option.
    for found in Getopt::new("+DlVh", std::env::args().skip(1)) {
        match found.map_err(|e| e.to_string())? {
            Arg::Opt('D', _) => args.debug = args.debug.saturating_add(1),
            Arg::Opt('l', _) => args.list = true,
            Arg::Opt('V', _) => {
                println!(
                    "Network UPS Tools upssched {}",
                    nut_core::net::reply::UPSD_VERSION
                );
                std::process::exit(0);
            }
            Arg::Opt(_, _) => {
                println!(
                    "usage: upssched [-D] [-l] [-V] [-h] [<message>]\n\n\
                     Run by upsmon as NOTIFYCMD (UPSNAME and NOTIFYTYPE set).\n\
                     \x20 -l\tlist the running timers\n\
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

    let path = paths::conf_file("upssched.conf");
    let conf = match load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return Exit::Config.code();
        }
    };
    let (Some(pipefn), Some(lockfn)) = (conf.pipefn.clone(), conf.lockfn.clone()) else {
        eprintln!("{}: PIPEFN and LOCKFN must be set", path.display());
        return Exit::Config.code();
    };
    let daemon = client::DaemonConf {
        pipefn: pipefn.into(),
        lockfn: lockfn.into(),
        cmdscript: conf.cmdscript.clone().unwrap_or_default(),
        debug: args.debug > 0,
    };

    let Some(event) = event else {
        return client::list(&daemon);
    };
    let mut code = 0;
    for step in plan(&conf, &event) {
        match step {
            ClientStep::Execute(cmd) => {
                tracing::info!("Executing command: {}", cmd.argv.last().map_or("", |s| s));
                run(&cmd);
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

fn load(path: &std::path::Path) -> Result<UpsschedConf, String> {
    let text = std::fs::read(path).map_err(|e| format!("Can't open {}: {e}", path.display()))?;
    let parsed = parse_upssched_conf(&text, &path.display().to_string()).map_err(|e| {
        e.diagnostics()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let (conf, warnings) = parsed.into_parts();
    for w in warnings {
        tracing::warn!("{w}");
    }
    Ok(conf)
}

/// Run a command and wait for it.
pub(crate) fn run(cmd: &RunCmd) {
    let Some((program, rest)) = cmd.argv.split_first() else {
        return;
    };
    let status = std::process::Command::new(program)
        .args(rest)
        .envs(cmd.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => tracing::warn!("{program} {} exited with {s}", rest.join(" ")),
        Err(e) => tracing::error!("Can't run {program}: {e}"),
    }
}
