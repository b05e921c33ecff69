//! The live timeline: what the UPS reports (polled with our `upsc`), what upsmon notifies (its
//! NOTIFYCMD appends to a log), the shutdown decision with its reason, and what nut-web shows.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::scenario::UPS;

/// Kinds of timeline entries; the names are what the CI test looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    PowerCut,
    PowerBack,
    Status,
    Notify,
    Decision,
    Shutdown,
    Web,
    Info,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Self::PowerCut => "POWER-CUT",
            Self::PowerBack => "POWER-BACK",
            Self::Status => "STATUS",
            Self::Notify => "NOTIFY",
            Self::Decision => "DECISION",
            Self::Shutdown => "SHUTDOWN",
            Self::Web => "WEB",
            Self::Info => "INFO",
        }
    }
}

/// Accumulated knowledge, turned into printed lines.
pub struct Timeline {
    start: Instant,
    vars: BTreeMap<String, String>,
    events_seen: usize,
    decided: bool,
}

impl Timeline {
    pub fn new(start: Instant) -> Self {
        Self {
            start,
            vars: BTreeMap::new(),
            events_seen: 0,
            decided: false,
        }
    }

    pub fn print(&self, kind: Kind, text: &str) {
        let t = self.start.elapsed().as_secs_f64();
        println!("[{t:6.1}s] {:<10} {text}", kind.label());
    }

    /// Compare a fresh `upsc` reading with the previous one and print what changed. Returns
    /// whether `ups.status` changed (the first reading counts as a change).
    pub fn observe_vars(&mut self, vars: Vec<(String, String)>) -> bool {
        let new: BTreeMap<String, String> = vars.into_iter().collect();
        let old_volts = self
            .vars
            .get("input.voltage")
            .and_then(|v| v.parse::<f64>().ok());
        let new_volts = new.get("input.voltage").and_then(|v| v.parse::<f64>().ok());
        if let (Some(old), Some(now)) = (old_volts, new_volts) {
            if old > 0.0 && now == 0.0 {
                self.print(
                    Kind::PowerCut,
                    &format!("mains power lost: input.voltage {old} V -> {now} V"),
                );
            } else if old == 0.0 && now > 0.0 {
                self.print(
                    Kind::PowerBack,
                    &format!("mains power restored: input.voltage {now} V"),
                );
            }
        }
        let old_status = self.vars.get("ups.status").cloned();
        let changed = old_status.as_deref() != new.get("ups.status").map(String::as_str);
        let first = self.vars.is_empty();
        self.vars = new;
        if changed {
            let status = self.var("ups.status");
            self.print(
                Kind::Status,
                &format!("ups.status = {status} ({})", explain_status(&status)),
            );
            self.print_view();
        } else if first {
            self.print_view();
        }
        changed
    }

    fn var(&self, name: &str) -> String {
        self.vars.get(name).cloned().unwrap_or_else(|| "?".into())
    }

    /// A one-line `upsc`-style view of the variables that matter here.
    fn print_view(&self) {
        let view = [
            ("battery.charge", "%"),
            ("battery.runtime", "s"),
            ("input.voltage", "V"),
            ("ups.load", "%"),
        ]
        .iter()
        .map(|(name, unit)| format!("{name}: {} {unit}", self.var(name)))
        .collect::<Vec<_>>()
        .join(" | ");
        println!("{:>19} upsc {UPS}: {view}", "");
    }

    /// Whether the events log holds lines not printed yet.
    pub fn has_new_events(&self, log: &str) -> bool {
        log.lines().count() > self.events_seen
    }

    /// Print new lines of the events log (NOTIFYCMD and SHUTDOWNCMD output).
    pub fn observe_events(&mut self, log: &str) {
        let lines: Vec<&str> = log.lines().collect();
        for line in lines.iter().skip(self.events_seen) {
            let mut fields = line.splitn(3, '\t');
            match (fields.next(), fields.next(), fields.next()) {
                (Some("NOTIFY"), Some(kind), Some(message)) => {
                    self.print(Kind::Notify, &format!("upsmon {kind}: {message}"));
                    if matches!(kind, "FSD" | "SHUTDOWN") {
                        self.decide();
                    }
                }
                (Some("SHUTDOWNCMD"), Some(command), _) => {
                    self.decide();
                    self.print(
                        Kind::Shutdown,
                        &format!("SHUTDOWNCMD ran; on a real machine this would be: {command}"),
                    );
                }
                _ => self.print(Kind::Info, line),
            }
        }
        self.events_seen = lines.len();
    }

    fn decide(&mut self) {
        if self.decided {
            return;
        }
        self.decided = true;
        let reason = format!(
            "upsmon decided to shut this machine down: UPS {UPS} is critical (ups.status = {}: on \
             battery with a low battery), so the power value still available is 0, below \
             MINSUPPLIES 1",
            self.var("ups.status")
        );
        self.print(Kind::Decision, &reason);
    }
}

fn explain_status(status: &str) -> String {
    let words: Vec<&str> = status
        .split_whitespace()
        .map(|t| match t {
            "OL" => "on line power",
            "OB" => "on battery",
            "LB" => "low battery",
            "CHRG" => "charging",
            "DISCHRG" => "discharging",
            "FSD" => "forced shutdown",
            "RB" => "replace battery",
            "BYPASS" => "on bypass",
            "OFF" => "off",
            _ => t,
        })
        .collect();
    words.join(", ")
}
