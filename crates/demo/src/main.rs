//! `nut`: the front command of nut-rs. `nut demo` runs the whole stack — dummy-ups playing a
//! power cut, upsd, upsmon with a harmless SHUTDOWNCMD, nut-web's status page — as real
//! processes over real sockets, and prints a live timeline of what happens and why.

mod scenario;
mod stack;
mod timeline;
mod web;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{SigHandler, Signal, signal};

use stack::Stack;
use timeline::{Kind, Timeline};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: i32) {
    STOP.store(true, Ordering::SeqCst);
}

const USAGE: &str = "\
usage: nut demo [--for SECONDS]

Runs nut-rs on a simulated UPS: dummy-ups plays a power cut (on line, power cut, battery
draining, low battery, power back), upsd serves it, upsmon decides to shut down and runs a
harmless SHUTDOWNCMD, nut-web shows it all on a web page. Stops on Ctrl-C, or after SECONDS
with --for.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nut: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("demo") => {
            let duration = match args.get(1..).unwrap_or_default() {
                [] => None,
                [flag, secs] if flag == "--for" => {
                    Some(Duration::from_secs(secs.parse().with_context(|| {
                        format!("--for takes seconds, not {secs:?}")
                    })?))
                }
                _ => bail!("{USAGE}"),
            };
            demo(duration)
        }
        Some("-h" | "--help" | "help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command {other:?}\n{USAGE}"),
    }
}

fn demo(duration: Option<Duration>) -> Result<()> {
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        signal(Signal::SIGINT, SigHandler::Handler(on_signal))?;
        signal(Signal::SIGTERM, SigHandler::Handler(on_signal))?;
    }
    let exe = std::env::current_exe()?;
    let bin_dir = exe.parent().context("no directory for this program")?;
    let start = Instant::now();
    let mut timeline = Timeline::new(start);
    timeline.print(
        Kind::Info,
        "starting dummy-ups (simulated UPS), upsd, upsmon and nut-web ...",
    );
    let mut stack = Stack::start(bin_dir)?;
    timeline.print(
        Kind::Info,
        &format!(
            "stack up: upsd on 127.0.0.1:{}, files in {} — {}",
            stack.port,
            stack.dir().display(),
            match duration {
                Some(d) => format!("running for {} s", d.as_secs()),
                None => "press Ctrl-C to stop".into(),
            }
        ),
    );
    timeline.print(
        Kind::Web,
        &format!(
            "status page http://127.0.0.1:{}/  (metrics: /metrics, JSON: /api/v1/upses)",
            stack.web_port
        ),
    );
    let events_path = stack.dir().join("events.log");
    let mut upsmon_exit_reported = false;
    let mut last_poll = Instant::now() - Duration::from_secs(1);
    while !STOP.load(Ordering::SeqCst) && duration.is_none_or(|d| start.elapsed() < d) {
        // upsmon reacts to what upsd already serves: when it has notified something new, read
        // the UPS first so that the timeline shows the cause before the reaction.
        let events = std::fs::read_to_string(&events_path).unwrap_or_default();
        if timeline.has_new_events(&events) || last_poll.elapsed() >= Duration::from_millis(500) {
            last_poll = Instant::now();
            // Each new status is also read back from nut-web, so the page is part of the story.
            if let Some(vars) = stack.upsc_all()
                && timeline.observe_vars(vars)
            {
                timeline.print(
                    Kind::Web,
                    &format!("/api/v1/upses: {}", stack.web_summary()),
                );
            }
        }
        timeline.observe_events(&events);
        if !upsmon_exit_reported && !stack.is_running("upsmon") {
            upsmon_exit_reported = true;
            timeline.print(
                Kind::Info,
                "upsmon finished its shutdown sequence and exited",
            );
        }
        if !stack.is_running("upsd")
            || !stack.is_running("dummy-ups")
            || !stack.is_running("nut-web")
        {
            bail!(
                "a daemon died unexpectedly:\n{}{}{}",
                stack.log("upsd"),
                stack.log("dummy-ups"),
                stack.log("nut-web")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let dir = stack.dir().to_owned();
    let killed = stack.stop();
    drop(stack);
    if !killed.is_empty() {
        timeline.print(Kind::Info, &format!("had to kill: {}", killed.join(", ")));
    }
    timeline.print(
        Kind::Info,
        &format!("stopped every process and removed {}", dir.display()),
    );
    Ok(())
}
