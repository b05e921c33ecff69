//! The NUT tokenizer on arbitrary bytes: limits and the character filter always hold,
//! feeding byte by byte (owned or borrowed lines) gives exactly what feeding the whole input
//! gives, and our encoder round-trips every accepted line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nut_core::token::{self, Limits, Line, Tokenizer};

fn check(line: &Line, limits: Limits) {
    assert!(
        line.words.len() <= limits.max_args,
        "too many words: {line:?}"
    );
    for word in &line.words {
        assert!(word.len() <= limits.max_word_len, "word too long: {line:?}");
        assert!(
            word.bytes().all(|b| (0x20..=0x7f).contains(&b)),
            "bad byte: {line:?}"
        );
    }
    if line.error.is_some() {
        assert!(line.words.is_empty(), "rejected line kept words: {line:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks small limits sometimes, to reach the limit paths quickly.
    let limits = match data.first() {
        Some(b) if b % 4 == 0 => Limits {
            max_args: 3,
            max_word_len: 5,
            max_line_bytes: Some(40),
        },
        _ => Limits::default(),
    };

    let mut whole = Tokenizer::new(limits);
    let mut lines_whole = whole.push_slice(data);
    lines_whole.extend(whole.finish());

    let mut bytewise = Tokenizer::new(limits);
    let mut lines_bytewise: Vec<Line> = data.iter().filter_map(|&b| bytewise.push(b)).collect();
    lines_bytewise.extend(bytewise.finish());

    assert_eq!(lines_whole, lines_bytewise);

    // The borrowed form (upsd's allocation-free path) sees the same lines.
    let mut borrowed = Tokenizer::new(limits);
    let mut lines_borrowed: Vec<Line> = data
        .iter()
        .filter_map(|&b| borrowed.push_borrowed(b).map(|l| l.to_line()))
        .collect();
    lines_borrowed.extend(borrowed.finish());
    assert_eq!(lines_whole, lines_borrowed);
    for line in &lines_whole {
        check(line, limits);
    }
    // Our encoder writes any accepted line back so that it splits to the same words.
    if limits == Limits::default() {
        for line in lines_whole.iter().filter(|l| l.error.is_none()) {
            let joined = token::join_words(&line.words);
            assert_eq!(
                token::split_line(&joined).as_ref(),
                Ok(&line.words),
                "{joined:?}"
            );
        }
    }
    // Line numbers never go backwards.
    assert!(lines_whole.windows(2).all(|w| w[0].line_no <= w[1].line_no));
});
