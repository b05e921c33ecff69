//! USB A/B: Debian's nutdrv_qx / blazer_usb on a recorded Q1-over-USB device through the
//! libusb stand-in (LD_PRELOAD tests/rig/usb/fakeusb.c) against ours on the same spec through
//! the replay transport (`port = "replay:<spec>"`): the `-d 1` dumps (every variable after
//! the first update) must be identical apart from `driver.version*`, the port and
//! `driver.state`. Needs `cc` and `cargo build -p qx-driver --bins`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn spec(name: &str) -> PathBuf {
    root().join("tests/fixtures/usb").join(name)
}

fn build_standin(dir: &Path) -> PathBuf {
    let out = dir.join("fakeusb.so");
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&out)
        .arg(root().join("tests/rig/usb/fakeusb.c"))
        .status()
        .expect("cc must be installed (build-essential) to build the libusb stand-in");
    assert!(status.success(), "building fakeusb.so failed");
    out
}

/// Runs `cmd` to its end (at most 60 s) and returns the dumped variables.
fn dump(mut cmd: Command, what: &str) -> BTreeMap<String, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what}: no dump within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let text = String::from_utf8_lossy(&out.stdout);
    let vars: BTreeMap<String, String> = text
        .lines()
        .filter_map(|l| l.split_once(": "))
        .filter(|(k, _)| {
            !k.starts_with("driver.version")
                && *k != "driver.parameter.port"
                && *k != "driver.state"
                && !k.contains(' ')
        })
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert!(
        vars.contains_key("ups.status"),
        "{what}: no dump:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    vars
}

fn ab(driver: &str, spec_name: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let so = build_standin(dir.path());
    let spec = spec(spec_name);
    let mut debian = Command::new(format!("/lib/nut/{driver}"));
    debian
        .args(["-s", "t", "-x", "port=auto", "-u", "root", "-d", "1"])
        .env("LD_PRELOAD", &so)
        .env("FAKEUSB_SPEC", &spec)
        .env("NUT_STATEPATH", dir.path())
        .env("NUT_ALTPIDPATH", dir.path());
    let mut ours = Command::new(root().join("target/debug").join(driver));
    ours.arg("-s")
        .arg("t")
        .arg("-x")
        .arg(format!("port=replay:{}", spec.display()))
        .args(["-u", "root", "-d", "1"])
        .env("NUT_STATEPATH", dir.path())
        .env("NUT_ALTPIDPATH", dir.path());
    let d = dump(debian, &format!("Debian's {driver} on {spec_name}"));
    let o = dump(ours, &format!("our {driver} on {spec_name}"));
    assert!(d.len() > 15, "{d:?}");
    assert_eq!(d, o, "{driver} on {spec_name}: Debian | ours");
}

#[test]
fn nutdrv_qx_cypress_ippon() {
    ab("nutdrv_qx", "megatec_ippon_cypress.spec");
}

#[test]
fn nutdrv_qx_cypress_voltronic_qs_h() {
    ab("nutdrv_qx", "voltronic-qs-h_cypress.spec");
}

#[test]
fn nutdrv_qx_hunnox_upsmart() {
    ab("nutdrv_qx", "megatec-upsmart_mec0003_hunnox.spec");
}

#[test]
fn blazer_usb_cypress_ippon() {
    ab("blazer_usb", "megatec_ippon_cypress.spec");
}

#[test]
fn blazer_usb_krauler_powersa() {
    ab("blazer_usb", "megatec_powersa-rt3000_krauler.spec");
}

#[test]
fn blazer_usb_cypress_voltronic_qs_h() {
    ab("blazer_usb", "voltronic-qs-h_cypress.spec");
}
