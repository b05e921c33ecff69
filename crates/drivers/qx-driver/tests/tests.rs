//! The integration tests of this crate, in one test binary (`autotests = false` in
//! Cargo.toml): one module per former test file, so test names read `file::test`.

mod ab_behaviour;
mod ab_serial;
mod killpower;
mod steady_poll;
mod usb_ab;
mod usb_reconnect;
mod usb_replay;
