//! The sans-IO engine: one [`Qx`] per device once its protocol is known.
//!
//! Every operation (initialisation, poll, instant command, SET, shutdown) is started with a
//! method that returns a [`Step`]: either bytes to send to the device, or the operation's
//! result. After sending, the shell reads the device's answer (one line, up to the CR) and
//! calls [`Qx::feed`] with it; an answer that did not come within the timeout is fed as an empty
//! reply (`Reply::Data(&[])`, as NUT's serial read returns 0 bytes), an I/O failure as
//! `Reply::Error`. Nothing here blocks, sleeps, reads a clock or panics on device input.

use std::borrow::Cow;
use std::collections::VecDeque;

use crate::battery::Battery;
use crate::cnum::{self, eq_ic};
use crate::dstate::Dstate;
use crate::item::{Item, Refused, qxf, stf};
use crate::options::QxOptions;
use crate::protocol::{ClaimStep, Protocol};

/// Number of attempts NUT makes (claims, shutdown commands, poll failures before staleness).
pub const MAXTRIES: u32 = 3;
/// Largest answer NUT keeps (its buffer is 512 bytes with a terminating NUL).
pub const MAX_ANSWER: usize = 511;

/// What the device answered.
#[derive(Clone, Copy, Debug)]
pub enum Reply<'a> {
    /// Bytes read (possibly none: timeout). For serial: up to and including the CR.
    Data(&'a [u8]),
    /// The transfer failed (I/O error, device gone).
    Error,
    /// A reply buffer and the length the transport reported, when they differ (NUT's USB
    /// subdrivers can leave text in the buffer and report 0 bytes).
    Raw {
        /// The buffer.
        buf: &'a [u8],
        /// The reported length.
        len: usize,
    },
}

/// Next thing to do for the running operation.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Send these bytes to the device, then call [`Qx::feed`] with its answer.
    Send(Request),
    /// The operation finished.
    Done(Outcome),
}

/// Bytes for the device: a table's command as it is, or one built for this call.
pub type Request = Cow<'static, [u8]>;

/// Result of an instant command (NUT's `STAT_INSTCMD_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmdStatus {
    /// Sent and accepted.
    Handled,
    /// Refused by the device, or could not be built/sent.
    Failed,
    /// Not a command of this device.
    Invalid,
    /// Not a command of this driver at all (blazer's `STAT_INSTCMD_UNKNOWN`).
    Unknown,
}

/// Result of a SET (NUT's `STAT_SET_*`: nutdrv_qx reports every failure as UNKNOWN).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetStatus {
    /// Done.
    Handled,
    /// Unknown variable, value refused, or the device refused.
    Unknown,
}

/// Result of one poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollResult {
    /// Data read: publish status/alarms and mark data OK.
    Ok {
        /// A full (not quick) update was made.
        full: bool,
        /// This poll ended a run of failures long enough to have made data stale.
        reestablished: bool,
    },
    /// The device did not answer the mandatory items.
    Failed {
        /// NUT marks data stale now (more than [`MAXTRIES`] failures in a row).
        stale: bool,
    },
}

/// The result of a finished operation.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// [`Qx::init`] finished (`Err` = NUT's fatal start-up message).
    Init(Result<(), String>),
    /// [`Qx::poll`] finished.
    Poll(PollResult),
    /// [`Qx::instcmd`] finished.
    InstCmd(CmdStatus),
    /// [`Qx::setvar`] finished.
    SetVar(SetStatus),
    /// [`Qx::shutdown`] finished: `Ok(message)` (NUT exits 0) or `Err(message)` (exit 1).
    Shutdown(Result<String, String>),
    /// Internal: a claim attempt finished (see [`crate::detect`]).
    Claim(bool),
    /// [`Qx::feed`] / [`crate::Blazer::feed`] was called with no operation running.
    NoOperation,
}

/// Log level of a message from the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// upslogx LOG_ERR.
    Error,
    /// upslogx LOG_WARNING / LOG_NOTICE.
    Warning,
    /// upslogx LOG_INFO.
    Info,
    /// upsdebugx(n).
    Debug(u8),
}

/// Status flags (`ups_status` bits of nutdrv_qx).
pub mod sb {
    /// On line.
    pub const OL: u32 = 1;
    /// Low battery.
    pub const LB: u32 = 1 << 1;
    /// Replace battery.
    pub const RB: u32 = 1 << 2;
    /// Charging.
    pub const CHRG: u32 = 1 << 3;
    /// Discharging.
    pub const DISCHRG: u32 = 1 << 4;
    /// On bypass.
    pub const BYPASS: u32 = 1 << 5;
    /// Calibration (test in progress).
    pub const CAL: u32 = 1 << 6;
    /// UPS off.
    pub const OFF: u32 = 1 << 7;
    /// Overload.
    pub const OVER: u32 = 1 << 8;
    /// Trimming.
    pub const TRIM: u32 = 1 << 9;
    /// Boosting.
    pub const BOOST: u32 = 1 << 10;
    /// Shutdown imminent.
    pub const FSD: u32 = 1 << 11;

    /// The bit of a status name, compared case-blind (NUT's `strcasecmp`).
    pub(crate) fn of(name: &str) -> Option<u32> {
        // Upper-cased on the stack and matched, rather than compared with each name in turn:
        // the status functions hand a name in for every status bit of every poll.
        let mut buf = [0u8; 7];
        let up = buf.get_mut(..name.len())?;
        for (u, c) in up.iter_mut().zip(name.bytes()) {
            *u = c.to_ascii_uppercase();
        }
        Some(match &*up {
            b"OL" => OL,
            b"LB" => LB,
            b"RB" => RB,
            b"CHRG" => CHRG,
            b"DISCHRG" => DISCHRG,
            b"BYPASS" => BYPASS,
            b"CAL" => CAL,
            b"OFF" => OFF,
            b"OVER" => OVER,
            b"TRIM" => TRIM,
            b"BOOST" => BOOST,
            b"FSD" => FSD,
            _ => return None,
        })
    }
}

/// Private per-protocol run-time state.
#[derive(Clone, Debug)]
pub struct Scratch {
    /// bestups: Patriot Pro models report the bypass/boost/buck bit inverted.
    pub inverted_bbb_bit: bool,
    /// bestups: pin shutdown mode read from the device.
    pub pins_shutdown_mode: Option<i64>,
    /// ablerex: battery voltage from Q5 (hundredths of the nominal voltage), -1 = unknown.
    pub ablerex_q5_vb: i64,
    /// ablerex: battery cut-off voltage from Q5, -1 = unknown.
    pub ablerex_q5_vbc: i64,
    /// masterguard: series letter from `WH` (`A` or `E`).
    pub mg_series: Option<u8>,
    /// masterguard: the slave address (two digits) commands ending in `,XX` carry.
    pub mg_slaveaddr: [u8; 2],
    /// masterguard: the address an `SS` SET moves to once it has been sent.
    pub mg_next_slaveaddr: i64,
    /// masterguard: nominal power (VA/W) of the model, 0 = unknown.
    pub mg_power: i64,
    /// masterguard: battery cells in series.
    pub mg_numcells: i64,
    /// rw lists learnt from the device (item index, values), replacing the table's.
    pub rw_dynamic: Vec<(usize, Vec<String>)>,
    /// voltronic: what the unit reported (capabilities, limits).
    pub voltronic: crate::protocol::voltronic::State,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            inverted_bbb_bit: false,
            pins_shutdown_mode: None,
            ablerex_q5_vb: -1,
            ablerex_q5_vbc: -1,
            mg_series: None,
            mg_slaveaddr: *b"??",
            mg_next_slaveaddr: 0,
            mg_power: 0,
            mg_numcells: 0,
            rw_dynamic: Vec::new(),
            voltronic: Default::default(),
        }
    }
}

/// Walk modes of nutdrv_qx.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkMode {
    /// Initial enumeration.
    Init,
    /// Mandatory (QUICK_POLL) items only.
    Quick,
    /// Everything that is not static.
    Full,
}

/// What an item's variable name means to the engine, worked out once per table (the walk
/// needs it for every item of every poll).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VarKind {
    /// `ups.status…`: the value is a status bit.
    Status,
    /// `ups.alarm…`: the value is an alarm text.
    Alarm,
    /// `battery.charge` (read by the battery estimation).
    Charge,
    /// `battery.runtime` (read by the battery estimation).
    Runtime,
    /// Anything else.
    Other,
}

impl VarKind {
    fn of(var: &str) -> Self {
        let starts = |p: &str| {
            var.as_bytes()
                .get(..p.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(p.as_bytes()))
        };
        if starts("ups.status") {
            VarKind::Status
        } else if starts("ups.alarm") {
            VarKind::Alarm
        } else if eq_ic(var, "battery.charge") {
            VarKind::Charge
        } else if eq_ic(var, "battery.runtime") {
            VarKind::Runtime
        } else {
            VarKind::Other
        }
    }
}

/// The engine for one device speaking one protocol.
#[derive(Debug)]
pub struct Qx {
    pub(crate) proto: &'static Protocol,
    pub(crate) flags: Vec<u32>,
    /// [`VarKind`] of each table item.
    kinds: Vec<VarKind>,
    pub(crate) ds: Dstate,
    pub(crate) status: u32,
    pub(crate) pending_alarms: Vec<String>,
    /// Tokens a protocol puts into ups.status directly (NUT's `status_set` from a table
    /// function), ahead of the ones from the status bits; reset by every poll.
    pub(crate) raw_status: Vec<&'static str>,
    pub(crate) opts: QxOptions,
    pub(crate) scratch: Scratch,
    pub(crate) batt: Battery,
    pub(crate) data_has_changed: bool,
    lastpoll: f64,
    retry: u32,
    pub(crate) answer: Vec<u8>,
    /// Length of `answer` as NUT sees it (up to its first NUL), worked out once per reply:
    /// every item cut out of the same reply needs it, and the scan showed in each poll's cost.
    answer_c_len: usize,
    /// The value [`Qx::process_answer`] cut out last, a buffer reused from item to item and
    /// poll to poll (a fresh `String` per item was most of a poll's allocations).
    value: String,
    /// Where [`Qx::infoval_set`] formats numbers (`%.1f` …), reused for the same reason.
    num: String,
    /// The answer of the item a walk processed last (up to its NUL), for the next items that
    /// send the same command: kept here so that its buffer is reused from poll to poll.
    walk_prev: Vec<u8>,
    log: Vec<(Level, String)>,
    task: Option<Task>,
    status_tokens: Vec<&'static str>,
    published_alarms: Vec<String>,
}

impl Qx {
    /// A fresh engine for `proto` (normally made by [`crate::detect::Detector`]).
    pub fn new(proto: &'static Protocol, opts: QxOptions) -> Self {
        let batt = Battery::new(&opts);
        Qx {
            proto,
            flags: proto.table.iter().map(|i| i.flags).collect(),
            kinds: proto.table.iter().map(|i| VarKind::of(i.var)).collect(),
            ds: Dstate::default(),
            status: 0,
            pending_alarms: Vec::new(),
            raw_status: Vec::new(),
            opts,
            scratch: Scratch::default(),
            batt,
            data_has_changed: false,
            lastpoll: 0.0,
            retry: 0,
            answer: Vec::new(),
            answer_c_len: 0,
            value: String::new(),
            num: String::new(),
            walk_prev: Vec::new(),
            log: Vec::new(),
            task: None,
            status_tokens: Vec::new(),
            published_alarms: Vec::new(),
        }
    }

    /// The protocol in use.
    pub fn protocol(&self) -> &'static Protocol {
        self.proto
    }

    /// The published variables and commands (without `ups.status` / `ups.alarm`).
    pub fn dstate(&self) -> &Dstate {
        &self.ds
    }

    /// Mutable access, e.g. to [`Dstate::preset`] `default.*` / `override.*` values before
    /// [`Qx::init`] and to drain [`Dstate::take_updates`].
    pub fn dstate_mut(&mut self) -> &mut Dstate {
        &mut self.ds
    }

    /// The options in use.
    pub fn options(&self) -> &QxOptions {
        &self.opts
    }

    /// `ups.status` tokens after the last successful poll, in NUT's order (e.g. `["OL"]`,
    /// `["OB", "LB"]`).
    pub fn status_tokens(&self) -> &[&'static str] {
        &self.status_tokens
    }

    /// `ups.status` as NUT publishes it (tokens joined by spaces; without the `ALARM` prefix the
    /// framework adds when alarms are active).
    pub fn status_string(&self) -> String {
        self.status_tokens.join(" ")
    }

    /// Alarm texts set by the last full poll (`ups.alarm` is their space-joined list).
    pub fn alarms(&self) -> &[String] {
        &self.published_alarms
    }

    /// Raw status bits ([`sb`]) being built by the current/last walk.
    pub fn status_bits(&self) -> u32 {
        self.status
    }

    /// Take the log messages produced since the last call.
    pub fn take_log(&mut self) -> Vec<(Level, String)> {
        std::mem::take(&mut self.log)
    }

    /// Whether an operation is waiting for [`Qx::feed`].
    pub fn busy(&self) -> bool {
        self.task.is_some()
    }

    /// Seconds between full updates (`pollfreq`).
    pub fn pollfreq(&self) -> i64 {
        self.opts.pollfreq
    }

    pub(crate) fn logm(&mut self, level: Level, msg: impl Into<String>) {
        self.log.push((level, msg.into()));
    }

    /// Item `idx` of the protocol table (for table functions).
    pub fn item(&self, idx: usize) -> &'static Item {
        &self.proto.table[idx]
    }

    /// `find_nut_info`: first item named `name` with all of `flag` and none of `noflag`.
    pub fn find(&self, name: &str, flag: u32, noflag: u32) -> Option<usize> {
        self.proto
            .table
            .iter()
            .enumerate()
            .find(|(i, it)| eq_ic(it.var, name) && Item::has(self.flags[*i], flag, noflag))
            .map(|(i, _)| i)
    }

    /// Value of a published variable.
    pub fn getinfo(&self, name: &str) -> Option<&str> {
        self.ds.get(name)
    }

    /// `update_status`: set a status bit by name, or clear it with a leading `!`.
    pub fn update_status(&mut self, value: &str) {
        let (clear, name) = match value.strip_prefix('!') {
            Some(n) => (true, n),
            None => (false, value),
        };
        match sb::of(name) {
            Some(mask) => {
                if clear {
                    self.status &= !mask;
                } else {
                    self.status |= mask;
                }
            }
            None => self.logm(
                Level::Debug(5),
                format!("update_status: Warning! {value} not in list of known values"),
            ),
        }
    }

    pub(crate) fn alarm_set(&mut self, text: &str) {
        self.pending_alarms.push(text.to_string());
    }

    fn compose_status(&mut self) {
        let s = self.status;
        let t = &mut self.status_tokens;
        t.clear();
        t.extend_from_slice(&self.raw_status);
        t.push(if s & sb::OL != 0 { "OL" } else { "OB" });
        // A constant, so that each poll reads it rather than building it on the stack.
        const ORDER: [(u32, &str); 11] = [
            (sb::DISCHRG, "DISCHRG"),
            (sb::CHRG, "CHRG"),
            (sb::LB, "LB"),
            (sb::OVER, "OVER"),
            (sb::RB, "RB"),
            (sb::TRIM, "TRIM"),
            (sb::BOOST, "BOOST"),
            (sb::BYPASS, "BYPASS"),
            (sb::OFF, "OFF"),
            (sb::CAL, "CAL"),
            (sb::FSD, "FSD"),
        ];
        for &(bit, name) in &ORDER {
            if s & bit != 0 {
                t.push(name);
            }
        }
    }

    fn compose_alarms(&mut self) {
        if self.status & sb::RB != 0 {
            self.pending_alarms.push("Replace battery!".into());
        }
        if self.status & sb::FSD != 0 {
            self.pending_alarms.push("Shutdown imminent!".into());
        }
        // alarm_set de-duplicates nothing in 2.8.0 but identical texts are rare; keep order.
        self.published_alarms = std::mem::take(&mut self.pending_alarms);
        // alarm_commit replaces (or removes) any ups.alarm a table function set directly.
        self.ds.del("ups.alarm");
    }

    // ---------------------------------------------------------------- item processing

    /// Prepare the command for item `idx` (`command` overrides the table's).
    pub(crate) fn build_command(&mut self, idx: usize, command: Option<&str>) -> Option<Request> {
        let it = self.item(idx);
        let cmd = match command {
            Some(c) => Cow::Owned(c.as_bytes().to_vec()),
            // The table's own command goes out as it is: a steady poll allocates nothing.
            None => Cow::Borrowed(it.command.unwrap_or("").as_bytes()),
        };
        match it.pre_command {
            Some(f) => match f(self, idx, &cmd) {
                Ok(c) => Some(Cow::Owned(c)),
                Err(Refused) => {
                    self.logm(
                        Level::Debug(4),
                        format!("qx_process: failed to preprocess command [{}]", it.var),
                    );
                    None
                }
            },
            None => Some(cmd),
        }
    }

    /// Store the reply for item `idx` and cut out its value into `value` (`qx_process` after
    /// the exchange).
    pub(crate) fn take_reply(
        &mut self,
        idx: usize,
        reply: Reply<'_>,
        value: &mut String,
    ) -> Result<(), Refused> {
        let it = self.item(idx);
        self.answer.clear();
        self.answer_c_len = 0;
        let (data, reported) = match reply {
            Reply::Data(d) => (d, d.len()),
            Reply::Raw { buf, len } => (buf, len.min(buf.len())),
            Reply::Error => {
                self.logm(
                    Level::Debug(4),
                    format!("qx_process: failed to preprocess answer [{}]", it.var),
                );
                return Err(Refused);
            }
        };
        let data = &data[..data.len().min(MAX_ANSWER)];
        let mut len = reported.min(data.len());
        self.answer.extend_from_slice(data);
        if let Some(f) = it.pre_answer {
            let raw = std::mem::take(&mut self.answer);
            match f(self, idx, &raw[..len]) {
                Ok(a) => {
                    len = a.len();
                    self.answer = a;
                    self.answer.truncate(MAX_ANSWER);
                }
                Err(Refused) => {
                    self.answer.clear();
                    self.logm(
                        Level::Debug(4),
                        format!("qx_process: failed to preprocess answer [{}]", it.var),
                    );
                    return Err(Refused);
                }
            }
        }
        self.answer_c_len = cnum::c_str(&self.answer).len();
        self.process_answer(idx, len, value)
    }

    /// `qx_process_answer`: validate `self.answer` (its C length in `answer_c_len`) for item
    /// `idx` and put its value into `out`, which the caller reuses from item to item.
    fn process_answer(&mut self, idx: usize, len: usize, out: &mut String) -> Result<(), Refused> {
        out.clear();
        let it = self.item(idx);
        let c_len = self.answer_c_len;
        if let Some(rej) = self.proto.rejected
            && self.answer[..c_len].eq_ignore_ascii_case(rej.as_bytes())
        {
            self.logm(
                Level::Debug(2),
                format!("qx_process_answer: query rejected by the UPS ({})", it.var),
            );
            return Err(Refused);
        }
        if it.answer_len > 0 && len < it.answer_len {
            self.logm(
                Level::Debug(2),
                format!("qx_process_answer: short reply ({})", it.var),
            );
            return Err(Refused);
        }
        if let Some(lead) = it.leading {
            let first = self.answer.first().copied().unwrap_or(0);
            if first != lead {
                self.logm(
                    Level::Debug(2),
                    format!(
                        "qx_process_answer: {} - invalid start character [{:02x}], expected [{:02x}]",
                        it.var, first, lead
                    ),
                );
                return Err(Refused);
            }
        }
        if it.to != 0 && it.to < it.from {
            return Err(Refused);
        }
        let s = &self.answer[..c_len];
        let value: &[u8] = if s.is_empty() || it.from >= s.len() {
            &[]
        } else if it.to != 0 {
            &s[it.from..(it.to + 1).min(s.len())]
        } else {
            let cr = s.iter().position(|&c| c == b'\r').unwrap_or(s.len());
            if cr >= it.from {
                &s[it.from..cr]
            } else {
                &s[it.from..]
            }
        };
        // from_utf8 first: the lossy conversion's chunk walk cost more than the whole
        // check for the usual short ASCII fields.
        match std::str::from_utf8(value) {
            Ok(v) => out.push_str(v),
            Err(_) => out.push_str(&String::from_utf8_lossy(value)),
        }
        Ok(())
    }

    /// Run item `idx`'s value function on `value`, if it has one (`pre`, or `pre_fixed`
    /// whose fixed texts come back borrowed).
    pub(crate) fn preprocess(
        &mut self,
        idx: usize,
        value: &str,
    ) -> Option<Result<Cow<'static, str>, Refused>> {
        let it = self.item(idx);
        match (it.pre_fixed, it.pre) {
            (Some(f), _) => Some(f(self, idx, value).map(Cow::Borrowed)),
            (None, Some(f)) => Some(f(self, idx, value).map(Cow::Owned)),
            (None, None) => None,
        }
    }

    /// `ups_infoval_set`: -1 error, 0 status/alarm, 1 value set.
    pub(crate) fn infoval_set(&mut self, idx: usize, raw: &str) -> i32 {
        let it = self.item(idx);
        if let Some(res) = self.preprocess(idx, raw) {
            let v = match res {
                Ok(v) => v,
                Err(Refused) => {
                    self.logm(
                        Level::Debug(4),
                        format!(
                            "ups_infoval_set: failed to preprocess value [{}: {}]",
                            it.var, raw
                        ),
                    );
                    return -1;
                }
            };
            match self.kinds[idx] {
                VarKind::Status => {
                    if !v.is_empty() {
                        self.update_status(&v);
                    }
                    0
                }
                VarKind::Alarm => {
                    if !v.is_empty() {
                        self.alarm_set(&v);
                    }
                    0
                }
                _ => self.infoval_publish(idx, &v),
            }
        } else {
            let mut v = raw;
            if self.flags[idx] & qxf::TRIM != 0 {
                v = cnum::trim_set(v, "# ");
            }
            let dfl = it.dfl.unwrap_or("%s");
            if eq_ic(dfl, "%s") {
                return self.infoval_publish(idx, v);
            }
            if !cnum::only_chars(v, "0123456789 .") {
                self.logm(
                    Level::Debug(2),
                    format!("ups_infoval_set: non numerical value [{}: {}]", it.var, v),
                );
                return -1;
            }
            // Formatted into a buffer kept from poll to poll, not a fresh String.
            let mut num = std::mem::take(&mut self.num);
            num.clear();
            cnum::format_num_into(&mut num, dfl, cnum::strtod(v));
            let rc = self.infoval_publish(idx, &num);
            self.num = num;
            rc
        }
    }

    /// The end of `ups_infoval_set` for a converted value: log it (NONUT) or set it.
    fn infoval_publish(&mut self, idx: usize, value: &str) -> i32 {
        let it = self.item(idx);
        if self.flags[idx] & qxf::NONUT != 0 {
            self.logm(Level::Info, format!("{}: {}", it.var, value));
            return 1;
        }
        if value.is_empty() {
            self.logm(
                Level::Debug(1),
                format!("ups_infoval_set: non significant value [{}]", it.var),
            );
            return -1;
        }
        self.ds.set(it.var, value);
        match self.kinds[idx] {
            VarKind::Charge => self.batt.chrg_act = cnum::strtol(value) as f64,
            VarKind::Runtime => self.batt.runt_act = cnum::strtol(value) as f64,
            _ => {}
        }
        1
    }

    /// The rw entries of item `idx` that pass their filters (or the ones learnt from the
    /// device for it).
    pub(crate) fn rw_values(&self, idx: usize) -> Vec<String> {
        if let Some((_, vals)) = self.scratch.rw_dynamic.iter().find(|(i, _)| *i == idx) {
            return vals.clone();
        }
        self.item(idx)
            .rw
            .iter()
            .filter(|r| r.filter.is_none_or(|f| f(self, r.value)))
            .map(|r| r.value.to_string())
            .collect()
    }

    /// `qx_set_var`: flags, string length, enums, ranges.
    pub(crate) fn set_var_meta(&mut self, idx: usize) {
        let it = self.item(idx);
        let nonut = self.flags[idx] & qxf::NONUT != 0;
        if !nonut {
            self.ds.set_flags(it.var, it.st_flags);
            if it.st_flags & stf::STRING != 0 {
                let len = it.rw.first().map(|r| cnum::strtol(r.value)).unwrap_or(0);
                self.ds.set_aux(it.var, len);
            }
        }
        let vals = self.rw_values(idx);
        if self.flags[idx] & qxf::ENUM != 0 {
            if nonut {
                let list: String = vals.iter().map(|v| format!(" {v}")).collect();
                self.logm(
                    Level::Info,
                    format!(
                        "{}, settable values:{}",
                        it.var,
                        if list.is_empty() { " none" } else { &list }
                    ),
                );
            } else {
                for v in &vals {
                    self.ds.add_enum(it.var, v);
                }
            }
        }
        if self.flags[idx] & qxf::RANGE != 0 {
            let mut ok = false;
            for pair in vals.chunks(2) {
                if let [from, to] = pair {
                    if nonut {
                        self.logm(
                            Level::Info,
                            format!("{}, settable range: {}..{}", it.var, from, to),
                        );
                        ok = true;
                    } else {
                        let (lo, hi) = (cnum::strtol(from), cnum::strtol(to));
                        if lo > i64::from(i32::MAX) || hi > i64::from(i32::MAX) {
                            self.logm(
                                Level::Info,
                                format!(
                                    "{}, settable range exceeds INT_MAX: {}..{}",
                                    it.var, lo, hi
                                ),
                            );
                        } else {
                            self.ds.add_range(it.var, lo, hi);
                        }
                    }
                }
            }
            if nonut && !ok {
                self.logm(Level::Info, format!("{}, settable range: none", it.var));
            }
        }
    }

    // ---------------------------------------------------------------- operations

    fn run(&mut self, mut task: Task, reply: Option<Reply<'_>>) -> Step {
        let step = task.resume(self, reply);
        if matches!(step, Step::Send(_)) {
            self.task = Some(task);
        }
        step
    }

    /// Feed the device's answer to the running operation.
    pub fn feed(&mut self, reply: Reply<'_>) -> Step {
        match self.task.take() {
            Some(t) => self.run(t, Some(reply)),
            None => {
                self.logm(Level::Debug(1), "reply without a pending command ignored");
                Step::Done(Outcome::NoOperation)
            }
        }
    }

    /// Abandon the running operation (e.g. the device vanished). Its result is lost.
    pub fn abort(&mut self) {
        self.task = None;
    }

    /// Run a claim (used by [`crate::detect`]).
    pub(crate) fn claim(&mut self) -> Step {
        self.run(
            Task::Claim(ClaimTask {
                step: 0,
                pending: None,
            }),
            None,
        )
    }

    /// `upsdrv_initinfo`: enumerate the device, set up battery estimation and delays.
    /// `now` is a monotonic time in seconds.
    pub fn init(&mut self, now: f64) -> Step {
        self.ds.set("driver.version.data", self.proto.version);
        let walk = WalkTask::new(WalkMode::Init);
        self.run(
            Task::Init(InitTask {
                phase: 0,
                walk,
                sub: None,
                now,
            }),
            None,
        )
    }

    /// `upsdrv_updateinfo`: a full update every `pollfreq` seconds or after a successful
    /// command/SET, a quick update otherwise.
    pub fn poll(&mut self, now: f64) -> Step {
        let full = now > self.lastpoll + self.opts.pollfreq as f64 || self.data_has_changed;
        self.raw_status.clear();
        if full {
            self.status = 0;
            self.pending_alarms.clear();
            self.run(Task::Poll(WalkTask::new(WalkMode::Full), now, true), None)
        } else {
            self.run(Task::Poll(WalkTask::new(WalkMode::Quick), now, false), None)
        }
    }

    /// An instant command (`extra` is the optional argument, e.g. a test duration).
    pub fn instcmd(&mut self, name: &str, extra: Option<&str>) -> Step {
        let task = CmdTask::new(Job::Cmd(name.to_string(), extra.map(str::to_string)));
        self.run(Task::Cmd(task), None)
    }

    /// SET VAR `name` to `value`.
    pub fn setvar(&mut self, name: &str, value: &str) -> Step {
        let task = CmdTask::new(Job::Set(name.to_string(), Some(value.to_string())));
        self.run(Task::Cmd(task), None)
    }

    /// `upsdrv_shutdown` (`-k`): apply ondelay/offdelay, cancel a pending shutdown, then
    /// `shutdown.return` (or `shutdown.stayoff` with the `stayoff` flag), each tried 3 times.
    pub fn shutdown(&mut self) -> Step {
        self.run(
            Task::Shutdown(ShutdownTask {
                phase: 0,
                tries: 0,
                sub: None,
            }),
            None,
        )
    }

    fn poll_done(&mut self, ok: bool, full: bool, now: f64) -> Outcome {
        if !ok {
            let stale = if self.retry <= MAXTRIES {
                self.logm(
                    Level::Debug(1),
                    "Communications with the UPS lost: status read failed!",
                );
                self.retry += 1;
                false
            } else {
                true
            };
            return Outcome::Poll(PollResult::Failed { stale });
        }
        if full {
            self.lastpoll = now;
            self.data_has_changed = false;
            self.compose_alarms();
        }
        self.compose_status();
        let reestablished = self.retry > MAXTRIES;
        if reestablished {
            self.logm(Level::Warning, "Communications with the UPS re-established");
        }
        self.retry = 0;
        Outcome::Poll(PollResult::Ok {
            full,
            reestablished,
        })
    }
}

// -------------------------------------------------------------------- tasks

#[derive(Debug)]
enum Task {
    Claim(ClaimTask),
    Init(InitTask),
    Poll(WalkTask, f64, bool),
    Cmd(CmdTask),
    Shutdown(ShutdownTask),
}

impl Task {
    fn resume(&mut self, qx: &mut Qx, reply: Option<Reply<'_>>) -> Step {
        match self {
            Task::Claim(t) => t.resume(qx, reply),
            Task::Init(t) => t.resume(qx, reply),
            Task::Poll(w, now, full) => match w.resume(qx, reply, *now) {
                WalkStep::Send(b) => Step::Send(b),
                WalkStep::Done(ok) => Step::Done(qx.poll_done(ok, *full, *now)),
            },
            Task::Cmd(t) => match t.resume(qx, reply) {
                CmdStep::Send(b) => Step::Send(b),
                CmdStep::Done(r) => Step::Done(r.outcome()),
            },
            Task::Shutdown(t) => t.resume(qx, reply),
        }
    }
}

// ---- claim

#[derive(Debug)]
struct ClaimTask {
    step: usize,
    pending: Option<usize>,
}

impl ClaimTask {
    /// A failed claim forgets the value its first step set.
    fn fail(&self, qx: &mut Qx) -> Step {
        if self.step > 0
            && let Some(ClaimStep::Query(var, ..) | ClaimStep::QueryOrNak(var, ..)) =
                qx.proto.claim.first()
        {
            qx.ds.del(var);
        }
        Step::Done(Outcome::Claim(false))
    }

    fn resume(&mut self, qx: &mut Qx, mut reply: Option<Reply<'_>>) -> Step {
        let steps = qx.proto.claim;
        loop {
            if let Some(idx) = self.pending.take() {
                let r = reply.take().unwrap_or(Reply::Data(&[]));
                let mut v = String::new();
                let res = qx.take_reply(idx, r, &mut v).map(|()| v);
                let nak_ok = matches!(steps[self.step], ClaimStep::QueryOrNak(..));
                let pre_only = matches!(steps[self.step], ClaimStep::Preprocess(..));
                match res {
                    Ok(v) if pre_only => {
                        let it = qx.item(idx);
                        let Some(res) = qx.preprocess(idx, &v) else {
                            qx.logm(
                                Level::Debug(2),
                                format!("claim: no preprocess function for {}", it.var),
                            );
                            return self.fail(qx);
                        };
                        if res.is_err() {
                            qx.logm(
                                Level::Debug(2),
                                format!("claim: failed to preprocess {}", it.var),
                            );
                            return self.fail(qx);
                        }
                    }
                    Ok(v) => {
                        if qx.infoval_set(idx, &v) != 1 {
                            return self.fail(qx);
                        }
                    }
                    Err(Refused) => {
                        let is_nak = qx.answer.eq_ignore_ascii_case(b"(NAK\r");
                        if nak_ok && is_nak {
                            // '(ACK/(NAK' unit without protocol query: skip the query from now on.
                            qx.flags[idx] |= qxf::SKIP;
                        } else {
                            return self.fail(qx);
                        }
                    }
                }
                self.step += 1;
            }
            let Some(step) = steps.get(self.step) else {
                return Step::Done(Outcome::Claim(true));
            };
            match *step {
                ClaimStep::Check(f) => {
                    if !f(qx) {
                        return self.fail(qx);
                    }
                    self.step += 1;
                }
                ClaimStep::AcceptIfFlag(flag) => {
                    if qx.opts.testvar(flag) {
                        return Step::Done(Outcome::Claim(true));
                    }
                    self.step += 1;
                }
                ClaimStep::Query(var, flag, noflag)
                | ClaimStep::QueryOrNak(var, flag, noflag)
                | ClaimStep::Preprocess(var, flag, noflag) => {
                    let Some(idx) = qx.find(var, flag, noflag) else {
                        qx.logm(Level::Debug(2), format!("claim: cannot find {var}"));
                        return self.fail(qx);
                    };
                    match qx.build_command(idx, None) {
                        Some(cmd) => {
                            self.pending = Some(idx);
                            return Step::Send(cmd);
                        }
                        None => return self.fail(qx),
                    }
                }
            }
        }
    }
}

// ---- walk

#[derive(Debug)]
enum WalkStep {
    Send(Request),
    Done(bool),
}

#[derive(Debug)]
struct WalkTask {
    mode: WalkMode,
    i: usize,
    pending: Option<usize>,
    sub: Option<Box<CmdTask>>,
    /// The command of the item processed last; its answer is in `Qx::walk_prev`.
    prev: Option<&'static str>,
    started: bool,
}

impl WalkTask {
    fn new(mode: WalkMode) -> Self {
        WalkTask {
            mode,
            i: 0,
            pending: None,
            sub: None,
            prev: None,
            started: false,
        }
    }

    /// Record the processed item and apply its value; `false` = the walk fails.
    fn after(&mut self, qx: &mut Qx, idx: usize, res: Result<&str, Refused>) -> bool {
        let it = qx.item(idx);
        self.prev = Some(it.command.unwrap_or(""));
        qx.walk_prev.clear();
        qx.walk_prev
            .extend_from_slice(&qx.answer[..qx.answer_c_len]);
        let quick = qx.flags[idx] & qxf::QUICK_POLL != 0;
        let value = match res {
            Ok(v) => v,
            Err(Refused) => {
                if quick {
                    return false;
                }
                if self.mode == WalkMode::Init {
                    qx.flags[idx] |= qxf::SKIP;
                }
                return true;
            }
        };
        let rc = qx.infoval_set(idx, value);
        if rc == -1 {
            return !quick;
        }
        if rc == 1 && self.mode == WalkMode::Init {
            qx.set_var_meta(idx);
        }
        true
    }

    fn resume(&mut self, qx: &mut Qx, mut reply: Option<Reply<'_>>, now: f64) -> WalkStep {
        if !self.started {
            self.started = true;
            if self.mode == WalkMode::Full {
                qx.batt.runt_act = -1.0;
                qx.batt.chrg_act = -1.0;
            }
        }
        if let Some(mut sub) = self.sub.take() {
            match sub.resume(qx, reply.take()) {
                CmdStep::Send(b) => {
                    self.sub = Some(sub);
                    return WalkStep::Send(b);
                }
                CmdStep::Done(_) => {}
            }
        }
        if let Some(idx) = self.pending.take() {
            let r = reply.take().unwrap_or(Reply::Data(&[]));
            // The value goes into Qx's reused buffer, handed back after the item.
            let mut value = std::mem::take(&mut qx.value);
            let res = qx.take_reply(idx, r, &mut value);
            let ok = self.after(qx, idx, res.map(|()| value.as_str()));
            qx.value = value;
            if !ok {
                return WalkStep::Done(false);
            }
        }
        while self.i < qx.proto.table.len() {
            if self.mode == WalkMode::Quick {
                // A quick poll reads only the few QUICK_POLL items of a table of dozens: find
                // the next one with a tight scan of the flags (the checks below skip the same
                // items, at several times the cost per item, in every poll).
                let wanted = |f: &u32| f & (qxf::QUICK_POLL | qxf::SKIP) == qxf::QUICK_POLL;
                match qx.flags[self.i..].iter().position(wanted) {
                    Some(skip) => self.i += skip,
                    None => {
                        self.i = qx.flags.len();
                        break;
                    }
                }
            }
            let idx = self.i;
            self.i += 1;
            let it = qx.item(idx);
            let fl = qx.flags[idx];
            if fl & qxf::SKIP != 0 {
                continue;
            }
            match self.mode {
                WalkMode::Init => {
                    if fl & qxf::ABSENT != 0 {
                        if qx.ds.get(it.var).is_none() {
                            qx.ds.set(it.var, it.dfl.unwrap_or(""));
                            qx.set_var_meta(idx);
                        }
                        continue;
                    }
                    let dup_ok = matches!(qx.kinds[idx], VarKind::Status | VarKind::Alarm);
                    if !dup_ok && qx.ds.get(it.var).is_some() {
                        continue;
                    }
                }
                WalkMode::Quick => {
                    if fl & qxf::QUICK_POLL == 0 {
                        continue;
                    }
                }
                WalkMode::Full => {
                    if fl & (qxf::ABSENT | qxf::CMD | qxf::SETVAR | qxf::STATIC) != 0 {
                        continue;
                    }
                    if fl & qxf::SEMI_STATIC != 0 && !qx.data_has_changed {
                        continue;
                    }
                }
            }
            if fl & qxf::CMD != 0 {
                qx.ds.add_cmd(it.var);
                continue;
            }
            if fl & qxf::SETVAR != 0 {
                if fl & qxf::NONUT != 0 {
                    let mut sub = Box::new(CmdTask::new(Job::Set(it.var.to_string(), None)));
                    let step = sub.resume(qx, None);
                    // One-time setting from ups.conf: not again after this.
                    qx.flags[idx] |= qxf::SKIP;
                    match step {
                        CmdStep::Send(b) => {
                            self.sub = Some(sub);
                            return WalkStep::Send(b);
                        }
                        CmdStep::Done(_) => {}
                    }
                }
                continue;
            }
            let cached = matches!(self.prev, Some(cmd) if !cmd.is_empty()
                && !qx.walk_prev.is_empty()
                && eq_ic(cmd, it.command.unwrap_or("")));
            if cached {
                let len = qx.walk_prev.len();
                qx.answer.clear();
                qx.answer.extend_from_slice(&qx.walk_prev);
                // walk_prev was cut at the answer's first NUL.
                qx.answer_c_len = len;
                let mut value = std::mem::take(&mut qx.value);
                let res = qx.process_answer(idx, len, &mut value);
                let ok = self.after(qx, idx, res.map(|()| value.as_str()));
                qx.value = value;
                if !ok {
                    return WalkStep::Done(false);
                }
                continue;
            }
            match qx.build_command(idx, None) {
                Some(cmd) => {
                    self.pending = Some(idx);
                    return WalkStep::Send(cmd);
                }
                None => {
                    qx.answer.clear();
                    qx.answer_c_len = 0;
                    if !self.after(qx, idx, Err(Refused)) {
                        return WalkStep::Done(false);
                    }
                }
            }
        }
        if self.mode == WalkMode::Full && (qx.batt.runt_act == -1.0 || qx.batt.chrg_act == -1.0) {
            crate::battery::update(qx, now);
        }
        WalkStep::Done(true)
    }
}

// ---- init

#[derive(Debug)]
struct InitTask {
    phase: u8,
    walk: WalkTask,
    sub: Option<CmdTask>,
    now: f64,
}

impl InitTask {
    fn resume(&mut self, qx: &mut Qx, mut reply: Option<Reply<'_>>) -> Step {
        loop {
            match self.phase {
                0 => match self.walk.resume(qx, reply.take(), self.now) {
                    WalkStep::Send(b) => return Step::Send(b),
                    WalkStep::Done(false) => {
                        return Step::Done(Outcome::Init(Err(
                            "Can't initialise data from the UPS".into(),
                        )));
                    }
                    WalkStep::Done(true) => {
                        if let Err(e) = crate::battery::init(qx, self.now) {
                            return Step::Done(Outcome::Init(Err(e)));
                        }
                        self.phase = 1;
                    }
                },
                1 | 2 => {
                    let (var, opt, what) = if self.phase == 1 {
                        ("ups.delay.start", "ondelay", "Start")
                    } else {
                        ("ups.delay.shutdown", "offdelay", "Shutdown")
                    };
                    if let Some(mut sub) = self.sub.take() {
                        match sub.resume(qx, reply.take()) {
                            CmdStep::Send(b) => {
                                self.sub = Some(sub);
                                return Step::Send(b);
                            }
                            CmdStep::Done(JobResult::Set(SetStatus::Handled)) => {
                                self.phase += 1;
                            }
                            CmdStep::Done(_) => {
                                let val = qx.opts.getval(opt).unwrap_or("").to_string();
                                return Step::Done(Outcome::Init(Err(format!(
                                    "{what} delay '{val}' out of range"
                                ))));
                            }
                        }
                        continue;
                    }
                    match qx.opts.getval(opt).map(str::to_string) {
                        Some(val) if qx.ds.get(var).is_some() => {
                            self.sub = Some(CmdTask::new(Job::Set(var.to_string(), Some(val))));
                        }
                        _ => self.phase += 1,
                    }
                }
                _ => {
                    for (plain, delayed) in
                        [("load.off", "load.off.delay"), ("load.on", "load.on.delay")]
                    {
                        if qx.find(plain, qxf::CMD, qxf::SKIP).is_none()
                            && qx.find(delayed, qxf::CMD, qxf::SKIP).is_some()
                        {
                            qx.ds.add_cmd(plain);
                        }
                    }
                    let pf = qx.opts.pollfreq;
                    qx.ds.set("driver.parameter.pollfreq", &pf.to_string());
                    qx.lastpoll = self.now;
                    if let Some(f) = qx.proto.initinfo {
                        f(qx);
                    }
                    return Step::Done(Outcome::Init(Ok(())));
                }
            }
        }
    }
}

// ---- instant commands and SETs

#[derive(Clone, Debug)]
enum Job {
    Cmd(String, Option<String>),
    Set(String, Option<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobResult {
    Cmd(CmdStatus),
    Set(SetStatus),
}

impl JobResult {
    fn ok(self) -> bool {
        matches!(
            self,
            JobResult::Cmd(CmdStatus::Handled) | JobResult::Set(SetStatus::Handled)
        )
    }
    fn outcome(self) -> Outcome {
        match self {
            JobResult::Cmd(c) => Outcome::InstCmd(c),
            JobResult::Set(s) => Outcome::SetVar(s),
        }
    }
}

#[derive(Debug)]
enum CmdStep {
    Send(Request),
    Done(JobResult),
}

/// A queue of commands/SETs run in order; the first failure ends it (NUT's fallbacks for
/// load.on/off and shutdown.return/stayoff are expanded into such queues).
#[derive(Debug)]
struct CmdTask {
    queue: VecDeque<Job>,
    pending: Option<(usize, bool)>,
    last: JobResult,
    in_expansion: bool,
}

impl CmdTask {
    fn new(job: Job) -> Self {
        let mut queue = VecDeque::new();
        queue.push_back(job);
        CmdTask {
            queue,
            pending: None,
            last: JobResult::Cmd(CmdStatus::Invalid),
            in_expansion: false,
        }
    }

    fn resume(&mut self, qx: &mut Qx, mut reply: Option<Reply<'_>>) -> CmdStep {
        if let Some((idx, is_set)) = self.pending.take() {
            let r = reply.take().unwrap_or(Reply::Data(&[]));
            let res = finish_exchange(qx, idx, r, is_set);
            self.last = if is_set {
                JobResult::Set(if res {
                    SetStatus::Handled
                } else {
                    SetStatus::Unknown
                })
            } else {
                JobResult::Cmd(if res {
                    CmdStatus::Handled
                } else {
                    CmdStatus::Failed
                })
            };
            if !self.last.ok() {
                return CmdStep::Done(self.fail_result());
            }
        }
        while let Some(job) = self.queue.pop_front() {
            match start_job(qx, job) {
                Start::Done(r) => {
                    self.last = r;
                    if !r.ok() {
                        return CmdStep::Done(self.fail_result());
                    }
                }
                Start::Send(idx, is_set, cmd) => {
                    self.pending = Some((idx, is_set));
                    return CmdStep::Send(cmd);
                }
                Start::Expand(jobs) => {
                    self.in_expansion = true;
                    for j in jobs.into_iter().rev() {
                        self.queue.push_front(j);
                    }
                }
            }
        }
        CmdStep::Done(self.last)
    }

    fn fail_result(&self) -> JobResult {
        match self.last {
            // A failing SET inside an expanded instant command fails the command.
            JobResult::Set(_) if self.in_expansion => JobResult::Cmd(CmdStatus::Failed),
            r => r,
        }
    }
}

enum Start {
    Done(JobResult),
    Send(usize, bool, Request),
    Expand(Vec<Job>),
}

/// The reply to an instant command or SET: accepted, or no reply at all, means success.
fn finish_exchange(qx: &mut Qx, idx: usize, reply: Reply<'_>, is_set: bool) -> bool {
    let who = if is_set { "setvar" } else { "instcmd" };
    let mut v = String::new();
    let res = qx.take_reply(idx, reply, &mut v).map(|()| v);
    let ok = match res {
        Err(Refused) => false,
        Ok(v) if v.is_empty() => true,
        Ok(v) => qx.proto.accepted.is_some_and(|a| eq_ic(&v, a)),
    };
    if ok {
        qx.logm(Level::Info, format!("{who}: SUCCEED"));
        qx.data_has_changed = true;
    } else {
        qx.logm(Level::Error, format!("{who}: FAILED"));
    }
    ok
}

fn start_job(qx: &mut Qx, job: Job) -> Start {
    match job {
        Job::Cmd(name, extra) => start_cmd(qx, &name, extra),
        Job::Set(name, value) => start_set(qx, &name, value),
    }
}

fn start_cmd(qx: &mut Qx, name: &str, extra: Option<String>) -> Start {
    if eq_ic(name, "beeper.off") {
        qx.logm(
            Level::Warning,
            "The 'beeper.off' command has been renamed to 'beeper.disable'",
        );
        return Start::Expand(vec![Job::Cmd("beeper.disable".into(), None)]);
    }
    if eq_ic(name, "beeper.on") {
        qx.logm(
            Level::Warning,
            "The 'beeper.on' command has been renamed to 'beeper.enable'",
        );
        return Start::Expand(vec![Job::Cmd("beeper.enable".into(), None)]);
    }
    qx.logm(
        Level::Info,
        format!(
            "instcmd({}, {})",
            name,
            extra.as_deref().unwrap_or("[NULL]")
        ),
    );
    let Some(idx) = qx.find(name, qxf::CMD, qxf::SKIP) else {
        let g = |qx: &Qx, v: &str| qx.ds.get(v).map(str::to_string);
        if eq_ic(name, "load.on") {
            return Start::Expand(vec![Job::Cmd("load.on.delay".into(), Some("0".into()))]);
        }
        if eq_ic(name, "load.off") {
            return Start::Expand(vec![Job::Cmd("load.off.delay".into(), Some("0".into()))]);
        }
        if eq_ic(name, "shutdown.return") || eq_ic(name, "shutdown.stayoff") {
            let ret = eq_ic(name, "shutdown.return");
            let mut jobs = Vec::new();
            if qx.ds.get("ups.start.auto").is_some() {
                jobs.push(Job::Set(
                    "ups.start.auto".into(),
                    Some(if ret { "yes" } else { "no" }.into()),
                ));
            }
            let on = if ret {
                g(qx, "ups.delay.start")
            } else {
                Some("-1".into())
            };
            jobs.push(Job::Cmd("load.on.delay".into(), on));
            jobs.push(Job::Cmd(
                "load.off.delay".into(),
                g(qx, "ups.delay.shutdown"),
            ));
            return Start::Expand(jobs);
        }
        qx.logm(
            Level::Debug(2),
            format!("instcmd: command {name} unavailable"),
        );
        return Start::Done(JobResult::Cmd(CmdStatus::Invalid));
    };
    let it = qx.item(idx);
    let mut value = extra
        .or_else(|| it.dfl.map(str::to_string))
        .unwrap_or_default();
    match qx.preprocess(idx, &value) {
        Some(Ok(v)) => value = v.into_owned(),
        Some(Err(Refused)) => {
            qx.logm(Level::Error, "instcmd: FAILED");
            return Start::Done(JobResult::Cmd(CmdStatus::Failed));
        }
        None => value.clear(),
    }
    let over = (!value.is_empty()).then_some(value);
    match qx.build_command(idx, over.as_deref()) {
        Some(cmd) => Start::Send(idx, false, cmd),
        None => Start::Done(JobResult::Cmd(CmdStatus::Failed)),
    }
}

fn start_set(qx: &mut Qx, name: &str, val: Option<String>) -> Start {
    let unknown = Start::Done(JobResult::Set(SetStatus::Unknown));
    let Some(idx) = qx.find(name, qxf::SETVAR, qxf::SKIP) else {
        qx.logm(
            Level::Debug(2),
            format!("setvar: element {name} unavailable"),
        );
        return unknown;
    };
    let it = qx.item(idx);
    let fl = qx.flags[idx];
    let nonut = fl & qxf::NONUT != 0;
    let mut value = if nonut {
        if !qx.opts.testvar(it.var) {
            return Start::Done(JobResult::Set(SetStatus::Handled));
        }
        let uv = qx.opts.getval(it.var).map(str::to_string);
        qx.logm(
            Level::Info,
            format!("setvar({}, {})", name, uv.as_deref().unwrap_or("[NULL]")),
        );
        uv.unwrap_or_default()
    } else {
        let v = val.unwrap_or_default();
        qx.logm(
            Level::Info,
            format!(
                "setvar({}, {})",
                name,
                if v.is_empty() { "[NULL]" } else { &v }
            ),
        );
        if v.is_empty() {
            qx.logm(
                Level::Error,
                format!("setvar: value not given for {}", it.var),
            );
            return unknown;
        }
        if qx.ds.get(it.var).is_some_and(|cur| eq_ic(cur, &v)) {
            qx.logm(
                Level::Info,
                format!("setvar: nothing to do... [{}]", it.var),
            );
            return Start::Done(JobResult::Set(SetStatus::Handled));
        }
        v
    };
    if fl & qxf::RANGE != 0 {
        if !cnum::only_chars(&value, "0123456789 .") {
            qx.logm(
                Level::Error,
                format!("setvar: non numerical value [{}: {}]", it.var, value),
            );
            return unknown;
        }
        let want = cnum::strtol(&value);
        let ranges: Vec<(i64, i64)> = if nonut {
            if value.is_empty() {
                return unknown;
            }
            qx.rw_values(idx)
                .chunks(2)
                .filter_map(|p| match p {
                    [a, b] => Some((cnum::strtol(a), cnum::strtol(b))),
                    _ => None,
                })
                .collect()
        } else {
            match qx.ds.var(it.var) {
                Some(v) => v.ranges.clone(),
                None => return unknown,
            }
        };
        if !ranges.iter().any(|(lo, hi)| *lo <= want && want <= *hi) {
            qx.logm(
                Level::Error,
                format!("setvar: value out of range [{}: {}]", it.var, value),
            );
            return unknown;
        }
    } else if fl & qxf::ENUM != 0 {
        let list: Vec<String> = if nonut {
            if value.is_empty() {
                return unknown;
            }
            qx.rw_values(idx)
        } else {
            match qx.ds.var(it.var) {
                Some(v) => v.enums.clone(),
                None => return unknown,
            }
        };
        if !list.iter().any(|e| eq_ic(e, &value)) {
            qx.logm(
                Level::Error,
                format!("setvar: value out of range [{}: {}]", it.var, value),
            );
            return unknown;
        }
    } else if it.st_flags & stf::STRING != 0 {
        let aux = qx.ds.var(it.var).and_then(|v| v.aux);
        match aux {
            Some(a) if a >= value.len() as i64 => {}
            Some(_) => {
                qx.logm(
                    Level::Error,
                    format!("setvar: value is too long [{}: {}]", it.var, value),
                );
                return unknown;
            }
            None => return unknown,
        }
    }
    if let Some(res) = qx.preprocess(idx, &value) {
        match res {
            Ok(v) => value = v.into_owned(),
            Err(Refused) => {
                qx.logm(Level::Error, "setvar: FAILED");
                return unknown;
            }
        }
    }
    if fl & qxf::ABSENT != 0 {
        qx.ds.set(it.var, &value);
        qx.logm(Level::Info, "setvar: SUCCEED");
        return Start::Done(JobResult::Set(SetStatus::Handled));
    }
    if it.pre.is_none() && it.pre_fixed.is_none() {
        value.clear();
    }
    let over = (!value.is_empty()).then_some(value);
    match qx.build_command(idx, over.as_deref()) {
        Some(cmd) => Start::Send(idx, true, cmd),
        None => unknown,
    }
}

// ---- shutdown

#[derive(Debug)]
struct ShutdownTask {
    phase: u8,
    tries: u32,
    sub: Option<CmdTask>,
}

impl ShutdownTask {
    fn resume(&mut self, qx: &mut Qx, mut reply: Option<Reply<'_>>) -> Step {
        loop {
            if let Some(mut sub) = self.sub.take() {
                let r = match sub.resume(qx, reply.take()) {
                    CmdStep::Send(b) => {
                        self.sub = Some(sub);
                        return Step::Send(b);
                    }
                    CmdStep::Done(r) => r,
                };
                match self.phase {
                    0 | 1 => {
                        if !r.ok() {
                            let (opt, what) = if self.phase == 0 {
                                ("ondelay", "Start")
                            } else {
                                ("offdelay", "Shutdown")
                            };
                            let v = qx.opts.getval(opt).unwrap_or("").to_string();
                            return Step::Done(Outcome::Shutdown(Err(format!(
                                "{what} delay '{v}' out of range"
                            ))));
                        }
                        self.phase += 1;
                    }
                    2 => {
                        if r.ok() || self.tries >= MAXTRIES {
                            if !r.ok() {
                                qx.logm(Level::Warning, "No shutdown pending");
                            }
                            self.phase = 3;
                            self.tries = 0;
                        }
                    }
                    _ => {
                        if r.ok() {
                            let d = qx.ds.get("ups.delay.shutdown").unwrap_or("").to_string();
                            return Step::Done(Outcome::Shutdown(Ok(format!(
                                "Shutting down in {d} seconds"
                            ))));
                        }
                        if self.tries >= MAXTRIES {
                            return Step::Done(Outcome::Shutdown(Err("Shutdown failed!".into())));
                        }
                    }
                }
                continue;
            }
            match self.phase {
                0 | 1 => {
                    let (var, opt, what) = if self.phase == 0 {
                        ("ups.delay.start", "ondelay", "start")
                    } else {
                        ("ups.delay.shutdown", "offdelay", "shutdown")
                    };
                    let Some(idx) = qx.find(var, 0, qxf::SKIP) else {
                        return Step::Done(Outcome::Shutdown(Err(format!(
                            "Unable to set {what} delay"
                        ))));
                    };
                    let dfl = qx.item(idx).dfl.unwrap_or("");
                    qx.ds.set(var, dfl);
                    qx.set_var_meta(idx);
                    match qx.opts.getval(opt).map(str::to_string) {
                        Some(v) => self.sub = Some(CmdTask::new(Job::Set(var.into(), Some(v)))),
                        None => self.phase += 1,
                    }
                }
                2 => {
                    if qx.find("shutdown.stop", qxf::CMD, qxf::SKIP).is_none() {
                        self.phase = 3;
                        continue;
                    }
                    self.tries += 1;
                    self.sub = Some(CmdTask::new(Job::Cmd("shutdown.stop".into(), None)));
                }
                _ => {
                    self.tries += 1;
                    let name = if qx.opts.testvar("stayoff") {
                        "shutdown.stayoff"
                    } else {
                        "shutdown.return"
                    };
                    self.sub = Some(CmdTask::new(Job::Cmd(name.into(), None)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sb;

    #[test]
    fn status_names_are_case_blind_and_exact_in_length() {
        assert_eq!(sb::of("OL"), Some(sb::OL));
        assert_eq!(sb::of("ol"), Some(sb::OL));
        assert_eq!(sb::of("DisChrg"), Some(sb::DISCHRG));
        assert_eq!(sb::of("fsd"), Some(sb::FSD));
        assert_eq!(sb::of("OB"), None);
        assert_eq!(sb::of("DISCHRGX"), None);
        assert_eq!(sb::of("CA"), None);
        assert_eq!(sb::of(""), None);
        assert_eq!(sb::of("\u{e9}l"), None);
    }
}
