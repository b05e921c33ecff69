//! serialsim: a recorded serial UPS on a pseudo-terminal (the nut-rig simulator as a
//! program, for manual runs against any driver).
//!
//! ```text
//! serialsim --proto megatec|apcsmart FIXTURE [--link PATH] [--log FILE] [--fixed]
//!           [--apc-caps] [--set CMD=REPLY]... [--freeze-after N]
//!           [--script N:ol|ob|oblb]... [--fault FAULT] [--control FILE]
//! ```
//!
//! Prints the pty path (one line) and serves until SIGTERM/SIGINT. FAULT is `silent`,
//! `garbage`, `short:N`, `truncated:N` or `slow:MILLIS`. `--control FILE` is read for new
//! complete lines while running: `power ol|ob|oblb|recorded`, `fault FAULT|none`,
//! `set CMD=REPLY`. `--log FILE` gets one line per exchange as it happens.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nut_rig::sim::format_exchange;
use nut_rig::{Fault, Power, Protocol, PtySim, SimConfig, fixture};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: nix::libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

#[derive(Default)]
struct Args {
    proto: Option<Protocol>,
    fixture: Option<PathBuf>,
    link: Option<PathBuf>,
    log: Option<PathBuf>,
    control: Option<PathBuf>,
    fixed: bool,
    apc_caps: bool,
    sets: Vec<String>,
    freeze_after: Option<u64>,
    script: Vec<(u64, Power)>,
    fault: Option<Fault>,
}

const USAGE: &str = "usage: serialsim --proto megatec|apcsmart FIXTURE [--link PATH] [--log FILE] \
[--fixed] [--apc-caps] [--set CMD=REPLY]... [--freeze-after N] [--script N:ol|ob|oblb]... \
[--fault silent|garbage|short:N|truncated:N|slow:MILLIS] [--control FILE]";

fn parse_power(text: &str) -> Result<Option<Power>, String> {
    Ok(Some(match text {
        "ol" => Power::Online,
        "ob" => Power::OnBattery,
        "oblb" => Power::LowBattery,
        "recorded" => return Ok(None),
        _ => {
            return Err(format!(
                "unknown power state {text:?} (ol, ob, oblb, recorded)"
            ));
        }
    }))
}

fn parse_fault(text: &str) -> Result<Option<Fault>, String> {
    let number = |n: &str| n.parse::<u64>().map_err(|e| format!("{text:?}: {e}"));
    Ok(Some(match text.split_once(':') {
        None if text == "none" => return Ok(None),
        None if text == "silent" => Fault::Silent,
        None if text == "garbage" => Fault::Garbage,
        Some(("short", n)) => Fault::Short(number(n)? as usize),
        Some(("truncated", n)) => Fault::Truncated(number(n)? as usize),
        Some(("slow", n)) => Fault::Slow(Duration::from_millis(number(n)?)),
        _ => return Err(format!("unknown fault {text:?}")),
    }))
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--proto" => {
                args.proto = Some(match value()?.as_str() {
                    "megatec" => Protocol::Megatec,
                    "apcsmart" => Protocol::ApcSmart,
                    other => return Err(format!("unknown protocol {other:?}")),
                })
            }
            "--link" => args.link = Some(value()?.into()),
            "--log" => args.log = Some(value()?.into()),
            "--control" => args.control = Some(value()?.into()),
            "--set" => args.sets.push(value()?),
            "--fixed" => args.fixed = true,
            "--apc-caps" => args.apc_caps = true,
            "--freeze-after" => {
                args.freeze_after = Some(
                    value()?
                        .parse()
                        .map_err(|e| format!("--freeze-after: {e}"))?,
                )
            }
            "--script" => {
                let v = value()?;
                let (n, power) = v.split_once(':').ok_or("--script wants N:STATE")?;
                let n = n.parse().map_err(|e| format!("--script {v:?}: {e}"))?;
                let power = parse_power(power)?.ok_or("--script: `recorded` is not a step")?;
                args.script.push((n, power));
            }
            "--fault" => args.fault = parse_fault(&value()?)?,
            "-h" | "--help" => return Err(String::new()),
            _ if !arg.starts_with('-') && args.fixture.is_none() => args.fixture = Some(arg.into()),
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    Ok(args)
}

fn config(args: &Args) -> Result<SimConfig, String> {
    let proto = args.proto.ok_or("--proto is required")?;
    let fixture_path = args.fixture.as_ref().ok_or("FIXTURE is required")?;
    let mut config = SimConfig::from_fixture(proto, fixture_path).map_err(|e| e.to_string())?;
    for set in &args.sets {
        let (cmd, reply) = fixture::parse_set(set).map_err(|e| e.to_string())?;
        config = config.set(cmd, reply);
    }
    if args.apc_caps {
        config = config.apc_caps();
    }
    config.fixed = args.fixed;
    config.freeze_after = args.freeze_after;
    config.script = args.script.clone();
    Ok(config)
}

/// Applies one control line; an error names the line.
fn control(sim: &PtySim, line: &str) -> Result<(), String> {
    let (verb, rest) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
    match verb {
        "" => {}
        "power" => sim.set_power(parse_power(rest.trim())?),
        "fault" => sim.set_fault(parse_fault(rest.trim())?),
        "set" => {
            let (cmd, reply) = fixture::parse_set(rest).map_err(|e| e.to_string())?;
            sim.with(|s| s.set_reply(cmd, reply));
        }
        _ => return Err(format!("unknown control line {line:?}")),
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("serialsim: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = match config(&args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("serialsim: {e}");
            return ExitCode::from(2);
        }
    };
    let started = match &args.link {
        Some(link) => PtySim::start_linked(config, link),
        None => PtySim::start(config),
    };
    let sim = match started {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("serialsim: {e}");
            return ExitCode::FAILURE;
        }
    };
    sim.set_fault(args.fault);
    let handler = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        // SAFETY: the handler only stores to an atomic.
        let _ = unsafe { sigaction(signal, &handler) };
    }
    println!("{}", sim.pty_path().display());
    let _ = std::io::stdout().flush();

    let mut log = match &args.log {
        Some(path) => match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            Ok(file) => Some(file),
            Err(e) => {
                eprintln!("serialsim: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let mut logged = 0;
    let mut control_pos = 0u64;
    let mut partial = String::new();
    while !STOP.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        if let Some(file) = log.as_mut() {
            for exchange in sim.exchanges_since(logged) {
                logged += 1;
                let _ = writeln!(file, "{}", format_exchange(&exchange));
            }
        }
        if let Some(path) = &args.control {
            for line in read_new_lines(path, &mut control_pos, &mut partial) {
                if let Err(e) = control(&sim, &line) {
                    eprintln!("serialsim: {}: {e}", path.display());
                }
            }
        }
    }
    ExitCode::SUCCESS
}

/// The complete lines appended to `path` since `pos` (a missing file has none).
fn read_new_lines(path: &PathBuf, pos: &mut u64, partial: &mut String) -> Vec<String> {
    use std::io::{Seek, SeekFrom};
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let mut reader = std::io::BufReader::new(file);
    if reader.seek(SeekFrom::Start(*pos)).is_err() {
        return Vec::new();
    }
    let mut lines = Vec::new();
    let mut buf = String::new();
    while let Ok(n) = reader.read_line(&mut buf) {
        if n == 0 {
            break;
        }
        *pos += n as u64;
        partial.push_str(&buf);
        buf.clear();
        if partial.ends_with('\n') {
            lines.push(std::mem::take(partial));
        }
    }
    lines
}
