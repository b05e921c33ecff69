//! The state tree of one driver as a socket client (upsd) sees it: fed with the driver's
//! messages, queried by the network side.

use super::var::{self, CmdTable, VarTable};
use super::{CmdStatus, DriverMsg, Range, Var};

/// What a driver message did to the mirror, for the messages a client must act on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Applied {
    /// The state tree or freshness was updated (or the update was a no-op).
    State,
    /// `DUMPDONE`: the initial dump is complete.
    DumpDone,
    /// `PONG`.
    Pong,
    /// `TRACKING <id> <code>`: a tracked SET/INSTCMD finished.
    Tracking {
        /// The tracking id.
        id: String,
        /// Its result.
        status: CmdStatus,
    },
    /// `PID <pid>`.
    Pid(i64),
    /// `OK Goodbye`: the driver will close the connection.
    Goodbye,
    /// `ERR <code>`: the driver did not understand a line we sent.
    Error(String),
}

/// A mirror of one driver's state tree, the way upsd keeps it (docs/nut-behaviour.md §3.2, §3.4).
///
/// Names are looked up ignoring ASCII case and iterated in `strcasecmp` order, like upsd's
/// trees. Every message that parses counts as "heard from the driver"; freshness timing is
/// left to the caller, which owns the clock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DriverState {
    vars: VarTable,
    cmds: CmdTable,
    dump_done: bool,
    stale: bool,
}

impl DriverState {
    /// An empty mirror (before DUMPALL's reply arrives).
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget everything (connection lost): upsd frees the whole tree then.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Apply one driver message.
    pub fn apply(&mut self, msg: DriverMsg) -> Applied {
        match msg {
            DriverMsg::SetInfo { var, value } => {
                self.vars.set_value(&var, &value);
            }
            DriverMsg::DelInfo { var } => {
                self.vars.remove(&var);
            }
            DriverMsg::AddEnum { var, value } => {
                if let Some(v) = self.vars.get_mut(&var) {
                    var::add_enum(v, &value);
                }
            }
            DriverMsg::DelEnum { var, value } => {
                if let Some(v) = self.vars.get_mut(&var) {
                    var::del_enum(v, &value);
                }
            }
            DriverMsg::AddRange { var, min, max } => {
                if let Some(v) = self.vars.get_mut(&var) {
                    var::add_range(v, Range { min, max });
                }
            }
            DriverMsg::DelRange { var, min, max } => {
                if let Some(v) = self.vars.get_mut(&var) {
                    var::del_range(v, Range { min, max });
                }
            }
            DriverMsg::SetAux { var, aux } => {
                if let Some(v) = self.vars.get_mut(&var) {
                    v.aux = aux;
                }
            }
            DriverMsg::SetFlags { var, flags } => {
                if let Some(v) = self.vars.get_mut(&var) {
                    v.flags = flags.wire_part();
                }
            }
            DriverMsg::AddCmd { cmd } => {
                self.cmds.add(&cmd);
            }
            DriverMsg::DelCmd { cmd } => {
                self.cmds.remove(&cmd);
            }
            DriverMsg::DataOk => self.stale = false,
            DriverMsg::DataStale => self.stale = true,
            DriverMsg::DumpDone => {
                self.dump_done = true;
                return Applied::DumpDone;
            }
            DriverMsg::Pong => return Applied::Pong,
            DriverMsg::Tracking { id, status } => return Applied::Tracking { id, status },
            DriverMsg::Pid { pid } => return Applied::Pid(pid),
            DriverMsg::Goodbye => return Applied::Goodbye,
            DriverMsg::Error { code } => return Applied::Error(code),
        }
        Applied::State
    }

    /// One variable, looked up ignoring ASCII case.
    pub fn var(&self, name: &str) -> Option<&Var> {
        self.vars.get(name)
    }

    /// A variable's value.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| v.value.as_str())
    }

    /// All variables in `strcasecmp` order (the order of LIST VAR).
    pub fn vars(&self) -> impl Iterator<Item = &Var> {
        self.vars.iter()
    }

    /// Number of variables.
    pub fn var_count(&self) -> usize {
        self.vars.len()
    }

    /// Instant command names in `strcasecmp` order (the order of LIST CMD).
    pub fn commands(&self) -> impl Iterator<Item = &str> {
        self.cmds.iter()
    }

    /// Whether the driver offers this instant command (ASCII case ignored).
    pub fn has_command(&self, name: &str) -> bool {
        self.cmds.contains(name)
    }

    /// Whether `DUMPDONE` was received since the mirror was created or cleared.
    pub fn dump_done(&self) -> bool {
        self.dump_done
    }

    /// Whether the driver's last freshness report was `DATASTALE`.
    pub fn is_stale(&self) -> bool {
        self.stale
    }
}
