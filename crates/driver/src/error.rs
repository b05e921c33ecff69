//! What can go wrong in a driver, typed so the framework can act on it: a failed poll
//! counts towards "data stale", a lost device is reopened with back-off, a fatal error
//! stops the driver.

use std::io;

/// A driver or transport failure.
///
/// The framework decides from the variant what a failure means (see
/// [`DriverError::is_comm_failure`] and [`DriverError::needs_reconnect`]); the message is
/// what gets logged. New variants may be added: match with a wildcard arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The operating system refused an I/O operation on the device (`context` says which).
    #[error("{context}: {source}")]
    Io {
        /// What was being done, e.g. `write to /dev/ttyS0`.
        context: String,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// The device did not answer in time.
    #[error("{0}: timed out")]
    Timeout(String),
    /// The device answered something that cannot be understood (garbage, short reply).
    #[error("{0}")]
    Protocol(String),
    /// The device is gone (unplugged, port vanished, remote closed): the framework reopens
    /// the transport with back-off.
    #[error("{0}")]
    Disconnected(String),
    /// The device answered, but says its own data is not current (a relay whose source is
    /// stale): the data is marked stale at once, without counting a communication failure.
    #[error("{0}")]
    DataStale(String),
    /// The device or driver cannot do this (a command or feature it lacks).
    #[error("{0}")]
    Unsupported(String),
    /// The configuration cannot work (bad option value, unusable port).
    #[error("{0}")]
    Config(String),
    /// Anything else that must stop the driver; the message is printed as is.
    #[error("{0}")]
    Fatal(String),
}

impl DriverError {
    /// A fatal error with this message (what `DriverError::new` always meant).
    pub fn new(msg: impl Into<String>) -> Self {
        Self::Fatal(msg.into())
    }

    /// An I/O error while doing `context`.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// Whether this failure of a poll is a communication failure, counted towards
    /// `dstate_datastale` (NUT's `MAXTRIES` logic) rather than stopping the driver.
    pub fn is_comm_failure(&self) -> bool {
        matches!(
            self,
            Self::Io { .. } | Self::Timeout(_) | Self::Protocol(_) | Self::Disconnected(_)
        )
    }

    /// Whether the transport has to be closed and opened again before the next poll.
    pub fn needs_reconnect(&self) -> bool {
        match self {
            Self::Disconnected(_) => true,
            Self::Io { source, .. } => {
                matches!(
                    source.raw_os_error(),
                    Some(libc::ENODEV | libc::ENXIO | libc::EIO | libc::EBADF | libc::ENOENT)
                ) || matches!(
                    source.kind(),
                    io::ErrorKind::BrokenPipe
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::NotConnected
                        | io::ErrorKind::UnexpectedEof
                )
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let gone = DriverError::io("read /dev/ttyUSB0", io::Error::from_raw_os_error(libc::EIO));
        assert!(gone.is_comm_failure() && gone.needs_reconnect());
        assert_eq!(
            gone.to_string(),
            format!(
                "read /dev/ttyUSB0: {}",
                io::Error::from_raw_os_error(libc::EIO)
            )
        );
        let slow = DriverError::Timeout("Q1".into());
        assert!(slow.is_comm_failure() && !slow.needs_reconnect());
        assert_eq!(slow.to_string(), "Q1: timed out");
        let garbage = DriverError::Protocol("short reply".into());
        assert!(garbage.is_comm_failure() && !garbage.needs_reconnect());
        assert!(DriverError::Disconnected("unplugged".into()).needs_reconnect());
        for e in [
            DriverError::Unsupported("x".into()),
            DriverError::Config("x".into()),
            DriverError::new("x"),
        ] {
            assert!(!e.is_comm_failure() && !e.needs_reconnect(), "{e:?}");
        }
    }
}
