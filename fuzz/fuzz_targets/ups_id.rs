//! UPS identifiers (`ups[@host[:port]]`) and `host[:port]` on arbitrary text: never panic,
//! and what parses renders to text that parses back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nut_core::conf::{HostPort, UpsId};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = UpsId::parse(&text) {
        let shown = id.to_string();
        assert_eq!(UpsId::parse(&shown).as_ref(), Ok(&id), "{shown:?}");
    }
    if let Ok(hp) = HostPort::parse(&text) {
        let shown = hp.to_string();
        assert_eq!(HostPort::parse(&shown).as_ref(), Ok(&hp), "{shown:?}");
    }
});
