//! An idle usbhid-ups sleeps: between polls it waits on the interrupt pipe without waking up
//! (issue #14: the driver used to read the pipe in a loop, ~60 wake-ups a second on a replay).
//! Needs `cargo build -p usbhid-driver --bins`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common;
use common::spec;

use nut_harness::{Impl, poll_until};

/// The voluntary context switches of all threads of a process so far.
fn voluntary_switches(pid: u32) -> u64 {
    let dir = format!("/proc/{pid}/task");
    let mut total = 0;
    for task in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let status =
            std::fs::read_to_string(task.expect("task").path().join("status")).unwrap_or_default();
        total += status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Between polls (pollinterval 300 s) over a 2 s window: a handful of wake-ups at most, with
/// the interrupt pipe in use (an events file the replay watches) — then an interrupt report
/// still gets through.
#[test]
fn an_idle_driver_does_not_wake_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = dir.path().join("events");
    let log = dir.path().join("transfers.log");
    std::fs::write(&events, "").expect("events");
    std::fs::write(
        dir.path().join("ups.conf"),
        format!(
            "[t]\n\tdriver = usbhid-ups\n\tport = \"replay:{}\"\n\tpollinterval = 300\n",
            spec("apc_back-ups-xs-1400u").display()
        ),
    )
    .expect("ups.conf");
    let child = Command::new(nut_harness::bin(Impl::Ours, "usbhid-ups"))
        .args(["-a", "t", "-u", "root", "-F"])
        .env("NUT_CONFPATH", dir.path())
        .env("NUT_STATEPATH", dir.path())
        .env("NUT_ALTPIDPATH", dir.path())
        .env("FAKEUSB_EVENTS", &events)
        .env("FAKEUSB_LOG", &log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("our usbhid-ups");
    let child = Killed(child);
    let pid = child.0.id();
    // Ready: the socket is there and the first poll has read the status report.
    let ready = poll_until(Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        (dir.path().join("usbhid-ups-t").exists() && text.contains("get_report 3 22")).then_some(())
    });
    assert!(ready.is_some(), "the driver did not start");
    let before = voluntary_switches(pid);
    std::thread::sleep(Duration::from_secs(2)); // the measuring window, not a synchronisation
    let woke = voluntary_switches(pid) - before;
    assert!(woke <= 5, "{woke} wake-ups in 2 s of idling");
    // The pipe still works: a report wakes the driver, which reads it.
    std::fs::write(&events, "intr 0c 5a 10 0e\n").expect("events");
    let read = poll_until(Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        text.lines()
            .any(|l| l.starts_with("interrupt ") && l.ends_with("0c 5a 10 0e"))
            .then_some(())
    });
    assert!(read.is_some(), "the interrupt report was not read");
}
