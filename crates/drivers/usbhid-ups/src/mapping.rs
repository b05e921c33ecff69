//! The mapping model: NUT variables and commands ⇄ HID paths, as usbhid-ups' subdriver tables
//! describe them, and the generic value lookups and conversions shared by all subdrivers.

use std::collections::BTreeMap;

use nut_core::cnum::{atoi, strtod};

use crate::localtime::LocalTime;
use crate::status::Status;

/// What one table row publishes or does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A NUT variable (`battery.charge`).
    Var(&'static str),
    /// A status bit collected into `ups.status` (the C tables' `"BOOL"` rows).
    Status,
    /// An entry of `ups.alarm`.
    Alarm,
    /// An instant command; the value is what is written to the path.
    Command(&'static str),
}

/// The row's variable flags (dstate): writable, string with a maximum length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VarFlags {
    pub rw: bool,
    /// `Some(len)`: a string variable of at most len characters.
    pub string: Option<usize>,
}

/// When a row is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HidFlags {
    /// Read once at initialisation.
    pub static_: bool,
    /// Re-read only after a SET or instant command.
    pub semi_static: bool,
    /// Not read from the device: the variable is the driver's own (ups.delay.*), published
    /// with its default when the path exists.
    pub absent: bool,
    /// Read on every (quick) poll: status and timers.
    pub quick_poll: bool,
    /// The lookup's values are offered as the variable's enumeration (when writable).
    pub enumerated: bool,
}

impl HidFlags {
    /// Read at every full walk (none of the flags).
    pub const NONE: HidFlags = HidFlags {
        static_: false,
        semi_static: false,
        absent: false,
        quick_poll: false,
        enumerated: false,
    };
}

/// How a HID value becomes a NUT value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Conversion {
    /// `printf`-style format of the number (`%.0f`, `%.1f`, `%.2f`).
    Format(&'static str),
    /// A table of (HID value, NUT value); a value not listed publishes nothing.
    Lookup(&'static [(i64, &'static str)]),
    /// A conversion function.
    Fun(Function),
}

/// Conversion functions (each may have a reverse for SET).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// USB HID date: `(year-1980)<<9 | month<<5 | day` → `YYYY/MM/DD`, 0 → `not set`.
    Date,
    /// APC's BCD date `0xMMDDYY` → `YYYY/MM/DD` (years ≥ 70 are 19xx).
    ApcDate,
    /// `%08lx`.
    Hex,
    /// The USB string descriptor with this index.
    StringId,
    /// `value × 0.1` as `%0.1f`.
    DivideBy10,
    /// Kelvin → Celsius (`%.1f`) when the value lies in 273..=373, else already Celsius.
    KelvinCelsius,
    /// CyberPower battery charge: capped at 100, `%.0f`.
    CpsBattCharge,
    /// CyberPower battery voltage, `%.1f`, scaled by 2/3 on models that report it 1.5× too
    /// high (decided once, see [`CpsBatteryScale`]).
    CpsBattVolt,
    // --- belkin, tripplite, powercom (NUT's belkin-hid.c, tripplite-hid.c, powercom-hid.c) ---
    /// A status word chosen by bits: `then` when `value & mask == equal`, else `otherwise`
    /// (Belkin's and PowerCOM's status bytes).
    StatusBits {
        mask: i64,
        equal: i64,
        then: &'static str,
        otherwise: &'static str,
    },
    /// Belkin firmware version: the value's high bits (`value >> 4`), `%ld`.
    BelkinFirmware,
    /// Belkin UPS type from the low nibble (online, offline, line-interactive, …).
    BelkinUpsType,
    /// Belkin voltage sensitivity: 1 reduced, 2 low, anything else normal.
    BelkinSensitivity,
    /// Liebert ConfigVoltage (`%.1f`): a value of exactly 1e-7 reveals a broken exponent and
    /// sets the correction factors (×1e8 here, ×1e7 for line voltages) from then on.
    LiebertConfigVoltage,
    /// Liebert line (input/output/battery) voltage (`%.1f`): a value of exactly 1e-7 sets the
    /// ×1e7 correction from then on.
    LiebertLineVoltage,
    /// Tripp Lite battery chemistry: the string descriptor, except `unknown` on products 1003
    /// and 2005 (firmware bugs).
    TrippliteChemistry,
    /// Tripp Lite battery voltage, `%.1f` after the per-product battery scale.
    TrippliteBattVolt,
    /// Tripp Lite input/output voltage, `%.1f` after the per-product voltage scale.
    TrippliteIoVolt,
    /// Tripp Lite frequency, `%.1f` after the per-product frequency scale.
    TrippliteIoFreq,
    /// Tripp Lite current, `%.1f` after the per-product current scale.
    TrippliteIoAmp,
    /// PowerCOM DelayBeforeStartup: minutes with their bytes swapped → seconds; written back
    /// as swapped minutes.
    PowercomStartup,
    /// PowerCOM DelayBeforeShutdown: low byte minutes, high byte seconds → seconds; written
    /// as seconds%60 << 8 | minutes with the "restart when power returns" bit (0x4000).
    PowercomShutdown,
    /// PowerCOM stay-off shutdown: written like [`Function::PowercomShutdown`] with bit 0x8000
    /// ("stay off"); it has no reading.
    PowercomStayoff,
    /// PowerCOM voltage in units of 4 V, `%0.0f`.
    PowercomVoltage,
    // mge (Eaton/MGE): stateful conversions, evaluated with the device's
    // [`DeviceState::mge`] and [`DeviceState::local_time`].
    /// An mge-hid conversion (see [`crate::subdriver::mge::MgeFun`]).
    Mge(crate::subdriver::mge::MgeFun),
    // --- hid-tables2: openups, legrand, delta_ups, ever ---
    /// A status word chosen by whether the value is non-zero (openUPS' status functions,
    /// e.g. `NonZero("chrg", "!chrg")`): `.0` for any non-zero value, `.1` for 0.
    NonZero(&'static str, &'static str),
    /// openUPS input voltage: `%.2f` of the value times the device's input-voltage factor.
    OpenupsVin,
    /// openUPS output voltage: `%.2f` of the value times the output-voltage factor.
    OpenupsVout,
    /// openUPS input (charge) current: `%.3f` of the value times the charge-current factor.
    OpenupsCcharge,
    /// openUPS output (discharge) current: `%.3f` of the value times the discharge factor.
    OpenupsCdischarge,
    /// openUPS thermistor reading (value × 100, truncated) → °C by the thermistor table.
    OpenupsTemperature,
    /// `%0.1f` of the value times this factor (Legrand's times10/100k/1M/10M).
    Multiply(u32),
    /// Delta's UPS type code (low nibble) → `online`, `offline`, `line-interactive`,
    /// `3-phase`, `split-phase`; codes without a name publish nothing.
    DeltaUpsType,
    /// Ever version word `0xMNbb` → `vM.Nbbb` (`v%X.%Xb%02d`).
    EverVersion,
    /// Ever hardware word `0xRRvv` → `rev.<letter>v<vv>` (`0` for revision 0, then A–Z).
    EverHardware,
    /// The following Ever functions ignore the value and decode raw report buffers (NUT reads
    /// its report buffer directly); [`Inputs::report`] supplies the buffers, see
    /// [`crate::subdriver::ever`].
    EverMacAddress,
    EverIpAddress,
    EverPackets,
    EverWorkmode,
    EverMessages,
    EverAlarms,
    EverOnOff,
}

/// One row of a subdriver's table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HidInfo {
    pub target: Target,
    pub var_flags: VarFlags,
    /// The HID path, in the subdriver's names.
    pub path: &'static str,
    /// For [`HidFlags::absent`] rows: the published default; for commands: the value written.
    pub default: Option<&'static str>,
    pub flags: HidFlags,
    pub conversion: Option<Conversion>,
}

impl HidInfo {
    /// A read-only numeric variable.
    pub const fn var(name: &'static str, path: &'static str, format: &'static str) -> HidInfo {
        HidInfo {
            target: Target::Var(name),
            var_flags: VarFlags {
                rw: false,
                string: None,
            },
            path,
            default: None,
            flags: HidFlags::NONE,
            conversion: Some(Conversion::Format(format)),
        }
    }

    /// A variable converted by a lookup table or function.
    pub const fn var_conv(
        name: &'static str,
        path: &'static str,
        conversion: Conversion,
    ) -> HidInfo {
        let mut row = HidInfo::var(name, path, "%s");
        row.conversion = Some(conversion);
        row
    }

    /// A status bit source.
    pub const fn status(path: &'static str, table: &'static [(i64, &'static str)]) -> HidInfo {
        let mut row = HidInfo::var("BOOL", path, "%s");
        row.target = Target::Status;
        row.conversion = Some(Conversion::Lookup(table));
        row
    }

    /// A status bit source converted by a function (openUPS, Ever).
    pub const fn status_fun(path: &'static str, fun: Function) -> HidInfo {
        let mut row = HidInfo::var("BOOL", path, "%s");
        row.target = Target::Status;
        row.conversion = Some(Conversion::Fun(fun));
        row
    }

    /// An instant command writing `value` to `path`.
    pub const fn command(name: &'static str, path: &'static str, value: &'static str) -> HidInfo {
        let mut row = HidInfo::var(name, path, "%s");
        row.target = Target::Command(name);
        row.default = Some(value);
        row.conversion = None;
        row
    }

    /// A driver-side variable (published with `default` when the path exists).
    pub const fn absent(name: &'static str, path: &'static str, default: &'static str) -> HidInfo {
        let mut row = HidInfo::var(name, path, "%s");
        row.var_flags = VarFlags {
            rw: true,
            string: Some(10),
        };
        row.flags.absent = true;
        row.default = Some(default);
        row.conversion = None;
        row
    }

    /// Marks the row writable, a string of at most 10 characters (NUT's usual RW flags).
    pub const fn rw(mut self) -> HidInfo {
        self.var_flags = VarFlags {
            rw: true,
            string: Some(10),
        };
        self
    }

    /// Marks the row writable as a number (`ST_FLAG_RW` alone; upsd types it NUMBER).
    pub const fn rw_number(mut self) -> HidInfo {
        self.var_flags = VarFlags {
            rw: true,
            string: None,
        };
        self
    }

    /// Marks the row writable, a string of at most `len` characters.
    pub const fn rw_string(mut self, len: usize) -> HidInfo {
        self.var_flags = VarFlags {
            rw: true,
            string: Some(len),
        };
        self
    }

    pub const fn semi_static(mut self) -> HidInfo {
        self.flags.semi_static = true;
        self
    }

    pub const fn static_(mut self) -> HidInfo {
        self.flags.static_ = true;
        self
    }

    pub const fn quick(mut self) -> HidInfo {
        self.flags.quick_poll = true;
        self
    }

    pub const fn enumerated(mut self) -> HidInfo {
        self.flags.enumerated = true;
        self
    }

    /// The NUT name of the row (`BOOL` / `ups.alarm` for status and alarm rows).
    pub fn name(&self) -> &'static str {
        match self.target {
            Target::Var(n) | Target::Command(n) => n,
            Target::Status => "BOOL",
            Target::Alarm => "ups.alarm",
        }
    }
}

/// Formats a number with a C `printf` conversion of the forms NUT's tables use (`%.Nf`, `%f`,
/// `%d`/`%ld`/`%i` are not used with doubles; `%s` is handled by lookups). Unknown formats
/// print the value with `%.0f`.
pub fn format_number(format: &str, value: f64) -> String {
    let spec = format.trim_start_matches('%').trim_end_matches('f');
    let precision = match spec.split_once('.') {
        Some((_, p)) => p.parse::<usize>().unwrap_or(0),
        None if format.ends_with('f') => 6,
        None => 0,
    };
    format!("{value:.precision$}")
}

/// A conversion's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Publish (or apply, for status rows) this text.
    Set(String),
    /// Publish nothing.
    Skip,
    /// Publish nothing and delete the variable (mge's charger status while ABM is off).
    Delete,
}

impl Outcome {
    /// The text to publish, if any.
    pub fn into_option(self) -> Option<String> {
        match self {
            Outcome::Set(s) => Some(s),
            Outcome::Skip | Outcome::Delete => None,
        }
    }
}

fn no_string(_: u8) -> Option<String> {
    None
}

fn no_report(_: u8) -> Vec<u8> {
    Vec::new()
}

static NO_VARS: BTreeMap<String, String> = BTreeMap::new();

/// What a conversion may read besides its value (NUT's functions read the USB strings, the
/// driver state and, for Ever, raw report buffers). The default has none of them.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    /// USB string descriptors by index.
    pub strings: &'a dyn Fn(u8) -> Option<String>,
    /// A report's buffer by id, report id first, as long as the descriptor makes it (zeros
    /// when it was not read); empty when the descriptor has no such report.
    pub report: &'a dyn Fn(u8) -> Vec<u8>,
    /// The variables published so far.
    pub vars: &'a BTreeMap<String, String>,
    /// The status bits collected so far.
    pub status: Status,
}

impl Default for Inputs<'_> {
    fn default() -> Self {
        Inputs {
            strings: &no_string,
            report: &no_report,
            vars: &NO_VARS,
            status: Status::default(),
        }
    }
}

impl<'a> Inputs<'a> {
    /// Only USB strings (what the stateless conversions need).
    pub fn with_strings(strings: &'a dyn Fn(u8) -> Option<String>) -> Inputs<'a> {
        Inputs {
            strings,
            ..Inputs::default()
        }
    }
}

/// CyberPower 0764:0501's battery-voltage scale (NUT decides it once: the first reading more
/// than 1.4× `battery.voltage.nominal` makes every reading scale by 2/3).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum CpsBatteryScale {
    /// Not a device that needs the check: readings as they are.
    #[default]
    Off,
    /// To be decided at the first reading with a non-zero nominal voltage.
    Undecided,
    /// Decided: every reading is multiplied by this.
    Decided(f64),
}

/// Everything one device's conversions remember (NUT keeps it in the subdrivers' globals; we
/// keep it per engine). [`crate::Subdriver::prepare`] and the identity formatting set it up,
/// readings update it, and [`hid_to_nut_with`] / [`nut_to_hid_with`] use it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceState {
    /// The USB product id (Tripp Lite's chemistry quirk).
    pub product_id: u16,
    /// Tripp Lite's per-product scales (see [`crate::subdriver::tripplite::scales`]).
    pub tl_battery_scale: f64,
    pub tl_io_voltage_scale: f64,
    pub tl_io_frequency_scale: f64,
    pub tl_io_current_scale: f64,
    /// Liebert's exponent corrections, learnt while reading.
    pub liebert_config_voltage_mult: f64,
    pub liebert_line_voltage_mult: f64,
    /// openUPS unit factors: input voltage, output voltage, charge current, discharge current
    /// (see [`crate::subdriver::openups::scale_factors`]).
    pub openups_scales: [f64; 4],
    /// CyberPower's battery-voltage scale.
    pub cps_battery_scale: CpsBatteryScale,
    /// Ever: the call cycles of its report-reading conversions.
    pub ever_cycles: crate::subdriver::ever::ReportCycles,
    /// mge (Eaton/MGE): model family, country, ABM state, nominal output voltage.
    pub mge: crate::subdriver::mge::MgeState,
    /// The driver's local time zone (mge's `ups.date`/`ups.time`); the shell sets it, UTC
    /// by default.
    pub local_time: LocalTime,
}

impl Default for DeviceState {
    fn default() -> DeviceState {
        DeviceState {
            product_id: 0,
            tl_battery_scale: 1.0,
            tl_io_voltage_scale: 1.0,
            tl_io_frequency_scale: 1.0,
            tl_io_current_scale: 1.0,
            liebert_config_voltage_mult: 1.0,
            liebert_line_voltage_mult: 1.0,
            openups_scales: [1.0; 4],
            cps_battery_scale: CpsBatteryScale::Off,
            ever_cycles: Default::default(),
            mge: Default::default(),
            local_time: LocalTime::utc(),
        }
    }
}

/// Converts a HID value to its NUT text with a fresh device's state and only USB strings;
/// `None` when nothing is published. See [`hid_to_nut_with`].
pub fn hid_to_nut(
    conversion: &Conversion,
    value: f64,
    strings: &dyn Fn(u8) -> Option<String>,
) -> Option<String> {
    hid_to_nut_with(
        conversion,
        value,
        &Inputs::with_strings(strings),
        &mut DeviceState::default(),
    )
    .into_option()
}

/// Converts a HID value to its NUT text (NUT's `ups_infoval_set` formatting and the
/// subdrivers' `*_fun`s): the one entry point for every conversion, stateful ones included.
pub fn hid_to_nut_with(
    conversion: &Conversion,
    value: f64,
    inputs: &Inputs,
    state: &mut DeviceState,
) -> Outcome {
    match conversion {
        Conversion::Format(f) => Outcome::Set(format_number(f, value)),
        Conversion::Lookup(table) => {
            let v = value as i64;
            match table.iter().find(|(h, _)| *h == v) {
                Some((_, n)) => Outcome::Set((*n).to_string()),
                None => Outcome::Skip,
            }
        }
        Conversion::Fun(fun) => state.convert(*fun, value, inputs),
    }
}

fn set_or_skip(text: Option<String>) -> Outcome {
    text.map_or(Outcome::Skip, Outcome::Set)
}

impl DeviceState {
    fn convert(&mut self, fun: Function, value: f64, inputs: &Inputs) -> Outcome {
        use crate::subdriver::{delta_ups, ever, mge, openups};
        let v = value as i64;
        let text = match fun {
            Function::Date => {
                if v == 0 {
                    return Outcome::Set("not set".into());
                }
                format!(
                    "{:04}/{:02}/{:02}",
                    1980 + (v >> 9),
                    (v >> 5) & 0x0f,
                    v & 0x1f
                )
            }
            Function::ApcDate => {
                if v == 0 {
                    return Outcome::Set("not set".into());
                }
                let digit = |shift: u32| (v >> shift) & 0xf;
                let mut year = digit(0) + 10 * digit(4);
                let month = digit(16) + 10 * digit(20);
                let day = digit(8) + 10 * digit(12);
                year += if year >= 70 { 1900 } else { 2000 };
                format!("{year:04}/{month:02}/{day:02}")
            }
            Function::Hex => format!("{:08x}", v),
            Function::StringId => string_descriptor(value, inputs.strings),
            Function::DivideBy10 => format!("{:.1}", value * 0.1),
            Function::KelvinCelsius => {
                if (273.0..=373.0).contains(&value) {
                    format!("{:.1}", value - 273.15)
                } else {
                    format!("{value:.1}")
                }
            }
            Function::CpsBattCharge => format!("{:.0}", value.min(100.0)),
            Function::CpsBattVolt => {
                if self.cps_battery_scale == CpsBatteryScale::Undecided
                    && let Some(nominal) = inputs
                        .vars
                        .get("battery.voltage.nominal")
                        .map(|v| strtod(v))
                        .filter(|n| *n != 0.0)
                {
                    self.cps_battery_scale = CpsBatteryScale::Decided(if value / nominal > 1.4 {
                        2.0 / 3.0
                    } else {
                        1.0
                    });
                }
                let scale = match self.cps_battery_scale {
                    CpsBatteryScale::Decided(s) => s,
                    _ => 1.0,
                };
                format!("{:.1}", scale * value)
            }
            Function::StatusBits {
                mask,
                equal,
                then,
                otherwise,
            } => if v & mask == equal { then } else { otherwise }.to_string(),
            Function::BelkinFirmware => (v >> 4).to_string(),
            Function::BelkinUpsType => match v & 0x0f {
                1 => "offline",
                2 => "line-interactive",
                3 => "simple online",
                4 => "simple offline",
                5 => "simple line-interactive",
                _ => "online",
            }
            .to_string(),
            Function::BelkinSensitivity => match v {
                1 => "reduced",
                2 => "low",
                _ => "normal",
            }
            .to_string(),
            Function::LiebertConfigVoltage => {
                if liebert_broken(value) {
                    self.liebert_config_voltage_mult = 1e8;
                    self.liebert_line_voltage_mult = 1e7;
                }
                c_buf(
                    format!("{:.1}", value * self.liebert_config_voltage_mult),
                    10,
                )
            }
            Function::LiebertLineVoltage => {
                if liebert_broken(value) {
                    self.liebert_line_voltage_mult = 1e7;
                }
                c_buf(format!("{:.1}", value * self.liebert_line_voltage_mult), 10)
            }
            Function::TrippliteChemistry => {
                if matches!(self.product_id, 0x1003 | 0x2005) {
                    "unknown".to_string()
                } else {
                    string_descriptor(value, inputs.strings)
                }
            }
            Function::TrippliteBattVolt => {
                c_buf(format!("{:.1}", self.tl_battery_scale * value), 8)
            }
            Function::TrippliteIoVolt => {
                c_buf(format!("{:.1}", self.tl_io_voltage_scale * value), 8)
            }
            Function::TrippliteIoFreq => {
                c_buf(format!("{:.1}", self.tl_io_frequency_scale * value), 8)
            }
            Function::TrippliteIoAmp => {
                c_buf(format!("{:.1}", self.tl_io_current_scale * value), 8)
            }
            Function::PowercomStartup => {
                let i = c_u16(value) as i64;
                (60 * (((i & 0x00ff) << 8) + (i >> 8))).to_string()
            }
            Function::PowercomShutdown => {
                let i = c_u16(value) as i64;
                (60 * (i & 0x00ff) + (i >> 8)).to_string()
            }
            Function::PowercomStayoff => return Outcome::Skip,
            Function::PowercomVoltage => format!("{:.0}", value * 4.0),
            Function::Mge(f) => {
                return mge::convert(f, value, &mut self.mge, &self.local_time, inputs);
            }
            Function::NonZero(set, clear) => (if value != 0.0 { set } else { clear }).to_string(),
            Function::OpenupsVin => format!("{:.2}", value * self.openups_scales[0]),
            Function::OpenupsVout => format!("{:.2}", value * self.openups_scales[1]),
            Function::OpenupsCcharge => format!("{:.3}", value * self.openups_scales[2]),
            Function::OpenupsCdischarge => format!("{:.3}", value * self.openups_scales[3]),
            Function::OpenupsTemperature => openups::temperature(value),
            Function::Multiply(k) => format!("{:.1}", value * f64::from(k)),
            Function::DeltaUpsType => {
                return set_or_skip(delta_ups::ups_type(value).map(String::from));
            }
            Function::EverVersion => ever::version(value),
            Function::EverHardware => return set_or_skip(ever::hardware(value)),
            Function::EverMacAddress
            | Function::EverIpAddress
            | Function::EverPackets
            | Function::EverWorkmode
            | Function::EverMessages
            | Function::EverAlarms
            | Function::EverOnOff => {
                let Some(id) = self.ever_cycles.report_for(fun) else {
                    return Outcome::Skip;
                };
                return set_or_skip(ever::decode(fun, &(inputs.report)(id)));
            }
        };
        Outcome::Set(text)
    }
}

/// Converts a NUT value back to the HID value for a SET (NUT's `hu_find_valinfo` and the
/// subdrivers' reverse functions) with a fresh device's state; see [`nut_to_hid_with`].
pub fn nut_to_hid(conversion: Option<&Conversion>, value: &str) -> Option<f64> {
    nut_to_hid_with(conversion, value, &NO_VARS, &DeviceState::default())
}

/// Converts a NUT value back to the HID value for a SET, with the device's state and the
/// variables published so far (mge's date needs the published time and vice versa); `None`
/// when the conversion cannot turn the value back (NUT 2.8.0 then writes -1 and reports
/// success; we refuse the SET, see docs/compatibility.md).
pub fn nut_to_hid_with(
    conversion: Option<&Conversion>,
    value: &str,
    vars: &BTreeMap<String, String>,
    state: &DeviceState,
) -> Option<f64> {
    match conversion {
        None | Some(Conversion::Format(_)) => Some(strtod(value)),
        Some(Conversion::Lookup(table)) => table
            .iter()
            .find(|(_, n)| *n == value)
            .map(|(h, _)| *h as f64),
        Some(Conversion::Fun(Function::Date)) => Some(date_reverse(value, false)),
        Some(Conversion::Fun(Function::ApcDate)) => Some(date_reverse(value, true)),
        Some(Conversion::Fun(Function::Mge(f))) => {
            crate::subdriver::mge::reverse(*f, value, &state.mge, &state.local_time, vars)
        }
        Some(Conversion::Fun(Function::PowercomStartup)) => Some(powercom_startup_reverse(value)),
        Some(Conversion::Fun(Function::PowercomShutdown)) => {
            Some(powercom_shutdown_reverse(value, 0x4000))
        }
        Some(Conversion::Fun(Function::PowercomStayoff)) => {
            Some(powercom_shutdown_reverse(value, 0x8000))
        }
        Some(Conversion::Fun(_)) => None,
    }
}

/// `%.1f` as NUT's conversion buffers of `size` bytes keep it (at most size-1 characters).
fn c_buf(text: String, size: usize) -> String {
    let mut text = text;
    text.truncate(size - 1);
    text
}

/// Liebert's broken exponent shows as a value of exactly 1e-7 (within 1e-9).
fn liebert_broken(value: f64) -> bool {
    value < 1.0 && (value - 1e-7).abs() < 1e-9
}

/// The USB string descriptor a value indexes, as NUT reads it into a 20-byte buffer: at most
/// 19 bytes (cut at a character boundary), trailing newlines trimmed; string 0 is the language
/// list (libusb refuses it) and a missing string is empty.
fn string_descriptor(value: f64, strings: &dyn Fn(u8) -> Option<String>) -> String {
    let index = (value as i64).clamp(0, 255) as u8;
    let mut text = (index != 0)
        .then(|| strings(index))
        .flatten()
        .unwrap_or_default();
    let mut end = text.len().min(19);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.truncate(text.trim_end_matches('\n').len());
    text
}

/// C's `(uint16_t)value` as x86 compilers do it (through a wide integer, then truncated).
fn c_u16(value: f64) -> u16 {
    value as i64 as u16
}

/// PowerCOM's start delay as written: whole minutes, bytes swapped; out of 0..=65535: 0.
fn powercom_startup_reverse(value: &str) -> f64 {
    let minutes = i64::from(atoi(value)) / 60;
    if !(0..=0xffff).contains(&minutes) {
        return 0.0;
    }
    let m = minutes as u16;
    (m << 8).wrapping_add(m >> 8) as f64
}

/// PowerCOM's shutdown delay as written: seconds%60 in the high byte, minutes in the low one,
/// `flag` added (0x4000 restart on power return, 0x8000 stay off); 0 s means 1 s (0 would be
/// the longest delay); out of 0..=65535: 0.
fn powercom_shutdown_reverse(value: &str, flag: u16) -> f64 {
    let seconds = i64::from(atoi(value));
    if !(0..=0xffff).contains(&seconds) {
        return 0.0;
    }
    let s = (seconds as u16).max(1);
    ((((s % 60) << 8).wrapping_add(s / 60)) | flag) as f64
}

impl Function {
    /// The variable whose value a command row of this function writes when neither the
    /// command nor the row gives one (PowerCOM's delays).
    pub fn default_source(self) -> Option<&'static str> {
        match self {
            Function::PowercomStartup => Some("ups.delay.start"),
            Function::PowercomShutdown | Function::PowercomStayoff => Some("ups.delay.shutdown"),
            _ => None,
        }
    }
}

fn date_reverse(s: &str, apc: bool) -> f64 {
    // NUT reads the date with sscanf("%04ld/%02ld/%02ld") and leaves the fields it could not
    // read uninitialised; its range check then (in practice) rejects the date and writes 0
    // ("not set"). A date without all three fields is written as 0 here, deterministically.
    let Some((y, m, d)) = scan_date(s) else {
        return 0.0;
    };
    if apc {
        if y >= 2070 || m > 12 || d > 31 {
            return 0.0;
        }
        let y = y % 100;
        ((((y / 10) & 0x0f) << 4)
            + (y % 10)
            + (((m / 10) & 0x0f) << 20)
            + ((m % 10) << 16)
            + (((d / 10) & 0x0f) << 12)
            + ((d % 10) << 8)) as f64
    } else {
        if y - 1980 > 127 || m > 12 || d > 31 {
            return 0.0;
        }
        (((y - 1980) << 9) + (m << 5) + d) as f64
    }
}

/// `sscanf(s, "%4ld/%2ld/%2ld")` when it reads all three fields.
fn scan_date(s: &str) -> Option<(i64, i64, i64)> {
    /// One `%<width>ld`: white space, then at most `width` characters of sign and digits.
    fn field(s: &str, width: usize) -> Option<(i64, &str)> {
        let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
        let b = s.as_bytes();
        let sign = usize::from(matches!(b.first(), Some(b'+' | b'-')));
        let digits = b[sign..]
            .iter()
            .take(width - sign)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        let end = sign + digits;
        Some((s[..end].parse().ok()?, &s[end..]))
    }
    let (y, rest) = field(s, 4)?;
    let (m, rest) = field(rest.strip_prefix('/')?, 2)?;
    let (d, _) = field(rest.strip_prefix('/')?, 2)?;
    Some((y, m, d))
}

/// Lookup tables every subdriver uses (the status-bit tables are in [`crate::status`]).
pub mod tables {
    pub static TEST_WRITE: &[(i64, &str)] = &[
        (0, "No test"),
        (1, "Quick test"),
        (2, "Deep test"),
        (3, "Abort test"),
    ];
    pub static TEST_READ: &[(i64, &str)] = &[
        (1, "Done and passed"),
        (2, "Done and warning"),
        (3, "Done and error"),
        (4, "Aborted"),
        (5, "In progress"),
        (6, "No test initiated"),
        (7, "Test scheduled"),
    ];
    pub static BEEPER: &[(i64, &str)] = &[(1, "disabled"), (2, "enabled"), (3, "muted")];
    pub static YES_NO: &[(i64, &str)] = &[(0, "no"), (1, "yes")];
    pub static ON_OFF: &[(i64, &str)] = &[(0, "off"), (1, "on")];
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dates written back as NUT 2.8.0 writes them; an incomplete date is written as 0 ("not
    /// set"), which is what 2.8.0's uninitialised fields lead to (Debian sends `20 00 00` for
    /// `battery.mfr.date=15` on the APC XS 1400U).
    #[test]
    fn dates_are_written_back_as_nut_does() {
        let date = Conversion::Fun(Function::Date);
        let apc = Conversion::Fun(Function::ApcDate);
        assert_eq!(
            nut_to_hid(Some(&date), "2015/07/02"),
            Some(f64::from((35 << 9) + (7 << 5) + 2))
        );
        assert_eq!(
            nut_to_hid(Some(&apc), "2009/05/16"),
            Some(f64::from(0x05_16_09_u32))
        );
        for bad in [
            "15",
            "2015/07",
            "2015-07-02",
            "",
            "x/1/2",
            "2015/13/01",
            "2108/01/01",
        ] {
            assert_eq!(nut_to_hid(Some(&date), bad), Some(0.0), "{bad:?}");
        }
        assert_eq!(nut_to_hid(Some(&apc), "2070/01/01"), Some(0.0));
        // %4ld reads at most four characters: the fifth digit ends the year, not a '/'.
        assert_eq!(nut_to_hid(Some(&date), "20151/07/02"), Some(0.0));
    }
}
