//! `-k` (kill power, the last step of a shutdown) without a running driver: Debian's driver
//! and ours, each on its own pty simulator of the same recording, send the same requests to
//! the device (detection, the cancel, the shutdown with restart or with `stayoff` without)
//! and exit the same way. The simulator echoes these commands (the recording has no reply for
//! them), which NUT reads as a refusal: each is tried three times and `-k` exits 1. Needs `cargo build -p qx-driver --bins`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nut_rig::{Protocol, PtySim, SimConfig, fixture_path};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// Runs `program -k` on a fresh simulator; returns its exit code and the requests the device got.
fn kill_power(program: PathBuf, extra: &[&str]) -> (Option<i32>, Vec<String>) {
    let sim = PtySim::start(
        SimConfig::from_fixture(
            Protocol::Megatec,
            fixture_path("megatec-upsmart_mec0003_0001-0000.txt"),
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .fixed(),
    )
    .expect("simulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(&program);
    cmd.args(["-s", "t", "-x"])
        .arg(format!("port={}", sim.path().display()))
        .args(["-u", "root", "-k"]);
    for x in extra {
        cmd.args(["-x", x]);
    }
    let mut child = cmd
        .env("NUT_STATEPATH", dir.path())
        .env("NUT_ALTPIDPATH", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{} -k did not finish in 60 s", program.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let requests = sim
        .exchanges()
        .iter()
        .map(|e| e.request.escape_ascii().to_string())
        .collect();
    (status.code(), requests)
}

fn ab(driver: &str, extra: &[&str], expect_tail: &[&str]) {
    let debian = kill_power(PathBuf::from(format!("/lib/nut/{driver}")), extra);
    let ours = kill_power(root().join("target/debug").join(driver), extra);
    assert!(debian.0.is_some(), "Debian's {driver} -k: {debian:?}");
    assert!(
        debian.1.ends_with(
            &expect_tail
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        ),
        "{driver} {extra:?}: {:?}",
        debian.1
    );
    assert_eq!(debian, ours, "{driver} -k {extra:?}: Debian | ours");
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn nutdrv_qx_kill_power() {
    ab(
        "nutdrv_qx",
        &[],
        &[
            "C\\r",
            "C\\r",
            "C\\r",
            "S.5R0003\\r",
            "S.5R0003\\r",
            "S.5R0003\\r",
        ],
    );
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn nutdrv_qx_kill_power_stayoff() {
    ab(
        "nutdrv_qx",
        &["stayoff"],
        &[
            "C\\r",
            "C\\r",
            "C\\r",
            "S.5R0000\\r",
            "S.5R0000\\r",
            "S.5R0000\\r",
        ],
    );
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn blazer_ser_kill_power() {
    ab(
        "blazer_ser",
        &[],
        &[
            "C\\r",
            "C\\r",
            "C\\r",
            "S.5R0003\\r",
            "S.5R0003\\r",
            "S.5R0003\\r",
        ],
    );
}
