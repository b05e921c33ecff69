//! Status collection: the subdriver tables' status rows set or clear internal bits; the bits
//! become `ups.status` (in NUT's order), `ups.alarm` and `input.transfer.reason`.

/// Internal status bits, as collected from the device (not yet NUT status words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bit {
    Online,
    Dischrg,
    Chrg,
    LowBatt,
    Overload,
    ReplaceBatt,
    ShutdownImm,
    Trim,
    Boost,
    BypassAuto,
    BypassMan,
    Off,
    Cal,
    Overheat,
    CommFault,
    Depleted,
    TimeLimitExp,
    FullyCharged,
    AwaitingPower,
    FanFail,
    NoBattery,
    BattVoltLo,
    BattVoltHi,
    ChargerFail,
    VRange,
    FRange,
}

const NAMES: &[(&str, Bit)] = &[
    ("online", Bit::Online),
    ("dischrg", Bit::Dischrg),
    ("chrg", Bit::Chrg),
    ("lowbatt", Bit::LowBatt),
    ("overload", Bit::Overload),
    ("replacebatt", Bit::ReplaceBatt),
    ("shutdownimm", Bit::ShutdownImm),
    ("trim", Bit::Trim),
    ("boost", Bit::Boost),
    ("bypassauto", Bit::BypassAuto),
    ("bypassman", Bit::BypassMan),
    ("off", Bit::Off),
    ("cal", Bit::Cal),
    ("overheat", Bit::Overheat),
    ("commfault", Bit::CommFault),
    ("depleted", Bit::Depleted),
    ("timelimitexp", Bit::TimeLimitExp),
    ("fullycharged", Bit::FullyCharged),
    ("awaitingpower", Bit::AwaitingPower),
    ("fanfail", Bit::FanFail),
    ("nobattery", Bit::NoBattery),
    ("battvoltlo", Bit::BattVoltLo),
    ("battvolthi", Bit::BattVoltHi),
    ("chargerfail", Bit::ChargerFail),
    ("vrange", Bit::VRange),
    ("frange", Bit::FRange),
];

/// The collected bits. Starts empty (so a device that reports nothing is `OB`, as in NUT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Status(u32);

fn mask(bit: Bit) -> u32 {
    1 << (bit as u32)
}

impl Status {
    pub fn has(self, bit: Bit) -> bool {
        self.0 & mask(bit) != 0
    }

    pub fn set(&mut self, bit: Bit, on: bool) {
        if on {
            self.0 |= mask(bit);
        } else {
            self.0 &= !mask(bit);
        }
    }

    /// Applies a status word of a lookup table: `name` sets, `!name` clears (case-insensitive).
    /// Unknown words are ignored (NUT logs them). Returns whether the word was known.
    pub fn apply(&mut self, word: &str) -> bool {
        let (clear, name) = match word.strip_prefix('!') {
            Some(n) => (true, n),
            None => (false, word),
        };
        match NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some((_, bit)) => {
                self.set(*bit, !clear);
                true
            }
            None => false,
        }
    }

    /// `ups.status` words in NUT's order. `onlinedischarge`: OL+DISCHRG means on battery.
    pub fn words(self, onlinedischarge: bool) -> Vec<&'static str> {
        let mut w = Vec::new();
        if !self.has(Bit::Online) || (self.has(Bit::Dischrg) && onlinedischarge) {
            w.push("OB");
        } else {
            w.push("OL");
        }
        if self.has(Bit::Dischrg) && !self.has(Bit::Depleted) {
            w.push("DISCHRG");
        }
        if self.has(Bit::Chrg) && !self.has(Bit::FullyCharged) {
            w.push("CHRG");
        }
        if self.has(Bit::LowBatt) || self.has(Bit::TimeLimitExp) || self.has(Bit::ShutdownImm) {
            w.push("LB");
        }
        for (bit, word) in [
            (Bit::Overload, "OVER"),
            (Bit::ReplaceBatt, "RB"),
            (Bit::Trim, "TRIM"),
            (Bit::Boost, "BOOST"),
        ] {
            if self.has(bit) {
                w.push(word);
            }
        }
        if self.has(Bit::BypassAuto) || self.has(Bit::BypassMan) {
            w.push("BYPASS");
        }
        if self.has(Bit::Off) {
            w.push("OFF");
        }
        if self.has(Bit::Cal) {
            w.push("CAL");
        }
        w
    }

    /// True in the OL+DISCHRG state NUT warns about (not calibrating, `onlinedischarge` unset).
    pub fn online_discharging_unexplained(self, onlinedischarge: bool) -> bool {
        self.has(Bit::Online) && self.has(Bit::Dischrg) && !onlinedischarge && !self.has(Bit::Cal)
    }

    /// The alarm texts the bits raise, in NUT's order.
    pub fn alarms(self) -> Vec<&'static str> {
        [
            (Bit::ReplaceBatt, "Replace battery!"),
            (Bit::ShutdownImm, "Shutdown imminent!"),
            (Bit::FanFail, "Fan failure!"),
            (Bit::NoBattery, "No battery installed!"),
            (Bit::BattVoltLo, "Battery voltage too low!"),
            (Bit::BattVoltHi, "Battery voltage too high!"),
            (Bit::ChargerFail, "Battery charger fail!"),
            (Bit::Overheat, "Temperature too high!"),
            (Bit::CommFault, "Internal UPS fault!"),
            (Bit::AwaitingPower, "Awaiting power!"),
            (Bit::BypassAuto, "Automatic bypass mode!"),
            (Bit::BypassMan, "Manual bypass mode!"),
        ]
        .into_iter()
        .filter(|(b, _)| self.has(*b))
        .map(|(_, t)| t)
        .collect()
    }

    /// `input.transfer.reason`, or `None` (the variable is deleted).
    pub fn transfer_reason(self) -> Option<&'static str> {
        if self.has(Bit::VRange) {
            Some("input voltage out of range")
        } else if self.has(Bit::FRange) {
            Some("input frequency out of range")
        } else {
            None
        }
    }
}

/// The status lookup tables of the generic driver: HID value → status word.
pub mod tables {
    macro_rules! flag {
        ($name:ident, $word:literal) => {
            pub static $name: &[(i64, &str)] = &[(1, $word), (0, concat!("!", $word))];
        };
    }
    flag!(ONLINE, "online");
    flag!(DISCHARGING, "dischrg");
    flag!(CHARGING, "chrg");
    flag!(LOWBATT, "lowbatt");
    flag!(OVERLOAD, "overload");
    flag!(REPLACEBATT, "replacebatt");
    flag!(TRIM, "trim");
    flag!(BOOST, "boost");
    flag!(BYPASS_AUTO, "bypassauto");
    flag!(BYPASS_MANUAL, "bypassman");
    flag!(CALIBRATION, "cal");
    flag!(FANFAIL, "fanfail");
    flag!(SHUTDOWNIMM, "shutdownimm");
    flag!(OVERHEAT, "overheat");
    flag!(AWAITINGPOWER, "awaitingpower");
    flag!(COMMFAULT, "commfault");
    flag!(TIMELIMITEXPIRED, "timelimitexp");
    flag!(BATTVOLTLO, "battvoltlo");
    flag!(BATTVOLTHI, "battvolthi");
    flag!(CHARGERFAIL, "chargerfail");
    flag!(FULLYCHARGED, "fullycharged");
    flag!(DEPLETED, "depleted");
    flag!(VRANGE, "vrange");
    flag!(FRANGE, "frange");
    /// Inverted: 0 means the UPS is off (devices without the usage are on).
    pub static OFF: &[(i64, &str)] = &[(0, "off"), (1, "!off")];
    /// Inverted: BatteryPresent 0 means no battery.
    pub static NOBATTERY: &[(i64, &str)] = &[(1, "!nobattery"), (0, "nobattery")];
}
