//! nut-compat-tests: cross-program A/B tests that run the same input through nut-rs and
//! through Debian's NUT 2.8.0 and compare what comes out. The tests live in `tests/`;
//! this library only holds helpers shared by them.
//!
//! [`notation`] turns readable test-corpus text (`{CR}`, `{x00}`, `{rep 600 a}`) into the
//! exact bytes to send.

pub mod notation;
