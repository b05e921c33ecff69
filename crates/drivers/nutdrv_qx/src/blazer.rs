//! blazer_ser / blazer_usb (NUT 2.8.0's `blazer.c`): the older Megatec driver core, kept under
//! its own names so existing ups.conf sections keep working. It differs from nutdrv_qx in
//! many visible ways, reproduced here:
//!
//! * protocols megatec, mustek, megatec/old, zinto only, detected by reading status (3 tries
//!   each); ratings and vendor are read once afterwards (3 tries, failures ignored);
//! * vendor data goes to `ups.mfr` / `ups.model` / `ups.firmware` (not `device.*`);
//! * `ondelay` is in **minutes** (0..9999, default 3), `offdelay` in seconds (12..600, default
//!   30, rounded down to what the UPS can do); `ups.delay.start` / `.shutdown` are read-only;
//! * every poll reads status (no quick/full split); a reply of fewer than 46 bytes fails;
//! * instant commands fail when the UPS answers anything but `ACK`/`(ACK`; unknown ones are
//!   `UNKNOWN`; `test.battery.start` takes minutes (1..99, default 10);
//! * deliberate fix: with unknown nominal battery voltage NUT 2.8.0 still runs the charge
//!   "guesstimation" (it compares with 1 instead of -1) and publishes negative
//!   `battery.voltage.low/high`; we guess only from a known nominal voltage.
//!
//! Same sans-IO interface as [`crate::Qx`]: methods return a [`Step`], answers go to
//! [`Blazer::feed`].

use crate::cnum::{self, eq_ic};
use crate::dstate::Dstate;
use crate::engine::{CmdStatus, Level, MAXTRIES, Outcome, PollResult, Reply, Request, Step};
use crate::options::QxOptions;
use crate::protocol::ProtocolId;

/// The blazer protocol table: name, status, ratings, vendor commands.
const COMMANDS: &[(ProtocolId, &str, &str, &str)] = &[
    (ProtocolId::Megatec, "Q1\r", "F\r", "I\r"),
    (ProtocolId::Mustek, "QS\r", "F\r", "I\r"),
    (ProtocolId::MegatecOld, "D\r", "F\r", "I\r"),
    (ProtocolId::Zinto, "Q1\r", "F\r", "FW?\r"),
];

const SIMPLE_CMDS: &[(&str, &str)] = &[
    ("beeper.toggle", "Q\r"),
    ("load.off", "S00R0000\r"),
    ("load.on", "C\r"),
    ("shutdown.stop", "C\r"),
    ("test.battery.start.deep", "TL\r"),
    ("test.battery.start.quick", "T\r"),
    ("test.battery.stop", "CT\r"),
];

const ALL_CMDS: &[&str] = &[
    "beeper.toggle",
    "load.off",
    "load.on",
    "shutdown.return",
    "shutdown.stayoff",
    "shutdown.stop",
    "test.battery.start",
    "test.battery.start.deep",
    "test.battery.start.quick",
    "test.battery.stop",
];

#[derive(Debug)]
enum Phase {
    Idle,
    /// Detection: protocol index, try number.
    Detect(usize, u32),
    Rating(u32),
    Vendor(u32),
    Poll,
    Cmd,
    /// Shutdown: stage (0 = stop, 1 = return), try number.
    Shutdown(u8, u32),
}

/// The blazer engine for one device.
#[derive(Debug)]
pub struct Blazer {
    opts: QxOptions,
    ds: Dstate,
    proto: Option<usize>,
    ondelay: i64,
    offdelay: i64,
    online: bool,
    status_tokens: Vec<&'static str>,
    alarms: Vec<String>,
    retry: u32,
    // battery estimation
    packs: f64,
    runt_nom: f64,
    runt_est: f64,
    runt_exp: f64,
    volt_act: f64,
    volt_high: f64,
    volt_nom: f64,
    volt_low: f64,
    chrg_act: f64,
    chrg_time: i64,
    load_low: f64,
    load_eff: f64,
    lastpoll: f64,
    now: f64,
    phase: Phase,
    log: Vec<(Level, String)>,
}

impl Blazer {
    /// `blazer_initups`: validate the delays (`Err` = NUT's fatal message). `preset` values
    /// (`default.*` / `override.*` from ups.conf) should be applied to [`Blazer::dstate_mut`]
    /// before [`Blazer::init`].
    pub fn new(opts: QxOptions) -> Result<Self, String> {
        let ondelay = opts.getval("ondelay").map_or(3, cnum::strtol);
        if !(0..=9999).contains(&ondelay) {
            return Err(format!("Start delay '{ondelay}' out of range [0..9999]"));
        }
        let mut offdelay = opts.getval("offdelay").map_or(30, cnum::strtol);
        if !(12..=600).contains(&offdelay) {
            return Err(format!(
                "Shutdown delay '{offdelay}' out of range [12..600]"
            ));
        }
        offdelay -= if offdelay < 60 {
            offdelay % 6
        } else {
            offdelay % 60
        };
        Ok(Blazer {
            chrg_time: opts.chargetime,
            load_low: opts.idleload,
            opts,
            ds: Dstate::default(),
            proto: None,
            ondelay,
            offdelay,
            online: true,
            status_tokens: Vec::new(),
            alarms: Vec::new(),
            retry: 0,
            packs: 1.0,
            runt_nom: -1.0,
            runt_est: 0.0,
            runt_exp: 0.0,
            volt_act: -1.0,
            volt_high: -1.0,
            volt_nom: -1.0,
            volt_low: -1.0,
            chrg_act: -1.0,
            load_eff: 1.0,
            lastpoll: 0.0,
            now: 0.0,
            phase: Phase::Idle,
            log: Vec::new(),
        })
    }

    /// Published variables and commands (without `ups.status` / `ups.alarm`).
    pub fn dstate(&self) -> &Dstate {
        &self.ds
    }

    /// Mutable access (presets, draining updates).
    pub fn dstate_mut(&mut self) -> &mut Dstate {
        &mut self.ds
    }

    /// The detected protocol.
    pub fn protocol(&self) -> Option<ProtocolId> {
        self.proto.map(|i| COMMANDS[i].0)
    }

    /// `ups.status` tokens after the last good status read.
    pub fn status_tokens(&self) -> &[&'static str] {
        &self.status_tokens
    }

    /// `ups.status` as published.
    pub fn status_string(&self) -> String {
        self.status_tokens.join(" ")
    }

    /// Alarms after the last good status read.
    pub fn alarms(&self) -> &[String] {
        &self.alarms
    }

    /// Log messages since the last call.
    pub fn take_log(&mut self) -> Vec<(Level, String)> {
        std::mem::take(&mut self.log)
    }

    fn logm(&mut self, l: Level, m: impl Into<String>) {
        self.log.push((l, m.into()));
    }

    fn next_detect(&mut self, mut idx: usize, mut tries: u32) -> Step {
        let sel = self.opts.getval("protocol").map(str::to_string);
        loop {
            let Some(&(id, status, _, _)) = COMMANDS.get(idx) else {
                self.phase = Phase::Idle;
                return Step::Done(Outcome::Init(Err("No supported UPS detected".into())));
            };
            if sel.as_deref().is_some_and(|p| !eq_ic(p, id.name())) || tries >= MAXTRIES {
                idx += 1;
                tries = 0;
                continue;
            }
            self.phase = Phase::Detect(idx, tries + 1);
            return Step::Send(status.as_bytes().into());
        }
    }

    /// `blazer_initinfo`: detect the protocol, read ratings and vendor, set up estimation.
    pub fn init(&mut self, now: f64) -> Step {
        self.now = now;
        if let Some(v) = self.ds.get("battery.voltage.high") {
            self.volt_high = cnum::strtod(v);
        }
        if let Some(v) = self.ds.get("battery.voltage.low") {
            self.volt_low = cnum::strtod(v);
        }
        self.next_detect(0, 0)
    }

    /// `upsdrv_updateinfo`: read status.
    pub fn poll(&mut self, now: f64) -> Step {
        self.now = now;
        let Some(p) = self.proto else {
            return Step::Done(Outcome::Poll(PollResult::Failed { stale: true }));
        };
        self.phase = Phase::Poll;
        Step::Send(COMMANDS[p].1.as_bytes().into())
    }

    /// An instant command.
    pub fn instcmd(&mut self, name: &str, extra: Option<&str>) -> Step {
        self.logm(
            Level::Info,
            format!("instcmd({}, {})", name, extra.unwrap_or("[NULL]")),
        );
        match self.command_bytes(name, extra) {
            Ok(b) => {
                self.phase = Phase::Cmd;
                Step::Send(b.into())
            }
            Err(s) => Step::Done(Outcome::InstCmd(s)),
        }
    }

    /// `upsdrv_shutdown`: cancel a pending shutdown (3 tries), then `shutdown.return` (3 tries).
    pub fn shutdown(&mut self) -> Step {
        self.phase = Phase::Shutdown(0, 1);
        match self.command_bytes("shutdown.stop", None) {
            Ok(b) => Step::Send(b.into()),
            Err(_) => Step::Done(Outcome::Shutdown(Err("Shutdown failed!".into()))),
        }
    }

    fn command_bytes(&mut self, name: &str, extra: Option<&str>) -> Result<Vec<u8>, CmdStatus> {
        if let Some((_, b)) = SIMPLE_CMDS.iter().find(|(c, _)| eq_ic(c, name)) {
            return Ok(b.as_bytes().to_vec());
        }
        let off = self.offdelay;
        let n = if off < 60 {
            format!(".{}", off / 6)
        } else {
            format!("{:02}", off / 60)
        };
        let s = if eq_ic(name, "shutdown.return") {
            if self.ondelay == 0 {
                format!("S{n}\r")
            } else {
                format!("S{n}R{:04}\r", self.ondelay)
            }
        } else if eq_ic(name, "shutdown.stayoff") {
            format!("S{n}R0000\r")
        } else if eq_ic(name, "test.battery.start") {
            let delay = extra.map_or(10, cnum::strtol);
            if !(1..=99).contains(&delay) {
                self.logm(
                    Level::Error,
                    format!(
                        "instcmd: command [{}] failed, delay [{}] out of range",
                        name,
                        extra.unwrap_or("(null)")
                    ),
                );
                return Err(CmdStatus::Failed);
            }
            format!("T{delay:02}\r")
        } else {
            self.logm(Level::Error, format!("instcmd: command [{name}] not found"));
            return Err(CmdStatus::Unknown);
        };
        Ok(s.into_bytes())
    }

    /// Feed the answer to the last command.
    pub fn feed(&mut self, reply: Reply<'_>) -> Step {
        let (buf, ret): (Vec<u8>, Option<usize>) = match reply {
            Reply::Data(d) => (d.to_vec(), Some(d.len())),
            Reply::Raw { buf, len } => (buf.to_vec(), Some(len)),
            Reply::Error => (Vec::new(), None),
        };
        let mut buf = buf;
        buf.truncate(crate::engine::MAX_ANSWER);
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Idle => Step::Done(Outcome::NoOperation),
            Phase::Detect(idx, tries) => {
                if self.status(&buf, ret).is_ok() {
                    self.proto = Some(idx);
                    let name = COMMANDS[idx].0.name();
                    self.logm(
                        Level::Info,
                        format!("Supported UPS detected with {name} protocol"),
                    );
                    self.after_status_detect()
                } else {
                    self.next_detect(idx, tries)
                }
            }
            Phase::Rating(tries) => {
                if self.rating(&buf, ret).is_err() && tries < MAXTRIES {
                    self.phase = Phase::Rating(tries + 1);
                    return Step::Send(self.cmd_rating());
                }
                self.start_vendor()
            }
            Phase::Vendor(tries) => {
                if self.vendor(&buf, ret).is_err() && tries < MAXTRIES {
                    self.phase = Phase::Vendor(tries + 1);
                    return Step::Send(self.cmd_vendor());
                }
                self.finish_init()
            }
            Phase::Poll => Step::Done(Outcome::Poll(self.poll_done(&buf, ret))),
            Phase::Cmd => Step::Done(Outcome::InstCmd(Self::cmd_result(&buf, ret))),
            Phase::Shutdown(stage, tries) => {
                let ok = Self::cmd_result(&buf, ret) == CmdStatus::Handled;
                if stage == 0 {
                    if !ok && tries < MAXTRIES {
                        self.phase = Phase::Shutdown(0, tries + 1);
                        return Step::Send(b"C\r"[..].into());
                    }
                    if !ok {
                        self.logm(Level::Warning, "No shutdown pending");
                    }
                    self.phase = Phase::Shutdown(1, 1);
                    return match self.command_bytes("shutdown.return", None) {
                        Ok(b) => Step::Send(b.into()),
                        Err(_) => Step::Done(Outcome::Shutdown(Err("Shutdown failed!".into()))),
                    };
                }
                if ok {
                    return Step::Done(Outcome::Shutdown(Ok(format!(
                        "Shutting down in {} seconds",
                        self.offdelay
                    ))));
                }
                if tries < MAXTRIES {
                    self.phase = Phase::Shutdown(1, tries + 1);
                    return match self.command_bytes("shutdown.return", None) {
                        Ok(b) => Step::Send(b.into()),
                        Err(_) => Step::Done(Outcome::Shutdown(Err("Shutdown failed!".into()))),
                    };
                }
                Step::Done(Outcome::Shutdown(Err("Shutdown failed!".into())))
            }
        }
    }

    /// Anything but `ACK`/`(ACK` back (e.g. the command echoed) means failure; no answer means
    /// success.
    fn cmd_result(buf: &[u8], ret: Option<usize>) -> CmdStatus {
        match ret {
            Some(n) if n > 0 => {
                if buf.starts_with(b"ACK") || buf.starts_with(b"(ACK") {
                    CmdStatus::Handled
                } else {
                    CmdStatus::Failed
                }
            }
            // Errors and timeouts both count as "no answer" in blazer.c.
            _ => CmdStatus::Handled,
        }
    }

    fn cmd_rating(&self) -> Request {
        COMMANDS[self.proto.unwrap_or(0)].2.as_bytes().into()
    }

    fn cmd_vendor(&self) -> Request {
        COMMANDS[self.proto.unwrap_or(0)].3.as_bytes().into()
    }

    fn after_status_detect(&mut self) -> Step {
        if !self.opts.testvar("norating") {
            self.phase = Phase::Rating(1);
            return Step::Send(self.cmd_rating());
        }
        self.start_vendor()
    }

    fn start_vendor(&mut self) -> Step {
        if !self.opts.testvar("novendor") {
            self.phase = Phase::Vendor(1);
            return Step::Send(self.cmd_vendor());
        }
        self.finish_init()
    }

    fn finish_init(&mut self) -> Step {
        if let Err(e) = self.init_battery() {
            return Step::Done(Outcome::Init(Err(e)));
        }
        self.ds
            .set("ups.delay.start", &(60 * self.ondelay).to_string());
        self.ds
            .set("ups.delay.shutdown", &self.offdelay.to_string());
        for c in ALL_CMDS {
            self.ds.add_cmd(c);
        }
        Step::Done(Outcome::Init(Ok(())))
    }

    /// Split `buf[1..]` into blank-separated tokens like NUT's strtok (" " first, then
    /// " \r\n").
    fn tokens(buf: &[u8]) -> Vec<String> {
        let s = String::from_utf8_lossy(cnum::c_str(buf.get(1..).unwrap_or(&[]))).into_owned();
        let mut out = Vec::new();
        let mut first = true;
        let mut rest: &str = &s;
        loop {
            let seps: &[char] = if first { &[' '] } else { &[' ', '\r', '\n'] };
            first = false;
            let t = rest.trim_start_matches(seps);
            if t.is_empty() {
                break;
            }
            let end = t.find(seps).unwrap_or(t.len());
            out.push(t[..end].to_string());
            rest = &t[end..];
            // strtok consumes one delimiter after the token.
            if let Some(c) = rest.chars().next() {
                rest = &rest[c.len_utf8()..];
            }
        }
        out
    }

    fn status(&mut self, buf: &[u8], ret: Option<usize>) -> Result<(), ()> {
        if ret.is_none_or(|n| n < 46) {
            self.logm(Level::Debug(2), "blazer_status: short reply");
            return Err(());
        }
        if buf.first() != Some(&b'(') {
            self.logm(Level::Debug(2), "blazer_status: invalid start character");
            return Err(());
        }
        let toks = Self::tokens(buf);
        const VARS: [&str; 7] = [
            "input.voltage",
            "input.voltage.fault",
            "output.voltage",
            "ups.load",
            "input.frequency",
            "battery.voltage",
            "ups.temperature",
        ];
        if toks.len() < 8 {
            self.logm(Level::Debug(2), "blazer_status: parsing failed");
            return Err(());
        }
        for (i, var) in VARS.iter().enumerate() {
            let val = &toks[i];
            if !cnum::only_chars(val, "0123456789.") {
                self.logm(
                    Level::Debug(2),
                    format!("blazer_status: non numerical value [{val}]"),
                );
                continue;
            }
            let x = cnum::strtod(val);
            let s = match *var {
                "ups.load" => {
                    self.load_eff = (x / 100.0).powf(self.runt_exp).max(self.load_low);
                    format!("{x:.0}")
                }
                "battery.voltage" => format!("{:.2}", self.battery(x)),
                "input.voltage"
                | "input.voltage.fault"
                | "output.voltage"
                | "input.frequency"
                | "ups.temperature" => format!("{x:.1}"),
                _ => unreachable!(),
            };
            self.ds.set(var, &s);
        }
        let val = toks[7].as_bytes();
        if val
            .iter()
            .take_while(|c| **c == b'0' || **c == b'1')
            .count()
            != 8
        {
            self.logm(Level::Debug(2), format!("Invalid status [{}]", toks[7]));
            return Err(());
        }
        self.ds.set(
            "ups.beeper.status",
            if val[7] == b'1' {
                "enabled"
            } else {
                "disabled"
            },
        );
        self.ds.set(
            "ups.type",
            if val[4] == b'1' {
                "offline / line interactive"
            } else {
                "online"
            },
        );
        let mut st: Vec<&'static str> = Vec::new();
        self.online = val[0] != b'1';
        st.push(if self.online { "OL" } else { "OB" });
        if val[1] == b'1' {
            st.push("LB");
        }
        if val[2] == b'1' {
            let vi = cnum::strtod(self.ds.get("input.voltage").unwrap_or(""));
            let vo = cnum::strtod(self.ds.get("output.voltage").unwrap_or(""));
            if vo < 0.5 * vi {
                self.logm(Level::Debug(2), "blazer_status: output voltage too low");
            } else if vo < 0.95 * vi {
                st.push("TRIM");
            } else if vo < 1.05 * vi {
                st.push("BYPASS");
            } else if vo < 1.5 * vi {
                st.push("BOOST");
            } else {
                self.logm(Level::Debug(2), "blazer_status: output voltage too high");
            }
        }
        if val[5] == b'1' {
            st.push("CAL");
        }
        let mut alarms = Vec::new();
        if val[3] == b'1' {
            alarms.push("UPS selftest failed!".to_string());
        }
        if val[6] == b'1' {
            alarms.push("Shutdown imminent!".to_string());
            st.push("FSD");
        }
        self.alarms = alarms;
        self.status_tokens = st;
        Ok(())
    }

    /// `blazer_battery`: actual voltage (times packs) and the charge guess.
    fn battery(&mut self, x: f64) -> f64 {
        self.volt_act = self.packs * x;
        if (self.opts.runtimecal.is_none() || self.ds.get("battery.charge").is_none())
            && self.volt_low > 0.0
            && self.volt_high > self.volt_low
        {
            self.chrg_act = (100.0 * (self.volt_act - self.volt_low)
                / (self.volt_high - self.volt_low))
                .clamp(0.0, 100.0);
            let c = format!("{:.0}", self.chrg_act);
            self.ds.set("battery.charge", &c);
        }
        self.volt_act
    }

    fn rating(&mut self, buf: &[u8], ret: Option<usize>) -> Result<(), ()> {
        if ret.is_none_or(|n| n < 22) {
            self.logm(Level::Debug(2), "blazer_rating: short reply");
            return Err(());
        }
        if buf.first() != Some(&b'#') {
            self.logm(Level::Debug(2), "blazer_rating: invalid start character");
            return Err(());
        }
        let toks = Self::tokens(buf);
        const VARS: [(&str, usize); 4] = [
            ("input.voltage.nominal", 0),
            ("input.current.nominal", 1),
            ("battery.voltage.nominal", 1),
            ("input.frequency.nominal", 0),
        ];
        for (i, (var, prec)) in VARS.iter().enumerate() {
            let Some(val) = toks.get(i) else {
                self.logm(Level::Debug(2), "blazer_rating: parsing failed");
                return Err(());
            };
            if !cnum::only_chars(val, "0123456789.") {
                continue;
            }
            let x = if *var == "battery.voltage.nominal" {
                self.packs_from(val)
            } else {
                cnum::strtod(val)
            };
            self.ds.set(var, &format!("{x:.prec$}"));
        }
        Ok(())
    }

    /// `blazer_packs`: nominal battery voltage (a preset value wins) and the pack count.
    fn packs_from(&mut self, val: &str) -> f64 {
        let src = self
            .ds
            .get("battery.voltage.nominal")
            .map_or(val.to_string(), str::to_string);
        self.volt_nom = cnum::strtod(&src);
        const PACKS: [f64; 17] = [
            120.0, 100.0, 80.0, 60.0, 48.0, 36.0, 30.0, 24.0, 18.0, 12.0, 8.0, 6.0, 4.0, 3.0, 2.0,
            1.0, 0.5,
        ];
        for p in PACKS {
            if p * self.volt_act > 1.2 * self.volt_nom {
                continue;
            }
            if p * self.volt_act < 0.8 * self.volt_nom {
                let (n, a) = (self.volt_nom, self.volt_act);
                self.logm(
                    Level::Info,
                    format!("Can't autodetect number of battery packs [{n:.0}/{a:.2}]"),
                );
                break;
            }
            self.packs = p;
            break;
        }
        self.volt_nom
    }

    fn vendor(&mut self, buf: &[u8], ret: Option<usize>) -> Result<(), ()> {
        if ret.is_none_or(|n| n < 39) {
            self.logm(Level::Debug(2), "blazer_vendor: short reply");
            return Err(());
        }
        if buf.first() != Some(&b'#') {
            self.logm(Level::Debug(2), "blazer_vendor: invalid start character");
            return Err(());
        }
        let s = cnum::c_str(buf);
        let mut index = 1;
        for (var, len) in [("ups.mfr", 15), ("ups.model", 10), ("ups.firmware", 10)] {
            let field = s.get(index..(index + len).min(s.len())).unwrap_or(&[]);
            let text = String::from_utf8_lossy(field);
            self.ds.set(var, text.trim_end_matches(' '));
            index += len + 1;
        }
        Ok(())
    }

    fn init_battery(&mut self) -> Result<(), String> {
        // Deliberate fix: NUT 2.8.0 compares the nominal voltage with 1 (meaning -1), so the
        // guess also runs when the nominal voltage is unknown and publishes negative limits.
        // We guess only from a known (positive) nominal voltage.
        if self.volt_nom > 0.0 && (self.volt_high == -1.0 || self.volt_low == -1.0) {
            self.logm(
                Level::Info,
                "No values provided for battery high/low voltages in ups.conf\n",
            );
            self.volt_low = 104.0 * self.volt_nom / 120.0;
            self.volt_high = 130.0 * self.volt_nom / 120.0;
            let (lo, hi) = (self.volt_low, self.volt_high);
            self.ds.set("battery.voltage.low", &format!("{lo:.2}"));
            self.ds.set("battery.voltage.high", &format!("{hi:.2}"));
            self.logm(
                Level::Info,
                format!("Using 'guestimation' (low: {lo:.6}, high: {hi:.6})!"),
            );
        }
        let Some(cal) = self.opts.runtimecal else {
            self.logm(
                Level::Info,
                "Battery runtime will not be calculated (runtimecal not set)",
            );
            return Ok(());
        };
        self.lastpoll = self.now;
        self.runt_exp = (cal.rl / cal.rh).ln() / (cal.lh / cal.ll).ln();
        self.runt_nom = cal.rh * (cal.lh / 100.0).powf(self.runt_exp);
        if self.chrg_act < 0.0 {
            self.volt_low = self.volt_nom;
            self.volt_high = 1.15 * self.volt_nom;
            let v = cnum::strtod(self.ds.get("battery.voltage").unwrap_or(""));
            self.battery(v);
        }
        match self.ds.get("battery.charge") {
            Some(c) => self.runt_est = self.runt_nom * cnum::strtod(c) / 100.0,
            None => return Err("Initial battery charge undetermined".into()),
        }
        Ok(())
    }

    fn poll_done(&mut self, buf: &[u8], ret: Option<usize>) -> PollResult {
        if self.status(buf, ret).is_err() {
            if self.retry < MAXTRIES {
                self.logm(
                    Level::Debug(1),
                    "Communications with UPS lost: status read failed!",
                );
                self.retry += 1;
            } else if self.retry == MAXTRIES {
                self.logm(
                    Level::Warning,
                    "Communications with UPS lost: status read failed!",
                );
                self.retry += 1;
            } else {
                return PollResult::Failed { stale: true };
            }
            return PollResult::Failed { stale: false };
        }
        if self.opts.runtimecal.is_some() {
            let dt = self.now - self.lastpoll;
            if self.online {
                self.runt_est =
                    (self.runt_est + self.runt_nom * dt / self.chrg_time as f64).min(self.runt_nom);
            } else {
                self.runt_est = (self.runt_est - self.load_eff * dt).max(0.0);
            }
            let c = 100.0 * self.runt_est / self.runt_nom;
            self.ds.set("battery.charge", &format!("{c:.0}"));
            let r = self.runt_est / self.load_eff;
            self.ds.set("battery.runtime", &format!("{r:.0}"));
            self.lastpoll = self.now;
        }
        let reestablished = self.retry > MAXTRIES;
        if reestablished {
            self.logm(Level::Warning, "Communications with UPS re-established");
        }
        self.retry = 0;
        PollResult::Ok {
            full: true,
            reestablished,
        }
    }
}
