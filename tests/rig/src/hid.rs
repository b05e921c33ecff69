//! Reading what Debian's usbhid-ups published (tests/fixtures/hid/debian-2.8.0) and applying
//! our documented deliberate fixes to it, for the comparisons of the usbhid-ups core and
//! program.

use std::collections::BTreeMap;
use std::path::Path;

/// A `name: value` variables file (Debian's `-d 1` dump or `upsc` output), comment lines
/// and `driver.*` aside. Panics (naming the file) when it cannot be read.
pub fn vars_file(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("driver."))
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap_or((l.trim_end_matches(':'), ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// Debian's openUPS variables with the deliberate fix of docs/compatibility.md applied: 2.8.0
/// reads BatteryPresent = 1 as "nobattery" (inverted; fixed upstream later, #3246), so its
/// "No battery installed!" alarm (and `ALARM`, when it was the only one) is taken out.
pub fn without_openups_battery_alarm(
    mut vars: BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    if let Some(alarm) = vars.get("ups.alarm") {
        let fixed = alarm.replace("No battery installed!", "");
        let fixed = fixed.split_whitespace().collect::<Vec<_>>().join(" ");
        if fixed.is_empty() {
            vars.remove("ups.alarm");
            if let Some(status) = vars.get_mut("ups.status") {
                *status = status.trim_start_matches("ALARM ").to_string();
            }
        } else {
            vars.insert("ups.alarm".into(), fixed);
        }
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openups_alarm_alone_goes_with_its_alarm_word() {
        let vars = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            without_openups_battery_alarm(vars(&[
                ("ups.alarm", "No battery installed!"),
                ("ups.status", "ALARM OL"),
            ])),
            vars(&[("ups.status", "OL")])
        );
        assert_eq!(
            without_openups_battery_alarm(vars(&[
                (
                    "ups.alarm",
                    "Replace battery! No battery installed! Temperature too high!"
                ),
                ("ups.status", "ALARM OL RB"),
            ])),
            vars(&[
                ("ups.alarm", "Replace battery! Temperature too high!"),
                ("ups.status", "ALARM OL RB"),
            ])
        );
    }
}
