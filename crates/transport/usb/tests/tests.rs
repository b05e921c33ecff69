//! The integration tests of this crate, in one test binary (`autotests = false` in
//! Cargo.toml): one module per former test file, so test names read `file::test`.

mod support;

mod replay;
mod robust;
mod standin;
mod vm;
