//! The integration tests of this crate, in one test binary (`autotests = false` in
//! Cargo.toml): one module per former test file, so test names read `file::test`.

mod common;

mod debian_dump;
mod debian_shutdown;
mod debian_vars;
mod logic;
mod mge;
mod parser;
mod selection;
mod small_subdrivers;
mod vendor_specs_debian;
mod vendor_tables;
