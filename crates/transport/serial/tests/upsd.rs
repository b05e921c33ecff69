//! A driver on the framework and the serial transport (the `miniq1` example) behind
//! Debian's upsd 2.8.0, with a simulated Q1 device on a pty: status changes reach clients,
//! a silent device makes upsd report stale data after the framework's five failed polls
//! and fresh data once it answers again, and an unplugged device that comes back (as
//! another tty behind the same name) is picked up again without a restart.

use std::fs::File;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::pty::openpty;
use nut_harness::{Conn, Daemon, Impl, Stack, StackBuilder};

const WAIT: Duration = Duration::from_secs(40);
const OL: &[u8] = b"(230.0 230.0 230.0 012 50.0 13.6 25.0 00001001\r";
const OB: &[u8] = b"(000.0 000.0 230.0 012 50.0 12.1 25.0 10001001\r";

/// What the simulated device does with the next `Q1`.
#[derive(Clone, Copy)]
pub(crate) enum Act {
    Answer(&'static [u8]),
    Silence,
    /// Close its end (the device is gone).
    Unplug,
}

pub(crate) type Mode = Arc<Mutex<Act>>;

/// When the device received each `Q1`.
pub(crate) type Requests = Arc<Mutex<Vec<Instant>>>;

/// A Q1 device on the master side of a new pty, reachable as `link`.
fn plug_in(link: &Path, mode: &Mode) -> std::os::fd::OwnedFd {
    plug_in_logged(link, mode, &Requests::default())
}

/// [`plug_in`], noting in `requests` when each `Q1` arrives.
pub(crate) fn plug_in_logged(
    link: &Path,
    mode: &Mode,
    requests: &Requests,
) -> std::os::fd::OwnedFd {
    let p = openpty(None, None).expect("openpty");
    // Not inherited by the driver and upsd: the device end must really close when the
    // simulator lets go of it.
    for fd in [&p.master, &p.slave] {
        nix::fcntl::fcntl(
            fd,
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
        )
        .expect("FD_CLOEXEC");
    }
    let tty = nix::unistd::ttyname(&p.slave).unwrap();
    // The driver runs as the `nut` user, as from upsdrvctl: the port is theirs (like a
    // serial port in the right group).
    let nut = nix::unistd::User::from_name("nut")
        .ok()
        .flatten()
        .expect("user nut (package nut-server)");
    nix::unistd::chown(&tty, Some(nut.uid), Some(nut.gid)).expect("chown the pty");
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(&tty, link).unwrap();
    let mut master = File::from(p.master);
    let mode = Arc::clone(mode);
    let requests = Arc::clone(requests);
    std::thread::spawn(move || {
        let mut b = [0u8; 1];
        loop {
            let mut req = Vec::new();
            loop {
                if master.read_exact(&mut b).is_err() {
                    return; // the driver closed the port, or the test unplugged us
                }
                if b[0] == b'\r' {
                    break;
                }
                req.push(b[0]);
            }
            if req != b"Q1" {
                continue;
            }
            requests.lock().unwrap().push(Instant::now());
            match *mode.lock().unwrap() {
                Act::Answer(bytes) => {
                    if master.write_all(bytes).is_err() {
                        return;
                    }
                }
                Act::Silence => {}
                Act::Unplug => return,
            }
        }
    });
    // Keeping the slave open keeps the line up; dropping it does nothing else.
    p.slave
}

fn example_driver() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let path = dir.join("examples").join("miniq1");
    assert!(
        path.exists(),
        "{} missing (or stale): cargo build -p nut-serial --examples builds it (scripts/test does)",
        path.display()
    );
    path
}

/// A directory for the port's link that the driver (user `nut`) can read.
pub(crate) fn port_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    dir
}

/// The `miniq1` example driver for the stack's `[ups]`, in the foreground.
pub(crate) fn start_miniq1(s: &Stack) -> Daemon {
    let mut cmd = std::process::Command::new(example_driver());
    cmd.args(["-a", "ups", "-F"])
        .envs(s.env_vars())
        .current_dir(s.dir());
    Daemon::spawn("miniq1", cmd)
}

/// Wait for `f`, or fail with what the driver said.
fn wait(driver: &Daemon, what: &str, mut f: impl FnMut() -> bool) {
    if nut_harness::poll_until(WAIT, || f().then_some(())).is_none() {
        panic!(
            "timed out waiting for {what}; the driver said:\n{}",
            driver.output_so_far()
        );
    }
}

fn status(conn: &mut Conn) -> String {
    conn.request("GET VAR ups ups.status")
        .first()
        .cloned()
        .unwrap_or_default()
}

fn driver_state(socket: &Path) -> Option<String> {
    let stream = UnixStream::connect(socket).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut r = BufReader::new(stream);
    r.get_mut()
        .write_all(b"NOBROADCAST\nDUMPVALUE driver.state\n")
        .ok()?;
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    Some(line.trim_end().to_owned())
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn staleness_recovery_and_replugging_seen_through_debians_upsd() {
    let dir = port_dir();
    let link = dir.path().join("ttyUPS");
    let mode: Mode = Arc::new(Mutex::new(Act::Answer(OL)));
    let slave = plug_in(&link, &mode);
    let s = StackBuilder::new()
        .upsd(Impl::Debian)
        .ups_section(
            "ups",
            &format!(
                "driver = miniq1\nport = {}\npollinterval = 1",
                link.display()
            ),
        )
        .start();
    let driver = start_miniq1(&s);
    let socket = s.dir().join("miniq1-ups");
    let mut conn = s.conn();
    wait(&driver, "upsd to serve the UPS", || {
        status(&mut conn) == "VAR ups ups.status \"OL\""
    });
    assert_eq!(
        driver_state(&socket).as_deref(),
        Some("SETINFO driver.state \"quiet\"")
    );

    *mode.lock().unwrap() = Act::Answer(OB);
    wait(&driver, "OB to reach the client", || {
        status(&mut conn) == "VAR ups ups.status \"OB\""
    });

    // The device goes silent: stale after five failed polls, with one warning.
    *mode.lock().unwrap() = Act::Silence;
    wait(&driver, "upsd to report stale data", || {
        status(&mut conn) == "ERR DATA-STALE"
    });
    let out = driver.output_so_far();
    assert_eq!(
        out.matches("Communications with UPS lost: read from")
            .count(),
        1,
        "{out}"
    );
    *mode.lock().unwrap() = Act::Answer(OL);
    wait(&driver, "fresh data again", || {
        status(&mut conn) == "VAR ups ups.status \"OL\""
    });
    driver.wait_output("Communications with UPS re-established", WAIT);

    // Unplugged: the device end closes at the next request and the node goes away.
    *mode.lock().unwrap() = Act::Unplug;
    drop(slave);
    std::fs::remove_file(&link).unwrap();
    wait(&driver, "the driver to report the reconnection", || {
        driver_state(&socket).as_deref() == Some("SETINFO driver.state \"reconnect.trying\"")
    });
    assert_eq!(status(&mut conn), "ERR DATA-STALE");
    // Plugged in again, as another tty behind the same name.
    *mode.lock().unwrap() = Act::Answer(OB);
    let _slave = plug_in(&link, &mode);
    wait(&driver, "the driver to pick the device up again", || {
        status(&mut conn) == "VAR ups ups.status \"OB\""
    });
    assert_eq!(
        driver_state(&socket).as_deref(),
        Some("SETINFO driver.state \"quiet\"")
    );
    assert!(driver.is_running(), "{}", driver.output_so_far());
}
