//! Shared by systemd_*.rs and daemon_*.rs: the test acts as systemd for nut-rs's units
//! (packaging/systemd), reading every flag, environment and directory setting from the unit
//! files themselves. See docs/systemd.md.

pub mod service;
pub mod unit;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use nut_harness::{Impl, Stack, StackBuilder, bin, free_port};

use nut_harness::notify::NotifySocket;
use service::{Root, Service, run_once};
use unit::Unit;

/// The UPS every scenario serves.
pub const UPS: &str = "ups-1";
/// Its systemd instance name (`systemd-escape ups-1`).
pub const UPS_INSTANCE: &str = "ups\\x2d1";
/// What the dummy device reports.
pub const DEV: &str = "ups.status: OL\nbattery.charge: 100\nups.mfr: nut-rs tests\n";

/// The daemons that have units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// upsd, nut-server.service.
    Server,
    /// upsmon, nut-monitor.service.
    Monitor,
    /// dummy-ups, nut-driver@ups\x2d1.service.
    Driver,
    /// upslog, nut-logger.service.
    Logger,
}

impl Kind {
    /// The program the unit runs.
    pub fn program(self) -> &'static str {
        match self {
            Kind::Server => "upsd",
            Kind::Monitor => "upsmon",
            Kind::Driver => "dummy-ups",
            Kind::Logger => "upslog",
        }
    }

    /// Its PID file in the runtime directory.
    pub fn pid_file(self) -> String {
        match self {
            Kind::Driver => format!("dummy-ups-{UPS}.pid"),
            other => format!("{}.pid", other.program()),
        }
    }

    /// The files the daemon owns in the runtime directory while it runs (all must be gone
    /// after it stops).
    pub fn runtime_files(self) -> Vec<String> {
        let mut files = vec![self.pid_file()];
        if self == Kind::Driver {
            files.push(format!("dummy-ups-{UPS}"));
        }
        files
    }
}

/// A root with the configuration for one daemon, and what it needs around it (an upsd to
/// talk to, for upsmon and upslog: Debian's, as a reference peer).
pub struct Scenario {
    /// Which daemon.
    pub kind: Kind,
    /// The temp root.
    pub root: Root,
    /// upsd's port in this root's upsd.conf (nut-server).
    pub port: u16,
    /// Debian's upsd + dummy-ups serving `UPS`, for the clients (upsmon, upslog); held so
    /// that it runs as long as the scenario.
    pub _peer: Option<Stack>,
    /// The driver unit's drop-in directory made by the generator.
    pub generated: Option<PathBuf>,
}

impl Scenario {
    /// Write the configuration for `kind` into a new root (`run/nut` not created).
    pub fn new(kind: Kind) -> Scenario {
        let root = Root::new();
        let port = free_port();
        root.write_conf("nut.conf", "MODE=standalone\n");
        root.write_conf(
            "ups.conf",
            &format!(
                "[{UPS}]\n\tdriver = dummy-ups\n\tport = dummy.dev\n\tdesc = \"systemd test\"\n"
            ),
        );
        root.write_conf("dummy.dev", DEV);
        root.write_conf("upsd.conf", &format!("LISTEN 127.0.0.1 {port}\n"));
        root.write_conf(
            "upsd.users",
            "[admin]\n\tpassword = adminpass\n\tupsmon primary\n",
        );
        let peer = matches!(kind, Kind::Monitor | Kind::Logger).then(|| {
            StackBuilder::new()
                .upsd(Impl::Debian)
                .driver(Impl::Debian)
                .dummy(UPS, "dummy.dev", DEV)
                .start()
        });
        if let Some(stack) = &peer {
            root.write_conf(
                "upsmon.conf",
                &format!(
                    "MONITOR {} 1 admin adminpass primary\n\
                     MINSUPPLIES 1\n\
                     SHUTDOWNCMD \"/bin/false\"\n\
                     POLLFREQ 2\n\
                     POWERDOWNFLAG {}\n",
                    stack.ups_id(UPS),
                    root.path().join("killpower").display()
                ),
            );
            // The log file lives where the unit's LogsDirectory=nut puts it (root:nut 0770),
            // so upslog can reopen it after dropping privileges.
            let logs = root.path().join("log/nut");
            std::fs::create_dir_all(&logs).unwrap();
            std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o770)).unwrap();
            if let Some(gid) = service::nut_group() {
                nix::unistd::chown(&logs, Some(nix::unistd::Uid::from_raw(0)), Some(gid)).unwrap();
            }
            root.write_conf(
                "upslog.conf",
                &format!(
                    "UPSLOG_ARGS=\"-s {} -l {} -i 1\"\n",
                    stack.ups_id(UPS),
                    logs.join("ups.log").display()
                ),
            );
        }
        let mut scenario = Scenario {
            kind,
            root,
            port,
            _peer: peer,
            generated: None,
        };
        if kind == Kind::Driver {
            scenario.generate();
        }
        scenario
    }

    /// Run the generator (`nut-systemd generate`) on this root's ups.conf.
    fn generate(&mut self) {
        let out = self.root.path().join("generator");
        let mut cmd = Command::new(bin(Impl::Ours, "nut-systemd"));
        cmd.arg("generate")
            .arg(&out)
            .env("NUT_CONFPATH", self.root.etc());
        let (status, output) = run_once("nut-driver-generator", cmd);
        assert!(status.success(), "generator failed ({status}): {output}");
        self.generated = Some(out);
    }

    /// The unit, as systemd would load it (for the driver: the template instance for `UPS`
    /// plus the generator's drop-in).
    pub fn unit(&self) -> Unit {
        match self.kind {
            Kind::Server => Unit::load("nut-server.service"),
            Kind::Monitor => Unit::load("nut-monitor.service"),
            Kind::Logger => Unit::load("nut-logger.service"),
            Kind::Driver => {
                let out = self.generated.as_ref().expect("generated");
                let name = format!("nut-driver@{UPS_INSTANCE}.service");
                let link = out.join("nut-driver.target.wants").join(&name);
                assert!(
                    link.symlink_metadata().is_ok(),
                    "the generator did not add {name} to nut-driver.target"
                );
                let mut unit = Unit::load_instance("nut-driver@.service", UPS_INSTANCE, UPS);
                unit.add_drop_in(&out.join(format!("{name}.d/50-nut-driver.conf")));
                unit
            }
        }
    }

    /// The service, ready to start.
    pub fn service(&self) -> Service<'_> {
        Service::new(self.unit(), &self.root)
    }

    /// The service with `NOTIFY_SOCKET` set.
    pub fn notified_service(&self, socket: &NotifySocket) -> Service<'_> {
        let mut service = self.service();
        service
            .extra_env
            .push(("NOTIFY_SOCKET".into(), socket.path().display().to_string()));
        service
    }

    /// Start Debian's dummy-ups for `UPS` in this root (the data source of our upsd).
    pub fn start_reference_driver(&self) -> nut_harness::Daemon {
        let mut cmd = Command::new(bin(Impl::Debian, "dummy-ups"));
        cmd.args(["-a", UPS, "-F"])
            .env_clear()
            .envs(self.root.nut_env())
            .current_dir(self.root.etc());
        let daemon = nut_harness::Daemon::spawn("dummy-ups (debian)", cmd);
        let socket = self.root.run().join(format!("dummy-ups-{UPS}"));
        nut_harness::wait_until("Debian's dummy-ups socket", service::TIMEOUT, || {
            socket.exists().then_some(())
        });
        daemon
    }

    /// Ask our upsd (nut-server scenario) for `ups.status`.
    pub fn upsd_status(&self) -> Option<String> {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        let mut conn = nut_harness::Conn::try_connect(addr).ok()?;
        conn.send_line(&format!("GET VAR {UPS} ups.status"));
        conn.try_read_line().ok().flatten()
    }
}
