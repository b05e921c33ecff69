//! Diagnostics shared by every config parser: what went wrong, where, and how bad it is.
//!
//! Every problem names the file (as the caller gave it), the 1-based line and what was
//! expected. Parsers collect all of them instead of stopping at the first, so an
//! administrator fixes a file in one pass. See the module docs of [`crate::conf`] for which
//! problems are errors and which are warnings.

use std::collections::HashMap;
use std::fmt;

use crate::token::{self, Limits, TokenError};

/// How bad a [`Diagnostic`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The line was ignored or adjusted, but the result is still what the file most likely
    /// means (unknown or obsolete directive, extra words, a repeated setting).
    Warning,
    /// The file does not say what the daemon needs; using it anyway would misbehave.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Warning => "warning",
            Self::Error => "error",
        })
    }
}

/// One problem found in a config file. Displays as `<file>:<line>: <message>`, or
/// `<file>: <message>` for a problem with the file as a whole (line 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name exactly as the caller passed it to the parser.
    pub file: String,
    /// 1-based line number (for a logical line spanning several physical lines, the first);
    /// 0 when the problem concerns the whole file (e.g. a required setting is missing).
    pub line: usize,
    /// Warning or error.
    pub severity: Severity,
    /// What is wrong and what was expected, without the `file:line: ` prefix.
    pub message: String,
}

impl Diagnostic {
    /// Whether this is an [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// A successfully parsed file: the typed configuration and the warnings to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed<T> {
    /// The configuration.
    pub config: T,
    /// Every warning, in line order. Daemons must print them: NUT logs these cases too (or
    /// silently ignores them, which we do not).
    pub warnings: Vec<Diagnostic>,
}

impl<T> Parsed<T> {
    /// Split into the configuration and its warnings.
    pub fn into_parts(self) -> (T, Vec<Diagnostic>) {
        (self.config, self.warnings)
    }
}

/// A file with at least one error. Displays every error, one per line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfError {
    /// Every error, in line order (never empty).
    pub errors: Vec<Diagnostic>,
    /// The warnings found on the way, in line order; worth printing too.
    pub warnings: Vec<Diagnostic>,
}

impl ConfError {
    /// Errors and warnings merged in line order (errors first on the same line).
    pub fn diagnostics(&self) -> Vec<&Diagnostic> {
        let mut all: Vec<&Diagnostic> = self.errors.iter().chain(&self.warnings).collect();
        all.sort_by_key(|d| (d.line, std::cmp::Reverse(d.severity)));
        all
    }
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// What every `parse_*` function returns.
pub type ConfResult<T> = Result<Parsed<T>, ConfError>;

/// NUT's per-line limits for config files: more words than this are dropped…
const MAX_WORDS: usize = 32;
/// …and words are cut at this many bytes.
const MAX_WORD_LEN: usize = 512;

/// One non-empty logical line of a config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConfLine {
    /// 1-based line where the logical line starts.
    pub(crate) line: usize,
    /// The words (never empty).
    pub(crate) words: Vec<String>,
}

impl ConfLine {
    /// The first word: the directive, key or section header.
    pub(crate) fn keyword(&self) -> &str {
        &self.words[0]
    }

    /// Words from index `from` on, joined by single spaces (for messages).
    pub(crate) fn rest(&self, from: usize) -> String {
        self.words.get(from..).unwrap_or_default().join(" ")
    }
}

/// Collects diagnostics for one file while a parser runs.
#[derive(Debug)]
pub(crate) struct Sink {
    file: String,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Sink {
    /// Tokenize `text` with the NUT tokenizer and turn tokenizer-level problems (rejected
    /// lines, dropped bytes, NUT's word limits) into diagnostics. Returns the lines that hold
    /// words.
    pub(crate) fn read(text: &[u8], file: &str) -> (Self, Vec<ConfLine>) {
        let mut sink = Self {
            file: file.to_owned(),
            errors: Vec::new(),
            warnings: Vec::new(),
        };
        // One more than NUT's limits, so that going over them can be noticed and reported
        // before cutting back to exactly what NUT would keep.
        let limits = Limits {
            max_args: MAX_WORDS + 1,
            max_word_len: MAX_WORD_LEN + 1,
            max_line_bytes: None,
        };
        let mut lines = Vec::new();
        for raw in token::tokenize_text(text, limits) {
            let line = raw.line_no;
            if raw.discarded > 0 {
                sink.warn(
                    line,
                    format!(
                        "{} byte(s) outside 0x20-0x7F dropped (NUT keeps only plain ASCII)",
                        raw.discarded
                    ),
                );
            }
            if let Some(error) = raw.error {
                let message = match error {
                    TokenError::HashInQuotes => {
                        "'#' inside quotes must be escaped as \\# (line rejected)".to_owned()
                    }
                    TokenError::UnterminatedQuote => {
                        "missing closing quote (line rejected)".to_owned()
                    }
                    other => format!("{other} (line rejected)"),
                };
                sink.error(line, message);
                continue;
            }
            let mut words = raw.words;
            if words.is_empty() {
                continue;
            }
            if words.len() > MAX_WORDS {
                words.truncate(MAX_WORDS);
                sink.warn(
                    line,
                    format!("more than {MAX_WORDS} words; the rest of the line is ignored"),
                );
            }
            for word in &mut words {
                if word.len() > MAX_WORD_LEN {
                    // Words are ASCII (the tokenizer drops everything else), so any byte
                    // index is a char boundary.
                    word.truncate(MAX_WORD_LEN);
                    sink.warn(
                        line,
                        format!(
                            "word longer than {MAX_WORD_LEN} characters cut to its first {MAX_WORD_LEN}"
                        ),
                    );
                }
            }
            lines.push(ConfLine { line, words });
        }
        (sink, lines)
    }

    /// Record an error at `line`.
    pub(crate) fn error(&mut self, line: usize, message: impl Into<String>) {
        self.errors
            .push(self.diagnostic(line, Severity::Error, message));
    }

    /// Record a warning at `line`.
    pub(crate) fn warn(&mut self, line: usize, message: impl Into<String>) {
        self.warnings
            .push(self.diagnostic(line, Severity::Warning, message));
    }

    fn diagnostic(
        &self,
        line: usize,
        severity: Severity,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            file: self.file.clone(),
            line,
            severity,
            message: message.into(),
        }
    }

    /// Check a keyword directive's word count (the keyword included). Too few words is an
    /// error and returns `false`; too many is a warning naming the ignored words.
    pub(crate) fn arity(&mut self, l: &ConfLine, min: usize, max: usize, usage: &str) -> bool {
        let n = l.words.len();
        if n < min {
            let count = if min == max {
                format!("{min}")
            } else {
                format!("at least {min}")
            };
            self.error(
                l.line,
                format!("{} needs {count} words: {usage}", l.keyword()),
            );
            return false;
        }
        if n > max {
            self.warn(
                l.line,
                format!("extra words ignored: {} (usage: {usage})", l.rest(max)),
            );
        }
        true
    }

    /// Warn about a directive nobody knows, hinting at a case mistake when there is one.
    pub(crate) fn unknown_directive(&mut self, l: &ConfLine, known: &[&str]) {
        let word = l.keyword();
        let hint = known
            .iter()
            .find(|k| k.eq_ignore_ascii_case(word))
            .map(|k| format!("; keywords are case-sensitive, did you mean {k}?"))
            .unwrap_or_default();
        self.warn(l.line, format!("unknown directive {word} (ignored{hint})"));
    }

    /// Report a first word that starts like a `[section]` header but is not one (usually a
    /// name with a space in it).
    pub(crate) fn bad_header(&mut self, l: &ConfLine) {
        self.error(
            l.line,
            format!(
                "'{}' looks like a section header but is not one: write [name] with no spaces",
                l.rest(0)
            ),
        );
    }

    /// Finish: `Ok` with the warnings when there is no error, else every diagnostic.
    pub(crate) fn finish<T>(mut self, config: T) -> ConfResult<T> {
        self.errors.sort_by_key(|d| d.line);
        self.warnings.sort_by_key(|d| d.line);
        if self.errors.is_empty() {
            Ok(Parsed {
                config,
                warnings: self.warnings,
            })
        } else {
            Err(ConfError {
                errors: self.errors,
                warnings: self.warnings,
            })
        }
    }
}

/// `[name]` → `name`, as NUT tests it: the first word starts with `[` and ends with `]`.
pub(crate) fn section_header(word: &str) -> Option<&str> {
    word.strip_prefix('[')?.strip_suffix(']')
}

/// Remembers where single-valued settings were first given, to warn when one is repeated.
#[derive(Debug, Default)]
pub(crate) struct Seen(HashMap<String, usize>);

impl Seen {
    /// Note `key` at `line`; warn (the later value wins, as in NUT) if it was set before.
    pub(crate) fn note(&mut self, sink: &mut Sink, key: &str, line: usize) {
        if let Some(first) = self.0.insert(key.to_owned(), line) {
            sink.warn(
                line,
                format!("{key} already set at line {first}; this later value wins"),
            );
        }
    }
}
