//! Where and how to connect: host, port, timeouts and the TLS policy.

use std::path::PathBuf;
use std::time::Duration;

use nut_core::conf::{UpsId, parse_bool};

/// The environment variable NUT's clients read for their default connect timeout, in
/// seconds (fractions allowed).
pub const CONNECT_TIMEOUT_ENV: &str = "NUT_DEFAULT_CONNECT_TIMEOUT";

/// What to do about TLS (`STARTTLS`) after connecting.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum TlsMode {
    /// Never send `STARTTLS` (what NUT 2.8.0's upscmd and upsrw do).
    Disabled,
    /// Send `STARTTLS`; if the server answers that it cannot do TLS, continue in clear text;
    /// if it accepts, encrypt without authenticating the server. This is what NUT's upsc and
    /// upslog do by default (`UPSCLI_CONN_TRYSSL`): it protects against passive eavesdropping
    /// only.
    #[default]
    Opportunistic,
    /// TLS or nothing: a server that refuses `STARTTLS` is an error
    /// ([`crate::Error::TlsUnavailable`]), and its certificate is verified as configured.
    Required(TlsOptions),
}

/// Certificate verification for [`TlsMode::Required`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct TlsOptions {
    /// PEM file with the CA certificate(s) to trust.
    pub ca_file: Option<PathBuf>,
    /// Directory whose files are PEM CA certificates to trust (every readable file that
    /// holds certificates is loaded).
    pub ca_dir: Option<PathBuf>,
    /// The name the server certificate must carry; default: the host connected to.
    pub server_name: Option<String>,
    /// PEM file with the server's own certificate: when set, the server must present exactly
    /// this certificate (as end entity), and CA files and names are not consulted.
    pub pinned_certificate: Option<PathBuf>,
    /// Accept any certificate (still encrypted, not authenticated). For tests only.
    pub danger_accept_any_certificate: bool,
}

impl TlsOptions {
    /// Verification against the CAs in a PEM file.
    pub fn with_ca_file(path: impl Into<PathBuf>) -> Self {
        TlsOptions {
            ca_file: Some(path.into()),
            ..TlsOptions::default()
        }
    }

    /// Verification against the CAs in every file of a directory.
    pub fn with_ca_dir(path: impl Into<PathBuf>) -> Self {
        TlsOptions {
            ca_dir: Some(path.into()),
            ..TlsOptions::default()
        }
    }

    /// Trust exactly the certificate in this PEM file.
    pub fn with_pinned_certificate(path: impl Into<PathBuf>) -> Self {
        TlsOptions {
            pinned_certificate: Some(path.into()),
            ..TlsOptions::default()
        }
    }

    /// Expect this name in the certificate instead of the host name connected to.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }
}

/// The TLS policy in NUT's words: the keywords of upsmon.conf and nutauth.conf (`FORCESSL`,
/// `CERTVERIFY`, `CERTPATH`, `CERTHOST`), plus `CERTPIN` (ours: trust exactly one server
/// certificate). Programs fill it from their own source — ups.conf keys (the repeater),
/// command-line flags (nut-web) or the [`TLS_ENV`] environment variables (upsc, upscmd,
/// upsrw) — and turn it into a [`TlsMode`] with [`TlsSettings::mode`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsSettings {
    /// `FORCESSL`: never talk in clear text (a server without TLS is an error).
    pub forcessl: bool,
    /// `CERTVERIFY`: verify the server's certificate against `CERTPATH` (implies FORCESSL).
    pub certverify: bool,
    /// `CERTPATH`: a PEM file or a directory of PEM files with the CA certificates to trust.
    pub certpath: Option<PathBuf>,
    /// `CERTHOST`: the name the server certificate must carry (default: the host name).
    pub certhost: Option<String>,
    /// `CERTPIN`: a PEM file with the server's own certificate; only it is accepted
    /// (implies FORCESSL and verification; CERTPATH is then not needed).
    pub certpin: Option<PathBuf>,
}

/// The environment variables upsc, upscmd and upsrw read for [`TlsSettings`], with the
/// keyword each stands for (`NUT_CERTVERIFY=1`, `NUT_CERTPATH=/etc/nut/ca.pem`, …).
pub const TLS_ENV: [(&str, &str); 5] = [
    ("NUT_FORCESSL", "FORCESSL"),
    ("NUT_CERTVERIFY", "CERTVERIFY"),
    ("NUT_CERTPATH", "CERTPATH"),
    ("NUT_CERTHOST", "CERTHOST"),
    ("NUT_CERTPIN", "CERTPIN"),
];

/// NUT's boolean words ([`parse_bool`]: `on`/`yes`/`1`/`true`, `off`/`no`/`0`/`false`, any
/// case), blanks around them ignored (environment values).
fn parse_flag(key: &str, value: &str) -> Result<bool, String> {
    parse_bool(value.trim())
        .ok_or_else(|| format!("{key}: {value:?} is not a boolean (use on/off, yes/no or 1/0)"))
}

impl TlsSettings {
    /// Set one keyword (any case; `CERTPATH`, `certpath`). `Ok(false)`: not a TLS keyword.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool, String> {
        let path = |value: &str| {
            if value.is_empty() {
                Err(format!("{key}: empty path"))
            } else {
                Ok(Some(PathBuf::from(value)))
            }
        };
        match key.to_ascii_uppercase().as_str() {
            "FORCESSL" => self.forcessl = parse_flag(key, value)?,
            "CERTVERIFY" => self.certverify = parse_flag(key, value)?,
            "CERTPATH" => self.certpath = path(value)?,
            "CERTPIN" => self.certpin = path(value)?,
            "CERTHOST" if value.is_empty() => return Err(format!("{key}: empty name")),
            "CERTHOST" => self.certhost = Some(value.to_owned()),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The settings named by the [`TLS_ENV`] variables (unset or empty ones are ignored).
    pub fn from_env() -> Result<TlsSettings, String> {
        let mut settings = TlsSettings::default();
        for (var, key) in TLS_ENV {
            if let Ok(value) = std::env::var(var)
                && !value.is_empty()
            {
                settings
                    .set(key, &value)
                    .map_err(|e| format!("{var}: {}", e.trim_start_matches(&format!("{key}: "))))?;
            }
        }
        Ok(settings)
    }

    /// Whether TLS is demanded (FORCESSL, CERTVERIFY or CERTPIN).
    pub fn requires_tls(&self) -> bool {
        self.forcessl || self.certverify || self.certpin.is_some()
    }

    /// Whether the server is authenticated (CERTVERIFY or CERTPIN): only then is a password
    /// safe from a man in the middle.
    pub fn verifies_server(&self) -> bool {
        self.certverify || self.certpin.is_some()
    }

    /// The TLS mode: opportunistic unless TLS is demanded; CERTVERIFY without CERTPATH (or
    /// CERTPIN) is an error, as in NUT, which refuses to verify without CAs. FORCESSL alone
    /// encrypts without authenticating the server, as NUT's FORCESSL does.
    pub fn mode(&self) -> Result<TlsMode, String> {
        if !self.requires_tls() {
            return Ok(TlsMode::Opportunistic);
        }
        let mut options = if let Some(pin) = &self.certpin {
            TlsOptions::with_pinned_certificate(pin)
        } else if self.certverify {
            match &self.certpath {
                None => {
                    return Err(
                        "CERTVERIFY needs CERTPATH (the CA file or directory to verify the server \
                         certificate with) or CERTPIN (the server's certificate)"
                            .to_owned(),
                    );
                }
                Some(path) if path.is_dir() => TlsOptions::with_ca_dir(path),
                Some(path) => TlsOptions::with_ca_file(path),
            }
        } else {
            TlsOptions {
                danger_accept_any_certificate: true,
                ..TlsOptions::default()
            }
        };
        if let Some(name) = &self.certhost {
            options = options.server_name(name.clone());
        }
        Ok(TlsMode::Required(options))
    }
}

/// Everything needed to open a connection.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Give up connecting after this long (all addresses together); `None`: the OS default.
    pub connect_timeout: Option<Duration>,
    /// Give up on a read or write that makes no progress for this long; `None`: wait forever.
    pub io_timeout: Option<Duration>,
    /// Give up on a request whose whole reply has not arrived this long after it was sent,
    /// however steadily the server drips it ([`crate::Error::CallTimeout`]); `None`: no
    /// limit. Default [`DEFAULT_CALL_TIMEOUT`].
    pub call_timeout: Option<Duration>,
    /// The TLS policy.
    pub tls: TlsMode,
}

impl ConnectOptions {
    /// Options for `host:port` with the connect timeout from `NUT_DEFAULT_CONNECT_TIMEOUT`,
    /// no I/O timeout and opportunistic TLS.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        ConnectOptions {
            host: host.into(),
            port,
            connect_timeout: connect_timeout_from_env(),
            io_timeout: None,
            call_timeout: Some(DEFAULT_CALL_TIMEOUT),
            tls: TlsMode::default(),
        }
    }

    /// Options for the server part of a UPS identifier (defaults: localhost, 3493).
    pub fn for_ups(id: &UpsId) -> Self {
        ConnectOptions::new(id.host_or_default(), id.port_or_default())
    }

    /// Set the TLS policy.
    pub fn tls(mut self, tls: TlsMode) -> Self {
        self.tls = tls;
        self
    }

    /// Set the connect timeout.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Set the I/O timeout.
    pub fn io_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.io_timeout = timeout;
        self
    }

    /// Set the deadline for each request's whole reply.
    pub fn call_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.call_timeout = timeout;
        self
    }
}

/// How long a request's whole reply may take by default ([`ConnectOptions::call_timeout`]):
/// upsd answers in well under a millisecond, a LIST over a slow link in seconds.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest timeout accepted anywhere (one year): longer ones are typing mistakes, and
/// near 1.8e19 s they no longer fit a `Duration` or a deadline on the clock.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// The connect timeout named by `NUT_DEFAULT_CONNECT_TIMEOUT` (seconds, fractions allowed);
/// `None` when unset or unusable (see [`connect_timeout_env`] to say why).
pub fn connect_timeout_from_env() -> Option<Duration> {
    connect_timeout_env().ok().flatten()
}

/// `NUT_DEFAULT_CONNECT_TIMEOUT`: `Ok(None)` when unset or empty; an error naming the value
/// when it is not a usable timeout. NUT's clients warn and ignore such a value; programs
/// call this once at start-up to print that warning.
pub fn connect_timeout_env() -> Result<Option<Duration>, TimeoutError> {
    match std::env::var(CONNECT_TIMEOUT_ENV) {
        Ok(text) if !text.trim().is_empty() => parse_timeout_checked(&text).map(Some),
        _ => Ok(None),
    }
}

/// Why a timeout was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeoutError {
    /// Not a number of seconds, or not above zero.
    #[error("invalid timeout {0:?} (want a number of seconds above zero)")]
    Invalid(String),
    /// Above [`MAX_TIMEOUT`].
    #[error("timeout {0:?} is too large (at most {max} seconds)", max = MAX_TIMEOUT.as_secs())]
    TooLarge(String),
}

/// Parse a timeout in seconds (`"5"`, `"0.5"`), up to [`MAX_TIMEOUT`].
pub fn parse_timeout_checked(text: &str) -> Result<Duration, TimeoutError> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| TimeoutError::Invalid(text.to_owned()))?;
    if seconds.is_nan() || seconds <= 0.0 {
        return Err(TimeoutError::Invalid(text.to_owned()));
    }
    if seconds > MAX_TIMEOUT.as_secs_f64() {
        return Err(TimeoutError::TooLarge(text.to_owned()));
    }
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| TimeoutError::Invalid(text.to_owned()))
}

/// Parse a timeout in seconds (`"5"`, `"0.5"`); `None` for zero, negative, garbage or more
/// than [`MAX_TIMEOUT`] (see [`parse_timeout_checked`] for the reason).
pub fn parse_timeout(text: &str) -> Option<Duration> {
    parse_timeout_checked(text).ok()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn timeouts_parse() {
        assert_eq!(parse_timeout("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_timeout(" 0.25 "), Some(Duration::from_millis(250)));
        assert_eq!(parse_timeout("0"), None);
        assert_eq!(parse_timeout("-1"), None);
        assert_eq!(parse_timeout("soon"), None);
        assert_eq!(parse_timeout("inf"), None);
        assert_eq!(parse_timeout("1e-12"), None);
    }

    /// `Duration::from_secs_f64` panics at 1.8e19 s, and `Instant + Duration` long before:
    /// huge values are refused with a reason instead.
    #[test]
    fn huge_timeouts_are_refused_not_panicked_on() {
        for huge in ["1e20", "1e300", "18446744073709551616", "31536001"] {
            assert_eq!(parse_timeout(huge), None, "{huge}");
            let err = parse_timeout_checked(huge).unwrap_err();
            assert_eq!(err, TimeoutError::TooLarge(huge.to_owned()));
            assert!(err.to_string().contains("too large"), "{err}");
        }
        assert_eq!(parse_timeout("31536000"), Some(MAX_TIMEOUT));
        assert!(matches!(
            parse_timeout_checked("x"),
            Err(TimeoutError::Invalid(_))
        ));
    }

    #[test]
    fn tls_settings_in_nuts_words() {
        let mut s = TlsSettings::default();
        assert!(matches!(s.mode(), Ok(TlsMode::Opportunistic)));
        assert_eq!(s.set("Username", "x"), Ok(false));
        assert_eq!(s.set("certverify", "yes"), Ok(true));
        for (word, want) in [(" On ", true), ("TRUE", true), ("1", true), ("no", false)] {
            assert_eq!(parse_flag("K", word), Ok(want), "{word:?}");
        }
        for word in ["2", "enabled", ""] {
            assert!(parse_flag("K", word).is_err(), "{word:?}");
        }
        assert!(s.mode().unwrap_err().contains("CERTPATH"));
        s.set("CERTPATH", "/nonexistent/ca.pem").unwrap();
        s.set("CERTHOST", "ups.example").unwrap();
        match s.mode() {
            Ok(TlsMode::Required(o)) => {
                assert_eq!(o.ca_file.as_deref(), Some(Path::new("/nonexistent/ca.pem")));
                assert_eq!(o.server_name.as_deref(), Some("ups.example"));
                assert!(!o.danger_accept_any_certificate);
            }
            other => panic!("{other:?}"),
        }
        let mut forced = TlsSettings::default();
        forced.set("FORCESSL", "on").unwrap();
        assert!(forced.requires_tls() && !forced.verifies_server());
        assert!(
            matches!(forced.mode(), Ok(TlsMode::Required(o)) if o.danger_accept_any_certificate)
        );
        let mut pinned = TlsSettings::default();
        pinned.set("certpin", "/x/server.pem").unwrap();
        assert!(pinned.verifies_server());
        assert!(
            matches!(pinned.mode(), Ok(TlsMode::Required(o)) if o.pinned_certificate.is_some())
        );
        assert!(
            pinned
                .set("FORCESSL", "maybe")
                .unwrap_err()
                .contains("not a boolean")
        );
        assert!(pinned.set("CERTPATH", "").is_err());
    }

    #[test]
    fn options_from_ups_id() {
        let id = UpsId::parse("ups@[::1]:1234").unwrap();
        let options = ConnectOptions::for_ups(&id);
        assert_eq!((options.host.as_str(), options.port), ("::1", 1234));
        let id = UpsId::parse("ups").unwrap();
        let options = ConnectOptions::for_ups(&id);
        assert_eq!((options.host.as_str(), options.port), ("localhost", 3493));
    }
}
