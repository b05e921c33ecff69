//! The integration tests of this crate, in one test binary (`autotests = false` in
//! Cargo.toml): one module per former test file, so test names read `file::test`.

mod support;

mod blazer;
mod engine;
mod fuzz;
mod masterguard;
mod megatec;
mod protocols;
mod usb;
mod voltronic;
