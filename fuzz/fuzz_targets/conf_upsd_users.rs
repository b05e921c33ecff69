//! The upsd.users parser (`nut_core::conf::parse_upsd_users`) on arbitrary bytes: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = nut_core::conf::parse_upsd_users(data, "upsd.users");
});
