//! The cmdvartab parser (`nut_core::conf::parse_cmdvartab`) on arbitrary bytes: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = nut_core::conf::parse_cmdvartab(data, "cmdvartab");
});
