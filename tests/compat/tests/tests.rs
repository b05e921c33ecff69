//! The integration tests of this crate, in one test binary (`autotests = false` in
//! Cargo.toml): one module per former test file, so test names read `file::test`.

#[macro_use]
mod real_support;
mod systemd_support;

mod clients_ab;
mod clients_real;
mod daemon_exit_codes;
mod daemon_lifecycle;
mod real_rust;
mod real_scripted;
mod systemd_notify;
mod systemd_units;
mod tokenizer_ab;
mod upsd_ab;
mod upsmon_scenarios;
