//! The state a driver publishes: NUT's `dstate_*`, `status_*` and `alarm_*` helpers over the
//! sans-IO [`StateTree`].

use nut_core::sock::tree::StateTree;
use nut_core::sock::{Var, VarFlags};

/// A driver's published state. Drivers change it from their callbacks; the framework
/// broadcasts every change to the socket clients afterwards.
#[derive(Debug, Default)]
pub struct State {
    tree: StateTree,
    /// The `ups.status` tokens since `status_init`, separated by one space; the buffers are
    /// reused from poll to poll.
    status: String,
    /// Whether a token (even an empty one) was set since `status_init`.
    status_any: bool,
    /// Where in `status` the first non-empty token starts.
    status_from: Option<usize>,
    /// The value `status_commit` publishes.
    status_value: String,
    alarms: Vec<String>,
    alarm_active: bool,
    ignorelb: bool,
}

impl State {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// With `ignorelb`, LB reported by the device is ignored and derived from the battery
    /// charge/runtime and their `.low` thresholds instead.
    pub fn set_ignorelb(&mut self, on: bool) {
        self.ignorelb = on;
    }

    /// The underlying tree (for DUMPALL and tests).
    pub fn tree(&self) -> &StateTree {
        &self.tree
    }

    /// Mutable access for the framework.
    pub(crate) fn tree_mut(&mut self) -> &mut StateTree {
        &mut self.tree
    }

    /// `dstate_setinfo`: create or update a variable (immutable ones keep their value).
    pub fn set_info(&mut self, var: &str, value: &str) -> bool {
        self.tree.set_info(var, value)
    }

    /// `dstate_delinfo`.
    pub fn del_info(&mut self, var: &str) -> bool {
        self.tree.del_info(var)
    }

    /// `dstate_getinfo`.
    pub fn get(&self, var: &str) -> Option<&str> {
        self.tree.get(var)
    }

    /// The whole variable.
    pub fn var(&self, var: &str) -> Option<&Var> {
        self.tree.var(var)
    }

    /// `dstate_setflags`: replace the flags (refused on immutable variables).
    pub fn set_flags(&mut self, var: &str, flags: VarFlags) -> bool {
        self.tree.set_flags(var, flags)
    }

    /// `dstate_addflags`.
    pub fn add_flags(&mut self, var: &str, flags: VarFlags) -> bool {
        self.tree.add_flags(var, flags)
    }

    /// `dstate_setaux`.
    pub fn set_aux(&mut self, var: &str, aux: i64) -> bool {
        self.tree.set_aux(var, aux)
    }

    /// `dstate_addenum`.
    pub fn add_enum(&mut self, var: &str, value: &str) -> bool {
        self.tree.add_enum(var, value)
    }

    /// `dstate_delenum`.
    pub fn del_enum(&mut self, var: &str, value: &str) -> bool {
        self.tree.del_enum(var, value)
    }

    /// `dstate_addrange`.
    pub fn add_range(&mut self, var: &str, min: i64, max: i64) -> bool {
        self.tree.add_range(var, min, max)
    }

    /// `dstate_delrange`.
    pub fn del_range(&mut self, var: &str, min: i64, max: i64) -> bool {
        self.tree.del_range(var, min, max)
    }

    /// `dstate_addcmd`.
    pub fn add_cmd(&mut self, cmd: &str) -> bool {
        self.tree.add_cmd(cmd)
    }

    /// `dstate_delcmd`.
    pub fn del_cmd(&mut self, cmd: &str) -> bool {
        self.tree.del_cmd(cmd)
    }

    /// `dstate_dataok`.
    pub fn data_ok(&mut self) {
        self.tree.data_ok();
    }

    /// `dstate_datastale`.
    pub fn data_stale(&mut self) {
        self.tree.data_stale();
    }

    /// `status_init`: start a new `ups.status`.
    pub fn status_init(&mut self) {
        self.status.clear();
        self.status_any = false;
        self.status_from = None;
    }

    /// `status_set`: append a token (as given: NUT 2.8.0 neither normalises nor
    /// de-duplicates). With `ignorelb`, `LB` is dropped.
    pub fn status_set(&mut self, token: &str) {
        if self.ignorelb && token.eq_ignore_ascii_case("LB") {
            return;
        }
        self.push_status(token);
    }

    fn push_status(&mut self, token: &str) {
        if self.status_any {
            self.status.push(' ');
        }
        self.status_any = true;
        if self.status_from.is_none() && !token.is_empty() {
            self.status_from = Some(self.status.len());
        }
        self.status.push_str(token);
    }

    /// `status_commit`: publish `ups.status` (with `ALARM` first while alarms are active,
    /// and `LB` derived from the battery thresholds with `ignorelb`).
    pub fn status_commit(&mut self) {
        if self.ignorelb && self.battery_low() == Some(true) {
            self.push_status("LB");
        }
        // The tokens joined by spaces, where a separator only follows something: with
        // `ALARM` in front every token gets one, without it the leading empty ones none.
        let value = &mut self.status_value;
        value.clear();
        if self.alarm_active {
            value.push_str("ALARM");
            if self.status_any {
                value.push(' ');
                value.push_str(&self.status);
            }
        } else if let Some(from) = self.status_from {
            value.push_str(&self.status[from..]);
        }
        self.tree.set_info("ups.status", value);
    }

    /// With `ignorelb`: whether the battery is low by charge or runtime; `None` when neither
    /// pair of values is available.
    pub fn battery_low(&self) -> Option<bool> {
        let num = |v: &str| self.get(v).and_then(|s| s.trim().parse::<f64>().ok());
        let by = |value: &str, low: &str| Some(num(value)? < num(low)?);
        match (
            by("battery.charge", "battery.charge.low"),
            by("battery.runtime", "battery.runtime.low"),
        ) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(false) || b.unwrap_or(false)),
        }
    }

    /// `alarm_init`.
    pub fn alarm_init(&mut self) {
        self.alarms.clear();
    }

    /// `alarm_set`: add an alarm text.
    pub fn alarm_set(&mut self, text: &str) {
        self.alarms.push(text.to_owned());
    }

    /// `alarm_commit`: publish `ups.alarm` (or delete it when empty); the next
    /// [`status_commit`](Self::status_commit) prefixes `ALARM` while alarms are active.
    pub fn alarm_commit(&mut self) {
        if self.alarms.is_empty() {
            self.alarm_active = false;
            self.tree.del_info("ups.alarm");
        } else {
            self.alarm_active = true;
            let text = self.alarms.join(" ");
            self.tree.set_info("ups.alarm", &text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_published_as_given() {
        let mut s = State::new();
        s.status_init();
        for t in ["ol", "OL", "CHRG"] {
            s.status_set(t);
        }
        s.status_commit();
        assert_eq!(s.get("ups.status"), Some("ol OL CHRG"));
    }

    #[test]
    fn ignorelb_derives_lb_from_thresholds() {
        let mut s = State::new();
        s.set_ignorelb(true);
        assert_eq!(s.battery_low(), None);
        s.set_info("battery.charge", "50");
        s.set_info("battery.charge.low", "60");
        s.status_init();
        s.status_set("OL");
        s.status_set("LB");
        s.status_commit();
        assert_eq!(s.get("ups.status"), Some("OL LB"));
        s.set_info("battery.charge", "70");
        s.status_init();
        s.status_set("LB");
        s.status_commit();
        assert_eq!(s.get("ups.status"), Some(""));
    }

    #[test]
    fn status_separators_around_empty_tokens() {
        let mut s = State::new();
        let mut publish = |alarm: bool, tokens: &[&str]| {
            s.alarm_init();
            if alarm {
                s.alarm_set("x");
            }
            s.alarm_commit();
            s.status_init();
            for t in tokens {
                s.status_set(t);
            }
            s.status_commit();
            s.get("ups.status").unwrap().to_owned()
        };
        assert_eq!(publish(false, &["", "", "OL", "", "LB"]), "OL  LB");
        assert_eq!(publish(false, &["", ""]), "");
        assert_eq!(publish(false, &[]), "");
        assert_eq!(publish(false, &["OB", "LB"]), "OB LB");
        assert_eq!(publish(true, &["", "OL"]), "ALARM  OL");
        assert_eq!(publish(true, &[]), "ALARM");
        assert_eq!(publish(true, &["OL", "CHRG"]), "ALARM OL CHRG");
    }

    #[test]
    fn alarms_prefix_the_status() {
        let mut s = State::new();
        s.alarm_init();
        s.alarm_set("Replace battery!");
        s.alarm_commit();
        s.status_init();
        s.status_set("OL");
        s.status_commit();
        assert_eq!(s.get("ups.status"), Some("ALARM OL"));
        assert_eq!(s.get("ups.alarm"), Some("Replace battery!"));
        s.alarm_init();
        s.alarm_commit();
        s.status_commit();
        assert_eq!(s.get("ups.status"), Some("OL"));
        assert_eq!(s.get("ups.alarm"), None);
    }
}
