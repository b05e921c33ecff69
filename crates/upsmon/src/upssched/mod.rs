//! upssched's logic (docs/nut-behaviour.md §7): what one invocation does with an event, and the
//! timer daemon those invocations share.
//!
//! upsmon runs `upssched "<message>"` as NOTIFYCMD with `UPSNAME` and `NOTIFYTYPE` set. The
//! client part ([`plan`]) walks the `AT` rules of upssched.conf (parsed by
//! `nut_core::conf::parse_upssched_conf`; every matching rule, in file order: notify type
//! compared case-insensitively, UPS name exactly or `*`) and turns each into a [`ClientStep`]:
//! run CMDSCRIPT now (`EXECUTE`), or send a [`Request`] to the timer daemon, starting the
//! daemon first if it is not running (except for a cancel without fallback command, which
//! then has nothing to do: [`Request::may_start_daemon`]).
//!
//! [`TimerDaemon`] is the daemon as a sans-IO state machine: requests and time in, replies and
//! [`DaemonAction`]s (run CMDSCRIPT with a timer's name, exit) out.
//!
//! # Behaviour, and intended differences from NUT 2.8.0
//!
//! * `START-TIMER` of a name that is already running adds a second, independent timer: both
//!   fire (as NUT). `START-TIMER-SHARED` instead joins the running timer of that name: its
//!   deadline stays, and the event's UPS, type and message are added to the timer's
//!   environment (NUT 2.8.5+).
//! * `CANCEL-TIMER` removes every timer of that name (NUT HEAD; 2.8.0 removed only the
//!   first) and runs the fallback command if there was none.
//! * `CANCEL-TIMER-MATCHED` works (NUT documents it but its `AT` parser rejects it): it
//!   removes only what the *same UPS* started under that name — from a shared timer just that
//!   UPS's part, the timer itself once no UPS is left — so `ONLINE` on one UPS does not cancel
//!   a timer another UPS on battery still needs. The fallback command runs if nothing matched.
//!   Matching on the notify type would make the rule useless (the cancelling event is never
//!   the starting one), so the type is not compared.
//! * A timer runs CMDSCRIPT with `UPSNAME`, `NOTIFYTYPE` and `NOTIFYMSG` of the events that
//!   started it (comma-joined for shared timers, messages joined with `".\t"`), as NUT
//!   2.8.5+; 2.8.0's daemon ran every timer with the environment of the event that happened
//!   to start the daemon.
//! * CMDSCRIPT gets its argument as one argv word (NUT HEAD's `execvp`); 2.8.0 went through
//!   `system()`, so an `EXECUTE` argument with spaces became several words.
//! * The daemon exits once it has had no timers for 15 s (NUT: 15 idle passes of a loop that
//!   wakes at least every second, i.e. at most about 15 s).

#[cfg(test)]
mod tests;
mod timers;

pub use timers::{
    DaemonAction, EMPTY_WAIT_SECS, Origin, Reply, Request, TimerDaemon, TimerListing,
    UnknownRequest,
};

use nut_core::conf::UpsschedConf;
use nut_core::conf::upssched_conf::AtAction;
use nut_core::names::NotifyType;

/// The event upsmon reported: `NOTIFYTYPE`, `UPSNAME` and the message argument.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    /// `NOTIFYTYPE`, e.g. `ONBATT`.
    pub notify_type: String,
    /// `UPSNAME`, the MONITOR system string, e.g. `ups@localhost`.
    pub ups: String,
    /// The NOTIFYMSG text (the first non-option argument).
    pub message: String,
}

impl Event {
    /// An event.
    pub fn new(
        notify_type: impl Into<String>,
        ups: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            notify_type: notify_type.into(),
            ups: ups.into(),
            message: message.into(),
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        env(&self.ups, &self.notify_type, &self.message)
    }
}

pub(crate) fn env(ups: &str, notify_type: &str, message: &str) -> Vec<(String, String)> {
    vec![
        ("UPSNAME".to_owned(), ups.to_owned()),
        ("NOTIFYTYPE".to_owned(), notify_type.to_owned()),
        ("NOTIFYMSG".to_owned(), message.to_owned()),
    ]
}

/// Run a program and wait for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunCmd {
    /// CMDSCRIPT (with its configured arguments) followed by the timer name or command.
    pub argv: Vec<String>,
    /// Variables to set on top of the inherited environment.
    pub env: Vec<(String, String)>,
}

/// What one upssched invocation does for one matching `AT` rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientStep {
    /// `EXECUTE`: run CMDSCRIPT now, from the client.
    Execute(RunCmd),
    /// A timer command for the daemon.
    Send(Request),
}

/// The steps for `event`, one per matching `AT` rule, in file order.
///
/// An `EXECUTE` with an empty argument is skipped (NUT logs `Empty EXECUTE command
/// argument`). An event whose type is not a notify type matches nothing.
pub fn plan(conf: &UpsschedConf, event: &Event) -> Vec<ClientStep> {
    let Some(kind) = NotifyType::from_name(&event.notify_type) else {
        tracing::warn!(notify_type = %event.notify_type, "unknown NOTIFYTYPE, no AT rule can match");
        return Vec::new();
    };
    let cmdscript = conf.cmdscript.as_deref().unwrap_or_default();
    let origin = Origin::of(event);
    conf.matching(kind, &event.ups)
        .filter_map(|rule| match &rule.action {
            AtAction::StartTimer { name, seconds } => Some(ClientStep::Send(Request::Start {
                name: name.clone(),
                seconds: i64::from(*seconds),
                origin: origin.clone(),
            })),
            AtAction::StartTimerShared { name, seconds } => {
                Some(ClientStep::Send(Request::StartShared {
                    name: name.clone(),
                    seconds: i64::from(*seconds),
                    origin: origin.clone(),
                }))
            }
            AtAction::CancelTimer { name, fallback } => Some(ClientStep::Send(Request::Cancel {
                name: name.clone(),
                fallback: fallback.clone(),
                origin: origin.clone(),
            })),
            AtAction::CancelTimerMatched { name, fallback } => {
                Some(ClientStep::Send(Request::CancelMatched {
                    name: name.clone(),
                    fallback: fallback.clone(),
                    origin: origin.clone(),
                }))
            }
            AtAction::Execute { command } => {
                if command.is_empty() {
                    tracing::error!(line = rule.line, "empty EXECUTE command argument");
                    return None;
                }
                Some(ClientStep::Execute(RunCmd {
                    argv: cmdscript_argv(cmdscript, command),
                    env: event.env(),
                }))
            }
        })
        .collect()
}

pub(crate) fn cmdscript_argv(cmdscript: &[String], arg: &str) -> Vec<String> {
    let mut argv = cmdscript.to_vec();
    argv.push(arg.to_owned());
    argv
}
