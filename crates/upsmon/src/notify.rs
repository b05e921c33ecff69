//! From a [`Notification`] to what upsmon does with it: the NOTIFYMSG text and the NOTIFYFLAG
//! channels (docs/nut-behaviour.md §6.1 "Notifier processes", §6.6).
//!
//! [`NotifyTable`] holds one message and one set of flags per notification type, starting
//! from NUT's defaults (every type `SYSLOG+WALL`, the stock messages of
//! [`NotifyType::default_message`]). [`NotifyTable::dispatch`] renders a notification into a
//! [`Dispatch`]: the message, the channels, and the NOTIFYCMD environment.
//!
//! Message templates are printf-like with string arguments only: the first `%s` is the UPS
//! (empty for events without one), the second `%s` is the detail (ALARM's `ups.alarm`, OTHER's
//! words; empty otherwise), later `%s` are empty, and `%%` is a percent sign. NUT hands the
//! template to `snprintf`, so any other conversion (`%d` …) is undefined behaviour there; here
//! it is copied through as written.

use nut_core::conf::UpsmonConf;
use nut_core::names::{NotifyFlags, NotifyType};

use crate::monitor::Notification;

/// NOTIFYMSG and NOTIFYFLAG settings for every notification type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyTable {
    /// Indexed like [`NotifyType::ALL`].
    entries: Vec<(Option<String>, NotifyFlags)>,
}

impl Default for NotifyTable {
    fn default() -> Self {
        Self {
            entries: vec![(None, NotifyFlags::DEFAULT); NotifyType::ALL.len()],
        }
    }
}

fn index(kind: NotifyType) -> usize {
    NotifyType::ALL
        .iter()
        .position(|t| *t == kind)
        .unwrap_or_default()
}

impl NotifyTable {
    /// NUT's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// `NOTIFYMSG <type> "<message>"`.
    pub fn set_message(&mut self, kind: NotifyType, template: impl Into<String>) {
        self.entries[index(kind)].0 = Some(template.into());
    }

    /// `NOTIFYFLAG <type> <flags>`: replaces the previous flags of that type.
    pub fn set_flags(&mut self, kind: NotifyType, flags: NotifyFlags) {
        self.entries[index(kind)].1 = flags;
    }

    /// The template in force for `kind`.
    pub fn template(&self, kind: NotifyType) -> &str {
        self.entries[index(kind)]
            .0
            .as_deref()
            .unwrap_or(kind.default_message())
    }

    /// The flags in force for `kind`.
    pub fn flags(&self, kind: NotifyType) -> NotifyFlags {
        self.entries[index(kind)].1
    }

    /// The message text for a notification.
    pub fn message(&self, n: &Notification) -> String {
        format_message(
            self.template(n.kind),
            n.ups.as_deref().unwrap_or(""),
            n.detail.as_deref().unwrap_or(""),
        )
    }

    /// What to do with a notification; `None` when its flags select nothing (IGNORE).
    pub fn dispatch(&self, n: &Notification) -> Option<Dispatch> {
        let flags = self.flags(n.kind);
        if !(flags.syslog || flags.wall || flags.exec) {
            return None;
        }
        Some(Dispatch {
            message: self.message(n),
            syslog: flags.syslog,
            wall: flags.wall,
            exec: flags.exec,
            env: vec![
                ("NOTIFYTYPE", n.kind.name().to_owned()),
                ("UPSNAME", n.ups.clone().unwrap_or_default()),
            ],
        })
    }
}

impl From<&UpsmonConf> for NotifyTable {
    /// NOTIFYMSG and NOTIFYFLAG lines of a parsed upsmon.conf over NUT's defaults.
    fn from(conf: &UpsmonConf) -> Self {
        let mut table = Self::new();
        for kind in NotifyType::ALL.iter().copied() {
            if let Some(msg) = conf.notify_messages.get(&kind) {
                table.set_message(kind, msg.clone());
            }
            table.set_flags(kind, conf.notify_flags(kind));
        }
        table
    }
}

/// A rendered notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dispatch {
    /// The text, passed to syslog (at NOTICE), wall, and as NOTIFYCMD's last argument.
    pub message: String,
    /// Log it.
    pub syslog: bool,
    /// Send it to logged-in users.
    pub wall: bool,
    /// Run NOTIFYCMD (as the unprivileged user) with this environment added.
    pub exec: bool,
    /// `NOTIFYTYPE` and `UPSNAME` (empty for events not tied to a UPS).
    pub env: Vec<(&'static str, String)>,
}

/// Substitute `%s` (first: `ups`, second: `detail`, later: nothing) and `%%` in a NOTIFYMSG
/// template.
pub fn format_message(template: &str, ups: &str, detail: &str) -> String {
    let mut out = String::with_capacity(template.len() + ups.len() + detail.len());
    let mut args = [ups, detail].into_iter();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('s') => {
                chars.next();
                out.push_str(args.next().unwrap_or(""));
            }
            Some('%') => {
                chars.next();
                out.push('%');
            }
            _ => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_messages_name_the_ups() {
        let table = NotifyTable::new();
        let n = Notification::for_ups(NotifyType::OnBatt, "ups@localhost:3493");
        assert_eq!(table.message(&n), "UPS ups@localhost:3493 on battery");
        let d = table.dispatch(&n).expect("default flags are SYSLOG+WALL");
        assert!(d.syslog && d.wall && !d.exec);
        assert_eq!(
            d.env,
            vec![
                ("NOTIFYTYPE", "ONBATT".to_owned()),
                ("UPSNAME", "ups@localhost:3493".to_owned())
            ]
        );
    }

    #[test]
    fn second_placeholder_carries_the_detail() {
        let table = NotifyTable::new();
        let mut n = Notification::for_ups(NotifyType::Alarm, "u");
        n.detail = Some("Replace battery!".into());
        assert_eq!(
            table.message(&n),
            "UPS u: one or more active alarms: [Replace battery!]"
        );
        // A second %s on a type without detail is empty, not garbage.
        assert_eq!(format_message("%s/%s/%s", "a", ""), "a//");
        assert_eq!(format_message("100%% %d %s%", "u", ""), "100% %d u%");
    }

    #[test]
    fn global_events_have_an_empty_upsname() {
        let table = NotifyTable::new();
        let n = Notification::global(NotifyType::Shutdown);
        let d = table.dispatch(&n).expect("dispatched");
        assert_eq!(d.message, "Auto logout and shutdown proceeding");
        assert_eq!(d.env[1], ("UPSNAME", String::new()));
    }

    #[test]
    fn from_parsed_upsmon_conf() {
        let text = "NOTIFYMSG onbatt \"power out on %s\"\nNOTIFYFLAG ONLINE SYSLOG+EXEC\n";
        let parsed = nut_core::conf::parse_upsmon_conf(text, "upsmon.conf").expect("parses");
        let table = NotifyTable::from(&parsed.config);
        assert_eq!(
            table.message(&Notification::for_ups(NotifyType::OnBatt, "u")),
            "power out on u"
        );
        let online = table.flags(NotifyType::Online);
        assert!(online.syslog && online.exec && !online.wall);
        assert_eq!(table.flags(NotifyType::LowBatt), NotifyFlags::DEFAULT);
    }

    #[test]
    fn overrides_and_ignore() {
        let mut table = NotifyTable::new();
        table.set_message(NotifyType::OnBatt, "on battery: %s!");
        table.set_flags(
            NotifyType::OnBatt,
            NotifyFlags::parse("EXEC").expect("valid"),
        );
        table.set_flags(NotifyType::Online, NotifyFlags::IGNORE);
        let n = Notification::for_ups(NotifyType::OnBatt, "u");
        let d = table.dispatch(&n).expect("dispatched");
        assert_eq!(d.message, "on battery: u!");
        assert!(d.exec && !d.syslog && !d.wall);
        assert_eq!(
            table.dispatch(&Notification::for_ups(NotifyType::Online, "u")),
            None
        );
        // Other types keep their defaults.
        assert_eq!(table.template(NotifyType::LowBatt), "UPS %s battery is low");
    }
}
