//! Test support: build the C stand-in (tests/rig/usb/fakeusb.c) with cc, run Debian's NUT 2.8.0
//! drivers under it, and make the same libusb calls (its FAKEUSB_TRACE) on our replay through
//! the `UsbTransport` trait, so the two transfer logs can be compared line by line.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nut_usb::replay::{Replay, ReplayOptions, ReplayTransport};
use nut_usb::{ControlSetup, DeviceIdentity, UsbError, UsbTransport};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../..")
        .canonicalize()
        .unwrap()
}

pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(rel)
}

/// Build fakeusb.so into `dir` as tests/rig/usb/build.sh does (warnings are errors here).
pub fn build_standin(dir: &Path) -> PathBuf {
    let src = repo_root().join("tests/rig/usb/fakeusb.c");
    let out = dir.join("fakeusb.so");
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args([
            "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
        ])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("cc must be installed (build-essential) to build the libusb stand-in");
    assert!(status.success(), "building {} failed", src.display());
    out
}

/// A Debian driver (from /lib/nut) that must exist: a missing peer fails the test.
pub fn debian_driver(name: &str) -> PathBuf {
    let p = Path::new("/lib/nut").join(name);
    assert!(
        p.exists(),
        "{} is missing: install Debian's nut-server 2.8.0 (the reference peer)",
        p.display()
    );
    p
}

pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub log: String,
    pub trace: String,
}

impl Run {
    /// The `-d 1` dump: `name: value` lines.
    pub fn vars(&self) -> BTreeMap<String, String> {
        self.stdout
            .lines()
            .filter_map(|l| l.split_once(": "))
            .filter(|(k, _)| k.contains('.') && !k.contains(' '))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// Environment for a Debian driver under the stand-in; the files live in `dir`.
pub fn standin_command(driver: &str, so: &Path, spec: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(debian_driver(driver));
    cmd.args(["-s", "t", "-x", "port=auto", "-u", "root"])
        .args(args)
        .env("LD_PRELOAD", so)
        .env("FAKEUSB_SPEC", spec)
        .env("FAKEUSB_LOG", dir.join("c.log"))
        .env("FAKEUSB_TRACE", dir.join("c.trace"))
        .env("FAKEUSB_EVENTS", dir.join("c.events"))
        .env("NUT_STATEPATH", dir)
        .env("NUT_ALTPIDPATH", dir)
        .stdin(Stdio::null());
    cmd
}

fn wait_with_deadline(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("driver did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Run a Debian driver with `-d 1` under the stand-in.
pub fn run_debian(driver: &str, so: &Path, spec: &Path, dir: &Path, args: &[&str]) -> Run {
    fs::write(dir.join("c.events"), "").unwrap();
    let mut cmd = standin_command(driver, so, spec, dir, args);
    cmd.args(["-d", "1"])
        .stdout(fs::File::create(dir.join("c.stdout")).unwrap())
        .stderr(fs::File::create(dir.join("c.stderr")).unwrap());
    let mut child = cmd.spawn().unwrap();
    let status = wait_with_deadline(&mut child, Duration::from_secs(90));
    collect(status, dir)
}

pub fn collect(status: ExitStatus, dir: &Path) -> Run {
    let read = |n: &str| fs::read_to_string(dir.join(n)).unwrap_or_default();
    Run {
        status,
        stdout: read("c.stdout"),
        stderr: read("c.stderr"),
        log: read("c.log"),
        trace: read("c.trace"),
    }
}

/// libusb's error code for a transfer error (what the C stand-in returns).
pub fn code(e: &UsbError) -> i64 {
    match e {
        UsbError::Timeout => -7,
        UsbError::Stall => -9,
        UsbError::NoDevice => -4,
        UsbError::Access => -3,
        UsbError::Busy => -6,
        UsbError::NotFound => -5,
        UsbError::Overflow => -8,
        UsbError::InvalidParam(_) => -2,
        UsbError::Io(_) => -1,
        _ => -99,
    }
}

/// "<fields>[: <hex bytes>] (timeout <ms>)" of a traced transfer.
fn call_fields(rest: &str) -> (Vec<&str>, Vec<u8>, u64) {
    let (args, timeout) = rest.split_once(" (timeout ").unwrap();
    let timeout = timeout.trim_end_matches(')').parse().unwrap();
    let (head, hex) = args.split_once(':').unwrap_or((args, ""));
    let data = hex
        .split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    (head.split_whitespace().collect(), data, timeout)
}

pub struct Replayed {
    pub log: String,
    /// (trace line number, call, C result, our result) where they differ
    pub result_mismatches: Vec<String>,
    pub calls: usize,
}

/// Make the calls of a FAKEUSB_TRACE on our replay of the same spec (through `UsbTransport`),
/// feeding the events at the points the stand-in applied them. Returns our log.
pub fn replay_trace(spec: &Path, trace: &str, dir: &Path) -> Replayed {
    let log = dir.join("rust.log");
    let events = dir.join("rust.events");
    let _ = fs::remove_file(&log);
    fs::write(&events, "").unwrap();
    let replay = Replay::load(
        spec,
        &ReplayOptions {
            log: Some(log.clone()),
            events: Some(events.clone()),
        },
    )
    .unwrap();
    let mut handles: HashMap<i64, ReplayTransport> = HashMap::new();
    let mut mismatches = Vec::new();
    let mut ours: Option<(String, String)> = None;
    let mut calls = 0;
    let t = Duration::from_millis(1000);
    for (no, line) in trace.lines().enumerate() {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        let num = |s: &str| -> i64 {
            s.parse::<i64>()
                .or_else(|_| i64::from_str_radix(s, 16))
                .unwrap()
        };
        match word {
            "event" => {
                let mut f = fs::OpenOptions::new().append(true).open(&events).unwrap();
                writeln!(f, "{rest}").unwrap();
            }
            "list" => {
                replay.enumerate();
            }
            "open" => {
                let r = replay.open();
                if rest == "-" {
                    assert!(
                        r.is_err(),
                        "trace line {}: the C stand-in refused the open, we did not",
                        no + 1
                    );
                } else {
                    let h = r.unwrap_or_else(|e| panic!("trace line {}: open failed: {e}", no + 1));
                    handles.insert(num(rest), h.into_transport(DeviceIdentity::default()));
                }
            }
            "close" => {
                handles.remove(&num(rest));
            }
            "control" => {
                calls += 1;
                let (f, data, _) = call_fields(rest);
                let h = num(f[0]);
                let rt = u8::from_str_radix(f[1], 16).unwrap();
                let setup = ControlSetup {
                    request_type: rt,
                    request: u8::from_str_radix(f[2], 16).unwrap(),
                    value: u16::from_str_radix(f[3], 16).unwrap(),
                    index: u16::from_str_radix(f[4], 16).unwrap(),
                };
                let len: u16 = f[5].parse().unwrap();
                let tr = handles.get_mut(&h).expect("control on an unknown handle");
                let r = if rt & 0x80 != 0 {
                    tr.control_in(setup, len, t).map(|v| v.len() as i64)
                } else {
                    tr.control_out(setup, &data, t).map(|n| n as i64)
                };
                let mine = match r {
                    Ok(n) => format!("= {n}"),
                    Err(e) => format!("= {}", code(&e)),
                };
                ours = Some((line.to_string(), mine));
            }
            "interrupt" => {
                calls += 1;
                let (f, data, timeout) = call_fields(rest);
                let h = num(f[0]);
                let ep: u8 = f[1].parse().unwrap();
                let len: usize = f[2].parse().unwrap();
                let tr = handles.get_mut(&h).expect("interrupt on an unknown handle");
                let r = if ep & 0x80 != 0 {
                    tr.interrupt_in(ep, len, Duration::from_millis(timeout))
                        .map(|v| v.len())
                } else {
                    tr.interrupt_out(ep, &data, Duration::from_millis(timeout))
                };
                let mine = match r {
                    Ok(n) => format!("= 0 {n}"),
                    Err(e) => format!("= {} 0", code(&e)),
                };
                ours = Some((line.to_string(), mine));
            }
            "ascii" => {
                calls += 1;
                let f: Vec<&str> = rest.split_whitespace().collect();
                let h = num(f[0]);
                let idx: u8 = f[1].parse().unwrap();
                let len: usize = f[2].parse().unwrap();
                let tr = handles
                    .get_mut(&h)
                    .expect("string read on an unknown handle");
                let mine = match tr.string_ascii(idx, len, t) {
                    Ok(v) => format!("= {}", v.len()),
                    Err(e) => format!("= {}", code(&e)),
                };
                ours = Some((line.to_string(), mine));
            }
            "=" => {
                let (call, mine) = ours.take().expect("a result line without a call");
                if mine != line {
                    mismatches.push(format!(
                        "trace line {}: {call}: C {line}, ours {mine}",
                        no + 1
                    ));
                }
            }
            other => panic!("trace line {}: unknown entry {other:?}", no + 1),
        }
    }
    Replayed {
        log: fs::read_to_string(&log).unwrap(),
        result_mismatches: mismatches,
        calls,
    }
}

/// The two logs must be equal line for line; show the first difference with context.
pub fn assert_same_log(what: &str, c: &str, rust: &str) {
    let (a, b): (Vec<&str>, Vec<&str>) = (c.lines().collect(), rust.lines().collect());
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        if x != y {
            let from = i.saturating_sub(3);
            panic!(
                "{what}: logs differ at line {}:\n  C:    {:?}\n  Rust: {:?}\ncontext (C):\n{}\ncontext (Rust):\n{}",
                i + 1,
                x,
                y,
                a[from..(i + 2).min(a.len())].join("\n"),
                b[from..(i + 2).min(b.len())].join("\n"),
            );
        }
    }
}

/// Check a C run against our replay of its trace: same log, same results.
pub fn assert_replay_matches(what: &str, spec: &Path, run: &Run, dir: &Path) -> Replayed {
    assert!(!run.trace.is_empty(), "{what}: the stand-in wrote no trace");
    let ours = replay_trace(spec, &run.trace, dir);
    assert!(
        ours.result_mismatches.is_empty(),
        "{what}: results differ:\n{}",
        ours.result_mismatches.join("\n")
    );
    assert_same_log(what, &run.log, &ours.log);
    ours
}

/// Wait until the text of `path` satisfies `done` (deadline, no fixed sleeps); returns the text.
pub fn wait_for(path: &Path, limit: Duration, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let text = fs::read_to_string(path).unwrap_or_default();
        if done(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{} did not reach the expected state within {limit:?}:\n{text}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stop a driver that runs under the stand-in, then make its completed calls on our replay: the
/// results must agree and our log must be the stand-in's, line for line (the stand-in's may go on
/// with a call the driver was killed in).
pub fn stop_and_compare(what: &str, running: Running, spec: &Path, dir: &Path) -> Replayed {
    let status = running.stop();
    let run = collect(status, dir);
    let lines: Vec<&str> = run.trace.lines().collect();
    let last_result = lines
        .iter()
        .rposition(|l| l.starts_with("= "))
        .unwrap_or_else(|| panic!("{what}: no completed call in the trace"));
    let complete = lines[..=last_result].join("\n") + "\n";
    let ours = replay_trace(spec, &complete, dir);
    assert!(
        ours.result_mismatches.is_empty(),
        "{what}: results differ:\n{}",
        ours.result_mismatches.join("\n")
    );
    let c_lines: Vec<&str> = run.log.lines().collect();
    let n = ours.log.lines().count();
    assert!(
        n <= c_lines.len(),
        "{what}: our replay logged more than the stand-in"
    );
    assert_same_log(what, &c_lines[..n].join("\n"), &ours.log);
    ours
}

/// A driver started in the background; killed when dropped (also when a test fails early).
pub struct Running(Option<Child>);

impl Running {
    pub fn spawn(cmd: &mut Command) -> Running {
        Running(Some(cmd.spawn().unwrap()))
    }

    pub fn stop(mut self) -> ExitStatus {
        let mut child = self.0.take().unwrap();
        let _ = child.kill();
        child.wait().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
