//! `upssched.conf` (docs/nut-behaviour.md §5.5): upssched's script, socket, lock and `AT` rules.
//!
//! `CMDSCRIPT`, `PIPEFN` and `LOCKFN` must come before the first `AT` line. Keywords and `AT`
//! commands are case-sensitive except `DEBUG_MIN`; notify types are case-insensitive.
//!
//! Differences from NUT, on purpose: NUT checks `AT` lines only when an event makes
//! upssched read them, so a broken rule (unknown notify type or command, bad timer length)
//! silently never fires or aborts upssched mid-event; here every rule is checked when the
//! file is parsed and problems are errors. `CANCEL-TIMER-MATCHED` (documented by NUT but not
//! handled by its `AT` parser) is understood.

use super::diag::{ConfLine, ConfResult, Diagnostic, Seen, Sink};
use super::values::uint;
use crate::names::NotifyType;

const KEYWORDS: &[&str] = &["CMDSCRIPT", "PIPEFN", "LOCKFN", "DEBUG_MIN", "AT"];

const AT_USAGE: &str = "AT <notify type> <upsname|*> <START-TIMER|START-TIMER-SHARED|CANCEL-TIMER|\
                        CANCEL-TIMER-MATCHED|EXECUTE> <argument>...";

/// A parsed upssched.conf.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpsschedConf {
    /// `CMDSCRIPT` and its extra arguments.
    pub cmdscript: Option<Vec<String>>,
    /// `PIPEFN`: the timer daemon's socket.
    pub pipefn: Option<String>,
    /// `LOCKFN`: the lock taken while starting the daemon.
    pub lockfn: Option<String>,
    /// `DEBUG_MIN`.
    pub debug_min: Option<u32>,
    /// `AT` rules in file order; every matching rule is acted on, in this order.
    pub rules: Vec<AtRule>,
}

impl UpsschedConf {
    /// The rules for event `t` on UPS `ups` (the full `UPSNAME` upsmon passes), in order.
    pub fn matching<'a>(&'a self, t: NotifyType, ups: &'a str) -> impl Iterator<Item = &'a AtRule> {
        self.rules
            .iter()
            .filter(move |r| r.notify_type == t && r.ups.matches(ups))
    }
}

/// One `AT` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AtRule {
    /// The event.
    pub notify_type: NotifyType,
    /// Which UPS.
    pub ups: UpsMatch,
    /// What to do.
    pub action: AtAction,
    /// Line of the rule.
    pub line: usize,
}

/// The UPS part of an `AT` rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpsMatch {
    /// `*`: any UPS.
    Any,
    /// Exactly this `UPSNAME` (as written in upsmon.conf's MONITOR, e.g. `ups@host`).
    Name(String),
}

impl UpsMatch {
    /// Whether `ups` (an `UPSNAME`) matches; names compare exactly.
    pub fn matches(&self, ups: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Name(name) => name == ups,
        }
    }
}

/// The command of an `AT` rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AtAction {
    /// `START-TIMER <name> <seconds>`: start an independent timer.
    StartTimer {
        /// Passed to CMDSCRIPT when the timer fires.
        name: String,
        /// Delay.
        seconds: u32,
    },
    /// `START-TIMER-SHARED <name> <seconds>`: start the timer unless one of that name runs.
    StartTimerShared {
        /// Timer name.
        name: String,
        /// Delay.
        seconds: u32,
    },
    /// `CANCEL-TIMER <name> [<command>]`: cancel every timer of that name; if none ran,
    /// pass `command` (if any) to CMDSCRIPT.
    CancelTimer {
        /// Timer name.
        name: String,
        /// Command when no timer was running.
        fallback: Option<String>,
    },
    /// `CANCEL-TIMER-MATCHED <name> [<command>]`: like `CANCEL-TIMER`, but only timers
    /// started for the same notify type and UPS.
    CancelTimerMatched {
        /// Timer name.
        name: String,
        /// Command when no timer was running.
        fallback: Option<String>,
    },
    /// `EXECUTE <command>`: pass `command` to CMDSCRIPT now.
    Execute {
        /// The argument for CMDSCRIPT.
        command: String,
    },
}

/// Parse upssched.conf. `file_name` is only used in diagnostics.
pub fn parse_upssched_conf(text: impl AsRef<[u8]>, file_name: &str) -> ConfResult<UpsschedConf> {
    let (sink, conf) = parse(text.as_ref(), file_name);
    sink.finish(conf)
}

/// Parse upssched.conf and keep what is usable even when some lines have errors: every `AT`
/// rule that parsed, the settings that did. Returns that configuration and every diagnostic
/// (errors and warnings, in line order).
///
/// upssched uses this when it runs for an event: a typo in one rule must not disable the
/// others (NUT 2.8.0 skips a bad rule and acts on the rest); the errors are still reported.
pub fn parse_upssched_conf_lenient(
    text: impl AsRef<[u8]>,
    file_name: &str,
) -> (UpsschedConf, Vec<Diagnostic>) {
    let (sink, conf) = parse(text.as_ref(), file_name);
    match sink.finish(conf.clone()) {
        Ok(parsed) => (parsed.config, parsed.warnings),
        Err(e) => (conf, e.diagnostics().into_iter().cloned().collect()),
    }
}

fn parse(text: &[u8], file_name: &str) -> (Sink, UpsschedConf) {
    let (mut sink, lines) = Sink::read(text, file_name);
    let mut conf = UpsschedConf::default();
    let mut seen = Seen::default();
    // Each missing prerequisite is reported once, at the first AT line that needs it.
    let mut reported_missing: Vec<&str> = Vec::new();
    for l in &lines {
        let kw = l.keyword();
        let line = l.line;
        if kw.eq_ignore_ascii_case("DEBUG_MIN") {
            if sink.arity(l, 2, 2, "DEBUG_MIN <level>") {
                seen.note(&mut sink, "DEBUG_MIN", line);
                conf.debug_min = uint(&mut sink, line, "DEBUG_MIN", &l.words[1], 0);
            }
            continue;
        }
        match kw {
            "CMDSCRIPT" => {
                if sink.arity(l, 2, usize::MAX, "CMDSCRIPT <script> [<argument>...]") {
                    seen.note(&mut sink, kw, line);
                    if l.words[1].is_empty() {
                        sink.error(line, "CMDSCRIPT: empty script name");
                    } else {
                        if l.words.len() == 2 && l.words[1].contains(' ') {
                            // 2.8.0 ran CMDSCRIPT through a shell, so `"prog args"` worked;
                            // it is run as a program now, and that program does not exist.
                            sink.warn(
                                line,
                                format!(
                                    "CMDSCRIPT \"{}\" is one quoted word with spaces: it is run as \
                                     a program of that name, not through a shell; write the \
                                     program and its arguments as separate words",
                                    l.words[1]
                                ),
                            );
                        }
                        conf.cmdscript = Some(l.words[1..].to_vec());
                    }
                }
            }
            "PIPEFN" | "LOCKFN" => {
                let usage = if kw == "PIPEFN" {
                    "PIPEFN <socket file>"
                } else {
                    "LOCKFN <lock file>"
                };
                if sink.arity(l, 2, 2, usage) {
                    seen.note(&mut sink, kw, line);
                    let value = Some(l.words[1].clone());
                    if kw == "PIPEFN" {
                        conf.pipefn = value;
                    } else {
                        conf.lockfn = value;
                    }
                }
            }
            "AT" => {
                let missing = [
                    ("CMDSCRIPT", conf.cmdscript.is_none()),
                    ("PIPEFN", conf.pipefn.is_none()),
                    ("LOCKFN", conf.lockfn.is_none()),
                ];
                for (name, absent) in missing {
                    if absent && !reported_missing.contains(&name) {
                        reported_missing.push(name);
                        sink.error(line, format!("{name} must be set before the first AT line"));
                    }
                }
                if let Some(rule) = at_rule(l, &mut sink) {
                    conf.rules.push(rule);
                }
            }
            _ => sink.unknown_directive(l, KEYWORDS),
        }
    }
    (sink, conf)
}

fn at_rule(l: &ConfLine, sink: &mut Sink) -> Option<AtRule> {
    if !sink.arity(l, 5, 6, AT_USAGE) {
        return None;
    }
    let w = &l.words;
    let notify_type = NotifyType::from_name(&w[1]);
    if notify_type.is_none() {
        sink.error(
            l.line,
            format!(
                "AT: unknown notify type '{}' (known: ONLINE, ONBATT, LOWBATT, COMMBAD, ...; see upsmon.conf(5))",
                w[1]
            ),
        );
    }
    let ups = match w[2].as_str() {
        "*" => UpsMatch::Any,
        "" => {
            sink.error(l.line, "AT: empty UPS name (use * for any UPS)");
            return None;
        }
        name => UpsMatch::Name(name.to_owned()),
    };
    let command = w[3].as_str();
    let arg = w[4].clone();
    let extra = w.get(5).cloned();
    let action = match command {
        "START-TIMER" | "START-TIMER-SHARED" => {
            let Some(secs) = extra else {
                sink.error(
                    l.line,
                    format!("{command} needs a timer name and a number of seconds: AT <type> <ups> {command} <name> <seconds>"),
                );
                return None;
            };
            let seconds = uint(sink, l.line, &format!("{command} seconds"), &secs, 0)?;
            if command == "START-TIMER" {
                AtAction::StartTimer { name: arg, seconds }
            } else {
                AtAction::StartTimerShared { name: arg, seconds }
            }
        }
        "CANCEL-TIMER" => AtAction::CancelTimer {
            name: arg,
            fallback: extra,
        },
        "CANCEL-TIMER-MATCHED" => AtAction::CancelTimerMatched {
            name: arg,
            fallback: extra,
        },
        "EXECUTE" => {
            if let Some(extra) = extra {
                sink.warn(
                    l.line,
                    format!("extra words ignored: {extra} (EXECUTE takes one word; quote a command with spaces)"),
                );
            }
            if arg.is_empty() {
                sink.error(l.line, "EXECUTE: empty command");
                return None;
            }
            AtAction::Execute { command: arg }
        }
        other => {
            sink.error(
                l.line,
                format!(
                    "AT: unknown command '{other}': expected START-TIMER, START-TIMER-SHARED, \
                     CANCEL-TIMER, CANCEL-TIMER-MATCHED or EXECUTE"
                ),
            );
            return None;
        }
    };
    if let AtAction::StartTimer { name, .. }
    | AtAction::StartTimerShared { name, .. }
    | AtAction::CancelTimer { name, .. }
    | AtAction::CancelTimerMatched { name, .. } = &action
        && name.is_empty()
    {
        sink.error(l.line, format!("{command}: empty timer name"));
        return None;
    }
    Some(AtRule {
        notify_type: notify_type?,
        ups,
        action,
        line: l.line,
    })
}

#[cfg(test)]
mod tests;
