//! The integration tests of this crate, in one test binary (`autotests = false` in
//! Cargo.toml): one module per former test file, so test names read `file::test`.

mod framework;
mod pty;
mod silence;
mod upsd;
