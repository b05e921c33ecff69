//! The network request parser (`nut_core::net::Request`) on every line our tokenizer makes
//! of arbitrary bytes: never panics, and a parsed request renders to a line that parses
//! back to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nut_core::net::Request;
use nut_core::token::{self, Limits, Tokenizer};

fuzz_target!(|data: &[u8]| {
    let mut tokenizer = Tokenizer::new(Limits::default());
    for line in tokenizer.push_slice(data) {
        let Ok(words) = line.into_result() else {
            continue;
        };
        for (user, pass) in [(false, false), (true, false), (true, true)] {
            let _ = Request::parse_with_credentials(&words, user, pass);
        }
        if let Ok(request) = Request::parse(&words) {
            let rendered = request.to_line();
            let again = token::split_line(rendered.trim_end_matches('\n'))
                .unwrap_or_else(|e| panic!("{rendered:?} does not tokenize: {e}"));
            assert_eq!(
                Request::parse(&again).as_ref(),
                Ok(&request),
                "{rendered:?}"
            );
        }
    }
});
