//! Standard NUT names: `ups.status` tokens and upsmon notification types.
//!
//! Status tokens are matched as whole words (NUT's upsmon uses substring tests, which can match
//! inside unknown tokens; see docs/compatibility.md). Unknown tokens are kept, not rejected:
//! clients must tolerate them.

use std::fmt;

/// One word of `ups.status`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusToken {
    /// `OL`: on line power.
    Online,
    /// `OB`: on battery.
    OnBattery,
    /// `LB`: low battery.
    LowBattery,
    /// `HB`: high battery.
    HighBattery,
    /// `RB`: the battery needs replacing.
    ReplaceBattery,
    /// `CHRG`: charging.
    Charging,
    /// `DISCHRG`: discharging.
    Discharging,
    /// `BYPASS`: on bypass, the load is powered but not protected.
    Bypass,
    /// `CAL`: runtime calibration.
    Calibrating,
    /// `OFF`: administratively off or asleep, not powering the load.
    Off,
    /// `OVER`: overloaded.
    Overloaded,
    /// `TRIM`: reducing the input voltage.
    Trim,
    /// `BOOST`: raising the input voltage.
    Boost,
    /// `FSD`: forced shutdown (set by upsd's latch, or by a driver for a device-signalled
    /// imminent shutdown).
    ForcedShutdown,
    /// `ALARM`: one or more alarms are active (details in `ups.alarm`).
    Alarm,
    /// `ECO`: economy mode (legacy; newer devices use buzzwords).
    Eco,
    /// `TEST`: a battery test is running.
    Test,
    /// `WAIT`: placeholder published by upsd before a driver's first data.
    Wait,
    /// Anything else, kept verbatim.
    Other(String),
}

impl StatusToken {
    /// Parse one word. Tokens are case-sensitive in NUT (drivers publish upper case).
    pub fn parse(word: &str) -> Self {
        match word {
            "OL" => Self::Online,
            "OB" => Self::OnBattery,
            "LB" => Self::LowBattery,
            "HB" => Self::HighBattery,
            "RB" => Self::ReplaceBattery,
            "CHRG" => Self::Charging,
            "DISCHRG" => Self::Discharging,
            "BYPASS" => Self::Bypass,
            "CAL" => Self::Calibrating,
            "OFF" => Self::Off,
            "OVER" => Self::Overloaded,
            "TRIM" => Self::Trim,
            "BOOST" => Self::Boost,
            "FSD" => Self::ForcedShutdown,
            "ALARM" => Self::Alarm,
            "ECO" => Self::Eco,
            "TEST" => Self::Test,
            "WAIT" => Self::Wait,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The word as it appears in `ups.status`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Online => "OL",
            Self::OnBattery => "OB",
            Self::LowBattery => "LB",
            Self::HighBattery => "HB",
            Self::ReplaceBattery => "RB",
            Self::Charging => "CHRG",
            Self::Discharging => "DISCHRG",
            Self::Bypass => "BYPASS",
            Self::Calibrating => "CAL",
            Self::Off => "OFF",
            Self::Overloaded => "OVER",
            Self::Trim => "TRIM",
            Self::Boost => "BOOST",
            Self::ForcedShutdown => "FSD",
            Self::Alarm => "ALARM",
            Self::Eco => "ECO",
            Self::Test => "TEST",
            Self::Wait => "WAIT",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for StatusToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed `ups.status` value: its tokens in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    tokens: Vec<StatusToken>,
}

impl Status {
    /// Split a `ups.status` value on whitespace.
    pub fn parse(value: &str) -> Self {
        Self {
            tokens: value
                .split_ascii_whitespace()
                .map(StatusToken::parse)
                .collect(),
        }
    }

    /// Whether `token` is present as a whole word.
    pub fn has(&self, token: &StatusToken) -> bool {
        self.tokens.contains(token)
    }

    /// The tokens in order.
    pub fn tokens(&self) -> &[StatusToken] {
        &self.tokens
    }

    /// Tokens that are not standard NUT tokens.
    pub fn unknown(&self) -> impl Iterator<Item = &str> {
        self.tokens.iter().filter_map(|t| match t {
            StatusToken::Other(s) => Some(s.as_str()),
            _ => None,
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.tokens.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(t.as_str())?;
        }
        Ok(())
    }
}

macro_rules! notify_types {
    ($($variant:ident $name:literal $ups:literal $msg:literal;)*) => {
        /// An upsmon notification type (NOTIFYMSG / NOTIFYFLAG names, `NOTIFYTYPE` in the
        /// environment of NOTIFYCMD).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum NotifyType { $(#[doc = $msg] $variant,)* }

        impl NotifyType {
            /// Every type, in NUT's numbering order.
            pub const ALL: &'static [NotifyType] = &[$(Self::$variant,)*];

            /// The upper-case name used in config files and `NOTIFYTYPE`.
            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => $name,)* }
            }

            /// The default message; `%s` stands for the UPS (and, for ALARM and OTHER, a
            /// second `%s` for the details).
            pub fn default_message(self) -> &'static str {
                match self { $(Self::$variant => $msg,)* }
            }

            /// Whether the event concerns one UPS (`UPSNAME` is then set for NOTIFYCMD).
            pub fn is_per_ups(self) -> bool {
                match self { $(Self::$variant => $ups,)* }
            }

            /// Look a name up case-insensitively, as upsmon.conf and upssched.conf do.
            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|t| t.name().eq_ignore_ascii_case(name))
            }
        }
    };
}

notify_types! {
    Online "ONLINE" true "UPS %s on line power";
    OnBatt "ONBATT" true "UPS %s on battery";
    LowBatt "LOWBATT" true "UPS %s battery is low";
    Fsd "FSD" true "UPS %s: forced shutdown in progress";
    CommOk "COMMOK" true "Communications with UPS %s established";
    CommBad "COMMBAD" true "Communications with UPS %s lost";
    Shutdown "SHUTDOWN" false "Auto logout and shutdown proceeding";
    ReplBatt "REPLBATT" true "UPS %s battery needs to be replaced";
    NoComm "NOCOMM" true "UPS %s is unavailable";
    NoParent "NOPARENT" false "upsmon parent process died - shutdown impossible";
    Cal "CAL" true "UPS %s: calibration in progress";
    NotCal "NOTCAL" true "UPS %s: calibration finished";
    Off "OFF" true "UPS %s: administratively OFF or asleep";
    NotOff "NOTOFF" true "UPS %s: no longer administratively OFF or asleep";
    Bypass "BYPASS" true "UPS %s: on bypass (powered, not protecting)";
    NotBypass "NOTBYPASS" true "UPS %s: no longer on bypass";
    Eco "ECO" true "UPS %s: in ECO mode (as defined by vendor)";
    NotEco "NOTECO" true "UPS %s: no longer in ECO mode";
    Alarm "ALARM" true "UPS %s: one or more active alarms: [%s]";
    NotAlarm "NOTALARM" true "UPS %s is no longer in an alarm state (no active alarms)";
    Over "OVER" true "UPS %s: overloaded";
    NotOver "NOTOVER" true "UPS %s: no longer overloaded";
    Trim "TRIM" true "UPS %s: trimming incoming voltage";
    NotTrim "NOTTRIM" true "UPS %s: no longer trimming incoming voltage";
    Boost "BOOST" true "UPS %s: boosting incoming voltage";
    NotBoost "NOTBOOST" true "UPS %s: no longer boosting incoming voltage";
    ShutdownHostsync "SHUTDOWN_HOSTSYNC" false "Shutdown initiated; primary system is waiting for secondaries to log out or time out";
    SuspendTimejumpUnexpected "SUSPEND_TIMEJUMP_UNEXPECTED" false "Unexpected clock change by %s, treating as wake up from sleep";
    Other "OTHER" true "UPS %s: has at least one unclassified status token: [%s]";
    NotOther "NOTOTHER" true "UPS %s has no unclassified status tokens anymore";
    SuspendStarting "SUSPEND_STARTING" false "OS is entering sleep/suspend/hibernate mode";
    SuspendFinished "SUSPEND_FINISHED" false "OS just finished sleep/suspend/hibernate mode, de-activating obsolete UPS readings to avoid an unfortunate shutdown";
}

impl fmt::Display for NotifyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// NOTIFYFLAG flags: what upsmon does with a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NotifyFlags {
    /// Log it to syslog.
    pub syslog: bool,
    /// Send it to all logged-in users (wall).
    pub wall: bool,
    /// Run NOTIFYCMD with it.
    pub exec: bool,
}

impl NotifyFlags {
    /// NUT's default for every type: `SYSLOG+WALL`.
    pub const DEFAULT: Self = Self {
        syslog: true,
        wall: true,
        exec: false,
    };

    /// `IGNORE`: nothing at all.
    pub const IGNORE: Self = Self {
        syslog: false,
        wall: false,
        exec: false,
    };

    /// Parse `FLAG[+FLAG…]` (case-sensitive, as NUT). `IGNORE` anywhere wins over the other
    /// flags, as in NUT. Returns the offending word on error.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut flags = Self::IGNORE;
        let mut ignore = false;
        for word in spec.split('+') {
            match word {
                "SYSLOG" => flags.syslog = true,
                "WALL" => flags.wall = true,
                "EXEC" => flags.exec = true,
                "IGNORE" => ignore = true,
                other => return Err(other.to_owned()),
            }
        }
        Ok(if ignore { Self::IGNORE } else { flags })
    }
}

impl Default for NotifyFlags {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_matches_whole_words() {
        let s = Status::parse("OL CHRG OFFLINE");
        assert!(s.has(&StatusToken::Online));
        assert!(!s.has(&StatusToken::Off));
        assert_eq!(s.unknown().collect::<Vec<_>>(), ["OFFLINE"]);
        assert_eq!(s.to_string(), "OL CHRG OFFLINE");
        assert_eq!(Status::parse("  ").tokens().len(), 0);
    }

    #[test]
    fn notify_names_round_trip() {
        for t in NotifyType::ALL {
            assert_eq!(NotifyType::from_name(&t.name().to_lowercase()), Some(*t));
        }
        assert_eq!(NotifyType::ALL.len(), 32);
        assert_eq!(NotifyType::from_name("nosuch"), None);
        assert!(!NotifyType::Shutdown.is_per_ups());
    }

    #[test]
    fn notify_flags() {
        assert_eq!(
            NotifyFlags::parse("SYSLOG+EXEC"),
            Ok(NotifyFlags {
                syslog: true,
                wall: false,
                exec: true
            })
        );
        assert_eq!(NotifyFlags::parse("IGNORE"), Ok(NotifyFlags::IGNORE));
        assert_eq!(NotifyFlags::parse("SYSLOG+IGNORE"), Ok(NotifyFlags::IGNORE));
        assert_eq!(NotifyFlags::parse("syslog"), Err("syslog".into()));
    }
}
