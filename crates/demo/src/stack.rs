//! Starting and stopping the real programs: dummy-ups, upsd, upsmon and nut-web, each a separate
//! process talking over real sockets, all confined to one temporary directory.

use std::fs;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::scenario::{Configs, SEQUENCE, UPS};
use crate::web;

/// nut-web's usual port (nut_exporter's); the demo takes another one when it is busy.
const WEB_PORT: u16 = 9199;
/// nut-web's exit code for "address already in use" (EX_UNAVAILABLE).
const WEB_EXIT_ADDR_IN_USE: i32 = 69;

/// One running program.
struct Proc {
    name: &'static str,
    child: Child,
}

/// The whole stack. Dropping it stops every process and removes the directory.
pub struct Stack {
    dir: tempfile::TempDir,
    bin_dir: PathBuf,
    pub port: u16,
    /// Where nut-web serves the status page (127.0.0.1).
    pub web_port: u16,
    procs: Vec<Proc>,
}

impl Stack {
    /// Write the configs and start dummy-ups, upsd, upsmon and nut-web, waiting for each to be
    /// ready.
    pub fn start(bin_dir: &Path) -> Result<Self> {
        for name in ["dummy-ups", "upsd", "upsmon", "upsc", "nut-web"] {
            if !bin_dir.join(name).is_file() {
                bail!(
                    "{} not found next to this program; build everything first: cargo build --release",
                    bin_dir.join(name).display()
                );
            }
        }
        let dir = tempfile::Builder::new().prefix("nut-demo-").tempdir()?;
        let port = free_port()?;
        let mut stack = Self {
            dir,
            bin_dir: bin_dir.to_owned(),
            port,
            web_port: 0,
            procs: Vec::new(),
        };
        stack.write_configs()?;
        stack.spawn("dummy-ups", &["-a", UPS, "-F"])?;
        let socket = stack.path(&format!("dummy-ups-{UPS}"));
        stack.wait_for("dummy-ups to open its socket", |_| socket.exists())?;
        stack.spawn("upsd", &["-F"])?;
        stack.wait_for("upsd to accept connections", |_| {
            TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok()
        })?;
        stack.wait_for("upsd to publish the UPS", |s| {
            s.upsc_var("ups.status").is_some()
        })?;
        stack.spawn("upsmon", &["-F"])?;
        stack.start_web()?;
        Ok(stack)
    }

    /// Start nut-web on 127.0.0.1:9199, or on a free port when that one is taken (also when
    /// it is taken between our check and nut-web's bind), and wait for `/healthz`. Another
    /// demo's nut-web may be answering on 9199 while ours fails to bind, so ready also means
    /// that the JSON API lists our UPS.
    fn start_web(&mut self) -> Result<()> {
        let preferred = TcpListener::bind((Ipv4Addr::LOCALHOST, WEB_PORT)).is_ok();
        let mut candidates = Vec::new();
        if preferred {
            candidates.push(WEB_PORT);
        }
        candidates.push(free_port()?);
        let monitor = format!("{UPS}@127.0.0.1:{}", self.port);
        for port in candidates {
            let listen = format!("127.0.0.1:{port}");
            self.spawn("nut-web", &["-m", &monitor, "-l", &listen])?;
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                if matches!(web::get(port, "/healthz"), Ok((200, _)))
                    && matches!(web::get(port, "/api/v1/upses"),
                                Ok((200, body)) if web::lists(&body, &monitor))
                {
                    self.web_port = port;
                    return Ok(());
                }
                let exited = self
                    .procs
                    .last_mut()
                    .and_then(|p| p.child.try_wait().ok().flatten());
                if let Some(status) = exited {
                    self.procs.pop();
                    if status.code() == Some(WEB_EXIT_ADDR_IN_USE) {
                        break; // someone took the port meanwhile: try the next one
                    }
                    bail!(
                        "nut-web exited ({status}); its log:\n{}",
                        self.log("nut-web")
                    );
                }
                if Instant::now() >= deadline {
                    bail!(
                        "timed out waiting for nut-web's /healthz on {listen}; its log:\n{}",
                        self.log("nut-web")
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        bail!(
            "nut-web found no free port to listen on; its log:\n{}",
            self.log("nut-web")
        )
    }

    /// What nut-web's JSON API reports about the demo UPS, as one line.
    pub fn web_summary(&self) -> String {
        match web::get(self.web_port, "/api/v1/upses") {
            Ok((200, body)) => web::summarize(&body, UPS).unwrap_or_else(|e| format!("{e:#}")),
            Ok((code, body)) => format!("HTTP {code}: {}", body.trim()),
            Err(e) => format!("request failed: {e:#}"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn write_configs(&self) -> Result<()> {
        let dir = self.dir.path().to_str().context("temp dir is not UTF-8")?;
        let c = Configs::new(self.port, dir);
        let files: [(&str, &str, u32); 7] = [
            ("demo.seq", SEQUENCE, 0o644),
            ("ups.conf", &c.ups_conf, 0o640),
            ("upsd.conf", &c.upsd_conf, 0o640),
            ("upsd.users", &c.upsd_users, 0o640),
            ("upsmon.conf", &c.upsmon_conf, 0o640),
            ("notify.sh", &c.notify_script, 0o755),
            ("shutdown.sh", &c.shutdown_script, 0o755),
        ];
        for (name, text, mode) in files {
            let path = self.path(name);
            fs::write(&path, text)?;
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
        }
        fs::write(self.path("events.log"), "")?;
        fs::set_permissions(self.path("events.log"), fs::Permissions::from_mode(0o666))?;
        fs::set_permissions(self.dir.path(), fs::Permissions::from_mode(0o770))?;
        // Run as root, the daemons drop privileges to the `nut` user (as NUT's do): let that
        // user read the configs and create its sockets here.
        if nix::unistd::geteuid().is_root()
            && let Ok(Some(user)) = nix::unistd::User::from_name("nut")
        {
            for entry in fs::read_dir(self.dir.path())? {
                let path = entry?.path();
                std::os::unix::fs::chown(&path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))?;
            }
            std::os::unix::fs::chown(
                self.dir.path(),
                Some(user.uid.as_raw()),
                Some(user.gid.as_raw()),
            )?;
        }
        Ok(())
    }

    fn spawn(&mut self, name: &'static str, args: &[&str]) -> Result<()> {
        let log = fs::File::create(self.path(&format!("{name}.log")))?;
        let child = Command::new(self.bin_dir.join(name))
            .args(args)
            .envs(self.env())
            // The demo's children must not report to a service manager the demo may run under.
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("can't start {name}"))?;
        self.procs.push(Proc { name, child });
        Ok(())
    }

    fn env(&self) -> Vec<(&'static str, PathBuf)> {
        let dir = self.dir.path().to_owned();
        [
            "NUT_CONFPATH",
            "NUT_STATEPATH",
            "NUT_ALTPIDPATH",
            "NUT_PIDPATH",
        ]
        .into_iter()
        .map(|k| (k, dir.clone()))
        .collect()
    }

    fn wait_for(&mut self, what: &str, ready: impl Fn(&Self) -> bool) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if ready(self) {
                return Ok(());
            }
            if let Some(dead) = self.first_exited() {
                bail!(
                    "{dead} exited while waiting for {what}; its log:\n{}",
                    self.log(dead)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("timed out waiting for {what}")
    }

    /// The name of a program that has exited, if any.
    pub fn first_exited(&mut self) -> Option<&'static str> {
        self.procs
            .iter_mut()
            .find_map(|p| matches!(p.child.try_wait(), Ok(Some(_))).then_some(p.name))
    }

    /// Whether `name` is still running.
    pub fn is_running(&mut self, name: &str) -> bool {
        self.procs
            .iter_mut()
            .find(|p| p.name == name)
            .is_some_and(|p| matches!(p.child.try_wait(), Ok(None)))
    }

    /// A program's captured output.
    pub fn log(&self, name: &str) -> String {
        fs::read_to_string(self.path(&format!("{name}.log"))).unwrap_or_default()
    }

    /// Run our `upsc` for every variable of the demo UPS.
    pub fn upsc_all(&self) -> Option<Vec<(String, String)>> {
        let out = Command::new(self.bin_dir.join("upsc"))
            .arg(format!("{UPS}@127.0.0.1:{}", self.port))
            .stderr(Stdio::null())
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&out.stdout);
        Some(
            text.lines()
                .filter_map(|l| l.split_once(": "))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    fn upsc_var(&self, var: &str) -> Option<String> {
        self.upsc_all()?
            .into_iter()
            .find(|(k, _)| k == var)
            .map(|(_, v)| v)
    }

    /// Stop every process (newest first): SIGTERM, then SIGKILL after a grace period.
    /// Returns the programs that had to be killed.
    pub fn stop(&mut self) -> Vec<&'static str> {
        let mut killed = Vec::new();
        while let Some(mut p) = self.procs.pop() {
            if matches!(p.child.try_wait(), Ok(Some(_))) {
                continue;
            }
            let pid = Pid::from_raw(p.child.id() as i32);
            let _ = kill(pid, Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && matches!(p.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            if matches!(p.child.try_wait(), Ok(None)) {
                let _ = p.child.kill();
                let _ = p.child.wait();
                killed.push(p.name);
            }
        }
        killed
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}
