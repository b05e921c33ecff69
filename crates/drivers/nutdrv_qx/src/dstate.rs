//! The driver state the core publishes: variables (value, flags, string length, enums, ranges)
//! and instant commands, plus a journal of changes for the framework to apply in order.

use std::collections::{BTreeMap, BTreeSet};

/// One published variable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Var {
    /// Current value.
    pub value: String,
    /// NUT state flags ([`crate::item::stf`]).
    pub flags: u8,
    /// Maximum length for string variables.
    pub aux: Option<i64>,
    /// Enumerated values (in insertion order, no duplicates).
    pub enums: Vec<String>,
    /// Ranges (min, max) in insertion order, no duplicates.
    pub ranges: Vec<(i64, i64)>,
    /// Set from `override.*` in ups.conf: the device never changes or deletes it.
    pub immutable: bool,
}

/// A change to the published state, in the order the core made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Update {
    /// `dstate_setinfo` (only emitted when the value changed or the variable is new).
    SetInfo(String, String),
    /// `dstate_delinfo`.
    DelInfo(String),
    /// `dstate_setflags`.
    SetFlags(String, u8),
    /// `dstate_setaux`.
    SetAux(String, i64),
    /// `dstate_addenum`.
    AddEnum(String, String),
    /// `dstate_addrange`.
    AddRange(String, i64, i64),
    /// `dstate_addcmd`.
    AddCmd(String),
}

/// Variables and commands, with a change journal.
#[derive(Clone, Debug, Default)]
pub struct Dstate {
    vars: BTreeMap<String, Var>,
    cmds: BTreeSet<String>,
    journal: Vec<Update>,
}

impl Dstate {
    /// Value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|v| v.value.as_str())
    }

    /// The full variable record.
    pub fn var(&self, name: &str) -> Option<&Var> {
        self.vars.get(name)
    }

    /// All variables, sorted by name.
    pub fn vars(&self) -> &BTreeMap<String, Var> {
        &self.vars
    }

    /// All instant commands, sorted.
    pub fn commands(&self) -> &BTreeSet<String> {
        &self.cmds
    }

    /// Take the changes made since the last call.
    pub fn take_updates(&mut self) -> Vec<Update> {
        std::mem::take(&mut self.journal)
    }

    pub(crate) fn set(&mut self, name: &str, value: &str) {
        match self.vars.get_mut(name) {
            Some(v) if v.value == value || v.immutable => return,
            Some(v) => v.value = value.to_string(),
            None => {
                self.vars.insert(
                    name.to_string(),
                    Var {
                        value: value.to_string(),
                        ..Var::default()
                    },
                );
            }
        }
        self.journal
            .push(Update::SetInfo(name.to_string(), value.to_string()));
    }

    /// Values from ups.conf before the device is read: `default.<var>` (the device may replace
    /// it; the initial walk does not query variables that already exist) and `override.<var>`
    /// (`immutable`: never changed or deleted by the device).
    pub fn preset(&mut self, name: &str, value: &str, immutable: bool) {
        self.set(name, value);
        if let Some(v) = self.vars.get_mut(name)
            && immutable
        {
            v.value = value.to_string();
            v.immutable = true;
        }
    }

    pub(crate) fn del(&mut self, name: &str) {
        if self.vars.get(name).is_some_and(|v| v.immutable) {
            return;
        }
        if self.vars.remove(name).is_some() {
            self.journal.push(Update::DelInfo(name.to_string()));
        }
    }

    pub(crate) fn set_flags(&mut self, name: &str, flags: u8) {
        if let Some(v) = self.vars.get_mut(name)
            && v.flags != flags
        {
            v.flags = flags;
            self.journal.push(Update::SetFlags(name.to_string(), flags));
        }
    }

    pub(crate) fn set_aux(&mut self, name: &str, aux: i64) {
        if let Some(v) = self.vars.get_mut(name)
            && v.aux != Some(aux)
        {
            v.aux = Some(aux);
            self.journal.push(Update::SetAux(name.to_string(), aux));
        }
    }

    pub(crate) fn add_enum(&mut self, name: &str, val: &str) {
        if let Some(v) = self.vars.get_mut(name)
            && !v.enums.iter().any(|e| e == val)
        {
            v.enums.push(val.to_string());
            self.journal
                .push(Update::AddEnum(name.to_string(), val.to_string()));
        }
    }

    pub(crate) fn add_range(&mut self, name: &str, min: i64, max: i64) {
        if let Some(v) = self.vars.get_mut(name)
            && !v.ranges.contains(&(min, max))
        {
            v.ranges.push((min, max));
            self.journal
                .push(Update::AddRange(name.to_string(), min, max));
        }
    }

    pub(crate) fn add_cmd(&mut self, name: &str) {
        if self.cmds.insert(name.to_string()) {
            self.journal.push(Update::AddCmd(name.to_string()));
        }
    }
}
