//! The integration tests of this crate, in one test binary (`autotests = false` in
//! Cargo.toml): one module per former test file, so test names read `file::test`.

mod conf_debian_samples;
mod conf_fixtures;
mod conf_robustness;
mod net_client;
mod net_errors;
mod net_request;
mod net_tracking;
mod net_transcript;
mod net_upsd_checks;
