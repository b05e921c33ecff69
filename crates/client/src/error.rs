//! The one error type of the crate, with libupsclient's user-facing texts.

use std::io;
use std::sync::Arc;

use nut_core::conf::UpsIdError;
use nut_core::net::ErrCode;
use thiserror::Error;

/// Everything that can go wrong talking to upsd.
///
/// `Display` gives a precise, developer-oriented message; [`Error::client_message`] gives the
/// text NUT's own clients print after `Error: ` (`Unknown UPS`, `Connection failure:
/// Connection refused`, …), which scripts grep for.
#[derive(Clone, Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The host name did not resolve to any address.
    #[error("no such host: {host}")]
    NoSuchHost {
        /// The name that failed to resolve.
        host: String,
    },
    /// No address of the host accepted the TCP connection.
    #[error("cannot connect to {host}:{port}: {source}")]
    Connect {
        /// Host as given.
        host: String,
        /// Port.
        port: u16,
        /// The error of the last address tried.
        #[source]
        source: Arc<io::Error>,
    },
    /// The connection could not be made within the connect timeout.
    #[error("connecting to {host}:{port} timed out")]
    ConnectTimeout {
        /// Host as given.
        host: String,
        /// Port.
        port: u16,
    },
    /// Reading or writing the established connection failed (including I/O timeouts).
    #[error("{} failed: {source}", if *.writing { "write" } else { "read" })]
    Io {
        /// Whether the failing operation was a write.
        writing: bool,
        /// The underlying error.
        #[source]
        source: Arc<io::Error>,
    },
    /// The server closed the connection before the reply was complete.
    #[error("server disconnected")]
    Disconnected,
    /// The whole reply did not arrive within [`crate::ConnectOptions::call_timeout`] (a server
    /// that drips it slowly, or never finishes a LIST). The connection is not used again.
    #[error("no complete reply to {request} within {limit:?}")]
    CallTimeout {
        /// The request, without its LF (a PASSWORD's argument is not shown).
        request: String,
        /// The deadline that passed.
        limit: std::time::Duration,
    },
    /// A LIST reply went past nut-core's item or byte limit
    /// ([`nut_core::net::client::MAX_LIST_ITEMS`], [`nut_core::net::client::MAX_LIST_BYTES`]).
    /// The rest is not read and the connection is not used again.
    #[error("reply too large: {0}")]
    ReplyTooLarge(String),
    /// The server answered `ERR <code>`.
    #[error("server error {code} (reply {line:?})")]
    Server {
        /// The code.
        code: ErrCode,
        /// The reply line as received (without LF).
        line: String,
    },
    /// The reply did not fit the request (libupsclient's "Protocol error").
    #[error("protocol error: {0}")]
    Protocol(String),
    /// TLS was demanded but the server refused `STARTTLS` (it is not built or not configured
    /// for TLS). The connection is not used in clear text.
    #[error("TLS required but the server refused STARTTLS: {reply}")]
    TlsUnavailable {
        /// What the server answered.
        reply: String,
    },
    /// TLS setup or handshake failed (bad CA file, certificate rejected, …).
    #[error("TLS: {0}")]
    Tls(String),
    /// A malformed `upsname[@host[:port]]`.
    #[error(transparent)]
    UpsId(#[from] UpsIdError),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn read(source: io::Error) -> Self {
        Error::Io {
            writing: false,
            source: Arc::new(source),
        }
    }

    pub(crate) fn write(source: io::Error) -> Self {
        Error::Io {
            writing: true,
            source: Arc::new(source),
        }
    }

    /// The server's error code, if the server answered `ERR`.
    pub fn code(&self) -> Option<&ErrCode> {
        match self {
            Error::Server { code, .. } => Some(code),
            _ => None,
        }
    }

    fn is_code(&self, wanted: &ErrCode) -> bool {
        self.code() == Some(wanted)
    }

    /// `ERR ACCESS-DENIED`: missing permission or wrong username/password.
    pub fn is_access_denied(&self) -> bool {
        self.is_code(&ErrCode::AccessDenied)
    }

    /// `ERR DATA-STALE`: the driver's data is stale.
    pub fn is_data_stale(&self) -> bool {
        self.is_code(&ErrCode::DataStale)
    }

    /// `ERR DRIVER-NOT-CONNECTED`: upsd has no connection to the driver.
    pub fn is_driver_not_connected(&self) -> bool {
        self.is_code(&ErrCode::DriverNotConnected)
    }

    /// `ERR UNKNOWN-UPS`.
    pub fn is_unknown_ups(&self) -> bool {
        self.is_code(&ErrCode::UnknownUps)
    }

    /// `ERR VAR-NOT-SUPPORTED`.
    pub fn is_var_not_supported(&self) -> bool {
        self.is_code(&ErrCode::VarNotSupported)
    }

    /// `ERR CMD-NOT-SUPPORTED`.
    pub fn is_cmd_not_supported(&self) -> bool {
        self.is_code(&ErrCode::CmdNotSupported)
    }

    /// `ERR USERNAME-REQUIRED` or `ERR PASSWORD-REQUIRED`.
    pub fn is_credentials_required(&self) -> bool {
        self.is_code(&ErrCode::UsernameRequired) || self.is_code(&ErrCode::PasswordRequired)
    }

    /// `ERR READONLY`.
    pub fn is_readonly(&self) -> bool {
        self.is_code(&ErrCode::Readonly)
    }

    /// `ERR INVALID-VALUE` or `ERR TOO-LONG`: the value was refused.
    pub fn is_invalid_value(&self) -> bool {
        self.is_code(&ErrCode::InvalidValue) || self.is_code(&ErrCode::TooLong)
    }

    /// `ERR UNKNOWN-COMMAND`: the server does not know the command (an old upsd).
    pub fn is_unknown_command(&self) -> bool {
        self.is_code(&ErrCode::UnknownCommand)
    }

    /// Whether the connection is unusable after this error (the caller should reconnect).
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            Error::Io { .. }
                | Error::Disconnected
                | Error::Protocol(_)
                | Error::Tls(_)
                | Error::CallTimeout { .. }
                | Error::ReplyTooLarge(_)
        )
    }

    /// The text NUT's clients print after `Error: ` for this error (libupsclient's
    /// `upscli_strerror`): the ERR code's message, `No such host`, `Connection failure:
    /// <strerror>`, `Server disconnected`, …
    pub fn client_message(&self) -> String {
        match self {
            Error::NoSuchHost { .. } => "No such host".to_owned(),
            Error::Connect { source, .. } => format!("Connection failure: {}", strerror(source)),
            Error::ConnectTimeout { .. } => "Connection failure: Connection timed out".to_owned(),
            Error::Io {
                writing: true,
                source,
            } => format!("Write error: {}", strerror(source)),
            Error::Io {
                writing: false,
                source,
            } => format!("Read error: {}", strerror(source)),
            Error::Disconnected => "Server disconnected".to_owned(),
            Error::CallTimeout { request, limit } => format!(
                "Read error: no complete reply to {request} within {} s",
                limit.as_secs_f64()
            ),
            Error::ReplyTooLarge(what) => format!("Protocol error: reply too large ({what})"),
            Error::Server { code, .. } => code.client_message().to_owned(),
            Error::Protocol(_) => "Protocol error".to_owned(),
            Error::TlsUnavailable { .. } => "SSL is not available".to_owned(),
            Error::Tls(message) => format!("SSL error: {message}"),
            Error::UpsId(e) => e.to_string(),
        }
    }
}

/// The C library's text for an I/O error (`Connection refused`), without Rust's
/// ` (os error N)` suffix.
pub(crate) fn strerror(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(at) if error.raw_os_error().is_some() => text[..at].to_owned(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_match_libupsclient() {
        let refused = Error::Connect {
            host: "h".into(),
            port: 1,
            source: Arc::new(io::Error::from_raw_os_error(111)),
        };
        assert_eq!(
            refused.client_message(),
            "Connection failure: Connection refused"
        );
        let stale = Error::Server {
            code: ErrCode::DataStale,
            line: "ERR DATA-STALE".into(),
        };
        assert!(stale.is_data_stale());
        assert!(!stale.is_access_denied());
        assert_eq!(stale.client_message(), "Data stale");
        assert_eq!(
            Error::NoSuchHost { host: "x".into() }.client_message(),
            "No such host"
        );
        assert_eq!(Error::Disconnected.client_message(), "Server disconnected");
    }
}
