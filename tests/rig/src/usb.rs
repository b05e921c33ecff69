//! Shared pieces of the USB A/B benches (Debian's drivers through the libusb stand-in,
//! tests/rig/usb, against ours through the replay transport): the world-readable directory
//! with the transfer log and events file both readers use, GET VAR and snapshots over a
//! stack's upsd, a snapshot taken once it stays the same over a poll, and running one step
//! on both benches at once.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nut_harness::{Stack, StackBuilder, poll_until};

use crate::bench::{POLL_TIMEOUT, Snapshot, UPS};

/// A world-readable temp dir: the drivers run as `nut`.
pub fn open_dir(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .unwrap_or_else(|e| panic!("nut-rig: tempdir: {e}"));
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("nut-rig: chmod {}: {e}", dir.path().display()));
    dir
}

/// Creates an empty file the driver (user `nut`) may append to.
pub fn shared_file(path: &Path) {
    fs::write(path, "").unwrap_or_else(|e| panic!("nut-rig: create {}: {e}", path.display()));
    fs::set_permissions(path, fs::Permissions::from_mode(0o666))
        .unwrap_or_else(|e| panic!("nut-rig: chmod {}: {e}", path.display()));
}

/// A bench's transfer log (`FAKEUSB_LOG`) and events file (`FAKEUSB_EVENTS`), which the
/// stand-in and our replay both read, in a directory of their own.
pub struct UsbFiles {
    dir: tempfile::TempDir,
}

impl UsbFiles {
    /// A new directory (name starting with `prefix`) with an empty log and events file.
    pub fn new(prefix: &str) -> UsbFiles {
        let files = UsbFiles {
            dir: open_dir(prefix),
        };
        shared_file(&files.log_path());
        shared_file(&files.events_path());
        files
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("usb.log")
    }

    pub fn events_path(&self) -> PathBuf {
        self.dir.path().join("usb.events")
    }

    /// `builder` with the stand-in's / replay's environment: the spec, the log, the events.
    pub fn env(&self, builder: StackBuilder, spec: &Path) -> StackBuilder {
        builder
            .env("FAKEUSB_SPEC", &spec.to_string_lossy())
            .env("FAKEUSB_LOG", &self.log_path().to_string_lossy())
            .env("FAKEUSB_EVENTS", &self.events_path().to_string_lossy())
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.log_text().lines().map(str::to_owned).collect()
    }

    /// Appends spec lines to the events file in one write (the readers apply complete new
    /// lines before their next transfer).
    pub fn append_events(&self, lines: &[String]) {
        let mut f = OpenOptions::new()
            .append(true)
            .open(self.events_path())
            .unwrap_or_else(|e| panic!("nut-rig: events file: {e}"));
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        f.write_all(text.as_bytes())
            .unwrap_or_else(|e| panic!("nut-rig: write events: {e}"));
    }
}

/// `GET VAR` of [`UPS`] through `stack`'s upsd: the value, or the reply line.
pub fn get_var(stack: &Stack, var: &str) -> Result<String, String> {
    let reply = stack.conn().request(&format!("GET VAR {UPS} {var}"));
    let line = reply.first().cloned().unwrap_or_default();
    match nut_core::token::split_line(&line).ok().as_deref() {
        Some([kw, _, _, value]) if kw == "VAR" => Ok(value.clone()),
        _ => Err(line),
    }
}

/// What `stack`'s upsd serves for [`UPS`]; panics (naming `label`) when it cannot be read.
pub fn snapshot_of(stack: &Stack, label: &str) -> Snapshot {
    Snapshot::read(&mut stack.conn(), UPS)
        .unwrap_or_else(|e| panic!("nut-rig: {label}: snapshot: {e}"))
}

/// The snapshot once it stays the same over a poll: `next_poll` returns after the driver
/// has polled once more, `snapshot` reads the state.
pub fn settled(label: &str, next_poll: impl Fn(), snapshot: impl Fn() -> Snapshot) -> Snapshot {
    let mut previous = snapshot();
    let settled = poll_until(POLL_TIMEOUT, || {
        next_poll();
        let current = snapshot();
        if current == previous {
            return Some(current);
        }
        previous = current;
        None
    });
    settled.unwrap_or_else(|| panic!("nut-rig: {label}: never settled"))
}

/// Runs `f` on both benches at once (each waits for its own driver).
pub fn both_of<B: Sync, T: Send>(left: &B, right: &B, f: impl Fn(&B) -> T + Sync) -> (T, T) {
    std::thread::scope(|s| {
        let l = s.spawn(|| f(left));
        let r = f(right);
        (l.join().expect("nut-rig: the left side panicked"), r)
    })
}
