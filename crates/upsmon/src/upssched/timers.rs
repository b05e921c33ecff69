//! The upssched timer daemon as a state machine, and its socket protocol.
//!
//! Protocol (one request per line, words as NUT's tokenizer reads them, every request answered):
//!
//! | request | reply |
//! |---|---|
//! | `START <name> <secs> [<type> <ups> <msg>]` | `OK` (negative seconds: ignored, still `OK`) |
//! | `START-SHARED <name> <secs> [<type> <ups> <msg>]` | `OK` |
//! | `CANCEL <name> [<cmd> [<type> <ups> <msg>]]` | `OK` |
//! | `CANCEL-MATCHED <name> [<cmd> [<type> <ups> <msg>]]` | `OK` |
//! | `LIST-TIMERS` | `BEGIN LIST TIMERS`, one line per timer, `END LIST TIMERS`, `OK` |
//! | anything else | `ERR UNKNOWN` |
//!
//! 2.8.0's short forms (`START <name> <secs>`, `CANCEL <name> [<cmd>]`) are accepted; missing
//! fields are empty. Our client always sends all six words, quoted ([`Request::encode`]).

use std::collections::VecDeque;

use nut_core::token;

use super::{Event, RunCmd, cmdscript_argv, env};
use crate::clock::Time;

/// Seconds without timers after which the daemon exits (NUT's `EMPTY_WAIT` passes).
pub const EMPTY_WAIT_SECS: u64 = 15;

/// The event a timer request came from; it becomes the timer's environment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// `NOTIFYTYPE`.
    pub notify_type: String,
    /// `UPSNAME`.
    pub ups: String,
    /// `NOTIFYMSG`.
    pub message: String,
}

impl Origin {
    /// The origin fields of an event.
    pub fn of(event: &Event) -> Self {
        Self {
            notify_type: event.notify_type.clone(),
            ups: event.ups.clone(),
            message: event.message.clone(),
        }
    }

    fn from_words(words: &[String]) -> Self {
        let word = |i: usize| words.get(i).cloned().unwrap_or_default();
        Self {
            notify_type: word(0),
            ups: word(1),
            message: word(2),
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        env(&self.ups, &self.notify_type, &self.message)
    }
}

/// A request to the timer daemon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Start an independent timer.
    Start {
        /// Timer name, CMDSCRIPT's argument when it fires.
        name: String,
        /// Delay; negative values are ignored.
        seconds: i64,
        /// The event behind it.
        origin: Origin,
    },
    /// Start a timer, or join the running one of that name.
    StartShared {
        /// Timer name.
        name: String,
        /// Delay for a new timer.
        seconds: i64,
        /// The event behind it.
        origin: Origin,
    },
    /// Cancel every timer of that name; run `fallback` if there was none.
    Cancel {
        /// Timer name.
        name: String,
        /// CMDSCRIPT argument when nothing was cancelled.
        fallback: Option<String>,
        /// The cancelling event (environment of the fallback command).
        origin: Origin,
    },
    /// Cancel what `origin.ups` started under that name; run `fallback` if there was none.
    CancelMatched {
        /// Timer name.
        name: String,
        /// CMDSCRIPT argument when nothing was cancelled.
        fallback: Option<String>,
        /// The cancelling event: its UPS selects what is cancelled.
        origin: Origin,
    },
    /// List the running timers.
    ListTimers,
}

/// A request line the daemon does not understand (answered `ERR UNKNOWN`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown upssched request: {0:?}")]
pub struct UnknownRequest(pub Vec<String>);

impl Request {
    /// Parse the words of one request line.
    pub fn parse(words: &[String]) -> Result<Self, UnknownRequest> {
        let unknown = || UnknownRequest(words.to_vec());
        let Some(command) = words.first() else {
            return Err(unknown());
        };
        let name = || words.get(1).cloned().ok_or_else(unknown);
        let origin = |from: usize| Origin::from_words(words.get(from..).unwrap_or_default());
        let fallback = || words.get(2).filter(|c| !c.is_empty()).cloned();
        match command.as_str() {
            "START" | "START-SHARED" => {
                let name = name()?;
                let seconds = atol(words.get(2).ok_or_else(unknown)?);
                let origin = origin(3);
                Ok(if command == "START" {
                    Self::Start {
                        name,
                        seconds,
                        origin,
                    }
                } else {
                    Self::StartShared {
                        name,
                        seconds,
                        origin,
                    }
                })
            }
            "CANCEL" | "CANCEL-MATCHED" => {
                let name = name()?;
                let fallback = fallback();
                let origin = origin(3);
                Ok(if command == "CANCEL" {
                    Self::Cancel {
                        name,
                        fallback,
                        origin,
                    }
                } else {
                    Self::CancelMatched {
                        name,
                        fallback,
                        origin,
                    }
                })
            }
            "LIST-TIMERS" => Ok(Self::ListTimers),
            _ => Err(unknown()),
        }
    }

    /// The request line, without the final newline: the command, then every argument quoted.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let mut args = |command: &str, fields: &[&str]| {
            out.push_str(command);
            for f in fields {
                out.push(' ');
                token::push_quoted(&mut out, f);
            }
        };
        match self {
            Self::Start {
                name,
                seconds,
                origin,
            }
            | Self::StartShared {
                name,
                seconds,
                origin,
            } => {
                let command = if matches!(self, Self::Start { .. }) {
                    "START"
                } else {
                    "START-SHARED"
                };
                let secs = seconds.to_string();
                args(
                    command,
                    &[
                        name,
                        &secs,
                        &origin.notify_type,
                        &origin.ups,
                        &origin.message,
                    ],
                );
            }
            Self::Cancel {
                name,
                fallback,
                origin,
            }
            | Self::CancelMatched {
                name,
                fallback,
                origin,
            } => {
                let command = if matches!(self, Self::Cancel { .. }) {
                    "CANCEL"
                } else {
                    "CANCEL-MATCHED"
                };
                args(
                    command,
                    &[
                        name,
                        fallback.as_deref().unwrap_or(""),
                        &origin.notify_type,
                        &origin.ups,
                        &origin.message,
                    ],
                );
            }
            Self::ListTimers => args("LIST-TIMERS", &[]),
        }
        out
    }

    /// Whether the client must start the daemon for this request when none is running. A
    /// cancel without fallback command has nothing to do then.
    pub fn may_start_daemon(&self) -> bool {
        match self {
            Self::Cancel { fallback, .. } | Self::CancelMatched { fallback, .. } => {
                fallback.is_some()
            }
            Self::Start { .. } | Self::StartShared { .. } | Self::ListTimers => true,
        }
    }
}

/// `strtol(s, NULL, 10)`: optional blanks and sign, then digits; anything else reads as 0.
fn atol(s: &str) -> i64 {
    let s = s.trim_start();
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut value: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        value = value.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if negative { -value } else { value }
}

/// One running timer, as `LIST-TIMERS` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimerListing {
    /// Timer name.
    pub name: String,
    /// When it fires.
    pub deadline: Time,
    /// Whole seconds left.
    pub seconds_left: u64,
    /// NOTIFYTYPE of each starting event.
    pub notify_types: Vec<String>,
    /// UPSNAME of each starting event.
    pub upses: Vec<String>,
    /// NOTIFYMSG of each starting event.
    pub messages: Vec<String>,
}

/// The daemon's answer to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `OK`.
    Ok,
    /// `ERR UNKNOWN`.
    ErrUnknown,
    /// The `LIST-TIMERS` block, then `OK`.
    List(Vec<TimerListing>),
}

impl Reply {
    /// The reply as sent, newline-terminated lines. `wall_now` (seconds since the Unix
    /// epoch) is paired with `now` to show absolute deadlines.
    pub fn encode(&self, now: Time, wall_now: u64) -> String {
        match self {
            Self::Ok => "OK\n".to_owned(),
            Self::ErrUnknown => "ERR UNKNOWN\n".to_owned(),
            Self::List(timers) => {
                let field = |v: &[String], sep: &str| {
                    if v.iter().all(String::is_empty) {
                        "\"\"".to_owned()
                    } else {
                        v.join(sep)
                    }
                };
                let mut out = String::from("BEGIN LIST TIMERS\n");
                for t in timers {
                    let abs = wall_now + t.deadline.whole_secs().saturating_sub(now.whole_secs());
                    out.push_str(&format!(
                        "{}\t{}\t{}\t{}\t{}\t{}\n",
                        t.name,
                        abs,
                        t.seconds_left,
                        field(&t.notify_types, ","),
                        field(&t.upses, ","),
                        field(&t.messages, ". "),
                    ));
                }
                out.push_str("END LIST TIMERS\nOK\n");
                out
            }
        }
    }
}

/// Work for the daemon's shell.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum DaemonAction {
    /// Run CMDSCRIPT and wait for it (timers fire one after another, as in NUT).
    Run(RunCmd),
    /// No timers for [`EMPTY_WAIT_SECS`]: remove PIPEFN and exit.
    Exit,
}

#[derive(Debug)]
struct Timer {
    name: String,
    deadline: Time,
    origins: Vec<Origin>,
}

impl Timer {
    fn env(&self) -> Vec<(String, String)> {
        if let [only] = self.origins.as_slice() {
            return only.env();
        }
        // Each field lists every distinct value once, in order of arrival (NUT HEAD): two
        // UPSes going on battery give `NOTIFYTYPE=ONBATT`, not `ONBATT,ONBATT`.
        let join = |f: fn(&Origin) -> &str, sep: &str| {
            let mut seen: Vec<&str> = Vec::new();
            for value in self.origins.iter().map(f) {
                if !seen.contains(&value) {
                    seen.push(value);
                }
            }
            seen.join(sep)
        };
        env(
            &join(|o| &o.ups, ","),
            &join(|o| &o.notify_type, ","),
            &join(|o| &o.message, ".\t"),
        )
    }
}

/// The timer daemon. See the [module documentation](super).
#[derive(Debug)]
pub struct TimerDaemon {
    cmdscript: Vec<String>,
    timers: Vec<Timer>,
    /// Since when there have been no timers.
    idle_since: Option<Time>,
    actions: VecDeque<DaemonAction>,
    exited: bool,
}

impl TimerDaemon {
    /// A daemon running `cmdscript` (CMDSCRIPT and its arguments) for its timers.
    pub fn new(cmdscript: Vec<String>, now: Time) -> Self {
        Self {
            cmdscript,
            timers: Vec::new(),
            idle_since: Some(now),
            actions: VecDeque::new(),
            exited: false,
        }
    }

    /// Whether the daemon decided to exit.
    pub fn has_exited(&self) -> bool {
        self.exited
    }

    /// The running timers, in the order they were started.
    pub fn timers(&self, now: Time) -> Vec<TimerListing> {
        self.timers
            .iter()
            .map(|t| TimerListing {
                name: t.name.clone(),
                deadline: t.deadline,
                seconds_left: t.deadline.whole_secs_since(now),
                notify_types: t.origins.iter().map(|o| o.notify_type.clone()).collect(),
                upses: t.origins.iter().map(|o| o.ups.clone()).collect(),
                messages: t.origins.iter().map(|o| o.message.clone()).collect(),
            })
            .collect()
    }

    /// One request line, already split into words: parsed and handled.
    pub fn handle_line(&mut self, now: Time, words: &[String]) -> Reply {
        match Request::parse(words) {
            Ok(request) => self.handle_request(now, request),
            Err(e) => {
                tracing::info!(error = %e, "unknown command on socket");
                Reply::ErrUnknown
            }
        }
    }

    /// One request.
    pub fn handle_request(&mut self, now: Time, request: Request) -> Reply {
        match request {
            Request::Start {
                name,
                seconds,
                origin,
            } => {
                let Ok(seconds) = u64::try_from(seconds) else {
                    tracing::info!(timer = %name, "bogus offset for timer, ignoring");
                    return Reply::Ok;
                };
                tracing::info!(timer = %name, seconds, "new timer");
                self.add(now, name, seconds, origin);
            }
            Request::StartShared {
                name,
                seconds,
                origin,
            } => {
                if let Some(timer) = self.timers.iter_mut().find(|t| t.name == name) {
                    let joined = timer
                        .origins
                        .iter()
                        .any(|o| o.ups == origin.ups && o.notify_type == origin.notify_type);
                    if !joined {
                        tracing::info!(timer = %name, ups = %origin.ups, "joining shared timer");
                        timer.origins.push(origin);
                    }
                } else if let Ok(seconds) = u64::try_from(seconds) {
                    tracing::info!(timer = %name, seconds, "new shared timer");
                    self.add(now, name, seconds, origin);
                } else {
                    tracing::info!(timer = %name, "bogus offset for timer, ignoring");
                }
            }
            Request::Cancel {
                name,
                fallback,
                origin,
            } => {
                let before = self.timers.len();
                self.timers.retain(|t| t.name != name);
                let cancelled = self.timers.len() != before;
                self.after_cancel(now, &name, cancelled, fallback, &origin);
            }
            Request::CancelMatched {
                name,
                fallback,
                origin,
            } => {
                let mut cancelled = false;
                for timer in self.timers.iter_mut().filter(|t| t.name == name) {
                    let before = timer.origins.len();
                    timer.origins.retain(|o| o.ups != origin.ups);
                    cancelled |= timer.origins.len() != before;
                }
                self.timers.retain(|t| !t.origins.is_empty());
                self.after_cancel(now, &name, cancelled, fallback, &origin);
            }
            Request::ListTimers => return Reply::List(self.timers(now)),
        }
        Reply::Ok
    }

    fn add(&mut self, now: Time, name: String, seconds: u64, origin: Origin) {
        self.timers.push(Timer {
            name,
            deadline: now.plus_secs(seconds),
            origins: vec![origin],
        });
        self.idle_since = None;
    }

    fn after_cancel(
        &mut self,
        now: Time,
        name: &str,
        cancelled: bool,
        fallback: Option<String>,
        origin: &Origin,
    ) {
        if cancelled {
            tracing::info!(timer = %name, "cancelling timer");
        } else if let Some(command) = fallback {
            tracing::info!(timer = %name, %command, "cancel found no timer, running command");
            self.actions.push_back(DaemonAction::Run(RunCmd {
                argv: cmdscript_argv(&self.cmdscript, &command),
                env: origin.env(),
            }));
        }
        self.note_idle(now);
    }

    fn note_idle(&mut self, now: Time) {
        if self.timers.is_empty() && self.idle_since.is_none() {
            self.idle_since = Some(now);
        }
    }

    /// Fire the timers that are due (in start order), and exit after a quiet spell.
    pub fn handle_timeout(&mut self, now: Time) {
        if self.exited {
            return;
        }
        let (due, pending): (Vec<Timer>, Vec<Timer>) = std::mem::take(&mut self.timers)
            .into_iter()
            .partition(|t| t.deadline <= now);
        self.timers = pending;
        for timer in due {
            tracing::info!(timer = %timer.name, "event");
            self.actions.push_back(DaemonAction::Run(RunCmd {
                argv: cmdscript_argv(&self.cmdscript, &timer.name),
                env: timer.env(),
            }));
        }
        self.note_idle(now);
        if self
            .idle_since
            .is_some_and(|since| now >= since.plus_secs(EMPTY_WAIT_SECS))
        {
            tracing::info!("timer queue empty, exiting");
            self.exited = true;
            self.actions.push_back(DaemonAction::Exit);
        }
    }

    /// The next piece of work.
    pub fn poll_action(&mut self) -> Option<DaemonAction> {
        self.actions.pop_front()
    }

    /// When [`TimerDaemon::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Time> {
        if self.exited {
            return None;
        }
        let next_timer = self.timers.iter().map(|t| t.deadline).min();
        let exit = self
            .idle_since
            .map(|since| since.plus_secs(EMPTY_WAIT_SECS));
        match (next_timer, exit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        token::split_line(line).expect("valid line")
    }

    #[test]
    fn requests_round_trip_through_the_tokenizer() {
        let origin = Origin {
            notify_type: "ONBATT".into(),
            ups: "ups@host:3493".into(),
            message: "UPS \"ups\" on battery # now".into(),
        };
        for request in [
            Request::Start {
                name: "onbatt".into(),
                seconds: 30,
                origin: origin.clone(),
            },
            Request::StartShared {
                name: "with space".into(),
                seconds: 0,
                origin: origin.clone(),
            },
            Request::Cancel {
                name: "onbatt".into(),
                fallback: None,
                origin: origin.clone(),
            },
            Request::CancelMatched {
                name: "onbatt".into(),
                fallback: Some("back\\slash".into()),
                origin,
            },
            Request::ListTimers,
        ] {
            let line = request.encode();
            assert_eq!(Request::parse(&words(&line)), Ok(request), "{line}");
        }
    }

    #[test]
    fn short_forms_and_unknown_requests() {
        assert_eq!(
            Request::parse(&words("START t1 30")),
            Ok(Request::Start {
                name: "t1".into(),
                seconds: 30,
                origin: Origin::default()
            })
        );
        assert_eq!(
            Request::parse(&words("CANCEL \"t1\" \"\"")),
            Ok(Request::Cancel {
                name: "t1".into(),
                fallback: None,
                origin: Origin::default()
            })
        );
        for bad in ["BOGUS", "START t1", "CANCEL", "start t1 5"] {
            assert!(Request::parse(&words(bad)).is_err(), "{bad}");
        }
        assert!(Request::parse(&[]).is_err());
        assert_eq!(atol(" 12abc"), 12);
        assert_eq!(atol("-5"), -5);
        assert_eq!(atol("x"), 0);
    }

    #[test]
    fn raw_socket_session_like_nut() {
        let mut d = TimerDaemon::new(vec!["/bin/cmd".into()], Time::ZERO);
        let t = Time::from_secs(1);
        assert_eq!(
            d.handle_line(t, &words("START \"t1\" \"30\" \"\" \"\" \"\"")),
            Reply::Ok
        );
        assert_eq!(d.handle_line(t, &words("BOGUS")), Reply::ErrUnknown);
        assert_eq!(
            Reply::ErrUnknown.encode(t, 0),
            "ERR UNKNOWN\n",
            "error reply"
        );
        let list = d.handle_line(Time::from_secs(11), &words("LIST-TIMERS"));
        assert_eq!(
            list.encode(Time::from_secs(11), 1_000_000),
            "BEGIN LIST TIMERS\nt1\t1000020\t20\t\"\"\t\"\"\t\"\"\nEND LIST TIMERS\nOK\n"
        );
        assert_eq!(d.handle_line(t, &words("CANCEL \"t1\" \"\"")), Reply::Ok);
        assert!(d.timers(t).is_empty());
        assert_eq!(d.poll_action(), None);
        // Negative seconds: ignored, still OK.
        assert_eq!(d.handle_line(t, &words("START t2 -5")), Reply::Ok);
        assert!(d.timers(t).is_empty());
    }
}
