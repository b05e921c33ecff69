//! Shared by the real-client tests (`clients_real.rs`, `real_scripted.rs`, `real_rust.rs`):
//! the fixture of docs/nut-behaviour.md §C3.2, the `both_impls!` macro that runs each test
//! against Debian's upsd and ours, locating the installed peers (failing loudly with a
//! pointer to `.ci/peers.sh`), running a client with a deadline, and reading the JSON-lines
//! reports the scripted peers print.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::Signal;
use nut_harness::{Impl, Stack, StackBuilder, poll_until, wait_until, workspace_root};

/// `dummy`: on line power, charging. Values are plain ASCII without quotes, because the
/// PyNUT family and go.nut split on `"` (docs/nut-behaviour.md §C1.9 items 3 and 10).
pub const DUMMY_DEV: &str = "\
device.mfr: Acme
device.model: Test UPS
device.serial: ABC123
device.type: ups
ups.mfr: Acme
ups.model: Test UPS
ups.id: myid
ups.status: OL CHRG
ups.load: 23.0
ups.temperature: 30.5
battery.charge: 100
battery.charge.low: 20
battery.runtime: 1800
input.voltage: 230.1
output.voltage: 230.0
";

/// `UPS1`: on battery; deliberately without `ups.id` (test_nutclient.py expects
/// VAR-NOT-SUPPORTED when it sets it).
pub const UPS1_DEV: &str = "\
device.mfr: Acme
device.model: Second UPS
device.type: ups
ups.mfr: Acme
ups.model: Second UPS
ups.status: OB DISCHRG
ups.load: 40.0
battery.charge: 55
input.voltage: 0.0
";

/// The variables Debian's dummy-ups 2.8.0 adds for a `.dev` file named `port`.
pub fn driver_vars(port: &str) -> Vec<(String, String)> {
    [
        ("driver.name", "dummy-ups"),
        ("driver.parameter.mode", "dummy-once"),
        ("driver.parameter.pollinterval", "2"),
        ("driver.parameter.port", port),
        ("driver.parameter.synchronous", "auto"),
        ("driver.version", "2.8.0"),
        ("driver.version.internal", "0.15"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Every variable upsd serves for a fixture UPS, sorted by name as upsd lists them.
pub fn expected_vars(dev: &str, port: &str) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = dev
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .chain(driver_vars(port))
        .collect();
    vars.sort();
    vars
}

pub const DUMMY_DESC: &str = "Test device";
pub const UPS1_DESC: &str = "Second test device";

/// `admin` may do everything and is an upsmon primary; `monuser` is an upsmon secondary;
/// `viewer` has no rights at all.
pub const USERS: &str = "\
[admin]
\tpassword = adminpass
\tactions = SET FSD
\tinstcmds = ALL
\tupsmon primary

[monuser]
\tpassword = monpass
\tupsmon secondary

[viewer]
\tpassword = viewpass
";

/// The §3.2 fixture: `dummy` and `UPS1` served by Debian's dummy-ups, upsd of `which`.
pub fn fixture(which: Impl) -> StackBuilder {
    StackBuilder::new()
        .upsd(which)
        .driver(Impl::Debian)
        .dummy("dummy", "dummy.dev", DUMMY_DEV)
        .ups_section("dummy", &format!("desc = \"{DUMMY_DESC}\""))
        .dummy("UPS1", "UPS1.dev", UPS1_DEV)
        .ups_section("UPS1", &format!("desc = \"{UPS1_DESC}\""))
        .upsd_users(USERS)
}

/// [`fixture`], started.
pub fn stack(which: Impl) -> Stack {
    fixture(which).start()
}

/// MAXAGE for stacks whose tests make a driver stale: short, so staleness shows quickly,
/// yet several PING periods (MAXAGE/3) long, so a healthy dummy-ups never trips it.
pub const SHORT_MAXAGE: &str = "MAXAGE 6";

/// Generates `mod $name { #[test] fn debian(); #[test] fn ours(); }` calling
/// `$name(Impl::…)`, so every client test runs against both upsd implementations
/// (`cargo test … upsc::debian`). Until our upsd is built the `ours` tests fail, by design.
/// tests.rs declares `#[macro_use] mod real_support;` ahead of the test modules.
macro_rules! both_impls {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                #[ignore = "needs Debian's NUT 2.8.0 and the client peers of .ci/peers.sh; scripts/test runs it"]
                fn debian() {
                    super::$name(nut_harness::Impl::Debian)
                }
                #[test]
                #[ignore = "needs Debian's NUT 2.8.0 and the client peers of .ci/peers.sh; scripts/test runs it"]
                fn ours() {
                    super::$name(nut_harness::Impl::Ours)
                }
            }
        )*
    };
}

// ---- peers --------------------------------------------------------------------------------

/// Panics with the standard "install the peers" message.
pub fn missing_peer(what: &str) -> ! {
    panic!(
        "real-client peer missing: {what}. Install every peer with `bash .ci/peers.sh` \
         (this test never skips)"
    )
}

/// An executable file that must exist.
pub fn require(path: &str, what: &str) -> PathBuf {
    let p = PathBuf::from(path);
    let executable = p
        .metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false);
    if !executable {
        missing_peer(&format!("{what} ({path})"));
    }
    p
}

/// The peers' Python venv made by `.ci/peers.sh`.
pub fn venv() -> PathBuf {
    workspace_root().join("target").join("peers-venv")
}

/// The venv's Python interpreter.
pub fn venv_python() -> PathBuf {
    let py = venv().join("bin").join("python");
    if !py.exists() {
        missing_peer(&format!("Python venv at {}", venv().display()));
    }
    py
}

/// A file of an installed Python package inside the venv (`lib/python3.*/site-packages/…`).
pub fn venv_package_file(relative: &str) -> PathBuf {
    let lib = venv().join("lib");
    let found = std::fs::read_dir(&lib).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| e.path().join("site-packages").join(relative))
            .find(|p| p.exists())
    });
    found.unwrap_or_else(|| missing_peer(&format!("{relative} in {}", lib.display())))
}

/// This crate's `peers/` directory (the scripts that drive the peers).
pub fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// `node`, with node-nut installed next to our script.
pub fn node_with_node_nut() -> (PathBuf, PathBuf) {
    let dir = peers_dir().join("node");
    if !dir.join("node_modules/node-nut/node-nut.js").exists() {
        missing_peer(&format!("npm node-nut in {}/node_modules", dir.display()));
    }
    let node = which("node").unwrap_or_else(|| missing_peer("node (nodejs) on PATH"));
    (node, dir)
}

/// Perl with UPS::Nut (libups-nut-perl).
pub fn perl_with_ups_nut() -> PathBuf {
    let perl = which("perl").unwrap_or_else(|| missing_peer("perl on PATH"));
    let ok = Command::new(&perl)
        .args(["-MUPS::Nut", "-e", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        missing_peer("perl module UPS::Nut (libups-nut-perl)");
    }
    perl
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

// ---- running clients ------------------------------------------------------------------------

/// What a client printed and how it ended.
#[derive(Debug)]
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// The exit code (panics if the client died from a signal).
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| panic!("client killed by a signal: {self:#?}"))
    }

    /// Asserts the exit code, showing everything on failure.
    pub fn assert_code(&self, want: i32, what: &str) -> &Self {
        assert_eq!(self.code(), want, "{what}: unexpected exit code; {self:#?}");
        self
    }
}

/// Runs a short-lived client to completion (stdin from /dev/null) with a deadline; kills it
/// and panics if it overruns.
pub fn run(mut cmd: Command, timeout: Duration) -> Ran {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let status = poll_until(timeout, || child.try_wait().ok().flatten());
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "{shown} did not finish within {timeout:?}; stdout so far:\n{}\nstderr:\n{}",
            out.join().unwrap_or_default(),
            err.join().unwrap_or_default()
        );
    };
    Ran {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Deadline for one short client run; generous for a loaded CI machine.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A Debian client command with the stack's environment (NUT_CONFPATH etc.).
pub fn debian_client(stack: &Stack, name: &str) -> Command {
    stack.command(Impl::Debian, name)
}

/// Wraps `cmd` so that it runs in a private mount namespace where `/run/nut` is
/// `<stack dir>/<run_dir_name>`: Debian 2.8.0's upsmon and upslog keep their PID files in
/// /run/nut whatever the environment says and refuse to start next to another live
/// instance, so two upsmons (primary + secondary, or parallel tests) need separate ones.
pub fn with_private_run_nut(stack: &Stack, run_dir_name: &str, cmd: &Command) -> Command {
    let run_dir = stack.dir().join(run_dir_name);
    std::fs::create_dir_all(&run_dir).expect("create private /run/nut");
    std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o770))
        .expect("chmod private /run/nut");
    if let Some(nut) = nix::unistd::Group::from_name("nut").ok().flatten() {
        nix::unistd::chown(&run_dir, None, Some(nut.gid)).expect("chgrp nut private /run/nut");
    }
    let mut wrapped = Command::new("unshare");
    wrapped
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount --bind "$0" /run/nut && exec "$@""#)
        .arg(&run_dir)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}

// ---- stack manipulation ---------------------------------------------------------------------

/// A raw admin session (USERNAME/PASSWORD answered `OK`).
pub fn admin_conn(stack: &Stack) -> nut_harness::Conn {
    let mut conn = stack.conn();
    assert_eq!(conn.request("USERNAME admin"), ["OK"]);
    assert_eq!(conn.request("PASSWORD adminpass"), ["OK"]);
    conn
}

/// Sets a variable through upsd and waits until upsd serves the new value (dummy-ups
/// applies SETs asynchronously).
pub fn set_var(stack: &Stack, ups: &str, var: &str, value: &str) {
    let mut conn = admin_conn(stack);
    assert_eq!(
        conn.request(&format!("SET VAR {ups} {var} \"{value}\"")),
        ["OK"],
        "SET VAR {ups} {var}"
    );
    wait_for_value(stack, ups, var, value);
}

/// Waits until `GET VAR ups var` answers `value`.
pub fn wait_for_value(stack: &Stack, ups: &str, var: &str, value: &str) {
    let want = format!("VAR {ups} {var} \"{value}\"");
    let mut conn = stack.conn();
    let mut last = Vec::new();
    let seen = poll_until(Duration::from_secs(20), || {
        last = conn.request(&format!("GET VAR {ups} {var}"));
        (last.first() == Some(&want)).then_some(())
    });
    assert!(
        seen.is_some(),
        "upsd never served {want:?}; last reply {last:?}\n{}",
        stack.logs()
    );
}

/// Restarts upsd together with the drivers. Debian's dummy-ups 2.8.0 can abort ("bit out
/// of range 0 - FD_SETSIZE on fd_set") when the upsd it talks to vanishes, so a bare
/// `restart_upsd` would test that driver bug rather than the client's reconnect logic.
pub fn restart_server(stack: &mut Stack) {
    stack.stop_upsd();
    for ups in ["dummy", "UPS1"] {
        stack.kill_driver(ups);
        stack.start_driver(ups);
    }
    stack.start_upsd();
}

/// Freezes the driver of `ups` (SIGSTOP) until the guard is dropped, and waits until upsd
/// declares its data stale. The stack must use [`SHORT_MAXAGE`].
pub struct Frozen<'a> {
    stack: &'a Stack,
    ups: String,
}

pub fn make_stale<'a>(stack: &'a Stack, ups: &str) -> Frozen<'a> {
    let driver = stack
        .driver_daemon(ups)
        .unwrap_or_else(|| panic!("no driver running for {ups}"));
    driver.signal(Signal::SIGSTOP);
    let frozen = Frozen {
        stack,
        ups: ups.to_owned(),
    };
    let mut conn = stack.conn();
    wait_until(
        &format!("upsd to report {ups} stale"),
        Duration::from_secs(30),
        || {
            let reply = conn.request(&format!("GET VAR {ups} ups.status"));
            (reply == ["ERR DATA-STALE"]).then_some(())
        },
    );
    frozen
}

impl Drop for Frozen<'_> {
    fn drop(&mut self) {
        if let Some(driver) = self.stack.driver_daemon(&self.ups) {
            driver.signal(Signal::SIGCONT);
        }
    }
}

// ---- scripted peers' reports ----------------------------------------------------------------

/// The JSON lines a scripted peer printed, by step name (a repeated step keeps the last).
#[derive(Debug)]
pub struct Report {
    pub steps: BTreeMap<String, serde_json::Value>,
    pub raw: String,
}

impl Report {
    /// Parses every output line that is a JSON object with a `step` field.
    pub fn parse(output: &str) -> Report {
        let steps = output
            .lines()
            .filter(|l| l.starts_with('{'))
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| Some((v.get("step")?.as_str()?.to_owned(), v)))
            .collect();
        Report {
            steps,
            raw: output.to_owned(),
        }
    }

    fn step(&self, name: &str) -> &serde_json::Value {
        self.steps
            .get(name)
            .unwrap_or_else(|| panic!("peer never reported step {name:?}; output:\n{}", self.raw))
    }

    /// The `ok` value of a step that must have succeeded.
    pub fn ok(&self, name: &str) -> &serde_json::Value {
        let step = self.step(name);
        step.get("ok")
            .unwrap_or_else(|| panic!("peer step {name:?} failed: {step}; output:\n{}", self.raw))
    }

    /// The error text of a step that must have failed (`err`, or `exc` + `msg`).
    pub fn err(&self, name: &str) -> String {
        let step = self.step(name);
        if let Some(e) = step.get("err").and_then(|e| e.as_str()) {
            return e.to_owned();
        }
        match (step.get("exc"), step.get("msg")) {
            (Some(exc), Some(msg)) => format!(
                "{}: {}",
                exc.as_str().unwrap_or_default(),
                msg.as_str().unwrap_or_default()
            ),
            _ => panic!(
                "peer step {name:?} should have failed but gave {step}; output:\n{}",
                self.raw
            ),
        }
    }
}

/// A JSON object of string values, as the peers report name → value maps.
pub fn json_map(pairs: &[(String, String)]) -> serde_json::Value {
    serde_json::Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
    )
}
