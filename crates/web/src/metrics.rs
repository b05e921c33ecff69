//! Prometheus text exposition (format 0.0.4), written by hand.
//!
//! Names follow nut_exporter so existing Grafana dashboards and alerts keep working:
//! `network_ups_tools_<variable>` for every numeric variable, `network_ups_tools_ups_status
//! {flag}` and `network_ups_tools_device_info{…}`. Unlike nut_exporter, every series carries
//! `ups` and `server` labels, so one scrape covers every UPS; `network_ups_tools_up` says
//! whether each UPS could be read.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use crate::poll::Snapshot;
use crate::value::numeric_value;

/// Every metric name starts with this (nut_exporter's default namespace).
pub const NAMESPACE: &str = "network_ups_tools";

/// The flags nut_exporter reports with 0 when absent (its `--nut.statuses` default).
pub const DEFAULT_FLAGS: &[&str] = &[
    "OL", "OB", "LB", "HB", "RB", "CHRG", "DISCHRG", "BYPASS", "CAL", "OFF", "OVER", "TRIM",
    "BOOST", "FSD", "SD",
];

/// `device.*` variables exported as `device_info` labels (nut_exporter's label set).
const DEVICE_INFO: &[&str] = &[
    "model",
    "mfr",
    "serial",
    "type",
    "description",
    "contact",
    "location",
    "part",
    "macaddr",
];

/// `battery.charge` → `network_ups_tools_battery_charge`.
pub fn metric_name(var: &str) -> String {
    let mut name = format!("{NAMESPACE}_");
    name.extend(var.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    }));
    name
}

/// A label value with `\`, `"` and newlines escaped.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Families in first-seen order, each with one HELP text and its sample lines.
#[derive(Default)]
struct Families {
    order: Vec<String>,
    help: HashMap<String, String>,
    samples: HashMap<String, Vec<String>>,
    seen: HashSet<String>,
}

impl Families {
    fn add(
        &mut self,
        name: &str,
        help: impl FnOnce() -> String,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        let mut line = name.to_owned();
        line.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            let _ = write!(line, "{k}=\"{}\"", escape_label(v));
        }
        line.push('}');
        // Two variables can map to one name (`a.b`, `a-b`): keep the first series only.
        if !self.seen.insert(line.clone()) {
            return;
        }
        let _ = write!(line, " {value}");
        if !self.help.contains_key(name) {
            self.order.push(name.to_owned());
            self.help.insert(name.to_owned(), help());
        }
        self.samples.entry(name.to_owned()).or_default().push(line);
    }

    fn render(self) -> String {
        let mut out = String::new();
        for name in &self.order {
            let _ = writeln!(out, "# HELP {name} {}", escape_help(&self.help[name]));
            let _ = writeln!(out, "# TYPE {name} gauge");
            for line in &self.samples[name] {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

/// The exposition for these UPSes.
pub fn render(snapshots: &[Snapshot]) -> String {
    let mut f = Families::default();
    let up = format!("{NAMESPACE}_up");
    let status = format!("{NAMESPACE}_ups_status");
    let info = format!("{NAMESPACE}_device_info");
    for s in snapshots {
        let (ups, server) = (s.target.ups.as_str(), s.target.server());
        let base = [("ups", ups), ("server", server.as_str())];
        let ok = s.error.is_none();
        f.add(
            &up,
            || "Whether the UPS could be read from its NUT server (1) or not (0)".to_owned(),
            &base,
            if ok { 1.0 } else { 0.0 },
        );
        if !ok {
            continue;
        }
        let mut labels: Vec<(&str, &str)> = base.to_vec();
        for key in DEVICE_INFO {
            let value = s.var(&format!("device.{key}")).unwrap_or("");
            labels.push((key, value));
        }
        f.add(
            &info,
            || "UPS device information (device.* variables)".to_owned(),
            &labels,
            1.0,
        );
        if let Some(value) = s.var("ups.status") {
            let present: Vec<&str> = value.split_ascii_whitespace().collect();
            let extra = present.iter().filter(|p| !DEFAULT_FLAGS.contains(p));
            for flag in DEFAULT_FLAGS.iter().chain(extra) {
                let on = present.contains(flag);
                f.add(
                    &status,
                    || "UPS status flags (ups.status): 1 if the flag is set".to_owned(),
                    &[base[0], base[1], ("flag", flag)],
                    if on { 1.0 } else { 0.0 },
                );
            }
        }
        for (var, value) in &s.vars {
            let Some(number) = numeric_value(value) else {
                continue;
            };
            let help = || match s.descriptions.get(var) {
                Some(d) => format!("{d} ({var})"),
                None => var.clone(),
            };
            f.add(&metric_name(var), help, &base, number);
        }
    }
    f.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Target;

    fn snap(ups: &str, vars: &[(&str, &str)]) -> Snapshot {
        Snapshot {
            target: Target {
                system: ups.into(),
                ups: ups.into(),
                host: "h".into(),
                port: 1,
                description: None,
            },
            vars: vars
                .iter()
                .map(|(a, b)| ((*a).into(), (*b).into()))
                .collect(),
            ..Snapshot::default()
        }
    }

    #[test]
    fn names_and_escapes() {
        assert_eq!(
            metric_name("input.L1-N.voltage"),
            "network_ups_tools_input_L1_N_voltage"
        );
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn one_help_per_family_across_upses() {
        let mut a = snap("a", &[("battery.charge", "90"), ("ups.status", "OL XYZ")]);
        a.descriptions
            .insert("battery.charge".into(), "Battery charge".into());
        let b = snap("b", &[("battery.charge", "80")]);
        let mut c = snap("c", &[]);
        c.error = Some("Data stale".into());
        let text = render(&[a, b, c]);
        assert_eq!(
            text.matches("# HELP network_ups_tools_battery_charge ")
                .count(),
            1
        );
        assert!(
            text.contains(
                "# HELP network_ups_tools_battery_charge Battery charge (battery.charge)\n"
            )
        );
        assert!(text.contains("network_ups_tools_battery_charge{ups=\"b\",server=\"h:1\"} 80\n"));
        assert!(
            text.contains("network_ups_tools_ups_status{ups=\"a\",server=\"h:1\",flag=\"OL\"} 1\n")
        );
        assert!(
            text.contains("network_ups_tools_ups_status{ups=\"a\",server=\"h:1\",flag=\"OB\"} 0\n")
        );
        assert!(
            text.contains(
                "network_ups_tools_ups_status{ups=\"a\",server=\"h:1\",flag=\"XYZ\"} 1\n"
            )
        );
        assert!(text.contains("network_ups_tools_up{ups=\"c\",server=\"h:1\"} 0\n"));
        // Samples of a family are contiguous: the block ends before the next HELP.
        let family: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split('{').next().unwrap())
            .collect();
        let mut seen = Vec::new();
        for name in family {
            if seen.last() != Some(&name) {
                assert!(!seen.contains(&name), "{name} split in two blocks");
                seen.push(name);
            }
        }
    }
}
