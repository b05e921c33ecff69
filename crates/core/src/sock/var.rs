//! One state-tree variable, and the case-insensitive table both sides of the socket keep.

use std::collections::BTreeMap;

use super::VarFlags;

/// An integer range of accepted values (ADDRANGE). NUT allows several per variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Range {
    /// Lower bound (inclusive).
    pub min: i64,
    /// Upper bound (inclusive).
    pub max: i64,
}

/// A variable of a driver's state tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Var {
    /// The name as first published (lookups ignore ASCII case, as NUT's do).
    pub name: String,
    /// Current value, unescaped.
    pub value: String,
    /// Flags.
    pub flags: VarFlags,
    /// Aux value: maximum length for STRING variables, 0 when unset.
    pub aux: i64,
    /// Enumerated accepted values, in insertion order.
    pub enums: Vec<String>,
    /// Accepted ranges, in insertion order.
    pub ranges: Vec<Range>,
}

impl Var {
    /// A new variable with no flags, aux, enums or ranges.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            flags: VarFlags::NONE,
            aux: 0,
            enums: Vec::new(),
            ranges: Vec::new(),
        }
    }
}

/// Variables keyed by lower-cased name: iteration is in the order of C's `strcasecmp`, which
/// is how NUT walks its trees (DUMPALL, LIST VAR).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct VarTable {
    map: BTreeMap<String, Var>,
}

pub(crate) fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

impl VarTable {
    pub(crate) fn get(&self, name: &str) -> Option<&Var> {
        // Names almost always arrive in lower case already: no key to build then (upsd
        // looks a variable up for every GET VAR).
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.map.get(&key(name))
        } else {
            self.map.get(name)
        }
    }

    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut Var> {
        // As `get`: a driver sets its variables at every poll, by lower-case names.
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.map.get_mut(&key(name))
        } else {
            self.map.get_mut(name)
        }
    }

    /// Insert or update; returns true when something changed.
    pub(crate) fn set_value(&mut self, name: &str, value: &str) -> bool {
        match self.get_mut(name) {
            Some(var) if var.value == value => false,
            Some(var) => {
                // In place: a value that changes at every poll (a voltage) reuses its buffer.
                var.value.clear();
                var.value.push_str(value);
                true
            }
            None => {
                self.map.insert(key(name), Var::new(name, value));
                true
            }
        }
    }

    pub(crate) fn remove(&mut self, name: &str) -> Option<Var> {
        self.map.remove(&key(name))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Var> {
        self.map.values()
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// Instant command names, case-insensitively unique, iterated in `strcasecmp` order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CmdTable {
    map: BTreeMap<String, String>,
}

impl CmdTable {
    pub(crate) fn add(&mut self, name: &str) -> bool {
        let k = key(name);
        if self.map.contains_key(&k) {
            return false;
        }
        self.map.insert(k, name.to_owned());
        true
    }

    pub(crate) fn remove(&mut self, name: &str) -> bool {
        self.map.remove(&key(name)).is_some()
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.map.contains_key(&key(name))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.map.values().map(String::as_str)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// Apply an enum addition; false when already present.
pub(crate) fn add_enum(var: &mut Var, value: &str) -> bool {
    if var.enums.iter().any(|e| e == value) {
        return false;
    }
    var.enums.push(value.to_owned());
    true
}

/// Apply an enum removal; false when absent.
pub(crate) fn del_enum(var: &mut Var, value: &str) -> bool {
    let before = var.enums.len();
    var.enums.retain(|e| e != value);
    var.enums.len() != before
}

/// Apply a range addition; false when already present or inverted.
pub(crate) fn add_range(var: &mut Var, range: Range) -> bool {
    if range.min > range.max || var.ranges.contains(&range) {
        return false;
    }
    var.ranges.push(range);
    true
}

/// Apply a range removal; false when absent.
pub(crate) fn del_range(var: &mut Var, range: Range) -> bool {
    let before = var.ranges.len();
    var.ranges.retain(|r| *r != range);
    var.ranges.len() != before
}
