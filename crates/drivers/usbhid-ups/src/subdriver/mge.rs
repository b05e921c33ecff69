//! Eaton / MGE (0463) and the rebrands NUT's "MGE HID 1.46" drives: Dell (047c), Powerware
//! 9140 (0592:0004), HP R/T3000 (03f0:1fe5…1fe8), AEG PROTECT B / NAS (2b2d, and 06da when a
//! string says "AEG"), IBM (04b3:0001); also the Santak/Eaton rebrands on 0463:ffff.
//!
//! Besides the table, this subdriver is stateful, as in NUT:
//!
//! * the model family ([`ModelType`]), found from iProduct and iModel when the identity is
//!   formatted ([`format_model`]), decides which battery voltages, the ECO/master-slave
//!   settings and the settable nominal output voltages are published;
//! * `UPS.PowerSummary.Country` (read, never published) restricts the 200/208 V choice;
//! * Advanced Battery Monitoring: when the charger reports ABM enabled, CHRG/DISCHRG come from
//!   the charger mode and `battery.charger.status` is published; the plain Charging and
//!   Discharging bits are then only cleared. (As in NUT 2.8.0, a device that does not report
//!   ABM at all never raises CHRG/DISCHRG from them either.)
//! * `ups.realpower` is estimated from load, nominal power and power factor when the device
//!   does not report it.
//!
//! The engine keeps a [`MgeState`] per device and evaluates the [`MgeFun`] conversions with
//! it ([`convert`], [`reverse`]).

use std::collections::BTreeMap;

use crate::engine::Engine;
use crate::localtime::{LocalTime, civil_from_days, days_from_civil};
pub use crate::mapping::Outcome;
use crate::mapping::{Conversion, Function, HidInfo as H, Inputs, Target, tables};
use crate::status::{Bit, tables as st};
use nut_core::cnum::strtod;

/// Dell's vendor id: its iProduct is already the full model name.
pub const DELL_VENDORID: u16 = 0x047c;

const ONDELAY: &str = "30";
const OFFDELAY: &str = "20";

/// NUT's model families: the high byte is the family, the low byte a specific model.
/// Families below [`ModelType::DEFAULT`] are offline units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelType(pub u16);

impl ModelType {
    pub const DEFAULT_OFFLINE: ModelType = ModelType(0);
    /// Protection Station, Ellipse ECO: ECO control, master/slave outlet threshold.
    pub const PEGASUS: ModelType = ModelType(0x100);
    /// 3S 700/750. Its family byte is the Pegasus one, so NUT 2.8.0 (and we) treat it as a
    /// Pegasus everywhere (its intended "not in Europe" restriction never applies).
    pub const S3: ModelType = ModelType(0x110);
    /// Line-interactive and online models.
    pub const DEFAULT: ModelType = ModelType(0x200);
    pub const EVOLUTION: ModelType = ModelType(0x300);
    pub const EVOLUTION_650: ModelType = ModelType(0x301);
    pub const EVOLUTION_850: ModelType = ModelType(0x302);
    pub const EVOLUTION_1150: ModelType = ModelType(0x303);
    pub const EVOLUTION_S_1250: ModelType = ModelType(0x304);
    pub const EVOLUTION_1550: ModelType = ModelType(0x305);
    pub const EVOLUTION_S_1750: ModelType = ModelType(0x306);
    pub const EVOLUTION_2000: ModelType = ModelType(0x307);
    pub const EVOLUTION_S_2500: ModelType = ModelType(0x308);
    pub const EVOLUTION_S_3000: ModelType = ModelType(0x309);
    pub const PULSAR_M: ModelType = ModelType(0x400);
    pub const PULSAR_M_2200: ModelType = ModelType(0x401);
    pub const PULSAR_M_3000: ModelType = ModelType(0x402);
    pub const PULSAR_M_3000_XL: ModelType = ModelType(0x403);
    pub const EATON_5P: ModelType = ModelType(0x500);

    /// The family (model byte ignored).
    pub fn family(self) -> u16 {
        self.0 & 0xff00
    }
}

const FAMILY_PEGASUS: u16 = ModelType::PEGASUS.0;
const FAMILY_EVOLUTION: u16 = ModelType::EVOLUTION.0;
const FAMILY_PULSAR_M: u16 = ModelType::PULSAR_M.0;
const FAMILY_EATON_5P: u16 = ModelType::EATON_5P.0;

/// `UPS.PowerSummary.Country` values NUT distinguishes.
pub const COUNTRY_UNKNOWN: i64 = -1;
pub const COUNTRY_EUROPE: i64 = 0;
/// European models that also support 200/208 V.
pub const COUNTRY_EUROPE_208: i64 = 2;

/// Advanced Battery Monitoring as last reported (`UPS.BatterySystem.Charger.ABMEnable`).
pub const ABM_UNKNOWN: i64 = -1;
pub const ABM_DISABLED: i64 = 0;

/// What the subdriver remembers about one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MgeState {
    pub model: ModelType,
    pub country: i64,
    pub abm: i64,
    /// The first nominal output voltage read: decides LV/HV settable values.
    pub nominal_output: Option<i64>,
}

impl Default for MgeState {
    fn default() -> Self {
        MgeState {
            model: ModelType::DEFAULT,
            country: COUNTRY_UNKNOWN,
            abm: ABM_UNKNOWN,
            nominal_output: None,
        }
    }
}

/// The conversions of mge-hid (see [`convert`] for each one's rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MgeFun {
    /// Stores the country; publishes nothing.
    Country,
    /// Stores whether ABM is enabled; publishes nothing.
    AbmEnabled,
    /// `battery.charger.status` from the charger mode (deleted while ABM is disabled).
    AbmStatus,
    /// CHRG/DISCHRG status words from the charger mode while ABM is not disabled.
    AbmChrgDischrg,
    /// The Discharging bit, used only while ABM is disabled.
    AbmDischarging,
    /// The Charging bit, used only while ABM is disabled.
    AbmCharging,
    /// Unix time → `YYYY/MM/DD`.
    Date,
    /// Unix time → `HH:MM:SS`.
    Time,
    /// `battery.voltage.nominal` for Evolution (650: 12 V), Pulsar M and 5P only.
    BattVoltNominal,
    /// `battery.voltage` for Evolution, Pulsar M and 5P only.
    BattVolt,
    /// Percent → power factor `%.2f`.
    PowerFactor,
    /// Ampere-seconds → ampere-hours `%.2f`.
    BattCapacity,
    /// Outlet power threshold 10/25/60 VA, Pegasus family only.
    PegasusThreshold,
    /// yes/no, Pegasus family only (writable: "yes" → 1).
    PegasusYesNo,
    /// `ups.realpower` estimated as load × nominal power × power factor (0.8 by default).
    Realpower,
    /// Nominal output voltage restricted to what the model can be set to.
    NominalOutputVoltage,
    /// Converter in use → online, ignored while the UPS is off.
    ConverterOnline,
}

static PEGASUS_THRESHOLD: &[(i64, &str)] = &[(10, "10"), (25, "25"), (60, "60")];
static PEGASUS_YES_NO: &[(i64, &str)] = &[(0, "no"), (1, "yes")];
static NOMINAL_OUTPUT_VOLTAGE: &[(i64, &str)] = &[
    (200, "200"),
    (208, "208"),
    (220, "220"),
    (230, "230"),
    (240, "240"),
    (100, "100"),
    (110, "110"),
    (120, "120"),
    (127, "127"),
];

impl MgeFun {
    /// The (HID, NUT) values of a conversion that has them: its enumeration (each offered
    /// when [`convert`] accepts it) and what a SET without a reverse function looks up.
    pub fn table(self) -> Option<&'static [(i64, &'static str)]> {
        match self {
            MgeFun::PegasusThreshold => Some(PEGASUS_THRESHOLD),
            MgeFun::PegasusYesNo => Some(PEGASUS_YES_NO),
            MgeFun::NominalOutputVoltage => Some(NOMINAL_OUTPUT_VOLTAGE),
            _ => None,
        }
    }
}

fn is_pegasus(state: &MgeState) -> bool {
    // NUT tests the family byte: 3S (0x110) lands on the Pegasus case first.
    state.model.family() == FAMILY_PEGASUS
}

/// Unix seconds → (year, month, day, hour, minute, second) in local time (NUT's
/// `localtime_r`); `None` out of the range a 4-digit year can show.
fn split_time(value: f64, zone: &LocalTime) -> Option<(i64, i64, i64, i64, i64, i64)> {
    if !value.is_finite() || value.abs() > 1e15 {
        return None;
    }
    let secs = zone.to_wall(value.trunc() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    Some((y, m, d, rem / 3600, rem / 60 % 60, rem % 60))
}

/// Parses a local `YYYY/MM/DD HH:MM:SS` (fields may have fewer digits, as `strptime`
/// accepts) into Unix seconds (NUT's `mktime`, but with the zone deciding daylight-saving
/// time); 0 when it does not parse, as NUT's reverse conversion does.
fn parse_date_time(s: &str, zone: &LocalTime) -> f64 {
    // NUT builds the text in a 20-byte buffer: longer input is cut at 19 bytes.
    let s: String = s.chars().take(19).collect();
    let mut nums = Vec::new();
    let mut seps = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            cur.push(c);
        } else {
            if cur.is_empty() {
                return 0.0;
            }
            nums.push(cur.parse::<i64>().unwrap_or(-1));
            cur.clear();
            seps.push(c);
        }
    }
    if !cur.is_empty() {
        nums.push(cur.parse::<i64>().unwrap_or(-1));
    }
    if nums.len() != 6 || seps != ['/', '/', ' ', ':', ':'] {
        return 0.0;
    }
    // strptime reads at most 4 digits for the year and 2 for the other fields.
    let digits: Vec<usize> = s.split(['/', ' ', ':']).map(|field| field.len()).collect();
    if digits[0] > 4 || digits[1..].iter().any(|&n| n > 2) {
        return 0.0;
    }
    let (y, mo, d, h, mi, se) = (nums[0], nums[1], nums[2], nums[3], nums[4], nums[5]);
    if !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || !(0..=23).contains(&h)
        || !(0..=59).contains(&mi)
        || !(0..=61).contains(&se)
    {
        return 0.0;
    }
    zone.from_wall(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se) as f64
}

/// Evaluates a conversion with the device's state, its local time zone, the variables
/// published so far and the collected status bits (NUT's `*_fun`).
pub fn convert(
    fun: MgeFun,
    value: f64,
    state: &mut MgeState,
    zone: &LocalTime,
    inputs: &Inputs,
) -> Outcome {
    let (vars, status) = (inputs.vars, inputs.status);
    let set = Outcome::Set;
    match fun {
        MgeFun::Country => {
            state.country = value as i64;
            Outcome::Skip
        }
        MgeFun::AbmEnabled => {
            state.abm = value as i64;
            Outcome::Skip
        }
        MgeFun::AbmStatus => {
            if state.abm == ABM_DISABLED {
                return Outcome::Delete;
            }
            match value as i64 {
                1 => set("charging".into()),
                2 => set("discharging".into()),
                3 => set("floating".into()),
                4 => set("resting".into()),
                6 => set("off".into()),
                _ => Outcome::Skip,
            }
        }
        MgeFun::AbmChrgDischrg => {
            if state.abm == ABM_DISABLED {
                return Outcome::Skip;
            }
            match value as i64 {
                1 | 3 => set("chrg".into()),
                2 => set("dischrg".into()),
                _ => Outcome::Skip,
            }
        }
        MgeFun::AbmDischarging | MgeFun::AbmCharging => {
            let word = if fun == MgeFun::AbmCharging {
                "chrg"
            } else {
                "dischrg"
            };
            if state.abm == ABM_DISABLED && value == 1.0 {
                set(word.into())
            } else {
                set(format!("!{word}"))
            }
        }
        MgeFun::Date => match split_time(value, zone) {
            Some((y, m, d, ..)) if (1000..=9999).contains(&y) => {
                set(format!("{y:04}/{m:02}/{d:02}"))
            }
            _ => Outcome::Skip,
        },
        MgeFun::Time => match split_time(value, zone) {
            Some((.., h, mi, s)) => set(format!("{h:02}:{mi:02}:{s:02}")),
            None => Outcome::Skip,
        },
        MgeFun::BattVoltNominal => {
            let mut value = value;
            match state.model.family() {
                FAMILY_EVOLUTION => {
                    if state.model == ModelType::EVOLUTION_650 {
                        value = 12.0;
                    }
                }
                FAMILY_PULSAR_M | FAMILY_EATON_5P => {}
                _ => return Outcome::Skip,
            }
            set(format!("{value:.0}"))
        }
        MgeFun::BattVolt => match state.model.family() {
            FAMILY_EVOLUTION | FAMILY_PULSAR_M | FAMILY_EATON_5P => set(format!("{value:.1}")),
            _ => Outcome::Skip,
        },
        MgeFun::PowerFactor => set(format!("{:.2}", value / 100.0)),
        MgeFun::BattCapacity => set(format!("{:.2}", value / 3600.0)),
        MgeFun::PegasusThreshold => {
            if is_pegasus(state) {
                set(format!("{value:.0}"))
            } else {
                Outcome::Skip
            }
        }
        MgeFun::PegasusYesNo => {
            if !is_pegasus(state) {
                Outcome::Skip
            } else if value == 0.0 {
                set("no".into())
            } else {
                set("yes".into())
            }
        }
        MgeFun::Realpower => {
            let int = |name: &str| vars.get(name).map(|v| nut_core::cnum::strtol(v));
            let (Some(load), Some(nominal)) = (int("ups.load"), int("ups.power.nominal")) else {
                return Outcome::Skip;
            };
            // NUT 2.8.0 reads the power factor with atoi(), which makes "0.80" zero (and the
            // estimate 0 W); we read it as the decimal it is (docs/compatibility.md).
            let factor = vars
                .get("output.powerfactor")
                .map(|v| strtod(v))
                .unwrap_or(0.80);
            let real = (load as f64 * 0.01 * nominal as f64 * factor).round();
            set(format!("{real:.0}"))
        }
        MgeFun::NominalOutputVoltage => nominal_output_voltage(value, state),
        MgeFun::ConverterOnline => {
            if status.has(Bit::Off) {
                Outcome::Skip
            } else if value == 0.0 {
                set("!online".into())
            } else {
                set("online".into())
            }
        }
    }
}

fn nominal_output_voltage(value: f64, state: &mut MgeState) -> Outcome {
    let nominal = *state.nominal_output.get_or_insert(value as i64);
    let v = value as i64;
    let online_capable = state.model.family() >= ModelType::DEFAULT.0;
    let ok = match nominal {
        100 | 110 | 120 | 127 => matches!(v, 100 | 110 | 120 | 127),
        200 | 208 => match v {
            200 | 208 => true,
            220 | 230 | 240 => online_capable,
            _ => false,
        },
        220 | 230 | 240 => match v {
            // NUT's check of COUNTRY_EUROPE_208 here changes nothing: both ways accept.
            200 | 208 => online_capable,
            220 | 230 | 240 => true,
            _ => false,
        },
        // Unknown nominal: every value is offered.
        _ => true,
    };
    if ok {
        Outcome::Set(format!("{value:.0}"))
    } else {
        Outcome::Skip
    }
}

/// The HID value a SET writes (NUT's reverse functions, else the conversion's table); `None`
/// when the value has no HID equivalent. Dates and times are local (`zone`).
pub fn reverse(
    fun: MgeFun,
    value: &str,
    state: &MgeState,
    zone: &LocalTime,
    vars: &BTreeMap<String, String>,
) -> Option<f64> {
    match fun {
        MgeFun::Date => {
            let time = vars.get("ups.time").map(String::as_str).unwrap_or("(null)");
            Some(parse_date_time(&format!("{value} {time}"), zone))
        }
        MgeFun::Time => {
            let date = vars.get("ups.date").map(String::as_str).unwrap_or("(null)");
            Some(parse_date_time(&format!("{date} {value}"), zone))
        }
        MgeFun::PegasusYesNo => Some(if is_pegasus(state) && value.starts_with("yes") {
            1.0
        } else {
            0.0
        }),
        _ => fun
            .table()?
            .iter()
            .find(|(_, n)| *n == value)
            .map(|(h, _)| *h as f64),
    }
}

/// One row of NUT's model-name table: (iProduct, iModel, family, name or `None` for
/// "iProduct iModel").
type ModelName = (&'static str, &'static str, ModelType, Option<&'static str>);

static MODEL_NAMES: &[ModelName] = {
    use ModelType as T;
    &[
        // Ellipse
        ("ELLIPSE", "300", T::DEFAULT_OFFLINE, Some("ellipse 300")),
        ("ELLIPSE", "500", T::DEFAULT_OFFLINE, Some("ellipse 500")),
        ("ELLIPSE", "650", T::DEFAULT_OFFLINE, Some("ellipse 650")),
        ("ELLIPSE", "800", T::DEFAULT_OFFLINE, Some("ellipse 800")),
        ("ELLIPSE", "1200", T::DEFAULT_OFFLINE, Some("ellipse 1200")),
        // Ellipse Premium
        (
            "ellipse",
            "PR500",
            T::DEFAULT_OFFLINE,
            Some("ellipse premium 500"),
        ),
        (
            "ellipse",
            "PR650",
            T::DEFAULT_OFFLINE,
            Some("ellipse premium 650"),
        ),
        (
            "ellipse",
            "PR800",
            T::DEFAULT_OFFLINE,
            Some("ellipse premium 800"),
        ),
        (
            "ellipse",
            "PR1200",
            T::DEFAULT_OFFLINE,
            Some("ellipse premium 1200"),
        ),
        // Ellipse "Pro"
        ("ELLIPSE", "600", T::DEFAULT_OFFLINE, Some("Ellipse 600")),
        ("ELLIPSE", "750", T::DEFAULT_OFFLINE, Some("Ellipse 750")),
        ("ELLIPSE", "1000", T::DEFAULT_OFFLINE, Some("Ellipse 1000")),
        ("ELLIPSE", "1500", T::DEFAULT_OFFLINE, Some("Ellipse 1500")),
        // Ellipse MAX
        ("Ellipse MAX", "600", T::DEFAULT_OFFLINE, None),
        ("Ellipse MAX", "850", T::DEFAULT_OFFLINE, None),
        ("Ellipse MAX", "1100", T::DEFAULT_OFFLINE, None),
        ("Ellipse MAX", "1500", T::DEFAULT_OFFLINE, None),
        // Protection Center
        (
            "PROTECTIONCENTER",
            "420",
            T::DEFAULT_OFFLINE,
            Some("Protection Center 420"),
        ),
        (
            "PROTECTIONCENTER",
            "500",
            T::DEFAULT_OFFLINE,
            Some("Protection Center 500"),
        ),
        (
            "PROTECTIONCENTER",
            "675",
            T::DEFAULT_OFFLINE,
            Some("Protection Center 675"),
        ),
        // Protection Station and Ellipse ECO (ECO control)
        ("Protection Station", "500", T::PEGASUS, None),
        ("Protection Station", "650", T::PEGASUS, None),
        ("Protection Station", "800", T::PEGASUS, None),
        ("Ellipse ECO", "650", T::PEGASUS, None),
        ("Ellipse ECO", "800", T::PEGASUS, None),
        ("Ellipse ECO", "1200", T::PEGASUS, None),
        ("Ellipse ECO", "1600", T::PEGASUS, None),
        // 3S
        ("3S", "450", T::DEFAULT_OFFLINE, None),
        ("3S", "550", T::DEFAULT_OFFLINE, None),
        ("3S", "700", T::S3, None),
        ("3S", "750", T::S3, None),
        // Evolution
        ("Evolution", "500", T::DEFAULT, Some("Pulsar Evolution 500")),
        ("Evolution", "800", T::DEFAULT, Some("Pulsar Evolution 800")),
        (
            "Evolution",
            "1100",
            T::DEFAULT,
            Some("Pulsar Evolution 1100"),
        ),
        (
            "Evolution",
            "1500",
            T::DEFAULT,
            Some("Pulsar Evolution 1500"),
        ),
        (
            "Evolution",
            "2200",
            T::DEFAULT,
            Some("Pulsar Evolution 2200"),
        ),
        (
            "Evolution",
            "3000",
            T::DEFAULT,
            Some("Pulsar Evolution 3000"),
        ),
        (
            "Evolution",
            "3000XL",
            T::DEFAULT,
            Some("Pulsar Evolution 3000 XL"),
        ),
        // Newer Evolution
        ("Evolution", "650", T::EVOLUTION_650, None),
        ("Evolution", "850", T::EVOLUTION_850, None),
        ("Evolution", "1150", T::EVOLUTION_1150, None),
        ("Evolution", "S 1250", T::EVOLUTION_S_1250, None),
        ("Evolution", "1550", T::EVOLUTION_1550, None),
        ("Evolution", "S 1750", T::EVOLUTION_S_1750, None),
        ("Evolution", "2000", T::EVOLUTION_2000, None),
        ("Evolution", "S 2500", T::EVOLUTION_S_2500, None),
        ("Evolution", "S 3000", T::EVOLUTION_S_3000, None),
        // Eaton 5P
        ("Eaton 5P", "650", T::EATON_5P, Some("5P 650")),
        ("Eaton 5P", "850", T::EATON_5P, Some("5P 850")),
        ("Eaton 5P", "1150", T::EATON_5P, Some("5P 1150")),
        ("Eaton 5P", "1550", T::EATON_5P, Some("5P 1550")),
        // Pulsar M, and its Eaton names
        ("PULSAR M", "2200", T::PULSAR_M_2200, None),
        ("PULSAR M", "3000", T::PULSAR_M_3000, None),
        ("PULSAR M", "3000 XL", T::PULSAR_M_3000_XL, None),
        ("EX", "2200", T::PULSAR_M_2200, None),
        ("EX", "3000", T::PULSAR_M_3000, None),
        ("EX", "3000 XL", T::PULSAR_M_3000, None),
        // Pulsar MX
        ("PULSAR", "MX4000", T::DEFAULT, Some("Pulsar MX 4000 RT")),
        ("PULSAR", "MX5000", T::DEFAULT, Some("Pulsar MX 5000 RT")),
        // NOVA
        ("NOVA AVR", "500", T::DEFAULT, Some("Nova 500 AVR")),
        ("NOVA AVR", "600", T::DEFAULT, Some("Nova 600 AVR")),
        ("NOVA AVR", "625", T::DEFAULT, Some("Nova 625 AVR")),
        ("NOVA AVR", "1100", T::DEFAULT, Some("Nova 1100 AVR")),
        ("NOVA AVR", "1250", T::DEFAULT, Some("Nova 1250 AVR")),
        // EXtreme C (EMEA)
        ("EXtreme", "700C", T::DEFAULT, Some("Pulsar EXtreme 700C")),
        ("EXtreme", "1000C", T::DEFAULT, Some("Pulsar EXtreme 1000C")),
        ("EXtreme", "1500C", T::DEFAULT, Some("Pulsar EXtreme 1500C")),
        (
            "EXtreme",
            "1500CCLA",
            T::DEFAULT,
            Some("Pulsar EXtreme 1500C CLA"),
        ),
        ("EXtreme", "2200C", T::DEFAULT, Some("Pulsar EXtreme 2200C")),
        ("EXtreme", "3200C", T::DEFAULT, Some("Pulsar EXtreme 3200C")),
        // EXtreme C (USA, "EX RT")
        ("EX", "700RT", T::DEFAULT, Some("Pulsar EX 700 RT")),
        ("EX", "1000RT", T::DEFAULT, Some("Pulsar EX 1000 RT")),
        ("EX", "1500RT", T::DEFAULT, Some("Pulsar EX 1500 RT")),
        ("EX", "2200RT", T::DEFAULT, Some("Pulsar EX 2200 RT")),
        ("EX", "3200RT", T::DEFAULT, Some("Pulsar EX 3200 RT")),
        // Comet EX RT, three-phase input
        ("EX", "5RT31", T::DEFAULT, Some("EX 5 RT 3:1")),
        ("EX", "7RT31", T::DEFAULT, Some("EX 7 RT 3:1")),
        ("EX", "11RT31", T::DEFAULT, Some("EX 11 RT 3:1")),
        // Comet EX RT, single phase
        ("EX", "5RT", T::DEFAULT, Some("EX 5 RT")),
        ("EX", "7RT", T::DEFAULT, Some("EX 7 RT")),
        ("EX", "11RT", T::DEFAULT, Some("EX 11 RT")),
        // Galaxy 3000
        ("GALAXY", "3000_10", T::DEFAULT, Some("Galaxy 3000 10 kVA")),
        ("GALAXY", "3000_15", T::DEFAULT, Some("Galaxy 3000 15 kVA")),
        ("GALAXY", "3000_20", T::DEFAULT, Some("Galaxy 3000 20 kVA")),
        ("GALAXY", "3000_30", T::DEFAULT, Some("Galaxy 3000 30 kVA")),
    ]
};

/// NUT's `get_model_name`: the table's name for (iProduct, iModel), else "iProduct iModel";
/// a listed pair also sets the model family.
pub fn model_name(product: &str, model: &str, state: &mut MgeState) -> String {
    match MODEL_NAMES
        .iter()
        .find(|(p, m, ..)| *p == product && *m == model)
    {
        Some((_, _, family, name)) => {
            state.model = *family;
            match name {
                Some(n) => (*n).to_string(),
                None => format!("{product} {model}"),
            }
        }
        None => format!("{product} {model}"),
    }
}

/// The paths [`format_model`] reads.
pub const IDENTITY_PATHS: &[&str] = &[
    "UPS.PowerSummary.iModel",
    "UPS.Flow.[4].ConfigApparentPower",
];

/// `ups.model` (NUT's `mge_format_model`): Dell's iProduct as it is; otherwise iProduct
/// ("unknown" when absent) completed by the string `UPS.PowerSummary.iModel` points to, or
/// by the nominal power `UPS.Flow.[4].ConfigApparentPower` when there is no such string.
/// Reads the engine's filed reports and strings and sets its model family.
pub fn format_model(vendor_id: u16, product: Option<&str>, engine: &mut Engine) -> Option<String> {
    if vendor_id == DELL_VENDORID {
        return product.map(String::from);
    }
    let mut model = engine
        .item_value(IDENTITY_PATHS[0])
        // String 0 is the language list, never a text (libusb refuses it); out of range: none.
        .filter(|index| (1.0..=255.0).contains(index))
        .and_then(|index| engine.string(index as u8))
        // NUT trims trailing newlines off USB strings.
        .map(|s| s.trim_end_matches('\n').to_string())
        .unwrap_or_default();
    if model.is_empty()
        && let Some(power) = engine.item_value(IDENTITY_PATHS[1])
    {
        model = format!("{}", power as i32);
    }
    if model.is_empty() {
        return product.map(String::from);
    }
    let product = product.unwrap_or("unknown");
    Some(model_name(
        product,
        &model,
        &mut engine.device_state_mut().mge,
    ))
}

/// `ups.mfr`: the USB manufacturer string, else "Eaton".
pub fn format_mfr(vendor: Option<&str>) -> Option<String> {
    Some(vendor.unwrap_or("Eaton").to_string())
}

const fn mge(f: MgeFun) -> Conversion {
    Conversion::Fun(Function::Mge(f))
}

const fn status_fun(path: &'static str, f: MgeFun) -> H {
    let mut row = H::var_conv("BOOL", path, mge(f));
    row.target = Target::Status;
    row
}

/// A read-only string variable of at most `len` characters.
const fn string_len(mut row: H, len: usize) -> H {
    row.var_flags.string = Some(len);
    row
}

const fn alarm(path: &'static str, table: &'static [(i64, &'static str)]) -> H {
    let mut row = H::status(path, table);
    row.target = Target::Alarm;
    row
}

const STRING: Conversion = Conversion::Fun(Function::StringId);
const KELVIN: Conversion = Conversion::Fun(Function::KelvinCelsius);
const YES_NO: Conversion = Conversion::Lookup(tables::YES_NO);
const ON_OFF: Conversion = Conversion::Lookup(tables::ON_OFF);
const BEEPER: Conversion = Conversion::Lookup(tables::BEEPER);

static ENABLE_DISABLE: &[(i64, &str)] = &[(0, "disabled"), (1, "enabled")];
static UPS_TYPE: &[(i64, &str)] = &[
    (1, "offline / line interactive"),
    (2, "online"),
    (3, "online - unitary/parallel"),
    (4, "online - parallel with hot standy"),
    (5, "online - hot standby redundancy"),
];
static SENSITIVITY: &[(i64, &str)] = &[(0, "normal"), (1, "high"), (2, "low")];
static EMERGENCY_STOP: &[(i64, &str)] = &[(1, "Emergency stop!")];
static WIRING_FAULT: &[(i64, &str)] = &[(1, "Wiring fault!")];
static CONFIG_FAILURE: &[(i64, &str)] = &[(1, "Fatal EEPROM fault!")];
static INVERTER_VOLTHI: &[(i64, &str)] = &[(1, "Inverter AC voltage too high!")];
static INVERTER_VOLTLO: &[(i64, &str)] = &[(1, "Inverter AC voltage too low!")];
static SHORT_CIRCUIT: &[(i64, &str)] = &[(1, "Output short circuit!")];
/// Inverted online bit (a used battery input or a too-low input means on battery).
static ONBATT: &[(i64, &str)] = &[(1, "!online"), (0, "online")];

/// Rows in NUT's order: the first row whose path exists wins a variable.
pub const TABLE: &[H] = &[
    // Device: the country is read (static) only to restrict settings.
    string_len(
        H::var_conv(
            "device.country",
            "UPS.PowerSummary.Country",
            mge(MgeFun::Country),
        )
        .static_(),
        20,
    ),
    // Battery
    H::var(
        "battery.charge",
        "UPS.PowerSummary.RemainingCapacity",
        "%.0f",
    ),
    H::var(
        "battery.charge.low",
        "UPS.PowerSummary.RemainingCapacityLimitSetting",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    H::var(
        "battery.charge.low",
        "UPS.PowerSummary.RemainingCapacityLimit",
        "%.0f",
    )
    .static_(),
    H::var(
        "battery.charge.restart",
        "UPS.PowerSummary.RestartLevel",
        "%.0f",
    )
    .rw_string(3)
    .semi_static(),
    H::var_conv(
        "battery.capacity",
        "UPS.BatterySystem.Battery.DesignCapacity",
        mge(MgeFun::BattCapacity),
    )
    .static_(),
    H::var("battery.runtime", "UPS.PowerSummary.RunTimeToEmpty", "%.0f"),
    H::var(
        "battery.runtime.low",
        "UPS.PowerSummary.RemainingTimeLimit",
        "%.0f",
    )
    .rw_string(10),
    H::var(
        "battery.runtime.elapsed",
        "UPS.StatisticSystem.Input.[1].Statistic.[1].Time",
        "%.0f",
    )
    .quick(),
    H::var(
        "battery.runtime.low",
        "UPS.PowerSummary.RemainingTimeLimit",
        "%.0f",
    )
    .rw_string(10),
    H::var_conv(
        "battery.temperature",
        "UPS.BatterySystem.Battery.Temperature",
        KELVIN,
    ),
    H::var_conv("battery.type", "UPS.PowerSummary.iDeviceChemistry", STRING).static_(),
    H::var("battery.voltage", "UPS.BatterySystem.Voltage", "%.1f"),
    H::var_conv(
        "battery.voltage",
        "UPS.PowerSummary.Voltage",
        mge(MgeFun::BattVolt),
    ),
    H::var(
        "battery.voltage.nominal",
        "UPS.BatterySystem.ConfigVoltage",
        "%.0f",
    )
    .static_(),
    H::var_conv(
        "battery.voltage.nominal",
        "UPS.PowerSummary.ConfigVoltage",
        mge(MgeFun::BattVoltNominal),
    )
    .static_(),
    H::var_conv(
        "battery.protection",
        "UPS.BatterySystem.Battery.DeepDischargeProtection",
        YES_NO,
    )
    .rw_string(5)
    .semi_static(),
    H::var_conv(
        "battery.energysave",
        "UPS.PowerConverter.Input.[3].EnergySaving",
        YES_NO,
    )
    .rw_string(5)
    .semi_static(),
    H::var(
        "battery.energysave.load",
        "UPS.PowerConverter.Input.[3].ConfigPercentLoad",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    // Delay before the energy-saving shutdown: older and newer firmware paths.
    H::var(
        "battery.energysave.delay",
        "UPS.PowerConverter.Input.[3].EnergySaving.ShutdownTimer",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    H::var(
        "battery.energysave.delay",
        "UPS.PowerConverter.Input.[3].ShutdownTimer",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    H::var(
        "battery.energysave.realpower",
        "UPS.PowerConverter.Input.[3].ConfigActivePower",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    // ABM: read before the status rows; the first only stores whether ABM is enabled.
    H::var_conv(
        "battery.charger.status",
        "UPS.BatterySystem.Charger.ABMEnable",
        mge(MgeFun::AbmEnabled),
    )
    .quick(),
    H::var_conv(
        "battery.charger.status",
        "UPS.BatterySystem.Charger.Mode",
        mge(MgeFun::AbmStatus),
    )
    .quick(),
    // UPS
    H::var(
        "ups.efficiency",
        "UPS.PowerConverter.Output.Efficiency",
        "%.0f",
    ),
    H::var_conv("ups.firmware", "UPS.PowerSummary.iVersion", STRING).static_(),
    H::var("ups.load", "UPS.PowerSummary.PercentLoad", "%.0f"),
    H::var("ups.load.high", "UPS.Flow.[4].ConfigPercentLoad", "%.0f")
        .rw_string(5)
        .semi_static(),
    H::absent(
        "ups.delay.start",
        "UPS.PowerSummary.DelayBeforeStartup",
        ONDELAY,
    ),
    H::absent(
        "ups.delay.shutdown",
        "UPS.PowerSummary.DelayBeforeShutdown",
        OFFDELAY,
    ),
    H::var(
        "ups.timer.start",
        "UPS.PowerSummary.DelayBeforeStartup",
        "%.0f",
    )
    .quick(),
    H::var(
        "ups.timer.shutdown",
        "UPS.PowerSummary.DelayBeforeShutdown",
        "%.0f",
    )
    .quick(),
    H::var(
        "ups.timer.reboot",
        "UPS.PowerSummary.DelayBeforeReboot",
        "%.0f",
    )
    .quick(),
    H::var_conv(
        "ups.test.result",
        "UPS.BatterySystem.Battery.Test",
        Conversion::Lookup(tables::TEST_READ),
    ),
    H::var(
        "ups.test.interval",
        "UPS.BatterySystem.Battery.TestPeriod",
        "%.0f",
    )
    .rw_string(8)
    .semi_static(),
    // 3S and others keep the beeper under the battery: the first existing path wins.
    H::var_conv(
        "ups.beeper.status",
        "UPS.BatterySystem.Battery.AudibleAlarmControl",
        BEEPER,
    )
    .semi_static(),
    H::var_conv(
        "ups.beeper.status",
        "UPS.PowerSummary.AudibleAlarmControl",
        BEEPER,
    )
    .semi_static(),
    H::var_conv("ups.temperature", "UPS.PowerSummary.Temperature", KELVIN),
    H::var(
        "ups.power",
        "UPS.PowerConverter.Output.ApparentPower",
        "%.0f",
    ),
    H::var(
        "ups.L1.power",
        "UPS.PowerConverter.Output.Phase.[1].ApparentPower",
        "%.0f",
    ),
    H::var(
        "ups.L2.power",
        "UPS.PowerConverter.Output.Phase.[2].ApparentPower",
        "%.0f",
    ),
    H::var(
        "ups.L3.power",
        "UPS.PowerConverter.Output.Phase.[3].ApparentPower",
        "%.0f",
    ),
    H::var(
        "ups.power.nominal",
        "UPS.Flow.[4].ConfigApparentPower",
        "%.0f",
    )
    .static_(),
    H::var(
        "ups.realpower",
        "UPS.PowerConverter.Output.ActivePower",
        "%.0f",
    ),
    // Without a measured active power: an estimate, triggered by the nominal power's path.
    H::var_conv(
        "ups.realpower",
        "UPS.Flow.[4].ConfigApparentPower",
        mge(MgeFun::Realpower),
    ),
    H::var(
        "ups.L1.realpower",
        "UPS.PowerConverter.Output.Phase.[1].ActivePower",
        "%.0f",
    ),
    H::var(
        "ups.L2.realpower",
        "UPS.PowerConverter.Output.Phase.[2].ActivePower",
        "%.0f",
    ),
    H::var(
        "ups.L3.realpower",
        "UPS.PowerConverter.Output.Phase.[3].ActivePower",
        "%.0f",
    ),
    H::var(
        "ups.realpower.nominal",
        "UPS.Flow.[4].ConfigActivePower",
        "%.0f",
    )
    .static_(),
    H::var_conv(
        "ups.start.auto",
        "UPS.PowerConverter.Input.[1].AutomaticRestart",
        YES_NO,
    )
    .rw_string(5)
    .semi_static(),
    H::var_conv(
        "ups.start.battery",
        "UPS.PowerConverter.Input.[3].StartOnBattery",
        YES_NO,
    )
    .rw_string(5)
    .semi_static(),
    H::var_conv(
        "ups.start.reboot",
        "UPS.PowerConverter.Output.ForcedReboot",
        YES_NO,
    )
    .rw_string(5)
    .semi_static(),
    H::var_conv(
        "ups.shutdown",
        "UPS.PowerSummary.PresentStatus.Switchable",
        Conversion::Lookup(ENABLE_DISABLE),
    )
    .rw_string(10)
    .semi_static()
    .enumerated(),
    H::var_conv("ups.date", "UPS.PowerSummary.Time", mge(MgeFun::Date)).rw_string(10),
    H::var_conv("ups.time", "UPS.PowerSummary.Time", mge(MgeFun::Time)).rw_string(10),
    H::var_conv(
        "ups.type",
        "UPS.PowerConverter.ConverterType",
        Conversion::Lookup(UPS_TYPE),
    )
    .static_(),
    // Status bits
    H::status("UPS.PowerSummary.PresentStatus.ACPresent", st::ONLINE).quick(),
    H::status("UPS.PowerConverter.Input.[3].PresentStatus.Used", ONBATT),
    // Charging/Discharging count only while ABM is disabled…
    status_fun(
        "UPS.PowerSummary.PresentStatus.Discharging",
        MgeFun::AbmDischarging,
    )
    .quick(),
    status_fun(
        "UPS.PowerSummary.PresentStatus.Charging",
        MgeFun::AbmCharging,
    )
    .quick(),
    // …and the charger mode while it is not.
    status_fun("UPS.BatterySystem.Charger.Mode", MgeFun::AbmChrgDischrg).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit",
        st::LOWBATT,
    )
    .quick(),
    // Output overload, levels 1 to 3.
    H::status(
        "UPS.PowerConverter.Output.Overload.[1].PresentStatus.OverThreshold",
        st::OVERLOAD,
    ),
    H::status(
        "UPS.PowerConverter.Output.Overload.[2].PresentStatus.OverThreshold",
        st::OVERLOAD,
    ),
    H::status("UPS.PowerSummary.PresentStatus.Overload", st::OVERLOAD),
    H::status(
        "UPS.PowerSummary.PresentStatus.NeedReplacement",
        st::REPLACEBATT,
    ),
    H::status(
        "UPS.LCMSystem.LCMAlarm.[2].PresentStatus.TimerExpired",
        st::REPLACEBATT,
    ),
    H::status("UPS.PowerConverter.Input.[1].PresentStatus.Buck", st::TRIM),
    H::status(
        "UPS.PowerConverter.Input.[1].PresentStatus.Boost",
        st::BOOST,
    ),
    H::status(
        "UPS.PowerConverter.Input.[1].PresentStatus.VoltageOutOfRange",
        st::VRANGE,
    ),
    H::status(
        "UPS.PowerConverter.Input.[1].PresentStatus.FrequencyOutOfRange",
        st::FRANGE,
    ),
    H::status("UPS.PowerSummary.PresentStatus.Good", st::OFF),
    // Must follow PresentStatus.Good: ignored while the UPS is off.
    status_fun(
        "UPS.PowerConverter.Input.[1].PresentStatus.Used",
        MgeFun::ConverterOnline,
    ),
    H::status(
        "UPS.PowerConverter.Input.[2].PresentStatus.Used",
        st::BYPASS_AUTO,
    ),
    H::status(
        "UPS.PowerConverter.Input.[4].PresentStatus.Used",
        st::BYPASS_MANUAL,
    ),
    H::status("UPS.PowerSummary.PresentStatus.FanFailure", st::FANFAIL),
    H::status(
        "UPS.BatterySystem.Battery.PresentStatus.Present",
        st::NOBATTERY,
    ),
    H::status(
        "UPS.BatterySystem.Charger.PresentStatus.InternalFailure",
        st::CHARGERFAIL,
    ),
    H::status(
        "UPS.BatterySystem.Charger.PresentStatus.VoltageTooHigh",
        st::BATTVOLTHI,
    ),
    H::status(
        "UPS.PowerConverter.Input.[1].PresentStatus.VoltageTooHigh",
        st::BATTVOLTHI,
    ),
    H::status(
        "UPS.BatterySystem.Battery.PresentStatus.VoltageTooHigh",
        st::BATTVOLTHI,
    ),
    H::status(
        "UPS.BatterySystem.Charger.PresentStatus.VoltageTooLow",
        st::BATTVOLTLO,
    ),
    H::status(
        "UPS.PowerConverter.Input.[1].PresentStatus.VoltageTooLow",
        ONBATT,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.InternalFailure",
        st::COMMFAULT,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.OverTemperature",
        st::OVERHEAT,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.ShutdownImminent",
        st::SHUTDOWNIMM,
    ),
    // Vendor alarms
    alarm(
        "UPS.PowerSummary.PresentStatus.EmergencyStop",
        EMERGENCY_STOP,
    ),
    alarm(
        "UPS.PowerConverter.Input.[1].PresentStatus.WiringFault",
        WIRING_FAULT,
    ),
    alarm(
        "UPS.PowerSummary.PresentStatus.ConfigurationFailure",
        CONFIG_FAILURE,
    ),
    alarm(
        "UPS.PowerConverter.Inverter.PresentStatus.VoltageTooHigh",
        INVERTER_VOLTHI,
    ),
    alarm(
        "UPS.PowerConverter.Inverter.PresentStatus.VoltageTooLow",
        INVERTER_VOLTLO,
    ),
    alarm(
        "UPS.PowerConverter.Output.PresentStatus.ShortCircuit",
        SHORT_CIRCUIT,
    ),
    // Input
    H::var(
        "input.voltage",
        "UPS.PowerConverter.Input.[1].Voltage",
        "%.1f",
    ),
    H::var(
        "input.L1-N.voltage",
        "UPS.PowerConverter.Input.[1].Phase.[1].Voltage",
        "%.1f",
    ),
    H::var(
        "input.L2-N.voltage",
        "UPS.PowerConverter.Input.[1].Phase.[2].Voltage",
        "%.1f",
    ),
    H::var(
        "input.L3-N.voltage",
        "UPS.PowerConverter.Input.[1].Phase.[3].Voltage",
        "%.1f",
    ),
    H::var(
        "input.L1-L2.voltage",
        "UPS.PowerConverter.Input.[1].Phase.[12].Voltage",
        "%.1f",
    ),
    H::var(
        "input.L2-L3.voltage",
        "UPS.PowerConverter.Input.[1].Phase.[23].Voltage",
        "%.1f",
    ),
    H::var(
        "input.L3-L1.voltage",
        "UPS.PowerConverter.Input.[1].Phase.[31].Voltage",
        "%.1f",
    ),
    H::var(
        "input.voltage.nominal",
        "UPS.Flow.[1].ConfigVoltage",
        "%.0f",
    )
    .static_(),
    H::var(
        "input.current",
        "UPS.PowerConverter.Input.[1].Current",
        "%.2f",
    ),
    H::var(
        "input.L1.current",
        "UPS.PowerConverter.Input.[1].Phase.[1].Current",
        "%.1f",
    ),
    H::var(
        "input.L2.current",
        "UPS.PowerConverter.Input.[1].Phase.[2].Current",
        "%.1f",
    ),
    H::var(
        "input.L3.current",
        "UPS.PowerConverter.Input.[1].Phase.[3].Current",
        "%.1f",
    ),
    H::var(
        "input.current.nominal",
        "UPS.Flow.[1].ConfigCurrent",
        "%.2f",
    )
    .static_(),
    H::var(
        "input.frequency",
        "UPS.PowerConverter.Input.[1].Frequency",
        "%.1f",
    ),
    H::var(
        "input.frequency.nominal",
        "UPS.Flow.[1].ConfigFrequency",
        "%.0f",
    )
    .static_(),
    H::var(
        "input.transfer.low",
        "UPS.PowerConverter.Output.LowVoltageTransfer",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    H::var(
        "input.transfer.boost.low",
        "UPS.PowerConverter.Output.LowVoltageBoostTransfer",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    H::var(
        "input.transfer.boost.high",
        "UPS.PowerConverter.Output.HighVoltageBoostTransfer",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    H::var(
        "input.transfer.trim.low",
        "UPS.PowerConverter.Output.LowVoltageBuckTransfer",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    H::var(
        "input.transfer.high",
        "UPS.PowerConverter.Output.HighVoltageTransfer",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    H::var(
        "input.transfer.trim.high",
        "UPS.PowerConverter.Output.HighVoltageBuckTransfer",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    H::var_conv(
        "input.sensitivity",
        "UPS.PowerConverter.Output.SensitivityMode",
        Conversion::Lookup(SENSITIVITY),
    )
    .rw_string(10)
    .semi_static(),
    H::var_conv(
        "input.voltage.extended",
        "UPS.PowerConverter.Output.ExtendedVoltageMode",
        YES_NO,
    )
    .rw_string(5)
    .semi_static(),
    H::var_conv(
        "input.frequency.extended",
        "UPS.PowerConverter.Output.ExtendedFrequencyMode",
        YES_NO,
    )
    .rw_string(5)
    .semi_static(),
    // Bypass
    H::var(
        "input.bypass.voltage",
        "UPS.PowerConverter.Input.[2].Voltage",
        "%.1f",
    ),
    H::var(
        "input.bypass.L1-N.voltage",
        "UPS.PowerConverter.Input.[2].Phase.[1].Voltage",
        "%.1f",
    ),
    H::var(
        "input.bypass.L2-N.voltage",
        "UPS.PowerConverter.Input.[2].Phase.[2].Voltage",
        "%.1f",
    ),
    H::var(
        "input.bypass.L3-N.voltage",
        "UPS.PowerConverter.Input.[2].Phase.[3].Voltage",
        "%.1f",
    ),
    H::var(
        "input.bypass.L1-L2.voltage",
        "UPS.PowerConverter.Input.[2].Phase.[12].Voltage",
        "%.1f",
    ),
    H::var(
        "input.bypass.L2-L3.voltage",
        "UPS.PowerConverter.Input.[2].Phase.[23].Voltage",
        "%.1f",
    ),
    H::var(
        "input.bypass.L3-L1.voltage",
        "UPS.PowerConverter.Input.[2].Phase.[31].Voltage",
        "%.1f",
    ),
    H::var(
        "input.bypass.voltage.nominal",
        "UPS.Flow.[2].ConfigVoltage",
        "%.0f",
    )
    .static_(),
    H::var(
        "input.bypass.current",
        "UPS.PowerConverter.Input.[2].Current",
        "%.2f",
    ),
    H::var(
        "input.bypass.L1.current",
        "UPS.PowerConverter.Input.[2].Phase.[1].Current",
        "%.1f",
    ),
    H::var(
        "input.bypass.L2.current",
        "UPS.PowerConverter.Input.[2].Phase.[2].Current",
        "%.1f",
    ),
    H::var(
        "input.bypass.L3.current",
        "UPS.PowerConverter.Input.[2].Phase.[3].Current",
        "%.1f",
    ),
    H::var(
        "input.bypass.current.nominal",
        "UPS.Flow.[2].ConfigCurrent",
        "%.2f",
    )
    .static_(),
    H::var(
        "input.bypass.frequency",
        "UPS.PowerConverter.Input.[2].Frequency",
        "%.1f",
    ),
    H::var(
        "input.bypass.frequency.nominal",
        "UPS.Flow.[2].ConfigFrequency",
        "%.0f",
    )
    .static_(),
    // Output
    H::var(
        "output.voltage",
        "UPS.PowerConverter.Output.Voltage",
        "%.1f",
    ),
    H::var(
        "output.L1-N.voltage",
        "UPS.PowerConverter.Output.Phase.[1].Voltage",
        "%.1f",
    ),
    H::var(
        "output.L2-N.voltage",
        "UPS.PowerConverter.Output.Phase.[2].Voltage",
        "%.1f",
    ),
    H::var(
        "output.L3-N.voltage",
        "UPS.PowerConverter.Output.Phase.[3].Voltage",
        "%.1f",
    ),
    H::var(
        "output.L1-L2.voltage",
        "UPS.PowerConverter.Output.Phase.[12].Voltage",
        "%.1f",
    ),
    H::var(
        "output.L2-L3.voltage",
        "UPS.PowerConverter.Output.Phase.[23].Voltage",
        "%.1f",
    ),
    H::var(
        "output.L3-L1.voltage",
        "UPS.PowerConverter.Output.Phase.[31].Voltage",
        "%.1f",
    ),
    H::var_conv(
        "output.voltage.nominal",
        "UPS.Flow.[4].ConfigVoltage",
        mge(MgeFun::NominalOutputVoltage),
    )
    .rw_string(3)
    .semi_static()
    .enumerated(),
    H::var(
        "output.current",
        "UPS.PowerConverter.Output.Current",
        "%.2f",
    ),
    H::var(
        "output.L1.current",
        "UPS.PowerConverter.Output.Phase.[1].Current",
        "%.1f",
    ),
    H::var(
        "output.L2.current",
        "UPS.PowerConverter.Output.Phase.[2].Current",
        "%.1f",
    ),
    H::var(
        "output.L3.current",
        "UPS.PowerConverter.Output.Phase.[3].Current",
        "%.1f",
    ),
    H::var(
        "output.current.nominal",
        "UPS.Flow.[4].ConfigCurrent",
        "%.2f",
    ),
    H::var(
        "output.frequency",
        "UPS.PowerConverter.Output.Frequency",
        "%.1f",
    ),
    H::var(
        "output.frequency.nominal",
        "UPS.Flow.[4].ConfigFrequency",
        "%.0f",
    )
    .static_(),
    H::var_conv(
        "output.powerfactor",
        "UPS.PowerConverter.Output.PowerFactor",
        mge(MgeFun::PowerFactor),
    ),
    // Outlets (MGE PowerShare): the main outlet…
    H::var("outlet.id", "UPS.OutletSystem.Outlet.[1].OutletID", "%.0f").static_(),
    H::absent(
        "outlet.desc",
        "UPS.OutletSystem.Outlet.[1].OutletID",
        "Main Outlet",
    )
    .rw_string(20),
    H::var_conv(
        "outlet.switchable",
        "UPS.OutletSystem.Outlet.[1].PresentStatus.Switchable",
        YES_NO,
    )
    .static_(),
    // On Protection Station: the master outlet's consumption below which the slave outlets
    // are switched off (10, 25 or 60 VA).
    H::var_conv(
        "outlet.power",
        "UPS.OutletSystem.Outlet.[1].ConfigApparentPower",
        mge(MgeFun::PegasusThreshold),
    )
    .rw_string(6)
    .semi_static()
    .enumerated(),
    H::var(
        "outlet.power",
        "UPS.OutletSystem.Outlet.[1].ApparentPower",
        "%.0f",
    ),
    H::var(
        "outlet.realpower",
        "UPS.OutletSystem.Outlet.[1].ActivePower",
        "%.0f",
    ),
    H::var(
        "outlet.current",
        "UPS.OutletSystem.Outlet.[1].Current",
        "%.2f",
    ),
    H::var(
        "outlet.powerfactor",
        "UPS.OutletSystem.Outlet.[1].PowerFactor",
        "%.2f",
    ),
    // …the first PowerShare outlet…
    H::var(
        "outlet.1.id",
        "UPS.OutletSystem.Outlet.[2].OutletID",
        "%.0f",
    )
    .static_(),
    H::absent(
        "outlet.1.desc",
        "UPS.OutletSystem.Outlet.[2].OutletID",
        "PowerShare Outlet 1",
    )
    .rw_string(20),
    H::var_conv(
        "outlet.1.switchable",
        "UPS.OutletSystem.Outlet.[2].PresentStatus.Switchable",
        YES_NO,
    )
    .static_(),
    H::var_conv(
        "outlet.1.status",
        "UPS.OutletSystem.Outlet.[2].PresentStatus.SwitchOn/Off",
        ON_OFF,
    ),
    // Low-end models with one outlet that is not on battery: on while on line.
    H::var_conv(
        "outlet.1.status",
        "UPS.PowerSummary.PresentStatus.ACPresent",
        ON_OFF,
    ),
    H::var(
        "outlet.1.autoswitch.charge.low",
        "UPS.OutletSystem.Outlet.[2].RemainingCapacityLimit",
        "%.0f",
    )
    .rw_string(3)
    .semi_static(),
    H::var(
        "outlet.1.delay.shutdown",
        "UPS.OutletSystem.Outlet.[2].ShutdownTimer",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    H::var(
        "outlet.1.delay.start",
        "UPS.OutletSystem.Outlet.[2].StartupTimer",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    H::var(
        "outlet.1.power",
        "UPS.OutletSystem.Outlet.[2].ApparentPower",
        "%.0f",
    ),
    H::var(
        "outlet.1.realpower",
        "UPS.OutletSystem.Outlet.[2].ActivePower",
        "%.0f",
    ),
    H::var(
        "outlet.1.current",
        "UPS.OutletSystem.Outlet.[2].Current",
        "%.2f",
    ),
    H::var(
        "outlet.1.powerfactor",
        "UPS.OutletSystem.Outlet.[2].PowerFactor",
        "%.2f",
    ),
    // …and the second (its switchable flag is the Pegasus master/slave setting).
    H::var(
        "outlet.2.id",
        "UPS.OutletSystem.Outlet.[3].OutletID",
        "%.0f",
    )
    .static_(),
    H::absent(
        "outlet.2.desc",
        "UPS.OutletSystem.Outlet.[3].OutletID",
        "PowerShare Outlet 2",
    )
    .rw_string(20),
    H::var_conv(
        "outlet.2.switchable",
        "UPS.OutletSystem.Outlet.[3].PresentStatus.Switchable",
        mge(MgeFun::PegasusYesNo),
    )
    .rw_string(3)
    .semi_static(),
    H::var_conv(
        "outlet.2.switchable",
        "UPS.OutletSystem.Outlet.[3].PresentStatus.Switchable",
        YES_NO,
    ),
    H::var_conv(
        "outlet.2.status",
        "UPS.OutletSystem.Outlet.[3].PresentStatus.SwitchOn/Off",
        ON_OFF,
    ),
    H::var(
        "outlet.2.autoswitch.charge.low",
        "UPS.OutletSystem.Outlet.[3].RemainingCapacityLimit",
        "%.0f",
    )
    .rw_string(3)
    .semi_static(),
    H::var(
        "outlet.2.delay.shutdown",
        "UPS.OutletSystem.Outlet.[3].ShutdownTimer",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    H::var(
        "outlet.2.delay.start",
        "UPS.OutletSystem.Outlet.[3].StartupTimer",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    H::var(
        "outlet.2.power",
        "UPS.OutletSystem.Outlet.[3].ApparentPower",
        "%.0f",
    ),
    H::var(
        "outlet.2.realpower",
        "UPS.OutletSystem.Outlet.[3].ActivePower",
        "%.0f",
    ),
    H::var(
        "outlet.2.current",
        "UPS.OutletSystem.Outlet.[3].Current",
        "%.2f",
    ),
    H::var(
        "outlet.2.powerfactor",
        "UPS.OutletSystem.Outlet.[3].PowerFactor",
        "%.2f",
    ),
    // Instant commands
    H::command(
        "test.battery.start.quick",
        "UPS.BatterySystem.Battery.Test",
        "1",
    ),
    H::command(
        "test.battery.start.deep",
        "UPS.BatterySystem.Battery.Test",
        "2",
    ),
    H::command("test.battery.stop", "UPS.BatterySystem.Battery.Test", "3"),
    H::command(
        "load.off.delay",
        "UPS.PowerSummary.DelayBeforeShutdown",
        OFFDELAY,
    ),
    H::command(
        "load.on.delay",
        "UPS.PowerSummary.DelayBeforeStartup",
        ONDELAY,
    ),
    H::command(
        "shutdown.stop",
        "UPS.PowerSummary.DelayBeforeShutdown",
        "-1",
    ),
    H::command(
        "shutdown.reboot",
        "UPS.PowerSummary.DelayBeforeReboot",
        "10",
    ),
    H::command("beeper.off", "UPS.PowerSummary.AudibleAlarmControl", "1"),
    H::command("beeper.on", "UPS.PowerSummary.AudibleAlarmControl", "2"),
    // 3S and others: the battery's beeper path first.
    H::command(
        "beeper.mute",
        "UPS.BatterySystem.Battery.AudibleAlarmControl",
        "3",
    ),
    H::command("beeper.mute", "UPS.PowerSummary.AudibleAlarmControl", "3"),
    H::command(
        "beeper.disable",
        "UPS.BatterySystem.Battery.AudibleAlarmControl",
        "1",
    ),
    H::command(
        "beeper.disable",
        "UPS.PowerSummary.AudibleAlarmControl",
        "1",
    ),
    H::command(
        "beeper.enable",
        "UPS.BatterySystem.Battery.AudibleAlarmControl",
        "2",
    ),
    H::command("beeper.enable", "UPS.PowerSummary.AudibleAlarmControl", "2"),
    // Outlet commands
    H::command(
        "outlet.1.load.off",
        "UPS.OutletSystem.Outlet.[2].DelayBeforeShutdown",
        "0",
    ),
    H::command(
        "outlet.1.load.on",
        "UPS.OutletSystem.Outlet.[2].DelayBeforeStartup",
        "0",
    ),
    H::command(
        "outlet.2.load.off",
        "UPS.OutletSystem.Outlet.[3].DelayBeforeShutdown",
        "0",
    ),
    H::command(
        "outlet.2.load.on",
        "UPS.OutletSystem.Outlet.[3].DelayBeforeStartup",
        "0",
    ),
];
crate::pooled_table!(TABLE);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;

    fn run(fun: MgeFun, value: f64, state: &mut MgeState) -> Outcome {
        convert(fun, value, state, &LocalTime::utc(), &Inputs::default())
    }

    fn back(
        fun: MgeFun,
        value: &str,
        state: &MgeState,
        vars: &BTreeMap<String, String>,
    ) -> Option<f64> {
        reverse(fun, value, state, &LocalTime::utc(), vars)
    }

    fn run_with(
        fun: MgeFun,
        value: f64,
        state: &mut MgeState,
        vars: &BTreeMap<String, String>,
        status: Status,
    ) -> Outcome {
        let inputs = Inputs {
            vars,
            status,
            ..Inputs::default()
        };
        convert(fun, value, state, &LocalTime::utc(), &inputs)
    }

    fn with_model(model: ModelType) -> MgeState {
        MgeState {
            model,
            ..MgeState::default()
        }
    }

    #[test]
    fn country_and_abm_enable_are_stored_not_published() {
        let mut s = MgeState::default();
        assert_eq!(run(MgeFun::Country, 2.0, &mut s), Outcome::Skip);
        assert_eq!(s.country, COUNTRY_EUROPE_208);
        assert_eq!(run(MgeFun::AbmEnabled, 1.0, &mut s), Outcome::Skip);
        assert_eq!(s.abm, 1);
    }

    #[test]
    fn abm_status_and_bits_follow_the_abm_state() {
        let mut s = MgeState::default();
        let set = |t: &str| Outcome::Set(t.to_string());
        // ABM unknown (not reported): the plain bits are only ever cleared.
        assert_eq!(run(MgeFun::AbmCharging, 1.0, &mut s), set("!chrg"));
        assert_eq!(run(MgeFun::AbmDischarging, 1.0, &mut s), set("!dischrg"));
        assert_eq!(run(MgeFun::AbmStatus, 3.0, &mut s), set("floating"));
        // ABM disabled: the plain bits count, the charger status is deleted.
        s.abm = ABM_DISABLED;
        assert_eq!(run(MgeFun::AbmCharging, 1.0, &mut s), set("chrg"));
        assert_eq!(run(MgeFun::AbmCharging, 0.0, &mut s), set("!chrg"));
        assert_eq!(run(MgeFun::AbmDischarging, 1.0, &mut s), set("dischrg"));
        assert_eq!(run(MgeFun::AbmStatus, 1.0, &mut s), Outcome::Delete);
        assert_eq!(run(MgeFun::AbmChrgDischrg, 1.0, &mut s), Outcome::Skip);
        // ABM enabled: the charger mode decides.
        s.abm = 1;
        for (mode, status, bit) in [
            (1.0, Some("charging"), Some("chrg")),
            (2.0, Some("discharging"), Some("dischrg")),
            (3.0, Some("floating"), Some("chrg")),
            (4.0, Some("resting"), None),
            (5.0, None, None),
            (6.0, Some("off"), None),
            (7.0, None, None),
        ] {
            assert_eq!(
                run(MgeFun::AbmStatus, mode, &mut s)
                    .into_option()
                    .as_deref(),
                status
            );
            assert_eq!(
                run(MgeFun::AbmChrgDischrg, mode, &mut s)
                    .into_option()
                    .as_deref(),
                bit
            );
        }
        assert_eq!(run(MgeFun::AbmCharging, 1.0, &mut s), set("!chrg"));
    }

    #[test]
    fn date_and_time_split_unix_time() {
        let mut s = MgeState::default();
        // 2021-03-04 05:06:07 UTC
        let t = 1_614_834_367.0;
        assert_eq!(
            run(MgeFun::Date, t, &mut s),
            Outcome::Set("2021/03/04".into())
        );
        assert_eq!(
            run(MgeFun::Time, t, &mut s),
            Outcome::Set("05:06:07".into())
        );
        assert_eq!(
            run(MgeFun::Date, 0.0, &mut s),
            Outcome::Set("1970/01/01".into())
        );
        assert_eq!(run(MgeFun::Date, 1e13, &mut s), Outcome::Skip);
        // strftime's "%Y/%m/%d" must give 10 characters: years before 1000 do not.
        assert_eq!(run(MgeFun::Date, -31_000_000_000.0, &mut s), Outcome::Skip);
        assert_eq!(
            run(MgeFun::Time, -31_000_000_000.0, &mut s),
            Outcome::Set("16:53:20".into())
        );
        assert_eq!(run(MgeFun::Date, f64::NAN, &mut s), Outcome::Skip);
        let mut vars = BTreeMap::new();
        vars.insert("ups.time".to_string(), "05:06:07".to_string());
        vars.insert("ups.date".to_string(), "2021/03/04".to_string());
        assert_eq!(back(MgeFun::Date, "2021/03/04", &s, &vars), Some(t));
        assert_eq!(back(MgeFun::Time, "5:6:7", &s, &vars), Some(t));
        assert_eq!(back(MgeFun::Date, "garbage", &s, &vars), Some(0.0));
        assert_eq!(back(MgeFun::Time, "25:00:00", &s, &vars), Some(0.0));
        // Oversized fields are refused (and cannot overflow the arithmetic).
        assert_eq!(
            back(MgeFun::Date, "99999999999/01/01", &s, &vars),
            Some(0.0)
        );
        assert_eq!(back(MgeFun::Time, "005:06:07", &s, &vars), Some(0.0));
        // Without ups.time NUT builds "(null)": nothing parses.
        assert_eq!(
            back(MgeFun::Date, "2021/03/04", &s, &BTreeMap::new()),
            Some(0.0)
        );
    }

    #[test]
    fn battery_voltages_only_for_families_that_report_them() {
        let set = |t: &str| Outcome::Set(t.to_string());
        let mut s = MgeState::default();
        assert_eq!(run(MgeFun::BattVolt, 27.3, &mut s), Outcome::Skip);
        assert_eq!(run(MgeFun::BattVoltNominal, 24.0, &mut s), Outcome::Skip);
        for m in [
            ModelType::EVOLUTION_850,
            ModelType::PULSAR_M_3000,
            ModelType::EATON_5P,
        ] {
            let mut s = with_model(m);
            assert_eq!(run(MgeFun::BattVolt, 27.34, &mut s), set("27.3"));
            assert_eq!(run(MgeFun::BattVoltNominal, 24.0, &mut s), set("24"));
        }
        let mut s = with_model(ModelType::EVOLUTION_650);
        assert_eq!(run(MgeFun::BattVoltNominal, 24.0, &mut s), set("12"));
    }

    #[test]
    fn power_factor_and_capacity_scale() {
        let mut s = MgeState::default();
        assert_eq!(
            run(MgeFun::PowerFactor, 90.0, &mut s),
            Outcome::Set("0.90".into())
        );
        assert_eq!(
            run(MgeFun::BattCapacity, 32400.0, &mut s),
            Outcome::Set("9.00".into())
        );
    }

    #[test]
    fn pegasus_settings_only_on_pegasus_and_3s() {
        let mut s = MgeState::default();
        assert_eq!(run(MgeFun::PegasusThreshold, 25.0, &mut s), Outcome::Skip);
        assert_eq!(run(MgeFun::PegasusYesNo, 1.0, &mut s), Outcome::Skip);
        assert_eq!(
            back(MgeFun::PegasusYesNo, "yes", &s, &BTreeMap::new()),
            Some(0.0)
        );
        for m in [ModelType::PEGASUS, ModelType::S3] {
            let mut s = with_model(m);
            s.country = COUNTRY_EUROPE;
            assert_eq!(
                run(MgeFun::PegasusThreshold, 25.0, &mut s),
                Outcome::Set("25".into())
            );
            assert_eq!(
                run(MgeFun::PegasusYesNo, 0.0, &mut s),
                Outcome::Set("no".into())
            );
            assert_eq!(
                run(MgeFun::PegasusYesNo, 1.0, &mut s),
                Outcome::Set("yes".into())
            );
            assert_eq!(
                back(MgeFun::PegasusYesNo, "yes", &s, &BTreeMap::new()),
                Some(1.0)
            );
            assert_eq!(
                back(MgeFun::PegasusYesNo, "no", &s, &BTreeMap::new()),
                Some(0.0)
            );
            assert_eq!(
                back(MgeFun::PegasusThreshold, "60", &s, &BTreeMap::new()),
                Some(60.0)
            );
            assert_eq!(
                back(MgeFun::PegasusThreshold, "61", &s, &BTreeMap::new()),
                None
            );
        }
    }

    #[test]
    fn realpower_estimate() {
        let mut s = MgeState::default();
        let mut vars = BTreeMap::new();
        let mut est = |vars: &BTreeMap<String, String>| {
            run_with(MgeFun::Realpower, 0.0, &mut s, vars, Status::default())
        };
        assert_eq!(est(&vars), Outcome::Skip);
        vars.insert("ups.load".to_string(), "7".to_string());
        assert_eq!(est(&vars), Outcome::Skip);
        vars.insert("ups.power.nominal".to_string(), "700".to_string());
        // 7 % of 700 VA at the default 0.8: 39.2 W.
        assert_eq!(est(&vars), Outcome::Set("39".into()));
        vars.insert("output.powerfactor".to_string(), "0.90".to_string());
        assert_eq!(est(&vars), Outcome::Set("44".into()));
    }

    #[test]
    fn nominal_output_voltage_depends_on_the_first_nominal_and_the_family() {
        let check = |model: ModelType, first: f64, offered: &[i64]| {
            let mut s = with_model(model);
            assert!(matches!(
                run(MgeFun::NominalOutputVoltage, first, &mut s),
                Outcome::Set(_)
            ));
            let got: Vec<i64> = NOMINAL_OUTPUT_VOLTAGE
                .iter()
                .filter(|(h, _)| {
                    run(MgeFun::NominalOutputVoltage, *h as f64, &mut s) != Outcome::Skip
                })
                .map(|(h, _)| *h)
                .collect();
            assert_eq!(got, offered, "{model:?} {first}");
        };
        check(ModelType::DEFAULT, 230.0, &[200, 208, 220, 230, 240]);
        check(ModelType::DEFAULT_OFFLINE, 230.0, &[220, 230, 240]);
        check(ModelType::DEFAULT, 208.0, &[200, 208, 220, 230, 240]);
        check(ModelType::DEFAULT_OFFLINE, 208.0, &[200, 208]);
        check(ModelType::DEFAULT, 120.0, &[100, 110, 120, 127]);
        check(
            ModelType::DEFAULT,
            150.0,
            &[200, 208, 220, 230, 240, 100, 110, 120, 127],
        );
    }

    #[test]
    fn converter_online_ignored_while_off() {
        let mut s = MgeState::default();
        let mut status = Status::default();
        let vars = BTreeMap::new();
        assert_eq!(
            run_with(MgeFun::ConverterOnline, 1.0, &mut s, &vars, status),
            Outcome::Set("online".into())
        );
        assert_eq!(
            run_with(MgeFun::ConverterOnline, 0.0, &mut s, &vars, status),
            Outcome::Set("!online".into())
        );
        status.set(Bit::Off, true);
        assert_eq!(
            run_with(MgeFun::ConverterOnline, 1.0, &mut s, &vars, status),
            Outcome::Skip
        );
    }

    #[test]
    fn model_names_and_families() {
        let mut s = MgeState::default();
        assert_eq!(model_name("ELLIPSE", "650", &mut s), "ellipse 650");
        assert_eq!(s.model, ModelType::DEFAULT_OFFLINE);
        assert_eq!(
            model_name("Evolution", "S 1750", &mut s),
            "Evolution S 1750"
        );
        assert_eq!(s.model, ModelType::EVOLUTION_S_1750);
        assert_eq!(model_name("Eaton 5P", "1550", &mut s), "5P 1550");
        assert_eq!(s.model, ModelType::EATON_5P);
        assert_eq!(model_name("3S", "700", &mut s), "3S 700");
        assert_eq!(s.model, ModelType::S3);
        // Not listed: concatenated, family unchanged.
        assert_eq!(
            model_name("Eaton 3S 550", "700", &mut s),
            "Eaton 3S 550 700"
        );
        assert_eq!(s.model, ModelType::S3);
        // Exact, case-sensitive match.
        assert_eq!(model_name("ellipse", "650", &mut s), "ellipse 650");
        assert_eq!(model_name("ELLIPSE", "PR650", &mut s), "ELLIPSE PR650");
    }

    /// Every path of the table parses with the mge names, each node a known name or an index
    /// (a misspelt name made only of hex digits would otherwise pass as a raw usage).
    #[test]
    fn every_table_path_parses_with_mge_names() {
        use crate::subdriver::names_mge::USAGES;
        use crate::usage::{string_to_path, usage_name};
        for row in TABLE {
            let path = string_to_path(row.path, USAGES)
                .unwrap_or_else(|| panic!("{} does not parse", row.path));
            assert_eq!(path.len(), row.path.split('.').count(), "{}", row.path);
            for node in path {
                assert!(
                    node & 0xffff_0000 == 0x00ff_0000 || usage_name(node, USAGES).is_some(),
                    "{}: {node:08x} has no name",
                    row.path
                );
            }
        }
    }

    /// Every conversion function the table uses has a case here, run through the stateless
    /// path (a fresh device's state), with its expected text.
    #[test]
    fn every_function_used_has_a_case() {
        use crate::mapping::hid_to_nut;
        let strings = |i: u8| (i == 5).then(|| "PbAc".to_string());
        let cases: &[(Function, f64, Option<&str>)] = &[
            (Function::StringId, 5.0, Some("PbAc")),
            (Function::KelvinCelsius, 300.0, Some("26.9")),
            (Function::Mge(MgeFun::Country), 0.0, None),
            (Function::Mge(MgeFun::AbmEnabled), 1.0, None),
            (Function::Mge(MgeFun::AbmStatus), 1.0, Some("charging")),
            (Function::Mge(MgeFun::AbmChrgDischrg), 2.0, Some("dischrg")),
            (Function::Mge(MgeFun::AbmDischarging), 1.0, Some("!dischrg")),
            (Function::Mge(MgeFun::AbmCharging), 1.0, Some("!chrg")),
            (Function::Mge(MgeFun::Date), 86_400.0, Some("1970/01/02")),
            (Function::Mge(MgeFun::Time), 3_661.0, Some("01:01:01")),
            (Function::Mge(MgeFun::BattVoltNominal), 24.0, None),
            (Function::Mge(MgeFun::BattVolt), 27.0, None),
            (Function::Mge(MgeFun::PowerFactor), 80.0, Some("0.80")),
            (Function::Mge(MgeFun::BattCapacity), 7200.0, Some("2.00")),
            (Function::Mge(MgeFun::PegasusThreshold), 25.0, None),
            (Function::Mge(MgeFun::PegasusYesNo), 1.0, None),
            (Function::Mge(MgeFun::Realpower), 700.0, None),
            (
                Function::Mge(MgeFun::NominalOutputVoltage),
                230.0,
                Some("230"),
            ),
            (Function::Mge(MgeFun::ConverterOnline), 1.0, Some("online")),
        ];
        for row in TABLE {
            if let Some(Conversion::Fun(f)) = row.conversion {
                assert!(
                    cases.iter().any(|(c, ..)| *c == f),
                    "{}: {f:?} has no case",
                    row.path
                );
            }
        }
        for (f, value, want) in cases {
            let got = hid_to_nut(&Conversion::Fun(*f), *value, &strings);
            assert_eq!(got.as_deref(), *want, "{f:?}");
        }
    }

    #[test]
    fn mfr_defaults_to_eaton() {
        assert_eq!(format_mfr(None).as_deref(), Some("Eaton"));
        assert_eq!(
            format_mfr(Some("MGE UPS SYSTEMS")).as_deref(),
            Some("MGE UPS SYSTEMS")
        );
    }
}
