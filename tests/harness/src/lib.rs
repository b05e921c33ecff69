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
//! certificates for TLS tests), [`notify`] (systemd's side of `sd_notify`), [`http`] (a GET
//! client for nut-web).

mod config;
mod conn;
pub mod fake_upsd;
pub mod http;
pub mod notify;
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
use std::time::{Duration, Instant};

/// Which implementation of a NUT program to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Impl {
    /// The binaries of this workspace: those of the build under test (see [`bin`]).
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
/// Ours, by one explicit rule (never by comparing modification times):
/// 1. `$NUT_RS_BIN_DIR/<name>` when that variable is set;
/// 2. else the binary of the build the running test belongs to: the profile directory the
///    test executable lives in (`<target>/<profile>/deps/<test>` → `<target>/<profile>/<name>`),
///    so `cargo test` runs `target/debug/…`, `cargo test --release` runs `target/release/…`,
///    and `$CARGO_TARGET_DIR` and `--target <triple>` are followed without being asked.
///
/// Every path handed out is remembered for the calling thread (one test): when the test
/// panics, the harness prints which binaries it ran, with their build time, so a stale
/// binary cannot answer unnoticed.
///
/// Panics with instructions when the program is missing: a missing peer must fail
/// the test loudly, never skip it.
pub fn bin(which: Impl, name: &str) -> PathBuf {
    let path = match which {
        Impl::Debian => {
            let path = debian_path(name).unwrap_or_else(|| {
                panic!("nut-harness: no known Debian path for program {name:?}")
            });
            assert!(
                path.exists(),
                "nut-harness: Debian's {name} is missing at {}; this test compares with (or runs \
                 against) the reference peer, Debian's NUT 2.8.0: install it with \
                 `apt-get install -y nut-server nut-client` (or run `bash .ci/run`)",
                path.display()
            );
            path
        }
        Impl::Ours => {
            let (dir, why) = ours_dir();
            let path = dir.join(name);
            assert!(
                path.exists(),
                "nut-harness: our {name} is missing at {} ({why}); build it with \
                 `cargo build --workspace --bins` in the same profile as the tests \
                 (scripts/test does), or point NUT_RS_BIN_DIR at the binaries to test",
                path.display()
            );
            path
        }
    };
    ran::record(which, name, &path);
    path
}

/// The directory our binaries are taken from, and why (for messages).
fn ours_dir() -> (PathBuf, &'static str) {
    if let Some(dir) = std::env::var_os("NUT_RS_BIN_DIR") {
        return (PathBuf::from(dir), "NUT_RS_BIN_DIR is set");
    }
    let exe = std::env::current_exe()
        .expect("nut-harness: cannot find the running executable (/proc/self/exe)");
    (
        profile_dir_of(&exe),
        "the profile directory of this test build",
    )
}

/// `<target>/<profile>/deps/<test>-<hash>` → `<target>/<profile>`; a program that is not a
/// test (`<target>/<profile>/<program>`) → `<target>/<profile>`.
fn profile_dir_of(exe: &Path) -> PathBuf {
    let parent = exe.parent().unwrap_or(Path::new("/"));
    match parent.file_name() {
        Some(deps) if deps == "deps" => parent.parent().unwrap_or(parent).to_path_buf(),
        _ => parent.to_path_buf(),
    }
}

mod ran {
    //! The binaries each test thread was handed by [`bin`](super::bin), printed when it panics.

    use super::Impl;
    use std::cell::RefCell;
    use std::fmt::Write as _;
    use std::path::{Path, PathBuf};
    use std::sync::Once;

    thread_local! {
        // libtest runs every test on a thread of its own, so this is one test's list.
        static RAN: RefCell<Vec<(Impl, String, PathBuf)>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn record(which: Impl, name: &str, path: &Path) {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                previous(info);
                if let Some(report) = report() {
                    eprintln!("{report}");
                }
            }));
        });
        // try_with: a thread being torn down has no list any more; nothing to record then.
        let _ = RAN.try_with(|ran| {
            let mut ran = ran.borrow_mut();
            if !ran
                .iter()
                .any(|(w, n, p)| *w == which && n == name && p == path)
            {
                ran.push((which, name.to_owned(), path.to_path_buf()));
            }
        });
    }

    /// "nut-harness: this test ran: …", or `None` if the thread was handed no binary.
    pub(super) fn report() -> Option<String> {
        RAN.try_with(|ran| {
            let ran = ran.borrow();
            if ran.is_empty() {
                return None;
            }
            let mut out = String::from("nut-harness: this test ran:");
            for (which, name, path) in ran.iter() {
                let _ = write!(out, "\n  {name} ({which}): {}", path.display());
                if let Some(age) = built_ago(path) {
                    let _ = write!(out, " (built {age} ago)");
                }
            }
            Some(out)
        })
        .ok()
        .flatten()
    }

    fn built_ago(path: &Path) -> Option<String> {
        let modified = path.metadata().and_then(|m| m.modified()).ok()?;
        let secs = modified.elapsed().ok()?.as_secs();
        Some(match secs {
            0..120 => format!("{secs} s"),
            120..7200 => format!("{} min", secs / 60),
            7200..172_800 => format!("{} h", secs / 3600),
            _ => format!("{} days", secs / 86_400),
        })
    }
}

/// A loopback TCP port that was free a moment ago (bound to port 0, then released), and
/// never handed out before in this process: the kernel may give a released port to the next
/// bind(0), so two stacks started at once could otherwise get the same port, and one's
/// clients would reach the other's upsd.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("nut-harness: cannot bind a loopback port");
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_binaries_come_from_the_profile_directory_of_the_test_build() {
        assert_eq!(
            profile_dir_of(Path::new("/w/target/debug/deps/ddl-0123abcd")),
            Path::new("/w/target/debug")
        );
        assert_eq!(
            profile_dir_of(Path::new("/w/target/release/deps/ddl-0123abcd")),
            Path::new("/w/target/release")
        );
        assert_eq!(
            profile_dir_of(Path::new(
                "/ct/x86_64-unknown-linux-gnu/release/deps/web-9f"
            )),
            Path::new("/ct/x86_64-unknown-linux-gnu/release")
        );
        // a program (not a test) using the harness, e.g. a rig tool in target/debug
        assert_eq!(
            profile_dir_of(Path::new("/w/target/debug/serialsim")),
            Path::new("/w/target/debug")
        );
    }

    #[test]
    fn a_test_thread_reports_every_binary_it_was_handed_once() {
        let report = std::thread::spawn(|| {
            assert_eq!(ran::report(), None, "a fresh thread has run nothing");
            let upsd = Path::new("/nonexistent/target/debug/upsd");
            ran::record(Impl::Ours, "upsd", upsd);
            ran::record(Impl::Ours, "upsd", upsd);
            ran::record(Impl::Debian, "dummy-ups", Path::new("/lib/nut/dummy-ups"));
            ran::report()
        })
        .join()
        .unwrap()
        .expect("a report after binaries were handed out");
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines.len(), 3, "report: {report}");
        assert_eq!(lines[0], "nut-harness: this test ran:");
        assert_eq!(lines[1], "  upsd (ours): /nonexistent/target/debug/upsd");
        // Debian's binary exists on a test machine, so its build age follows the path
        assert!(
            lines[2].starts_with("  dummy-ups (debian): /lib/nut/dummy-ups"),
            "report: {report}"
        );
    }
}
