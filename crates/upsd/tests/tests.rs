//! The integration tests of this crate, in one test binary (`autotests = false` in
//! Cargo.toml): one module per former test file, so test names read `file::test`.

mod abuse;
mod ddl;
mod hostile;
mod lifecycle;
mod nut_compat;
mod privileges;
mod reload;
mod tls;
