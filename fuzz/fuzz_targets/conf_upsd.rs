//! The upsd.conf parser (`nut_core::conf::parse_upsd_conf`) on arbitrary bytes: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = nut_core::conf::parse_upsd_conf(data, "upsd.conf");
});
