//! The stack: config files in a temp dir, dummy-ups drivers, upsd, and any other
//! daemon a test adds (upsmon, upslog, …).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::config::{self, Section, SectionDriver};
use crate::{Conn, Daemon, Impl, STARTUP_TIMEOUT, bin, free_port, wait_until};

/// Describes a stack; [`StackBuilder::start`] brings it up.
#[derive(Debug, Clone, Default)]
pub struct StackBuilder {
    upsd: Option<Impl>,
    no_upsd: bool,
    driver: Option<Impl>,
    sections: Vec<Section>,
    ups_conf_global: String,
    ups_conf_tail: Vec<u8>,
    upsd_conf: String,
    upsd_users: Option<String>,
    files: Vec<(String, Vec<u8>, bool)>,
    env: Vec<(String, String)>,
    upsd_args: Vec<String>,
    driver_args: Vec<String>,
}

impl StackBuilder {
    /// An empty description: no UPS, no implementation chosen yet.
    pub fn new() -> StackBuilder {
        StackBuilder::default()
    }

    /// Which upsd to run (required unless [`StackBuilder::no_upsd`]).
    pub fn upsd(mut self, which: Impl) -> Self {
        self.upsd = Some(which);
        self
    }

    /// Run no upsd at all (driver-only tests). [`Stack::start_upsd`] can still start one
    /// later if [`StackBuilder::upsd`] was also given.
    pub fn no_upsd(mut self) -> Self {
        self.no_upsd = true;
        self
    }

    /// Which dummy-ups to run (required when there is a [`StackBuilder::dummy`]).
    pub fn driver(mut self, which: Impl) -> Self {
        self.driver = Some(which);
        self
    }

    /// Adds a `[name]` section with `driver = dummy-ups` and `port = <dev_file_name>`,
    /// and writes `dev_contents` to that file in the stack dir. The harness starts a
    /// driver for it.
    pub fn dummy(mut self, name: &str, dev_file_name: &str, dev_contents: &str) -> Self {
        self.section_mut(name).driver = Some(SectionDriver {
            program: "dummy-ups".to_owned(),
            port: dev_file_name.to_owned(),
            quote_port: false,
            which: None,
        });
        self.file(dev_file_name, dev_contents)
    }

    /// Adds a `[name]` section with `driver = <program>` and `port = "<port>"` (e.g. a
    /// hardware driver such as `nutdrv_qx` on a simulator's pty) and has the harness
    /// start `program` of `which` for it, like a dummy. Further ups.conf keys go through
    /// [`StackBuilder::ups_section`]. Debian's drivers come from `/lib/nut/<program>`,
    /// ours from the workspace's target dir (see [`crate::bin`]).
    pub fn device(mut self, name: &str, which: Impl, program: &str, port: &str) -> Self {
        self.section_mut(name).driver = Some(SectionDriver {
            program: program.to_owned(),
            port: port.to_owned(),
            quote_port: true,
            which: Some(which),
        });
        self
    }

    /// Appends raw lines (e.g. `desc = "x"`) to section `name`, creating the section
    /// if needed. A section without [`StackBuilder::dummy`] or [`StackBuilder::device`]
    /// gets no driver started.
    pub fn ups_section(mut self, name: &str, extra_lines: &str) -> Self {
        let section = self.section_mut(name);
        section.extra.push_str(extra_lines);
        if !section.extra.ends_with('\n') {
            section.extra.push('\n');
        }
        self
    }

    /// Raw lines for the global part of ups.conf (before the first section).
    pub fn ups_conf_global(mut self, text: &str) -> Self {
        self.ups_conf_global.push_str(text);
        self.ups_conf_global.push('\n');
        self
    }

    /// Bytes appended verbatim at the very end of ups.conf, after every generated section
    /// (for config-parsing tests: no indentation or newline is added).
    pub fn ups_conf_append(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.ups_conf_tail.extend_from_slice(bytes.as_ref());
        self
    }

    /// Raw lines appended to upsd.conf after the generated `LISTEN 127.0.0.1 <port>`.
    pub fn upsd_conf(mut self, extra: &str) -> Self {
        self.upsd_conf.push_str(extra);
        self.upsd_conf.push('\n');
        self
    }

    /// The whole upsd.users text. Default: `admin`/`adminpass` (actions SET FSD,
    /// instcmds ALL, upsmon primary) and `monuser`/`monpass` (upsmon secondary).
    pub fn upsd_users(mut self, text: &str) -> Self {
        self.upsd_users = Some(text.to_owned());
        self
    }

    /// Any other file to write in the stack dir (name may contain `/`). Not ups.conf,
    /// upsd.conf or upsd.users: the harness generates those (see the dedicated methods).
    pub fn file(mut self, name: &str, contents: impl AsRef<[u8]>) -> Self {
        assert!(
            !matches!(name, "ups.conf" | "upsd.conf" | "upsd.users"),
            "nut-harness: {name} is generated; use .ups_section/.ups_conf_global/.upsd_conf/\
             .upsd_users, or Stack::write_file after start"
        );
        self.files
            .push((name.to_owned(), contents.as_ref().to_owned(), false));
        self
    }

    /// Like [`StackBuilder::file`] but executable (NOTIFYCMD, SHUTDOWNCMD, CMDSCRIPT…).
    pub fn executable(mut self, name: &str, contents: impl AsRef<[u8]>) -> Self {
        self.files
            .push((name.to_owned(), contents.as_ref().to_owned(), true));
        self
    }

    /// Extra command-line arguments for upsd, after `-F` (e.g. `-D`, `-4`).
    pub fn upsd_args(mut self, args: &[&str]) -> Self {
        self.upsd_args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    /// Extra command-line arguments for every driver the harness starts, after
    /// `-F -a <name>`.
    pub fn driver_args(mut self, args: &[&str]) -> Self {
        self.driver_args
            .extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    /// An extra environment variable for every daemon and [`Stack::command`].
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    fn section_mut(&mut self, name: &str) -> &mut Section {
        let index = match self.sections.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                self.sections.push(Section::new(name));
                self.sections.len() - 1
            }
        };
        &mut self.sections[index]
    }

    /// Writes the config files, starts every driver (waiting for its socket), then upsd
    /// (waiting for the port and for every driven UPS to have published its data).
    pub fn start(self) -> Stack {
        let has_dummies = self
            .sections
            .iter()
            .any(|s| s.driver.as_ref().is_some_and(|d| d.which.is_none()));
        let driver = match (self.driver, has_dummies) {
            (Some(d), _) => d,
            (None, false) => Impl::Ours,
            (None, true) => {
                panic!("nut-harness: StackBuilder has dummy UPSes but no .driver(Impl)")
            }
        };
        assert!(
            self.upsd.is_some() || self.no_upsd,
            "nut-harness: StackBuilder needs .upsd(Impl) (or .no_upsd())"
        );
        let dir = tempfile::Builder::new()
            .prefix("nut-harness-")
            .tempdir()
            .expect("nut-harness: cannot create a temp dir");
        config::prepare_dir(dir.path());
        let port = free_port();
        for (name, contents, executable) in &self.files {
            config::write_file(dir.path(), name, contents);
            if *executable {
                config::make_executable(&dir.path().join(name));
            }
        }
        let mut ups_conf =
            config::render_ups_conf(&self.ups_conf_global, &self.sections).into_bytes();
        ups_conf.extend_from_slice(&self.ups_conf_tail);
        config::write_file(dir.path(), "ups.conf", &ups_conf);
        let users = self.upsd_users.as_deref().unwrap_or(config::DEFAULT_USERS);
        config::write_file(dir.path(), "upsd.users", users.as_bytes());

        let mut stack = Stack {
            dir,
            port,
            upsd_impl: self.upsd,
            driver_impl: driver,
            sections: self.sections,
            env: self.env,
            upsd_conf_extra: self.upsd_conf,
            upsd_args: self.upsd_args,
            driver_args: self.driver_args,
            upsd: None,
            upsd_starts: 0,
            drivers: BTreeMap::new(),
            all: Vec::new(),
            private_runs: AtomicUsize::new(0),
        };
        stack.write_upsd_conf();
        let names: Vec<String> = stack.driven_upses().map(str::to_owned).collect();
        for name in &names {
            stack.start_driver(name);
        }
        if !self.no_upsd {
            stack.start_upsd_inner(true);
        }
        stack
    }
}

/// A running stack. Dropping it kills every process it started and removes the temp
/// dir; if the test is failing (panicking), every daemon's output is printed first.
pub struct Stack {
    dir: tempfile::TempDir,
    port: u16,
    upsd_impl: Option<Impl>,
    driver_impl: Impl,
    sections: Vec<Section>,
    env: Vec<(String, String)>,
    upsd_conf_extra: String,
    upsd_args: Vec<String>,
    driver_args: Vec<String>,
    upsd: Option<Daemon>,
    upsd_starts: usize,
    drivers: BTreeMap<String, Daemon>,
    /// Everything ever started, in order, for logs and cleanup.
    all: Vec<Daemon>,
    /// Counter for [`Stack::with_private_run_nut`] directories.
    private_runs: AtomicUsize,
}

impl Stack {
    /// The temp dir holding configs, sockets and PID files (NUT_CONFPATH = NUT_STATEPATH).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// upsd's TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// upsd's address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port))
    }

    /// `"<name>@127.0.0.1:<port>"`, as clients and upsmon.conf MONITOR lines want it.
    pub fn ups_id(&self, name: &str) -> String {
        format!("{name}@127.0.0.1:{}", self.port)
    }

    /// The environment every daemon gets: NUT_CONFPATH, NUT_STATEPATH, NUT_ALTPIDPATH
    /// (all the stack dir), then the builder's `.env()` pairs.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let dir = self.dir().to_string_lossy().into_owned();
        let mut vars: Vec<(String, String)> = ["NUT_CONFPATH", "NUT_STATEPATH", "NUT_ALTPIDPATH"]
            .iter()
            .map(|k| ((*k).to_owned(), dir.clone()))
            .collect();
        vars.extend(self.env.iter().cloned());
        vars
    }

    /// A command for program `name` of `which`, with [`Stack::env_vars`] set and the
    /// stack dir as working directory. Handy for clients: `upsc`, `upsrw`, …
    pub fn command(&self, which: Impl, name: &str) -> Command {
        let mut cmd = Command::new(bin(which, name));
        cmd.envs(self.env_vars()).current_dir(self.dir());
        cmd
    }

    /// Writes (or overwrites) a file in the stack dir, readable by the daemons.
    pub fn write_file(&self, name: &str, contents: impl AsRef<[u8]>) {
        config::write_file(self.dir(), name, contents.as_ref());
    }

    /// Writes an executable file (mode 0750) in the stack dir.
    pub fn write_executable(&self, name: &str, contents: impl AsRef<[u8]>) {
        self.write_file(name, contents);
        config::make_executable(&self.dir().join(name));
    }

    /// A fresh raw protocol connection to upsd.
    pub fn conn(&self) -> Conn {
        Conn::connect(self.addr())
    }

    /// Path of the driver socket of UPS `name` (`<dir>/<driver>-<name>`, e.g.
    /// `dummy-ups-<name>`). A UPS the harness does not drive is taken as dummy-ups.
    pub fn driver_socket(&self, name: &str) -> PathBuf {
        let program = self
            .section_driver(name)
            .map_or("dummy-ups", |d| d.program.as_str());
        self.dir().join(format!("{program}-{name}"))
    }

    fn section_driver(&self, name: &str) -> Option<&SectionDriver> {
        self.sections
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.driver.as_ref())
    }

    /// The running upsd, if any.
    pub fn upsd_daemon(&self) -> Option<&Daemon> {
        self.upsd.as_ref()
    }

    /// The running driver of UPS `name`, if any.
    pub fn driver_daemon(&self, name: &str) -> Option<&Daemon> {
        self.drivers.get(name)
    }

    fn driven_upses(&self) -> impl Iterator<Item = &str> {
        self.sections
            .iter()
            .filter(|s| s.driver.is_some())
            .map(|s| s.name.as_str())
    }

    /// Starts `cmd` with the stack's environment and working directory, except where
    /// the caller already set them, and records it for logs and cleanup.
    fn track(&mut self, label: String, mut cmd: Command) -> Daemon {
        for (key, value) in self.env_vars() {
            if !cmd.get_envs().any(|(k, _)| k == key.as_str()) {
                cmd.env(key, value);
            }
        }
        if cmd.get_current_dir().is_none() {
            cmd.current_dir(self.dir());
        }
        let daemon = Daemon::spawn(label, cmd);
        self.all.push(daemon.clone());
        daemon
    }

    /// Kills (SIGKILL) the driver of UPS `name` and reaps it. Its socket file stays
    /// behind, as after a crash.
    pub fn kill_driver(&mut self, name: &str) {
        let daemon = self
            .drivers
            .remove(name)
            .unwrap_or_else(|| panic!("nut-harness: no running driver for UPS {name:?}"));
        daemon.kill();
    }

    /// Starts the driver of UPS `name` (foreground, `-a name`) and waits for its
    /// socket. Does not wait for upsd to pick it up: see [`Stack::wait_ups_ready`].
    pub fn start_driver(&mut self, name: &str) {
        let driver = self.section_driver(name).cloned().unwrap_or_else(|| {
            panic!("nut-harness: UPS {name:?} is not a .dummy() or .device() of this stack")
        });
        assert!(
            !self.drivers.contains_key(name),
            "nut-harness: the driver of {name:?} is already running"
        );
        let socket = self.driver_socket(name);
        // A killed driver leaves its socket behind; waiting for the file must see the
        // new one.
        let _ = std::fs::remove_file(&socket);
        let which = driver.which.unwrap_or(self.driver_impl);
        let program = driver.program;
        let mut cmd = Command::new(bin(which, &program));
        cmd.args(["-F", "-a", name]).args(&self.driver_args);
        let daemon = self.track(format!("{program}[{name}] ({which})"), cmd);
        wait_until(
            &format!("driver socket {}", socket.display()),
            STARTUP_TIMEOUT,
            || {
                if socket.exists() {
                    return Some(());
                }
                exited_early(&daemon);
                None
            },
        );
        self.drivers.insert(name.to_owned(), daemon);
    }

    /// Starts upsd (foreground, `-F`) and waits until it accepts connections and every
    /// UPS whose driver is running has published its data.
    pub fn start_upsd(&mut self) {
        self.start_upsd_inner(false);
    }

    /// `may_move`: on the very first start, the free port may have been taken by someone
    /// else in the meantime; then pick another one and rewrite upsd.conf.
    fn start_upsd_inner(&mut self, may_move: bool) {
        assert!(self.upsd.is_none(), "nut-harness: upsd is already running");
        let attempts = if may_move { 3 } else { 1 };
        for attempt in 1..=attempts {
            match self.launch_upsd() {
                Ok(daemon) => {
                    self.upsd = Some(daemon);
                    break;
                }
                Err(daemon) => {
                    let stolen =
                        TcpStream::connect_timeout(&self.addr(), Duration::from_secs(1)).is_ok();
                    if !(stolen && attempt < attempts) {
                        exited_early(&daemon);
                    }
                    self.port = free_port();
                    self.write_upsd_conf();
                }
            }
        }
        let names: Vec<String> = self.drivers.keys().cloned().collect();
        for name in names {
            self.wait_ups_ready(&name);
        }
    }

    /// Starts upsd and waits for its port; `Err` if it exited before listening.
    fn launch_upsd(&mut self) -> Result<Daemon, Daemon> {
        let which = self
            .upsd_impl
            .expect("nut-harness: this stack has no .upsd(Impl)");
        self.upsd_starts += 1;
        let mut cmd = Command::new(bin(which, "upsd"));
        cmd.arg("-F").args(&self.upsd_args);
        let label = format!("upsd#{} ({which})", self.upsd_starts);
        let daemon = self.track(label, cmd);
        let addr = self.addr();
        // upsd binds its listeners before it reads ups.conf and upsd.users, so a port that
        // accepts connections does not yet mean a serving upsd: wait for an answer to VER,
        // which comes only from the main loop (a upsd that dies on a bad config closes it).
        let listening = wait_until(
            &format!("upsd to answer on {addr}"),
            STARTUP_TIMEOUT,
            || {
                if daemon.try_wait().is_some() {
                    return Some(false);
                }
                answers_ver(addr).then_some(true)
            },
        );
        // Someone else may be answering on the port while our upsd died.
        if listening && daemon.try_wait().is_none() {
            Ok(daemon)
        } else {
            Err(daemon)
        }
    }

    fn write_upsd_conf(&self) {
        let text = config::render_upsd_conf(self.port, &self.upsd_conf_extra);
        config::write_file(self.dir(), "upsd.conf", text.as_bytes());
    }

    /// Kills upsd (SIGKILL) and reaps it.
    pub fn stop_upsd(&mut self) {
        let daemon = self.upsd.take().expect("nut-harness: upsd is not running");
        daemon.kill();
    }

    /// [`Stack::stop_upsd`] then [`Stack::start_upsd`] (same port, same configs).
    pub fn restart_upsd(&mut self) {
        self.stop_upsd();
        self.start_upsd();
    }

    /// Waits until upsd serves data for UPS `name`: `GET VAR <name> ups.status`
    /// answers `VAR …` (or `ERR VAR-NOT-SUPPORTED` for a device without a status) rather
    /// than `ERR DRIVER-NOT-CONNECTED` / `ERR DATA-STALE` or upsd's placeholder `"WAIT"`.
    pub fn wait_ups_ready(&self, name: &str) {
        let request = format!("GET VAR {name} ups.status");
        let upsd = self.upsd.clone();
        let mut conn: Option<Conn> = None;
        let mut last = String::new();
        let ready = crate::poll_until(STARTUP_TIMEOUT, || {
            if let Some(upsd) = &upsd {
                exited_early(upsd);
            }
            let c = match conn.as_mut() {
                Some(c) => c,
                None => conn.insert(Conn::try_connect(self.addr()).ok()?),
            };
            c.send_line(&request);
            match c.try_read_line() {
                Ok(Some(reply)) => {
                    // upsd shows a placeholder status "WAIT" until the driver's dump.
                    let placeholder = reply.ends_with(" ups.status \"WAIT\"");
                    if (reply.starts_with("VAR ") && !placeholder)
                        || reply == "ERR VAR-NOT-SUPPORTED"
                    {
                        return Some(());
                    }
                    last = reply;
                }
                _ => conn = None,
            }
            None
        });
        if ready.is_none() {
            panic!(
                "nut-harness: UPS {name:?} never became ready (last reply to {request:?}: \
                 {last:?}); logs:\n{}",
                self.logs()
            );
        }
    }

    /// Starts upsmon (foreground, `-F`) of `which` after writing `conf_text` to
    /// upsmon.conf in the stack dir, with a private /run/nut (see
    /// [`Stack::with_private_run_nut`]) so that upsmons of parallel tests do not see each
    /// other's PID files.
    pub fn upsmon(&mut self, which: Impl, conf_text: &str) -> Daemon {
        self.write_file("upsmon.conf", conf_text);
        let mut cmd = Command::new(bin(which, "upsmon"));
        cmd.arg("-F");
        let cmd = self.with_private_run_nut(cmd);
        self.track(format!("upsmon ({which})"), cmd)
    }

    /// Wraps `cmd` so that it sees a fresh `<stack dir>/run-nut-<n>` as /run/nut, in a
    /// private mount namespace (`unshare --mount`; the program keeps its pid). Debian
    /// 2.8.0's upsmon and upslog write their PID files to /run/nut whatever the environment
    /// says, and refuse to start while the PID in there is alive. Without root (no mount
    /// namespaces) `cmd` is returned unchanged and /run/nut is shared.
    pub fn with_private_run_nut(&self, cmd: Command) -> Command {
        if !nix::unistd::Uid::effective().is_root() {
            return cmd;
        }
        config::ensure_run_nut();
        let n = self.private_runs.fetch_add(1, Ordering::Relaxed);
        let run_dir = self.dir().join(format!("run-nut-{n}"));
        config::make_dir(&run_dir);
        let mut wrapped = Command::new("unshare");
        wrapped
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg(r#"mount --bind "$0" /run/nut && exec "$@""#)
            .arg(&run_dir)
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (key, value) in cmd.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            wrapped.current_dir(dir);
        }
        wrapped
    }

    /// Starts any other program with the stack's environment and working directory,
    /// tracked for logs and cleanup. Label: the program's file name.
    pub fn spawn(&mut self, cmd: Command) -> Daemon {
        let label = Path::new(cmd.get_program())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "program".to_owned());
        self.track(label, cmd)
    }

    /// [`Stack::spawn`] with an explicit label for the logs (e.g. `"upslog (debian)"`).
    pub fn spawn_as(&mut self, label: &str, cmd: Command) -> Daemon {
        self.track(label.to_owned(), cmd)
    }

    /// Every daemon's captured output so far, each under a `===== label =====` header,
    /// in start order.
    pub fn logs(&self) -> String {
        self.all
            .iter()
            .map(Daemon::labelled_output)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Panics with the daemon's output if it already exited (so a bad config fails fast
/// with a useful message instead of a timeout).
fn exited_early(daemon: &Daemon) {
    if let Some(status) = daemon.try_wait() {
        panic!(
            "nut-harness: {} exited early ({status}); output:\n{}",
            daemon.label(),
            daemon.output_so_far()
        );
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for daemon in &self.all {
            daemon.kill();
        }
        if std::thread::panicking() {
            eprintln!(
                "----- nut-harness: logs of the stack in {} (port {}) -----\n{}\n----- end of logs -----",
                self.dir().display(),
                self.port,
                self.logs()
            );
        }
    }
}

/// Whether a NUT server on `addr` answers `VER` (without panicking on a connection that a
/// dying server resets).
fn answers_ver(addr: SocketAddr) -> bool {
    use std::io::{BufRead, BufReader, Write};
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    if stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .is_err()
        || stream.write_all(b"VER\n").is_err()
    {
        return false;
    }
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply).is_ok() && reply.starts_with("Network UPS Tools")
}
