//! The USB device re-enumerates (unplugged, then back under a new device address, through the
//! replay's events file): our nutdrv_qx reports `driver.state = reconnect.trying`, then picks
//! the same UPS up again on its own and serves fresh data. Needs `cargo build -p qx-driver
//! --bins`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// `DUMPVALUE <var>` on the driver's socket: `SETINFO <var> "<value>"`.
fn value(socket: &Path, var: &str) -> Option<String> {
    let stream = UnixStream::connect(socket).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut r = BufReader::new(stream);
    r.get_mut()
        .write_all(format!("NOBROADCAST\nDUMPVALUE {var}\n").as_bytes())
        .ok()?;
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    Some(line.trim_end().to_owned())
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_value(socket: &Path, var: &str, want: &str) {
    let want = format!("SETINFO {var} \"{want}\"");
    let mut last = None;
    let ok = nut_harness::poll_until(WAIT, || {
        last = value(socket, var);
        (last.as_deref() == Some(want.as_str())).then_some(())
    });
    assert!(ok.is_some(), "never {want}; last {last:?}");
}

fn append(path: &Path, line: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("events file");
    writeln!(f, "{line}").expect("write event");
}

#[test]
fn nutdrv_qx_reconnects_after_re_enumeration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = dir.path().join("events");
    std::fs::write(&events, "").expect("events file");
    let spec = root().join("tests/fixtures/usb/megatec_ippon_cypress.spec");
    let child = Command::new(root().join("target/debug/nutdrv_qx"))
        .arg("-s")
        .arg("t")
        .arg("-x")
        .arg(format!("port=replay:{}", spec.display()))
        .args(["-x", "pollinterval=1", "-u", "root", "-F"])
        .env("NUT_STATEPATH", dir.path())
        .env("NUT_ALTPIDPATH", dir.path())
        .env("FAKEUSB_EVENTS", &events)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("our nutdrv_qx");
    let mut child = Killed(child);
    let socket = dir.path().join("nutdrv_qx-t");
    wait_value(&socket, "ups.status", "OL");
    wait_value(&socket, "driver.state", "quiet");

    append(&events, "unplug");
    wait_value(&socket, "driver.state", "reconnect.trying");
    // While it is away the UPS goes on battery; it comes back at another address.
    append(
        &events,
        "q1 Q1 -> (000.0 229.4 229.4 013 49.9 13.1 25.0 10001001",
    );
    append(&events, "replug 7");
    wait_value(&socket, "driver.state", "quiet");
    wait_value(&socket, "ups.status", "OB");
    assert!(child.0.try_wait().expect("wait").is_none(), "driver exited");
}
