//! upsd.conf (reference §5.2). Keywords are case-sensitive (upper case) except
//! `DEBUG_MIN`; an unknown or malformed line is reported and ignored, as upsd does.

use nut_core::token::{self, Limits};

/// Default MAXAGE: seconds without news from a driver before its data counts as stale.
pub const DEFAULT_MAXAGE: u64 = 15;
/// Default TRACKINGDELAY: seconds a tracking result is kept.
pub const DEFAULT_TRACKINGDELAY: u64 = 3600;
/// The IANA port.
pub const DEFAULT_PORT: u16 = 3493;

/// One `LISTEN <addr> [<port>]` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listen {
    /// The address as written (`127.0.0.1`, `::1`, `*`, a host name).
    pub addr: String,
    /// The port (3493 when absent).
    pub port: u16,
}

/// `CERTREQUEST`: whether and how client certificates are checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CertRequest {
    /// 0 / NO: no client certificate asked for.
    #[default]
    No,
    /// 1 / REQUEST: asked for; verified when given.
    Request,
    /// 2 / REQUIRE: required and verified.
    Require,
}

/// The settings of upsd.conf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpsdConf {
    /// LISTEN lines in file order (empty → the defaults `127.0.0.1` and `::1`).
    pub listen: Vec<Listen>,
    /// MAXAGE in seconds.
    pub maxage: u64,
    /// TRACKINGDELAY in seconds.
    pub trackingdelay: u64,
    /// MAXCONN, when set.
    pub maxconn: Option<u64>,
    /// STATEPATH, when set.
    pub statepath: Option<String>,
    /// DATAPATH, when set.
    pub datapath: Option<String>,
    /// ALLOW_NO_DEVICE.
    pub allow_no_device: Option<bool>,
    /// ALLOW_NOT_ALL_LISTENERS.
    pub allow_not_all_listeners: Option<bool>,
    /// CERTFILE: one PEM file with the certificate chain and the private key.
    pub certfile: Option<String>,
    /// CERTPATH: CA certificates (a PEM file or a directory of them) for client checks.
    pub certpath: Option<String>,
    /// CERTIDENT name (NSS nickname; not used with PEM files).
    pub certident: Option<(String, String)>,
    /// CERTREQUEST.
    pub certrequest: CertRequest,
    /// DISABLE_WEAK_SSL: TLS 1.2 and newer only.
    pub disable_weak_ssl: bool,
    /// DEBUG_MIN.
    pub debug_min: Option<u32>,
}

impl Default for UpsdConf {
    fn default() -> Self {
        UpsdConf {
            listen: Vec::new(),
            maxage: DEFAULT_MAXAGE,
            trackingdelay: DEFAULT_TRACKINGDELAY,
            maxconn: None,
            statepath: None,
            datapath: None,
            allow_no_device: None,
            allow_not_all_listeners: None,
            certfile: None,
            certpath: None,
            certident: None,
            certrequest: CertRequest::No,
            disable_weak_ssl: false,
            debug_min: None,
        }
    }
}

/// NUT's boolean words: `true|on|yes|1` and `false|off|no|0`, case-insensitive.
pub fn parse_bool(word: &str) -> Option<bool> {
    let w = word.to_ascii_lowercase();
    match w.as_str() {
        "true" | "on" | "yes" | "1" => Some(true),
        "false" | "off" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// ALLOW_* values: a boolean word, or any number starting with a digit (non-zero = true).
pub fn parse_allow(word: &str) -> Option<bool> {
    if let Some(b) = parse_bool(word) {
        return Some(b);
    }
    if word.starts_with(|c: char| c.is_ascii_digit()) {
        let digits: String = word.chars().take_while(char::is_ascii_digit).collect();
        return Some(!digits.trim_start_matches('0').is_empty());
    }
    None
}

fn parse_seconds(word: &str) -> Option<u64> {
    // upsd insists on a leading digit, then reads like atoi.
    if !word.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let digits: String = word.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Parse upsd.conf. Returns the settings and one message per ignored line
/// (`upsd.conf: invalid directive …`, obsolete ACL lines…).
pub fn parse_upsd_conf(text: &[u8]) -> (UpsdConf, Vec<String>) {
    let mut conf = UpsdConf::default();
    let mut problems = Vec::new();
    for line in token::tokenize_text(text, Limits::default()) {
        if let Some(err) = &line.error {
            problems.push(format!("upsd.conf line {}: {err}", line.line_no));
            continue;
        }
        let w = &line.words;
        if w.is_empty() {
            continue;
        }
        if !apply_directive(&mut conf, w, &mut problems) {
            problems.push(format!("upsd.conf: invalid directive {}", w.join(" ")));
        }
    }
    (conf, problems)
}

/// Apply one directive; false when the line is not understood.
fn apply_directive(conf: &mut UpsdConf, w: &[String], problems: &mut Vec<String>) -> bool {
    let arg = |i: usize| w.get(i).map(String::as_str);
    match (w[0].as_str(), w.len()) {
        ("LISTEN", 2 | 3) => {
            let port = match arg(2) {
                None => DEFAULT_PORT,
                Some(p) => match p.parse() {
                    Ok(p) => p,
                    Err(_) => return false,
                },
            };
            conf.listen.push(Listen {
                addr: w[1].clone(),
                port,
            });
        }
        ("MAXAGE", 2) => match parse_seconds(&w[1]) {
            Some(v) => conf.maxage = v,
            None => return false,
        },
        ("TRACKINGDELAY", 2) => match parse_seconds(&w[1]) {
            Some(v) => conf.trackingdelay = v,
            None => return false,
        },
        ("MAXCONN", 2) => match parse_seconds(&w[1]) {
            Some(v) => conf.maxconn = Some(v),
            None => {
                problems.push(format!("MAXCONN has non numeric value ({})!", w[1]));
                return true;
            }
        },
        ("STATEPATH", 2) => conf.statepath = Some(w[1].clone()),
        ("DATAPATH", 2) => conf.datapath = Some(w[1].clone()),
        ("ALLOW_NO_DEVICE", 2) => match parse_allow(&w[1]) {
            Some(v) => conf.allow_no_device = Some(v),
            None => {
                problems.push(format!(
                    "ALLOW_NO_DEVICE has non numeric and non boolean value ({})!",
                    w[1]
                ));
                return true;
            }
        },
        ("ALLOW_NOT_ALL_LISTENERS", 2) => match parse_allow(&w[1]) {
            Some(v) => conf.allow_not_all_listeners = Some(v),
            None => return false,
        },
        ("CERTFILE", 2) => conf.certfile = Some(w[1].clone()),
        ("CERTPATH", 2) => conf.certpath = Some(w[1].clone()),
        ("CERTIDENT", 3) => conf.certident = Some((w[1].clone(), w[2].clone())),
        ("CERTREQUEST", 2) => {
            conf.certrequest = match w[1].to_ascii_uppercase().as_str() {
                "0" | "NO" => CertRequest::No,
                "1" | "REQUEST" => CertRequest::Request,
                "2" | "REQUIRE" => CertRequest::Require,
                _ => return false,
            }
        }
        ("DISABLE_WEAK_SSL", 2) => match parse_bool(&w[1]) {
            Some(v) => conf.disable_weak_ssl = v,
            None => {
                problems.push(format!(
                    "DISABLE_WEAK_SSL has non boolean value ({})!",
                    w[1]
                ));
                return true;
            }
        },
        (kw, 2) if kw.eq_ignore_ascii_case("DEBUG_MIN") => match parse_seconds(&w[1]) {
            Some(v) => conf.debug_min = u32::try_from(v).ok(),
            None => return false,
        },
        ("ACCEPT" | "REJECT" | "ACL", _) => {
            problems.push(format!(
                "{} in upsd.conf is no longer supported - switch to LISTEN",
                w[0]
            ));
        }
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_directive() {
        let text = b"LISTEN 127.0.0.1 3493\nLISTEN ::1\nLISTEN *\nMAXAGE 25\nTRACKINGDELAY 60\n\
            MAXCONN 100\nSTATEPATH /run/x\nDATAPATH /d\nALLOW_NO_DEVICE yes\n\
            CERTFILE /c.pem\nCERTREQUEST REQUIRE\nDISABLE_WEAK_SSL on\ndebug_min 2\n";
        let (c, problems) = parse_upsd_conf(text);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(c.listen.len(), 3);
        assert_eq!(c.listen[1].port, DEFAULT_PORT);
        assert_eq!(c.listen[2].addr, "*");
        assert_eq!(c.maxage, 25);
        assert_eq!(c.trackingdelay, 60);
        assert_eq!(c.maxconn, Some(100));
        assert_eq!(c.allow_no_device, Some(true));
        assert_eq!(c.certrequest, CertRequest::Require);
        assert!(c.disable_weak_ssl);
        assert_eq!(c.debug_min, Some(2));
    }

    #[test]
    fn bad_lines_are_reported_and_ignored() {
        let (c, problems) = parse_upsd_conf(b"MAXAGE x\nlisten 1.2.3.4\nFOO\nMAXAGE 7\n");
        assert_eq!(c.maxage, 7);
        assert!(c.listen.is_empty());
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(problems[0], "upsd.conf: invalid directive MAXAGE x");
    }

    #[test]
    fn allow_values() {
        assert_eq!(parse_allow("42"), Some(true));
        assert_eq!(parse_allow("00"), Some(false));
        assert_eq!(parse_allow("Off"), Some(false));
        assert_eq!(parse_allow("maybe"), None);
    }
}
