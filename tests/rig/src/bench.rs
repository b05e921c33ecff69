//! A driver on its own simulator under upsd, and the A/B comparison of two of them.
//!
//! ```text
//!   PtySim ──pty── driver (Debian's /lib/nut/X or our X) ──socket── upsd (same impl) ──TCP── Snapshot
//! ```
//!
//! Serial ports are `flock()`ed by the drivers, so every bench has its own simulator; to
//! compare two drivers fed by cycling replies, let both simulators freeze after the same
//! number of status queries ([`SimConfig::freeze_after`]) and take the snapshot once the
//! published data has settled ([`Bench::snapshot_after_polls`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nut_harness::{Conn, Impl, Stack, StackBuilder, poll_until};

use crate::pty::PtySim;
use crate::sim::{Exchange, Power, SimConfig};

/// The UPS name benches use in ups.conf.
pub const UPS: &str = "dut";

/// Credentials of the harness's default `upsd.users` administrator.
const ADMIN: (&str, &str) = ("admin", "adminpass");

/// The power cut every driver test walks through: OL → OB → OB LB → OL.
pub const POWER_CUT: [(Power, &str); 3] = [
    (Power::OnBattery, "OB"),
    (Power::LowBattery, "OB LB"),
    (Power::Online, "OL"),
];

/// Deadline for conditions that need a few driver polls (stale, recovery, status changes);
/// generous for a loaded 2-core CI machine.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(60);

/// Describes a bench; [`BenchBuilder::start`] brings it up.
#[derive(Debug, Clone)]
pub struct BenchBuilder {
    which: Impl,
    upsd: Impl,
    driver: String,
    sim: SimConfig,
    keys: Vec<(String, Option<String>)>,
}

impl BenchBuilder {
    /// `driver` of `which` (its upsd is of the same implementation) on a simulator
    /// serving `sim`. Switching Debian's driver for ours is `Impl::Debian` → `Impl::Ours`.
    pub fn new(which: Impl, driver: &str, sim: SimConfig) -> BenchBuilder {
        BenchBuilder {
            which,
            upsd: which,
            driver: driver.to_owned(),
            sim,
            keys: Vec::new(),
        }
    }

    /// A ups.conf key for the section: `key = "value"`.
    pub fn key(mut self, key: &str, value: &str) -> Self {
        self.keys.push((key.to_owned(), Some(value.to_owned())));
        self
    }

    /// A ups.conf flag for the section (a bare `key`, e.g. `novendor`).
    pub fn flag(mut self, key: &str) -> Self {
        self.keys.push((key.to_owned(), None));
        self
    }

    /// Run this upsd instead of the driver's implementation.
    pub fn upsd(mut self, which: Impl) -> Self {
        self.upsd = which;
        self
    }

    /// Changes the simulator configuration (e.g. `|s| s.freeze_after(3)`).
    pub fn sim(mut self, f: impl FnOnce(SimConfig) -> SimConfig) -> Self {
        self.sim = f(self.sim);
        self
    }

    /// Starts the simulator, then the driver (waiting for its socket), then upsd (waiting
    /// until it serves a status other than `WAIT`).
    pub fn start(self) -> Bench {
        // The port is a symlink in a directory of the bench's own, so it survives
        // unplug/plug (a new pty) with the same path. 0755: drivers run as `nut`.
        let port_dir = tempfile::Builder::new()
            .prefix("nut-rig-port-")
            .tempdir()
            .unwrap_or_else(|e| panic!("nut-rig: cannot create a temp dir: {e}"));
        std::fs::set_permissions(port_dir.path(), std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("nut-rig: chmod {}: {e}", port_dir.path().display()));
        let sim = PtySim::start_linked(self.sim, port_dir.path().join("ttyUPS"))
            .unwrap_or_else(|e| panic!("nut-rig: cannot start the simulator: {e}"));
        let mut section = String::new();
        for (key, value) in &self.keys {
            match value {
                Some(value) => {
                    section.push_str(&format!("{key} = {}\n", nut_core::token::quote(value)))
                }
                None => section.push_str(&format!("{key}\n")),
            }
        }
        let port = sim.path().to_string_lossy().into_owned();
        let stack = StackBuilder::new()
            .upsd(self.upsd)
            .device(UPS, self.which, &self.driver, &port)
            .ups_section(UPS, &section)
            .start();
        Bench {
            sim,
            _port_dir: port_dir,
            stack,
            which: self.which,
            driver: self.driver,
            own_traffic: OnceLock::new(),
        }
    }
}

/// A running bench. Dropping it stops upsd, the driver and the simulator (logs of the
/// daemons and the simulator's exchange log are printed if the test is failing).
pub struct Bench {
    // Field order: the stack (driver) goes before the simulator, the simulator (its
    // symlink) before the directory.
    stack: Stack,
    sim: PtySim,
    _port_dir: tempfile::TempDir,
    which: Impl,
    driver: String,
    /// Requests the driver sent on its own before the first `upscmd`/`upsrw`.
    own_traffic: OnceLock<BTreeSet<Vec<u8>>>,
}

impl Drop for Bench {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "----- nut-rig: simulator exchanges of {} ({}) -----\n{}----- end -----",
                self.driver,
                self.which,
                self.sim.log_text()
            );
        }
    }
}

/// What a `upscmd` or `upsrw` through upsd produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The client's stdout and stderr, trimmed.
    pub client: String,
    /// The requests the device received for it, terminators included (status queries and
    /// the driver's own start-up/poll traffic are left out).
    pub sent: Vec<Vec<u8>>,
}

impl Bench {
    /// Shorthand for [`BenchBuilder::new`].
    pub fn builder(which: Impl, driver: &str, sim: SimConfig) -> BenchBuilder {
        BenchBuilder::new(which, driver, sim)
    }

    pub fn sim(&self) -> &PtySim {
        &self.sim
    }

    /// The device goes away (see [`PtySim::unplug`]).
    pub fn unplug(&mut self) {
        self.sim.unplug();
    }

    /// The device comes back at the same port path (see [`PtySim::plug`]).
    pub fn plug(&mut self) {
        self.sim
            .plug()
            .unwrap_or_else(|e| panic!("nut-rig: cannot plug the simulator back: {e}"));
    }

    pub fn stack(&self) -> &Stack {
        &self.stack
    }

    pub fn stack_mut(&mut self) -> &mut Stack {
        &mut self.stack
    }

    /// `"<driver> (<impl>)"`, for messages.
    pub fn label(&self) -> String {
        format!("{} ({})", self.driver, self.which)
    }

    /// Everything upsd serves for the UPS now: LIST VAR, LIST CMD, LIST RW with types,
    /// enums and ranges. `Err` with upsd's reply when it refuses (e.g. `ERR DATA-STALE`).
    pub fn try_snapshot(&self) -> Result<Snapshot, String> {
        Snapshot::read(&mut self.stack.conn(), UPS)
    }

    /// [`Bench::try_snapshot`], panicking on an error reply.
    pub fn snapshot(&self) -> Snapshot {
        self.try_snapshot()
            .unwrap_or_else(|e| panic!("nut-rig: {} snapshot failed: {e}", self.label()))
    }

    /// The state after `polls` status queries: waits until the driver has sent the next
    /// one (so it has processed the reply to query `polls`), takes a snapshot, and checks
    /// that it is still the same one status query later. The simulator must serve fixed
    /// replies from then on ([`SimConfig::fixed`], or [`SimConfig::freeze_after`]`(n)` with
    /// `n < polls`): then this is the state any driver reaches that polls the same
    /// commands, whatever it sent during its start-up.
    pub fn snapshot_after_polls(&self, polls: u64) -> Snapshot {
        let (fixed, freeze) = self
            .sim
            .with(|s| (s.config().fixed, s.config().freeze_after));
        assert!(
            fixed || freeze.is_some_and(|n| n < polls),
            "nut-rig: snapshot_after_polls({polls}) needs fixed replies or freeze_after(n < {polls})"
        );
        assert!(
            self.sim.wait_status_polls(polls + 1, POLL_TIMEOUT),
            "nut-rig: {} made only {} status queries in {POLL_TIMEOUT:?} (wanted {})",
            self.label(),
            self.sim.status_polls(),
            polls + 1
        );
        let deadline = Instant::now() + POLL_TIMEOUT;
        let mut previous = self.snapshot();
        loop {
            let next_poll = self.sim.status_polls() + 1;
            assert!(
                self.sim.wait_status_polls(next_poll, POLL_TIMEOUT),
                "nut-rig: {} stopped polling",
                self.label()
            );
            let current = self.snapshot();
            if current == previous {
                return current;
            }
            assert!(
                Instant::now() < deadline,
                "nut-rig: {} never settled; last change:\n{}",
                self.label(),
                Diff::between(&previous, &current, &Exemptions::none(), "before", "after")
            );
            previous = current;
        }
    }

    /// `GET VAR <ups> <var>`: `Ok(value)` or `Err(upsd's reply)`.
    pub fn get(&self, var: &str) -> Result<String, String> {
        crate::usb::get_var(&self.stack, var)
    }

    /// Waits until `ups.status` reads `status`; panics with the last reply on timeout.
    pub fn wait_status(&self, status: &str, timeout: Duration) {
        self.wait_var("ups.status", status, timeout);
    }

    /// Waits until `var` reads `value`.
    pub fn wait_var(&self, var: &str, value: &str, timeout: Duration) {
        let mut last = Err(String::new());
        let ok = poll_until(timeout, || {
            last = self.get(var);
            (last.as_deref() == Ok(value)).then_some(())
        });
        assert!(
            ok.is_some(),
            "nut-rig: {} {var} never became {value:?} in {timeout:?} (last: {last:?})",
            self.label()
        );
    }

    /// Walks the simulator through `steps` on command from the test: for each, switches the
    /// power situation and waits until upsd serves the status. Returns the status upsd
    /// served before each switch (so a caller can check nothing was skipped).
    pub fn power_steps(&self, steps: &[(Power, &str)]) -> Vec<String> {
        let mut before = Vec::new();
        for (power, status) in steps {
            before.push(self.get("ups.status").unwrap_or_else(|e| e));
            self.sim.set_power(Some(*power));
            self.wait_status(status, POLL_TIMEOUT);
        }
        before
    }

    /// Waits until upsd answers `ERR DATA-STALE` for the UPS.
    pub fn wait_stale(&self, timeout: Duration) {
        let mut last = Ok(String::new());
        let ok = poll_until(timeout, || {
            last = self.get("ups.status");
            (last.as_ref().err().map(String::as_str) == Some("ERR DATA-STALE")).then_some(())
        });
        assert!(
            ok.is_some(),
            "nut-rig: {} data never went stale in {timeout:?} (last: {last:?})",
            self.label()
        );
    }

    /// Runs `upscmd` (Debian's client) through this bench's upsd as the administrator and
    /// returns its output with the bytes the device received for the command.
    pub fn instcmd(&self, command: &str, extra: Option<&str>) -> Outcome {
        let (program, args) = instcmd_client(&self.stack, command, extra);
        self.client(program, &args)
    }

    /// Runs `upsrw -s var=value` (Debian's client) through this bench's upsd, like
    /// [`Bench::instcmd`].
    pub fn setvar(&self, var: &str, value: &str) -> Outcome {
        let (program, args) = setvar_client(&self.stack, var, value);
        self.client(program, &args)
    }

    /// Runs a client, then lets the driver poll twice (it handles socket commands between
    /// polls, so whatever the command sends has been sent by then) and collects the new
    /// requests that are neither status queries nor part of the driver's own traffic
    /// (every request it had sent before the first client call of this bench).
    fn client(&self, program: &str, args: &[String]) -> Outcome {
        let mark = self.sim.mark();
        let known = self
            .own_traffic
            .get_or_init(|| {
                self.sim
                    .exchanges()
                    .into_iter()
                    .map(|e| e.request)
                    .collect()
            })
            .clone();
        let client = run_client(&self.stack, program, args);
        let target = self.sim.status_polls() + 2;
        assert!(
            self.sim.wait_status_polls(target, POLL_TIMEOUT),
            "nut-rig: {} stopped polling after {program} ({client})",
            self.label()
        );
        let sent = self
            .sim
            .exchanges_since(mark)
            .into_iter()
            .filter(|e: &Exchange| !e.status_query && !known.contains(&e.request))
            .map(|e| e.request)
            .collect();
        Outcome { client, sent }
    }
}

/// `upscmd` as the administrator of `stack`'s upsd on [`UPS`]: the program and its arguments.
pub fn instcmd_client(
    stack: &Stack,
    command: &str,
    extra: Option<&str>,
) -> (&'static str, Vec<String>) {
    let mut args = vec![
        "-u".to_owned(),
        ADMIN.0.to_owned(),
        "-p".to_owned(),
        ADMIN.1.to_owned(),
        stack.ups_id(UPS),
        command.to_owned(),
    ];
    args.extend(extra.map(str::to_owned));
    ("upscmd", args)
}

/// `upsrw -s var=value` as the administrator of `stack`'s upsd on [`UPS`].
pub fn setvar_client(stack: &Stack, var: &str, value: &str) -> (&'static str, Vec<String>) {
    let args = vec![
        "-s".to_owned(),
        format!("{var}={value}"),
        "-u".to_owned(),
        ADMIN.0.to_owned(),
        "-p".to_owned(),
        ADMIN.1.to_owned(),
        stack.ups_id(UPS),
    ];
    ("upsrw", args)
}

/// Runs Debian's client `program` with `stack`'s environment to its end and returns its
/// stdout and stderr, trimmed.
pub fn run_client(stack: &Stack, program: &str, args: &[String]) -> String {
    let output = stack
        .command(Impl::Debian, program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("nut-rig: cannot run {program}: {e}"));
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
    .trim()
    .to_owned()
}

/// Type, enums and ranges of a writable variable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RwInfo {
    /// The words of `GET TYPE` after the variable name (`RW STRING:10`, `RW ENUM`, …).
    pub types: Vec<String>,
    /// `LIST ENUM` values, in order.
    pub enums: Vec<String>,
    /// `LIST RANGE` pairs, in order.
    pub ranges: Vec<(String, String)>,
}

/// What upsd serves for one UPS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub vars: BTreeMap<String, String>,
    pub cmds: BTreeSet<String>,
    /// Writable variables (their values are in `vars`).
    pub rw: BTreeMap<String, RwInfo>,
}

impl Snapshot {
    /// The instant commands that reach the device: all but the framework's `driver.*` and
    /// `shutdown.default`.
    pub fn device_commands(&self) -> Vec<&String> {
        self.cmds
            .iter()
            .filter(|c| !c.starts_with("driver.") && *c != "shutdown.default")
            .collect()
    }

    /// Reads everything over `conn` for `ups`.
    pub fn read(conn: &mut Conn, ups: &str) -> Result<Snapshot, String> {
        let mut snapshot = Snapshot::default();
        for words in list(conn, &format!("LIST VAR {ups}"))? {
            if let [kw, _, name, value] = &words[..]
                && kw == "VAR"
            {
                snapshot.vars.insert(name.clone(), value.clone());
            }
        }
        for words in list(conn, &format!("LIST CMD {ups}"))? {
            if let [kw, _, name] = &words[..]
                && kw == "CMD"
            {
                snapshot.cmds.insert(name.clone());
            }
        }
        let rw_names: Vec<String> = list(conn, &format!("LIST RW {ups}"))?
            .into_iter()
            .filter_map(|w| match &w[..] {
                [kw, _, name, _] if kw == "RW" => Some(name.clone()),
                _ => None,
            })
            .collect();
        for name in rw_names {
            let mut info = RwInfo::default();
            let reply = conn.request(&format!("GET TYPE {ups} {name}"));
            let words = words_of(reply.first().map_or("", String::as_str))?;
            info.types = words.get(3..).unwrap_or_default().to_vec();
            if info.types.iter().any(|t| t == "ENUM") {
                for w in list(conn, &format!("LIST ENUM {ups} {name}"))? {
                    if let [_, _, _, value] = &w[..] {
                        info.enums.push(value.clone());
                    }
                }
            }
            if info.types.iter().any(|t| t == "RANGE") {
                for w in list(conn, &format!("LIST RANGE {ups} {name}"))? {
                    if let [_, _, _, min, max] = &w[..] {
                        info.ranges.push((min.clone(), max.clone()));
                    }
                }
            }
            snapshot.rw.insert(name, info);
        }
        Ok(snapshot)
    }
}

/// The item lines of a `LIST` reply as words; `Err` with the reply on `ERR …`.
fn list(conn: &mut Conn, request: &str) -> Result<Vec<Vec<String>>, String> {
    let reply = conn.request(request);
    match reply.first() {
        Some(first) if first.starts_with("BEGIN LIST") => {}
        _ => return Err(format!("{request} -> {reply:?}")),
    }
    reply[1..]
        .iter()
        .filter(|l| !l.starts_with("END LIST"))
        .map(|l| words_of(l))
        .collect()
}

fn words_of(line: &str) -> Result<Vec<String>, String> {
    if line.starts_with("ERR ") {
        return Err(line.to_owned());
    }
    nut_core::token::split_line(line).map_err(|e| format!("{line:?}: {e}"))
}

/// Variables left out of an A/B comparison, each with its reason.
#[derive(Debug, Clone, Default)]
pub struct Exemptions {
    exact: Vec<(String, String)>,
    prefixes: Vec<(String, String)>,
}

impl Exemptions {
    /// No exemption at all.
    pub fn none() -> Exemptions {
        Exemptions::default()
    }

    /// The documented ones every driver A/B test has: the version strings
    /// (`driver.version*`: ours is not 2.8.0) and the port path (each bench has its own
    /// pty).
    pub fn standard() -> Exemptions {
        Exemptions::none()
            .prefix(
                "driver.version",
                "implementation version strings differ by design",
            )
            .var("driver.parameter.port", "each bench has its own pty")
    }

    /// Exempts variable `name`.
    pub fn var(mut self, name: &str, reason: &str) -> Exemptions {
        self.exact.push((name.to_owned(), reason.to_owned()));
        self
    }

    /// Exempts every variable starting with `prefix`.
    pub fn prefix(mut self, prefix: &str, reason: &str) -> Exemptions {
        self.prefixes.push((prefix.to_owned(), reason.to_owned()));
        self
    }

    /// Whether `name` is exempt.
    pub fn covers(&self, name: &str) -> bool {
        self.exact.iter().any(|(n, _)| n == name)
            || self
                .prefixes
                .iter()
                .any(|(p, _)| name.starts_with(p.as_str()))
    }
}

/// One difference between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// A variable with different values (`None`: absent on that side).
    Var {
        name: String,
        left: Option<String>,
        right: Option<String>,
    },
    /// An instant command on one side only (`true`: the left one has it).
    Cmd { name: String, left_has: bool },
    /// Writable variable: different RW status, type, enums or ranges.
    Rw {
        name: String,
        left: Option<RwInfo>,
        right: Option<RwInfo>,
    },
}

/// The differences between two snapshots, printable as a readable report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    pub left_label: String,
    pub right_label: String,
    pub differences: Vec<Difference>,
}

impl Diff {
    /// Compares `left` and `right`, ignoring exempt variables.
    pub fn between(
        left: &Snapshot,
        right: &Snapshot,
        exemptions: &Exemptions,
        left_label: &str,
        right_label: &str,
    ) -> Diff {
        let mut differences = Vec::new();
        let names: BTreeSet<&String> = left.vars.keys().chain(right.vars.keys()).collect();
        for name in names {
            if exemptions.covers(name) {
                continue;
            }
            let (l, r) = (left.vars.get(name), right.vars.get(name));
            if l != r {
                differences.push(Difference::Var {
                    name: name.clone(),
                    left: l.cloned(),
                    right: r.cloned(),
                });
            }
        }
        for name in left.cmds.symmetric_difference(&right.cmds) {
            differences.push(Difference::Cmd {
                name: name.clone(),
                left_has: left.cmds.contains(name),
            });
        }
        let names: BTreeSet<&String> = left.rw.keys().chain(right.rw.keys()).collect();
        for name in names {
            if exemptions.covers(name) {
                continue;
            }
            let (l, r) = (left.rw.get(name), right.rw.get(name));
            if l != r {
                differences.push(Difference::Rw {
                    name: name.clone(),
                    left: l.cloned(),
                    right: r.cloned(),
                });
            }
        }
        Diff {
            left_label: left_label.to_owned(),
            right_label: right_label.to_owned(),
            differences,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.differences.is_empty()
    }
}

fn show(value: &Option<String>) -> String {
    value
        .as_ref()
        .map_or_else(|| "(absent)".to_owned(), |v| format!("{v:?}"))
}

fn show_rw(info: &Option<RwInfo>) -> String {
    match info {
        None => "(not writable)".to_owned(),
        Some(i) => {
            let mut s = i.types.join(" ");
            if !i.enums.is_empty() {
                s.push_str(&format!(" enum {:?}", i.enums));
            }
            if !i.ranges.is_empty() {
                s.push_str(&format!(" range {:?}", i.ranges));
            }
            s
        }
    }
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return write!(
                f,
                "{} and {}: no difference",
                self.left_label, self.right_label
            );
        }
        writeln!(
            f,
            "{} difference(s), left = {}, right = {}:",
            self.differences.len(),
            self.left_label,
            self.right_label
        )?;
        for d in &self.differences {
            match d {
                Difference::Var { name, left, right } => {
                    writeln!(f, "  VAR {name}: {} | {}", show(left), show(right))?
                }
                Difference::Cmd { name, left_has } => {
                    let side = if *left_has { "left" } else { "right" };
                    writeln!(f, "  CMD {name}: only {side}")?
                }
                Difference::Rw { name, left, right } => {
                    writeln!(f, "  RW  {name}: {} | {}", show_rw(left), show_rw(right))?
                }
            }
        }
        Ok(())
    }
}

/// A/B: `Ok` when the snapshots agree outside `exemptions`, else the [`Diff`].
pub fn compare(
    left: &Snapshot,
    right: &Snapshot,
    exemptions: &Exemptions,
    left_label: &str,
    right_label: &str,
) -> Result<(), Diff> {
    let diff = Diff::between(left, right, exemptions, left_label, right_label);
    if diff.is_empty() { Ok(()) } else { Err(diff) }
}

/// Runs `f` on both benches at once (each waits for its own driver's polls), e.g. the
/// same `instcmd` on Debian's and our driver.
pub fn both<T: Send>(left: &Bench, right: &Bench, f: impl Fn(&Bench) -> T + Sync) -> (T, T) {
    crate::usb::both_of(left, right, f)
}

/// The A/B test of two running benches: each one's state after `polls` status queries
/// ([`Bench::snapshot_after_polls`], taken concurrently), compared outside `exemptions`.
pub fn ab(left: &Bench, right: &Bench, polls: u64, exemptions: &Exemptions) -> Result<(), Diff> {
    let (l, r) = both(left, right, |b| b.snapshot_after_polls(polls));
    compare(&l, &r, exemptions, &left.label(), &right.label())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(vars: &[(&str, &str)], cmds: &[&str]) -> Snapshot {
        Snapshot {
            vars: vars
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            cmds: cmds.iter().map(|c| (*c).into()).collect(),
            rw: BTreeMap::new(),
        }
    }

    #[test]
    fn diff_reports_values_commands_and_rw_and_honours_exemptions() {
        let mut left = snap(
            &[
                ("input.voltage", "230.0"),
                ("driver.version", "2.8.0"),
                ("ups.firmware", "V3.8"),
            ],
            &["beeper.toggle", "load.off"],
        );
        let mut right = snap(
            &[("input.voltage", "229.4"), ("driver.version", "0.1.0")],
            &["load.off", "test.battery.start"],
        );
        left.rw.insert(
            "ups.delay.start".into(),
            RwInfo {
                types: vec!["RW".into(), "STRING:3".into()],
                ..RwInfo::default()
            },
        );
        right.rw.insert(
            "ups.delay.start".into(),
            RwInfo {
                types: vec!["RW".into(), "RANGE".into()],
                ranges: vec![("0".into(), "599".into())],
                ..RwInfo::default()
            },
        );
        let diff = compare(&left, &right, &Exemptions::standard(), "debian", "ours").unwrap_err();
        let text = diff.to_string();
        assert_eq!(
            text,
            "5 difference(s), left = debian, right = ours:\n\
             \x20 VAR input.voltage: \"230.0\" | \"229.4\"\n\
             \x20 VAR ups.firmware: \"V3.8\" | (absent)\n\
             \x20 CMD beeper.toggle: only left\n\
             \x20 CMD test.battery.start: only right\n\
             \x20 RW  ups.delay.start: RW STRING:3 | RW RANGE range [(\"0\", \"599\")]\n"
        );
        assert!(compare(&left, &left.clone(), &Exemptions::none(), "a", "b").is_ok());
        let no_version = Diff::between(&left, &right, &Exemptions::none(), "a", "b");
        assert_eq!(no_version.differences.len(), 6);
    }
}
