//! issue 7 (docs/issues.md), acceptance (c): each daemon started as its unit starts it (flags, environment and
//! group from packaging/systemd, `NOTIFY_SOCKET` as systemd sets it) on a machine where
//! /run/nut does not exist yet — no `RuntimeDirectory=`, no tmpfiles: the daemon itself must
//! create it (0770 root:nut when root). Then: it runs; its log has no error or warning lines;
//! its PID file holds the started PID; a second instance is refused with one clear line
//! naming that PID; `-c reload` and `-c stop` (found through the PID file, as an administrator
//! types them) work; after the stop nothing is left: no socket, no PID file, no process.
//!
//! upssched has no unit (upsmon's NOTIFYCMD starts it, as the unprivileged user); its test
//! runs it that way. Each daemon also runs once with /run/nut made by systemd's
//! `RuntimeDirectory=` (as the units ask), to tell the two cases apart.

use crate::systemd_support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::unistd::{Uid, User};
use nut_harness::notify::NotifySocket;
use nut_harness::{Daemon, Impl, bin, wait_until};
use systemd_support::service::{
    Root, Service, TIMEOUT, group_alive, nut_group, run_once, trouble_lines, try_run_once,
};
use systemd_support::{Kind, Scenario, UPS};

/// The output lines that are not NUT's start-up banner.
fn message_lines(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("Network UPS Tools"))
        .collect()
}

/// The `-c` commands an administrator types for `kind` (reload, stop), if the program has
/// them; upslog has none in NUT (its unit reloads with SIGHUP).
fn admin_args(kind: Kind) -> Option<([&'static str; 4], [&'static str; 4])> {
    match kind {
        Kind::Driver => Some((["-a", UPS, "-c", "reload"], ["-a", UPS, "-c", "exit"])),
        Kind::Server | Kind::Monitor => Some((["-c", "reload", "", ""], ["-c", "stop", "", ""])),
        Kind::Logger => None,
    }
}

fn admin(service: &Service<'_>, kind: Kind, args: [&str; 4]) -> (std::process::ExitStatus, String) {
    let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
    run_once(
        &format!("{} {}", kind.program(), args.join(" ")),
        service.admin_command(kind.program(), &args),
    )
}

/// Log lines that are expected in one scenario and nothing else.
fn expected_trouble(kind: Kind, line: &str) -> bool {
    // upsd is started before any driver here (its driver cannot run without /run/nut):
    // not reaching the driver's socket yet is the one thing it may report.
    kind == Kind::Server && line.contains(&format!("dummy-ups-{UPS}"))
}

/// Problems found in one run. Checks that later steps do not depend on are recorded here
/// instead of stopping the test, so that one run reports everything a daemon gets wrong.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    fn finish(self, daemon: &Daemon) {
        assert!(
            self.0.is_empty(),
            "{}: {} problem(s):\n- {}\n\nwhole log:\n{}",
            daemon.label(),
            self.0.len(),
            self.0.join("\n- "),
            daemon.output_so_far()
        );
    }
}

/// Where /run/nut comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RunDir {
    /// Nowhere: the daemon must create it (a machine without the tmpfiles entry, a manual
    /// start, a unit without `RuntimeDirectory=`). The acceptance case.
    Missing,
    /// systemd's `RuntimeDirectory=` made it before the start, as the units ask.
    FromSystemd,
}

fn lifecycle(kind: Kind, run_dir: RunDir) {
    let mut findings = Findings::default();
    let scenario = Scenario::new(kind);
    let root = &scenario.root;
    assert!(!root.run().exists());
    let socket = NotifySocket::bind(root.path());
    let mut service = scenario.notified_service(&socket);
    if run_dir == RunDir::FromSystemd {
        root.create_runtime_directory(&service.unit);
    }
    let daemon = service.start();
    match socket.wait(0, TIMEOUT, |n| n.has("READY", "1")) {
        Some(_) => {}
        None => {
            // Go on without it, to report everything else this daemon gets wrong.
            assert!(
                daemon.is_running(),
                "{}: exited during start-up without READY=1:\n{}",
                daemon.label(),
                daemon.output_so_far()
            );
            findings
                .0
                .push(format!("no READY=1 within {TIMEOUT:?} (it keeps running)"));
        }
    }
    let pid = daemon.pid();

    // Switching to the nut account must not leave NSS modules (libnss_systemd with libm and
    // libcap: ~700 KB) mapped in the daemon for good.
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    let mut nss: Vec<&str> = maps
        .lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .filter(|path| path.contains("libnss_"))
        .collect();
    nss.dedup();
    findings.check(nss.is_empty(), || {
        format!("NSS modules stay loaded after start-up: {nss:?}")
    });

    // The runtime directory, made by the daemon with tmpfiles' owner and mode.
    match root.run_dir_owner() {
        None => findings
            .0
            .push(format!("no {} after start", root.run().display())),
        Some((mode, uid, gid)) => {
            findings.check(mode == 0o770, || {
                format!("runtime directory mode {mode:o}, want 770")
            });
            if let Some(nut) = nut_group() {
                findings.check((uid, gid) == (0, nut.as_raw()), || {
                    format!("runtime directory owned by {uid}:{gid}, want root:nut")
                });
            }
        }
    }
    // nut-server's data comes from a driver that could only start now.
    let _driver = (kind == Kind::Server).then(|| {
        let driver = scenario.start_reference_driver();
        wait_until("upsd to serve the driver's data", TIMEOUT, || {
            scenario.upsd_status().filter(|r| r.contains("\"OL\""))
        });
        driver
    });

    // The PID file names the process systemd started.
    let pid_path = root.run().join(kind.pid_file());
    let recorded = std::fs::read_to_string(&pid_path).map(|t| t.trim().to_owned());
    findings.check(
        recorded.as_deref().ok() == Some(pid.to_string().as_str()),
        || format!("PID file {}: {recorded:?}, want {pid}", pid_path.display()),
    );

    // A second instance, started the same way, is refused with one line naming the PID.
    let (words, env) = service.command_words("ExecStart", 0);
    let env: Vec<_> = env
        .into_iter()
        .filter(|(k, _)| k != "NOTIFY_SOCKET")
        .collect();
    match try_run_once("second instance", service.build(&words, &env)) {
        None => findings.0.push(format!(
            "a second instance was not refused: still running after {TIMEOUT:?} (killed)"
        )),
        Some((status, output)) => {
            let lines = message_lines(&output);
            findings.check(
                !status.success() && lines.len() == 1 && lines[0].contains(&pid.to_string()),
                || {
                    format!(
                        "a second instance must fail with one line naming PID {pid}; \
                         got {status}: {output:?}"
                    )
                },
            );
        }
    }
    assert!(
        daemon.is_running(),
        "{}: the first instance died when a second one started:\n{}",
        daemon.label(),
        daemon.output_so_far()
    );
    let recorded_after = std::fs::read_to_string(&pid_path).map(|t| t.trim().to_owned());
    findings.check(recorded_after.ok() == recorded.ok(), || {
        "the second instance changed the PID file".to_owned()
    });

    // Reload and stop through the PID file, as an administrator would.
    let mark = socket.count();
    let (what, (status, output)) = match admin_args(kind) {
        Some((reload, _)) => ("-c reload", admin(&service, kind, reload)),
        None => ("ExecReload", service.reload()),
    };
    findings.check(
        status.success() && trouble_lines(&output).is_empty(),
        || format!("{what}: {status}: {output:?}"),
    );
    if status.success() {
        match socket.wait(mark, TIMEOUT, |n| n.has("RELOADING", "1")) {
            None => findings.0.push(format!("no RELOADING=1 after {what}")),
            Some((reloading, _)) => findings.check(
                socket
                    .wait(reloading + 1, TIMEOUT, |n| n.has("READY", "1"))
                    .is_some(),
                || format!("no READY=1 after RELOADING=1 ({what})"),
            ),
        }
    }
    assert!(
        daemon.is_running(),
        "{}: died on reload:\n{}",
        daemon.label(),
        daemon.output_so_far()
    );

    let stopped_by_command = match admin_args(kind) {
        Some((_, stop)) => {
            let (status, output) = admin(&service, kind, stop);
            findings.check(status.success(), || {
                format!("stop command {stop:?}: {status}: {output:?}")
            });
            status.success()
        }
        None => false,
    };
    if !stopped_by_command {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    let status = daemon.wait_exit(TIMEOUT);
    findings.check(status.code() == Some(0), || {
        format!("exit status after stop: {status}, want 0")
    });

    // Nothing left behind.
    let left: Vec<String> = root
        .run_entries()
        .into_iter()
        .filter(|f| kind.runtime_files().contains(f))
        .collect();
    findings.check(left.is_empty(), || {
        format!("left behind in {}: {left:?}", root.run().display())
    });
    findings.check(
        nut_harness::poll_until(TIMEOUT, || (!group_alive(pid)).then_some(())).is_some(),
        || "processes of the unit still run after the stop".to_owned(),
    );

    // A quiet log: no error or warning lines in a normal start, reload and stop.
    let trouble: Vec<String> = trouble_lines(&daemon.output_so_far())
        .into_iter()
        .filter(|l| !expected_trouble(kind, l))
        .collect();
    findings.check(trouble.is_empty(), || {
        format!("error/warning lines in the log: {trouble:?}")
    });
    findings.finish(&daemon);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn upsd_lifecycle_as_nut_server_without_run_nut() {
    lifecycle(Kind::Server, RunDir::Missing);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn upsd_lifecycle_as_nut_server_with_runtime_directory() {
    lifecycle(Kind::Server, RunDir::FromSystemd);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn upsmon_lifecycle_as_nut_monitor_without_run_nut() {
    lifecycle(Kind::Monitor, RunDir::Missing);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn upsmon_lifecycle_as_nut_monitor_with_runtime_directory() {
    lifecycle(Kind::Monitor, RunDir::FromSystemd);
}

#[test]
fn driver_lifecycle_as_nut_driver_instance_without_run_nut() {
    lifecycle(Kind::Driver, RunDir::Missing);
}

#[test]
fn driver_lifecycle_as_nut_driver_instance_with_runtime_directory() {
    lifecycle(Kind::Driver, RunDir::FromSystemd);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn upslog_lifecycle_as_nut_logger_without_run_nut() {
    lifecycle(Kind::Logger, RunDir::Missing);
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn upslog_lifecycle_as_nut_logger_with_runtime_directory() {
    lifecycle(Kind::Logger, RunDir::FromSystemd);
}

/// upssched as upsmon's NOTIFYCMD runs it: as the unprivileged user, with UPSNAME and
/// NOTIFYTYPE set, the message as argument. /run/nut exists (upsmon's unit made it).
fn upssched(root: &Root, notify_type: &str) -> (std::process::ExitStatus, String) {
    let mut cmd = Command::new(bin(Impl::Ours, "upssched"));
    cmd.arg(format!("UPS {UPS} event {notify_type}"))
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .envs(root.nut_env())
        .env("UPSNAME", UPS)
        .env("NOTIFYTYPE", notify_type)
        .current_dir("/");
    if Uid::effective().is_root() {
        let nut = User::from_name("nut").unwrap().expect("the nut user");
        cmd.uid(nut.uid.as_raw()).gid(nut.gid.as_raw());
    }
    run_once(&format!("upssched {notify_type}"), cmd)
}

/// Whether nobody holds an flock on `path` (a missing file is free).
fn lock_is_free(path: &std::path::Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return true;
    };
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock).is_ok()
}

#[test]
fn upssched_timer_daemon_lifecycle() {
    let root = Root::new();
    std::fs::create_dir_all(root.run()).unwrap();
    std::fs::set_permissions(root.run(), std::fs::Permissions::from_mode(0o770)).unwrap();
    if let Some(gid) = nut_group() {
        nix::unistd::chown(&root.run(), Some(Uid::from_raw(0)), Some(gid)).unwrap();
    }
    let out = root.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o777)).unwrap();
    let script = root.path().join("cmd.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1\" >> {}/ran\n", out.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = root.run();
    root.write_conf(
        "upssched.conf",
        &format!(
            "CMDSCRIPT {}\nPIPEFN {}/upssched.pipe\nLOCKFN {}/upssched.lock\n\
             AT ONBATT * START-TIMER onbatt 300\nAT ONLINE * CANCEL-TIMER onbatt online-no-timer\n",
            script.display(),
            run.display(),
            run.display()
        ),
    );

    let (status, output) = upssched(&root, "ONBATT");
    assert!(
        status.success() && trouble_lines(&output).is_empty(),
        "ONBATT: {status}: {output}"
    );
    let pid_path = run.join("upssched.pid");
    let pid: i32 = wait_until("upssched.pid", TIMEOUT, || {
        std::fs::read_to_string(&pid_path).ok()?.trim().parse().ok()
    });
    assert!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok(),
        "PID {pid} is not running"
    );
    assert!(run.join("upssched.pipe").exists());
    // LOCKFN only serialises start-ups (an flock; the file may stay): once the daemon
    // serves, nobody holds it.
    let lock = run.join("upssched.lock");
    assert!(
        nut_harness::poll_until(TIMEOUT, || lock_is_free(&lock).then_some(())).is_some(),
        "LOCKFN {} is still locked while the daemon serves",
        lock.display()
    );

    // Another event talks to the same daemon.
    let (status, output) = upssched(&root, "ONBATT");
    assert!(
        status.success() && trouble_lines(&output).is_empty(),
        "{output}"
    );
    assert_eq!(
        std::fs::read_to_string(&pid_path).unwrap().trim(),
        pid.to_string()
    );

    // Stopping it (what systemd does to nut-monitor's processes) cleans up.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    wait_until("upssched's timer daemon to exit", TIMEOUT, || {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
            .is_err()
            .then_some(())
    });
    wait_until("upssched to remove its pipe and PID file", TIMEOUT, || {
        (!run.join("upssched.pipe").exists() && !pid_path.exists()).then_some(())
    });
    assert!(lock_is_free(&lock));
    // No timer fired, nothing ran.
    assert!(!out.join("ran").exists());
}
