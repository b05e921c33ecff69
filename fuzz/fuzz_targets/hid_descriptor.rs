//! usbhid-ups: the HID report-descriptor parser and NUT's path naming on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| usbhid_ups::fuzzing::descriptor(data));
