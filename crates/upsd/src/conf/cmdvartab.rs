//! cmdvartab (reference §5.10): descriptions for `GET DESC` and `GET CMDDESC`.

use std::collections::HashMap;

use nut_core::token::{self, Limits};

/// Variable and command descriptions, looked up ignoring ASCII case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Descriptions {
    vars: HashMap<String, String>,
    cmds: HashMap<String, String>,
}

impl Descriptions {
    /// Parse the file's `VARDESC <name> "<text>"` and `CMDDESC <name> "<text>"` lines; other
    /// lines are ignored. The first description of a name wins.
    pub fn parse(text: &[u8]) -> Descriptions {
        let mut d = Descriptions::default();
        for line in token::tokenize_text(text, Limits::default()) {
            let [kind, name, desc, ..] = line.words.as_slice() else {
                continue;
            };
            let table = if kind == "VARDESC" {
                &mut d.vars
            } else if kind == "CMDDESC" {
                &mut d.cmds
            } else {
                continue;
            };
            table
                .entry(name.to_ascii_lowercase())
                .or_insert_with(|| desc.clone());
        }
        d
    }

    /// The description of a variable.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The description of an instant command.
    pub fn cmd(&self, name: &str) -> Option<&str> {
        self.cmds
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case() {
        let d = Descriptions::parse(
            b"# comment\nVARDESC ups.status \"UPS status\"\nCMDDESC load.off \"Turn off\"\nFOO x y\n",
        );
        assert_eq!(d.var("UPS.Status"), Some("UPS status"));
        assert_eq!(d.cmd("load.off"), Some("Turn off"));
        assert_eq!(d.var("load.off"), None);
    }
}
