//! usbhid-ups: the report decoder/encoder, an arbitrary descriptor with arbitrary reports.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| usbhid_ups::fuzzing::reports(data));
