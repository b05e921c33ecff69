//! `ups.status` flags as words: upper-case ones for the JSON API (the wording of NUT's
//! upsstats), friendly ones with a colour class for the HTML page.

use nut_core::names::{Status, StatusToken};

/// How one status flag is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagWords {
    /// The flag as published (`OL`).
    pub flag: String,
    /// Upper-case word for `status_parsed` (`ONLINE`).
    pub parsed: String,
    /// Human wording for the page (`Online`).
    pub human: String,
    /// CSS class: `ok`, `warn`, `bad` or `info`.
    pub class: &'static str,
}

fn describe(token: &StatusToken) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match token {
        StatusToken::Online => ("ONLINE", "Online", "ok"),
        StatusToken::OnBattery => ("ON BATTERY", "On Battery", "warn"),
        StatusToken::LowBattery => ("LOW BATTERY", "Low Battery", "bad"),
        StatusToken::HighBattery => ("HIGH BATTERY", "High Battery", "warn"),
        StatusToken::ReplaceBattery => ("REPLACE BATTERY", "Replace Battery", "bad"),
        StatusToken::Charging => ("CHARGING", "Charging", "info"),
        StatusToken::Discharging => ("DISCHARGING", "Discharging", "warn"),
        StatusToken::Bypass => ("BYPASS", "On Bypass", "warn"),
        StatusToken::Calibrating => ("CALIBRATION", "Calibrating", "info"),
        StatusToken::Off => ("OFF", "Off", "bad"),
        StatusToken::Overloaded => ("OVERLOAD", "Overloaded", "bad"),
        StatusToken::Trim => ("VOLTAGE TRIM", "Trimming Voltage", "info"),
        StatusToken::Boost => ("VOLTAGE BOOST", "Boosting Voltage", "info"),
        StatusToken::ForcedShutdown => ("FORCED SHUTDOWN", "Forced Shutdown", "bad"),
        StatusToken::Alarm => ("ALARM", "Alarm", "bad"),
        StatusToken::Eco => ("ECO", "Eco Mode", "info"),
        StatusToken::Test => ("TEST", "Testing", "info"),
        StatusToken::Wait => ("WAIT", "Waiting for Data", "warn"),
        _ => return None,
    })
}

/// Every flag of a `ups.status` value, in order. Unknown flags are kept as they are.
pub fn flags(status: &str) -> Vec<FlagWords> {
    Status::parse(status)
        .tokens()
        .iter()
        .map(|token| {
            let flag = token.as_str().to_owned();
            match describe(token) {
                Some((parsed, human, class)) => FlagWords {
                    flag,
                    parsed: parsed.to_owned(),
                    human: human.to_owned(),
                    class,
                },
                None => FlagWords {
                    parsed: flag.clone(),
                    human: flag.clone(),
                    flag,
                    class: "info",
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_flags() {
        let f = flags("OL CHRG  RB XYZ");
        let parsed: Vec<&str> = f.iter().map(|w| w.parsed.as_str()).collect();
        assert_eq!(parsed, ["ONLINE", "CHARGING", "REPLACE BATTERY", "XYZ"]);
        assert_eq!(f[0].human, "Online");
        assert_eq!(f[2].class, "bad");
        assert!(flags("").is_empty());
    }
}
