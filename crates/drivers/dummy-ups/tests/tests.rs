//! The integration tests of this crate, in one test binary (`autotests = false` in
//! Cargo.toml): one module per former test file, so test names read `file::test`.

mod common;

mod behaviour;
mod ddl_ab;
mod nut_compat;
mod repeater;
mod socket_symlink;
