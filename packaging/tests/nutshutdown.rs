//! The late-shutdown hook `system-shutdown/nutshutdown`, run with `sh` exactly as packaged,
//! against the workspace's real upsmon, upsdrvctl, nut-systemd and dummy-ups in a temporary
//! NUT_CONFPATH. Only two things are stand-ins: the reboot command (a recorder, through
//! `NUTSHUTDOWN_REBOOT`) and, where the hook's success path is checked, upsdrvctl (a recorder
//! that succeeds, since dummy-ups cannot kill power and so makes the real one fail).

use std::fmt::Write as _;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nut_harness::{Impl, bin};

/// What upsmon writes into POWERDOWNFLAG (docs/nut-behaviour.md §6.5).
const MAGIC: &str = "upsmon-shutdown-file";

fn hook() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("system-shutdown/nutshutdown")
}

/// A machine at the end of its shutdown: configuration, state, the programs the hook runs,
/// and a log the recorders append to.
struct Machine {
    dir: tempfile::TempDir,
}

impl Machine {
    fn new(nut_conf: Option<&str>) -> Self {
        let m = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        for sub in ["etc", "run", "bin", "drivers"] {
            std::fs::create_dir(m.path(sub)).unwrap();
        }
        if let Some(text) = nut_conf {
            m.write("etc/nut.conf", text);
        }
        m.write(
            "etc/ups.conf",
            "[test]\n\tdriver = dummy-ups\n\tport = test.dev\n",
        );
        m.write("etc/test.dev", "ups.status: OB LB\n");
        let upsmon_conf = format!(
            "POWERDOWNFLAG {}\nSHUTDOWNCMD \"/bin/true\"\n",
            m.path("flag").display()
        );
        m.write("etc/upsmon.conf", &upsmon_conf);
        for program in ["nut-systemd", "upsmon", "upsdrvctl"] {
            std::os::unix::fs::symlink(bin(Impl::Ours, program), m.path("bin").join(program))
                .unwrap();
        }
        // dummy-ups behind a wrapper that notes how upsdrvctl ran it.
        let log = m.path("log");
        m.script(
            "drivers/dummy-ups",
            &format!(
                "echo \"dummy-ups $*\" >> '{}'\nexec '{}' \"$@\"",
                log.display(),
                bin(Impl::Ours, "dummy-ups").display()
            ),
        );
        m.script(
            "reboot",
            &format!("echo \"reboot $*\" >> '{}'", log.display()),
        );
        m
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }

    fn script(&self, name: &str, body: &str) {
        let path = self.path(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// upsmon's power-down flag, as it writes it before SHUTDOWNCMD.
    fn set_flag(&self, content: &str) {
        self.write("flag", content);
    }

    /// Replace upsdrvctl by a recorder that succeeds.
    fn recording_upsdrvctl(&self) {
        std::fs::remove_file(self.path("bin/upsdrvctl")).unwrap();
        let log = self.path("log");
        self.script(
            "bin/upsdrvctl",
            &format!("echo \"upsdrvctl $*\" >> '{}'", log.display()),
        );
    }

    /// What the recorders saw, one line per call.
    fn log(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Run the hook as systemd-shutdown would (plus the test's overrides).
    fn run_hook(&self) -> Outcome {
        let mut child = Command::new("/bin/sh")
            .arg(hook())
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("NUT_CONFPATH", self.path("etc"))
            .env("NUT_STATEPATH", self.path("run"))
            .env("NUT_ALTPIDPATH", self.path("run"))
            .env("NUT_DRIVERPATH", self.path("drivers"))
            .env("NUTSHUTDOWN_BINDIR", self.path("bin"))
            .env("NUTSHUTDOWN_REBOOT", self.path("reboot"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run /bin/sh");
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("nutshutdown did not finish within 60 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let mut transcript = String::new();
        let _ = write!(transcript, "{status}\n--- stdout\n{out}--- stderr\n{err}");
        Outcome {
            status,
            out,
            err,
            transcript,
        }
    }
}

struct Outcome {
    status: ExitStatus,
    out: String,
    err: String,
    transcript: String,
}

impl Outcome {
    fn quiet_success(&self) {
        assert_eq!(self.status.code(), Some(0), "{}", self.transcript);
        assert!(
            self.out.is_empty() && self.err.is_empty(),
            "{}",
            self.transcript
        );
    }
}

#[test]
fn hook_is_executable_posix_sh() {
    let meta = std::fs::metadata(hook()).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o755);
    let text = std::fs::read_to_string(hook()).unwrap();
    assert!(text.starts_with("#!/bin/sh\n"));
    let status = Command::new("/bin/sh")
        .arg("-n")
        .arg(hook())
        .status()
        .unwrap();
    assert!(status.success(), "sh -n");
}

/// NUT not configured (MODE=none, MODE unset, no nut.conf): nothing happens and nothing is
/// said, even with a valid flag left behind.
#[test]
fn mode_none_does_nothing() {
    for conf in [Some("MODE=none\n"), Some("# nothing set\n"), None] {
        let m = Machine::new(conf);
        m.set_flag(MAGIC);
        m.recording_upsdrvctl();
        m.run_hook().quiet_success();
        assert!(m.log().is_empty(), "{conf:?}: {:?}", m.log());
    }
}

/// An ordinary shutdown: no flag, or a file that upsmon did not write.
#[test]
fn no_flag_means_no_driver_shutdown() {
    for flag in [None, Some("not the magic\n"), Some("")] {
        let m = Machine::new(Some("MODE=standalone\nPOWEROFF_WAIT=1s\n"));
        if let Some(content) = flag {
            m.set_flag(content);
        }
        m.run_hook().quiet_success();
        assert!(m.log().is_empty(), "{flag:?}: {:?}", m.log());
    }
}

/// The real chain: upsmon -K says the flag is set, upsdrvctl runs the driver with -k.
/// dummy-ups cannot cut power, so the driver fails and the hook says so and exits 1.
#[test]
fn flag_set_runs_the_driver_with_k_and_reports_its_failure() {
    let m = Machine::new(Some("MODE=standalone\n"));
    m.set_flag(&format!("{MAGIC}\n"));
    let outcome = m.run_hook();
    assert_eq!(outcome.status.code(), Some(1), "{}", outcome.transcript);
    assert_eq!(m.log(), ["dummy-ups -a test -k"]);
    assert!(
        outcome
            .err
            .contains("nutshutdown: upsdrvctl shutdown failed (exit status 1)"),
        "{}",
        outcome.transcript
    );
    assert!(
        outcome.err.contains("power-down flag is set"),
        "{}",
        outcome.transcript
    );
}

#[test]
fn flag_set_and_upsdrvctl_succeeding_exits_0_without_reboot() {
    let m = Machine::new(Some("MODE=netserver\n"));
    m.set_flag(MAGIC);
    m.recording_upsdrvctl();
    let outcome = m.run_hook();
    assert_eq!(outcome.status.code(), Some(0), "{}", outcome.transcript);
    assert_eq!(m.log(), ["upsdrvctl shutdown"]);
}

/// POWEROFF_WAIT: after the wait, a forced reboot; POWEROFF_QUIET silences the narration.
#[test]
fn poweroff_wait_reboots_after_the_driver_shutdown() {
    for (quiet, conf) in [
        (false, "MODE=standalone\nPOWEROFF_WAIT=1s\n"),
        (
            true,
            "MODE=standalone\nPOWEROFF_WAIT=\"0.5 0.5s\"\nPOWEROFF_QUIET=true\n",
        ),
    ] {
        let m = Machine::new(Some(conf));
        m.set_flag(MAGIC);
        m.recording_upsdrvctl();
        let outcome = m.run_hook();
        assert_eq!(outcome.status.code(), Some(0), "{}", outcome.transcript);
        assert_eq!(m.log(), ["upsdrvctl shutdown", "reboot "], "{conf}");
        if quiet {
            assert!(outcome.err.is_empty(), "{}", outcome.transcript);
        } else {
            let waiting = outcome.err.find("waiting 1s").expect(&outcome.transcript);
            let rebooting = outcome.err.find("rebooting (").expect(&outcome.transcript);
            assert!(waiting < rebooting, "{}", outcome.transcript);
        }
    }
}

/// A POWEROFF_WAIT sleep(1) would reject: a clear line, the UPS still told, no reboot.
#[test]
fn bad_poweroff_wait_is_reported_and_skips_the_reboot() {
    for bad in ["soon", "1x", "1..5s", "-1", "s", "1m;reboot"] {
        let m = Machine::new(Some(&format!(
            "MODE=standalone\nPOWEROFF_WAIT='{bad}'\nPOWEROFF_QUIET=true\n"
        )));
        m.set_flag(MAGIC);
        m.recording_upsdrvctl();
        let outcome = m.run_hook();
        assert_eq!(
            outcome.status.code(),
            Some(2),
            "{bad}: {}",
            outcome.transcript
        );
        assert_eq!(m.log(), ["upsdrvctl shutdown"], "{bad}");
        assert!(
            outcome.err.contains(&format!(
                "POWEROFF_WAIT=\"{bad}\" is not a sleep(1) duration"
            )),
            "{}",
            outcome.transcript
        );
    }
}

/// A nut.conf the parser rejects: the flag still decides (the UPS is told), nothing is
/// waited for, exit 2.
#[test]
fn invalid_nut_conf_still_honours_the_flag() {
    let m = Machine::new(Some("MODE=bogus\nPOWEROFF_WAIT=1s\n"));
    m.set_flag(MAGIC);
    m.recording_upsdrvctl();
    let outcome = m.run_hook();
    assert_eq!(outcome.status.code(), Some(2), "{}", outcome.transcript);
    assert_eq!(m.log(), ["upsdrvctl shutdown"]);
    assert!(
        outcome.err.contains("bogus") && outcome.err.contains("nut.conf is invalid"),
        "{}",
        outcome.transcript
    );
    // Without the flag, the same file is no reason to do anything.
    let m = Machine::new(Some("MODE=bogus\n"));
    m.recording_upsdrvctl();
    let outcome = m.run_hook();
    assert_eq!(outcome.status.code(), Some(0), "{}", outcome.transcript);
    assert!(m.log().is_empty());
}

#[test]
fn a_missing_program_is_an_error() {
    let m = Machine::new(Some("MODE=standalone\n"));
    m.set_flag(MAGIC);
    std::fs::remove_file(m.path("bin/upsmon")).unwrap();
    let outcome = m.run_hook();
    assert_eq!(outcome.status.code(), Some(1), "{}", outcome.transcript);
    assert!(
        outcome.err.contains("upsmon is missing"),
        "{}",
        outcome.transcript
    );
}

/// The packaged path the hook defaults to is where the .deb puts the programs.
#[test]
fn default_bindir_is_the_packages() {
    let text = std::fs::read_to_string(hook()).unwrap();
    assert!(text.contains(&format!(
        "bindir=${{NUTSHUTDOWN_BINDIR:-{}}}",
        nut_rs_deb::BIN_DIR
    )));
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(
            r#"["system-shutdown/nutshutdown", "usr/lib/systemd/system-shutdown/", "755"]"#
        )
    );
}
