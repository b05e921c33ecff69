//! `usbhid-ups`: the pure usbhid-ups core (descriptor parser, subdriver tables, sans-IO
//! [`Engine`]) on the `nut-driver` framework, over a `nut-usb` device ([`link::HidLink`]:
//! real through nusb, or `port = "replay:<spec>"`).
//!
//! The shell does what NUT 2.8.0's `usbhid-ups.c` does around its walk:
//!
//! * start-up: find the UPS by the matching options, let the subdriver selection claim it,
//!   read and parse the report descriptor, apply the subdriver's fixes, build the engine, GET
//!   the reports of the initial walk and publish identity, variables, commands and RW/ENUM
//!   metadata;
//! * every `pollinterval`: interrupt reports received meanwhile first, then a full walk every
//!   `pollfreq` seconds (or after a SET or command), a quick one (status rows) otherwise;
//! * between polls: the driver sleeps on the interrupt pipe (event-driven: no wake-ups while
//!   the UPS is quiet), and a report that arrives triggers at once
//!   what NUT 2.8.0 does with it at its next poll (apply it, then walk), so `ups.status`
//!   changes without waiting for the poll;
//! * instant commands, SET and the power-off: the engine's [`Action`]s become SET_REPORT
//!   control transfers;
//! * a lost device is the framework's business (staleness, reconnection with back-off); after
//!   a reconnect the initial walk runs again, as NUT's `reconnect_ups` does;
//! * `-x record=<file>`: a device spec of the UPS ([`record`]).

pub mod link;
pub mod record;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nut_core::cnum::atoi;
use nut_driver::health::CommMessages;
use nut_driver::{
    CmdStatus, DriverConfig, DriverError, DriverInfo, Outcome, State, VarDecl, VarFlags,
};
use nut_usb::UsbOptions;
use usbhid_ups::engine::{Action, CommandError, Engine, EngineOptions, WalkMode};
use usbhid_ups::report::{format_g, physical_value};
use usbhid_ups::subdriver::select::{self, DeviceIds, SelectOptions};
use usbhid_ups::subdriver::{ever, powercom};
use usbhid_ups::usage::path_to_string;
use usbhid_ups::{ReportDescriptor, Subdriver};

use crate::link::{HidLink, INTERRUPT_BUFFER};
use crate::record::{Recorder, Recording};

/// NUT's version of the driver (`driver.version.internal`).
pub const VERSION: &str = "0.47";
/// NUT's default `pollfreq` (seconds between full walks).
pub const DEFAULT_POLLFREQ: u64 = 30;
/// How long a failing interrupt pipe rests before it is read again (so it cannot spin).
pub const INTERRUPT_RETRY: Duration = Duration::from_secs(1);
/// The read a poll makes when the pipe was not waited on since the previous one (`-d`: NUT
/// reads it for up to 750 ms in every poll).
const INTERRUPT_POLL_READ: Duration = Duration::from_millis(250);

/// The options of usbhid-ups(8) 2.8.0, in its order, then ours.
pub static VARS: &[VarDecl] = &[
    VarDecl::value("lowbatt", "Set low battery level, in % (default=30)"),
    VarDecl::value("offdelay", "Set shutdown delay, in seconds (default=20)"),
    VarDecl::value("ondelay", "Set startup delay, in seconds (default=30)"),
    VarDecl::value(
        "pollfreq",
        "Set polling frequency, in seconds, to reduce data flow (default=30)",
    ),
    VarDecl::flag("pollonly", "Don't use interrupt pipe, only use polling"),
    VarDecl::flag(
        "onlinedischarge",
        "Set to treat discharging while online as being offline",
    ),
    VarDecl::value(
        "vendor",
        "Regular expression to match UPS Manufacturer string",
    ),
    VarDecl::value("product", "Regular expression to match UPS Product string"),
    VarDecl::value("serial", "Regular expression to match UPS Serial number"),
    VarDecl::value(
        "vendorid",
        "Regular expression to match UPS Manufacturer numerical ID (4 digits hexadecimal)",
    ),
    VarDecl::value(
        "productid",
        "Regular expression to match UPS Product numerical ID (4 digits hexadecimal)",
    ),
    VarDecl::value("bus", "Regular expression to match USB bus name"),
    VarDecl::value("device", "Regular expression to match USB device name"),
    VarDecl::value(
        "usb_set_altinterface",
        "Force redundant call to usb_set_altinterface() (value=bAlternateSetting; default=0)",
    ),
    VarDecl::flag("explore", "Diagnostic matching of unsupported UPS"),
    VarDecl::flag(
        "maxreport",
        "Activate tweak for buggy APC Back-UPS firmware",
    ),
    VarDecl::flag(
        "interruptonly",
        "Don't use polling, only use interrupt pipe",
    ),
    VarDecl::value(
        "interruptsize",
        "Number of bytes to read from interrupt pipe",
    ),
    VarDecl::value(
        "busport",
        "Regular expression to match USB bus port (3 digits decimal)",
    ),
    VarDecl::value(
        "subdriver",
        "Use this subdriver (name or start of its version string, e.g. apc, cps, MGE HID)",
    ),
    VarDecl::value(
        "record",
        "Write a device spec of the UPS to this file (replay it with port=replay:<file>)",
    ),
];

/// The driver's static description.
pub static INFO: DriverInfo = DriverInfo {
    name: "usbhid-ups",
    description: "Generic HID driver",
    version: VERSION,
    vars: VARS,
};

/// The whole program.
pub fn main() -> std::process::ExitCode {
    nut_driver::main(&INFO, |cfg| {
        let opts = HidOptions::from_config(cfg)?;
        let link = HidLink::new(opts.usb_options(cfg)?, opts.select.clone())?;
        Ok((UsbHid::new(opts), link))
    })
}

/// The driver's options, checked.
#[derive(Debug, Clone)]
pub struct HidOptions {
    pub engine: EngineOptions,
    pub select: SelectOptions,
    pub pollfreq: u64,
    pub pollonly: bool,
    pub maxreport: bool,
    pub interrupt_size: Option<usize>,
    pub alt_setting: Option<u8>,
    pub record: Option<PathBuf>,
}

impl HidOptions {
    /// Checks the options as NUT's `upsdrv_initups` / `upsdrv_initinfo` do (before the
    /// device is touched).
    pub fn from_config(cfg: &DriverConfig) -> Result<Self, DriverError> {
        let explore = cfg.flag("explore");
        if explore && cfg.value("vendorid").is_none() {
            return Err(DriverError::Config(
                "must specify \"vendorid\" when using \"explore\"".into(),
            ));
        }
        let interrupt_size = match cfg.value("interruptsize") {
            Some(v) => {
                let n = atoi(v);
                if n <= 0 {
                    return Err(DriverError::Config(format!(
                        "Error: invalid interruptsize: {n}"
                    )));
                }
                Some(
                    usize::try_from(n)
                        .unwrap_or(usize::MAX)
                        .min(INTERRUPT_BUFFER),
                )
            }
            None => None,
        };
        let alt_setting = match cfg.value("usb_set_altinterface") {
            Some(v) => Some(u8::try_from(atoi(v)).map_err(|_| {
                DriverError::Config(format!(
                    "usb_set_altinterface: {v:?} is not an alternate setting (0..255)"
                ))
            })?),
            None => None,
        };
        let select = SelectOptions {
            explore,
            productid_given: cfg.value("productid").is_some(),
            subdriver: cfg.value("subdriver").map(str::to_string),
        };
        if select.subdriver.is_some() {
            select::select(&DeviceIds::default(), &select)
                .map_err(|e| DriverError::Config(e.to_string()))?;
        }
        // NUT: `pollfreq = atoi(val)`; a negative value would make every walk a full one.
        let pollfreq = cfg
            .value("pollfreq")
            .map_or(DEFAULT_POLLFREQ, |v| u64::try_from(atoi(v)).unwrap_or(0));
        Ok(Self {
            engine: EngineOptions {
                onlinedischarge: cfg.flag("onlinedischarge"),
                interrupt_only: cfg.flag("interruptonly"),
                lowbatt: cfg.value("lowbatt").map(str::to_string),
                ondelay: cfg.value("ondelay").map(str::to_string),
                offdelay: cfg.value("offdelay").map(str::to_string),
            },
            select,
            pollfreq,
            pollonly: cfg.flag("pollonly"),
            maxreport: cfg.flag("maxreport"),
            interrupt_size,
            alt_setting,
            record: cfg.value("record").map(PathBuf::from),
        })
    }

    /// How to find the UPS.
    pub fn usb_options(&self, cfg: &DriverConfig) -> Result<UsbOptions, DriverError> {
        let mut uo = UsbOptions::for_port(&cfg.port);
        for name in nut_usb::MatchCriteria::NAMES {
            if let Some(v) = cfg.value(name) {
                uo.criteria.set(name, v);
            }
        }
        uo.alt_setting = self.alt_setting;
        Ok(uo)
    }
}

/// The driver.
pub struct UsbHid {
    opts: HidOptions,
    engine: Option<Engine>,
    subdriver: Option<Subdriver>,
    /// The link generation the engine last walked (a new one: walk as at start-up).
    generation: u64,
    last_full: Option<Instant>,
    /// Whether the interrupt pipe was read since the last poll (between polls, by
    /// `wait_event`); if not (`-d`, a busy loop), the poll reads it once, as NUT's does.
    pipe_read: bool,
    data_changed: bool,
    strings: HashMap<u8, Option<String>>,
    /// The variables as last handed to the framework's state ([`UsbHid::publish_vars`]).
    published: BTreeMap<String, String>,
    /// How many commands were last handed on (the engine only ever adds commands).
    commands_published: usize,
    meta_done: BTreeSet<String>,
    recorder: Option<Recorder>,
}

impl std::fmt::Debug for UsbHid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsbHid")
            .field("subdriver", &self.subdriver)
            .field("generation", &self.generation)
            .finish()
    }
}

impl UsbHid {
    pub fn new(opts: HidOptions) -> Self {
        Self {
            opts,
            engine: None,
            subdriver: None,
            generation: 0,
            last_full: None,
            pipe_read: false,
            data_changed: false,
            strings: HashMap::new(),
            published: BTreeMap::new(),
            commands_published: 0,
            meta_done: BTreeSet::new(),
            recorder: None,
        }
    }

    /// The subdriver in use, once initialised.
    pub fn subdriver(&self) -> Option<Subdriver> {
        self.subdriver
    }

    fn engine(&mut self) -> Result<&mut Engine, DriverError> {
        self.engine
            .as_mut()
            .ok_or_else(|| DriverError::Fatal("usbhid-ups: no engine before initialisation".into()))
    }

    /// Builds the engine for the open device (NUT's `callback`: parse, fix, quirks, identity).
    async fn start(&mut self, io: &HidLink, state: &mut State) -> Result<(), DriverError> {
        let opened = io
            .opened()
            .ok_or_else(|| DriverError::Fatal("usbhid-ups: device not open".into()))?
            .clone();
        let sub = opened.subdriver;
        let id = &opened.identity;
        let (vid, pid) = (id.vendor_id, id.product_id);
        let mut desc = ReportDescriptor::parse(&opened.report_descriptor)
            .map_err(|e| DriverError::Fatal(format!("Failed to parse report descriptor: {e}")))?;
        // NUT logs this at LOG_CRIT: it is printed on every start.
        nut_driver::notice!("Using subdriver: {}", sub.version());
        if sub.fix_report_desc(vid, pid, &mut desc) {
            nut_driver::debug!(2, "Report Descriptor Fixed");
        }
        // PowerCOM 0d9f:0001: NUT forces interruptonly with 8-byte interrupt reads.
        if let Some(size) = powercom::forced_interrupt_size(vid, pid) {
            self.opts.engine.interrupt_only = true;
            self.opts.interrupt_size = Some(size);
        }
        // Legrand Keor PDU/SP: NUT turns the interrupt pipe off.
        if sub.poll_only(vid, pid) {
            if !self.opts.pollonly {
                nut_driver::info!(
                    "interrupt pipe disabled (add 'pollonly' flag to 'ups.conf' to get rid of this message)"
                );
            }
            self.opts.pollonly = true;
        }
        let mut engine = Engine::new(desc, sub.table(), sub.usages(), self.opts.engine.clone());
        // Device clocks (mge's ups.date/ups.time) in the host's time zone, as NUT's
        // localtime_r/mktime; set before `prepare` and the identity, which may convert dates.
        engine.device_state_mut().local_time =
            usbhid_ups::localtime::LocalTime::from_fn(nut_daemon::localtime::utc_offset_at);
        sub.prepare(vid, pid, &mut engine);
        if let Some(path) = &self.opts.record {
            let rec = Recording::new(
                id,
                opened.device_descriptor.as_deref(),
                io.interface(),
                &opened.report_descriptor,
            );
            self.recorder = Some(Recorder::new(path, rec));
        }
        self.engine = Some(engine);
        self.strings.clear();
        self.subdriver = Some(sub);
        // What the subdriver formats the identity from (mge: iModel and the nominal power;
        // Delta: its model-name string), read before the first walk as NUT does.
        let paths = sub.identity_paths();
        let engine = self.engine()?;
        let mut ids: Vec<u8> = paths.iter().filter_map(|p| engine.report_of(p)).collect();
        ids.sort_unstable();
        ids.dedup();
        self.get_reports(io, ids).await?;
        for path in paths {
            let index = self.engine()?.item_value(path);
            if let Some(index) = index.and_then(|v| u8::try_from(v as i64).ok())
                && index != 0
            {
                self.supply_string(io, index).await?;
            }
        }
        let engine = self.engine()?;
        let identity = sub.identity_with(
            engine,
            vid,
            pid,
            id.vendor.as_deref(),
            id.product.as_deref(),
            id.serial.as_deref(),
        );
        // Published before the first walk: table rows for these names only fill gaps.
        for (var, value) in &identity {
            engine.preset(var, value);
            state.set_info(var, value);
        }
        state.set_info("driver.version.data", sub.version());
        state.set_info("driver.parameter.pollfreq", &self.opts.pollfreq.to_string());
        Ok(())
    }

    /// NUT's `HIDDumpTree`: at debug level 1 and above, every object of the descriptor with
    /// its value (each report read once), the way `explore` users study an unknown UPS.
    async fn dump_tree(&mut self, io: &HidLink) -> Result<(), DriverError> {
        if nut_driver::log::debug_level() < 1 {
            return Ok(());
        }
        let Some(opened) = io.opened() else {
            return Ok(());
        };
        // NUT leaves out reports 254 and 255 of Eaton/MGE and Dell devices, and report 0x54 of
        // the Tripp Lite SU3000LCD2UHV (its firmware answers it wrongly).
        let (vid, pid) = (opened.identity.vendor_id, opened.identity.product_id);
        let eaton = matches!(vid, 0x0463 | 0x047c);
        let tripplite_1330 = vid == 0x09ae && pid == 0x1330;
        let skipped = |id: u8| (eaton && id >= 254) || (tripplite_1330 && id == 0x54);
        let usages = self.subdriver.map_or(&[][..], Subdriver::usages);
        let engine = self.engine()?;
        let desc = engine.descriptor();
        let mut ids: Vec<u8> = desc
            .fields
            .iter()
            .map(|f| f.report_id)
            .filter(|&id| !skipped(id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let wanted = ids
            .iter()
            .map(|&id| (id, u16::try_from(desc.buffer_len(id)).unwrap_or(u16::MAX)))
            .collect();
        let got: HashMap<u8, Vec<u8>> = io
            .get_reports(wanted)
            .await?
            .into_iter()
            .filter_map(|(id, b)| Some((id, b?)))
            .collect();
        let desc = self.engine()?.descriptor();
        for f in desc.fields.iter().filter(|f| !skipped(f.report_id)) {
            let head = format!(
                "Path: {}, Type: {}, ReportID: 0x{:02x}, Offset: {}, Size: {}",
                path_to_string(&f.path, usages),
                f.kind.name(),
                f.report_id,
                f.offset,
                f.size
            );
            match got.get(&f.report_id) {
                Some(bytes) => {
                    let mut buf = vec![0u8; desc.buffer_len(f.report_id)];
                    let n = bytes.len().min(buf.len());
                    buf[..n].copy_from_slice(&bytes[..n]);
                    let value = format_g(physical_value(&buf, f));
                    nut_driver::debug!(1, "{head}, Value: {value}");
                }
                None => nut_driver::debug!(1, "{head}"),
            }
        }
        Ok(())
    }

    /// GETs what a walk of `mode` reads and the strings its rows convert, and files them.
    async fn fetch(&mut self, io: &HidLink, mode: WalkMode) -> Result<(), DriverError> {
        let sub = self.subdriver;
        let engine = self.engine()?;
        let mut wanted = engine.reports_needed(mode);
        // Ever's conversions read reports of their own (work mode, messages, alarms, MAC, and
        // the IP-address and packet reports they cycle through), which NUT GETs when it
        // converts; the engine decodes whatever was filed for them.
        if sub == Some(Subdriver::Ever) {
            let own = [
                ever::WORKMODE_REPORT,
                ever::MESSAGES_REPORT,
                ever::ALARMS_REPORT,
                ever::MAC_REPORT,
            ];
            let declared = own
                .into_iter()
                .chain(ever::IP_REPORTS)
                .chain(ever::PACKET_REPORTS)
                .filter(|&id| engine.buffer_len(id) > 1);
            wanted.extend(declared);
            wanted.sort_unstable();
            wanted.dedup();
        }
        self.get_reports(io, wanted).await?;
        let indexes = self.engine()?.string_indexes();
        for index in indexes {
            self.supply_string(io, index).await?;
        }
        Ok(())
    }

    /// GETs these reports (Feature) and files them in the engine: a report the device did
    /// not give is forgotten (NUT skips the rows it feeds). With `interruptonly` nothing is
    /// read: NUT's report buffers start zero-filled and only the interrupt pipe fills them.
    async fn get_reports(&mut self, io: &HidLink, ids: Vec<u8>) -> Result<(), DriverError> {
        if self.opts.engine.interrupt_only {
            let engine = self.engine()?;
            for id in ids {
                engine.file_report(&[id]);
            }
            return Ok(());
        }
        let maxreport = self.opts.maxreport;
        // NUT skips report 0x54 of the Tripp Lite SU3000LCD2UHV (09ae:1330) in every walk: its
        // firmware answers it wrongly.
        let skip = io.opened().and_then(|o| {
            (o.identity.vendor_id == 0x09ae && o.identity.product_id == 0x1330).then_some(0x54)
        });
        let engine = self.engine()?;
        if let Some(id) = skip {
            engine.forget_report(id);
        }
        let wanted: Vec<(u8, u16)> = ids
            .into_iter()
            .filter(|id| Some(*id) != skip)
            .map(|id| {
                // NUT 2.8.0's maxreport asks for the size of its buffer *pointer* (8 bytes on
                // 64-bit systems) instead of the report size: the same request on the wire.
                let len = if maxreport { 8 } else { engine.buffer_len(id) };
                (id, u16::try_from(len).unwrap_or(u16::MAX))
            })
            .collect();
        let got = io.get_reports(wanted).await?;
        let engine = self.engine()?;
        for (id, bytes) in &got {
            match bytes {
                Some(b) => engine.file_report(b),
                None => engine.forget_report(*id),
            }
        }
        if let Some(rec) = &mut self.recorder {
            let mut new = false;
            for b in got.iter().filter_map(|(_, b)| b.as_ref()) {
                new |= rec.recording.feature(b);
            }
            rec.touch(new);
        }
        Ok(())
    }

    /// Reads USB string `index` once per walk cycle (NUT reads it when it converts) and
    /// supplies it to the engine.
    async fn supply_string(&mut self, io: &HidLink, index: u8) -> Result<(), DriverError> {
        if self.strings.contains_key(&index) {
            // The engine has it since it was read (start-up gives a new engine an empty cache).
            return Ok(());
        }
        let s = io.string(index).await?;
        if let (Some(rec), Some(t)) = (&mut self.recorder, &s) {
            let new = rec.recording.string(index, t);
            rec.touch(new);
        }
        if let Some(s) = &s {
            self.engine()?.set_string(index, s.clone());
        }
        self.strings.insert(index, s);
        Ok(())
    }

    /// The initial walk (start-up, and after a reconnect).
    async fn init_walk(&mut self, io: &HidLink, state: &mut State) -> Result<(), DriverError> {
        // After a reconnect the strings are read again (start-up read the identity's already).
        if self.generation != 0 {
            self.strings.clear();
        }
        if let (Some(rec), true) = (&mut self.recorder, self.generation == 0)
            && rec.recording.langid.is_none()
        {
            rec.recording.langid = io.langid().await?;
        }
        self.fetch(io, WalkMode::Init).await?;
        self.engine()?.init();
        self.generation = io.generation();
        self.publish_vars(state, true);
        if let Some(rec) = &mut self.recorder {
            rec.save();
        }
        Ok(())
    }

    /// Mirrors the engine's variables, metadata and commands into the framework's state.
    ///
    /// A poll changes a few values at most, so only those are handed on: `published` is what
    /// the state was last given, walked in step with the engine's variables (both sorted
    /// maps). When the set of names changed (and with `all`: after a (re)initialisation, a
    /// command or a SET) everything is handed on, metadata and commands too, as before.
    fn publish_vars(&mut self, state: &mut State, all: bool) {
        let Some(engine) = &self.engine else { return };
        let es = &engine.state;
        let same_names = !all
            && es.vars.len() == self.published.len()
            && es
                .vars
                .iter()
                .zip(self.published.iter_mut())
                .all(|((k, v), (pk, pv))| {
                    if k != pk {
                        return false;
                    }
                    if v != pv {
                        state.set_info(k, v);
                        pv.clone_from(v);
                    }
                    true
                });
        if same_names && es.commands.len() == self.commands_published {
            return;
        }
        for (k, v) in &es.vars {
            state.set_info(k, v);
        }
        for gone in self.published.keys().filter(|k| !es.vars.contains_key(*k)) {
            state.del_info(gone);
        }
        self.published.clone_from(&es.vars);
        for (k, m) in &es.meta {
            if !es.vars.contains_key(k) || self.meta_done.contains(k) {
                continue;
            }
            state.set_flags(
                k,
                VarFlags {
                    rw: m.rw,
                    string: m.string_len.is_some(),
                    ..VarFlags::NONE
                },
            );
            if let Some(len) = m.string_len {
                state.set_aux(k, i64::try_from(len).unwrap_or(i64::MAX));
            }
            for e in &m.enums {
                state.add_enum(k, e);
            }
            self.meta_done.insert(k.clone());
        }
        for c in &es.commands {
            state.add_cmd(c);
        }
        self.commands_published = es.commands.len();
    }

    /// `ups.status`, and on full walks `ups.alarm`.
    fn publish_status(&self, state: &mut State, alarms: bool) {
        let Some(engine) = &self.engine else { return };
        if alarms {
            state.alarm_init();
            for a in &engine.state.alarms {
                state.alarm_set(a);
            }
            state.alarm_commit();
        }
        state.status_init();
        for w in &engine.state.status {
            state.status_set(w);
        }
        state.status_commit();
    }

    /// Applies the interrupt reports received so far; true when there were any.
    fn apply_interrupts(&mut self, io: &HidLink) -> bool {
        let reports = io.take_interrupts();
        if reports.is_empty() {
            return false;
        }
        let Some(engine) = self.engine.as_mut() else {
            return false;
        };
        for r in &reports {
            nut_driver::debug!(2, "interrupt report: {r:02x?}");
            engine.interrupt_report(r);
        }
        if let Some(rec) = &mut self.recorder {
            let mut new = false;
            for r in &reports {
                new |= rec.recording.interrupt(r);
            }
            rec.touch(new);
        }
        true
    }

    /// NUT's `upsdrv_updateinfo` after the reconnect check: interrupt reports first, then a
    /// full walk every `pollfreq` (or after a SET or command), a quick one otherwise.
    async fn walk(
        &mut self,
        io: &HidLink,
        now: Instant,
        state: &mut State,
    ) -> Result<(), DriverError> {
        self.apply_interrupts(io);
        let pollfreq = Duration::from_secs(self.opts.pollfreq);
        let full = self.data_changed
            || self
                .last_full
                .is_none_or(|last| now.saturating_duration_since(last) > pollfreq);
        let mode = if full {
            WalkMode::Full
        } else {
            WalkMode::Quick
        };
        nut_driver::debug!(
            1,
            "{}",
            if full {
                "Full update..."
            } else {
                "Quick update..."
            }
        );
        self.fetch(io, mode).await?;
        self.engine()?.update(full);
        if full {
            self.last_full = Some(now);
            self.data_changed = false;
        }
        self.publish_vars(state, false);
        self.publish_status(state, full);
        if let Some(rec) = &mut self.recorder {
            rec.save();
        }
        Ok(())
    }

    /// Performs the actions of a command; `Ok(false)` when the device refused one.
    async fn perform(&mut self, io: &HidLink, actions: Vec<Action>) -> Result<bool, DriverError> {
        for a in actions {
            match a {
                Action::SetReport { report_id, data } => {
                    nut_driver::debug!(3, "SET_REPORT {report_id:#04x}: {data:02x?}");
                    if !io.set_report(report_id, data).await? {
                        return Ok(false);
                    }
                }
                Action::WaitMs(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            }
        }
        Ok(true)
    }
}

impl nut_driver::Driver for UsbHid {
    type Transport = HidLink;
    const COMM_MESSAGES: CommMessages = CommMessages::BLAZER;
    // The interrupt pipe's read window and retry pause, the subdrivers' waits.
    const TOKIO: bool = true;

    async fn init_info(&mut self, io: &mut HidLink, state: &mut State) -> Result<(), DriverError> {
        self.start(io, state).await?;
        self.dump_tree(io).await?;
        self.init_walk(io, state).await?;
        // NUT starts counting pollfreq at the end of upsdrv_initinfo: the first update is a
        // quick one.
        let now = Instant::now();
        self.last_full = Some(now);
        Ok(())
    }

    async fn update_info(
        &mut self,
        io: &mut HidLink,
        now: Instant,
        state: &mut State,
    ) -> Result<(), DriverError> {
        if self.generation != io.generation() {
            self.init_walk(io, state).await?;
        }
        if !self.opts.pollonly && !self.pipe_read && !io.has_interrupts() {
            let len = self.opts.interrupt_size.unwrap_or(INTERRUPT_BUFFER);
            match tokio::time::timeout(INTERRUPT_POLL_READ, io.next_interrupt(len)).await {
                Ok(Err(e)) if e.needs_reconnect() => return Err(e),
                Ok(Err(e)) => nut_driver::debug!(2, "{e}"),
                Ok(Ok(())) | Err(_) => {}
            }
        }
        self.pipe_read = false;
        self.walk(io, now, state).await
    }

    /// Sleeps until the device sends an interrupt report (nut-usb's event-driven pipe: no
    /// wake-ups while the UPS is quiet); the framework drops this wait when a poll is due.
    async fn wait_event(&mut self, io: &mut HidLink) -> Result<(), DriverError> {
        if self.opts.pollonly || self.engine.is_none() {
            return std::future::pending().await;
        }
        let len = self.opts.interrupt_size.unwrap_or(INTERRUPT_BUFFER);
        loop {
            if io.has_interrupts() {
                return Ok(());
            }
            self.pipe_read = true;
            match io.next_interrupt(len).await {
                Ok(()) => {}
                Err(e) if e.needs_reconnect() => return Err(e),
                Err(e) => {
                    // A pipe that fails at once would spin: rest before reading it again.
                    nut_driver::debug!(2, "{e}");
                    tokio::time::sleep(INTERRUPT_RETRY).await;
                }
            }
        }
    }

    /// Interrupt reports arrived: what NUT does with them at its next poll happens now (the
    /// reports are applied, then the walk re-reads the status rows), so a status change is
    /// published without waiting for the poll.
    async fn handle_event(
        &mut self,
        io: &mut HidLink,
        now: Instant,
        state: &mut State,
    ) -> Result<(), DriverError> {
        if !io.has_interrupts() {
            return Ok(());
        }
        self.walk(io, now, state).await
    }

    async fn instcmd(
        &mut self,
        io: &mut HidLink,
        cmd: &str,
        param: Option<&str>,
        state: &mut State,
    ) -> Outcome {
        for (old, new) in [
            ("beeper.off", "beeper.disable"),
            ("beeper.on", "beeper.enable"),
        ] {
            if cmd.eq_ignore_ascii_case(old) {
                nut_driver::warning!("The '{old}' command has been renamed to '{new}'");
            }
        }
        nut_driver::debug!(1, "instcmd({cmd}, {})", param.unwrap_or("[NULL]"));
        let actions = match self.engine().map(|e| e.instcmd(cmd, param)) {
            Ok(Ok(a)) => a,
            Ok(Err(CommandError::Constant(_))) => return CmdStatus::Failed.into(),
            Ok(Err(e)) => {
                nut_driver::debug!(2, "instcmd: {e}");
                return CmdStatus::Invalid.into();
            }
            Err(_) => return CmdStatus::Failed.into(),
        };
        let status = match self.perform(io, actions).await {
            Ok(true) => {
                self.data_changed = true;
                CmdStatus::Handled
            }
            Ok(false) => CmdStatus::Failed,
            Err(e) => {
                nut_driver::warning!("instcmd: {cmd}: {e}");
                CmdStatus::Failed
            }
        };
        self.publish_vars(state, true);
        status.into()
    }

    async fn set_var(
        &mut self,
        io: &mut HidLink,
        var: &str,
        value: &str,
        state: &mut State,
    ) -> Outcome {
        nut_driver::debug!(1, "setvar({var}, {value})");
        let actions = match self.engine().map(|e| e.setvar(var, value)) {
            Ok(Ok(a)) => a,
            // NUT writes -1 for a value its table does not know; we refuse it.
            Ok(Err(e @ CommandError::InvalidValue { .. })) => {
                nut_driver::notice!("setvar: {e}");
                return CmdStatus::Invalid.into();
            }
            Ok(Err(e)) => {
                nut_driver::debug!(2, "setvar: {e}");
                return CmdStatus::Unknown.into();
            }
            Err(_) => return CmdStatus::Failed.into(),
        };
        let server_side = actions.is_empty();
        let status = match self.perform(io, actions).await {
            Ok(true) => {
                if !server_side {
                    self.data_changed = true;
                }
                CmdStatus::Handled
            }
            Ok(false) => CmdStatus::Failed,
            Err(e) => {
                nut_driver::warning!("setvar: {var}: {e}");
                CmdStatus::Failed
            }
        };
        self.publish_vars(state, true);
        status.into()
    }

    async fn shutdown(&mut self, io: &mut HidLink, _state: &mut State) -> Result<(), DriverError> {
        nut_driver::debug!(1, "upsdrv_shutdown...");
        let plans = self.engine()?.shutdown_plans();
        for (name, actions) in plans {
            match self.perform(io, actions).await {
                Ok(true) => {
                    nut_driver::debug!(1, "shutdown: {name} sent");
                    return Ok(());
                }
                Ok(false) => nut_driver::debug!(1, "shutdown: {name} refused by the device"),
                Err(e) => nut_driver::debug!(1, "shutdown: {name}: {e}"),
            }
        }
        Err(DriverError::Fatal("Shutdown failed!".into()))
    }

    fn cleanup(&mut self, _io: &mut HidLink) {
        if let Some(rec) = &mut self.recorder {
            rec.save();
        }
    }
}
