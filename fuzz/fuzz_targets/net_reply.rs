//! The client-side reply parser (`nut_core::net::parse_reply`) on arbitrary text, for each
//! kind of request: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nut_core::net::{Request, parse_reply};

const REQUESTS: &[&[&str]] = &[
    &["VER"],
    &["NETVER"],
    &["HELP"],
    &["STARTTLS"],
    &["USERNAME", "u"],
    &["LOGIN", "ups"],
    &["LOGOUT"],
    &["PRIMARY", "ups"],
    &["FSD", "ups"],
    &["GET", "TRACKING"],
    &["GET", "NUMLOGINS", "ups"],
    &["GET", "UPSDESC", "ups"],
    &["GET", "VAR", "ups", "ups.status"],
    &["GET", "TYPE", "ups", "ups.id"],
    &["GET", "DESC", "ups", "ups.id"],
    &["GET", "CMDDESC", "ups", "load.off"],
    &["LIST", "UPS"],
    &["LIST", "VAR", "ups"],
    &["LIST", "RW", "ups"],
    &["LIST", "CMD", "ups"],
    &["LIST", "CLIENT", "ups"],
    &["LIST", "ENUM", "ups", "input.transfer.low"],
    &["LIST", "RANGE", "ups", "input.transfer.low"],
    &["SET", "VAR", "ups", "ups.id", "x"],
    &["SET", "TRACKING", "ON"],
    &["INSTCMD", "ups", "load.off"],
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let words = REQUESTS[usize::from(pick) % REQUESTS.len()];
    let request = Request::parse(words).expect("fixed requests parse");
    let _ = parse_reply(&request, &String::from_utf8_lossy(rest));
});
