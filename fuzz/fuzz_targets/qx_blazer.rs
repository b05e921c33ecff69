//! The blazer_ser/blazer_usb core (megatec, mustek, megatec/old, zinto as blazer reads them)
//! answered with arbitrary replies.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nutdrv_qx::fuzzing::blazer_session(data, Some("60"));
});
