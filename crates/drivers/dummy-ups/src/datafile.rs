//! dummy-ups data files (.dev, .seq, .nds), parsed without I/O (docs/nut-behaviour.md §8.2).
//!
//! Every line goes through the NUT tokenizer, so quotes, escapes and `#` comments work as
//! in NUT. Recognised lines:
//!
//! * `<var>: <words…>` — the value is the words joined by single spaces; `driver.*` lines
//!   are skipped (the driver publishes its own); `ups.status` keeps its words as tokens.
//! * `TIMER <seconds>` — pause the script here.
//! * `.nds` declarations: `RW:<var>:STRING:<len>`, `RW:<var>:RANGE:"<min>" "<max>"`,
//!   `RW:<var>:ENUM:"<value>"` and `CMD:<command>`.
//!
//! Anything else (a first word without `:`, a TIMER without a number, a line the tokenizer
//! rejects) is a problem reported as `file:line: message` and skipped. NUT skips tokenizer
//! errors silently and reads a first word without a colon as a variable name.

use nut_core::token::{Limits, tokenize_text};

/// What one line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Set a variable. An empty value comes from a line with nothing after the colon.
    Set {
        /// Variable name.
        var: String,
        /// Value.
        value: String,
    },
    /// Set `ups.status` from these tokens.
    Status {
        /// Status tokens, as written.
        tokens: Vec<String>,
    },
    /// Pause for this many seconds.
    Timer {
        /// Delay.
        seconds: u64,
    },
    /// Offer an instant command (`CMD:`).
    Cmd {
        /// Command name.
        name: String,
    },
    /// Make a variable writable with a type (`RW:`).
    Rw {
        /// Variable name.
        var: String,
        /// The declared type.
        kind: RwKind,
    },
}

/// The type part of an `RW:` declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RwKind {
    /// `STRING:<len>`.
    String(i64),
    /// `RANGE:"min" "max"`.
    Range(i64, i64),
    /// `ENUM:"value"`.
    Enum(String),
}

/// One recognised line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number.
    pub line: usize,
    /// What it does.
    pub action: Action,
}

/// A parsed file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataFile {
    /// The recognised lines, in order.
    pub entries: Vec<Entry>,
    /// Problems, formatted `file:line: message`.
    pub problems: Vec<String>,
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

fn parse_number(text: &str) -> Option<i64> {
    unquote(text).trim().parse().ok()
}

/// Parse an `RW:`/`CMD:` declaration from the line's words.
fn declaration(words: &[String]) -> Result<Option<Action>, String> {
    let first = &words[0];
    if let Some(name) = first.strip_prefix("CMD:") {
        if name.is_empty() {
            return Err("CMD: without a command name".into());
        }
        return Ok(Some(Action::Cmd {
            name: name.to_owned(),
        }));
    }
    let Some(rest) = first.strip_prefix("RW:") else {
        return Ok(None);
    };
    // The tokenizer split the declaration at spaces; its quotes are literal characters in
    // the middle of a word, so rebuild the text and split it ourselves.
    let text = std::iter::once(rest.to_owned())
        .chain(words[1..].iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut parts = text.splitn(3, ':');
    let var = parts.next().unwrap_or_default();
    let kind = parts.next().unwrap_or_default();
    let options = parts.next().unwrap_or_default();
    if var.is_empty() {
        return Err("RW: without a variable name".into());
    }
    let kind = match kind.to_ascii_uppercase().as_str() {
        "STRING" => RwKind::String(
            parse_number(options).ok_or_else(|| format!("RW:{var}:STRING needs a length"))?,
        ),
        "RANGE" => {
            let mut nums = options.split_whitespace().map(parse_number);
            match (nums.next().flatten(), nums.next().flatten()) {
                (Some(min), Some(max)) => RwKind::Range(min, max),
                _ => return Err(format!("RW:{var}:RANGE needs \"min\" \"max\"")),
            }
        }
        "ENUM" => RwKind::Enum(unquote(options).to_owned()),
        other => {
            return Err(format!(
                "RW:{var}: unknown type '{other}' (STRING, RANGE or ENUM)"
            ));
        }
    };
    Ok(Some(Action::Rw {
        var: var.to_owned(),
        kind,
    }))
}

/// Parse a data file. `file_name` is used in problem messages.
pub fn parse(text: &[u8], file_name: &str) -> DataFile {
    let mut out = DataFile::default();
    for line in tokenize_text(text, Limits::default()) {
        let line_no = line.line_no;
        let mut problem = |msg: String| out.problems.push(format!("{file_name}:{line_no}: {msg}"));
        let words = match line.into_result() {
            Ok(w) => w,
            Err(e) => {
                problem(format!("{e} (line skipped)"));
                continue;
            }
        };
        let Some(first) = words.first() else {
            continue;
        };
        if first == "TIMER" {
            match words.get(1).and_then(|w| w.trim().parse::<u64>().ok()) {
                Some(seconds) => out.entries.push(Entry {
                    line: line_no,
                    action: Action::Timer { seconds },
                }),
                None => problem("TIMER needs a number of seconds (line skipped)".into()),
            }
            continue;
        }
        match declaration(&words) {
            Ok(Some(action)) => {
                out.entries.push(Entry {
                    line: line_no,
                    action,
                });
                continue;
            }
            Ok(None) => {}
            Err(msg) => {
                problem(format!("{msg} (line skipped)"));
                continue;
            }
        }
        let Some((var, _)) = first.split_once(':') else {
            problem(format!(
                "expected '<variable>: <value>', got '{}' (line skipped)",
                words.join(" ")
            ));
            continue;
        };
        if var.is_empty() {
            problem("missing variable name before ':' (line skipped)".into());
            continue;
        }
        if var.starts_with("driver.") {
            continue;
        }
        let action = if var.starts_with("ups.status") {
            Action::Status {
                tokens: words[1..].to_vec(),
            }
        } else {
            Action::Set {
                var: var.to_owned(),
                value: words[1..].join(" "),
            }
        };
        out.entries.push(Entry {
            line: line_no,
            action,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(text: &str) -> Vec<Action> {
        parse(text.as_bytes(), "t.dev")
            .entries
            .into_iter()
            .map(|e| e.action)
            .collect()
    }

    fn set(var: &str, value: &str) -> Action {
        Action::Set {
            var: var.into(),
            value: value.into(),
        }
    }

    #[test]
    fn upsc_dump_lines() {
        assert_eq!(
            actions(
                "# comment\nups.mfr: Acme \"Power\"\nbattery.charge:   90  \n\
                 driver.name: usbhid-ups\nups.status: OL CHRG\nups.test.result: \"a  b\" c\n\
                 ups.serial:\n"
            ),
            vec![
                set("ups.mfr", "Acme Power"),
                set("battery.charge", "90"),
                Action::Status {
                    tokens: vec!["OL".into(), "CHRG".into()]
                },
                set("ups.test.result", "a  b c"),
                set("ups.serial", ""),
            ]
        );
    }

    #[test]
    fn timers_and_nds_declarations() {
        assert_eq!(
            actions(
                "TIMER 5\nRW:var.3:RANGE:\"1\" \"10\"\nRW:var.5:STRING:32\n\
                 RW:var.6:ENUM:\"value two\"\nCMD:command.1\n"
            ),
            vec![
                Action::Timer { seconds: 5 },
                Action::Rw {
                    var: "var.3".into(),
                    kind: RwKind::Range(1, 10)
                },
                Action::Rw {
                    var: "var.5".into(),
                    kind: RwKind::String(32)
                },
                Action::Rw {
                    var: "var.6".into(),
                    kind: RwKind::Enum("value two".into())
                },
                Action::Cmd {
                    name: "command.1".into()
                },
            ]
        );
    }

    #[test]
    fn malformed_lines_are_reported_with_file_and_line_and_skipped() {
        let parsed = parse(
            b"ups.mfr: A\nbad line without colon\nTIMER soon\nups.model: \"x#y\"\nRW:v:BOGUS:1\nups.id: ok\n",
            "t.dev",
        );
        assert_eq!(
            parsed.problems,
            vec![
                "t.dev:2: expected '<variable>: <value>', got 'bad line without colon' (line skipped)",
                "t.dev:3: TIMER needs a number of seconds (line skipped)",
                "t.dev:4: Unbalanced word due to unescaped # in quotes (line skipped)",
                "t.dev:5: RW:v: unknown type 'BOGUS' (STRING, RANGE or ENUM) (line skipped)",
            ]
        );
        assert_eq!(
            parsed
                .entries
                .iter()
                .map(|e| e.action.clone())
                .collect::<Vec<_>>(),
            vec![set("ups.mfr", "A"), set("ups.id", "ok")]
        );
    }
}
