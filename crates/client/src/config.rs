//! Where and how to connect: host, port, timeouts and the TLS policy.

use std::path::PathBuf;
use std::time::Duration;

use nut_core::conf::UpsId;

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
}

/// The connect timeout named by `NUT_DEFAULT_CONNECT_TIMEOUT` (seconds, fractions allowed);
/// `None` when unset, zero, negative or not a number.
pub fn connect_timeout_from_env() -> Option<Duration> {
    std::env::var(CONNECT_TIMEOUT_ENV)
        .ok()
        .and_then(|text| parse_timeout(&text))
}

/// Parse a timeout in seconds (`"5"`, `"0.5"`); `None` for zero, negative or garbage.
pub fn parse_timeout(text: &str) -> Option<Duration> {
    let seconds: f64 = text.trim().parse().ok()?;
    (seconds.is_finite() && seconds > 0.0).then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse() {
        assert_eq!(parse_timeout("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_timeout(" 0.25 "), Some(Duration::from_millis(250)));
        assert_eq!(parse_timeout("0"), None);
        assert_eq!(parse_timeout("-1"), None);
        assert_eq!(parse_timeout("soon"), None);
        assert_eq!(parse_timeout("inf"), None);
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
