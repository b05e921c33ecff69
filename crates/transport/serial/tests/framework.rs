//! The framework's failure semantics end to end over a real pty: a minimal Q1-style driver
//! on `SerialPort`, driven by `nut_driver::Device`, against a scripted device that answers,
//! goes silent, sends garbage, and answers again.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use nix::pty::openpty;
use nut_driver::{Device, Driver, DriverConfig, DriverError, DriverInfo, State};
use nut_serial::{Reply, SerialConfig, SerialPort, Timeouts};

/// How long the driver waits for a reply: the silent steps cost this much each, and an
/// answering device (a thread) must make it even on a loaded machine.
struct MiniQ1 {
    wait: Duration,
}

impl Driver for MiniQ1 {
    type Transport = SerialPort;

    async fn init_info(
        &mut self,
        _: &mut SerialPort,
        state: &mut State,
    ) -> Result<(), DriverError> {
        state.set_info("ups.mfr", "Test");
        Ok(())
    }

    async fn update_info(
        &mut self,
        io: &mut SerialPort,
        _now: Instant,
        state: &mut State,
    ) -> Result<(), DriverError> {
        let mut r = Vec::new();
        io.query(
            b"Q1\r",
            Reply::line(b'\r', 128),
            Timeouts::within(self.wait),
            &mut r,
        )?;
        let text = String::from_utf8_lossy(&r);
        let bits = text
            .strip_prefix('(')
            .and_then(|t| t.split(' ').nth(7))
            .filter(|b| b.len() == 8)
            .ok_or_else(|| DriverError::Protocol(format!("bad Q1 reply: {text:?}")))?;
        state.status_init();
        state.status_set(if bits.starts_with('1') { "OB" } else { "OL" });
        state.status_commit();
        Ok(())
    }
}

static INFO: DriverInfo = DriverInfo {
    name: "miniq1",
    description: "test",
    version: "0",
    vars: &[],
};

fn config(port: &str) -> DriverConfig {
    let args: Vec<String> = ["-s", "ups", "-x", &format!("port={port}")]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let cli = nut_driver::cli::parse("miniq1", &args).expect("cli");
    nut_driver::config::build(&INFO, &cli, None).expect("config")
}

/// What the device does with each request.
#[derive(Clone, Copy)]
enum Act {
    Answer(&'static [u8]),
    Silent,
}

const OL: &[u8] = b"(230.0 230.0 230.0 012 50.0 13.6 25.0 00001001\r";
const OB: &[u8] = b"(000.0 000.0 230.0 012 50.0 12.1 25.0 10001001\r";

#[test]
fn silence_makes_the_data_stale_on_the_fifth_poll_and_an_answer_recovers_it() {
    let p = openpty(None, None).expect("openpty");
    let path = nix::unistd::ttyname(&p.slave).unwrap();
    let path = path.to_string_lossy().into_owned();
    let mut master = File::from(p.master);
    let script: Vec<Act> = [Act::Answer(OL)]
        .into_iter()
        .chain([Act::Silent; 3])
        .chain([Act::Answer(b"(garbage\r")])
        .chain([Act::Silent; 2])
        .chain([Act::Answer(OB)])
        .collect();
    let polls = script.len();
    let device = std::thread::spawn(move || {
        for act in script {
            let mut b = [0u8; 1];
            let mut req = Vec::new();
            while master.read_exact(&mut b).is_ok() && b[0] != b'\r' {
                req.push(b[0]);
            }
            assert_eq!(req, b"Q1");
            if let Act::Answer(bytes) = act {
                master.write_all(bytes).unwrap();
            }
        }
        master
    });
    let cfg = config(&path);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut seen = Vec::new();
    rt.block_on(async {
        let port = SerialPort::new(SerialConfig::from_driver(&cfg, 2400));
        let mut dev = Device::new(
            MiniQ1 {
                wait: Duration::from_secs(2),
            },
            port,
            &cfg,
        );
        dev.init().await.expect("init");
        for _ in 0..polls {
            dev.poll(Instant::now()).await;
            let tree = dev.state().tree();
            seen.push((
                tree.is_stale(),
                dev.state().get("ups.status").unwrap_or("").to_owned(),
            ));
        }
        assert!(
            !dev.is_lost(),
            "timeouts and garbage do not reopen the port"
        );
    });
    let _master = device.join().expect("device script");
    let stale: Vec<bool> = seen.iter().map(|(s, _)| *s).collect();
    // Good, 4 failures (3 silent + garbage) still fresh, the 5th and 6th failure stale,
    // then fresh again with the new status.
    assert_eq!(
        stale,
        [false, false, false, false, false, true, true, false],
        "{seen:?}"
    );
    assert_eq!(seen[0].1, "OL");
    assert_eq!(seen[7].1, "OB");
}

/// A device that answers each `Q1` request with `reply`, `count` times, then returns its end.
fn answering(
    mut master: File,
    reply: &'static [u8],
    count: usize,
) -> std::thread::JoinHandle<File> {
    std::thread::spawn(move || {
        for _ in 0..count {
            let mut b = [0u8; 1];
            while master.read_exact(&mut b).is_ok() && b[0] != b'\r' {}
            master.write_all(reply).unwrap();
        }
        master
    })
}

/// The port vanishes (a USB-serial adapter unplugged: its device node goes away) and comes
/// back as another tty behind the same path: the framework closes the port, marks the data
/// stale, reports `reconnect.trying`, reopens the path when due and polls at once.
#[test]
fn a_vanished_port_is_reopened_when_it_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyUPS");
    let first = openpty(None, None).expect("openpty");
    std::os::unix::fs::symlink(nix::unistd::ttyname(&first.slave).unwrap(), &link).unwrap();
    // The slave end stays open until the unplug: with no slave open, the device thread's read
    // of the master fails at once (EIO) and its answer would be written before the driver
    // opened the port, then discarded (a race that made the first poll time out).
    let first_slave = first.slave;
    let dev1 = answering(File::from(first.master), OL, 1);
    let cfg = config(link.to_str().unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let port = SerialPort::new(SerialConfig::from_driver(&cfg, 2400));
        let mut dev = Device::new(
            MiniQ1 {
                wait: Duration::from_secs(10),
            },
            port,
            &cfg,
        );
        dev.init().await.expect("init");
        dev.poll(Instant::now()).await;
        assert_eq!(dev.state().get("ups.status"), Some("OL"));
        // Unplugged.
        drop(dev1.join().unwrap());
        drop(first_slave);
        std::fs::remove_file(&link).unwrap();
        dev.poll(Instant::now()).await;
        assert!(dev.is_lost(), "a hung-up port is a lost device");
        assert!(dev.state().tree().is_stale());
        assert_eq!(dev.state().get("driver.state"), Some("reconnect.trying"));
        // Not back yet: the reopen fails, the device stays lost.
        dev.reopen(Instant::now()).await;
        assert!(dev.is_lost());
        // Plugged in again, as another tty behind the same name.
        let second = openpty(None, None).expect("openpty");
        std::os::unix::fs::symlink(nix::unistd::ttyname(&second.slave).unwrap(), &link).unwrap();
        let dev2 = answering(File::from(second.master), OB, 1);
        dev.reopen(Instant::now()).await;
        assert!(!dev.is_lost());
        assert!(!dev.state().tree().is_stale());
        assert_eq!(dev.state().get("ups.status"), Some("OB"));
        assert_eq!(dev.state().get("driver.state"), Some("quiet"));
        dev2.join().unwrap();
        drop(second.slave);
    });
}
