//! What the tests share: the fixtures and the command lines Debian's recordings were made with.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use nut_harness::{Impl, poll_until};

/// tests/fixtures/hid of the workspace.
pub fn fixtures() -> PathBuf {
    nut_harness::workspace_root().join("tests/fixtures/hid")
}

/// The device spec of a fixture: a recording (`<name>.spec`), or a synthetic device for a
/// subdriver without one (`synthetic/synthetic_<subdriver>.spec`, its Debian results under
/// `debian-2.8.0/synthetic_*`).
pub fn spec(name: &str) -> PathBuf {
    let file = format!("{name}.spec");
    if name.starts_with("synthetic_") {
        fixtures().join("synthetic").join(file)
    } else {
        fixtures().join(file)
    }
}

/// The hand-written Eaton/MGE devices of the core's tests (`<name>.spec`, with Debian's
/// `upsc` output after a full poll in `<name>.vars`).
pub fn mge_synthetic() -> PathBuf {
    nut_harness::workspace_root().join("crates/drivers/usbhid-ups/tests/mge_synthetic")
}

/// The `-x` options (port aside) of the command line in a recording's first header line
/// (`-x productid=0000`, `-x explore -x vendorid=5131`).
pub fn header_x_options(text: &str) -> Vec<String> {
    let words: Vec<&str> = text
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    words
        .windows(2)
        .filter(|w| w[0] == "-x" && !w[1].starts_with("port="))
        .map(|w| w[1].to_string())
        .collect()
}

/// Runs our usbhid-ups once as `-s t -x port=<port> <args> -u root` (add `-d 1`, `-k`, …),
/// with a temp state directory and `env` (e.g. `FAKEUSB_LOG`); at most 60 s.
pub fn run_driver(port: &str, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(nut_harness::bin(Impl::Ours, "usbhid-ups"))
        .args(["-s", "t", "-x"])
        .arg(format!("port={port}"))
        .args(args)
        .args(["-u", "root"])
        .env("NUT_STATEPATH", dir.path())
        .env("NUT_ALTPIDPATH", dir.path())
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("our usbhid-ups");
    if poll_until(Duration::from_secs(60), || child.try_wait().ok().flatten()).is_none() {
        let _ = child.kill();
        panic!("usbhid-ups on {port} {args:?}: not done within 60 s");
    }
    child.wait_with_output().expect("output")
}
