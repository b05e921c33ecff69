//! Our upssched as a process: the invocation, the timer daemon it starts (once, even when
//! many invocations race), the socket protocol, and the daemon's exit when idle.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use nut_harness::{poll_until, wait_until};

const STEP: Duration = Duration::from_secs(30);

fn upssched() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_upssched"))
}

/// A config dir with upssched.conf (`rules` after CMDSCRIPT/PIPEFN/LOCKFN) and a CMDSCRIPT
/// appending `<arg> <UPSNAME> <NOTIFYTYPE> <NOTIFYMSG>` to `cmd.log`.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(rules: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let script = d.join("cmd.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"$1 $UPSNAME $NOTIFYTYPE $NOTIFYMSG\" >> {}/cmd.log\n",
                d.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(
            d.join("upssched.conf"),
            format!(
                "CMDSCRIPT {}\nPIPEFN {}/sched/upssched.pipe\nLOCKFN {}/sched/upssched.lock\n{rules}",
                script.display(),
                d.display(),
                d.display()
            ),
        )
        .unwrap();
        Setup { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn pipe(&self) -> PathBuf {
        self.path().join("sched/upssched.pipe")
    }

    fn command(&self, event: Option<(&str, &str)>, args: &[&str]) -> Command {
        let mut cmd = Command::new(upssched());
        cmd.args(args)
            .env("NUT_CONFPATH", self.path())
            .env("NUT_ALTPIDPATH", self.path())
            .env_remove("UPSNAME")
            .env_remove("NOTIFYTYPE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some((ups, kind)) = event {
            cmd.env("UPSNAME", ups).env("NOTIFYTYPE", kind);
        }
        cmd
    }

    fn event(&self, ups: &str, kind: &str, message: &str) -> Output {
        self.command(Some((ups, kind)), &[message])
            .output()
            .expect("run upssched")
    }

    fn log(&self) -> Vec<String> {
        std::fs::read_to_string(self.path().join("cmd.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn wait_log(&self, n: usize) -> Vec<String> {
        wait_until(&format!("{n} CMDSCRIPT runs"), STEP, || {
            let log = self.log();
            (log.len() >= n).then_some(log)
        })
    }

    /// One request on the daemon's socket; the reply lines up to OK / ERR.
    fn request(&self, line: &str) -> Vec<String> {
        let mut s = UnixStream::connect(self.pipe()).expect("daemon socket");
        s.set_read_timeout(Some(STEP)).unwrap();
        s.write_all(format!("{line}\n").as_bytes()).unwrap();
        let mut reader = BufReader::new(s);
        let mut lines = Vec::new();
        loop {
            let mut l = String::new();
            if reader.read_line(&mut l).unwrap() == 0 {
                return lines;
            }
            let l = l.trim_end().to_owned();
            let done = l == "OK" || l.starts_with("ERR");
            lines.push(l);
            if done {
                return lines;
            }
        }
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        // A daemon left with timers (by a failing test) gets them cancelled, so that it
        // exits on its own once idle instead of outliving the test by minutes.
        if UnixStream::connect(self.pipe()).is_ok() {
            for line in self.request("LIST-TIMERS") {
                if let Some((name, _)) = line.split_once('\t') {
                    let _ = self.request(&format!("CANCEL \"{name}\""));
                }
            }
        }
    }
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-client); scripts/test runs it"]
fn refuses_to_run_outside_upsmon_like_nut() {
    let setup = Setup::new("");
    let ours = setup.command(None, &["msg"]).output().unwrap();
    let debian = Command::new("/sbin/upssched")
        .arg("msg")
        .env("NUT_CONFPATH", setup.path())
        .env_remove("UPSNAME")
        .env_remove("NOTIFYTYPE")
        .output()
        .expect("Debian's upssched (apt-get install nut-client)");
    assert_eq!(ours.status.code(), Some(1));
    assert_eq!(debian.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&debian.stdout)
    );
    assert!(!ours.stdout.is_empty());
}

#[test]
fn execute_runs_cmdscript_at_once_with_the_event() {
    let setup = Setup::new("AT COMMBAD * EXECUTE lost-comms\nAT COMMBAD other EXECUTE never\n");
    let out = setup.event("ups@host:3493", "COMMBAD", "Communications lost");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        setup.log(),
        ["lost-comms ups@host:3493 COMMBAD Communications lost"]
    );
    assert!(!setup.pipe().exists(), "EXECUTE needs no daemon");
}

#[test]
fn cancel_without_a_daemon_starts_none() {
    let setup = Setup::new("AT ONLINE * CANCEL-TIMER onbatt\n");
    let out = setup.event("ups", "ONLINE", "back");
    assert!(out.status.success(), "{out:?}");
    assert!(!setup.pipe().exists());
    assert!(setup.log().is_empty());
}

#[test]
fn racing_invocations_share_one_daemon_which_exits_when_idle() {
    let setup = Setup::new("AT ONBATT * START-TIMER onbatt 3\n");
    let racers: Vec<_> = (0..8)
        .map(|i| {
            setup
                .command(Some((&format!("ups{i}"), "ONBATT")), &["on battery"])
                .spawn()
                .expect("spawn upssched")
        })
        .collect();
    for r in racers {
        let out = r.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    // Every request reached the same daemon: all eight timers are listed there…
    let listed = setup.request("LIST-TIMERS");
    assert_eq!(
        listed.first().map(String::as_str),
        Some("BEGIN LIST TIMERS")
    );
    assert_eq!(listed.len(), 8 + 3, "{listed:?}");
    // …and all eight run, each with its own event.
    let mut log = setup.wait_log(8);
    log.sort();
    let mut want: Vec<String> = (0..8)
        .map(|i| format!("onbatt ups{i} ONBATT on battery"))
        .collect();
    want.sort();
    assert_eq!(log, want);
    // With no timers left the daemon removes its socket and exits (after 15 idle seconds).
    let gone = poll_until(Duration::from_secs(40), || {
        (!setup.pipe().exists()).then_some(())
    });
    assert!(gone.is_some(), "the daemon did not exit when idle");
    // The next event starts a new one.
    let out = setup.event("ups", "ONBATT", "again");
    assert!(out.status.success(), "{out:?}");
    assert!(setup.pipe().exists());
    assert_eq!(setup.request("CANCEL onbatt"), ["OK"]);
}

#[test]
fn socket_protocol() {
    let setup = Setup::new("AT ONBATT * START-TIMER onbatt 600\n");
    assert!(setup.event("ups", "ONBATT", "msg").status.success());
    assert_eq!(setup.request("BOGUS"), ["ERR UNKNOWN"]);
    // NUT 2.8.0's short form.
    assert_eq!(setup.request("START \"t1\" \"30\""), ["OK"]);
    let listed = setup.request("LIST-TIMERS");
    assert_eq!(listed.len(), 2 + 3, "{listed:?}");
    assert!(listed[1].starts_with("onbatt\t"), "{listed:?}");
    assert!(listed[1].ends_with("\tONBATT\tups\tmsg"), "{listed:?}");
    assert!(listed[2].starts_with("t1\t"), "{listed:?}");
    // A cancel with a fallback command that finds nothing runs the command.
    assert_eq!(setup.request("CANCEL \"nothing\" \"fallback\""), ["OK"]);
    assert_eq!(setup.wait_log(1), ["fallback   "]);
    assert_eq!(setup.request("CANCEL \"t1\" \"\""), ["OK"]);
    assert_eq!(setup.request("CANCEL onbatt"), ["OK"]);
    assert_eq!(
        setup.request("LIST-TIMERS"),
        ["BEGIN LIST TIMERS", "END LIST TIMERS", "OK"]
    );
}

#[test]
fn sigterm_stops_the_daemon_cleanly() {
    let setup = Setup::new("AT ONBATT * START-TIMER onbatt 600\n");
    assert!(setup.event("ups", "ONBATT", "msg").status.success());
    let pid_file = setup.path().join("upssched.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("upssched.pid in NUT_ALTPIDPATH")
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let gone = poll_until(STEP, || {
        (!setup.pipe().exists() && !pid_file.exists()).then_some(())
    });
    assert!(gone.is_some(), "socket and PID file removed on SIGTERM");
    assert!(setup.log().is_empty(), "pending timers are dropped");
}

/// A syslog for one program run at a time: `cmd` runs with a private /dev (mount namespace,
/// root only) whose `log` is a datagram socket of ours; `/dev/null` is kept.
struct Syslog {
    dev: PathBuf,
    socket: std::os::unix::net::UnixDatagram,
}

impl Syslog {
    fn new(dir: &Path) -> Syslog {
        assert!(
            nix::unistd::Uid::effective().is_root(),
            "capturing syslog needs a mount namespace: run the tests as root"
        );
        let dev = dir.join("dev");
        std::fs::create_dir_all(&dev).unwrap();
        let socket = std::os::unix::net::UnixDatagram::bind(dev.join("log")).expect("bind dev/log");
        socket.set_nonblocking(true).unwrap();
        Syslog { dev, socket }
    }

    /// Run `cmd`; its output and what it sent to syslog.
    fn run(&self, cmd: &Command) -> (Output, Vec<String>) {
        let mut wrapped = Command::new("unshare");
        wrapped
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg(r#"touch "$0/null" && mount --bind /dev/null "$0/null" && mount --bind "$0" /dev && exec "$@""#)
            .arg(&self.dev)
            .arg(cmd.get_program())
            .args(cmd.get_args())
            .stdin(Stdio::null());
        for (key, value) in cmd.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        let out = wrapped.output().expect("run unshare");
        let mut lines = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.socket.recv(&mut buf) {
            lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        (out, lines)
    }
}

#[test]
fn a_bad_rule_is_reported_to_syslog_and_every_other_rule_still_acts() {
    // Issue 12 (docs/issues.md) item 5: one typo used to disable every rule, with the error on stderr only
    // (/dev/null under a detached upsmon). NUT 2.8.0 skips the bad rule.
    let setup = Setup::new(
        "AT ONBATT * START-TIMER onbatt 600\nAT ONBAT * EXECUTE typo\n\
         AT ONBATT * START-TIMER late 30s\nAT ONBATT * EXECUTE now\n",
    );
    let log = Syslog::new(setup.path());
    for round in 0..2 {
        let cmd = setup.command(Some(("ups@host", "ONBATT")), &["on battery"]);
        let (out, syslog) = log.run(&cmd);
        // The rules that parsed have acted…
        assert_eq!(setup.wait_log(round + 1).len(), round + 1);
        let listed = setup.request("LIST-TIMERS");
        assert_eq!(listed.len(), round + 1 + 3, "{listed:?}");
        assert!(listed[1].starts_with("onbatt\t"), "{listed:?}");
        // …and every invocation reports both bad lines, to syslog and stderr, and says so
        // in its exit status.
        assert_eq!(out.status.code(), Some(78), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        for needle in [
            "upssched.conf:5: AT: unknown notify type 'ONBAT'",
            "upssched.conf:6: ",
        ] {
            assert!(
                syslog
                    .iter()
                    .any(|l| l.contains(needle) && l.contains("upssched[")),
                "{needle} in syslog: {syslog:?}"
            );
            assert!(stderr.contains(needle), "{needle} on stderr: {stderr}");
        }
    }
    assert_eq!(setup.log()[0], "now ups@host ONBATT on battery");
}

#[test]
fn check_flag_validates_the_file() {
    let good = Setup::new("AT ONBATT * START-TIMER onbatt 30\n");
    let out = good.command(None, &["-t"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK (1 rule(s))"));

    let bad = Setup::new("AT ONBATT * START-TIMER onbatt 30\nAT ONBATT * STOP-TIMER x\n");
    let out = bad.command(None, &["-t"]).output().unwrap();
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("upssched.conf:5: AT: unknown command 'STOP-TIMER'"),
        "{stderr}"
    );
    assert!(stderr.contains("1 error(s)"), "{stderr}");
    assert!(!bad.pipe().exists(), "-t starts nothing");

    // A quoted CMDSCRIPT with arguments (item 8): a warning, not an error.
    let quoted = Setup::new("");
    let conf = quoted.path().join("upssched.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    let first = text.lines().next().unwrap().to_owned();
    std::fs::write(
        &conf,
        text.replacen(&first, "CMDSCRIPT \"/usr/bin/logger -t ups\"", 1),
    )
    .unwrap();
    let out = quoted.command(None, &["-t"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is one quoted word with spaces"),
        "{out:?}"
    );

    let missing = tempfile::tempdir().unwrap();
    let out = Command::new(upssched())
        .arg("-t")
        .env("NUT_CONFPATH", missing.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{out:?}");
}
