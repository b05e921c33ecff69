//! Issue 8 (docs/issues.md) acceptance: the demo, run non-interactively, shows the power cut, on-battery,
//! low-battery and shutdown-decision events in that order, shows nut-web's status page and
//! what its JSON API reports, and leaves no process or file behind (on `--for` and on Ctrl-C).
//!
//! The demo runs the sibling programs of the `nut` binary (dummy-ups, upsd, upsmon, upsc,
//! nut-web), so the whole workspace must be built first (`cargo build --workspace --bins`, as
//! scripts/test does).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SIBLINGS: [&str; 5] = ["dummy-ups", "upsd", "upsmon", "upsc", "nut-web"];

/// Processes whose environment or command line mentions `needle` (the demo's temp dir is in
/// NUT_CONFPATH).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let text = String::from_utf8_lossy(&[cmdline, environ].concat()).into_owned();
        if text.contains(needle) {
            found.push(format!("{pid}: {}", text.replace('\0', " ")));
        }
    }
    found
}

/// A running `nut demo`, its stdout delivered line by line.
struct Demo {
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: String,
    stderr: std::thread::JoinHandle<String>,
}

impl Demo {
    fn start(args: &[&str]) -> Self {
        let nut = Path::new(env!("CARGO_BIN_EXE_nut"));
        for sibling in SIBLINGS {
            assert!(
                nut.with_file_name(sibling).exists(),
                "{sibling} is not built next to {}; run `cargo build --workspace --bins` first",
                nut.display()
            );
        }
        let mut child = Command::new(nut)
            .arg("demo")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Self {
            child,
            lines,
            stdout: String::new(),
            stderr,
        }
    }

    /// Read stdout until a line contains `what`; returns that line.
    fn wait_for_line(&mut self, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stdout.push_str(&line);
                    self.stdout.push('\n');
                    if line.contains(what) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        panic!("the demo never printed {what:?}:\n{}", self.stdout);
    }

    /// Wait for the demo to exit; returns (success, all of stdout, stderr).
    fn finish(mut self) -> (bool, String, String) {
        let status = self.child.wait().unwrap();
        self.stdout.extend(self.lines.iter().map(|l| l + "\n"));
        let stderr = self.stderr.join().unwrap();
        (status.success(), self.stdout, stderr)
    }
}

/// The demo's temp dir, named on its "stack up" line.
fn demo_dir(stack_up_line: &str) -> String {
    stack_up_line
        .split_whitespace()
        .find(|w| w.contains("nut-demo-"))
        .expect("the demo names its directory")
        .trim_end_matches(',')
        .to_owned()
}

/// The leftover check must see nut-web while it runs, or it could not catch a stray one.
fn assert_nut_web_visible(dir: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let procs = processes_mentioning(dir);
        if procs.iter().any(|p| p.contains("nut-web")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no nut-web process refers to {dir}: {procs:#?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_nothing_left(dir: &str) {
    assert!(!Path::new(dir).exists(), "{dir} was left behind");
    let left = processes_mentioning(dir);
    assert!(left.is_empty(), "processes left behind: {left:#?}");
}

/// The port on the `WEB … status page http://127.0.0.1:PORT/` line.
fn web_port(line: &str) -> u16 {
    let rest = line
        .split_once("status page http://127.0.0.1:")
        .unwrap_or_else(|| panic!("no status page URL in {line:?}"))
        .1;
    rest.split('/').next().unwrap().parse().unwrap()
}

#[test]
fn demo_timeline_runs_in_order_and_cleans_up() {
    let mut demo = Demo::start(&["--for", "30"]);
    let dir = demo_dir(&demo.wait_for_line("stack up"));
    let web_line = demo.wait_for_line("status page http://");
    assert!(
        web_line.contains("] WEB ") && web_line.contains("JSON: /api/v1/upses"),
        "{web_line:?}"
    );
    assert!(web_port(&web_line) > 0);
    assert_nut_web_visible(&dir);
    let (success, stdout, stderr) = demo.finish();
    assert!(success, "demo failed:\n{stdout}\n{stderr}");

    let position = |what: &str| {
        stdout
            .find(what)
            .unwrap_or_else(|| panic!("timeline lacks {what:?}:\n{stdout}\n{stderr}"))
    };
    let power_cut = position("POWER-CUT");
    let on_battery = position("upsmon ONBATT");
    let low_battery = position("upsmon LOWBATT");
    let decision = position("DECISION");
    let shutdown = position("SHUTDOWNCMD ran");
    assert!(
        power_cut < on_battery
            && on_battery < low_battery
            && low_battery < decision
            && decision < shutdown,
        "events out of order:\n{stdout}"
    );

    // What nut-web's JSON API reported: at least once on battery, after the power cut.
    let web_statuses: Vec<(usize, &str)> = stdout
        .match_indices("] WEB        /api/v1/upses: ups.status \"")
        .filter_map(|(at, prefix)| {
            let rest = &stdout[at + prefix.len()..];
            rest.split_once('"').map(|(status, _)| (at, status))
        })
        .collect();
    assert!(
        web_statuses
            .iter()
            .any(|(at, status)| *at > power_cut && status.split(' ').any(|w| w == "OB")),
        "no on-battery status read from nut-web: {web_statuses:?}\n{stdout}"
    );

    assert_nothing_left(&dir);
}

#[test]
fn ctrl_c_stops_everything_including_nut_web() {
    let mut demo = Demo::start(&[]);
    let dir = demo_dir(&demo.wait_for_line("stack up"));
    demo.wait_for_line("status page http://");
    assert_nut_web_visible(&dir);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(demo.child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let (success, stdout, stderr) = demo.finish();
    assert!(success, "demo failed on Ctrl-C:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("stopped every process"),
        "no clean stop:\n{stdout}"
    );
    assert!(!stdout.contains("had to kill"), "{stdout}");
    assert_nothing_left(&dir);
}
