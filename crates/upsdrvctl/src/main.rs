//! `upsdrvctl`: start, stop and shut down the drivers of ups.conf (docs/nut-behaviour.md §8.7), plus a
//! supervising mode.
//!
//! * `start [ups]` runs `<driverpath>/<driver> -a <ups>` for each UPS and waits for it to
//!   background itself (at most `maxstartdelay` s), trying `maxretry` times, `retrydelay` s
//!   apart.
//! * `stop [ups]` sends SIGTERM to the PID in `<ALTPIDPATH>/<driver>-<ups>.pid` and waits
//!   for the driver to go (SIGKILL after 5 s).
//! * `shutdown [ups]` runs `<driver> -a <ups> -k` group by group in `sdorder` order.
//! * `-F start [ups]` (supervising mode, not in NUT 2.8.0): upsdrvctl stays in the
//!   foreground with the drivers as its children (`-F`), and restarts a driver that dies —
//!   killed by a signal or exiting with a non-zero status — after `retrydelay` s, doubling
//!   the pause up to 60 s while it keeps failing fast. A driver that exits with status 0
//!   (asked to stop, e.g. `upsdrvctl stop`) is not restarted. SIGTERM/SIGINT stop every
//!   driver and upsdrvctl; SIGHUP is passed on to the drivers (reload).
//!
//! `driverpath` comes from ups.conf, else `NUT_DRIVERPATH` (a nut-rs addition), else
//! `/lib/nut`.

mod plan;
mod supervise;

use std::path::PathBuf;
use std::process::{Command as Process, ExitCode, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use nut_core::conf::UpsConf;
use nut_daemon::pidfile;
use nut_driver::process;

use crate::plan::{Cli, Command, Target};

const STOP_GRACE: Duration = Duration::from_secs(5);

fn help(prog: &str) {
    println!(
        "Starts and stops UPS drivers via ups.conf.\n\n\
usage: {prog} [OPTIONS] (start | stop | shutdown) [<ups>]\n\n\
  -h\t\t\tdisplay this help\n\
  -r <path>\t\tdrivers will chroot to <path>\n\
  -t\t\t\ttesting mode - prints actions without doing them\n\
  -u <user>\t\tdrivers started will switch from root to <user>\n\
  -D\t\t\traise debugging level\n\
  -d\t\t\tpass debugging level from upsdrvctl to driver\n\
  -F\t\t\tstay in the foreground and restart drivers that die (supervise)\n\
  start\t\t\tstart all UPS drivers in ups.conf\n\
  start <ups>\t\tonly start driver for UPS <ups>\n\
  stop\t\t\tstop all UPS drivers in ups.conf\n\
  stop <ups>\t\tonly stop driver for UPS <ups>\n\
  shutdown\t\tshutdown all UPS drivers in ups.conf\n\
  shutdown <ups>\tonly shutdown UPS <ups>"
    );
}

fn read_conf() -> Result<UpsConf, String> {
    nut_driver::config::read_ups_conf().map_err(|lines| lines.join("\n"))
}

fn driverpath(conf: &UpsConf) -> PathBuf {
    conf.global
        .driverpath
        .clone()
        .or_else(|| {
            std::env::var("NUT_DRIVERPATH")
                .ok()
                .filter(|v| !v.is_empty())
        })
        .unwrap_or_else(|| plan::DEFAULT_DRIVERPATH.to_owned())
        .into()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let prog = args.first().cloned().unwrap_or_else(|| "upsdrvctl".into());
    nut_driver::log::init("upsdrvctl");
    println!(
        "Network UPS Tools - UPS driver controller {}",
        nut_driver::NUT_VERSION
    );
    let cli = match plan::parse_cli(&prog, &args[1.min(args.len())..]) {
        Ok(c) => c,
        Err(plan::Usage(msg)) => {
            eprintln!("{msg}");
            return ExitCode::from(1);
        }
    };
    if cli.help {
        help(&prog);
        return ExitCode::SUCCESS;
    }
    let mut level = cli.debug;
    if cli.testing {
        println!("*** Testing mode: not calling exec/kill");
        level = level.max(2);
    }
    nut_driver::log::set_debug_level(level);
    nut_driver::debug!(
        2,
        "Note: this is upsdrvctl, which starts drivers. To debug a driver, run the 'exec:' \
         command shown below yourself with -D added, or give upsdrvctl -d to pass its \
         debug level on."
    );
    let Some((command, only)) = cli.command.clone() else {
        help(&prog);
        return ExitCode::SUCCESS;
    };
    let conf = match read_conf() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let targets = match plan::targets(&conf, &cli, command, only.as_deref(), &driverpath(&conf)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let statepath = process::statepath(conf.global.statepath.as_deref());
    let ok = match command {
        Command::Start if cli.foreground && !cli.testing => {
            return supervise::run(targets, statepath);
        }
        Command::Start => start_all(&cli, &targets, conf.global.nowait),
        Command::Stop => stop_all(&cli, &targets),
        Command::Shutdown => shutdown_all(&cli, &targets),
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// How a driver run ended.
enum Outcome {
    Exited(i32),
    Signalled(i32),
    TimedOut,
}

fn run_and_wait(t: &Target, limit: Option<Duration>) -> Result<Outcome, std::io::Error> {
    let mut child = Process::new(&t.program)
        .args(&t.args)
        .stdin(Stdio::null())
        .spawn()?;
    let deadline = limit.map(|l| Instant::now() + l);
    loop {
        if let Some(status) = child.try_wait()? {
            use std::os::unix::process::ExitStatusExt as _;
            return Ok(match (status.code(), status.signal()) {
                (Some(code), _) => Outcome::Exited(code),
                (None, Some(sig)) => Outcome::Signalled(sig),
                _ => Outcome::Exited(1),
            });
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            // Leave it running: it may still come up, as NUT does.
            return Ok(Outcome::TimedOut);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn missing(t: &Target) -> bool {
    if t.program.is_file() {
        return false;
    }
    nut_driver::error!(
        "Can't start {}: No such file or directory",
        t.program.display()
    );
    true
}

/// A driver program that does not exist ends `start` at once, as in NUT.
fn missing_is_fatal(t: &Target) {
    if missing(t) {
        std::process::exit(1);
    }
}

fn start_all(cli: &Cli, targets: &[Target], nowait: bool) -> bool {
    let mut ok = true;
    for t in targets {
        nut_driver::debug!(1, "Starting UPS: {}", t.ups);
        missing_is_fatal(t);
        // NUT's drivers kill an older instance; ours refuse to start twice, so `start` of
        // a running driver is a success that changes nothing.
        let pidfile = process::pid_file(&t.driver, &t.ups);
        if let Some(pid) = process::lock_holder(&pidfile) {
            nut_driver::error!("Driver for UPS [{}] is already running (PID {pid})", t.ups);
            continue;
        }
        let mut left = t.attempts;
        loop {
            nut_driver::debug!(2, "{left} remaining attempts");
            nut_driver::debug!(2, "{}", plan::exec_line(t));
            left -= 1;
            if cli.testing {
                break;
            }
            let limit = if nowait {
                Some(Duration::ZERO)
            } else {
                Some(t.max_start_delay)
            };
            let failed = match run_and_wait(t, limit) {
                Ok(Outcome::Exited(0)) => false,
                Ok(Outcome::TimedOut) => {
                    if !nowait {
                        nut_driver::error!("Startup timer elapsed, continuing...");
                    }
                    false
                }
                Ok(Outcome::Exited(code)) => {
                    nut_driver::error!("Driver failed to start (exit status={code})");
                    true
                }
                Ok(Outcome::Signalled(sig)) => {
                    nut_driver::error!("Driver died after signal {sig}");
                    true
                }
                Err(e) => {
                    nut_driver::error!(
                        "Can't start {}: {}",
                        t.program.display(),
                        process::strerror(&e)
                    );
                    true
                }
            };
            if !failed {
                break;
            }
            if left == 0 {
                ok = false;
                break;
            }
            std::thread::sleep(t.retry_delay);
        }
    }
    ok
}

/// Whether a process exists (signal 0; EPERM still means it does).
fn alive(pid: i32) -> bool {
    match kill(Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(e) => e == nix::errno::Errno::EPERM,
    }
}

fn stop_all(cli: &Cli, targets: &[Target]) -> bool {
    let mut ok = true;
    for t in targets {
        nut_driver::debug!(1, "Stopping UPS: {}", t.ups);
        let pidfile = process::pid_file(&t.driver, &t.ups);
        let pid = match pidfile::read_pid(&pidfile) {
            Ok(p) => p,
            Err(e) => {
                nut_driver::error!(
                    "Can't open {}: {}",
                    pidfile.display(),
                    process::strerror(&e)
                );
                let legacy = process::pid_file(&t.driver, &t.port);
                match pidfile::read_pid(&legacy) {
                    Ok(p) => p,
                    Err(e) => {
                        nut_driver::error!(
                            "Can't open {} either: {}",
                            legacy.display(),
                            process::strerror(&e)
                        );
                        ok = false;
                        continue;
                    }
                }
            }
        };
        if cli.testing {
            nut_driver::debug!(2, "kill -TERM {pid}");
            continue;
        }
        if let Err(e) = kill(Pid::from_raw(pid), Signal::SIGTERM) {
            nut_driver::error!(
                "Stopping {}: can't signal PID {pid}: {}",
                pidfile.display(),
                e.desc()
            );
            ok = false;
            continue;
        }
        let deadline = Instant::now() + STOP_GRACE;
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if alive(pid) {
            nut_driver::error!("Stopping {} failed, retrying harder...", pidfile.display());
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    ok
}

fn shutdown_all(cli: &Cli, targets: &[Target]) -> bool {
    let mut ok = true;
    for group in plan::shutdown_order(targets) {
        for t in group {
            nut_driver::debug!(1, "Shutdown UPS: {}", t.ups);
            nut_driver::debug!(2, "{}", plan::exec_line(t));
            if cli.testing {
                continue;
            }
            if missing(t) {
                ok = false;
                continue;
            }
            match run_and_wait(t, None) {
                Ok(Outcome::Exited(0)) => {}
                Ok(Outcome::Exited(code)) => {
                    nut_driver::error!("Driver failed to start (exit status={code})");
                    ok = false;
                }
                Ok(Outcome::Signalled(sig)) => {
                    nut_driver::error!("Driver died after signal {sig}");
                    ok = false;
                }
                Ok(Outcome::TimedOut) => {}
                Err(e) => {
                    nut_driver::error!(
                        "Can't start {}: {}",
                        t.program.display(),
                        process::strerror(&e)
                    );
                    ok = false;
                }
            }
        }
    }
    ok
}
