//! nut-harness: start a complete NUT stack — drivers, upsd, upsmon — from either
//! implementation (ours or Debian's NUT 2.8.0) in a temp dir on a free loopback port,
//! with the very same config files, so that compatibility tests can run one transcript
//! against both and compare.
//!
//! ```no_run
//! use nut_harness::{Impl, StackBuilder};
//! let stack = StackBuilder::new()
//!     .upsd(Impl::Debian)
//!     .driver(Impl::Debian)
//!     .dummy("dummy", "dummy.dev", "ups.status: OL\nbattery.charge: 100\n")
//!     .start();
//! let mut conn = stack.conn();
//! assert_eq!(conn.request("GET VAR dummy ups.status"), ["VAR dummy ups.status \"OL\""]);
//! ```
//!
//! Design rules: no fixed sleeps (everything waits for an observable condition with a
//! deadline, see [`wait_until`]); every process is killed and reaped when its owner is
//! dropped; when a test panics, every daemon's captured output is printed to stderr.
//!
//! Daemons run as in production: when the tests run as root, the temp dir and the files
//! the harness writes are handed to the `nut` user, so daemons that drop privileges to
//! `nut` (Debian's do by default) can still read their configs and create their sockets.
//! Nothing passes `-u`.
//!
//! Layout: `process` (child processes and log capture), `config` (writing the config
//! files), `conn` (the raw protocol client), `stack` (the builder and the running stack),
//! [`fake_upsd`] (a scriptable misbehaving server for client tests), [`pki`] (throw-away
//! certificates for TLS tests).

mod config;
mod conn;
pub mod fake_upsd;
pub mod pki;
mod process;
mod stack;

/// Signals for [`Daemon::signal`] (re-exported so tests need no nix dependency).
pub use nix::sys::signal::Signal;

pub use conn::Conn;
pub use process::Daemon;
pub use stack::{Stack, StackBuilder};

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Which implementation of a NUT program to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Impl {
    /// The binaries of this workspace (`target/{debug,release}/<name>`, or `$NUT_RS_BIN_DIR`).
    Ours,
    /// Debian's NUT 2.8.0 packages (`nut-server`, `nut-client`).
    Debian,
}

impl std::fmt::Display for Impl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Impl::Ours => "ours",
            Impl::Debian => "debian",
        })
    }
}

/// Where Debian 2.8.0 installs each program. Daemons come from `/lib/nut` because
/// `/sbin/upsd` and `/sbin/upsmon` are wrappers that read `/etc/nut/nut.conf`; any other
/// name is taken as a driver in `/lib/nut` (`nutdrv_qx`, `blazer_ser`, …).
fn debian_path(name: &str) -> Option<PathBuf> {
    if let Some(path) = debian_program_path(name) {
        return Some(PathBuf::from(path));
    }
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
    plain.then(|| Path::new("/lib/nut").join(name))
}

fn debian_program_path(name: &str) -> Option<&'static str> {
    Some(match name {
        "upsd" => "/lib/nut/upsd",
        "dummy-ups" => "/lib/nut/dummy-ups",
        "upsmon" => "/lib/nut/upsmon",
        "upssched" => "/sbin/upssched",
        "upsdrvctl" => "/sbin/upsdrvctl",
        "upsc" => "/usr/bin/upsc",
        "upscmd" => "/usr/bin/upscmd",
        "upsrw" => "/usr/bin/upsrw",
        "upslog" => "/usr/bin/upslog",
        _ => return None,
    })
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/harness has two ancestors")
        .to_path_buf()
}

/// The path of program `name` ("upsd", "dummy-ups", "upsc", "nutdrv_qx", …) of
/// implementation `which`.
///
/// Debian: where the 2.8.0 packages install it; any name that is not one of NUT's daemons
/// or clients is a driver in `/lib/nut`.
///
/// Ours: `$NUT_RS_BIN_DIR/<name>` if that variable is set, else the newest of
/// `<target>/debug/<name>` and `<target>/release/<name>` where `<target>` is
/// `$CARGO_TARGET_DIR` or `<workspace>/target`.
///
/// Panics with instructions when the program is missing: a missing peer must fail
/// the test loudly, never skip it.
pub fn bin(which: Impl, name: &str) -> PathBuf {
    match which {
        Impl::Debian => {
            let path = debian_path(name).unwrap_or_else(|| {
                panic!("nut-harness: no known Debian path for program {name:?}")
            });
            assert!(
                path.exists(),
                "nut-harness: Debian's {name} is missing at {}; install the reference peer with \
                 `apt-get install -y nut-server nut-client` (or run `bash .ci/run`)",
                path.display()
            );
            path
        }
        Impl::Ours => {
            if let Some(dir) = std::env::var_os("NUT_RS_BIN_DIR") {
                let path = PathBuf::from(dir).join(name);
                assert!(
                    path.exists(),
                    "nut-harness: our {name} is missing at {} (NUT_RS_BIN_DIR is set)",
                    path.display()
                );
                return path;
            }
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_root().join("target"));
            let candidates = [
                target.join("debug").join(name),
                target.join("release").join(name),
            ];
            candidates
                .into_iter()
                .filter_map(|p| {
                    let modified = p.metadata().and_then(|m| m.modified()).ok()?;
                    Some((modified, p))
                })
                .max_by_key(|(modified, _): &(SystemTime, PathBuf)| *modified)
                .map(|(_, p)| p)
                .unwrap_or_else(|| {
                    panic!(
                        "nut-harness: our {name} is not built (looked in {}/{{debug,release}}); \
                         run `cargo build --workspace --bins` first (scripts/test does)",
                        target.display()
                    )
                })
        }
    }
}

/// A loopback TCP port that was free a moment ago (bound to port 0, then released).
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("nut-harness: cannot bind a loopback port")
}

/// Polls `f` until it returns `Some`, for at most `timeout`; panics naming `what`.
///
/// This is the only way the harness waits: on a condition, with a deadline. The
/// short pause between polls is pacing, not synchronisation.
pub fn wait_until<T>(what: &str, timeout: Duration, f: impl FnMut() -> Option<T>) -> T {
    poll_until(timeout, f)
        .unwrap_or_else(|| panic!("nut-harness: timed out after {timeout:?} waiting for {what}"))
}

/// Like [`wait_until`] but returns `None` on timeout instead of panicking.
pub fn poll_until<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Default deadline for daemons to come up; generous because CI machines are slow.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
