//! Our upsmon as a process: privilege separation, the PID file, sd_notify, background mode,
//! `-p`, `-c`, `-K`, start-up checks, and what happens when either process dies. Each test
//! runs the binary against Debian's upsd and dummy-ups (nut-harness). Start-up checks are
//! compared with Debian's upsmon.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use nut_harness::{Impl, bin, poll_until, wait_until};

use nut_harness::notify::NotifySocket;

use crate::support;
use support::{Mon, PRIMARY, STEP, set_status, stack, upsmon, wait_logins};

/// Children of `pid` (from /proc).
fn children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            found.push(child);
        }
    }
    found
}

/// Real uid of a process.
fn uid_of(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn nut_uid() -> u32 {
    nix::unistd::User::from_name("nut")
        .ok()
        .flatten()
        .map(|u| u.uid.as_raw())
        .expect("the nut user exists (Debian's nut-client package creates it)")
}

fn alive(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_ok() && {
        // A zombie is not alive for our purpose.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                !s.rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
            })
            .unwrap_or(false)
    }
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn split_processes_pid_file_and_privileges() {
    let mut stack = stack();
    let mon = Mon::new(&stack, "split", PRIMARY);
    let daemon = mon.spawn(&mut stack, "upsmon split", &["-F"]);
    wait_logins(&stack, 1);
    let parent = daemon.pid();
    // The PID file names the process we started (the privileged parent).
    assert_eq!(mon.pid_in_file(), Some(i32::try_from(parent).unwrap()));
    assert_eq!(uid_of(parent), Some(0), "the parent stays root");
    let kids = children(parent);
    assert_eq!(kids.len(), 1, "one monitoring child: {kids:?}");
    assert_eq!(uid_of(kids[0]), Some(nut_uid()), "the child runs as nut");
    // NOTIFYCMD runs as the unprivileged user, SHUTDOWNCMD as root.
    set_status(&stack, "OB");
    let onbatt = mon.wait_event("ONBATT");
    assert_eq!(onbatt, format!("ONBATT {}", nut_uid()));
    set_status(&stack, "OB LB");
    let shutdown = wait_until("SHUTDOWNCMD", STEP, || {
        let uids = mon.shutdown_uids();
        (!uids.is_empty()).then_some(uids)
    });
    assert_eq!(shutdown, ["0"]);
    let status = daemon.wait_exit(STEP);
    assert!(status.success(), "{status}\n{}", daemon.output_so_far());
    assert!(!mon.pid_file().exists(), "upsmon.pid removed at exit");
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn control_commands_go_through_the_parent() {
    let mut stack = stack();
    let mon = Mon::new(&stack, "control", PRIMARY);
    let daemon = mon.spawn(&mut stack, "upsmon control", &["-F"]);
    wait_logins(&stack, 1);
    // A second instance is refused while the first runs.
    let second = mon.run(&["-F"]);
    // EX_TEMPFAIL (nut_daemon::exit); NUT exits 1.
    assert_eq!(second.status.code(), Some(75));
    assert!(
        String::from_utf8_lossy(&second.stderr)
            .contains("A previous upsmon instance is already running"),
        "{second:?}"
    );
    let reload = mon.run(&["-c", "reload"]);
    assert_eq!(reload.status.code(), Some(0), "{reload:?}");
    daemon.wait_output("Reloading configuration", STEP);
    let stop = mon.run(&["-c", "stop"]);
    assert_eq!(stop.status.code(), Some(0), "{stop:?}");
    let status = daemon.wait_exit(STEP);
    assert!(status.success(), "{status}");
    assert!(!mon.pid_file().exists());
    // Nothing to signal any more.
    let again = mon.run(&["-c", "stop"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains("Failed to signal the currently running daemon (if any)")
    );
    assert!(mon.shutdown_uids().is_empty());
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn sd_notify_comes_from_the_main_process() {
    let mut stack = stack();
    let mon = Mon::new(&stack, "notify", PRIMARY);
    let socket = NotifySocket::bind(stack.dir());
    let mut cmd = mon.command(&["-F"]);
    cmd.env("NOTIFY_SOCKET", socket.path());
    let daemon = stack.spawn_as("upsmon notify", cmd);
    let main = Some(i32::try_from(daemon.pid()).unwrap());
    let log = || daemon.output_so_far();
    let (ready, first) = socket.expect_line(0, "READY=1", STEP, log);
    assert_eq!(first.pid, main, "{}", socket.transcript());
    assert_eq!(mon.run(&["-c", "reload"]).status.code(), Some(0));
    let (reloading, reload) = socket.expect_line(ready + 1, "RELOADING=1", STEP, log);
    assert_eq!(reload.pid, main, "{}", socket.transcript());
    let (ready, again) = socket.expect_line(reloading + 1, "READY=1", STEP, log);
    assert_eq!(again.pid, main, "{}", socket.transcript());
    assert_eq!(mon.run(&["-c", "stop"]).status.code(), Some(0));
    let (_, stopping) = socket.expect_line(ready + 1, "STOPPING=1", STEP, log);
    assert_eq!(stopping.pid, main, "{}", socket.transcript());
    daemon.wait_exit(STEP);
}

/// Kills a detached upsmon (it left the harness's process group) if the test fails.
struct Detached(Option<i32>);

impl Drop for Detached {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn background_mode_returns_once_ready() {
    let stack = stack();
    let mon = Mon::new(&stack, "bg", PRIMARY);
    let launcher = mon.run(&[]);
    assert_eq!(launcher.status.code(), Some(0), "{launcher:?}");
    // The launcher returned after start-up: the PID file is there already.
    let pid = mon
        .pid_in_file()
        .expect("upsmon.pid written before the launcher returns");
    let mut guard = Detached(Some(pid));
    assert!(alive(pid));
    wait_logins(&stack, 1);
    assert_eq!(mon.run(&["-c", "stop"]).status.code(), Some(0));
    let gone = poll_until(STEP, || (!alive(pid)).then_some(()));
    assert!(gone.is_some(), "upsmon {pid} still running after -c stop");
    guard.0 = None;
    assert!(!mon.pid_file().exists());
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn single_process_mode_runs_shutdowncmd_itself() {
    let mut stack = stack();
    let mon = Mon::new(&stack, "single", PRIMARY);
    let daemon = mon.spawn(&mut stack, "upsmon -p", &["-F", "-p"]);
    wait_logins(&stack, 1);
    assert!(
        children(daemon.pid()).is_empty(),
        "no separate child with -p"
    );
    assert!(
        daemon
            .output_so_far()
            .contains("Warning: running as one big root process by request (upsmon -p)")
    );
    set_status(&stack, "OB LB");
    let uids = wait_until("SHUTDOWNCMD", STEP, || {
        let uids = mon.shutdown_uids();
        (!uids.is_empty()).then_some(uids)
    });
    assert_eq!(uids, ["0"]);
    assert!(daemon.wait_exit(STEP).success());
    // With -p, notifiers run as root too.
    assert!(
        mon.events().iter().any(|e| e == "LOWBATT 0"),
        "{:?}",
        mon.events()
    );
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn parent_death_is_reported_as_noparent() {
    let mut stack = stack();
    let mon = Mon::new(&stack, "orphan", PRIMARY);
    let daemon = mon.spawn(&mut stack, "upsmon orphan", &["-F"]);
    wait_logins(&stack, 1);
    let parent = daemon.pid();
    let kids = children(parent);
    assert_eq!(kids.len(), 1);
    kill(
        Pid::from_raw(i32::try_from(parent).unwrap()),
        Signal::SIGKILL,
    )
    .expect("kill parent");
    mon.wait_event("NOPARENT");
    assert!(
        alive(i32::try_from(kids[0]).unwrap()),
        "the child keeps monitoring"
    );
    let _ = kill(
        Pid::from_raw(i32::try_from(kids[0]).unwrap()),
        Signal::SIGKILL,
    );
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn child_death_ends_the_parent() {
    let mut stack = stack();
    let mon = Mon::new(&stack, "bereaved", PRIMARY);
    let daemon = mon.spawn(&mut stack, "upsmon bereaved", &["-F"]);
    wait_logins(&stack, 1);
    let kids = children(daemon.pid());
    assert_eq!(kids.len(), 1);
    kill(
        Pid::from_raw(i32::try_from(kids[0]).unwrap()),
        Signal::SIGKILL,
    )
    .expect("kill child");
    let status = daemon.wait_exit(STEP);
    assert_eq!(status.code(), Some(1), "{}", daemon.output_so_far());
    assert!(!mon.pid_file().exists());
    assert!(
        mon.shutdown_uids().is_empty(),
        "no shutdown without the child asking"
    );
}

/// Run ours and Debian's with the same config directory (Debian only reads it).
fn both(conf: &Path, args: &[&str]) -> (Output, Output) {
    let run = |program: PathBuf| {
        Command::new(program)
            .args(args)
            .env("NUT_CONFPATH", conf)
            .env("NUT_PIDPATH", conf)
            .stdin(Stdio::null())
            .output()
            .expect("run upsmon")
    };
    (run(upsmon()), run(bin(Impl::Debian, "upsmon")))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-client); scripts/test runs it"]
fn startup_checks_and_killpower_like_nut() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path();
    let write = |text: &str| std::fs::write(conf.join("upsmon.conf"), text).unwrap();

    write("MONITOR ups@127.0.0.1:9 1 u p primary\nMINSUPPLIES 2\n");
    let (ours, debian) = both(conf, &["-F"]);
    // EX_CONFIG (nut_daemon::exit) where NUT exits 1: an intended difference.
    assert_eq!(ours.status.code(), Some(78));
    assert_eq!(debian.status.code(), Some(1));
    assert_eq!(stdout(&ours), stdout(&debian), "insufficient power");
    assert!(stdout(&ours).contains("Sum of power values........: 1\n"));

    let flag = conf.join("killpower");
    write(&format!(
        "MONITOR ups@127.0.0.1:9 1 u p primary\nPOWERDOWNFLAG {}\n",
        flag.display()
    ));
    for (content, want) in [
        (None, 1),
        (Some("upsmon-shutdown-file"), 0),
        (Some("upsmon-shutdown-file\n"), 0),
        (Some("something else\n"), 1),
    ] {
        match content {
            Some(c) => std::fs::write(&flag, c).unwrap(),
            None => {
                let _ = std::fs::remove_file(&flag);
            }
        }
        let (ours, debian) = both(conf, &["-K"]);
        assert_eq!(ours.status.code(), Some(want), "ours -K with {content:?}");
        assert_eq!(
            debian.status.code(),
            Some(want),
            "debian -K with {content:?}"
        );
    }
    write("MONITOR ups@127.0.0.1:9 1 u p primary\n");
    let (ours, debian) = both(conf, &["-K"]);
    assert_eq!(ours.status.code(), Some(1), "no POWERDOWNFLAG");
    assert_eq!(debian.status.code(), Some(1));
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-client); scripts/test runs it"]
fn killpower_answers_even_when_upsmon_conf_has_errors() {
    // The late-shutdown hook runs `upsmon -K && upsdrvctl shutdown`: a bad edit of upsmon.conf
    // must not make it skip the UPS power-off (docs/issues.md: issue 12 item 7). NUT checks the flag whatever
    // invalid lines the file has.
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path();
    let flag = conf.join("killpower");
    for bad in ["POLLFREQ soon", "NOTIFYFLAG ONBATT BOGUS"] {
        std::fs::write(
            conf.join("upsmon.conf"),
            format!(
                "MONITOR ups@127.0.0.1:9 1 u p primary\nPOWERDOWNFLAG {}\n{bad}\n",
                flag.display()
            ),
        )
        .unwrap();
        for (content, want) in [(Some("upsmon-shutdown-file"), 0), (None, 1)] {
            match content {
                Some(c) => std::fs::write(&flag, c).unwrap(),
                None => {
                    let _ = std::fs::remove_file(&flag);
                }
            }
            let (ours, debian) = both(conf, &["-K"]);
            assert_eq!(
                debian.status.code(),
                Some(want),
                "debian -K with {bad:?}, flag {content:?}"
            );
            assert_eq!(
                ours.status.code(),
                Some(want),
                "ours -K with {bad:?}, flag {content:?}: {}",
                String::from_utf8_lossy(&ours.stderr)
            );
        }
    }
}
