//! `nut.conf` (docs/nut-behaviour.md §5.6): `KEY=value` settings read by the shell (init scripts,
//! Debian's `/sbin/upsd` and `/sbin/upsmon` wrappers) and by systemd (`EnvironmentFile=`).
//!
//! Lines are split by the NUT tokenizer like every other file, which handles `#` comments and
//! double quotes the way the shell does for the values found in practice. Two shell rules
//! need the raw text and are checked on it: `KEY = value` (spaces around `=`) is an error,
//! since the shell would run `KEY` as a command and leave the variable unset; and a
//! `'single-quoted'` value is taken verbatim, as the shell does.
//!
//! Differences from NUT (which never parses the file itself): unknown keys are kept and
//! warned about; a missing `MODE` is a warning, since NUT then starts nothing (users were
//! surprised by that, NUT issue #3364).

use super::diag::{ConfLine, ConfResult, Seen, Sink};

/// Keys NUT's scripts, units and daemons read from nut.conf (the environment variables of
/// reference appendix A can be set here too, since systemd exports every line).
pub const KNOWN_KEYS: &[&str] = &[
    "MODE",
    "UPSD_OPTIONS",
    "UPSMON_OPTIONS",
    "POWEROFF_WAIT",
    "POWEROFF_QUIET",
    "ALLOW_NO_DEVICE",
    "ALLOW_NOT_ALL_LISTENERS",
    "NUT_DEBUG_LEVEL",
    "NUT_DEBUG_PID",
    "NUT_DEBUG_PROCNAME",
    "NUT_DEBUG_SYSLOG",
    "NUT_IGNORE_CHECKPROCNAME",
    "NUT_QUIET_INIT_UPSNOTIFY",
    "NUT_CONFPATH",
    "NUT_STATEPATH",
    "NUT_ALTPIDPATH",
    "NUT_PIDPATH",
    "NUT_IGNORE_NOWAIT",
    "NUT_QUIET_INIT_SSL",
    "NUT_QUIET_INIT_NDE_WARNING",
    "NUT_QUIET_INIT_LISTENER",
    "NUT_QUIET_INIT_BANNER",
    "NUT_QUIET_OK_NOTRACKING",
    "NUT_SYSMAXCONN_LIMIT",
    "NUT_DEFAULT_CONNECT_TIMEOUT",
    "NUT_AUTHCONF_FILE",
    "NUT_AUTHCONF_PATH",
    "LIBUSB_DEBUG",
];

/// `MODE`: which parts of NUT this machine runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `none` (also when unset): start nothing.
    None,
    /// `standalone`: drivers, upsd (local only) and upsmon.
    Standalone,
    /// `netserver`: like standalone, with upsd serving the network.
    NetServer,
    /// `netclient`: only upsmon, watching a remote upsd.
    NetClient,
}

impl Mode {
    /// Parse `none|standalone|netserver|netclient` (lower case, as the scripts compare it).
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "none" => Some(Self::None),
            "standalone" => Some(Self::Standalone),
            "netserver" => Some(Self::NetServer),
            "netclient" => Some(Self::NetClient),
            _ => None,
        }
    }

    /// The word as written in nut.conf.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Standalone => "standalone",
            Self::NetServer => "netserver",
            Self::NetClient => "netclient",
        }
    }
}

/// A parsed nut.conf.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NutConf {
    /// `MODE`, if set.
    pub mode: Option<Mode>,
    /// Every assignment in file order, known or not.
    pub entries: Vec<NutConfEntry>,
}

impl NutConf {
    /// The mode in force: `MODE`, or `none` when unset.
    pub fn mode(&self) -> Mode {
        self.mode.unwrap_or(Mode::None)
    }

    /// The value of `key` (case-sensitive); the last assignment wins, as in the shell.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key == key)
            .map(|e| e.value.as_str())
    }
}

/// One `KEY=value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NutConfEntry {
    /// Variable name.
    pub key: String,
    /// Value, quotes removed.
    pub value: String,
    /// Line number.
    pub line: usize,
}

/// Parse nut.conf. `file_name` is only used in diagnostics.
pub fn parse_nut_conf(text: impl AsRef<[u8]>, file_name: &str) -> ConfResult<NutConf> {
    let text = text.as_ref();
    let (mut sink, lines) = Sink::read(text, file_name);
    let raw_lines: Vec<String> = text
        .split(|&b| b == b'\n')
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    let mut conf = NutConf::default();
    let mut seen = Seen::default();
    for l in &lines {
        let raw = raw_lines
            .get(l.line.saturating_sub(1))
            .map(String::as_str)
            .unwrap_or_default();
        let Some(entry) = assignment(l, raw, &mut sink) else {
            continue;
        };
        seen.note(&mut sink, &entry.key, entry.line);
        if entry.key == "MODE" {
            match Mode::parse(&entry.value) {
                Some(m) => conf.mode = Some(m),
                None => sink.error(
                    entry.line,
                    format!(
                        "MODE: expected none, standalone, netserver or netclient (lower case), got '{}'",
                        entry.value
                    ),
                ),
            }
        } else if !KNOWN_KEYS.contains(&entry.key.as_str()) {
            sink.warn(
                entry.line,
                format!("unknown setting {} (kept; NUT does not use it)", entry.key),
            );
        }
        conf.entries.push(entry);
    }
    if conf.mode.is_none() && !conf.entries.iter().any(|e| e.key == "MODE") {
        sink.warn(
            0,
            "MODE is not set, so NUT starts nothing (as with MODE=none); \
             set MODE=standalone, netserver or netclient",
        );
    }
    sink.finish(conf)
}

/// `KEY=value`, `KEY=` or `export KEY[=value]`, checked against the raw line for shell
/// rules the tokenizer cannot see.
fn assignment(l: &ConfLine, raw: &str, sink: &mut Sink) -> Option<NutConfEntry> {
    let mut w: &[String] = &l.words;
    let mut body = raw.trim_start();
    if w[0] == "export" && w.len() > 1 {
        if w.len() == 2 {
            // `export KEY` on its own line: how sh scripts publish a variable; nothing to do.
            return None;
        }
        sink.warn(
            l.line,
            "'export KEY=value' is not portable (nut.conf is read by POSIX sh and systemd); \
             write KEY=value",
        );
        w = &w[1..];
        body = body.strip_prefix("export").unwrap_or(body).trim_start();
    }
    let key = w[0].as_str();
    if w.len() < 2 || w[1] != "=" {
        sink.error(
            l.line,
            format!(
                "expected KEY=value (nut.conf is read by the shell), got '{}'",
                l.rest(0)
            ),
        );
        return None;
    }
    if !is_shell_name(key) {
        sink.error(
            l.line,
            format!("'{key}' is not a valid variable name (letters, digits and _ only)"),
        );
        return None;
    }
    let after = body.strip_prefix(key).and_then(|b| b.strip_prefix('='));
    let spaced_value = after.is_some_and(|a| a.starts_with([' ', '\t']) && w.len() > 2);
    let Some(after) = after.filter(|_| !spaced_value) else {
        sink.error(
            l.line,
            format!("no spaces allowed around '=': write {key}=<value> (the shell would run {key} as a command)"),
        );
        return None;
    };
    let value = if let Some(quoted) = after.strip_prefix('\'') {
        let Some((inside, rest)) = quoted.split_once('\'') else {
            sink.error(l.line, format!("{key}: missing closing single quote"));
            return None;
        };
        let rest = rest.trim_start();
        if !rest.is_empty() && !rest.starts_with('#') {
            sink.warn(
                l.line,
                format!("text after the quoted value of {key} ignored: {rest}"),
            );
        }
        inside.to_owned()
    } else {
        if w.len() > 3 {
            sink.warn(
                l.line,
                format!(
                    "words after the value of {key} ignored: {} (the shell would run them as a \
                     command; quote the value)",
                    w[3..].join(" ")
                ),
            );
        }
        w.get(2).cloned().unwrap_or_default()
    };
    Some(NutConfEntry {
        key: key.to_owned(),
        value,
        line: l.line,
    })
}

fn is_shell_name(word: &str) -> bool {
    let mut bytes = word.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests;
