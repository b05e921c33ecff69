//! `ups.status` values and NOTIFYFLAG specs on arbitrary text: never panic, and a parsed
//! status renders to text that parses back to the same status.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nut_core::names::{NotifyFlags, Status};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let status = Status::parse(&text);
    let shown = status.to_string();
    assert_eq!(Status::parse(&shown), status, "{shown:?}");
    let _ = NotifyFlags::parse(&text);
});
