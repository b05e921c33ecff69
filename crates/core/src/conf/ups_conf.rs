//! `ups.conf` (docs/nut-behaviour.md §5.1): global driver settings, then one `[name]` section per UPS.
//!
//! Grammar, as NUT's reader: a first word `[name]` opens a section; `key = value` needs `=`
//! as the second word (extra words after the value are ignored); a lone `key` is a flag.
//! Every key/value and flag of a section is kept in order, because drivers accept options of
//! their own that only the driver can validate; the settings every driver or upsdrvctl
//! understands also get typed fields.
//!
//! Differences from NUT, on purpose:
//! * lines NUT ignores silently (`key value` without `=`, `key =` without a value) are
//!   warnings;
//! * a repeated `[name]` is an error: NUT merges both sections into one UPS, so the second
//!   half of a copy-pasted block silently overrides the first (usually its port);
//! * a section without `driver` or `port` is an error (upsd only logs and skips it,
//!   upsdrvctl fails on it later);
//! * typed values must be whole numbers (NUT's `atoi` reads `abc` as 0).

use std::collections::BTreeMap;

use super::diag::{ConfLine, ConfResult, Seen, Sink, section_header};
use super::values::{parse_bool, sint, uint};

/// upsdrvctl waits this many seconds for a driver to start (`maxstartdelay`).
pub const DEFAULT_MAXSTARTDELAY: u32 = 75;
/// upsdrvctl tries to start a driver this many times (`maxretry`).
pub const DEFAULT_MAXRETRY: u32 = 1;
/// upsdrvctl waits this many seconds between start attempts (`retrydelay`).
pub const DEFAULT_RETRYDELAY: u32 = 5;
/// Drivers poll the device this often, in seconds (`pollinterval`).
pub const DEFAULT_POLLINTERVAL: u32 = 2;

/// Section keys that the common driver core (or upsd, or upsdrvctl) handles for every
/// driver, as opposed to driver-specific options. `override.*` and `default.*` are generic
/// too (see [`is_generic_key`]).
pub const GENERIC_SECTION_KEYS: &[&str] = &[
    "driver",
    "port",
    "desc",
    "sdorder",
    "sdcommands",
    "allow_killpower",
    "nolock",
    "ignorelb",
    "maxstartdelay",
    "maxretry",
    "retrydelay",
    "synchronous",
    "user",
    "group",
    "pollinterval",
    "reconnect_max_tries",
    "reconnect_report_freq",
    "debug_min",
    "LIBUSB_DEBUG",
    "sddelay",
];

/// Case-sensitive global keys (`statepath`, `debug_min` and `LIBUSB_DEBUG` are matched
/// case-insensitively and so never need a case hint).
const GLOBAL_KEYS: &[&str] = &[
    "chroot",
    "driverpath",
    "maxstartdelay",
    "maxretry",
    "retrydelay",
    "nowait",
    "pollinterval",
    "synchronous",
    "user",
    "group",
    "reconnect_max_tries",
    "reconnect_report_freq",
];

/// Whether `key` is handled by the driver core rather than by a specific driver.
pub fn is_generic_key(key: &str) -> bool {
    GENERIC_SECTION_KEYS.contains(&key)
        || key.eq_ignore_ascii_case("debug_min")
        || key.eq_ignore_ascii_case("LIBUSB_DEBUG")
        || key.starts_with("override.")
        || key.starts_with("default.")
}

/// A parsed ups.conf.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpsConf {
    /// Settings before the first section.
    pub global: UpsGlobal,
    /// The UPS sections, in file order (upsd lists UPSes in this order at start-up).
    pub sections: Vec<UpsSection>,
}

/// One `key = value` or flag line, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The key, case preserved.
    pub key: String,
    /// The value; `None` for a flag.
    pub value: Option<String>,
    /// Line number.
    pub line: usize,
}

/// `synchronous`: whether a driver waits for upsd to read each update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synchronous {
    /// `yes`: always wait.
    Yes,
    /// `no`: never wait.
    No,
    /// `auto` (the default): start asynchronous, switch to synchronous if writes fail.
    Auto,
}

impl Synchronous {
    /// `yes|no|auto`, case-insensitive; the other boolean words are accepted too.
    pub fn parse(word: &str) -> Option<Self> {
        if word.eq_ignore_ascii_case("auto") {
            return Some(Self::Auto);
        }
        parse_bool(word).map(|b| if b { Self::Yes } else { Self::No })
    }
}

/// The global section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpsGlobal {
    /// Every global line, in order.
    pub entries: Vec<Entry>,
    /// `chroot`: drivers chroot here.
    pub chroot: Option<String>,
    /// `driverpath`: where upsdrvctl finds drivers.
    pub driverpath: Option<String>,
    /// `statepath` (key matched case-insensitively): where driver sockets live.
    pub statepath: Option<String>,
    /// `maxstartdelay` (upsdrvctl).
    pub maxstartdelay: Option<u32>,
    /// `maxretry` (upsdrvctl).
    pub maxretry: Option<u32>,
    /// `retrydelay` (upsdrvctl).
    pub retrydelay: Option<u32>,
    /// `nowait` flag (upsdrvctl does not wait for drivers to start).
    pub nowait: bool,
    /// `pollinterval` for all drivers.
    pub pollinterval: Option<u32>,
    /// `synchronous` for all drivers.
    pub synchronous: Option<Synchronous>,
    /// `user` drivers run as.
    pub user: Option<String>,
    /// `group` for driver sockets.
    pub group: Option<String>,
    /// `debug_min` (key matched case-insensitively).
    pub debug_min: Option<u32>,
    /// `LIBUSB_DEBUG` level.
    pub libusb_debug: Option<u32>,
    /// `reconnect_max_tries`: −1 retries forever, 0 exits at once.
    pub reconnect_max_tries: Option<i32>,
    /// `reconnect_report_freq`.
    pub reconnect_report_freq: Option<u32>,
}

/// One `[name]` section.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpsSection {
    /// The UPS name (the text between the brackets).
    pub name: String,
    /// Line of the `[name]` header.
    pub line: usize,
    /// Every key/value and flag, in file order, including the ones with typed fields.
    pub entries: Vec<Entry>,
    /// `driver` (required).
    pub driver: String,
    /// `port` (required).
    pub port: String,
    /// `desc`: shown by `LIST UPS` and `GET UPSDESC`.
    pub desc: Option<String>,
    /// `sdorder`: upsdrvctl shutdown order; −1 excludes the UPS. Default 0.
    pub sdorder: i32,
    /// `maxstartdelay`.
    pub maxstartdelay: Option<u32>,
    /// `maxretry`.
    pub maxretry: Option<u32>,
    /// `retrydelay`.
    pub retrydelay: Option<u32>,
    /// `pollinterval` (> 0).
    pub pollinterval: Option<u32>,
    /// `user` this driver runs as.
    pub user: Option<String>,
    /// `group` for this driver's socket.
    pub group: Option<String>,
    /// `synchronous`.
    pub synchronous: Option<Synchronous>,
    /// `nolock` flag.
    pub nolock: bool,
    /// `ignorelb` flag.
    pub ignorelb: bool,
    /// `allow_killpower` flag.
    pub allow_killpower: bool,
    /// `override.<var> = value`, keyed by `<var>` (last value wins).
    pub overrides: BTreeMap<String, String>,
    /// `default.<var> = value`, keyed by `<var>` (last value wins).
    pub defaults: BTreeMap<String, String>,
}

impl UpsSection {
    fn new(name: String, line: usize) -> Self {
        Self {
            name,
            line,
            entries: Vec::new(),
            driver: String::new(),
            port: String::new(),
            desc: None,
            sdorder: 0,
            maxstartdelay: None,
            maxretry: None,
            retrydelay: None,
            pollinterval: None,
            user: None,
            group: None,
            synchronous: None,
            nolock: false,
            ignorelb: false,
            allow_killpower: false,
            overrides: BTreeMap::new(),
            defaults: BTreeMap::new(),
        }
    }

    /// The value of `key` (exact case); the last one wins, as in NUT. `None` for flags.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key == key)
            .and_then(|e| e.value.as_deref())
    }

    /// Whether `key` appears as a flag (a line holding only the key).
    pub fn has_flag(&self, key: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.key == key && e.value.is_none())
    }

    /// The entries a specific driver must validate (everything not [`is_generic_key`]).
    pub fn driver_options(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| !is_generic_key(&e.key))
    }
}

impl UpsConf {
    /// The section named `name` (case-sensitive, as upsd and the drivers match it).
    pub fn section(&self, name: &str) -> Option<&UpsSection> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// `maxstartdelay` for `ups`: its own, else the global one, else the default.
    pub fn effective_maxstartdelay(&self, ups: &UpsSection) -> u32 {
        ups.maxstartdelay
            .or(self.global.maxstartdelay)
            .unwrap_or(DEFAULT_MAXSTARTDELAY)
    }

    /// `maxretry` for `ups`.
    pub fn effective_maxretry(&self, ups: &UpsSection) -> u32 {
        ups.maxretry
            .or(self.global.maxretry)
            .unwrap_or(DEFAULT_MAXRETRY)
    }

    /// `retrydelay` for `ups`.
    pub fn effective_retrydelay(&self, ups: &UpsSection) -> u32 {
        ups.retrydelay
            .or(self.global.retrydelay)
            .unwrap_or(DEFAULT_RETRYDELAY)
    }

    /// `pollinterval` for `ups`.
    pub fn effective_pollinterval(&self, ups: &UpsSection) -> u32 {
        ups.pollinterval
            .or(self.global.pollinterval)
            .unwrap_or(DEFAULT_POLLINTERVAL)
    }

    /// `synchronous` for `ups`.
    pub fn effective_synchronous(&self, ups: &UpsSection) -> Synchronous {
        ups.synchronous
            .or(self.global.synchronous)
            .unwrap_or(Synchronous::Auto)
    }
}

/// Parse ups.conf. `file_name` is only used in diagnostics.
pub fn parse_ups_conf(text: impl AsRef<[u8]>, file_name: &str) -> ConfResult<UpsConf> {
    let (mut sink, lines) = Sink::read(text.as_ref(), file_name);
    let mut conf = UpsConf::default();
    let mut global_seen = Seen::default();
    // The section being filled; `None` before the first header and while skipping the body
    // of a duplicate or malformed section header.
    let mut current: Option<Builder> = None;
    let mut skipping = false;
    let mut first_line: BTreeMap<String, usize> = BTreeMap::new();

    for l in &lines {
        if let Some(name) = section_header(l.keyword()) {
            if let Some(done) = current.take() {
                conf.sections.extend(done.finish(&mut sink));
            }
            if l.words.len() > 1 {
                sink.warn(
                    l.line,
                    format!("words after the section header ignored: {}", l.rest(1)),
                );
            }
            skipping = false;
            if name.is_empty() || name.contains('/') {
                sink.error(
                    l.line,
                    format!("bad section name [{name}]: it must be non-empty and contain no '/'"),
                );
                skipping = true;
            } else if let Some(first) = first_line.get(name) {
                sink.error(
                    l.line,
                    format!(
                        "duplicate section [{name}] (first at line {first}); \
                         NUT would merge the two, give each UPS its own name"
                    ),
                );
                skipping = true;
            } else {
                first_line.insert(name.to_owned(), l.line);
                current = Some(Builder::new(name.to_owned(), l.line));
            }
            continue;
        }
        if l.keyword().starts_with('[') {
            // Which section the following lines belong to is unknown: skip them rather than
            // pile them onto the previous UPS.
            if let Some(done) = current.take() {
                conf.sections.extend(done.finish(&mut sink));
            }
            skipping = true;
            sink.bad_header(l);
            continue;
        }
        let Some(entry) = split_entry(l, &mut sink) else {
            continue;
        };
        if skipping {
            continue;
        }
        match current.as_mut() {
            Some(section) => section.add(entry, &mut sink),
            None => global_entry(&mut conf.global, &mut global_seen, entry, &mut sink),
        }
    }
    if let Some(done) = current.take() {
        conf.sections.extend(done.finish(&mut sink));
    }
    sink.finish(conf)
}

/// Turn a non-header line into an [`Entry`], or warn about why NUT would ignore it.
fn split_entry(l: &ConfLine, sink: &mut Sink) -> Option<Entry> {
    let key = l.keyword();
    let w = &l.words;
    if key == "=" {
        sink.warn(l.line, "line starts with '=' and has no key (line ignored)");
        return None;
    }
    let value = match w.len() {
        1 => None,
        2 if w[1] == "=" => {
            sink.warn(
                l.line,
                format!(
                    "{key} = has no value (line ignored); write {key} = \"\" for an empty value"
                ),
            );
            return None;
        }
        _ if w[1] == "=" => {
            if w.len() > 3 {
                sink.warn(
                    l.line,
                    format!(
                        "words after the value of {key} ignored: {} (quote a value that contains spaces)",
                        l.rest(3)
                    ),
                );
            }
            Some(w[2].clone())
        }
        _ => {
            sink.warn(
                l.line,
                format!(
                    "missing '=' after {key}: write {key} = {} (line ignored, as NUT does)",
                    l.rest(1)
                ),
            );
            return None;
        }
    };
    Some(Entry {
        key: key.to_owned(),
        value,
        line: l.line,
    })
}

/// A value was required but the line is a bare flag.
fn need_value(sink: &mut Sink, e: &Entry, what: &str) -> Option<String> {
    if e.value.is_none() {
        sink.error(
            e.line,
            format!("{} needs a value: {} = <{what}>", e.key, e.key),
        );
    }
    e.value.clone()
}

/// A flag was given a value: NUT ignores the value and sets the flag, even for `= no`.
fn flag(sink: &mut Sink, e: &Entry) -> bool {
    if let Some(v) = &e.value {
        sink.warn(
            e.line,
            format!(
                "{k} is a flag: the value '{v}' is ignored and the flag is set; write {k} alone",
                k = e.key
            ),
        );
    }
    true
}

fn synchronous(sink: &mut Sink, e: &Entry) -> Option<Synchronous> {
    let v = need_value(sink, e, "yes|no|auto")?;
    let parsed = Synchronous::parse(&v);
    if parsed.is_none() {
        sink.error(
            e.line,
            format!("synchronous: expected yes, no or auto, got '{v}'"),
        );
    }
    parsed
}

fn number(sink: &mut Sink, e: &Entry, min: u32) -> Option<u32> {
    let v = need_value(sink, e, "number")?;
    uint(sink, e.line, &e.key, &v, min)
}

fn signed(sink: &mut Sink, e: &Entry, min: i32) -> Option<i32> {
    let v = need_value(sink, e, "number")?;
    sint(sink, e.line, &e.key, &v, min)
}

fn global_entry(g: &mut UpsGlobal, seen: &mut Seen, e: Entry, sink: &mut Sink) {
    let key = e.key.as_str();
    let folded = key.to_ascii_lowercase();
    let case_insensitive = matches!(folded.as_str(), "statepath" | "debug_min" | "libusb_debug");
    seen.note(sink, if case_insensitive { &folded } else { key }, e.line);
    match key {
        "chroot" => g.chroot = need_value(sink, &e, "directory"),
        "driverpath" => g.driverpath = need_value(sink, &e, "directory"),
        "maxstartdelay" => g.maxstartdelay = number(sink, &e, 0),
        "maxretry" => g.maxretry = number(sink, &e, 0),
        "retrydelay" => g.retrydelay = number(sink, &e, 0),
        "nowait" => g.nowait = flag(sink, &e),
        "pollinterval" => g.pollinterval = number(sink, &e, 1),
        "synchronous" => g.synchronous = synchronous(sink, &e),
        "user" => g.user = need_value(sink, &e, "user name"),
        "group" => g.group = need_value(sink, &e, "group name"),
        "reconnect_max_tries" => g.reconnect_max_tries = signed(sink, &e, -1),
        "reconnect_report_freq" => g.reconnect_report_freq = number(sink, &e, 0),
        _ if folded == "statepath" => g.statepath = need_value(sink, &e, "directory"),
        _ if folded == "debug_min" => g.debug_min = number(sink, &e, 0),
        _ if folded == "libusb_debug" => g.libusb_debug = number(sink, &e, 0),
        _ => {
            let hint = match GLOBAL_KEYS.iter().find(|k| k.eq_ignore_ascii_case(key)) {
                Some(k) => format!("keys are case-sensitive, did you mean {k}?"),
                None => "driver options belong in a [section]".to_owned(),
            };
            sink.warn(
                e.line,
                format!("unknown global directive {key} (ignored; {hint})"),
            );
        }
    }
    g.entries.push(e);
}

/// A section being read.
struct Builder {
    section: UpsSection,
    seen: Seen,
    driver: Option<String>,
    port: Option<String>,
}

impl Builder {
    fn new(name: String, line: usize) -> Self {
        Self {
            section: UpsSection::new(name, line),
            seen: Seen::default(),
            driver: None,
            port: None,
        }
    }

    fn add(&mut self, e: Entry, sink: &mut Sink) {
        let s = &mut self.section;
        let key = e.key.as_str();
        let folded = key.to_ascii_lowercase();
        let case_insensitive = folded == "debug_min" || folded == "libusb_debug";
        self.seen
            .note(sink, if case_insensitive { &folded } else { key }, e.line);
        match key {
            "driver" => {
                if let Some(v) = need_value(sink, &e, "driver name") {
                    self.driver = Some(v);
                }
            }
            "port" => {
                if let Some(v) = need_value(sink, &e, "device, file or ups@host") {
                    self.port = Some(v);
                }
            }
            "desc" => s.desc = need_value(sink, &e, "description"),
            "sdorder" => s.sdorder = signed(sink, &e, -1).unwrap_or(0),
            "maxstartdelay" => s.maxstartdelay = number(sink, &e, 0),
            "maxretry" => s.maxretry = number(sink, &e, 0),
            "retrydelay" => s.retrydelay = number(sink, &e, 0),
            "pollinterval" => s.pollinterval = number(sink, &e, 1),
            "user" => s.user = need_value(sink, &e, "user name"),
            "group" => s.group = need_value(sink, &e, "group name"),
            "synchronous" => s.synchronous = synchronous(sink, &e),
            "nolock" => s.nolock = flag(sink, &e),
            "ignorelb" => s.ignorelb = flag(sink, &e),
            "allow_killpower" => s.allow_killpower = flag(sink, &e),
            "reconnect_max_tries" => {
                signed(sink, &e, -1);
            }
            "reconnect_report_freq" => {
                number(sink, &e, 0);
            }
            "sddelay" => sink.warn(e.line, "sddelay is obsolete and ignored by drivers"),
            _ if case_insensitive => {
                number(sink, &e, 0);
            }
            _ => {
                if let Some(meant) = GENERIC_SECTION_KEYS
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(key))
                {
                    sink.warn(
                        e.line,
                        format!(
                            "keys are case-sensitive: {key} is not {meant} \
                             (kept as an option for the driver, which will likely reject it)"
                        ),
                    );
                }
                for (prefix, map) in [
                    ("override.", &mut s.overrides),
                    ("default.", &mut s.defaults),
                ] {
                    if let Some(var) = key.strip_prefix(prefix) {
                        if var.is_empty() {
                            sink.error(
                                e.line,
                                format!(
                                    "{key} names no variable: write {prefix}<variable> = <value>"
                                ),
                            );
                        } else if let Some(v) = need_value(sink, &e, "value") {
                            map.insert(var.to_owned(), v);
                        }
                    }
                }
            }
        }
        s.entries.push(e);
    }

    fn finish(self, sink: &mut Sink) -> Option<UpsSection> {
        let mut s = self.section;
        let mut complete = true;
        match self.driver {
            Some(d) => s.driver = d,
            None => {
                sink.error(
                    s.line,
                    format!(
                        "section [{}] has no driver: add driver = <driver name>",
                        s.name
                    ),
                );
                complete = false;
            }
        }
        match self.port {
            Some(p) => s.port = p,
            None => {
                sink.error(
                    s.line,
                    format!(
                        "section [{}] has no port: add port = <device, file or ups@host>",
                        s.name
                    ),
                );
                complete = false;
            }
        }
        complete.then_some(s)
    }
}

#[cfg(test)]
mod tests;
