//! The one getopt(3)-style scanner behind every daemon's command line (upsd, upsmon, the
//! drivers, upsdrvctl), so bundling (`-DDF`), attached or separate option arguments (`-unut`,
//! `-u nut`), `--` and glibc's two diagnostics behave identically everywhere.
//!
//! The option string has getopt's grammar: each option character, followed by `:` when it
//! takes an argument (`"a:bc"`). A leading `+` asks for POSIX behaviour: the first operand
//! ends the options and every later word is an operand too. Without it, GNU's permuting
//! behaviour is modelled: operands are reported where they stand and scanning goes on after
//! them. `::` (optional arguments) and long options are not supported; no daemon uses them.
//!
//! Each program keeps its own meaning of the options, its own error wording and its own
//! quirks; this module only finds the options.

use std::vec::IntoIter;

/// One word (or part of a bundled word) of the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// An option from the option string, with its argument when the string says it takes one
    /// (`Some` for those, `None` for plain flags).
    Opt(char, Option<String>),
    /// A word that is not an option.
    Operand(String),
}

/// A word the option string does not allow. The messages are glibc's, without its
/// `program: ` prefix (callers add it where NUT shows it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GetoptError {
    /// A character that is not in the option string (non-ASCII characters never are).
    #[error("invalid option -- '{0}'")]
    Unknown(char),
    /// An option that takes an argument, last on the command line with nothing attached.
    #[error("option requires an argument -- '{0}'")]
    MissingArgument(char),
}

/// Scans a command line (without the program name) against an option string.
///
/// Yields every option and operand in order. After an error it carries on with the next
/// character, as getopt does; the daemons all stop at the first one.
#[derive(Debug)]
pub struct Getopt {
    /// `(option, takes an argument)`.
    known: Vec<(char, bool)>,
    /// `+`: the first operand ends option scanning.
    posix: bool,
    words: IntoIter<String>,
    /// The rest of a bundle of flags being taken apart (`-DDF` after the first `D`).
    bundle: Option<(String, usize)>,
    /// Set by `--`, or by the first operand in POSIX mode.
    options_over: bool,
}

impl Getopt {
    /// Prepare to scan `args` against `optstring` (e.g. `"+a:s:kD"`).
    pub fn new<I, S>(optstring: &str, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let (posix, body) = match optstring.strip_prefix('+') {
            Some(body) => (true, body),
            None => (false, optstring),
        };
        let mut known: Vec<(char, bool)> = Vec::new();
        for c in body.chars() {
            match (c, known.last_mut()) {
                (':', Some((_, takes))) => *takes = true,
                (':', None) => {}
                _ => known.push((c, false)),
            }
        }
        let words: Vec<String> = args.into_iter().map(Into::into).collect();
        Self {
            known,
            posix,
            words: words.into_iter(),
            bundle: None,
            options_over: false,
        }
    }

    /// Whether `c` is an option and whether it takes an argument. Option characters are
    /// ASCII, as getopt's are.
    fn lookup(&self, c: char) -> Option<bool> {
        if !c.is_ascii() {
            return None;
        }
        self.known
            .iter()
            .find(|(known, _)| *known == c)
            .map(|&(_, takes)| takes)
    }

    /// The next option out of the bundle being taken apart, if any is left.
    fn next_in_bundle(&mut self) -> Option<Result<Arg, GetoptError>> {
        let (text, at) = self.bundle.as_mut()?;
        let Some(c) = text[*at..].chars().next() else {
            self.bundle = None;
            return None;
        };
        *at += c.len_utf8();
        Some(match self.lookup(c) {
            None => Err(GetoptError::Unknown(c)),
            Some(false) => Ok(Arg::Opt(c, None)),
            Some(true) => {
                // The argument is the rest of this word, or else the whole next word.
                let attached = self
                    .bundle
                    .take()
                    .map(|(text, at)| text[at..].to_owned())
                    .filter(|rest| !rest.is_empty());
                match attached.or_else(|| self.words.next()) {
                    Some(value) => Ok(Arg::Opt(c, Some(value))),
                    None => Err(GetoptError::MissingArgument(c)),
                }
            }
        })
    }
}

impl Iterator for Getopt {
    type Item = Result<Arg, GetoptError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(found) = self.next_in_bundle() {
                return Some(found);
            }
            let word = self.words.next()?;
            if self.options_over {
                return Some(Ok(Arg::Operand(word)));
            }
            if word == "--" {
                self.options_over = true;
                continue;
            }
            // A lone "-" is an operand (it conventionally means stdin).
            if word.len() > 1 && word.starts_with('-') {
                self.bundle = Some((word, 1));
                continue;
            }
            self.options_over = self.posix;
            return Some(Ok(Arg::Operand(word)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(optstring: &str, line: &str) -> Vec<Result<Arg, GetoptError>> {
        Getopt::new(optstring, line.split_whitespace()).collect()
    }

    fn opt(c: char, value: Option<&str>) -> Result<Arg, GetoptError> {
        Ok(Arg::Opt(c, value.map(str::to_owned)))
    }

    fn operand(word: &str) -> Result<Arg, GetoptError> {
        Ok(Arg::Operand(word.to_owned()))
    }

    #[test]
    fn bundled_flags_come_out_one_by_one() {
        assert_eq!(
            scan("+DFB", "-DDF -B"),
            [
                opt('D', None),
                opt('D', None),
                opt('F', None),
                opt('B', None)
            ]
        );
    }

    #[test]
    fn arguments_attached_separate_or_ending_a_bundle() {
        assert_eq!(
            scan("+Du:c:", "-unut -u root -Dcreload -Dc stop"),
            [
                opt('u', Some("nut")),
                opt('u', Some("root")),
                opt('D', None),
                opt('c', Some("reload")),
                opt('D', None),
                opt('c', Some("stop")),
            ]
        );
        // The next word is the argument even when it looks like an option.
        assert_eq!(scan("+Du:", "-u -D"), [opt('u', Some("-D"))]);
    }

    #[test]
    fn missing_argument_and_unknown_option() {
        assert_eq!(
            scan("+Du:", "-D -u"),
            [opt('D', None), Err(GetoptError::MissingArgument('u'))]
        );
        // getopt carries on after an unknown character.
        assert_eq!(
            scan("+Du:", "-xD"),
            [Err(GetoptError::Unknown('x')), opt('D', None)]
        );
        // ':' only marks arguments; it is never an option itself.
        assert_eq!(scan("+u:", "-:"), [Err(GetoptError::Unknown(':'))]);
        // Without getopt_long, "--foo" is the options '-', 'f', 'o', 'o'.
        assert_eq!(
            scan("+fo", "--fo"),
            [
                Err(GetoptError::Unknown('-')),
                opt('f', None),
                opt('o', None)
            ]
        );
        assert_eq!(
            GetoptError::Unknown('x').to_string(),
            "invalid option -- 'x'"
        );
        assert_eq!(
            GetoptError::MissingArgument('u').to_string(),
            "option requires an argument -- 'u'"
        );
    }

    #[test]
    fn double_dash_ends_options() {
        assert_eq!(
            scan("+D", "-D -- -D x"),
            [opt('D', None), operand("-D"), operand("x")]
        );
        assert_eq!(scan("D", "-D -- -D"), [opt('D', None), operand("-D")]);
        assert_eq!(scan("+D", "--"), []);
    }

    #[test]
    fn posix_mode_stops_at_the_first_operand() {
        assert_eq!(
            scan("+D", "-D start -D"),
            [opt('D', None), operand("start"), operand("-D")]
        );
        assert_eq!(scan("+D", "- -D"), [operand("-"), operand("-D")]);
    }

    #[test]
    fn permuting_mode_keeps_scanning_after_operands() {
        assert_eq!(
            scan("tu:", "start -t ups -unut -"),
            [
                operand("start"),
                opt('t', None),
                operand("ups"),
                opt('u', Some("nut")),
                operand("-"),
            ]
        );
    }

    #[test]
    fn non_ascii_is_never_an_option_and_never_splits_a_character() {
        assert_eq!(
            scan("+Du:", "-Dé -uñame"),
            [
                opt('D', None),
                Err(GetoptError::Unknown('é')),
                opt('u', Some("ñame")),
            ]
        );
        assert_eq!(scan("+u:", "-ué"), [opt('u', Some("é"))]);
        assert_eq!(scan("+D", "é -D"), [operand("é"), operand("-D")]);
    }

    #[test]
    fn empty_command_line() {
        assert_eq!(scan("+D", ""), []);
    }
}
