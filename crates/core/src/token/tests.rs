use proptest::prelude::*;

use super::*;

/// Split `input` (one line plus LF) both whole and byte by byte, with LF and with CRLF,
/// and check every path agrees before returning the result.
fn split(input: &str) -> Result<Vec<String>, TokenError> {
    let mut results = Vec::new();
    for ending in ["\n", "\r\n"] {
        let text = format!("{input}{ending}");
        let whole = Tokenizer::default().push_slice(text.as_bytes());
        let mut t = Tokenizer::default();
        let bytewise: Vec<Line> = text.bytes().filter_map(|b| t.push(b)).collect();
        assert_eq!(whole, bytewise, "whole vs byte-by-byte for {input:?}");
        assert_eq!(
            whole,
            borrowed(text.as_bytes()),
            "whole vs borrowed for {input:?}"
        );
        assert_eq!(whole.len(), 1, "one line expected for {input:?}: {whole:?}");
        results.push(whole.into_iter().next().map(Line::into_result).unwrap());
    }
    assert_eq!(results[0], results[1], "LF vs CRLF for {input:?}");
    results.pop().unwrap()
}

/// Every line of `bytes` through [`Tokenizer::push_borrowed`], copied out.
fn borrowed(bytes: &[u8]) -> Vec<Line> {
    let mut t = Tokenizer::default();
    bytes
        .iter()
        .filter_map(|&b| t.push_borrowed(b).map(|l| l.to_line()))
        .collect()
}

fn words(input: &str) -> Vec<String> {
    split(input).unwrap_or_else(|e| panic!("{input:?} failed: {e}"))
}

#[test]
fn bare_words_and_whitespace() {
    assert_eq!(
        words("GET VAR dummy ups.status"),
        ["GET", "VAR", "dummy", "ups.status"]
    );
    assert_eq!(words("  \tGET\x0bVAR\x0c x "), ["GET", "VAR", "x"]);
    assert_eq!(words(""), Vec::<String>::new());
    assert_eq!(words("   "), Vec::<String>::new());
}

#[test]
fn quotes() {
    assert_eq!(
        words(r#"SET VAR ups x "a b c""#),
        ["SET", "VAR", "ups", "x", "a b c"]
    );
    assert_eq!(words(r#"x """#), ["x", ""]);
    assert_eq!(words(r#""abc"def"#), ["abc", "def"]);
    assert_eq!(words(r#"ab"cd"#), [r#"ab"cd"#]);
    assert_eq!(words(r#"a "b\"c" d"#), ["a", r#"b"c"#, "d"]);
    assert_eq!(words(r#""a\\b""#), [r"a\b"]);
    assert_eq!(words(r#""a\#b""#), ["a#b"]);
    assert_eq!(words(r#""a=b""#), ["a=b"]);
}

#[test]
fn comments() {
    assert_eq!(words("ups.status#x"), ["ups.status"]);
    assert_eq!(words("a # b c"), ["a"]);
    assert_eq!(words("# only"), Vec::<String>::new());
    assert_eq!(words(r"a\#b"), ["a#b"]);
    assert_eq!(
        split(r#"GET VAR dummy "ups.st#atus""#),
        Err(TokenError::HashInQuotes)
    );
}

#[test]
fn equals_is_its_own_word() {
    for s in ["foo=bar", "foo = bar", "foo= bar", "foo =bar"] {
        assert_eq!(words(s), ["foo", "=", "bar"], "{s}");
    }
    assert_eq!(words("a==b"), ["a", "=", "=", "b"]);
    assert_eq!(words(r#"password = "x=y""#), ["password", "=", "x=y"]);
    assert_eq!(words(r"a\=b"), ["a=b"]);
    assert_eq!(
        words("GET VAR fake=ups.status"),
        ["GET", "VAR", "fake", "=", "ups.status"]
    );
}

#[test]
fn backslash_escapes_in_bare_words() {
    assert_eq!(words(r"a\ b"), ["a b"]);
    assert_eq!(words(r#"a\"b"#), [r#"a"b"#]);
    assert_eq!(words(r"\\"), [r"\"]);
    assert_eq!(words(r"\x"), ["x"]);
}

#[test]
fn continuation_lines() {
    let mut t = Tokenizer::default();
    let lines = t.push_slice(b"GET VAR fake ups.sta\\\ntus\n");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].words, ["GET", "VAR", "fake", "ups.status"]);

    let lines = Tokenizer::default().push_slice(b"a \"b\\\nc\" d\n");
    assert_eq!(lines[0].words, ["a", "bc", "d"]);

    // NUT emits an empty word here; we deliberately do not (docs/compatibility.md).
    let lines = Tokenizer::default().push_slice(b"GET VAR fake \\\n  ups.status\n");
    assert_eq!(lines[0].words, ["GET", "VAR", "fake", "ups.status"]);
    let lines = Tokenizer::default().push_slice(b"GET VAR fake \\\nups.status\n");
    assert_eq!(lines[0].words, ["GET", "VAR", "fake", "ups.status"]);
}

#[test]
fn raw_newline_inside_quotes_keeps_collecting() {
    let mut t = Tokenizer::default();
    let lines = t.push_slice(b"a \"b\nc\" d\nnext\n");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].words, ["a", "bc", "d"]);
    assert_eq!(lines[0].discarded, 1);
    assert_eq!(lines[1].words, ["next"]);
    assert_eq!(lines[1].line_no, 3);
}

#[test]
fn invalid_bytes_are_dropped_and_counted() {
    let lines = Tokenizer::default().push_slice(b"ups.st\xc3\xa9atus x\x01\n");
    assert_eq!(lines[0].words, ["ups.status", "x"]);
    assert_eq!(lines[0].discarded, 3);
    let lines = Tokenizer::default().push_slice(b"\"a\tb\"\n");
    assert_eq!(lines[0].words, ["ab"]);
    let lines = Tokenizer::default().push_slice(b"a\x7fb\n");
    assert_eq!(lines[0].words, ["a\x7fb"]);
    // A bare word whose bytes were all dropped is still a word, an empty one (as in NUT).
    let lines = Tokenizer::default().push_slice(b"GET VAR \xc3\xa9 x\n");
    assert_eq!(lines[0].words, ["GET", "VAR", "", "x"]);
    let lines = Tokenizer::default().push_slice(b"a \\\x01 b\n");
    assert_eq!(lines[0].words, ["a", "", "b"]);
}

#[test]
fn limits() {
    let many = vec!["w"; 40].join(" ");
    assert_eq!(words(&many).len(), 32);
    let long = "x".repeat(600);
    assert_eq!(words(&long)[0].len(), 512);
    let limits = Limits {
        max_line_bytes: Some(16),
        ..Limits::default()
    };
    let mut t = Tokenizer::new(limits);
    let lines = t.push_slice(b"GET VAR \"aaaaaaaaaaaaaaaaaaaaaaa\nVER\n");
    assert_eq!(lines[0].error, Some(TokenError::LineTooLong { limit: 16 }));
    assert!(lines[0].words.is_empty());
    assert_eq!(lines[1].words, ["VER"]);
}

#[test]
fn text_mode_line_numbers_and_final_line() {
    let text = b"# comment\n\n[ups]\n  driver = dummy-ups\n  port = x \\\n  y\nlast";
    let lines = tokenize_text(text, Limits::default());
    let got: Vec<(usize, Vec<String>)> = lines.into_iter().map(|l| (l.line_no, l.words)).collect();
    let want: Vec<(usize, Vec<&str>)> = vec![
        (3, vec!["[ups]"]),
        (4, vec!["driver", "=", "dummy-ups"]),
        (5, vec!["port", "=", "x", "y"]),
        (7, vec!["last"]),
    ];
    assert_eq!(got.len(), want.len());
    for ((gl, gw), (wl, ww)) in got.iter().zip(&want) {
        assert_eq!(
            (gl, gw),
            (wl, &ww.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        );
    }
    let lines = tokenize_text(b"a \"open", Limits::default());
    assert_eq!(lines[0].error, Some(TokenError::UnterminatedQuote));
}

#[test]
fn escape_and_quote() {
    assert_eq!(escape("plain"), "plain");
    assert_eq!(escape(r#"a "b" \c #d"#), r#"a \"b\" \\c \#d"#);
    assert_eq!(quote(r#"Test "quoted" UPS"#), r#""Test \"quoted\" UPS""#);
    assert_eq!(
        join_words(&["SET", "ups.id", "a b", "", "="]),
        r#"SET ups.id "a b" "" "=""#
    );
}

fn word_strategy() -> impl Strategy<Value = String> {
    proptest::collection::vec(0x20u8..=0x7f, 0..40)
        .prop_map(|bytes| bytes.into_iter().map(char::from).collect())
}

proptest! {
    #[test]
    fn quote_round_trips(word in word_strategy()) {
        prop_assert_eq!(split_line(&quote(&word)).unwrap(), vec![word]);
    }

    #[test]
    fn join_round_trips(ws in proptest::collection::vec(word_strategy(), 0..32)) {
        prop_assert_eq!(split_line(&join_words(&ws)).unwrap(), ws);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_stay_bounded(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut t = Tokenizer::default();
        let mut lines = t.push_slice(&bytes);
        lines.extend(t.finish());
        for line in lines {
            prop_assert!(line.words.len() <= 32);
            for w in &line.words {
                prop_assert!(w.len() <= 512);
                prop_assert!(w.bytes().all(|b| (0x20..=0x7f).contains(&b)));
            }
        }
    }

    #[test]
    fn byte_by_byte_equals_whole(bytes in proptest::collection::vec(any::<u8>(), 0..500)) {
        let whole = Tokenizer::default().push_slice(&bytes);
        let mut t = Tokenizer::default();
        let split: Vec<Line> = bytes.iter().filter_map(|&b| t.push(b)).collect();
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(whole, borrowed(&bytes));
    }
}

#[test]
fn borrowed_lines_reuse_their_buffers_without_leaking_words() {
    let mut t = Tokenizer::new(Limits {
        max_args: 3,
        ..Limits::default()
    });
    let mut seen = Vec::new();
    // Long, short, rejected, too many words, empty, then owned and borrowed mixed.
    let input = b"a bb ccc\nx\n\"#\" y\np q r s\n\n\"\" z\n";
    for &b in input.iter() {
        if let Some(line) = t.push_borrowed(b) {
            seen.push((line.words.to_vec(), line.error.clone(), line.line_no));
        }
    }
    let expected = vec![
        (vec!["a".into(), "bb".into(), "ccc".into()], None, 1),
        (vec!["x".into()], None, 2),
        (vec![], Some(TokenError::HashInQuotes), 3),
        (vec!["p".into(), "q".into(), "r".into()], None, 4),
        (vec![], None, 5),
        (vec!["".into(), "z".into()], None, 6),
    ];
    assert_eq!(seen, expected);
    // An owned line after borrowed ones, then a borrowed one again.
    let owned: Vec<Line> = b"GET VAR u\n".iter().filter_map(|&b| t.push(b)).collect();
    assert_eq!(owned.len(), 1);
    assert_eq!(owned[0].words, ["GET", "VAR", "u"]);
    let mut again = None;
    for &b in b"v\n" {
        if let Some(line) = t.push_borrowed(b) {
            again = Some(line.to_line());
        }
    }
    assert_eq!(again.map(|l| l.words), Some(vec!["v".to_owned()]));
}
