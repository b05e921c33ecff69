//! nut-rig: the device test rig for driver tests.
//!
//! * [`sim`]: deterministic serial UPS simulators (Megatec/Q1 family, APC Smart) as a
//!   sans-IO core: replies from recorded fixtures (cycling or fixed, `set` overrides,
//!   unknown commands echoed / `NA`), scripted power changes (OL → OB → OB LB → OL),
//!   faults (silence, garbage, short and truncated replies, slow replies) and a log of
//!   every byte in and out.
//! * [`PtySim`]: that core serving a pseudo-terminal on a thread, so a real driver
//!   process (Debian's `/lib/nut/nutdrv_qx`, or ours) opens it like a serial port. The
//!   `serialsim` binary is the same thing as a program.
//! * [`bench`](mod@bench): a driver on its own simulator under upsd ([`Bench`]), the state upsd
//!   then serves ([`Snapshot`]: LIST VAR / CMD / RW with types, enums and ranges) and the
//!   A/B comparison of two benches with documented exemptions ([`compare`]).
//! * [`usb`]: shared pieces of the USB A/B benches (stand-in vs replay: transfer log,
//!   events file, settled snapshots).
//!
//! ```no_run
//! use nut_harness::Impl;
//! use nut_rig::{Bench, Protocol, SimConfig, fixture_path};
//! let sim = SimConfig::from_fixture(Protocol::Megatec, fixture_path("megatec_ippon_0665-5161.txt"))
//!     .unwrap()
//!     .set("I", format!("#{:<15} {:<10} {:<10}", "IPPON", "BACK", "VER 1.0"));
//! // Ours instead of Debian's: Impl::Ours.
//! let bench = Bench::builder(Impl::Debian, "nutdrv_qx", sim).key("protocol", "megatec").start();
//! let snapshot = bench.snapshot();
//! // See README.md for the A/B comparison with our driver.
//! assert_eq!(snapshot.vars["input.voltage"], "229.4");
//! ```

pub mod bench;
pub mod fixture;
pub mod hid;
mod pty;
pub mod sim;
pub mod usb;

pub use bench::{
    Bench, BenchBuilder, Diff, Difference, Exemptions, Outcome, RwInfo, Snapshot, ab, both,
    compare, instcmd_client, run_client, setvar_client,
};
pub use pty::PtySim;
pub use sim::{Direction, Exchange, Fault, Power, Protocol, SimConfig, Simulator};

use std::path::PathBuf;

/// Errors of the rig's own setup (fixtures, ptys).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RigError {
    #[error(transparent)]
    Fixture(#[from] fixture::FixtureError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

/// Builds the libusb stand-in (tests/rig/usb/fakeusb.c, README there) as `<dir>/fakeusb.so`,
/// readable by the drivers (they run as `nut`). Needs `cc` (build-essential); `$CC` wins.
pub fn build_fakeusb(dir: &std::path::Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let out = dir.join("fakeusb.so");
    let status = std::process::Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&out)
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("usb/fakeusb.c"))
        .status()
        .expect("cc must be installed (build-essential) to build the libusb stand-in");
    assert!(status.success(), "building fakeusb.so failed");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("nut-rig: chmod {}: {e}", out.display()));
    out
}

/// `tests/fixtures/usb/<name>` in this workspace (USB specs, tests/rig/usb/README.md).
pub fn usb_spec_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/usb")
        .join(name)
}

/// `tests/fixtures/hid/<name>` in this workspace (recorded HID UPS specs, provenance in its
/// PROVENANCE.md).
pub fn hid_spec_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/hid")
        .join(name)
}

/// `tests/fixtures/serial/<name>` in this workspace (provenance in its PROVENANCE.md).
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/serial")
        .join(name)
}
