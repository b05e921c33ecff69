//! One monitored UPS: what upsmon remembers about it, how a poll result changes that, and
//! whether it is critical (NUT's `parse_status`, `ups_is_alive`/`ups_is_gone` and
//! `is_ups_critical`, docs/nut-behaviour.md §6.3).

use nut_core::names::{NotifyType, Status, StatusToken};

use super::Notification;
use crate::clock::{Time, secs_since};
use crate::config::{MonitorConfig, MonitorEntry};

/// What we know about the link to upsd for this UPS (NUT's `commstate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Comm {
    /// Never polled: the first success is silent, the first failure is COMMBAD.
    Unknown,
    /// The last poll failed.
    Lost,
    /// The last poll succeeded.
    Ok,
}

/// State kept per MONITOR entry.
#[derive(Debug)]
pub(crate) struct Ups {
    pub entry: MonitorEntry,
    pub online: bool,
    pub on_battery: bool,
    pub low_battery: bool,
    pub fsd: bool,
    pub calibrating: bool,
    pub off: bool,
    pub bypass: bool,
    pub eco: bool,
    pub alarm: bool,
    pub overloaded: bool,
    pub trim: bool,
    pub boost: bool,
    pub comm: Comm,
    /// Whether OL or OB was ever seen: the very first OL is not announced as ONLINE.
    line_known: bool,
    /// `OFF` has lasted OFFDURATION (NUT's `offstate`).
    off_long_enough: bool,
    /// FSD was announced for the current FSD episode (NUT's `lastfsdnotify`).
    pub fsd_notified: bool,
    pub last_poll: Option<Time>,
    /// Last time the UPS was seen not (OB and LB) or calibrating.
    last_noncrit: Option<Time>,
    last_rb_warn: Option<Time>,
    last_nc_warn: Option<Time>,
    off_since: Option<Time>,
    oblb_since: Option<Time>,
    over_since: Option<Time>,
    /// `ups.alarm` text last announced.
    alarm_text: Option<String>,
    /// Unclassified status words last announced (OTHER), in order of appearance.
    other: Vec<String>,
}

/// One successful status poll.
pub(crate) struct StatusInput<'a> {
    pub status: &'a Status,
    pub alarm: Option<&'a str>,
    pub buzzwords: Option<&'a str>,
}

impl Ups {
    pub fn new(entry: MonitorEntry) -> Self {
        Self {
            entry,
            online: false,
            on_battery: false,
            low_battery: false,
            fsd: false,
            calibrating: false,
            off: false,
            bypass: false,
            eco: false,
            alarm: false,
            overloaded: false,
            trim: false,
            boost: false,
            comm: Comm::Unknown,
            line_known: false,
            off_long_enough: false,
            fsd_notified: false,
            last_poll: None,
            last_noncrit: None,
            last_rb_warn: None,
            last_nc_warn: None,
            off_since: None,
            oblb_since: None,
            over_since: None,
            alarm_text: None,
            other: Vec::new(),
        }
    }

    fn notify(&self, out: &mut Vec<Notification>, kind: NotifyType) {
        out.push(Notification::for_ups(kind, &self.entry.system));
    }

    fn notify_with(&self, out: &mut Vec<Notification>, kind: NotifyType, detail: String) {
        let mut n = Notification::for_ups(kind, &self.entry.system);
        n.detail = Some(detail);
        out.push(n);
    }

    /// Whether this UPS asks for the alert polling interval (POLLFREQALERT).
    pub fn is_alerting(&self) -> bool {
        self.on_battery
            || self.off
            || self.bypass
            || self.calibrating
            || self.alarm
            || self.overloaded
    }

    /// Whether an OBLBDURATION wait is running (polls then come at its pace).
    pub fn oblb_pending(&self) -> bool {
        self.oblb_since.is_some()
    }

    /// A successful poll with a usable status (`ups_is_alive`).
    fn alive(&mut self, now: Time, out: &mut Vec<Notification>) {
        self.last_poll = Some(now);
        if self.comm == Comm::Lost {
            self.notify(out, NotifyType::CommOk);
        }
        self.comm = Comm::Ok;
    }

    /// A failed poll or an empty status (`ups_is_gone`).
    pub fn gone(&mut self, now: Time, config: &MonitorConfig, out: &mut Vec<Notification>) {
        if self.comm != Comm::Lost {
            self.comm = Comm::Lost;
            self.notify(out, NotifyType::CommBad);
            return;
        }
        if secs_since(now, self.last_poll) < config.nocomm_warn_time {
            return;
        }
        if secs_since(now, self.last_nc_warn) > config.nocomm_warn_time {
            self.notify(out, NotifyType::NoComm);
            self.last_nc_warn = Some(now);
        }
    }

    /// Apply one status poll (`parse_status`).
    ///
    /// Words are compared whole and case-insensitively: NUT tests some of them with `strstr`
    /// on the whole status string (so `OFF` would be found inside an unknown `OFFLINE`); here
    /// every test uses the parsed words.
    pub fn apply_status(
        &mut self,
        now: Time,
        input: StatusInput<'_>,
        config: &MonitorConfig,
        out: &mut Vec<Notification>,
    ) {
        let words: Vec<StatusToken> = input.status.tokens().iter().map(normalise).collect();
        if words.is_empty() {
            self.gone(now, config, out);
            return;
        }
        self.alive(now, out);

        let has = |t: StatusToken| words.contains(&t);
        let eco_now = has(StatusToken::Eco) || buzzwords_mean_eco(input.buzzwords);

        // Conditions that ended are cleared before the words are looked at, so that e.g.
        // NOTCAL comes before an ONBATT in the same poll.
        if !has(StatusToken::LowBattery) {
            self.low_battery = false;
        }
        if !has(StatusToken::ForcedShutdown) {
            self.fsd = false;
            self.fsd_notified = false;
        }
        if !has(StatusToken::Calibrating) && self.calibrating {
            self.calibrating = false;
            self.notify(out, NotifyType::NotCal);
        }
        if !has(StatusToken::Off) {
            self.off_since = None;
            self.off_long_enough = false;
            if self.off {
                self.off = false;
                self.notify(out, NotifyType::NotOff);
            }
        }
        if !has(StatusToken::Bypass) && self.bypass {
            self.bypass = false;
            self.notify(out, NotifyType::NotBypass);
        }
        if !eco_now && self.eco {
            self.eco = false;
            self.notify(out, NotifyType::NotEco);
        }
        if !has(StatusToken::Alarm) && self.alarm {
            self.alarm = false;
            self.alarm_text = None;
            self.notify(out, NotifyType::NotAlarm);
        }
        if !has(StatusToken::Overloaded) {
            self.over_since = None;
            if self.overloaded {
                self.overloaded = false;
                self.notify(out, NotifyType::NotOver);
            }
        }
        if !has(StatusToken::Trim) && self.trim {
            self.trim = false;
            self.notify(out, NotifyType::NotTrim);
        }
        if !has(StatusToken::Boost) && self.boost {
            self.boost = false;
            self.notify(out, NotifyType::NotBoost);
        }

        let mut other: Vec<String> = Vec::new();
        for word in &words {
            match word {
                StatusToken::Online => self.on_line(out),
                StatusToken::OnBattery => self.on_battery(out),
                StatusToken::LowBattery => {
                    if !self.low_battery {
                        self.low_battery = true;
                        self.notify(out, NotifyType::LowBatt);
                    }
                }
                StatusToken::ReplaceBattery => {
                    if secs_since(now, self.last_rb_warn) > config.rb_warn_time {
                        self.last_rb_warn = Some(now);
                        self.notify(out, NotifyType::ReplBatt);
                    }
                }
                StatusToken::Calibrating => {
                    if !self.calibrating {
                        self.calibrating = true;
                        self.notify(out, NotifyType::Cal);
                    }
                }
                StatusToken::Off => self.is_off(now, config, out),
                StatusToken::Bypass => {
                    if !self.bypass {
                        self.bypass = true;
                        self.notify(out, NotifyType::Bypass);
                    }
                }
                StatusToken::Eco => {
                    if !self.eco {
                        self.eco = true;
                        self.notify(out, NotifyType::Eco);
                    }
                }
                StatusToken::Alarm => match input.alarm {
                    Some(text) => {
                        if !self.alarm || self.alarm_text.as_deref() != Some(text) {
                            self.alarm = true;
                            self.alarm_text = Some(text.to_owned());
                            self.notify_with(out, NotifyType::Alarm, text.to_owned());
                        }
                    }
                    // `ups.alarm` could not be read: a new alarm is announced without its
                    // text; a known one keeps the text last read and is not announced again
                    // (NUT HEAD), so a flaky read does not make alarms alternate.
                    None => {
                        if !self.alarm {
                            self.alarm = true;
                            self.alarm_text = None;
                            self.notify_with(out, NotifyType::Alarm, "n/a".to_owned());
                        }
                    }
                },
                StatusToken::Overloaded => {
                    if !self.overloaded {
                        self.overloaded = true;
                        self.over_since = Some(now);
                        self.notify(out, NotifyType::Over);
                    }
                }
                StatusToken::Trim => {
                    if !self.trim {
                        self.trim = true;
                        self.notify(out, NotifyType::Trim);
                    }
                }
                StatusToken::Boost => {
                    if !self.boost {
                        self.boost = true;
                        self.notify(out, NotifyType::Boost);
                    }
                }
                StatusToken::ForcedShutdown => {
                    if !self.fsd_notified {
                        self.fsd_notified = true;
                        self.notify(out, NotifyType::Fsd);
                    }
                    self.fsd = true;
                }
                // WAIT is upsd's placeholder before a driver's first data: a known word that
                // says nothing about power, so it is neither acted on nor reported as OTHER.
                StatusToken::HighBattery
                | StatusToken::Charging
                | StatusToken::Discharging
                | StatusToken::Wait => {}
                unclassified => {
                    let w = unclassified.as_str();
                    if !other.iter().any(|o| o == w) {
                        other.push(w.to_owned());
                    }
                }
            }
            self.update_crit_timer(now);
        }

        // ECO announced through the buzzword variables rather than a status word.
        if eco_now && !self.eco {
            self.eco = true;
            self.notify(out, NotifyType::Eco);
        }

        if !same_set(&other, &self.other) {
            if other.is_empty() {
                self.notify(out, NotifyType::NotOther);
            } else {
                self.notify_with(out, NotifyType::Other, other.join(" "));
            }
            self.other = other;
        }
    }

    fn on_line(&mut self, out: &mut Vec<Notification>) {
        if self.online {
            return;
        }
        // The OL seen at start-up is the normal state, not a return of power.
        if self.line_known {
            self.notify(out, NotifyType::Online);
        }
        self.line_known = true;
        self.online = true;
        self.on_battery = false;
    }

    fn on_battery(&mut self, out: &mut Vec<Notification>) {
        if self.on_battery {
            return;
        }
        self.line_known = true;
        self.notify(out, NotifyType::OnBatt);
        self.on_battery = true;
        self.online = false;
    }

    fn is_off(&mut self, now: Time, config: &MonitorConfig, out: &mut Vec<Notification>) {
        if self.off {
            let since = *self.off_since.get_or_insert(now);
            if let Some(limit) = config.off_duration
                && limit > 0
                && now.whole_secs_since(since) > limit
                && !self.off_long_enough
            {
                tracing::warn!(ups = %self.entry.system, "UPS is OFF for longer than OFFDURATION, assuming the line is not fed");
                self.off_long_enough = true;
            }
            return;
        }
        self.off_since = Some(now);
        if config.off_duration == Some(0) {
            tracing::warn!(ups = %self.entry.system, "UPS is OFF, assuming the line is not fed (OFFDURATION 0)");
            self.off_long_enough = true;
        }
        self.off = true;
        self.notify(out, NotifyType::Off);
    }

    /// Remember the last time the UPS was not critical (NUT's `update_crittimer`).
    fn update_crit_timer(&mut self, now: Time) {
        if !(self.on_battery && self.low_battery) || self.calibrating {
            self.last_noncrit = Some(now);
        }
    }

    /// DEADTIME: a UPS unheard of for too long while on battery is assumed to be low.
    pub fn promote_if_dead(&mut self, now: Time, config: &MonitorConfig) {
        if self.on_battery
            && !self.low_battery
            && secs_since(now, self.last_poll) > config.dead_time
        {
            tracing::info!(ups = %self.entry.system, "promoting dead UPS to on battery and low");
            self.low_battery = true;
        }
    }

    /// NUT's `is_ups_critical`, in its order. Mutable because it keeps the OBLBDURATION clock.
    pub fn is_critical(&mut self, now: Time, config: &MonitorConfig) -> bool {
        let ups = &self.entry.system;
        if self.fsd {
            return true;
        }
        if self.comm == Comm::Lost {
            if self.overloaded
                && let Some(limit) = config.over_duration
                && secs_since(now, self.over_since) >= limit
            {
                tracing::warn!(%ups, "UPS was last seen overloaded and is not communicating, assuming dead");
                return true;
            }
            if self.alarm && config.alarm_critical {
                tracing::warn!(%ups, "UPS was last seen in alarm and is not communicating, assuming dead");
                return true;
            }
            if self.calibrating {
                tracing::warn!(%ups, "UPS was last seen calibrating and is not communicating, assuming dead");
                return true;
            }
            if self.bypass {
                tracing::warn!(%ups, "UPS was last seen on bypass and is not communicating, assuming dead");
                return true;
            }
            if self.off && config.off_duration.is_some() {
                tracing::warn!(%ups, "UPS was last seen OFF and is not communicating, assuming dead");
                return true;
            }
            if self.trim || self.boost {
                tracing::info!(%ups, "UPS was last seen trimming or boosting and is not communicating");
            }
        }
        if self.off && self.off_long_enough && config.off_duration.is_some() {
            tracing::warn!(%ups, "UPS is administratively OFF");
            return true;
        }
        if !(self.on_battery && self.low_battery) {
            self.oblb_since = None;
            return false;
        }
        if self.calibrating {
            tracing::warn!(%ups, "UPS is on battery and low, but calibrating: not critical");
            return false;
        }
        if config.oblb_duration > 0 {
            let since = *self.oblb_since.get_or_insert(now);
            if now.whole_secs_since(since) < config.oblb_duration {
                return false;
            }
        }
        if self.entry.is_primary() {
            return true;
        }
        // A secondary gives the primary HOSTSYNC seconds to raise FSD.
        if secs_since(now, self.last_noncrit) > config.host_sync {
            tracing::warn!(%ups, "giving up on the primary");
            return true;
        }
        false
    }
}

/// NUT compares status words case-insensitively; drivers publish upper case.
fn normalise(token: &StatusToken) -> StatusToken {
    match token {
        StatusToken::Other(word) => StatusToken::parse(&word.to_ascii_uppercase()),
        known => known.clone(),
    }
}

/// Whether `ups.mode.buzzwords` / `experimental.ups.mode.buzzwords` say the UPS is in an
/// economy mode: one of its words is `ECO`, or ends in `:ECO` (vendor-qualified), compared
/// case-insensitively. NUT HEAD's test is inverted and treats any non-empty value as ECO;
/// that is not reproduced.
pub(crate) fn buzzwords_mean_eco(buzzwords: Option<&str>) -> bool {
    buzzwords.is_some_and(|value| {
        value.split_ascii_whitespace().any(|word| {
            let last = word.rsplit(':').next().unwrap_or(word);
            last.eq_ignore_ascii_case("ECO")
        })
    })
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|w| b.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eco_buzzwords_are_matched_as_words() {
        assert!(buzzwords_mean_eco(Some("ECO")));
        assert!(buzzwords_mean_eco(Some("vendor:eaton:eco other")));
        assert!(!buzzwords_mean_eco(Some("vendor:apc:HE")));
        assert!(!buzzwords_mean_eco(Some("ECONOMY")));
        assert!(!buzzwords_mean_eco(Some("")));
        assert!(!buzzwords_mean_eco(None));
    }

    #[test]
    fn lower_case_words_are_known_words() {
        assert_eq!(normalise(&StatusToken::parse("ol")), StatusToken::Online);
        assert_eq!(
            normalise(&StatusToken::parse("OFFLINE")),
            StatusToken::Other("OFFLINE".into())
        );
    }
}
