//! Reading nut-rs's unit files the way systemd does — sections, drop-ins, command lines with
//! quoting, specifiers and environment expansion — so that the tests start each daemon with
//! exactly the flags its unit gives it, and the units and the tests cannot drift apart.

use std::path::{Path, PathBuf};

/// The directory of nut-rs's unit files.
pub fn unit_dir() -> PathBuf {
    nut_harness::workspace_root().join("packaging/systemd")
}

/// A unit file, plus any drop-ins merged into it (drop-in entries are appended, which is
/// systemd's rule for the list settings we read: `Environment=`, `EnvironmentFile=`).
#[derive(Clone, Debug)]
pub struct Unit {
    /// The unit name (`nut-server.service`, `nut-driver@dummy.service`).
    pub name: String,
    /// The instance of a template instance, unescaped (`%I`).
    pub instance: Option<String>,
    /// The escaped instance (`%i`).
    pub instance_escaped: Option<String>,
    entries: Vec<(String, String, String)>,
}

impl Unit {
    /// Load `packaging/systemd/<file_name>`.
    pub fn load(file_name: &str) -> Unit {
        let path = unit_dir().join(file_name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read unit {}: {e}", path.display()));
        Unit {
            name: file_name.to_owned(),
            instance: None,
            instance_escaped: None,
            entries: parse(&text),
        }
    }

    /// Load the template `<prefix>@.service` as instance `escaped` (e.g. `my\x2dups`).
    pub fn load_instance(template: &str, escaped: &str, unescaped: &str) -> Unit {
        let mut unit = Unit::load(template);
        unit.name = template.replacen("@.", &format!("@{escaped}."), 1);
        unit.instance = Some(unescaped.to_owned());
        unit.instance_escaped = Some(escaped.to_owned());
        unit
    }

    /// Merge a drop-in file.
    pub fn add_drop_in(&mut self, path: &Path) {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read drop-in {}: {e}", path.display()));
        self.entries.extend(parse(&text));
    }

    /// Every value of `key` in `[section]`, in order (an empty assignment resets the list).
    pub fn all(&self, section: &str, key: &str) -> Vec<String> {
        let mut values = Vec::new();
        for (s, k, v) in &self.entries {
            if s == section && k == key {
                if v.is_empty() {
                    values.clear();
                } else {
                    values.push(v.clone());
                }
            }
        }
        values
    }

    /// The last value of `key` in `[section]`.
    pub fn get(&self, section: &str, key: &str) -> Option<String> {
        self.all(section, key).pop()
    }

    /// The last value of `key` in `[Service]`, or a panic naming the unit.
    pub fn service(&self, key: &str) -> String {
        self.get("Service", key)
            .unwrap_or_else(|| panic!("{}: no {key}= in [Service]", self.name))
    }

    /// Replace the specifiers systemd knows in a value (`%i`, `%I`, `%n`, `%N`, `%p`, `%%`).
    pub fn specifiers(&self, value: &str) -> String {
        let mut out = String::new();
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let prefix = self.name.split(['@', '.']).next().unwrap_or_default();
            match chars.next() {
                Some('%') => out.push('%'),
                Some('i') => out.push_str(self.instance_escaped.as_deref().unwrap_or_default()),
                Some('I') => out.push_str(self.instance.as_deref().unwrap_or_default()),
                Some('n') => out.push_str(&self.name),
                Some('N') => out.push_str(self.name.rsplit_once('.').map_or("", |(n, _)| n)),
                Some('p') => out.push_str(prefix),
                other => panic!(
                    "{}: specifier %{other:?} not emulated by the tests",
                    self.name
                ),
            }
        }
        out
    }
}

/// `(section, key, value)` triples, continuation lines joined, comments dropped.
fn parse(text: &str) -> Vec<(String, String, String)> {
    let mut entries = Vec::new();
    let mut section = String::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with(';'))
        {
            continue;
        }
        if let Some(continued) = line.strip_suffix('\\') {
            pending.push_str(continued);
            pending.push(' ');
            continue;
        }
        let full = format!("{pending}{line}");
        pending.clear();
        if let Some(name) = full.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
        } else if let Some((key, value)) = full.split_once('=') {
            entries.push((
                section.clone(),
                key.trim().to_owned(),
                value.trim().to_owned(),
            ));
        } else {
            panic!("unit file line without '=': {raw:?}");
        }
    }
    entries
}

/// A command line of `ExecStart=` and friends, split into words (systemd's quoting: `"…"`
/// and `'…'`, C escapes), with its prefix characters (`-`, `@`, `+`, `!`, `:`) separated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandLine {
    /// A leading `-`: a failure exit code is ignored.
    pub ignore_failure: bool,
    /// The words, specifiers and variables not yet expanded.
    pub words: Vec<String>,
}

/// Split one command line.
pub fn split_command(line: &str) -> CommandLine {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match (quote, c) {
                (None, c) if c.is_whitespace() => break,
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (_, '\\') => match chars.next() {
                    Some('n') => word.push('\n'),
                    Some('t') => word.push('\t'),
                    Some(other) => word.push(other),
                    None => {}
                },
                (_, c) => word.push(c),
            }
        }
        assert!(
            quote.is_none(),
            "unterminated quote in command line {line:?}"
        );
        words.push(word);
    }
    let mut ignore_failure = false;
    if let Some(first) = words.first_mut() {
        let stripped = first.trim_start_matches(['-', '@', '+', '!', ':']);
        ignore_failure = first[..first.len() - stripped.len()].contains('-');
        *first = stripped.to_owned();
    }
    CommandLine {
        ignore_failure,
        words,
    }
}

/// Expand environment variables in a command's words, as systemd does when it runs it:
/// a word that is exactly `$NAME` becomes the variable's whitespace-separated words (none if
/// unset); `${NAME}` inside a word is replaced by the value; `$$` is a literal `$`.
pub fn expand_env(words: &[String], env: &[(String, String)]) -> Vec<String> {
    let lookup = |name: &str| {
        env.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut out = Vec::new();
    for word in words {
        if let Some(name) = word.strip_prefix('$').filter(|n| is_env_name(n)) {
            if let Some(value) = lookup(name) {
                out.extend(value.split_whitespace().map(str::to_owned));
            }
            continue;
        }
        let mut expanded = String::new();
        let mut rest = word.as_str();
        while let Some(pos) = rest.find('$') {
            expanded.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                expanded.push('$');
                rest = tail;
            } else if let Some((name, tail)) = after
                .strip_prefix('{')
                .and_then(|a| a.split_once('}'))
                .filter(|(name, _)| is_env_name(name))
            {
                expanded.push_str(&lookup(name).unwrap_or_default());
                rest = tail;
            } else {
                expanded.push('$');
                rest = after;
            }
        }
        expanded.push_str(rest);
        out.push(expanded);
    }
    out
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `Environment=` values: each is a list of `KEY=value` words.
pub fn environment_assignments(values: &[String]) -> Vec<(String, String)> {
    values
        .iter()
        .flat_map(|v| split_command(v).words)
        .filter_map(|w| w.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

/// An `EnvironmentFile=`: `KEY=value` lines, `#`/`;` comments, optional surrounding quotes.
pub fn read_environment_file(path: &Path) -> Option<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| {
                let v = v.trim();
                let unquoted = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                    .unwrap_or(v);
                (k.trim().to_owned(), unquoted.to_owned())
            })
            .collect(),
    )
}
