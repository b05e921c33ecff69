//! The NUT tokenizer: one state machine for every config file and both wire protocols.
//!
//! NUT splits every line it reads (ups.conf, upsd.conf, the network protocol, the driver
//! socket) with the same character-driven rules; clients and config files in the wild rely on
//! its exact corner cases, so this module reproduces them (see the reference, §1):
//!
//! * LF ends a line; every other `isspace` byte (space, tab, CR, VT, FF) separates words, so
//!   CRLF input works.
//! * `#` at a word start or inside a bare word starts a comment; inside quotes it is an error
//!   and the whole line is rejected.
//! * `"` at a word start opens a quoted word (which may be empty); inside a bare word it is an
//!   ordinary byte; after a closing quote a new word starts (`"abc"def` is two words).
//! * `\` takes the next byte literally, in or out of quotes; `\` + LF continues the line.
//! * Outside quotes `=` is always a word of its own: `a=b`, `a = b` and `a =b` all give
//!   `a`, `=`, `b`.
//! * Only bytes 0x20..=0x7F are kept (NUT's CVE-2012-2944 filter); others are dropped and
//!   counted in [`Line::discarded`], so callers can warn. Words are therefore always ASCII.
//! * At most [`Limits::max_args`] words per line (extra words are dropped) and
//!   [`Limits::max_word_len`] bytes per word (the rest is dropped), as in NUT.
//!
//! Two of NUT's quirks are fixed on purpose (docs/compatibility.md, "Tokenizer"): a `\` + LF
//! continuation followed by indentation does not produce a spurious empty word, and a final
//! line without LF is not lost at end of input.
//!
//! The tokenizer is sans-IO: feed it bytes ([`Tokenizer::push`]) and collect [`Line`]s, or
//! look at each line in the tokenizer's own buffers ([`Tokenizer::push_borrowed`] gives a
//! [`LineRef`]), which allocates nothing once the buffers have grown to the longest line
//! (upsd's request path).

use std::borrow::Cow;
use std::fmt;

/// Limits applied while tokenizing. The defaults are NUT's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Words beyond this count are dropped (NUT: 32).
    pub max_args: usize,
    /// Bytes beyond this length are dropped from a word (NUT: 512).
    pub max_word_len: usize,
    /// A logical line whose raw size exceeds this many bytes is rejected with
    /// [`TokenError::LineTooLong`] once its end arrives; the bytes in between are not kept.
    /// `None` means unbounded (NUT's behaviour; memory stays bounded by the two limits above).
    pub max_line_bytes: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_args: 32,
            max_word_len: 512,
            max_line_bytes: None,
        }
    }
}

/// Why a line was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// A `#` appeared inside a quoted word (NUT: "Unbalanced word due to unescaped # in
    /// quotes"). The rest of the line is skipped.
    HashInQuotes,
    /// The input ended inside a quoted word.
    UnterminatedQuote,
    /// The logical line was longer than [`Limits::max_line_bytes`].
    LineTooLong {
        /// The configured limit.
        limit: usize,
    },
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HashInQuotes => f.write_str("Unbalanced word due to unescaped # in quotes"),
            Self::UnterminatedQuote => f.write_str("Unbalanced word due to missing closing quote"),
            Self::LineTooLong { limit } => write!(f, "line longer than {limit} bytes"),
        }
    }
}

impl std::error::Error for TokenError {}

/// One logical line: its words, or the reason it was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The words. Empty for blank and comment-only lines, and for rejected lines.
    pub words: Vec<String>,
    /// Set when the line must be ignored; `words` is then empty.
    pub error: Option<TokenError>,
    /// 1-based physical line number where this logical line started.
    pub line_no: usize,
    /// How many bytes outside 0x20..=0x7F were dropped from words.
    pub discarded: usize,
}

impl Line {
    /// The line as a [`LineRef`].
    pub fn borrowed(&self) -> LineRef<'_> {
        LineRef {
            words: &self.words,
            error: self.error.clone(),
            line_no: self.line_no,
            discarded: self.discarded,
        }
    }

    /// The words, or the error that rejected the line.
    pub fn into_result(self) -> Result<Vec<String>, TokenError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.words),
        }
    }
}

/// One logical line in the tokenizer's buffers ([`Tokenizer::push_borrowed`]); the fields
/// mean what [`Line`]'s do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineRef<'a> {
    /// The words. Empty for blank and comment-only lines, and for rejected lines.
    pub words: &'a [String],
    /// Set when the line must be ignored; `words` is then empty.
    pub error: Option<TokenError>,
    /// 1-based physical line number where this logical line started.
    pub line_no: usize,
    /// How many bytes outside 0x20..=0x7F were dropped from words.
    pub discarded: usize,
}

impl LineRef<'_> {
    /// An owned copy.
    pub fn to_line(&self) -> Line {
        Line {
            words: self.words.to_vec(),
            error: self.error.clone(),
            line_no: self.line_no,
            discarded: self.discarded,
        }
    }
}

/// What a completed line is besides its words.
struct Ending {
    error: Option<TokenError>,
    line_no: usize,
    discarded: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between words.
    WordStart,
    /// In a comment (or skipping after an error) until LF.
    Comment,
    /// Inside `"…"`.
    Quoted,
    /// After `\` inside quotes.
    QuotedLiteral,
    /// Inside a bare word.
    Bare,
    /// After `\` in (or at the start of) a bare word.
    BareLiteral,
}

/// Streaming tokenizer. Feed bytes with [`push`](Self::push) (or
/// [`push_slice`](Self::push_slice)); each completed logical line is returned. Call
/// [`finish`](Self::finish) at end of input to flush a final line without LF.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    limits: Limits,
    state: State,
    word: String,
    /// Whether the current word consumed any byte, kept or dropped by the filter. A bare word
    /// that consumed nothing can only come from a `\` + LF continuation at a word start.
    word_touched: bool,
    /// Word slots: the first `nwords` are the words of the current line. Slots keep their
    /// capacity from line to line, so a line costs no allocation once they have grown.
    words: Vec<String>,
    nwords: usize,
    /// The slots hold the words of a line handed out by [`Tokenizer::push_borrowed`]
    /// (cleared at the next byte).
    held: bool,
    error: Option<TokenError>,
    discarded: usize,
    /// Physical line currently being read (1-based).
    physical_line: usize,
    /// Physical line where the current logical line began.
    start_line: usize,
    /// Raw bytes seen in the current logical line.
    line_bytes: usize,
}

impl Default for Tokenizer {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl Tokenizer {
    /// A tokenizer with the given limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            state: State::WordStart,
            word: String::new(),
            word_touched: false,
            words: Vec::new(),
            nwords: 0,
            held: false,
            error: None,
            discarded: 0,
            physical_line: 1,
            start_line: 1,
            line_bytes: 0,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether a partial line is buffered (bytes seen since the last completed line).
    pub fn is_mid_line(&self) -> bool {
        self.line_bytes > 0
    }

    /// Feed one byte; returns the logical line it completes, if any.
    #[inline]
    pub fn push(&mut self, ch: u8) -> Option<Line> {
        let ending = self.step(ch)?;
        Some(self.take_owned(ending))
    }

    /// Feed one byte; returns the logical line it completes, if any, borrowed from the
    /// tokenizer's buffers until the next byte. Allocates nothing once the buffers have
    /// grown to the longest line seen (bounded by [`Limits::max_args`] words of
    /// [`Limits::max_word_len`] bytes).
    #[inline]
    pub fn push_borrowed(&mut self, ch: u8) -> Option<LineRef<'_>> {
        let ending = self.step(ch)?;
        self.held = true;
        Some(LineRef {
            words: &self.words[..self.nwords],
            error: ending.error,
            line_no: ending.line_no,
            discarded: ending.discarded,
        })
    }

    /// One byte through the state machine; the ending of the line it completes, if any.
    #[inline]
    fn step(&mut self, ch: u8) -> Option<Ending> {
        if self.held {
            self.held = false;
            self.nwords = 0;
        }
        if self.line_bytes == 0 {
            self.start_line = self.physical_line;
        }
        self.line_bytes = self.line_bytes.saturating_add(1);
        let over_limit = self
            .limits
            .max_line_bytes
            .is_some_and(|limit| self.line_bytes > limit);
        if ch == b'\n' {
            self.physical_line += 1;
        }
        if over_limit {
            if self.error.is_none() {
                self.error = Some(TokenError::LineTooLong {
                    limit: self.limits.max_line_bytes.unwrap_or_default(),
                });
                self.word.clear();
                self.word_touched = false;
                self.nwords = 0;
            }
            // Whatever the state, a raw LF ends an over-long line so that a peer cannot keep
            // us in it forever with an open quote.
            self.state = State::Comment;
            return (ch == b'\n').then(|| self.end_line());
        }
        match self.state {
            State::WordStart => self.word_start(ch),
            State::Comment => {
                if ch == b'\n' {
                    return Some(self.end_line());
                }
            }
            State::Quoted => match ch {
                b'#' => {
                    self.fail(TokenError::HashInQuotes);
                }
                b'"' => {
                    self.end_word();
                    self.state = State::WordStart;
                }
                b'\\' => self.state = State::QuotedLiteral,
                // A raw LF inside quotes does not end the line: it is a control byte and is
                // dropped by the filter, exactly as NUT does.
                _ => self.add_char(ch),
            },
            State::QuotedLiteral => {
                // `\` + LF continues the quoted word on the next line.
                if ch != b'\n' {
                    self.add_char(ch);
                }
                self.state = State::Quoted;
            }
            State::Bare => match ch {
                b'#' => {
                    self.end_bare_word();
                    self.state = State::Comment;
                }
                b'\n' => {
                    self.end_bare_word();
                    return Some(self.end_line());
                }
                b'=' => {
                    self.end_bare_word();
                    self.state = State::WordStart;
                    self.word_start(ch);
                }
                b'\\' => self.state = State::BareLiteral,
                c if is_space(c) => {
                    self.end_bare_word();
                    self.state = State::WordStart;
                }
                c => self.add_char(c),
            },
            State::BareLiteral => {
                if ch != b'\n' {
                    self.add_char(ch);
                }
                self.state = State::Bare;
            }
        }
        if ch == b'\n' && self.state == State::WordStart {
            return Some(self.end_line());
        }
        None
    }

    /// Feed a slice; returns every logical line it completes.
    pub fn push_slice(&mut self, bytes: &[u8]) -> Vec<Line> {
        bytes.iter().filter_map(|&b| self.push(b)).collect()
    }

    /// End of input: returns the final logical line if it was not terminated by LF.
    pub fn finish(&mut self) -> Option<Line> {
        if self.held {
            self.held = false;
            self.nwords = 0;
        }
        if self.line_bytes == 0 {
            return None;
        }
        match self.state {
            State::Quoted | State::QuotedLiteral => {
                if self.error.is_none() {
                    self.fail(TokenError::UnterminatedQuote);
                }
            }
            State::Bare | State::BareLiteral => self.end_bare_word(),
            State::WordStart | State::Comment => {}
        }
        let ending = self.end_line();
        let line = self.take_owned(ending);
        (line.error.is_some() || !line.words.is_empty() || line.discarded > 0).then_some(line)
    }

    fn word_start(&mut self, ch: u8) {
        match ch {
            b'\n' => {} // the caller completes the line
            b'#' => self.state = State::Comment,
            b'\\' => self.state = State::BareLiteral,
            b'"' => self.state = State::Quoted,
            b'=' => {
                self.add_char(ch);
                self.end_word();
            }
            c if is_space(c) => {}
            c => {
                self.add_char(c);
                self.state = State::Bare;
            }
        }
    }

    fn add_char(&mut self, ch: u8) {
        self.word_touched = true;
        if !(0x20..=0x7f).contains(&ch) {
            self.discarded += 1;
            return;
        }
        if self.word.len() < self.limits.max_word_len {
            self.word.push(char::from(ch));
        }
    }

    /// A bare word that consumed no byte at all (only possible after a `\` + LF continuation
    /// at a word start) is not a word: NUT emits an empty argument here, we do not. A word of
    /// bytes that were all dropped by the filter is still an (empty) word, as in NUT.
    fn end_bare_word(&mut self) {
        if self.word_touched {
            self.end_word();
        }
    }

    fn end_word(&mut self) {
        self.word_touched = false;
        if self.nwords < self.limits.max_args {
            // Copied into a slot that keeps its capacity, so that a line costs no
            // allocation once the slots have grown (this is on upsd's per-request path).
            match self.words.get_mut(self.nwords) {
                Some(slot) => {
                    slot.clear();
                    slot.push_str(&self.word);
                }
                None => self.words.push(self.word.clone()),
            }
            self.nwords += 1;
        }
        self.word.clear();
    }

    fn fail(&mut self, error: TokenError) {
        self.error = Some(error);
        self.word_touched = false;
        self.word.clear();
        self.nwords = 0;
        self.state = State::Comment;
    }

    /// The current line is complete: its words stay in the first `nwords` slots.
    fn end_line(&mut self) -> Ending {
        let error = self.error.take();
        if error.is_some() {
            self.nwords = 0;
        }
        let ending = Ending {
            error,
            line_no: self.start_line,
            discarded: std::mem::take(&mut self.discarded),
        };
        self.word.clear();
        self.word_touched = false;
        self.state = State::WordStart;
        self.line_bytes = 0;
        ending
    }

    /// The completed line as a [`Line`], its words moved out of their slots.
    fn take_owned(&mut self, ending: Ending) -> Line {
        let words = self.words.drain(..self.nwords).collect();
        self.nwords = 0;
        Line {
            words,
            error: ending.error,
            line_no: ending.line_no,
            discarded: ending.discarded,
        }
    }
}

/// `isspace` in the C locale, minus LF (which ends lines).
fn is_space(ch: u8) -> bool {
    matches!(ch, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

/// Tokenize a whole text (a config file), yielding every logical line that holds words or an
/// error. Blank and comment-only lines are skipped.
pub fn tokenize_text(text: &[u8], limits: Limits) -> Vec<Line> {
    let mut tokenizer = Tokenizer::new(limits);
    let mut lines: Vec<Line> = tokenizer
        .push_slice(text)
        .into_iter()
        .filter(|l| l.error.is_some() || !l.words.is_empty() || l.discarded > 0)
        .collect();
    lines.extend(tokenizer.finish());
    lines
}

/// Split one line (a protocol line without its LF, or a single config line).
pub fn split_line(line: &str) -> Result<Vec<String>, TokenError> {
    split_bytes(line.as_bytes())
}

/// Split one line given as bytes (see [`split_line`]).
pub fn split_bytes(line: &[u8]) -> Result<Vec<String>, TokenError> {
    let mut tokenizer = Tokenizer::default();
    let mut words = Vec::new();
    for l in tokenizer.push_slice(line) {
        // A raw LF inside the slice ends a line; keep NUT's one-line view by joining.
        words.extend(l.into_result()?);
    }
    if let Some(last) = tokenizer.finish() {
        words.extend(last.into_result()?);
    }
    Ok(words)
}

/// Escape `\`, `"` and `#` with a backslash (NUT's `pconf_encode`). Nothing else changes.
pub fn escape(value: &str) -> Cow<'_, str> {
    if !value.bytes().any(needs_escape) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 4);
    for ch in value.chars() {
        if ch.is_ascii() && needs_escape(ch as u8) {
            out.push('\\');
        }
        out.push(ch);
    }
    Cow::Owned(out)
}

/// Append `"<escaped value>"` to `out`.
pub fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    out.push_str(&escape(value));
    out.push('"');
}

/// `"<escaped value>"` as a new string.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    push_quoted(&mut out, value);
    out
}

/// Render `words` as one line (without LF) that tokenizes back to the same words: words that
/// need it are quoted, the rest are written bare.
pub fn join_words<S: AsRef<str>>(words: &[S]) -> String {
    let mut out = String::new();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        push_word(&mut out, word.as_ref());
    }
    out
}

/// Append one word to `out`, bare if that is safe, else quoted.
pub fn push_word(out: &mut String, word: &str) {
    let bare_safe = !word.is_empty()
        && !word.starts_with('"')
        && word
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && !matches!(b, b'#' | b'\\' | b'=' | b'"'));
    if bare_safe {
        out.push_str(word);
    } else {
        push_quoted(out, word);
    }
}

fn needs_escape(b: u8) -> bool {
    matches!(b, b'\\' | b'"' | b'#')
}

#[cfg(test)]
mod tests;
