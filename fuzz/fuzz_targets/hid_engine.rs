//! usbhid-ups: the driver engine (subdriver tables, status, commands, SETs) fed an arbitrary
//! descriptor and reports.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| usbhid_ups::fuzzing::engine(data));
