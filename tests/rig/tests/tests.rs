//! The integration tests of this crate, in one test binary (`autotests = false` in
//! Cargo.toml): one module per former test file, so test names read `file::test`.

mod ab_machinery;
mod apcsmart;
mod debian_serial;
mod debian_synthetic;
mod pty_and_binary;
