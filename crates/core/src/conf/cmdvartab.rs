//! `cmdvartab` (docs/nut-behaviour.md §5.10): descriptions of variables and instant commands, served by
//! upsd for `GET DESC` and `GET CMDDESC`. Debian installs it as `/usr/share/nut/cmdvartab`.
//!
//! Lines are `VARDESC <name> "<text>"` and `CMDDESC <name> "<text>"`; names are looked up
//! case-insensitively. A repeated name keeps its first description (with a warning).

use std::collections::HashMap;

use super::diag::{ConfResult, Sink};

/// A parsed cmdvartab.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CmdVarTab {
    /// Variable descriptions keyed by lower-cased name: (description, line).
    vars: HashMap<String, (String, usize)>,
    /// Command descriptions keyed by lower-cased name: (description, line).
    cmds: HashMap<String, (String, usize)>,
}

impl CmdVarTab {
    /// Description of variable `name` (case-insensitive).
    pub fn var_desc(&self, name: &str) -> Option<&str> {
        self.vars
            .get(&name.to_ascii_lowercase())
            .map(|(d, _)| d.as_str())
    }

    /// Description of instant command `name` (case-insensitive).
    pub fn cmd_desc(&self, name: &str) -> Option<&str> {
        self.cmds
            .get(&name.to_ascii_lowercase())
            .map(|(d, _)| d.as_str())
    }

    /// Number of variable descriptions.
    pub fn var_count(&self) -> usize {
        self.vars.len()
    }

    /// Number of command descriptions.
    pub fn cmd_count(&self) -> usize {
        self.cmds.len()
    }
}

/// Parse a cmdvartab. `file_name` is only used in diagnostics.
pub fn parse_cmdvartab(text: impl AsRef<[u8]>, file_name: &str) -> ConfResult<CmdVarTab> {
    let (mut sink, lines) = Sink::read(text.as_ref(), file_name);
    let mut tab = CmdVarTab::default();
    for l in &lines {
        let (map, kind) = match l.keyword() {
            "VARDESC" => (&mut tab.vars, "variable"),
            "CMDDESC" => (&mut tab.cmds, "command"),
            _ => {
                sink.unknown_directive(l, &["VARDESC", "CMDDESC"]);
                continue;
            }
        };
        let usage = format!("{} <{kind} name> \"<description>\"", l.keyword());
        if !sink.arity(l, 3, 3, &usage) {
            continue;
        }
        let key = l.words[1].to_ascii_lowercase();
        if let Some((_, first)) = map.get(&key) {
            sink.warn(
                l.line,
                format!(
                    "{kind} {} already described at line {first}; the first description is kept",
                    l.words[1]
                ),
            );
            continue;
        }
        map.insert(key, (l.words[2].clone(), l.line));
    }
    sink.finish(tab)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::testutil::{clean, errors, warnings};

    #[test]
    fn lookups_are_case_insensitive() {
        let t = clean(parse_cmdvartab(
            "# header\nVARDESC ups.status \"UPS status\"\nCMDDESC load.off \"Turn off the load\"\n",
            "cmdvartab",
        ));
        assert_eq!(t.var_desc("UPS.Status"), Some("UPS status"));
        assert_eq!(t.cmd_desc("LOAD.OFF"), Some("Turn off the load"));
        assert_eq!(t.var_desc("load.off"), None);
        assert_eq!((t.var_count(), t.cmd_count()), (1, 1));
    }

    #[test]
    fn warnings_and_errors() {
        let (t, w) = warnings(parse_cmdvartab(
            "VARDESC a \"first\"\nVARDESC A \"second\"\nDESC x \"y\"\nCMDDESC c \"d\" e\n\
             VARDESC t \"25 \u{b0}C\"\n",
            "cmdvartab",
        ));
        assert_eq!(
            w,
            [
                "cmdvartab:2: variable A already described at line 1; the first description is kept",
                "cmdvartab:3: unknown directive DESC (ignored)",
                "cmdvartab:4: extra words ignored: e (usage: CMDDESC <command name> \"<description>\")",
                "cmdvartab:5: 2 byte(s) outside 0x20-0x7F dropped (NUT keeps only plain ASCII)",
            ]
        );
        assert_eq!(t.var_desc("a"), Some("first"));
        assert_eq!(t.var_desc("t"), Some("25 C"));
        assert_eq!(
            errors(parse_cmdvartab(
                "VARDESC a\nCMDDESC\nVARDESC x \"#1\"\nCMDDESC y \"open\n",
                "cmdvartab"
            )),
            [
                "cmdvartab:1: VARDESC needs 3 words: VARDESC <variable name> \"<description>\"",
                "cmdvartab:2: CMDDESC needs 3 words: CMDDESC <command name> \"<description>\"",
                "cmdvartab:3: '#' inside quotes must be escaped as \\# (line rejected)",
                "cmdvartab:4: missing closing quote (line rejected)",
            ]
        );
    }
}
