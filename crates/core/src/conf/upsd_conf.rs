//! `upsd.conf` (docs/nut-behaviour.md §5.2): the data server's listeners, timeouts, paths and TLS.
//!
//! One directive per line, keywords case-sensitive (upper case) except `DEBUG_MIN`.
//! Differences from NUT, on purpose: invalid values are errors (NUT logs `invalid
//! directive` and starts anyway with the default); unknown directives are warnings (NUT
//! counts them as "config errors" but also continues); a repeated identical `LISTEN` is
//! dropped with a warning instead of failing to bind twice.

use super::diag::{ConfLine, ConfResult, Seen, Sink};
use super::ups_id::{DEFAULT_PORT, parse_port};
use super::values::{CertIdent, boolean, parse_bool, parse_int, uint};

/// Seconds without news from a driver before its data is stale (`MAXAGE`).
pub const DEFAULT_MAXAGE: u32 = 15;
/// Seconds a `TRACKING` id's result is kept (`TRACKINGDELAY`).
pub const DEFAULT_TRACKINGDELAY: u32 = 3600;
/// Addresses upsd listens on when no `LISTEN` is given (port [`DEFAULT_PORT`]).
pub const DEFAULT_LISTEN_ADDRS: [&str; 2] = ["127.0.0.1", "::1"];

const KEYWORDS: &[&str] = &[
    "LISTEN",
    "MAXAGE",
    "TRACKINGDELAY",
    "MAXCONN",
    "STATEPATH",
    "DATAPATH",
    "ALLOW_NO_DEVICE",
    "ALLOW_NOT_ALL_LISTENERS",
    "CERTFILE",
    "CERTPATH",
    "CERTIDENT",
    "CERTREQUEST",
    "DISABLE_WEAK_SSL",
    "FORCESSL",
    "DEBUG_MIN",
];

/// A parsed upsd.conf. Fields hold NUT's defaults when the file does not set them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpsdConf {
    /// `LISTEN` lines in file order; empty means [`UpsdConf::listeners`]' defaults.
    pub listen: Vec<Listen>,
    /// `MAXAGE` seconds.
    pub maxage: u32,
    /// `TRACKINGDELAY` seconds.
    pub trackingdelay: u32,
    /// `MAXCONN`; `None` means the file-descriptor limit minus a reserve (decided at run
    /// time).
    pub maxconn: Option<u32>,
    /// `STATEPATH` (the `NUT_STATEPATH` environment variable wins over it).
    pub statepath: Option<String>,
    /// `DATAPATH`: where cmdvartab lives.
    pub datapath: Option<String>,
    /// `ALLOW_NO_DEVICE` (the same-named environment variable wins over it).
    pub allow_no_device: bool,
    /// `ALLOW_NOT_ALL_LISTENERS` (the same-named environment variable wins over it).
    pub allow_not_all_listeners: bool,
    /// `CERTFILE`: PEM with the certificate chain and key.
    pub certfile: Option<String>,
    /// `CERTPATH`: CA directory or bundle (NSS database in NUT's NSS builds).
    pub certpath: Option<String>,
    /// `CERTIDENT <name> <password>`.
    pub certident: Option<CertIdent>,
    /// `CERTREQUEST`: whether client certificates are asked for.
    pub certrequest: CertRequest,
    /// `DISABLE_WEAK_SSL`: require TLS 1.2 or later.
    pub disable_weak_ssl: bool,
    /// `FORCESSL` (a nut-rs addition, named after upsmon.conf's): refuse `USERNAME`,
    /// `PASSWORD` and every privileged command on connections that did not `STARTTLS`, so
    /// that credentials never cross the network in clear. Needs `CERTFILE`.
    pub force_ssl: bool,
    /// `DEBUG_MIN`.
    pub debug_min: Option<u32>,
}

impl Default for UpsdConf {
    fn default() -> Self {
        Self {
            listen: Vec::new(),
            maxage: DEFAULT_MAXAGE,
            trackingdelay: DEFAULT_TRACKINGDELAY,
            maxconn: None,
            statepath: None,
            datapath: None,
            allow_no_device: false,
            allow_not_all_listeners: false,
            certfile: None,
            certpath: None,
            certident: None,
            certrequest: CertRequest::No,
            disable_weak_ssl: false,
            force_ssl: false,
            debug_min: None,
        }
    }
}

impl UpsdConf {
    /// What to listen on: the `LISTEN` lines, or NUT's defaults (`127.0.0.1` and `::1` on
    /// port 3493) when there are none.
    pub fn listeners(&self) -> Vec<Listen> {
        if !self.listen.is_empty() {
            return self.listen.clone();
        }
        DEFAULT_LISTEN_ADDRS
            .iter()
            .map(|a| Listen {
                addr: ListenAddr::Host((*a).to_owned()),
                port: DEFAULT_PORT,
                line: 0,
            })
            .collect()
    }
}

/// One `LISTEN <addr> [<port>]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listen {
    /// Address to bind.
    pub addr: ListenAddr,
    /// TCP port.
    pub port: u16,
    /// Line of the directive (0 for a built-in default).
    pub line: usize,
}

/// The address part of `LISTEN`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ListenAddr {
    /// `*`: every address.
    Any,
    /// A host name or IP address (IPv6 unbracketed, as NUT passes it to the resolver).
    Host(String),
}

/// `CERTREQUEST`: client certificate policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertRequest {
    /// `0` / `NO`: do not ask.
    No,
    /// `1` / `REQUEST`: ask, accept clients without one.
    Request,
    /// `2` / `REQUIRE`: ask and require a valid one.
    Require,
}

impl CertRequest {
    /// `0|1|2` or `NO|REQUEST|REQUIRE` (names case-insensitive).
    pub fn parse(word: &str) -> Option<Self> {
        match word.to_ascii_uppercase().as_str() {
            "0" | "NO" => Some(Self::No),
            "1" | "REQUEST" => Some(Self::Request),
            "2" | "REQUIRE" => Some(Self::Require),
            _ => None,
        }
    }
}

/// Parse upsd.conf. `file_name` is only used in diagnostics.
pub fn parse_upsd_conf(text: impl AsRef<[u8]>, file_name: &str) -> ConfResult<UpsdConf> {
    let (mut sink, lines) = Sink::read(text.as_ref(), file_name);
    let mut conf = UpsdConf::default();
    let mut seen = Seen::default();
    for l in &lines {
        directive(&mut conf, &mut seen, l, &mut sink);
    }
    if conf.force_ssl && conf.certfile.is_none() {
        let line = lines
            .iter()
            .rev()
            .find(|l| l.keyword() == "FORCESSL")
            .map_or(0, |l| l.line);
        sink.error(
            line,
            "FORCESSL needs CERTFILE: without TLS no client could ever log in",
        );
    }
    sink.finish(conf)
}

fn directive(c: &mut UpsdConf, seen: &mut Seen, l: &ConfLine, sink: &mut Sink) {
    let kw = l.keyword();
    let line = l.line;
    let arg = |i: usize| l.words.get(i).map(String::as_str).unwrap_or_default();
    if kw.eq_ignore_ascii_case("DEBUG_MIN") {
        if sink.arity(l, 2, 2, "DEBUG_MIN <level>") {
            seen.note(sink, "DEBUG_MIN", line);
            c.debug_min = uint(sink, line, kw, arg(1), 0);
        }
        return;
    }
    match kw {
        "LISTEN" => {
            if sink.arity(l, 2, 3, "LISTEN <address|*> [<port>]") {
                listen(c, l, sink);
            }
        }
        "ACCEPT" | "REJECT" | "ACL" => sink.warn(
            line,
            format!("{kw} is no longer supported (ignored): use LISTEN, and a firewall for access control"),
        ),
        _ => {
            let usage = match kw {
                "MAXAGE" => "MAXAGE <seconds>",
                "TRACKINGDELAY" => "TRACKINGDELAY <seconds>",
                "MAXCONN" => "MAXCONN <connections>",
                "STATEPATH" => "STATEPATH <directory>",
                "DATAPATH" => "DATAPATH <directory>",
                "ALLOW_NO_DEVICE" => "ALLOW_NO_DEVICE <yes|no>",
                "ALLOW_NOT_ALL_LISTENERS" => "ALLOW_NOT_ALL_LISTENERS <yes|no>",
                "CERTFILE" => "CERTFILE <pem file>",
                "CERTPATH" => "CERTPATH <directory or file>",
                "CERTIDENT" => "CERTIDENT <certificate name> <password>",
                "CERTREQUEST" => "CERTREQUEST <0|1|2|NO|REQUEST|REQUIRE>",
                "DISABLE_WEAK_SSL" => "DISABLE_WEAK_SSL <yes|no>",
                "FORCESSL" => "FORCESSL <yes|no>",
                _ => return sink.unknown_directive(l, KEYWORDS),
            };
            let words = if kw == "CERTIDENT" { 3 } else { 2 };
            if !sink.arity(l, words, words, usage) {
                return;
            }
            seen.note(sink, kw, line);
            let v = arg(1);
            match kw {
                "MAXAGE" => set(&mut c.maxage, uint(sink, line, kw, v, 1)),
                "TRACKINGDELAY" => set(&mut c.trackingdelay, uint(sink, line, kw, v, 0)),
                "MAXCONN" => c.maxconn = uint(sink, line, kw, v, 1),
                "STATEPATH" => c.statepath = Some(v.to_owned()),
                "DATAPATH" => c.datapath = Some(v.to_owned()),
                "ALLOW_NO_DEVICE" => set(&mut c.allow_no_device, allow_flag(sink, line, kw, v)),
                "ALLOW_NOT_ALL_LISTENERS" => {
                    set(&mut c.allow_not_all_listeners, allow_flag(sink, line, kw, v));
                }
                "CERTFILE" => c.certfile = Some(v.to_owned()),
                "CERTPATH" => c.certpath = Some(v.to_owned()),
                "CERTIDENT" => {
                    c.certident = Some(CertIdent {
                        name: v.to_owned(),
                        password: arg(2).to_owned(),
                    });
                }
                "CERTREQUEST" => match CertRequest::parse(v) {
                    Some(r) => c.certrequest = r,
                    None => sink.error(
                        line,
                        format!("CERTREQUEST: expected 0, 1, 2, NO, REQUEST or REQUIRE, got '{v}'"),
                    ),
                },
                "FORCESSL" => set(&mut c.force_ssl, allow_flag(sink, line, kw, v)),
                _ => set(&mut c.disable_weak_ssl, boolean(sink, line, kw, v)),
            }
        }
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

/// ALLOW_* also take a number, non-zero meaning yes (NUT reads them with `atoi` too).
fn allow_flag(sink: &mut Sink, line: usize, kw: &str, word: &str) -> Option<bool> {
    if let Some(b) = parse_bool(word) {
        return Some(b);
    }
    match parse_int(word) {
        Some(n) => Some(n != 0),
        None => boolean(sink, line, kw, word),
    }
}

fn listen(c: &mut UpsdConf, l: &ConfLine, sink: &mut Sink) {
    let addr = match l.words[1].as_str() {
        "*" => ListenAddr::Any,
        "" => {
            sink.error(l.line, "LISTEN: empty address (use * for every address)");
            return;
        }
        host => ListenAddr::Host(host.to_owned()),
    };
    let port = match l.words.get(2) {
        None => DEFAULT_PORT,
        Some(p) => match parse_port(p) {
            Some(port) => port,
            None => {
                sink.error(
                    l.line,
                    format!("LISTEN: port must be a number from 1 to 65535, got '{p}'"),
                );
                return;
            }
        },
    };
    if let Some(first) = c.listen.iter().find(|x| x.addr == addr && x.port == port) {
        sink.warn(
            l.line,
            format!(
                "LISTEN {} {port} repeats line {} (ignored)",
                l.words[1], first.line
            ),
        );
        return;
    }
    c.listen.push(Listen {
        addr,
        port,
        line: l.line,
    });
}

#[cfg(test)]
mod tests;
