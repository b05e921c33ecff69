//! `nut-rs-deb`: how nut-rs is installed and run by systemd, and the Debian package.
//!
//! The crate's library is the logic behind the `nut-systemd` helper program:
//!
//! * [`generator`] — the systemd generator (installed as
//!   `/usr/lib/systemd/system-generators/nut-driver-generator`) that gives every ups.conf
//!   section its own `nut-driver@<section>.service`, wanted by `nut-driver.target`;
//! * [`mode`] — the units' `ExecCondition=`: nut.conf's `MODE` decides what runs;
//! * [`escape`] — systemd's instance-name escaping, so any section name works;
//! * [`udev`] — the udev rules, generated from the USB drivers' device tables.
//!
//! The rest of the crate is data, packaged by `cargo deb -p nut-rs-deb` (see
//! `scripts/build-deb` and docs/systemd.md): `systemd/` (units), `tmpfiles.d/`, `conf/`
//! (sample configuration, installed by postinst as 0640 root:nut when missing), `man/`,
//! `debian/` (maintainer scripts) and `test-deb.sh`, the install test CI runs.

pub mod escape;
pub mod generator;
pub mod mode;
pub mod udev;

/// Where the package installs every program; `/usr/sbin` and `/usr/bin` hold symlinks.
pub const BIN_DIR: &str = "/usr/lib/nut-rs/bin";
/// Where the package installs its units.
pub const UNIT_DIR: &str = "/usr/lib/systemd/system";
/// The driver template unit.
pub const DRIVER_TEMPLATE: &str = "nut-driver@.service";
/// The target the driver instances are wanted by.
pub const DRIVER_TARGET: &str = "nut-driver.target";
