//! Running one upsmon (ours or Debian's) on a harness stack and reading what it did.
//!
//! Each upsmon gets its own config directory (`NUT_CONFPATH`, because Debian 2.8.0 has no
//! `-f`), a private /run/nut (the harness's mount namespace, so parallel tests never see each
//! other's PID files), and three files in the stack dir: the events its NOTIFYCMD recorded
//! (`<TYPE> <UPSNAME>|<message>` per line), the SHUTDOWNCMD runs, and POWERDOWNFLAG.
//!
//! Status is driven with `SET VAR <ups> ups.status` on dummy-ups as the admin user; every
//! wait polls a condition with a deadline.

use std::path::PathBuf;
use std::process::{Command, ExitStatus, Output};
use std::time::{Duration, Instant};

use nut_harness::{Daemon, Impl, Stack, StackBuilder, bin, poll_until, wait_until};

/// How long a scenario step may take before the test fails. Generous: slow CI machines.
pub const STEP: Duration = Duration::from_secs(30);

/// Every notify type, for `NOTIFYFLAG <type> SYSLOG+EXEC` (2.8.0 warns about the newer ones
/// and goes on).
pub const ALL_TYPES: &[&str] = &[
    "ONLINE",
    "ONBATT",
    "LOWBATT",
    "FSD",
    "COMMOK",
    "COMMBAD",
    "SHUTDOWN",
    "REPLBATT",
    "NOCOMM",
    "NOPARENT",
    "CAL",
    "NOTCAL",
    "OFF",
    "NOTOFF",
    "BYPASS",
    "NOTBYPASS",
    "ECO",
    "NOTECO",
    "ALARM",
    "NOTALARM",
    "OVER",
    "NOTOVER",
    "TRIM",
    "NOTTRIM",
    "BOOST",
    "NOTBOOST",
    "SHUTDOWN_HOSTSYNC",
    "OTHER",
    "NOTOTHER",
];

/// A `.dev` file for dummy-ups: on line, full.
pub const ONLINE_DEV: &str = "ups.status: OL\nbattery.charge: 100\ndevice.type: ups\n";

/// Which upsd the scenarios run on: Debian's, or ours with `NUT_RS_SCENARIO_UPSD=ours`.
pub fn upsd_impl() -> Impl {
    match std::env::var("NUT_RS_SCENARIO_UPSD").as_deref() {
        Ok("ours") => Impl::Ours,
        _ => Impl::Debian,
    }
}

/// A stack of upsd ([`upsd_impl`]) and Debian's dummy-ups with one dummy UPS per name, all
/// on line.
pub fn stack(upses: &[&str]) -> Stack {
    stack_on(upsd_impl(), upses)
}

/// [`stack`] with an explicit upsd.
pub fn stack_on(upsd: Impl, upses: &[&str]) -> Stack {
    let mut builder = StackBuilder::new().upsd(upsd).driver(Impl::Debian);
    for name in upses {
        builder = builder.dummy(name, &format!("{name}.dev"), ONLINE_DEV);
    }
    builder.start()
}

/// One running upsmon and its files.
pub struct Upsmon {
    /// Whose upsmon.
    pub which: Impl,
    /// Name within the scenario (file names, log labels).
    pub tag: String,
    /// Its config directory (NUT_CONFPATH).
    pub conf_dir: PathBuf,
    /// The process (for the ours/Debian split, the privileged parent).
    pub daemon: Daemon,
    events: PathBuf,
    shutdowns: PathBuf,
    /// POWERDOWNFLAG.
    pub flag: PathBuf,
    port: u16,
    body: String,
}

/// The lines every scenario config ends with: NOTIFYCMD, SHUTDOWNCMD, POWERDOWNFLAG, fast
/// polling, no FINALDELAY, and EXEC for every notification.
fn standard_lines(
    conf_dir: &std::path::Path,
    shutdowns: &std::path::Path,
    flag: &std::path::Path,
) -> String {
    let mut text = format!(
        "NOTIFYCMD {}/notify.sh\n\
         SHUTDOWNCMD \"echo shutdown >> {}\"\n\
         POWERDOWNFLAG {}\n\
         POLLFREQ 1\n\
         POLLFREQALERT 1\n\
         FINALDELAY 0\n",
        conf_dir.display(),
        shutdowns.display(),
        flag.display()
    );
    for t in ALL_TYPES {
        text.push_str(&format!("NOTIFYFLAG {t} SYSLOG+EXEC\n"));
    }
    text
}

/// Write `<tag>-conf/upsmon.conf` (the scenario's `body` plus [`standard_lines`]) and the
/// notify script, then start upsmon `-F` of `which`. `{port}` in `body` is replaced by
/// upsd's port.
pub fn start(stack: &mut Stack, which: Impl, tag: &str, body: &str) -> Upsmon {
    start_with_args(stack, which, tag, body, &[])
}

/// [`start`] with extra upsmon arguments (e.g. `-p`).
pub fn start_with_args(
    stack: &mut Stack,
    which: Impl,
    tag: &str,
    body: &str,
    args: &[&str],
) -> Upsmon {
    start_full(stack, which, tag, body, args, None)
}

/// [`start`] whose notify script, after recording the event, hands it on to `chain` (run as
/// `<chain> "<message>"` with the same environment, e.g. upssched).
pub fn start_chained(
    stack: &mut Stack,
    which: Impl,
    tag: &str,
    body: &str,
    chain: &std::path::Path,
) -> Upsmon {
    start_full(stack, which, tag, body, &[], Some(chain))
}

fn start_full(
    stack: &mut Stack,
    which: Impl,
    tag: &str,
    body: &str,
    args: &[&str],
    chain: Option<&std::path::Path>,
) -> Upsmon {
    let conf_dir = stack.dir().join(format!("{tag}-conf"));
    let events = stack.dir().join(format!("{tag}-events.log"));
    let shutdowns = stack.dir().join(format!("{tag}-shutdowns.log"));
    let flag = stack.dir().join(format!("{tag}-killpower"));
    let port = stack.port();
    let body = body.replace("{port}", &port.to_string());
    let conf = format!("{body}\n{}", standard_lines(&conf_dir, &shutdowns, &flag));
    stack.write_file(&format!("{tag}-conf/upsmon.conf"), conf);
    let body = body.to_owned();
    stack.write_executable(
        &format!("{tag}-conf/notify.sh"),
        format!(
            "#!/bin/sh\nprintf '%s %s|%s\\n' \"$NOTIFYTYPE\" \"$UPSNAME\" \"$1\" >> {}\n{}",
            events.display(),
            chain.map_or(String::new(), |c| format!("exec {} \"$1\"\n", c.display()))
        ),
    );
    let mut cmd = Command::new(bin(which, "upsmon"));
    cmd.arg("-F").args(args).env("NUT_CONFPATH", &conf_dir);
    let cmd = stack.with_private_run_nut(cmd);
    let daemon = stack.spawn_as(&format!("upsmon {tag} ({which})"), cmd);
    Upsmon {
        which,
        tag: tag.to_owned(),
        conf_dir,
        daemon,
        events,
        shutdowns,
        flag,
        port,
        body,
    }
}

impl Upsmon {
    /// The recorded events as `"<TYPE> <ups>"` (UPS names without `@127.0.0.1:<port>`;
    /// `"SHUTDOWN"` alone for events without a UPS).
    pub fn events(&self) -> Vec<String> {
        self.raw_events().into_iter().map(|(e, _)| e).collect()
    }

    /// Events with their messages (also normalised).
    pub fn raw_events(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(&self.events).unwrap_or_default();
        let host = format!("@127.0.0.1:{}", self.port);
        text.lines()
            .map(|l| {
                let (event, message) = l.split_once('|').unwrap_or((l, ""));
                (
                    event.replace(&host, "").trim().to_owned(),
                    message.replace(&host, ""),
                )
            })
            .collect()
    }

    /// Events without those about UPS `ups` (a barrier UPS).
    pub fn events_without(&self, ups: &str) -> Vec<String> {
        let suffix = format!(" {ups}");
        self.events()
            .into_iter()
            .filter(|e| !e.ends_with(&suffix))
            .collect()
    }

    /// How many times `event` was recorded.
    pub fn count(&self, event: &str) -> usize {
        self.events().iter().filter(|e| *e == event).count()
    }

    /// Wait until `event` has been recorded `n` times in all.
    pub fn wait_count(&self, event: &str, n: usize) {
        let found = poll_until(STEP, || (self.count(event) >= n).then_some(()));
        assert!(
            found.is_some(),
            "{}: {event:?} recorded {} times, expected {n}; events {:?}\noutput:\n{}",
            self.label(),
            self.count(event),
            self.events(),
            self.daemon.output_so_far()
        );
    }

    /// Wait until `event` has been recorded (once more than `before`).
    pub fn wait_event(&self, event: &str) {
        self.wait_count(event, 1);
    }

    /// SHUTDOWNCMD runs so far.
    pub fn shutdowns(&self) -> usize {
        std::fs::read_to_string(&self.shutdowns)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    /// Wait for the first SHUTDOWNCMD run.
    pub fn wait_shutdown(&self) {
        let found = poll_until(STEP, || (self.shutdowns() > 0).then_some(()));
        assert!(
            found.is_some(),
            "{}: SHUTDOWNCMD never ran; events {:?}\noutput:\n{}",
            self.label(),
            self.events(),
            self.daemon.output_so_far()
        );
    }

    /// Wait for the process to exit by itself.
    pub fn wait_exit(&self) -> ExitStatus {
        self.daemon.wait_exit(STEP)
    }

    /// POWERDOWNFLAG's content, if the file exists.
    pub fn flag_content(&self) -> Option<String> {
        std::fs::read_to_string(&self.flag).ok()
    }

    /// A command run in this upsmon's mount namespace (so that it sees its /run/nut) with
    /// its config directory.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = if self.daemon.is_running() {
            let mut c = Command::new("nsenter");
            c.arg("-t")
                .arg(self.daemon.pid().to_string())
                .arg("-m")
                .arg("--")
                .arg(bin(self.which, "upsmon"));
            c
        } else {
            Command::new(bin(self.which, "upsmon"))
        };
        cmd.args(args).env("NUT_CONFPATH", &self.conf_dir);
        cmd
    }

    /// Run `upsmon <args>` (e.g. `-c reload`, `-K`) to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .output()
            .unwrap_or_else(|e| panic!("{}: cannot run upsmon {args:?}: {e}", self.label()))
    }

    /// `upsmon -K`'s exit code.
    pub fn killpower_check(&self) -> Option<i32> {
        self.run(&["-K"]).status.code()
    }

    /// Wait until the monitor printed `needle`.
    pub fn wait_printed(&self, needle: &str) {
        self.daemon.wait_output(needle, STEP);
    }

    /// Rewrite upsmon.conf with `extra` lines after the usual ones (later lines win).
    pub fn rewrite_conf(&self, stack: &Stack, extra: &str) {
        let conf = format!(
            "{}\n{}{extra}\n",
            self.body,
            standard_lines(&self.conf_dir, &self.shutdowns, &self.flag)
        );
        stack.write_file(&format!("{}-conf/upsmon.conf", self.tag), conf);
    }

    /// The PID files in the private /run/nut directories of the stack.
    pub fn pid_files(stack: &Stack) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(stack.dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = entry.path().join("upsmon.pid");
            if name.starts_with("run-nut-") && pid.exists() {
                found.push(pid);
            }
        }
        found
    }

    /// `upsmon <tag> (<impl>)`.
    pub fn label(&self) -> String {
        format!("upsmon {} ({})", self.tag, self.which)
    }
}

/// Log in as the admin and set `ups.status` of `ups`; wait until upsd serves it (an `FSD `
/// prefix from upsd's latch is fine).
pub fn set_status(stack: &Stack, ups: &str, status: &str) {
    let mut c = stack.conn();
    assert_eq!(c.request("USERNAME admin"), ["OK"]);
    assert_eq!(c.request("PASSWORD adminpass"), ["OK"]);
    assert_eq!(
        c.request(&format!("SET VAR {ups} ups.status \"{status}\"")),
        ["OK"],
        "SET VAR {ups} ups.status"
    );
    let want = format!("VAR {ups} ups.status \"{status}\"");
    let want_fsd = format!("VAR {ups} ups.status \"FSD {status}\"");
    wait_until(&format!("{ups} to show status {status:?}"), STEP, || {
        let reply = c.request(&format!("GET VAR {ups} ups.status"));
        let line = reply.first().cloned().unwrap_or_default();
        (line == want || line == want_fsd).then_some(())
    });
}

/// `ups.status` as upsd serves it.
pub fn status(stack: &Stack, ups: &str) -> String {
    let reply = stack.conn().request(&format!("GET VAR {ups} ups.status"));
    let line = reply.first().cloned().unwrap_or_default();
    line.strip_prefix(&format!("VAR {ups} ups.status "))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or(line)
}

/// `GET NUMLOGINS <ups>`.
pub fn numlogins(stack: &Stack, ups: &str) -> u32 {
    let reply = stack.conn().request(&format!("GET NUMLOGINS {ups}"));
    reply
        .first()
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Wait until `ups` has at least `n` logins.
pub fn wait_logins(stack: &Stack, ups: &str, n: u32) {
    wait_until(&format!("{n} login(s) on {ups}"), STEP, || {
        (numlogins(stack, ups) >= n).then_some(())
    });
}

/// Make sure every upsmon has polled `ups` at least once after this call: toggle the
/// barrier UPS (monitored with power value 0) to OB and back, waiting each time for the
/// notification; the second one comes from a poll round that started after the first
/// completed.
pub fn barrier(stack: &Stack, monitors: &[&Upsmon], barrier_ups: &str) {
    let onbatt = format!("ONBATT {barrier_ups}");
    let online = format!("ONLINE {barrier_ups}");
    let before: Vec<usize> = monitors.iter().map(|m| m.count(&onbatt)).collect();
    set_status(stack, barrier_ups, "OB");
    for (m, n) in monitors.iter().zip(&before) {
        m.wait_count(&onbatt, n + 1);
    }
    let before: Vec<usize> = monitors.iter().map(|m| m.count(&online)).collect();
    set_status(stack, barrier_ups, "OL");
    for (m, n) in monitors.iter().zip(&before) {
        m.wait_count(&online, n + 1);
    }
}

/// Run `scenario` for ours and for Debian's upsmon at the same time, each on its own stack;
/// returns (ours, debian). A panic in either fails the test with its message.
pub fn both<T: Send>(scenario: impl Fn(Impl) -> T + Sync) -> (T, T) {
    std::thread::scope(|s| {
        let ours = s.spawn(|| scenario(Impl::Ours));
        let debian = s.spawn(|| scenario(Impl::Debian));
        let debian = debian.join();
        let ours = ours.join();
        match (ours, debian) {
            (Ok(o), Ok(d)) => (o, d),
            (Err(e), _) => std::panic::resume_unwind(e),
            (_, Err(e)) => std::panic::resume_unwind(e),
        }
    })
}

/// Time since `start`, for lower-bound checks only (never as a synchronisation).
pub fn since(start: Instant) -> Duration {
    start.elapsed()
}
