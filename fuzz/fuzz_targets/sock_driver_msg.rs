//! The driver socket protocol parser (`nut_core::sock::DriverMsg`) on every line of
//! arbitrary text: never panics, and a parsed message renders to a line that parses back to
//! the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nut_core::sock::DriverMsg;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.split('\n') {
        if let Ok(msg) = DriverMsg::parse_line(line) {
            let rendered = msg.to_line();
            let again = DriverMsg::parse_line(rendered.trim_end_matches('\n'));
            assert_eq!(again.as_ref(), Ok(&msg), "{rendered:?}");
        }
    }
});
