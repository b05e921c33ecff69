//! UPS identifiers `upsname[@hostname[:port]]` (docs/nut-behaviour.md §2.7), used by upsmon.conf,
//! hosts.conf, dummy-ups repeater ports and every client's command line.
//!
//! IPv6 literals must be bracketed (`ups@[::1]:3493`). libupsclient is lax about several
//! malformed forms (`ups@::1`, text after `]`, a second `@`) and lets them fail later as
//! resolver errors; we reject them up front with a message saying what to write.

use std::fmt;
use std::str::FromStr;

/// Host used when an identifier names none.
pub const DEFAULT_HOST: &str = "localhost";
/// upsd's TCP port (IANA-registered `nut`), used when an identifier names none.
pub const DEFAULT_PORT: u16 = 3493;

/// A parsed `upsname[@hostname[:port]]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpsId {
    /// The UPS name as upsd knows it (the ups.conf section name).
    pub name: String,
    /// Host name or address, without IPv6 brackets; `None` means [`DEFAULT_HOST`].
    pub host: Option<String>,
    /// Port; `None` means [`DEFAULT_PORT`].
    pub port: Option<u16>,
}

impl UpsId {
    /// Parse `upsname[@hostname[:port]]`.
    pub fn parse(input: &str) -> Result<Self, UpsIdError> {
        let fail = |kind| UpsIdError {
            input: input.to_owned(),
            kind,
        };
        if input.is_empty() {
            return Err(fail(UpsIdErrorKind::EmptyName));
        }
        match input.split_once('@') {
            None => {
                if input.contains(':') {
                    return Err(fail(UpsIdErrorKind::PortWithoutHost));
                }
                Ok(Self {
                    name: input.to_owned(),
                    host: None,
                    port: None,
                })
            }
            Some(("", _)) => Err(fail(UpsIdErrorKind::EmptyName)),
            Some((name, address)) => {
                let HostPort { host, port } = HostPort::parse(address).map_err(|e| fail(e.kind))?;
                Ok(Self {
                    name: name.to_owned(),
                    host: Some(host),
                    port,
                })
            }
        }
    }

    /// The host to connect to.
    pub fn host_or_default(&self) -> &str {
        self.host.as_deref().unwrap_or(DEFAULT_HOST)
    }

    /// The port to connect to.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(DEFAULT_PORT)
    }
}

impl FromStr for UpsId {
    type Err = UpsIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Writes the identifier back in the form [`UpsId::parse`] reads (IPv6 hosts bracketed).
impl fmt::Display for UpsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(host) = &self.host {
            f.write_str("@")?;
            write_host(f, host)?;
            if let Some(port) = self.port {
                write!(f, ":{port}")?;
            }
        }
        Ok(())
    }
}

/// A parsed `host[:port]` or `[ipv6]:port` (the part after `@`, and upsmon's `CERTHOST`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// Host name or address, without IPv6 brackets.
    pub host: String,
    /// Port, if one was given.
    pub port: Option<u16>,
}

impl HostPort {
    /// Parse `host[:port]`, `[ipv6]` or `[ipv6]:port`.
    pub fn parse(input: &str) -> Result<Self, UpsIdError> {
        let fail = |kind| UpsIdError {
            input: input.to_owned(),
            kind,
        };
        let (host, port) = if let Some(inner) = input.strip_prefix('[') {
            let (host, after) = inner
                .split_once(']')
                .ok_or_else(|| fail(UpsIdErrorKind::UnclosedBracket))?;
            let port = match after {
                "" => None,
                _ => Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| fail(UpsIdErrorKind::TextAfterBracket))?,
                ),
            };
            (host, port)
        } else {
            match input.split_once(':') {
                Some((_, rest)) if rest.contains(':') => {
                    return Err(fail(UpsIdErrorKind::BareIpv6));
                }
                Some((host, port)) => (host, Some(port)),
                None => (input, None),
            }
        };
        if host.is_empty() {
            return Err(fail(UpsIdErrorKind::EmptyHost));
        }
        if host.contains('@') {
            return Err(fail(UpsIdErrorKind::SecondAt));
        }
        if host.contains(['[', ']']) {
            return Err(fail(UpsIdErrorKind::StrayBracket));
        }
        let port = port
            .map(|p| parse_port(p).ok_or_else(|| fail(UpsIdErrorKind::BadPort)))
            .transpose()?;
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }
}

impl FromStr for HostPort {
    type Err = UpsIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_host(f, &self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

fn write_host(f: &mut fmt::Formatter<'_>, host: &str) -> fmt::Result {
    if host.contains(':') {
        write!(f, "[{host}]")
    } else {
        f.write_str(host)
    }
}

/// A TCP port: decimal digits only, 1..=65535.
pub(crate) fn parse_port(word: &str) -> Option<u16> {
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    word.parse::<u16>().ok().filter(|&p| p != 0)
}

/// A malformed UPS identifier or `host:port`. Displays as `'<input>': <what is wrong>`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{input}': {kind}")]
pub struct UpsIdError {
    /// The text that failed to parse.
    pub input: String,
    /// What is wrong with it.
    pub kind: UpsIdErrorKind,
}

/// What is wrong with a UPS identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpsIdErrorKind {
    /// Nothing before `@`, or nothing at all.
    #[error("missing UPS name (expected upsname[@host[:port]])")]
    EmptyName,
    /// Nothing after `@` (or between the brackets).
    #[error("missing host name after '@'")]
    EmptyHost,
    /// `ups:port` without `@host`.
    #[error("a port needs a host: write upsname@host:port")]
    PortWithoutHost,
    /// `[` without `]`.
    #[error("missing ']' after the IPv6 address")]
    UnclosedBracket,
    /// Something other than `:port` after `]`.
    #[error("only ':<port>' may follow ']'")]
    TextAfterBracket,
    /// An IPv6 address without brackets.
    #[error("put an IPv6 address in brackets, e.g. upsname@[::1]:3493")]
    BareIpv6,
    /// More than one `@`.
    #[error("more than one '@'")]
    SecondAt,
    /// A port that is not a number from 1 to 65535.
    #[error("port must be a number from 1 to 65535")]
    BadPort,
    /// `[` or `]` inside a host name (only an IPv6 address may be bracketed, once).
    #[error("'[' and ']' may only enclose an IPv6 address, e.g. upsname@[::1]:3493")]
    StrayBracket,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(name: &str, host: Option<&str>, port: Option<u16>) -> UpsId {
        UpsId {
            name: name.into(),
            host: host.map(Into::into),
            port,
        }
    }

    #[test]
    fn stray_brackets_are_rejected() {
        // Found by the ups_id fuzz target: "[[]" used to parse to host "[", which does not
        // display back to a parseable identifier.
        for bad in ["ups@[[]", "ups@a]b", "ups@a[b", "ups@[a]]:1"] {
            assert!(UpsId::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            HostPort::parse("[[]").map_err(|e| e.kind),
            Err(UpsIdErrorKind::StrayBracket)
        );
    }

    #[test]
    fn good_identifiers() {
        assert_eq!(UpsId::parse("ups"), Ok(id("ups", None, None)));
        assert_eq!(UpsId::parse("ups@h"), Ok(id("ups", Some("h"), None)));
        assert_eq!(
            UpsId::parse("ups@10.0.0.1:3494"),
            Ok(id("ups", Some("10.0.0.1"), Some(3494)))
        );
        assert_eq!(
            UpsId::parse("ups@[::1]:3493"),
            Ok(id("ups", Some("::1"), Some(3493)))
        );
        assert_eq!(
            UpsId::parse("ups@[fe80::1]"),
            Ok(id("ups", Some("fe80::1"), None))
        );
        let plain = UpsId::parse("ups").unwrap();
        assert_eq!(plain.host_or_default(), "localhost");
        assert_eq!(plain.port_or_default(), 3493);
    }

    fn kind(input: &str) -> UpsIdErrorKind {
        UpsId::parse(input).unwrap_err().kind
    }

    #[test]
    fn bad_identifiers() {
        use UpsIdErrorKind::*;
        assert_eq!(kind(""), EmptyName);
        assert_eq!(kind("@host"), EmptyName);
        assert_eq!(kind("ups@"), EmptyHost);
        assert_eq!(kind("ups@[]"), EmptyHost);
        assert_eq!(kind("ups@:3493"), EmptyHost);
        assert_eq!(kind("ups:3493"), PortWithoutHost);
        assert_eq!(kind("ups@[::1"), UnclosedBracket);
        assert_eq!(kind("ups@[::1]x"), TextAfterBracket);
        assert_eq!(kind("ups@::1"), BareIpv6);
        assert_eq!(kind("ups@a@b"), SecondAt);
        assert_eq!(kind("ups@h:0"), BadPort);
        assert_eq!(kind("ups@h:65536"), BadPort);
        assert_eq!(kind("ups@h:"), BadPort);
        assert_eq!(kind("ups@h:+1"), BadPort);
        assert_eq!(
            UpsId::parse("ups@h:x").unwrap_err().to_string(),
            "'ups@h:x': port must be a number from 1 to 65535"
        );
    }

    #[test]
    fn host_port() {
        assert_eq!(
            HostPort::parse("[::1]:443"),
            Ok(HostPort {
                host: "::1".into(),
                port: Some(443)
            })
        );
        assert_eq!(HostPort::parse("h").unwrap().to_string(), "h");
        assert_eq!(
            HostPort::parse("").unwrap_err().kind,
            UpsIdErrorKind::EmptyHost
        );
    }

    fn name() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_.-]{1,20}"
    }

    fn host() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9-]{1,10}(\\.[a-z0-9-]{1,10}){0,3}",
            any::<std::net::Ipv4Addr>().prop_map(|a| a.to_string()),
            any::<std::net::Ipv6Addr>().prop_map(|a| a.to_string()),
        ]
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(
            name in name(),
            host in proptest::option::of(host()),
            port in proptest::option::of(1u16..),
        ) {
            // A port without a host cannot be written.
            let port = host.as_ref().and(port);
            let original = UpsId { name, host, port };
            let text = original.to_string();
            prop_assert_eq!(UpsId::parse(&text), Ok(original));
            // And the written form is canonical: parsing then writing gives it back.
            prop_assert_eq!(UpsId::parse(&text).unwrap().to_string(), text);
        }

        #[test]
        fn never_panics(input in "\\PC{0,40}") {
            let _ = UpsId::parse(&input);
        }
    }
}
