//! The generic driver logic of usbhid-ups as a sans-IO engine.
//!
//! The shell reads reports and feeds them in; the engine decides what to publish:
//!
//! 1. [`Engine::new`] binds a subdriver's table to a parsed descriptor (after its fixes).
//! 2. Before each walk the shell asks [`Engine::reports_needed`] which report ids to GET
//!    (Feature, [`Engine::buffer_len`] bytes), and files every answer with
//!    [`Engine::file_report`] (a report that failed is simply not filed; interrupt-IN reports
//!    are filed too, see [`Engine::interrupt_report`]).
//! 3. [`Engine::init`] (once), then [`Engine::update`] per poll, produce the variables,
//!    commands, flags and enumerations in [`Engine::state`], as NUT 2.8.0's walk does:
//!    first table row with a readable path wins a variable, commands exist when their report
//!    can be read, status rows collect bits that become `ups.status` and `ups.alarm`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::descriptor::{ReportDescriptor, ReportType};
use crate::mapping::{
    Conversion, DeviceState, Function, HidInfo, Inputs, Outcome, Target, hid_to_nut_with,
    nut_to_hid_with,
};
use crate::report::physical_value;
use crate::status::Status;
use crate::usage::{UsageTable, string_to_path};
use nut_core::cnum::strtol;

/// A published variable's flags and enumeration (what upsd lists with LIST RW / ENUM).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VarMeta {
    pub rw: bool,
    pub string_len: Option<usize>,
    pub enums: Vec<String>,
}

/// The driver state a walk produces (NUT's dstate for this driver).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    /// Variables, without `ups.status` and `ups.alarm` (see `status` and `alarms`).
    pub vars: BTreeMap<String, String>,
    pub meta: BTreeMap<String, VarMeta>,
    pub commands: BTreeSet<String>,
    /// The status words of the last walk, in NUT's order: the shell hands them to the driver
    /// framework's `status_set` (which adds `ALARM` and applies `ignorelb`).
    pub status: Vec<&'static str>,
    /// The alarm texts of the last full walk (the framework's `alarm_set`; quick walks keep
    /// them, as NUT commits alarms only on full walks).
    pub alarms: Vec<String>,
}

impl State {
    /// `ups.status` and `ups.alarm` as the driver framework commits them without `ignorelb`
    /// (`ALARM` first while alarms are active; alarms joined by blanks).
    pub fn committed_status(&self) -> (String, Option<String>) {
        let mut words: Vec<&str> = Vec::new();
        if !self.alarms.is_empty() {
            words.push("ALARM");
        }
        words.extend(self.status.iter().copied());
        let alarm = (!self.alarms.is_empty()).then(|| self.alarms.join(" "));
        (words.join(" "), alarm)
    }
}

/// Options of usbhid-ups that change the generic logic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EngineOptions {
    /// `onlinedischarge`: OL+DISCHRG means on battery.
    pub onlinedischarge: bool,
    /// `interruptonly`: read Input items (filled from the interrupt pipe) instead of Feature.
    pub interrupt_only: bool,
    /// `lowbatt`, `ondelay`, `offdelay` as given (NUT applies `strtol`).
    pub lowbatt: Option<String>,
    pub ondelay: Option<String>,
    pub offdelay: Option<String>,
}

/// What a walk reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkMode {
    /// Everything (first walk; after a reconnect).
    Init,
    /// Status and timers only (between full polls).
    Quick,
    /// All polled rows; `semi-static` ones only after a SET or command.
    Full,
}

/// One step of an instant command, SET or shutdown, for the shell to perform in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// SET_REPORT(Feature, id) with these bytes (report id first). If it fails, the command
    /// fails and the remaining actions are not performed.
    SetReport { report_id: u8, data: Vec<u8> },
    /// Pause before the next action (NUT waits 125 ms between the two halves of
    /// shutdown.return/stayoff: some Tripp Lite units drop commands that come too fast).
    WaitMs(u64),
}

/// Why an instant command or SET was refused (nothing was sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// No such command/variable for this device (NUT: INVALID / UNKNOWN).
    #[error("{0}: not supported by this device")]
    Unknown(String),
    /// The variable is not writable.
    #[error("{0}: not writable")]
    ReadOnly(String),
    /// The value has no HID equivalent in the row's lookup table.
    #[error("{name}: invalid value {value:?}")]
    InvalidValue { name: String, value: String },
    /// The field is constant: NUT refuses to write it.
    #[error("{0}: the HID field is constant")]
    Constant(String),
}

/// The filed reports (NUT's report buffers), indexed by report id: a poll looks them up for
/// every row it reads.
#[derive(Debug, Default)]
struct Reports(Vec<Option<Vec<u8>>>);

impl Reports {
    fn get(&self, id: u8) -> Option<&Vec<u8>> {
        self.0.get(usize::from(id))?.as_ref()
    }

    fn slot(&mut self, id: u8) -> &mut Option<Vec<u8>> {
        let i = usize::from(id);
        if self.0.len() <= i {
            self.0.resize_with(i + 1, || None);
        }
        &mut self.0[i]
    }

    fn remove(&mut self, id: u8) {
        if let Some(slot) = self.0.get_mut(usize::from(id)) {
            *slot = None;
        }
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

/// The engine for one device.
pub struct Engine {
    desc: ReportDescriptor,
    table: &'static [HidInfo],
    usages: UsageTable,
    options: EngineOptions,
    /// Field index bound to each table row (NUT's `hiddata`).
    bound: Vec<Option<usize>>,
    /// The report ids of a quick walk: they follow from the table and `bound` alone, so they
    /// are worked out once per binding ([`Engine::init`]) instead of at every poll.
    quick_reports: std::cell::OnceCell<Vec<u8>>,
    initialised: bool,
    reports: Reports,
    strings: HashMap<u8, String>,
    status: Status,
    alarms: Vec<String>,
    data_changed: bool,
    /// What this device's conversions remember (subdriver quirks, local time zone).
    device: DeviceState,
    pub state: State,
}

impl Engine {
    pub fn new(
        desc: ReportDescriptor,
        table: &'static [HidInfo],
        usages: UsageTable,
        options: EngineOptions,
    ) -> Engine {
        Engine {
            bound: vec![None; table.len()],
            quick_reports: std::cell::OnceCell::new(),
            desc,
            table,
            usages,
            options,
            initialised: false,
            reports: Reports::default(),
            strings: HashMap::new(),
            status: Status::default(),
            alarms: Vec::new(),
            data_changed: false,
            device: DeviceState::default(),
            state: State::default(),
        }
    }

    pub fn descriptor(&self) -> &ReportDescriptor {
        &self.desc
    }

    /// Bytes to ask GET_REPORT for (report id included).
    pub fn buffer_len(&self, report_id: u8) -> usize {
        self.desc.buffer_len(report_id)
    }

    /// The first field (of the kind walks read) with this path.
    fn field_of(&self, path: &str) -> Option<usize> {
        let path = string_to_path(path, self.usages)?;
        let kind = self.kind();
        self.desc
            .fields
            .iter()
            .position(|f| f.kind == kind && f.path == path)
    }

    /// The value of the first field (of the kind walks read) with this path, from the filed
    /// reports (NUT's `HIDGetItemValue`); `None` when the path is unknown or its report was
    /// not filed.
    pub fn item_value(&self, path: &str) -> Option<f64> {
        self.value_of(self.field_of(path)?)
    }

    /// The report id holding the field [`Engine::item_value`] reads for this path (for the
    /// shell to GET before identity formatting, see `Subdriver::identity_paths`).
    pub fn report_of(&self, path: &str) -> Option<u8> {
        Some(self.desc.fields[self.field_of(path)?].report_id)
    }

    /// The USB string whose index the item at `path` holds (NUT's `HIDGetItemString`), from
    /// the filed reports and supplied strings; `None` when the path, its report or the string
    /// is missing.
    pub fn item_string(&self, path: &str) -> Option<String> {
        let index = self.item_value(path)?;
        self.strings
            .get(&((index as i64).clamp(0, 255) as u8))
            .cloned()
    }

    /// A USB string supplied with [`Engine::set_string`].
    pub fn string(&self, index: u8) -> Option<String> {
        self.strings.get(&index).cloned()
    }

    /// What this device's conversions remember ([`DeviceState`]): the subdriver's
    /// [`crate::Subdriver::prepare`] and identity formatting set it up; the shell sets its
    /// [`DeviceState::local_time`].
    pub fn device_state(&self) -> &DeviceState {
        &self.device
    }

    /// See [`Engine::device_state`].
    pub fn device_state_mut(&mut self) -> &mut DeviceState {
        &mut self.device
    }

    /// Reads Input reports instead of Feature ones from now on (PowerCOM 0d9f:0001 forces
    /// NUT's `interruptonly`).
    pub fn set_interrupt_only(&mut self) {
        self.options.interrupt_only = true;
    }

    /// Publishes a variable known before the first walk (the identity: `ups.mfr`,
    /// `ups.model`, `ups.serial`, …): as in NUT, table rows for it are then not used.
    pub fn preset(&mut self, name: &str, value: &str) {
        self.state.vars.insert(name.to_string(), value.to_string());
    }

    /// Supplies a USB string descriptor (for `StringId` conversions such as battery.type).
    pub fn set_string(&mut self, index: u8, text: String) {
        self.strings.insert(index, text);
    }

    /// Files a report that was read (first byte = report id). Shorter or longer answers are
    /// kept as far as the buffer goes, as NUT does.
    pub fn file_report(&mut self, bytes: &[u8]) {
        let Some(&id) = bytes.first() else { return };
        // The buffer of the previous answer is reused (zeros where there was none).
        let buf = self.reports.slot(id).get_or_insert_with(Vec::new);
        buf.resize(self.desc.buffer_len(id), 0);
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
    }

    /// Forgets one filed report (a GET_REPORT of it failed: NUT then skips the rows it feeds
    /// instead of using older data).
    pub fn forget_report(&mut self, report_id: u8) {
        self.reports.remove(report_id);
    }

    /// The USB string indexes that the `StringId` rows of the next walk convert (NUT reads
    /// the string descriptor when it converts), from the filed reports; 0 is never one.
    pub fn string_indexes(&self) -> Vec<u8> {
        let kind = self.kind();
        let mut out = BTreeSet::new();
        for (i, row) in self.table.iter().enumerate() {
            if row.flags.absent
                || !matches!(row.conversion, Some(Conversion::Fun(Function::StringId)))
            {
                continue;
            }
            let field = self.bound[i].or_else(|| {
                string_to_path(row.path, self.usages).and_then(|p| {
                    self.desc
                        .fields
                        .iter()
                        .position(|f| f.kind == kind && f.path == p)
                })
            });
            if let Some(v) = field.and_then(|f| self.value_of(f)) {
                let index = (v as i64).clamp(0, 255) as u8;
                if index != 0 {
                    out.insert(index);
                }
            }
        }
        out.into_iter().collect()
    }

    /// Forgets all filed reports (the shell does this before re-reading for a new poll).
    pub fn clear_reports(&mut self) {
        self.reports.clear();
    }

    /// Marks that a SET or command changed data: the next full walk re-reads semi-static rows.
    pub fn data_changed(&mut self) {
        self.data_changed = true;
    }

    fn kind(&self) -> ReportType {
        if self.options.interrupt_only {
            ReportType::Input
        } else {
            ReportType::Feature
        }
    }

    fn wanted(&self, row: &HidInfo, mode: WalkMode) -> bool {
        match mode {
            WalkMode::Init => true,
            WalkMode::Quick => row.flags.quick_poll,
            WalkMode::Full => {
                !(row.flags.absent || row.flags.static_ || matches!(row.target, Target::Command(_)))
                    && (!row.flags.semi_static || self.data_changed)
            }
        }
    }

    /// The report ids a walk of this mode reads, ascending.
    pub fn reports_needed(&self, mode: WalkMode) -> Vec<u8> {
        if mode == WalkMode::Quick {
            return self
                .quick_reports
                .get_or_init(|| self.find_reports(mode))
                .clone();
        }
        self.find_reports(mode)
    }

    fn find_reports(&self, mode: WalkMode) -> Vec<u8> {
        let kind = self.kind();
        let mut ids = Vec::new();
        for (i, row) in self.table.iter().enumerate() {
            if !self.wanted(row, mode) || row.flags.absent {
                continue;
            }
            let field = match (mode, self.bound[i]) {
                (_, Some(f)) => Some(f),
                (WalkMode::Init, None) if !self.initialised => {
                    string_to_path(row.path, self.usages).and_then(|p| {
                        self.desc
                            .fields
                            .iter()
                            .position(|f| f.kind == kind && f.path == p)
                    })
                }
                _ => None,
            };
            if let Some(f) = field {
                let id = self.desc.fields[f].report_id;
                // A walk reads a handful of reports: a scan beats a set.
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        ids.sort_unstable();
        ids
    }

    fn value_of(&self, field: usize) -> Option<f64> {
        let f = &self.desc.fields[field];
        self.reports
            .get(f.report_id)
            .map(|buf| physical_value(buf, f))
    }

    /// Applies one row's value (NUT's `ups_infoval_set`): returns true when a variable was set.
    fn infoval_set(&mut self, row: &HidInfo, value: f64) -> bool {
        let Some(conversion) = row.conversion.as_ref() else {
            return false;
        };
        let text = match self.convert(conversion, value) {
            Outcome::Set(text) => text,
            Outcome::Skip => return false,
            Outcome::Delete => {
                self.state.vars.remove(row.name());
                self.state.meta.remove(row.name());
                return false;
            }
        };
        match row.target {
            Target::Status => {
                self.status.apply(&text);
                false
            }
            Target::Alarm => {
                self.alarms.push(text);
                false
            }
            Target::Var(name) => {
                // Most polls give a variable the value it has: no new key, no copy.
                match self.state.vars.get_mut(name) {
                    Some(old) => {
                        if *old != text {
                            *old = text;
                        }
                    }
                    None => {
                        self.state.vars.insert(name.to_string(), text);
                    }
                }
                true
            }
            Target::Command(_) => false,
        }
    }

    /// Converts a value with this device's state, strings, reports, variables and status.
    fn convert(&mut self, conversion: &Conversion, value: f64) -> Outcome {
        let (strings, reports, desc) = (&self.strings, &self.reports, &self.desc);
        let inputs = Inputs {
            strings: &|i: u8| strings.get(&i).cloned(),
            // A report not read is zeros, as NUT's buffer is; one the descriptor lacks is
            // empty.
            report: &|id: u8| match reports.get(id) {
                Some(buf) => buf.clone(),
                None => {
                    let len = desc.buffer_len(id);
                    vec![0u8; if len > 1 { len } else { 0 }]
                }
            },
            vars: &self.state.vars,
            status: self.status,
        };
        hid_to_nut_with(conversion, value, &inputs, &mut self.device)
    }

    /// The first walk: binds rows to fields and publishes everything readable, then applies
    /// the `lowbatt`/`ondelay`/`offdelay` options and adds the composite commands.
    pub fn init(&mut self) {
        self.quick_reports = std::cell::OnceCell::new();
        let kind = self.kind();
        for (i, row) in self.table.iter().enumerate() {
            if self.bound[i].is_none() {
                let Some(path) = string_to_path(row.path, self.usages) else {
                    continue;
                };
                let Some(f) = self
                    .desc
                    .fields
                    .iter()
                    .position(|f| f.kind == kind && f.path == path)
                else {
                    continue;
                };
                self.bound[i] = Some(f);
                let name = row.name();
                if row.flags.absent {
                    if !self.state.vars.contains_key(name) {
                        self.state
                            .vars
                            .insert(name.to_string(), row.default.unwrap_or("").to_string());
                        self.state.meta.insert(
                            name.to_string(),
                            VarMeta {
                                rw: row.var_flags.rw,
                                string_len: row.var_flags.string,
                                enums: Vec::new(),
                            },
                        );
                    }
                    continue;
                }
                if !name.starts_with("ups.alarm") && self.state.vars.contains_key(name) {
                    self.bound[i] = None;
                    continue;
                }
            }
            if row.flags.absent {
                continue;
            }
            let Some(f) = self.bound[i] else { continue };
            let Some(value) = self.value_of(f) else {
                continue;
            };
            if let Target::Command(name) = row.target {
                self.state.commands.insert(name.to_string());
                continue;
            }
            if !self.infoval_set(row, value) {
                continue;
            }
            let mut meta = VarMeta {
                rw: row.var_flags.rw,
                string_len: row.var_flags.string,
                enums: Vec::new(),
            };
            if row.flags.enumerated
                && row.var_flags.rw
                && let Some(Conversion::Lookup(table)) = row.conversion
            {
                meta.enums = table.iter().map(|(_, n)| (*n).to_string()).collect();
            }
            // A conversion function offers the table values it accepts (NUT calls it on each).
            if row.flags.enumerated
                && row.var_flags.rw
                && let Some(conversion @ Conversion::Fun(Function::Mge(f))) = row.conversion
            {
                for (h, n) in f.table().unwrap_or(&[]) {
                    if matches!(self.convert(&conversion, *h as f64), Outcome::Set(_)) {
                        meta.enums.push((*n).to_string());
                    }
                }
            }
            self.state.meta.insert(row.name().to_string(), meta);
        }
        self.initialised = true;
        // NUT's main loop mirrors these once the driver has initialised.
        for var in ["mfr", "model", "serial"] {
            if let Some(v) = self.state.vars.get(&format!("ups.{var}")).cloned() {
                self.state.vars.insert(format!("device.{var}"), v);
            }
        }
        for (var, value) in [
            ("battery.charge.low", self.options.lowbatt.clone()),
            ("ups.delay.start", self.options.ondelay.clone()),
            ("ups.delay.shutdown", self.options.offdelay.clone()),
        ] {
            if let Some(v) = value
                && self.state.vars.contains_key(var)
            {
                self.state
                    .vars
                    .insert(var.to_string(), strtol(&v).to_string());
            }
        }
        let has = |name: &str| {
            self.table.iter().enumerate().any(|(i, r)| {
                matches!(r.target, Target::Command(n) if n == name) && self.bound[i].is_some()
            })
        };
        let (off, on) = (has("load.off.delay"), has("load.on.delay"));
        if off {
            self.state.commands.insert("load.off".into());
        }
        if on {
            self.state.commands.insert("load.on".into());
        }
        if off && on {
            self.state.commands.insert("shutdown.return".into());
            self.state.commands.insert("shutdown.stayoff".into());
        }
        // NUT commits alarms only in a full update, and its first update after initialising
        // is a quick one (the pollfreq clock starts at initialisation): no alarms yet.
        self.finish(WalkMode::Init);
    }

    /// One poll: a full walk (`full`) or a quick one, then `ups.status` (and on full walks
    /// `ups.alarm`) from the collected bits.
    pub fn update(&mut self, full: bool) {
        let mode = if full {
            WalkMode::Full
        } else {
            WalkMode::Quick
        };
        if full {
            self.alarms.clear();
        }
        for (i, row) in self.table.iter().enumerate() {
            if !self.wanted(row, mode) {
                continue;
            }
            let Some(f) = self.bound[i] else { continue };
            let Some(value) = self.value_of(f) else {
                continue;
            };
            if matches!(row.target, Target::Command(_)) {
                continue;
            }
            self.infoval_set(row, value);
        }
        if full {
            self.data_changed = false;
        }
        self.finish(mode);
    }

    /// Applies an interrupt-IN report: every Input field of it that the table uses (through
    /// the Feature field of the same path, else the Input one) updates its row.
    pub fn interrupt_report(&mut self, bytes: &[u8]) {
        let Some(&id) = bytes.first() else { return };
        self.file_report(bytes);
        let kind = self.kind();
        let inputs: Vec<usize> = (0..self.desc.fields.len())
            .filter(|&i| {
                self.desc.fields[i].report_id == id && self.desc.fields[i].kind == ReportType::Input
            })
            .collect();
        for input in inputs {
            let Some(value) = self.value_of(input) else {
                continue;
            };
            let path = self.desc.fields[input].path.clone();
            let found = self
                .desc
                .fields
                .iter()
                .position(|f| f.kind == kind && f.path == path)
                .or_else(|| {
                    (!self.options.interrupt_only)
                        .then(|| {
                            self.desc
                                .fields
                                .iter()
                                .position(|f| f.kind == ReportType::Input && f.path == path)
                        })
                        .flatten()
                });
            let Some(found) = found else { continue };
            let Some(row) = self
                .table
                .iter()
                .enumerate()
                .find(|(i, r)| !r.flags.absent && self.bound[*i] == Some(found))
                .map(|(_, r)| *r)
            else {
                continue;
            };
            self.infoval_set(&row, value);
        }
    }

    fn finish(&mut self, mode: WalkMode) {
        self.state.status = self.status.words(self.options.onlinedischarge);
        match self.status.transfer_reason() {
            Some(r) => {
                self.state
                    .vars
                    .insert("input.transfer.reason".into(), r.into());
            }
            None => {
                self.state.vars.remove("input.transfer.reason");
            }
        }
        if mode == WalkMode::Full {
            let mut alarms: Vec<String> = self.alarms.clone();
            alarms.extend(self.status.alarms().into_iter().map(String::from));
            self.state.alarms = alarms;
        }
    }

    /// The first bound row for a NUT name (NUT's `find_nut_info`, case-insensitive).
    fn find_row(&self, name: &str) -> Option<(usize, &'static HidInfo)> {
        let table = self.table;
        table
            .iter()
            .enumerate()
            .find(|(i, r)| r.name().eq_ignore_ascii_case(name) && self.bound[*i].is_some())
    }

    /// Writes a physical value to a field: updates the report buffer and returns the
    /// SET_REPORT to send (NUT's `HIDSetDataValue`). All buffers count as stale afterwards:
    /// the shell re-reads before the next walk.
    fn set_field(&mut self, name: &str, field: usize, value: f64) -> Result<Action, CommandError> {
        let f = self.desc.fields[field].clone();
        if f.attribute == 0x01 {
            return Err(CommandError::Constant(name.to_string()));
        }
        let logical = crate::report::logical_for_set(&f, value);
        let len = self.desc.buffer_len(f.report_id);
        let buf = self.reports.slot(f.report_id).get_or_insert_with(|| {
            let mut b = vec![0u8; len];
            b[0] = f.report_id;
            b
        });
        buf[0] = f.report_id;
        crate::report::write_bits(buf, &f, logical);
        self.data_changed = true;
        Ok(Action::SetReport {
            report_id: f.report_id,
            data: buf.clone(),
        })
    }

    fn hid_value(&self, row: &HidInfo, name: &str, value: &str) -> Result<f64, CommandError> {
        match row.conversion {
            Some(ref c @ Conversion::Lookup(_)) | Some(ref c @ Conversion::Fun(_)) => {
                nut_to_hid_with(Some(c), value, &self.state.vars, &self.device).ok_or_else(|| {
                    CommandError::InvalidValue {
                        name: name.to_string(),
                        value: value.to_string(),
                    }
                })
            }
            _ => Ok(strtol(value) as f64),
        }
    }

    /// An instant command (NUT's `instcmd`): the actions to perform, or why not.
    /// `beeper.on`/`beeper.off` are the old names of `beeper.enable`/`beeper.disable`;
    /// `load.on`, `load.off`, `shutdown.return` and `shutdown.stayoff` are composed from the
    /// delay commands when the table has no row of their own.
    pub fn instcmd(
        &mut self,
        name: &str,
        extra: Option<&str>,
    ) -> Result<Vec<Action>, CommandError> {
        if name.eq_ignore_ascii_case("beeper.off") {
            return self.instcmd("beeper.disable", None);
        }
        if name.eq_ignore_ascii_case("beeper.on") {
            return self.instcmd("beeper.enable", None);
        }
        let Some((i, row)) = self.find_row(name) else {
            let lower = name.to_ascii_lowercase();
            return match lower.as_str() {
                "load.on" => self.instcmd("load.on.delay", Some("0")),
                "load.off" => self.instcmd("load.off.delay", Some("0")),
                "shutdown.return" | "shutdown.stayoff" => {
                    let stay = lower == "shutdown.stayoff";
                    let mut actions = Vec::new();
                    if self.state.vars.contains_key("ups.start.auto") {
                        // NUT ignores the outcome of this SET.
                        if let Ok(mut a) =
                            self.setvar("ups.start.auto", if stay { "no" } else { "yes" })
                        {
                            actions.append(&mut a);
                        }
                    }
                    let start = if stay {
                        Some("-1".to_string())
                    } else {
                        self.state.vars.get("ups.delay.start").cloned()
                    };
                    actions.extend(self.instcmd("load.on.delay", start.as_deref())?);
                    actions.push(Action::WaitMs(125));
                    let off = self.state.vars.get("ups.delay.shutdown").cloned();
                    actions.extend(self.instcmd("load.off.delay", off.as_deref())?);
                    Ok(actions)
                }
                _ => Err(CommandError::Unknown(name.to_string())),
            };
        };
        if !matches!(row.target, Target::Command(_)) {
            return Err(CommandError::Unknown(name.to_string()));
        }
        // A row without a value of its own (PowerCOM's delays) writes its variable's.
        let from_var = match row.conversion {
            Some(Conversion::Fun(f)) => f.default_source().and_then(|v| self.state.vars.get(v)),
            _ => None,
        };
        let value = extra
            .or(row.default)
            .or(from_var.map(String::as_str))
            .unwrap_or("");
        let value = self.hid_value(row, name, value)?;
        let field = self.bound[i].expect("find_row returns bound rows");
        Ok(vec![self.set_field(name, field, value)?])
    }

    /// A SET VAR (NUT's `setvar`): driver-side variables change at once (no action), others
    /// give the SET_REPORT to send.
    pub fn setvar(&mut self, name: &str, value: &str) -> Result<Vec<Action>, CommandError> {
        let Some((i, row)) = self.find_row(name) else {
            return Err(CommandError::Unknown(name.to_string()));
        };
        if !row.var_flags.rw {
            return Err(CommandError::ReadOnly(name.to_string()));
        }
        if row.flags.absent {
            self.state
                .vars
                .insert(row.name().to_string(), value.to_string());
            return Ok(Vec::new());
        }
        let hid = self.hid_value(row, name, value)?;
        let field = self.bound[i].expect("find_row returns bound rows");
        Ok(vec![self.set_field(name, field, hid)?])
    }

    /// The shutdown sequence (NUT's `upsdrv_shutdown`): alternatives in order; the shell
    /// performs the first one that can be planned and, if one of its SET_REPORTs fails, moves
    /// on to the next. None left: the shutdown failed.
    pub fn shutdown_plans(&mut self) -> Vec<(&'static str, Vec<Action>)> {
        let mut plans = Vec::new();
        for name in ["shutdown.return", "shutdown.reboot", "load.off.delay"] {
            if let Ok(actions) = self.instcmd(name, None) {
                plans.push((name, actions));
            }
        }
        plans
    }

    /// The collected status bits.
    pub fn status(&self) -> Status {
        self.status
    }
}
