//! Acting as systemd for one unit: a temp root standing in for `/etc/nut` and `/run/nut`, the
//! unit's environment (`EnvironmentFile=`, `Environment=`), `Group=`, `ExecCondition=`,
//! `ExecStart=` as the main process, `ExecReload=` with `$MAINPID`, and stop by `SIGTERM` to
//! the whole process group (systemd's default `KillMode=control-group`).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Gid, Group, Pid, Uid};
use nut_harness::{Daemon, Impl, bin};

use super::unit::{
    Unit, environment_assignments, expand_env, read_environment_file, split_command,
};

/// Where the package installs programs; the tests run the workspace's builds instead.
pub const INSTALLED_BIN_DIR: &str = "/usr/lib/nut-rs/bin/";
/// How long a daemon may take to get ready, reload or stop (CI machines are slow).
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A temp dir standing in for `/`: `etc/nut` (configs) and `run/nut` (created by the daemon
/// itself, or by [`Root::create_runtime_directory`] acting as systemd).
pub struct Root {
    dir: tempfile::TempDir,
}

/// The `nut` group when running as root (then daemons drop privileges to `nut`).
pub fn nut_group() -> Option<Gid> {
    if !Uid::effective().is_root() {
        return None;
    }
    let group = Group::from_name("nut").ok().flatten().unwrap_or_else(|| {
        panic!(
            "running as root but there is no 'nut' group: install Debian's nut-client \
             (bash .ci/run) or add it with `adduser --system --group nut`"
        )
    });
    Some(group.gid)
}

impl Root {
    /// A fresh root with an empty `etc/nut` (0750 root:nut) and no `run`.
    pub fn new() -> Root {
        let dir = tempfile::Builder::new()
            .prefix("nut-sd-")
            .tempdir()
            .expect("temp dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let root = Root { dir };
        std::fs::create_dir_all(root.etc()).unwrap();
        std::fs::set_permissions(root.path().join("etc"), PermissionsExt::from_mode(0o755))
            .unwrap();
        std::fs::set_permissions(root.etc(), PermissionsExt::from_mode(0o750)).unwrap();
        if let Some(gid) = nut_group() {
            nix::unistd::chown(&root.etc(), Some(Uid::from_raw(0)), Some(gid)).unwrap();
        }
        root
    }

    /// The root directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `<root>/etc/nut`.
    pub fn etc(&self) -> PathBuf {
        self.path().join("etc/nut")
    }

    /// `<root>/run/nut`.
    pub fn run(&self) -> PathBuf {
        self.path().join("run/nut")
    }

    /// Write a config file as the package's samples are installed: 0640 root:nut.
    pub fn write_conf(&self, name: &str, text: &str) {
        let path = self.etc().join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, PermissionsExt::from_mode(0o640)).unwrap();
        if let Some(gid) = nut_group() {
            nix::unistd::chown(&path, Some(Uid::from_raw(0)), Some(gid)).unwrap();
        }
    }

    /// NUT's path variables, pointing into the root.
    pub fn nut_env(&self) -> Vec<(String, String)> {
        let etc = self.etc().display().to_string();
        let run = self.run().display().to_string();
        vec![
            ("NUT_CONFPATH".into(), etc),
            ("NUT_STATEPATH".into(), run.clone()),
            ("NUT_ALTPIDPATH".into(), run.clone()),
            ("NUT_PIDPATH".into(), run),
        ]
    }

    /// Map an installed path to the root (configs, runtime dir) or to the workspace's build
    /// (programs).
    pub fn map(&self, value: &str) -> String {
        if let Some(program) = value.strip_prefix(INSTALLED_BIN_DIR) {
            return bin(Impl::Ours, program).display().to_string();
        }
        for (installed, here) in [("/etc/nut", self.etc()), ("/run/nut", self.run())] {
            if value == installed {
                return here.display().to_string();
            }
            if let Some(rest) = value.strip_prefix(&format!("{installed}/")) {
                return here.join(rest).display().to_string();
            }
        }
        value.to_owned()
    }

    /// What systemd does for `RuntimeDirectory=nut` before starting the unit: create the
    /// directory with `RuntimeDirectoryMode=`, owned by the unit's user and group.
    pub fn create_runtime_directory(&self, unit: &Unit) {
        let name = unit.service("RuntimeDirectory");
        assert_eq!(name, "nut", "{}: RuntimeDirectory", unit.name);
        let mode = u32::from_str_radix(&unit.service("RuntimeDirectoryMode"), 8).unwrap();
        std::fs::create_dir_all(self.run()).unwrap();
        std::fs::set_permissions(self.run(), PermissionsExt::from_mode(mode)).unwrap();
        if Uid::effective().is_root() {
            let gid = unit
                .get("Service", "Group")
                .map(|g| Group::from_name(&g).unwrap().unwrap().gid);
            nix::unistd::chown(&self.run(), Some(Uid::from_raw(0)), gid).unwrap();
        }
    }

    /// The files left in `run/nut` (empty if the directory does not exist).
    pub fn run_entries(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self.run()) else {
            return Vec::new();
        };
        let mut names: Vec<String> = dir
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// `(mode, uid, gid)` of `run/nut`, if it exists.
    pub fn run_dir_owner(&self) -> Option<(u32, u32, u32)> {
        std::fs::metadata(self.run())
            .ok()
            .map(|m| (m.mode() & 0o7777, m.uid(), m.gid()))
    }
}

/// One unit being run by the test as systemd would run it.
pub struct Service<'a> {
    /// The unit (with drop-ins).
    pub unit: Unit,
    root: &'a Root,
    /// Extra environment (NOTIFY_SOCKET, WATCHDOG_USEC…), applied last.
    pub extra_env: Vec<(String, String)>,
    main: Option<Daemon>,
}

impl<'a> Service<'a> {
    /// Prepare `unit` to run in `root`.
    pub fn new(unit: Unit, root: &'a Root) -> Service<'a> {
        Service {
            unit,
            root,
            extra_env: Vec::new(),
            main: None,
        }
    }

    /// The environment systemd would give the unit's commands.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![(
            "PATH".to_owned(),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned(),
        )];
        for file in self.unit.all("Service", "EnvironmentFile") {
            let (optional, file) = match file.strip_prefix('-') {
                Some(f) => (true, f.to_owned()),
                None => (false, file),
            };
            let mapped = self.root.map(&self.unit.specifiers(&file));
            match read_environment_file(Path::new(&mapped)) {
                Some(vars) => env.extend(vars),
                None if optional => {}
                None => panic!(
                    "{}: EnvironmentFile={file} is required but {mapped} is missing",
                    self.unit.name
                ),
            }
        }
        let assignments: Vec<String> = self
            .unit
            .all("Service", "Environment")
            .iter()
            .map(|v| self.unit.specifiers(v))
            .collect();
        env.extend(
            environment_assignments(&assignments)
                .into_iter()
                .map(|(k, v)| (k, self.root.map(&v))),
        );
        env.extend(self.root.nut_env());
        if self.unit.get("Service", "RuntimeDirectory").is_some() {
            env.push((
                "RUNTIME_DIRECTORY".to_owned(),
                self.root.run().display().to_string(),
            ));
        }
        if let Some(main) = &self.main {
            env.push(("MAINPID".to_owned(), main.pid().to_string()));
        }
        env.extend(self.extra_env.iter().cloned());
        env
    }

    /// The words and environment of `Exec<kind>=` number `index`, expanded as systemd
    /// expands them, programs mapped to the workspace's builds.
    pub fn command_words(&self, key: &str, index: usize) -> (Vec<String>, Vec<(String, String)>) {
        let lines = self.unit.all("Service", key);
        let line = lines
            .get(index)
            .unwrap_or_else(|| panic!("{}: no {key}= number {index}", self.unit.name));
        let parsed = split_command(line);
        let words: Vec<String> = parsed
            .words
            .iter()
            .map(|w| self.unit.specifiers(w))
            .collect();
        let env = self.env();
        let words = expand_env(&words, &env)
            .iter()
            .map(|w| self.root.map(w))
            .collect();
        let env = env.into_iter().filter(|(k, _)| k != "MAINPID").collect();
        (words, env)
    }

    /// The command of `Exec<kind>=` number `index`, ready to spawn.
    pub fn command(&self, key: &str, index: usize) -> Command {
        let (words, env) = self.command_words(key, index);
        self.build(&words, &env)
    }

    /// A command with the unit's process settings: a clean environment, `/` as working
    /// directory, `Group=` (as root), umask 022.
    pub fn build(&self, words: &[String], env: &[(String, String)]) -> Command {
        let mut cmd = Command::new(&words[0]);
        cmd.args(&words[1..])
            .env_clear()
            .envs(env.iter().cloned())
            .current_dir("/");
        let group = self
            .unit
            .get("Service", "Group")
            .filter(|_| Uid::effective().is_root())
            .map(|g| Group::from_name(&g).unwrap().unwrap().gid);
        if let Some(gid) = group {
            cmd.gid(gid.as_raw());
        }
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if group.is_some() {
                    nix::unistd::setgroups(&[]).map_err(std::io::Error::from)?;
                }
                nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
                Ok(())
            });
        }
        cmd
    }

    /// Run every `ExecCondition=`; the exit status of the first that is not 0, or success.
    pub fn condition(&self) -> (ExitStatus, String) {
        let count = self.unit.all("Service", "ExecCondition").len();
        let mut last = (ExitStatus::from_raw(0), String::new());
        for i in 0..count {
            last = run_once(&self.unit.name, self.command("ExecCondition", i));
            if !last.0.success() {
                break;
            }
        }
        last
    }

    /// Check `ExecCondition=`, then start `ExecStart=` as the main process.
    pub fn start(&mut self) -> Daemon {
        let (status, output) = self.condition();
        assert!(
            status.success(),
            "{}: ExecCondition refused to start ({status}): {output}",
            self.unit.name
        );
        let daemon = Daemon::spawn(self.unit.name.clone(), self.command("ExecStart", 0));
        self.main = Some(daemon.clone());
        daemon
    }

    /// Like [`Service::start`], with the watchdog configured (`WatchdogSec=` in a drop-in):
    /// systemd then sets `WATCHDOG_USEC` and `WATCHDOG_PID` (the main PID, known here only
    /// after the fork, so a shell sets it and `exec`s the command: same PID).
    pub fn start_with_watchdog(&mut self, usec: u64) -> Daemon {
        let (words, mut env) = self.command_words("ExecStart", 0);
        env.push(("WATCHDOG_USEC".into(), usec.to_string()));
        let mut wrapped: Vec<String> = [
            "/bin/sh",
            "-c",
            "WATCHDOG_PID=$$; export WATCHDOG_PID; exec \"$@\"",
            "watchdog",
        ]
        .map(str::to_owned)
        .to_vec();
        wrapped.extend(words);
        let (status, output) = self.condition();
        assert!(
            status.success(),
            "{}: ExecCondition: {output}",
            self.unit.name
        );
        let daemon = Daemon::spawn(self.unit.name.clone(), self.build(&wrapped, &env));
        self.main = Some(daemon.clone());
        daemon
    }

    /// The main process.
    pub fn main(&self) -> &Daemon {
        self.main.as_ref().expect("service not started")
    }

    /// Run `ExecReload=` (with `$MAINPID`); its status and output.
    pub fn reload(&self) -> (ExitStatus, String) {
        run_once(&self.unit.name, self.command("ExecReload", 0))
    }

    /// What `systemctl stop` does: SIGTERM to every process of the unit, then wait for the
    /// main process (TimeoutStopSec). Returns its exit status.
    pub fn stop(&self) -> ExitStatus {
        let main = self.main();
        let _ = killpg(Pid::from_raw(main.pid() as i32), Signal::SIGTERM);
        main.wait_exit(TIMEOUT)
    }

    /// A command an administrator would type for `program` (no NOTIFY_SOCKET), with NUT's
    /// paths pointing into the root.
    pub fn admin_command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin(Impl::Ours, program));
        cmd.args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .envs(self.root.nut_env())
            .current_dir("/");
        cmd
    }
}

/// Run a short-lived command to completion (killing its process group after [`TIMEOUT`]);
/// its status and output (stdout, then stderr).
pub fn run_once(label: &str, cmd: Command) -> (ExitStatus, String) {
    let shown = format!("{cmd:?}");
    try_run_once(label, cmd)
        .unwrap_or_else(|| panic!("{label}: {shown} did not finish within {TIMEOUT:?} (killed)"))
}

/// Like [`run_once`], but `None` (after killing its process group) when the command is
/// still running after [`TIMEOUT`].
pub fn try_run_once(label: &str, mut cmd: Command) -> Option<(ExitStatus, String)> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{label}: cannot run {cmd:?}: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(TIMEOUT) {
        Ok(Ok(out)) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            Some((out.status, text))
        }
        Ok(Err(e)) => panic!("{label}: waiting for {cmd:?}: {e}"),
        Err(_) => {
            let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
            // The waiting thread reaps it now that it is dead.
            let _ = rx.recv_timeout(TIMEOUT);
            None
        }
    }
}

/// Whether any process of the group `pgid` is still alive.
pub fn group_alive(pgid: u32) -> bool {
    killpg(Pid::from_raw(pgid as i32), None).is_ok()
}

/// Lines of a daemon's log that look like trouble: errors, warnings, failed file accesses.
pub fn trouble_lines(log: &str) -> Vec<String> {
    const MARKERS: &[&str] = &[
        "error",
        "warning",
        "fatal",
        "fail",
        "no such file",
        "can't",
        "cannot",
        "unable",
        "permission denied",
        "not found",
    ];
    log.lines()
        .filter(|l| {
            let lower = l.to_ascii_lowercase();
            MARKERS.iter().any(|m| lower.contains(m))
        })
        .map(str::to_owned)
        .collect()
}
