//! The integration tests of this crate, in one test binary (`autotests = false` in
//! Cargo.toml): one module per former test file, so test names read `file::test`.
//! systemd_sandbox_caps.rs stays a binary of its own: it sets `NUT_RS_BIN_DIR` for the whole
//! process.

mod units;

mod nutshutdown;
mod samples;
mod systemd_security;
mod udev;
