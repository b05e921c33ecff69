//! Driver options (ups.conf / `-x`) that change what the core does, validated up front with
//! clear errors, and the variable declarations of nutdrv_qx, blazer_ser and blazer_usb.

use std::collections::BTreeMap;

use crate::cnum;
use crate::protocol::ProtocolId;

/// Which program the core runs as: the option set and the protocols tried differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// `nutdrv_qx` (serial and USB in one program, like Debian's build).
    NutdrvQx,
    /// `blazer_ser` (serial; protocols megatec, mustek, megatec/old, zinto).
    BlazerSer,
    /// `blazer_usb` (USB subdrivers cypress, phoenix, ippon, krauler; same protocols).
    BlazerUsb,
}

/// Kind of a declared driver variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarKind {
    /// `VAR_FLAG`: present or not.
    Flag,
    /// `VAR_VALUE`: takes a value.
    Value,
}

/// A variable the driver accepts in ups.conf (what `addvar` declares).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarDecl {
    /// Name as written in ups.conf.
    pub name: &'static str,
    /// Flag or value.
    pub kind: VarKind,
    /// Help text for `-h`.
    pub desc: &'static str,
}

const fn v(name: &'static str, desc: &'static str) -> VarDecl {
    VarDecl {
        name,
        kind: VarKind::Value,
        desc,
    }
}
const fn f(name: &'static str, desc: &'static str) -> VarDecl {
    VarDecl {
        name,
        kind: VarKind::Flag,
        desc,
    }
}

/// USB matching variables every NUT USB driver accepts.
pub const USB_MATCH_VARS: &[VarDecl] = &[
    v(
        "vendor",
        "Regular expression to match UPS Manufacturer string",
    ),
    v("product", "Regular expression to match UPS Product string"),
    v("serial", "Regular expression to match UPS Serial number"),
    v(
        "vendorid",
        "Regular expression to match UPS Manufacturer numerical ID (4 digits hexadecimal)",
    ),
    v(
        "productid",
        "Regular expression to match UPS Product numerical ID (4 digits hexadecimal)",
    ),
    v("bus", "Regular expression to match USB bus name"),
    v("device", "Regular expression to match USB device name"),
    v(
        "usb_set_altinterface",
        "Force redundant call to usb_set_altinterface() (value=bAlternateSetting; default=0)",
    ),
];

const QX_COMMON: &[VarDecl] = &[
    v("offdelay", "Set shutdown delay, in seconds (default=30)"),
    v("ondelay", "Set startup delay, in seconds (default=180)"),
    f(
        "stayoff",
        "If invoked the UPS won't return after a shutdown when FSD arises",
    ),
    v(
        "pollfreq",
        "Set polling frequency, in seconds, to reduce data flow (default=30)",
    ),
    v(
        "protocol",
        "Preselect communication protocol (skip autodetection)",
    ),
    v("runtimecal", "Parameters used for runtime calculation"),
    v("chargetime", "Nominal charge time for UPS battery"),
    v(
        "idleload",
        "Minimum load to be used for runtime calculation",
    ),
];

const QX_USB: &[VarDecl] = &[
    v("subdriver", "Serial-over-USB subdriver selection"),
    v(
        "langid_fix",
        "Apply the language ID workaround to the krauler subdriver (0x409 or 0x4095)",
    ),
    f("noscanlangid", "Don't autoscan valid range for langid"),
];

const SERIAL: &[VarDecl] = &[v("cablepower", "Set cable power for serial interface")];

/// Variables the protocol subdrivers add (all of them are accepted whatever the protocol, as
/// in NUT, where every subdriver's `makevartable` runs).
const QX_SUBDRIVER_VARS: &[VarDecl] = &[
    f("norating", "Skip reading rating information from UPS"),
    f("novendor", "Skip reading vendor information from UPS"),
    f("ignoresab", "Ignore 'Shutdown Active' bit in UPS status"),
    v(
        "pins_shutdown_mode",
        "Set shutdown mode functionality of Pin 1 and Pin 7 on the UPS DB9 communication port (Per Best Power's EPS-0059) to n (integer, 0-6)",
    ),
    v("series", "Series (A/E)"),
    v("slave_address", "Slave address (UPS id) to match"),
    v(
        "input_fault_voltage",
        "Input fault voltage (whatever that means)",
    ),
    v(
        "number_of_battery_cells",
        "Number of battery cells in series",
    ),
    v("nominal_cell_voltage", "Nominal battery cell voltage"),
    v(
        "runtime_half",
        "Nominal battery run time at 50% load (seconds)",
    ),
    v(
        "runtime_full",
        "Nominal battery run time at 100% load (seconds)",
    ),
    v(
        "recharge_time",
        "Nominal battery recharge time to 95% capacity (seconds)",
    ),
    v("output_voltages", "Possible output voltages (volts)"),
    v("fault_1", "Fault record 1 (newest)"),
    v("fault_2", "Fault record 2"),
    v("fault_3", "Fault record 3"),
    v("fault_4", "Fault record 4"),
    v("fault_5", "Fault record 5 (oldest)"),
    f(
        "reset_to_default",
        "Reset capability options and their limits to safe default values",
    ),
    v(
        "bypass_alarm",
        "Alarm (BEEP!) at Bypass Mode [enabled/disabled]",
    ),
    v(
        "battery_alarm",
        "Alarm (BEEP!) at Battery Mode [enabled/disabled]",
    ),
    v(
        "bypass_when_off",
        "Bypass when the UPS is Off [enabled/disabled]",
    ),
    v("alarm_control", "Alarm (BEEP!) Control [enabled/disabled]"),
    v("converter_mode", "Converter Mode [enabled/disabled]"),
    v("eco_mode", "ECO Mode [enabled/disabled]"),
    v(
        "battery_open_status_check",
        "Battery Open Status Check [enabled/disabled]",
    ),
    v(
        "bypass_forbidding",
        "Bypass not allowed (Bypass Forbidding) [enabled/disabled]",
    ),
    v(
        "site_fault_detection",
        "Site fault detection [enabled/disabled]",
    ),
    v("advanced_eco_mode", "Advanced ECO Mode [enabled/disabled]"),
    v(
        "constant_phase_angle",
        "Constant Phase Angle Function (Output and input phase angles are not equal) [enabled/disabled]",
    ),
    v(
        "limited_runtime_on_battery",
        "Limited runtime on battery mode [enabled/disabled]",
    ),
    v("max_bypass_volt", "Maximum voltage for Bypass Mode"),
    v("min_bypass_volt", "Minimum voltage for Bypass Mode"),
    v("max_bypass_freq", "Maximum frequency for Bypass Mode"),
    v("min_bypass_freq", "Minimum frequency for Bypass Mode"),
    v(
        "work_range_type",
        "Device grid working range for P31 UPSes [Appliance/UPS]",
    ),
    v(
        "output_phase_angle",
        "Change output phase angle to the provided value [000, 120, 180, 240]°",
    ),
    v(
        "battery_number",
        "Set number of batteries that make a pack to n (integer, 1-9)",
    ),
    f(
        "testing",
        "If invoked the driver will exec also commands that still need testing",
    ),
];

const BLAZER_COMMON: &[VarDecl] = &[
    v("ondelay", "Delay before UPS startup (minutes)"),
    v("offdelay", "Delay before UPS shutdown (seconds)"),
    v("runtimecal", "Parameters used for runtime calculation"),
    v("chargetime", "Nominal charge time for UPS battery"),
    v(
        "idleload",
        "Minimum load to be used for runtime calculation",
    ),
    f("norating", "Skip reading rating information from UPS"),
    f("novendor", "Skip reading vendor information from UPS"),
    // A flag in NUT 2.8.0 that is nevertheless given a value (`protocol = megatec`).
    f(
        "protocol",
        "Preselect communication protocol (skip autodetection)",
    ),
];

const BLAZER_USB: &[VarDecl] = &[
    v("subdriver", "Serial-over-USB subdriver selection"),
    v(
        "langid_fix",
        "Apply the language ID workaround to the krauler subdriver (0x409 or 0x4095)",
    ),
];

/// The driver-specific variables `variant` declares, in NUT's order.
pub fn declared_vars(variant: Variant) -> Vec<VarDecl> {
    let mut out = Vec::new();
    match variant {
        Variant::NutdrvQx => {
            out.extend_from_slice(QX_COMMON);
            out.extend_from_slice(&QX_USB[..1]);
            out.extend_from_slice(USB_MATCH_VARS);
            out.extend_from_slice(&QX_USB[1..]);
            out.extend_from_slice(SERIAL);
            out.extend_from_slice(QX_SUBDRIVER_VARS);
        }
        Variant::BlazerSer => {
            out.extend_from_slice(BLAZER_COMMON);
            out.extend_from_slice(SERIAL);
        }
        Variant::BlazerUsb => {
            out.extend_from_slice(BLAZER_COMMON);
            out.extend_from_slice(&BLAZER_USB[..1]);
            out.extend_from_slice(USB_MATCH_VARS);
            out.extend_from_slice(&BLAZER_USB[1..]);
        }
    }
    out
}

/// An option that cannot be used; the message names the option and the accepted values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// Not a variable of this driver (NUT: "'x' is not a valid variable name for this driver").
    #[error("'{0}' is not a valid {1} for this driver")]
    Unknown(String, &'static str),
    /// A value-variable given without a value.
    #[error("'{0}' needs a value")]
    MissingValue(String),
    /// Unusable value.
    #[error("{name}: {msg} (got '{value}')")]
    Invalid {
        /// Option name.
        name: &'static str,
        /// Offending value.
        value: String,
        /// What is wrong / what is accepted.
        msg: String,
    },
}

/// `runtimecal = runtime_high,load_high,runtime_low,load_low` (seconds, %).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RuntimeCal {
    /// Runtime at the high load, seconds.
    pub rh: f64,
    /// High load, percent.
    pub lh: f64,
    /// Runtime at the low load, seconds.
    pub rl: f64,
    /// Low load, percent.
    pub ll: f64,
}

/// Serial cable power (DTR/RTS levels), `cablepower`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CablePower {
    /// DTR on, RTS off (default).
    Normal,
    /// DTR off, RTS on.
    Reverse,
    /// Both on.
    Both,
    /// Both off.
    None,
}

impl CablePower {
    /// (DTR, RTS) levels.
    pub fn lines(self) -> (bool, bool) {
        match self {
            CablePower::Normal => (true, false),
            CablePower::Reverse => (false, true),
            CablePower::Both => (true, true),
            CablePower::None => (false, false),
        }
    }
}

/// Validated options. `raw` keeps every accepted variable for subdrivers (`getval`/`testvar`).
#[derive(Clone, Debug)]
pub struct QxOptions {
    /// Program variant.
    pub variant: Variant,
    raw: BTreeMap<String, Option<String>>,
    /// `protocol`, if set (skips auto-detection).
    pub protocol: Option<ProtocolId>,
    /// `pollfreq`, seconds between full updates (default 30; nutdrv_qx only).
    pub pollfreq: i64,
    /// `runtimecal`.
    pub runtimecal: Option<RuntimeCal>,
    /// `chargetime`, seconds (default 43200).
    pub chargetime: i64,
    /// `idleload` as a fraction (default 0.1).
    pub idleload: f64,
    /// `cablepower` (serial).
    pub cablepower: CablePower,
    /// `langid_fix` (USB).
    pub langid_fix: Option<u16>,
}

impl QxOptions {
    /// Validate `pairs` (name, value; `None` for flags) for `variant`.
    pub fn parse<'a, I>(variant: Variant, pairs: I) -> Result<Self, OptionError>
    where
        I: IntoIterator<Item = (&'a str, Option<&'a str>)>,
    {
        let decls = declared_vars(variant);
        let mut raw = BTreeMap::new();
        for (name, value) in pairs {
            let Some(decl) = decls.iter().find(|d| d.name.eq_ignore_ascii_case(name)) else {
                return Err(OptionError::Unknown(
                    name.to_string(),
                    if value.is_some() {
                        "variable name"
                    } else {
                        "flag"
                    },
                ));
            };
            if decl.kind == VarKind::Value && value.is_none() {
                return Err(OptionError::MissingValue(name.to_string()));
            }
            raw.insert(decl.name.to_string(), value.map(str::to_string));
        }
        let mut o = QxOptions {
            variant,
            raw,
            protocol: None,
            pollfreq: 30,
            runtimecal: None,
            chargetime: 43200,
            idleload: 0.1,
            cablepower: CablePower::Normal,
            langid_fix: None,
        };
        o.validate()?;
        Ok(o)
    }

    /// Defaults only (no ups.conf variables).
    pub fn defaults(variant: Variant) -> Self {
        Self::parse(variant, std::iter::empty()).unwrap_or_else(|_| unreachable!())
    }

    /// `getval(name)`: the value of a value-variable (or of a flag given a value).
    pub fn getval(&self, name: &str) -> Option<&str> {
        self.raw.get(name).and_then(|v| v.as_deref())
    }

    /// `testvar(name)`: whether the variable or flag was given.
    pub fn testvar(&self, name: &str) -> bool {
        self.raw.contains_key(name)
    }

    fn invalid(name: &'static str, value: &str, msg: impl Into<String>) -> OptionError {
        OptionError::Invalid {
            name,
            value: value.to_string(),
            msg: msg.into(),
        }
    }

    fn validate(&mut self) -> Result<(), OptionError> {
        if let Some(p) = self.getval("protocol").map(str::to_string) {
            let allowed = crate::protocol::candidates(self.variant);
            match allowed.iter().find(|id| id.name().eq_ignore_ascii_case(&p)) {
                Some(id) => self.protocol = Some(*id),
                None => {
                    let names: Vec<&str> = allowed.iter().map(|i| i.name()).collect();
                    return Err(Self::invalid(
                        "protocol",
                        &p,
                        format!(
                            "not a protocol of this driver; use one of: {}",
                            names.join(", ")
                        ),
                    ));
                }
            }
        }
        if let Some(s) = self.getval("pollfreq").map(str::to_string) {
            match s.trim().parse::<i64>() {
                Ok(n) if n >= 0 => self.pollfreq = n,
                _ => {
                    return Err(Self::invalid(
                        "pollfreq",
                        &s,
                        "expected a number of seconds (0 or more)",
                    ));
                }
            }
        }
        if let Some(s) = self.getval("runtimecal").map(str::to_string) {
            let parts: Vec<&str> = s.split(',').map(str::trim).collect();
            let nums: Vec<Option<f64>> = parts.iter().map(|p| p.parse::<f64>().ok()).collect();
            if nums.len() < 4 || nums[..4].iter().any(Option::is_none) {
                return Err(Self::invalid(
                    "runtimecal",
                    &s,
                    "insufficient parameters: expected runtime_high,load_high,runtime_low,load_low",
                ));
            }
            let (rh, lh, rl, ll) = (
                nums[0].unwrap_or(0.0),
                nums[1].unwrap_or(0.0),
                nums[2].unwrap_or(0.0),
                nums[3].unwrap_or(0.0),
            );
            if rl < rh || rh <= 0.0 {
                return Err(Self::invalid(
                    "runtimecal",
                    &s,
                    "parameter out of range (runtime): need 0 < runtime_high <= runtime_low",
                ));
            }
            if lh > 100.0 || ll > lh || ll <= 0.0 {
                return Err(Self::invalid(
                    "runtimecal",
                    &s,
                    "parameter out of range (load): need 0 < load_low <= load_high <= 100",
                ));
            }
            self.runtimecal = Some(RuntimeCal { rh, lh, rl, ll });
        }
        if let Some(s) = self.getval("chargetime").map(str::to_string) {
            let n = cnum::strtol(&s);
            if n <= 0 || !cnum::only_chars(s.trim(), "0123456789") {
                return Err(Self::invalid(
                    "chargetime",
                    &s,
                    "charge time out of range [1..s]",
                ));
            }
            self.chargetime = n;
        }
        if let Some(s) = self.getval("idleload").map(str::to_string) {
            let x = s.trim().parse::<f64>().map(|x| x / 100.0);
            match x {
                Ok(x) if x > 0.0 && x <= 1.0 => self.idleload = x,
                _ => {
                    return Err(Self::invalid(
                        "idleload",
                        &s,
                        "idle load out of range [0..100]",
                    ));
                }
            }
        }
        for name in ["ondelay", "offdelay"] {
            if let Some(s) = self.getval(name)
                && s.trim().parse::<i64>().is_err()
            {
                let n: &'static str = if name == "ondelay" {
                    "ondelay"
                } else {
                    "offdelay"
                };
                return Err(Self::invalid(n, s, "expected a whole number"));
            }
        }
        if let Some(s) = self.getval("cablepower").map(str::to_string) {
            self.cablepower = match s.to_ascii_lowercase().as_str() {
                "normal" => CablePower::Normal,
                "reverse" => CablePower::Reverse,
                "both" => CablePower::Both,
                "none" => CablePower::None,
                _ => {
                    return Err(Self::invalid(
                        "cablepower",
                        &s,
                        "not valid for 'cablepower'; use normal, reverse, both or none",
                    ));
                }
            };
        }
        if let Some(s) = self.getval("langid_fix").map(str::to_string) {
            // NUT skips the first two characters ("0x") and reads hex.
            let hex = s.get(2..).unwrap_or("");
            match u16::from_str_radix(hex, 16) {
                Ok(n) => self.langid_fix = Some(n),
                Err(_) => {
                    return Err(Self::invalid(
                        "langid_fix",
                        &s,
                        "expected a hexadecimal language ID such as 0x409",
                    ));
                }
            }
        }
        if let Some(s) = self.getval("subdriver").map(str::to_string) {
            if crate::usb::Subdriver::from_name(&s, self.variant).is_none() {
                let names: Vec<&str> = crate::usb::Subdriver::all(self.variant)
                    .iter()
                    .map(|s| s.name())
                    .collect();
                return Err(Self::invalid(
                    "subdriver",
                    &s,
                    format!("subdriver not found; use one of: {}", names.join(", ")),
                ));
            }
            if !self.testvar("vendorid") || !self.testvar("productid") {
                return Err(Self::invalid(
                    "subdriver",
                    &s,
                    "when specifying a subdriver, 'vendorid' and 'productid' are mandatory",
                ));
            }
        }
        if let Some(s) = self.getval("pins_shutdown_mode") {
            match s.trim().parse::<i64>() {
                Ok(0..=6) => {}
                _ => {
                    return Err(Self::invalid(
                        "pins_shutdown_mode",
                        s,
                        "expected an integer 0-6",
                    ));
                }
            }
        }
        Ok(())
    }
}
