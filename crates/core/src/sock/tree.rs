//! The driver-side state tree: what a driver publishes, the change messages it must
//! broadcast, and its DUMPALL / DUMPVALUE replies.

use super::var::{self, CmdTable, VarTable};
use super::{DriverMsg, Range, Var, VarFlags};

/// A driver's state tree (NUT's `dstate_*` API as data).
///
/// Every mutation that changes something queues the matching [`DriverMsg`]; the socket
/// server drains them with [`take_changes`](Self::take_changes) and broadcasts them, so
/// clients see changes in the order they happened. Mutations that change nothing queue
/// nothing, as in NUT.
#[derive(Clone, Debug, Default)]
pub struct StateTree {
    vars: VarTable,
    cmds: CmdTable,
    stale: bool,
    changes: Vec<DriverMsg>,
}

impl StateTree {
    /// An empty tree, data fresh.
    pub fn new() -> Self {
        Self::default()
    }

    /// Create or update a variable. Immutable variables keep their value. Returns whether the
    /// tree changed.
    pub fn set_info(&mut self, name: &str, value: &str) -> bool {
        if self.vars.get(name).is_some_and(|v| v.flags.immutable) {
            return false;
        }
        if !self.vars.set_value(name, value) {
            return false;
        }
        self.changes.push(DriverMsg::SetInfo {
            var: self.canonical(name),
            value: value.to_owned(),
        });
        true
    }

    /// Set a value even if the variable is immutable (the framework's `override.*` path).
    pub fn force_info(&mut self, name: &str, value: &str) -> bool {
        if !self.vars.set_value(name, value) {
            return false;
        }
        self.changes.push(DriverMsg::SetInfo {
            var: self.canonical(name),
            value: value.to_owned(),
        });
        true
    }

    /// Delete a variable (immutable ones survive). Returns whether it existed and was removed.
    pub fn del_info(&mut self, name: &str) -> bool {
        if self.vars.get(name).is_none_or(|v| v.flags.immutable) {
            return false;
        }
        let Some(var) = self.vars.remove(name) else {
            return false;
        };
        self.changes.push(DriverMsg::DelInfo { var: var.name });
        true
    }

    /// Add an accepted value to an existing variable.
    pub fn add_enum(&mut self, name: &str, value: &str) -> bool {
        let Some(v) = self.vars.get_mut(name) else {
            return false;
        };
        if !var::add_enum(v, value) {
            return false;
        }
        let var = v.name.clone();
        self.changes.push(DriverMsg::AddEnum {
            var,
            value: value.to_owned(),
        });
        true
    }

    /// Remove an accepted value.
    pub fn del_enum(&mut self, name: &str, value: &str) -> bool {
        let Some(v) = self.vars.get_mut(name) else {
            return false;
        };
        if !var::del_enum(v, value) {
            return false;
        }
        let var = v.name.clone();
        self.changes.push(DriverMsg::DelEnum {
            var,
            value: value.to_owned(),
        });
        true
    }

    /// Add an accepted range (min ≤ max) to an existing variable.
    pub fn add_range(&mut self, name: &str, min: i64, max: i64) -> bool {
        let Some(v) = self.vars.get_mut(name) else {
            return false;
        };
        if !var::add_range(v, Range { min, max }) {
            return false;
        }
        let var = v.name.clone();
        self.changes.push(DriverMsg::AddRange { var, min, max });
        true
    }

    /// Remove an accepted range.
    pub fn del_range(&mut self, name: &str, min: i64, max: i64) -> bool {
        let Some(v) = self.vars.get_mut(name) else {
            return false;
        };
        if !var::del_range(v, Range { min, max }) {
            return false;
        }
        let var = v.name.clone();
        self.changes.push(DriverMsg::DelRange { var, min, max });
        true
    }

    /// Set the aux value (maximum length of a STRING variable).
    pub fn set_aux(&mut self, name: &str, aux: i64) -> bool {
        let Some(v) = self.vars.get_mut(name) else {
            return false;
        };
        if v.aux == aux {
            return false;
        }
        v.aux = aux;
        let var = v.name.clone();
        self.changes.push(DriverMsg::SetAux { var, aux });
        true
    }

    /// Replace the flags. Refused on an immutable variable (as NUT's `dstate_setflags`): an
    /// `override.*` value keeps the flags the framework gave it.
    pub fn set_flags(&mut self, name: &str, flags: VarFlags) -> bool {
        let Some(v) = self.vars.get(name) else {
            return false;
        };
        if v.flags.immutable {
            return false;
        }
        self.replace_flags(name, flags)
    }

    /// Add flags to the current ones.
    pub fn add_flags(&mut self, name: &str, flags: VarFlags) -> bool {
        let Some(v) = self.vars.get(name) else {
            return false;
        };
        let new = v.flags | flags;
        self.replace_flags(name, new)
    }

    /// Clear the given flags.
    pub fn del_flags(&mut self, name: &str, flags: VarFlags) -> bool {
        let Some(v) = self.vars.get(name) else {
            return false;
        };
        let old = v.flags;
        let new = VarFlags {
            rw: old.rw && !flags.rw,
            string: old.string && !flags.string,
            number: old.number && !flags.number,
            immutable: old.immutable && !flags.immutable,
        };
        self.replace_flags(name, new)
    }

    fn replace_flags(&mut self, name: &str, new: VarFlags) -> bool {
        let Some(v) = self.vars.get_mut(name) else {
            return false;
        };
        if v.flags == new {
            return false;
        }
        let wire_changed = v.flags.wire_part() != new.wire_part();
        v.flags = new;
        if wire_changed {
            let var = v.name.clone();
            self.changes.push(DriverMsg::SetFlags { var, flags: new });
        }
        true
    }

    /// Offer an instant command.
    pub fn add_cmd(&mut self, name: &str) -> bool {
        if !self.cmds.add(name) {
            return false;
        }
        self.changes.push(DriverMsg::AddCmd {
            cmd: name.to_owned(),
        });
        true
    }

    /// Withdraw an instant command.
    pub fn del_cmd(&mut self, name: &str) -> bool {
        if !self.cmds.remove(name) {
            return false;
        }
        self.changes.push(DriverMsg::DelCmd {
            cmd: name.to_owned(),
        });
        true
    }

    /// Mark data fresh (broadcast only on change).
    pub fn data_ok(&mut self) {
        if self.stale {
            self.stale = false;
            self.changes.push(DriverMsg::DataOk);
        }
    }

    /// Mark data stale (broadcast only on change).
    pub fn data_stale(&mut self) {
        if !self.stale {
            self.stale = true;
            self.changes.push(DriverMsg::DataStale);
        }
    }

    /// Whether the data is currently stale.
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// A variable's value (ASCII case ignored).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| v.value.as_str())
    }

    /// A variable (ASCII case ignored).
    pub fn var(&self, name: &str) -> Option<&Var> {
        self.vars.get(name)
    }

    /// All variables in `strcasecmp` order.
    pub fn vars(&self) -> impl Iterator<Item = &Var> {
        self.vars.iter()
    }

    /// Instant commands in `strcasecmp` order.
    pub fn commands(&self) -> impl Iterator<Item = &str> {
        self.cmds.iter()
    }

    /// Whether an instant command is offered (ASCII case ignored).
    pub fn has_command(&self, name: &str) -> bool {
        self.cmds.contains(name)
    }

    /// Drain the change messages queued since the last call, oldest first.
    pub fn take_changes(&mut self) -> Vec<DriverMsg> {
        std::mem::take(&mut self.changes)
    }

    /// Whether changes are waiting to be broadcast.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// The reply to `DUMPALL`: `DATASTALE` first when stale, every variable with its enums,
    /// ranges, aux and flags, every command, `DATAOK` when fresh, then `DUMPDONE`.
    pub fn dump_all(&self) -> Vec<DriverMsg> {
        let mut out = Vec::with_capacity(self.vars.len() * 2 + self.cmds.len() + 3);
        if self.stale {
            out.push(DriverMsg::DataStale);
        }
        for v in self.vars.iter() {
            dump_var(v, &mut out);
        }
        out.extend(
            self.cmds
                .iter()
                .map(|c| DriverMsg::AddCmd { cmd: c.to_owned() }),
        );
        if !self.stale {
            out.push(DriverMsg::DataOk);
        }
        out.push(DriverMsg::DumpDone);
        out
    }

    /// The reply to `DUMPVALUE <var>`: that variable's block (nothing when unknown), then
    /// `DUMPDONE`.
    pub fn dump_value(&self, name: &str) -> Vec<DriverMsg> {
        let mut out = Vec::new();
        if let Some(v) = self.vars.get(name) {
            dump_var(v, &mut out);
        }
        out.push(DriverMsg::DumpDone);
        out
    }

    /// [`dump_all`](Self::dump_all) rendered as socket lines.
    pub fn render_dump_all(&self) -> String {
        render(&self.dump_all())
    }

    fn canonical(&self, name: &str) -> String {
        self.vars
            .get(name)
            .map_or_else(|| name.to_owned(), |v| v.name.clone())
    }
}

/// Render messages as LF-terminated lines.
pub fn render(msgs: &[DriverMsg]) -> String {
    let mut out = String::with_capacity(msgs.len() * 40);
    for m in msgs {
        m.write_line(&mut out);
    }
    out
}

fn dump_var(v: &Var, out: &mut Vec<DriverMsg>) {
    out.push(DriverMsg::SetInfo {
        var: v.name.clone(),
        value: v.value.clone(),
    });
    out.extend(v.enums.iter().map(|e| DriverMsg::AddEnum {
        var: v.name.clone(),
        value: e.clone(),
    }));
    out.extend(v.ranges.iter().map(|r| DriverMsg::AddRange {
        var: v.name.clone(),
        min: r.min,
        max: r.max,
    }));
    if v.aux != 0 {
        out.push(DriverMsg::SetAux {
            var: v.name.clone(),
            aux: v.aux,
        });
    }
    if !v.flags.is_wire_empty() {
        out.push(DriverMsg::SetFlags {
            var: v.name.clone(),
            flags: v.flags,
        });
    }
}
