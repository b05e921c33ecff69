//! `upsmon.conf` (docs/nut-behaviour.md §5.4): what upsmon watches, when it shuts down, how it notifies.
//!
//! One directive per line; keywords are case-sensitive except `DEBUG_MIN`; notify types are
//! case-insensitive, notify flags case-sensitive. Every directive of NUT up to 2.8.6 is
//! understood (2.8.0 knows only part of them; the rest are harmless to accept).
//!
//! Differences from NUT, on purpose: invalid values are errors (NUT logs them and goes on
//! with a default, or reads garbage as 0 — `MONITOR ups@h abc …` becomes a monitoring-only
//! entry); an unknown MONITOR role is an error (NUT silently treats it as secondary);
//! `NOTIFYMSG` may only contain `%s` (at most two for ALARM/OTHER, one otherwise) and `%%`,
//! as NUT ≥ 2.8.1 checks; `POLLFREQ`/`POLLFREQALERT` must be at least 1.

use std::collections::BTreeMap;

use super::diag::{ConfLine, ConfResult, Seen, Sink};
use super::ups_id::{HostPort, UpsId};
use super::values::{CertIdent, Role, boolean, parse_bool, parse_int, sint, uint};
use crate::names::{NotifyFlags, NotifyType};

/// `MINSUPPLIES` default: power values needed to keep running.
pub const DEFAULT_MINSUPPLIES: u32 = 1;
/// `POLLFREQ` default, seconds.
pub const DEFAULT_POLLFREQ: u32 = 5;
/// `POLLFREQALERT` default, seconds.
pub const DEFAULT_POLLFREQALERT: u32 = 5;
/// `HOSTSYNC` default, seconds.
pub const DEFAULT_HOSTSYNC: u32 = 15;
/// `DEADTIME` default, seconds.
pub const DEFAULT_DEADTIME: u32 = 15;
/// `RBWARNTIME` default, seconds (12 hours).
pub const DEFAULT_RBWARNTIME: u32 = 43200;
/// `NOCOMMWARNTIME` default, seconds.
pub const DEFAULT_NOCOMMWARNTIME: u32 = 300;
/// `FINALDELAY` default, seconds.
pub const DEFAULT_FINALDELAY: u32 = 5;
/// `OFFDURATION` default, seconds.
pub const DEFAULT_OFFDURATION: i32 = 30;
/// `POLLFAIL_LOG_THROTTLE_MAX` default: log every failed poll.
pub const DEFAULT_POLLFAIL_LOG_THROTTLE_MAX: i32 = -1;
/// `OBLBDURATION` default, seconds.
pub const DEFAULT_OBLBDURATION: u32 = 0;
/// `OVERDURATION` default: never treat OVER as critical by itself.
pub const DEFAULT_OVERDURATION: i32 = -1;

const MONITOR_USAGE: &str =
    "MONITOR <ups@host[:port]> <powervalue> <user> <password> <primary|secondary>";

const KEYWORDS: &[&str] = &[
    "MONITOR",
    "MINSUPPLIES",
    "SHUTDOWNCMD",
    "NOTIFYCMD",
    "POLLFREQ",
    "POLLFREQALERT",
    "HOSTSYNC",
    "DEADTIME",
    "POWERDOWNFLAG",
    "NOTIFYMSG",
    "NOTIFYFLAG",
    "RBWARNTIME",
    "NOCOMMWARNTIME",
    "FINALDELAY",
    "RUN_AS_USER",
    "CERTPATH",
    "CERTIDENT",
    "CERTHOST",
    "CERTVERIFY",
    "FORCESSL",
    "CERTFILE",
    "DEBUG_MIN",
    "OFFDURATION",
    "SHUTDOWNEXIT",
    "POLLFAIL_LOG_THROTTLE_MAX",
    "OBLBDURATION",
    "ALARMCRITICAL",
    "OVERDURATION",
];

/// A parsed upsmon.conf. Fields hold NUT's defaults when the file does not set them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpsmonConf {
    /// `MONITOR` lines in file order (duplicates dropped).
    pub monitors: Vec<Monitor>,
    /// `MINSUPPLIES`.
    pub minsupplies: u32,
    /// `SHUTDOWNCMD` words (NUT ≤ 2.8.5 runs only the first word through the shell; 2.8.6
    /// runs all of them).
    pub shutdowncmd: Option<Vec<String>>,
    /// `NOTIFYCMD` words.
    pub notifycmd: Option<Vec<String>>,
    /// `POLLFREQ` seconds.
    pub pollfreq: u32,
    /// `POLLFREQALERT` seconds.
    pub pollfreqalert: u32,
    /// `HOSTSYNC` seconds.
    pub hostsync: u32,
    /// `DEADTIME` seconds.
    pub deadtime: u32,
    /// `POWERDOWNFLAG` file.
    pub powerdownflag: Option<String>,
    /// `NOTIFYMSG` overrides (see [`UpsmonConf::notify_message`]).
    pub notify_messages: BTreeMap<NotifyType, String>,
    /// `NOTIFYFLAG` overrides (see [`UpsmonConf::notify_flags`]).
    pub notify_flags: BTreeMap<NotifyType, NotifyFlags>,
    /// `RBWARNTIME` seconds.
    pub rbwarntime: u32,
    /// `NOCOMMWARNTIME` seconds.
    pub nocommwarntime: u32,
    /// `FINALDELAY` seconds.
    pub finaldelay: u32,
    /// `RUN_AS_USER`.
    pub run_as_user: Option<String>,
    /// `CERTPATH`.
    pub certpath: Option<String>,
    /// `CERTIDENT <name> <password>`.
    pub certident: Option<CertIdent>,
    /// `CERTHOST` lines.
    pub certhosts: Vec<CertHost>,
    /// `CERTVERIFY`.
    pub certverify: bool,
    /// `FORCESSL`.
    pub forcessl: bool,
    /// `CERTFILE`.
    pub certfile: Option<String>,
    /// `DEBUG_MIN`.
    pub debug_min: Option<u32>,
    /// `OFFDURATION` seconds (< 0: never, 0: at once).
    pub offduration: i32,
    /// `SHUTDOWNEXIT`.
    pub shutdownexit: ShutdownExit,
    /// `POLLFAIL_LOG_THROTTLE_MAX` (−1: log every failure, 0: only changes).
    pub pollfail_log_throttle_max: i32,
    /// `OBLBDURATION` seconds.
    pub oblbduration: u32,
    /// `ALARMCRITICAL`.
    pub alarmcritical: bool,
    /// `OVERDURATION` seconds (< 0: never).
    pub overduration: i32,
}

impl Default for UpsmonConf {
    fn default() -> Self {
        Self {
            monitors: Vec::new(),
            minsupplies: DEFAULT_MINSUPPLIES,
            shutdowncmd: None,
            notifycmd: None,
            pollfreq: DEFAULT_POLLFREQ,
            pollfreqalert: DEFAULT_POLLFREQALERT,
            hostsync: DEFAULT_HOSTSYNC,
            deadtime: DEFAULT_DEADTIME,
            powerdownflag: None,
            notify_messages: BTreeMap::new(),
            notify_flags: BTreeMap::new(),
            rbwarntime: DEFAULT_RBWARNTIME,
            nocommwarntime: DEFAULT_NOCOMMWARNTIME,
            finaldelay: DEFAULT_FINALDELAY,
            run_as_user: None,
            certpath: None,
            certident: None,
            certhosts: Vec::new(),
            certverify: false,
            forcessl: false,
            certfile: None,
            debug_min: None,
            offduration: DEFAULT_OFFDURATION,
            shutdownexit: ShutdownExit::Exit,
            pollfail_log_throttle_max: DEFAULT_POLLFAIL_LOG_THROTTLE_MAX,
            oblbduration: DEFAULT_OBLBDURATION,
            alarmcritical: true,
            overduration: DEFAULT_OVERDURATION,
        }
    }
}

impl UpsmonConf {
    /// The message format for `t`: the `NOTIFYMSG` override or NUT's default.
    pub fn notify_message(&self, t: NotifyType) -> &str {
        self.notify_messages
            .get(&t)
            .map_or(t.default_message(), String::as_str)
    }

    /// The flags for `t`: the `NOTIFYFLAG` override or `SYSLOG+WALL`.
    pub fn notify_flags(&self, t: NotifyType) -> NotifyFlags {
        self.notify_flags.get(&t).copied().unwrap_or_default()
    }

    /// Sum of the power values of every `MONITOR` (compared with `MINSUPPLIES` at start).
    pub fn total_power_value(&self) -> u64 {
        self.monitors.iter().map(|m| u64::from(m.power_value)).sum()
    }
}

/// One `MONITOR` line.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Monitor {
    /// The identifier exactly as written (upsmon passes it to NOTIFYCMD and upssched as
    /// `UPSNAME`).
    pub system: String,
    /// The identifier, parsed.
    pub ups: UpsId,
    /// Power supplies this UPS feeds (0 = monitoring only).
    pub power_value: u32,
    /// upsd.users user name.
    pub user: String,
    /// Its password.
    pub password: String,
    /// primary or secondary.
    pub role: Role,
    /// Line of the directive.
    pub line: usize,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keep passwords out of debug logs.
        f.debug_struct("Monitor")
            .field("system", &self.system)
            .field("power_value", &self.power_value)
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .field("role", &self.role)
            .field("line", &self.line)
            .finish()
    }
}

/// `CERTHOST <host[:port]> <certname> <verify> <forcessl>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertHost {
    /// Server the settings apply to.
    pub host: HostPort,
    /// Expected certificate name.
    pub certname: String,
    /// Verify the server certificate.
    pub verify: bool,
    /// Refuse to talk without TLS.
    pub forcessl: bool,
}

/// `SHUTDOWNEXIT`: what upsmon does after running SHUTDOWNCMD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownExit {
    /// `yes` or `0` (the default): exit at once.
    Exit,
    /// `no` or a negative number: never exit.
    Never,
    /// A positive number: keep running (and the upsd session alive) this many seconds.
    Linger(u32),
}

impl ShutdownExit {
    /// `yes|on|true`, `no|off|false` (case-insensitive) or a whole number of seconds. A
    /// number is read as seconds before the boolean words, so `1` lingers one second.
    pub fn parse(word: &str) -> Option<Self> {
        let Some(n) = parse_int(word) else {
            return parse_bool(word).map(|exit| if exit { Self::Exit } else { Self::Never });
        };
        Some(match n {
            0 => Self::Exit,
            n if n < 0 => Self::Never,
            n => Self::Linger(u32::try_from(n).ok()?),
        })
    }
}

/// Parse upsmon.conf. `file_name` is only used in diagnostics.
pub fn parse_upsmon_conf(text: impl AsRef<[u8]>, file_name: &str) -> ConfResult<UpsmonConf> {
    let (mut sink, lines) = Sink::read(text.as_ref(), file_name);
    let mut conf = UpsmonConf::default();
    let mut seen = Seen::default();
    for l in &lines {
        directive(&mut conf, &mut seen, l, &mut sink);
    }
    sink.finish(conf)
}

fn directive(c: &mut UpsmonConf, seen: &mut Seen, l: &ConfLine, sink: &mut Sink) {
    let kw = if l.keyword().eq_ignore_ascii_case("DEBUG_MIN") {
        "DEBUG_MIN"
    } else {
        l.keyword()
    };
    let line = l.line;
    let (min, max, usage) = match kw {
        "MONITOR" => {
            if l.words.len() == 5 {
                sink.error(
                    line,
                    format!(
                        "old-style MONITOR line without a user name cannot work with upsd: \
                         add a user from upsd.users: {MONITOR_USAGE}"
                    ),
                );
                return;
            }
            (6, 6, MONITOR_USAGE)
        }
        "SHUTDOWNCMD" => (2, usize::MAX, "SHUTDOWNCMD <command> [<argument>...]"),
        "NOTIFYCMD" => (2, usize::MAX, "NOTIFYCMD <command> [<argument>...]"),
        "NOTIFYMSG" => (3, 3, "NOTIFYMSG <notify type> \"<message>\""),
        "NOTIFYFLAG" => (
            3,
            3,
            "NOTIFYFLAG <notify type> <SYSLOG|WALL|EXEC|IGNORE>[+...]",
        ),
        "CERTIDENT" => (3, 3, "CERTIDENT <certificate name> <password>"),
        "CERTHOST" => (
            5,
            5,
            "CERTHOST <host[:port]> <certificate name> <verify 0|1> <forcessl 0|1>",
        ),
        "MINSUPPLIES" => (2, 2, "MINSUPPLIES <number>"),
        "POLLFREQ" => (2, 2, "POLLFREQ <seconds>"),
        "POLLFREQALERT" => (2, 2, "POLLFREQALERT <seconds>"),
        "HOSTSYNC" => (2, 2, "HOSTSYNC <seconds>"),
        "DEADTIME" => (2, 2, "DEADTIME <seconds>"),
        "POWERDOWNFLAG" => (2, 2, "POWERDOWNFLAG <file>"),
        "RBWARNTIME" => (2, 2, "RBWARNTIME <seconds>"),
        "NOCOMMWARNTIME" => (2, 2, "NOCOMMWARNTIME <seconds>"),
        "FINALDELAY" => (2, 2, "FINALDELAY <seconds>"),
        "RUN_AS_USER" => (2, 2, "RUN_AS_USER <user>"),
        "CERTPATH" => (2, 2, "CERTPATH <directory>"),
        "CERTVERIFY" => (2, 2, "CERTVERIFY <0|1>"),
        "FORCESSL" => (2, 2, "FORCESSL <0|1>"),
        "CERTFILE" => (2, 2, "CERTFILE <pem file>"),
        "DEBUG_MIN" => (2, 2, "DEBUG_MIN <level>"),
        "OFFDURATION" => (2, 2, "OFFDURATION <seconds>"),
        "SHUTDOWNEXIT" => (2, 2, "SHUTDOWNEXIT <yes|no|seconds>"),
        "POLLFAIL_LOG_THROTTLE_MAX" => (2, 2, "POLLFAIL_LOG_THROTTLE_MAX <count>"),
        "OBLBDURATION" => (2, 2, "OBLBDURATION <seconds>"),
        "ALARMCRITICAL" => (2, 2, "ALARMCRITICAL <0|1>"),
        "OVERDURATION" => (2, 2, "OVERDURATION <seconds>"),
        _ => return sink.unknown_directive(l, KEYWORDS),
    };
    if !sink.arity(l, min, max, usage) {
        return;
    }
    let v = l.words[1].as_str();
    match kw {
        "MONITOR" => return monitor(c, l, sink),
        "CERTHOST" => return certhost(c, l, sink),
        "NOTIFYMSG" | "NOTIFYFLAG" => return notify(c, seen, l, sink),
        _ => seen.note(sink, kw, line),
    }
    let set_u32 = |field: &mut u32, sink: &mut Sink, min: u32| {
        if let Some(n) = uint(sink, line, kw, v, min) {
            *field = n;
        }
    };
    let set_i32 = |field: &mut i32, sink: &mut Sink, min: i32| {
        if let Some(n) = sint(sink, line, kw, v, min) {
            *field = n;
        }
    };
    let set_bool = |field: &mut bool, sink: &mut Sink| {
        if let Some(b) = boolean(sink, line, kw, v) {
            *field = b;
        }
    };
    match kw {
        "MINSUPPLIES" => set_u32(&mut c.minsupplies, sink, 0),
        "SHUTDOWNCMD" => c.shutdowncmd = command(l, sink),
        "NOTIFYCMD" => c.notifycmd = command(l, sink),
        "POLLFREQ" => set_u32(&mut c.pollfreq, sink, 1),
        "POLLFREQALERT" => set_u32(&mut c.pollfreqalert, sink, 1),
        "HOSTSYNC" => set_u32(&mut c.hostsync, sink, 0),
        "DEADTIME" => set_u32(&mut c.deadtime, sink, 0),
        "POWERDOWNFLAG" => c.powerdownflag = Some(v.to_owned()),
        "RBWARNTIME" => set_u32(&mut c.rbwarntime, sink, 0),
        "NOCOMMWARNTIME" => set_u32(&mut c.nocommwarntime, sink, 0),
        "FINALDELAY" => set_u32(&mut c.finaldelay, sink, 0),
        "RUN_AS_USER" => c.run_as_user = Some(v.to_owned()),
        "CERTPATH" => c.certpath = Some(v.to_owned()),
        "CERTIDENT" => {
            c.certident = Some(CertIdent {
                name: v.to_owned(),
                password: l.words[2].clone(),
            });
        }
        "CERTVERIFY" => set_bool(&mut c.certverify, sink),
        "FORCESSL" => set_bool(&mut c.forcessl, sink),
        "CERTFILE" => c.certfile = Some(v.to_owned()),
        "DEBUG_MIN" => c.debug_min = uint(sink, line, kw, v, 0),
        "OFFDURATION" => set_i32(&mut c.offduration, sink, i32::MIN),
        "SHUTDOWNEXIT" => match ShutdownExit::parse(v) {
            Some(s) => c.shutdownexit = s,
            None => sink.error(
                line,
                format!("SHUTDOWNEXIT: expected yes, no or a number of seconds, got '{v}'"),
            ),
        },
        "POLLFAIL_LOG_THROTTLE_MAX" => set_i32(&mut c.pollfail_log_throttle_max, sink, -1),
        "OBLBDURATION" => set_u32(&mut c.oblbduration, sink, 0),
        "ALARMCRITICAL" => set_bool(&mut c.alarmcritical, sink),
        _ => set_i32(&mut c.overduration, sink, i32::MIN),
    }
}

fn command(l: &ConfLine, sink: &mut Sink) -> Option<Vec<String>> {
    if l.words[1].is_empty() {
        sink.error(l.line, format!("{}: empty command", l.keyword()));
        return None;
    }
    Some(l.words[1..].to_vec())
}

fn monitor(c: &mut UpsmonConf, l: &ConfLine, sink: &mut Sink) {
    let w = &l.words;
    let mut ok = true;
    let ups = UpsId::parse(&w[1])
        .map_err(|e| sink.error(l.line, format!("MONITOR: {e}")))
        .ok();
    let power_value = uint(sink, l.line, "MONITOR power value", &w[2], 0);
    if w[3].is_empty() {
        sink.error(l.line, "MONITOR: empty user name");
        ok = false;
    }
    let role = Role::parse(&w[5]);
    if role.is_none() {
        sink.error(
            l.line,
            format!(
                "MONITOR: expected primary or secondary (or master, slave) as the last word, got '{}'",
                w[5]
            ),
        );
    }
    let (Some(ups), Some(power_value), Some(role), true) = (ups, power_value, role, ok) else {
        return;
    };
    if let Some(first) = c.monitors.iter().find(|m| m.system == w[1]) {
        sink.warn(
            l.line,
            format!(
                "MONITOR {} already given at line {} (ignored, as in NUT)",
                w[1], first.line
            ),
        );
        return;
    }
    c.monitors.push(Monitor {
        system: w[1].clone(),
        ups,
        power_value,
        user: w[3].clone(),
        password: w[4].clone(),
        role,
        line: l.line,
    });
}

fn certhost(c: &mut UpsmonConf, l: &ConfLine, sink: &mut Sink) {
    let w = &l.words;
    let host = HostPort::parse(&w[1])
        .map_err(|e| sink.error(l.line, format!("CERTHOST: {e}")))
        .ok();
    let verify = boolean(sink, l.line, "CERTHOST verify", &w[3]);
    let forcessl = boolean(sink, l.line, "CERTHOST forcessl", &w[4]);
    if let (Some(host), Some(verify), Some(forcessl)) = (host, verify, forcessl) {
        c.certhosts.push(CertHost {
            host,
            certname: w[2].clone(),
            verify,
            forcessl,
        });
    }
}

fn notify(c: &mut UpsmonConf, seen: &mut Seen, l: &ConfLine, sink: &mut Sink) {
    let (kw, name, value) = (l.keyword(), &l.words[1], &l.words[2]);
    let Some(t) = NotifyType::from_name(name) else {
        sink.error(
            l.line,
            format!("{kw}: unknown notify type '{name}' (known: ONLINE, ONBATT, LOWBATT, FSD, ...; see upsmon.conf(5))"),
        );
        return;
    };
    if kw == "NOTIFYMSG" {
        let allowed = if matches!(t, NotifyType::Alarm | NotifyType::Other) {
            2
        } else {
            1
        };
        if !format_is_safe(value, allowed) {
            sink.error(
                l.line,
                format!(
                    "NOTIFYMSG {t}: the message may hold at most {allowed} %s (and %% for a \
                     percent sign), no other % sequence: '{value}'"
                ),
            );
            return;
        }
        seen.note(sink, &format!("NOTIFYMSG {t}"), l.line);
        c.notify_messages.insert(t, value.clone());
    } else {
        match NotifyFlags::parse(value) {
            Ok(flags) => {
                seen.note(sink, &format!("NOTIFYFLAG {t}"), l.line);
                c.notify_flags.insert(t, flags);
            }
            Err(bad) => sink.error(
                l.line,
                format!(
                    "NOTIFYFLAG {t}: unknown flag '{bad}': use SYSLOG, WALL, EXEC or IGNORE \
                     (upper case), joined with +"
                ),
            ),
        }
    }
}

/// Whether a NOTIFYMSG format holds only `%%` and at most `max_s` `%s`: upsmon hands it to
/// a printf-style formatter with that many string arguments.
fn format_is_safe(format: &str, max_s: usize) -> bool {
    let mut count = 0;
    let mut bytes = format.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            match bytes.next() {
                Some(b'%') => {}
                Some(b's') => count += 1,
                _ => return false,
            }
        }
    }
    count <= max_s
}

#[cfg(test)]
mod tests;
