//! The upsmon.conf parser (`nut_core::conf::parse_upsmon_conf`) on arbitrary bytes: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = nut_core::conf::parse_upsmon_conf(data, "upsmon.conf");
});
