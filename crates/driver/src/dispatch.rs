//! The driver side of the socket protocol as a sans-IO state machine: requests from socket
//! clients in, lines to send and calls for the driver out.
//!
//! The shell (`runner`) feeds it socket events with [`Dispatcher::request`], carries out
//! the [`Output`]s it queues in order, runs each [`Call`] on the driver and reports the
//! result with [`Dispatcher::call_done`]. Everything NUT's `drivers/dstate.c` and
//! `main.c` decide about a request is decided here, and unit-tested:
//!
//! * the dumps (`DUMPALL`, `DUMPVALUE`, `DUMPSTATUS`), `PING`, `GETPID`, `(NO)BROADCAST`,
//!   `LOGOUT`;
//! * the framework's own commands before the driver's: `driver.exit`, `driver.reload*`,
//!   `driver.killpower` (refused with `STAT_INSTCMD_INVALID` unless
//!   `driver.flag.allow_killpower` is set), `SET driver.debug` and
//!   `SET driver.flag.allow_killpower`;
//! * the order NUT answers a tracked command in: first the changes the command caused are
//!   broadcast, then `TRACKING <id> <status>` goes to the requesting client — also for a
//!   command whose result comes later (a forwarded one) while other requests are served.

use std::collections::HashMap;
use std::sync::Arc;

use nut_core::net::ErrCode;
use nut_core::sock::tree::render;
use nut_core::sock::{CmdStatus, DriverMsg, ParseError, ServerMsg};

use crate::State;
use crate::log::Level;
use crate::server::{BadLine, ConnId};

/// Identifies one [`Call`] until its result is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallId(u64);

/// Work for the driver (or the framework shell) that the dispatcher cannot do itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// The driver's instant command.
    InstCmd {
        /// Command name, as the client sent it.
        cmd: String,
        /// Its parameter.
        param: Option<String>,
    },
    /// The driver's SET.
    Set {
        /// Variable name.
        var: String,
        /// New value.
        value: String,
    },
    /// `driver.killpower`, already allowed: run the shutdown sequence (`sdcommands`).
    KillPower,
    /// `driver.reload*`: re-read ups.conf; with `exit_if_restart_needed`
    /// (`driver.reload-or-exit`) exit when changed settings need a restart.
    Reload {
        /// `reload-or-exit`.
        exit_if_restart_needed: bool,
    },
}

/// What the shell must do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send this text to one client.
    Send(ConnId, Arc<str>),
    /// Send this text to every client that wants broadcasts.
    Broadcast(Arc<str>),
    /// Turn broadcasts to a client on or off.
    SetBroadcast(ConnId, bool),
    /// Close a client once what is queued for it is written.
    Close(ConnId),
    /// Run a call and report its result with [`Dispatcher::call_done`].
    Call(CallId, Call),
    /// Change the debug level.
    SetDebug(u32),
    /// Log a message.
    Log(Level, String),
    /// Stop the driver with this exit status.
    Exit(i32),
}

/// The settings the dispatcher decides with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The debug level of the command line (`-D`), restored by `SET driver.debug -1`.
    pub cli_debug: u32,
    /// `debug_min` from ups.conf.
    pub debug_min: Option<u32>,
    /// `allow_killpower` from ups.conf.
    pub allow_killpower: bool,
    /// This process's id, for `GETPID`.
    pub pid: i64,
}

struct Pending {
    conn: ConnId,
    tracking: Option<String>,
}

/// The socket dispatcher.
pub struct Dispatcher {
    settings: Settings,
    pending: HashMap<CallId, Pending>,
    next_call: u64,
    out: Vec<Output>,
}

impl Dispatcher {
    /// A dispatcher deciding with `settings`.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            pending: HashMap::new(),
            next_call: 1,
            out: Vec::new(),
        }
    }

    /// Whether `driver.killpower` is currently allowed.
    pub fn killpower_allowed(&self) -> bool {
        self.settings.allow_killpower
    }

    /// New `debug_min` after a reload.
    pub fn set_debug_min(&mut self, debug_min: Option<u32>) {
        self.settings.debug_min = debug_min;
    }

    /// Take what the shell has to do, in order.
    pub fn take_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }

    /// Calls still waiting for their result.
    pub fn pending_calls(&self) -> usize {
        self.pending.len()
    }

    /// Queue the state's changes as one broadcast (after a poll, a reload…).
    pub fn flush(&mut self, state: &mut State) {
        let changes = state.tree_mut().take_changes();
        if !changes.is_empty() {
            self.out
                .push(Output::Broadcast(Arc::from(render(&changes))));
        }
    }

    /// A client went away: results of its pending calls are dropped when they arrive.
    pub fn closed(&mut self, conn: ConnId) {
        for p in self.pending.values_mut() {
            if p.conn == conn {
                p.tracking = None;
            }
        }
    }

    fn send(&mut self, conn: ConnId, msg: &DriverMsg) {
        self.out.push(Output::Send(conn, Arc::from(msg.to_line())));
    }

    fn log(&mut self, level: Level, msg: impl Into<String>) {
        self.out.push(Output::Log(level, msg.into()));
    }

    /// A line from a client that is not a valid request.
    pub fn bad_request(&mut self, conn: ConnId, bad: &BadLine) {
        let (code, text) = match bad {
            BadLine::Token(e) => (
                ErrCode::InvalidArgument,
                format!("Parse error on sock: {e}"),
            ),
            BadLine::Parse(ParseError::UnknownCommand { .. }, words) => (
                ErrCode::UnknownCommand,
                format!("Unknown command on socket: {}", words.join(" ")),
            ),
            BadLine::Parse(e, words) => (
                ErrCode::InvalidArgument,
                format!("{e} on socket: {}", words.join(" ")),
            ),
        };
        self.log(Level::Notice, text);
        self.send(
            conn,
            &DriverMsg::Error {
                code: code.as_str().into(),
            },
        );
    }

    /// A request from a client. `state` is read for dumps; changes made by framework
    /// commands are broadcast before their tracking reply.
    pub fn request(&mut self, conn: ConnId, msg: ServerMsg, state: &mut State) {
        match msg {
            ServerMsg::DumpAll => {
                let text = state.tree().render_dump_all();
                self.out.push(Output::Send(conn, Arc::from(text)));
            }
            ServerMsg::DumpValue { var } => {
                let text = render(&state.tree().dump_value(&var));
                self.out.push(Output::Send(conn, Arc::from(text)));
            }
            ServerMsg::DumpStatus => {
                let text = render(&state.tree().dump_value("ups.status"));
                self.out.push(Output::Send(conn, Arc::from(text)));
            }
            ServerMsg::Ping => self.send(conn, &DriverMsg::Pong),
            ServerMsg::GetPid => self.send(
                conn,
                &DriverMsg::Pid {
                    pid: self.settings.pid,
                },
            ),
            ServerMsg::NoBroadcast => self.out.push(Output::SetBroadcast(conn, false)),
            ServerMsg::Broadcast { level } => self
                .out
                .push(Output::SetBroadcast(conn, level.is_none_or(|n| n > 0))),
            ServerMsg::Logout => {
                self.send(conn, &DriverMsg::Goodbye);
                self.out.push(Output::Close(conn));
            }
            ServerMsg::InstCmd {
                cmd,
                param,
                tracking,
            } => self.instcmd(conn, cmd, param, tracking, state),
            ServerMsg::Set {
                var,
                value,
                tracking,
            } => self.set(conn, var, value, tracking, state),
            _ => self.send(
                conn,
                &DriverMsg::Error {
                    code: ErrCode::UnknownCommand.as_str().into(),
                },
            ),
        }
    }

    fn instcmd(
        &mut self,
        conn: ConnId,
        cmd: String,
        param: Option<String>,
        tracking: Option<String>,
        state: &mut State,
    ) {
        let call = match cmd.to_ascii_lowercase().as_str() {
            "driver.exit" => {
                self.log(Level::Notice, "Requested exit via the driver.exit command");
                self.finish(conn, tracking, CmdStatus::Handled, state);
                self.out.push(Output::Exit(0));
                return;
            }
            "driver.reload" | "driver.reload-or-error" | "driver.reload-or-restart" => {
                Call::Reload {
                    exit_if_restart_needed: false,
                }
            }
            "driver.reload-or-exit" => Call::Reload {
                exit_if_restart_needed: true,
            },
            "driver.killpower" => {
                if !self.settings.allow_killpower {
                    self.log(
                        Level::Error,
                        "Got socket protocol request to power off, but \
                         driver.flag.allow_killpower does not permit this - request ignored",
                    );
                    self.finish(conn, tracking, CmdStatus::Invalid, state);
                    return;
                }
                self.log(
                    Level::Error,
                    "Requesting UPS to power off, due to socket protocol request",
                );
                Call::KillPower
            }
            _ => Call::InstCmd { cmd, param },
        };
        self.call(conn, tracking, call);
    }

    fn set(
        &mut self,
        conn: ConnId,
        var: String,
        value: String,
        tracking: Option<String>,
        state: &mut State,
    ) {
        if var.eq_ignore_ascii_case("driver.debug") {
            let status = match value.trim().parse::<i64>() {
                Ok(n) => {
                    let level = if n < 0 {
                        self.settings
                            .cli_debug
                            .max(self.settings.debug_min.unwrap_or(0))
                    } else {
                        u32::try_from(n).unwrap_or(u32::MAX)
                    };
                    self.out.push(Output::SetDebug(level));
                    CmdStatus::Handled
                }
                Err(_) => CmdStatus::ConversionFailed,
            };
            self.finish(conn, tracking, status, state);
            return;
        }
        if var.eq_ignore_ascii_case("driver.flag.allow_killpower") {
            self.settings.allow_killpower = crate::config::allow_killpower_value(&value);
            self.finish(conn, tracking, CmdStatus::Handled, state);
            return;
        }
        self.call(conn, tracking, Call::Set { var, value });
    }

    fn call(&mut self, conn: ConnId, tracking: Option<String>, call: Call) {
        let id = CallId(self.next_call);
        self.next_call += 1;
        self.pending.insert(id, Pending { conn, tracking });
        self.out.push(Output::Call(id, call));
    }

    /// The result of a call: broadcast what it changed, then answer its tracking id.
    pub fn call_done(&mut self, id: CallId, status: CmdStatus, state: &mut State) {
        match self.pending.remove(&id) {
            Some(p) => self.finish(p.conn, p.tracking, status, state),
            None => self.flush(state),
        }
    }

    fn finish(
        &mut self,
        conn: ConnId,
        tracking: Option<String>,
        status: CmdStatus,
        state: &mut State,
    ) {
        self.flush(state);
        if let Some(id) = tracking {
            self.send(conn, &DriverMsg::Tracking { id, status });
        }
    }
}

#[cfg(test)]
#[path = "dispatch_tests.rs"]
mod tests;
