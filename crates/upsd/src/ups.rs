//! One UPS as upsd knows it: its ups.conf entry, the mirror of its driver's state tree, the
//! health of the driver connection, the FSD latch and the LOGIN count.

use std::time::{Duration, Instant};

use nut_core::net::ErrCode;
use nut_core::sock::mirror::DriverState;

/// A stable handle of a UPS (indices move when a reload adds or removes UPSes), issued by
/// the server only: the field is private to the crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UpsKey(pub(crate) u64);

/// A UPS definition from ups.conf, as far as upsd cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpsDef {
    /// Section name (canonical spelling).
    pub name: String,
    /// `driver` value.
    pub driver: String,
    /// `desc` value.
    pub desc: Option<String>,
}

impl UpsDef {
    /// The driver socket's file name in STATEPATH: `<driver>-<name>`.
    pub fn socket_name(&self) -> String {
        format!("{}-{}", self.driver, self.name)
    }
}

/// The driver connection as the server sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// No socket connection.
    Down,
    /// Connected.
    Up {
        /// Last time a recognised message arrived.
        last_heard: Instant,
        /// Last time a PING was sent (or the connection was made).
        last_ping: Instant,
    },
}

/// One UPS.
#[derive(Debug)]
pub struct Ups {
    /// Handle.
    pub key: UpsKey,
    /// The ups.conf entry.
    pub def: UpsDef,
    /// The driver's state tree, as last reported.
    pub data: DriverState,
    /// Driver connection.
    pub link: Link,
    /// The FSD latch: set by a primary's `FSD`, cleared only by a restart or removal.
    pub fsd: bool,
    /// Connections that did `LOGIN` to this UPS.
    pub numlogins: u64,
    /// Whether the last evaluation found the data dead (for the log transitions).
    pub reported_dead: bool,
    /// When a failed connection attempt was last logged (logged at most every 5 minutes).
    pub last_connect_failure_log: Option<Instant>,
}

/// How often a failing driver connection is logged.
pub const CONNECT_FAILURE_LOG_INTERVAL: Duration = Duration::from_secs(300);

impl Ups {
    /// A UPS whose driver is not connected yet.
    pub fn new(key: UpsKey, def: UpsDef) -> Ups {
        Ups {
            key,
            def,
            data: DriverState::new(),
            link: Link::Down,
            fsd: false,
            numlogins: 0,
            reported_dead: false,
            last_connect_failure_log: None,
        }
    }

    /// The canonical name.
    pub fn name(&self) -> &str {
        &self.def.name
    }

    /// Why clients cannot read this UPS now, if they cannot: `DRIVER-NOT-CONNECTED` while
    /// the socket is down, `DATA-STALE` when the driver said so (after its dump) or has been
    /// silent for more than MAXAGE+1 seconds.
    pub fn availability(&self, now: Instant, maxage: Duration) -> Result<(), ErrCode> {
        match self.link {
            Link::Down => Err(ErrCode::DriverNotConnected),
            Link::Up { last_heard, .. } => {
                // upsd counts whole seconds, so (MAXAGE, MAXAGE+1] still counts as alive.
                let silent_too_long =
                    now.saturating_duration_since(last_heard) > maxage + Duration::from_secs(1);
                if silent_too_long || (self.data.dump_done() && self.data.is_stale()) {
                    Err(ErrCode::DataStale)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// `ups.status` as clients see it: prefixed with `FSD ` while the latch is set.
    pub fn shown_value<'a>(&self, var_name: &str, value: &'a str) -> std::borrow::Cow<'a, str> {
        if self.fsd && var_name.eq_ignore_ascii_case("ups.status") {
            std::borrow::Cow::Owned(format!("FSD {value}"))
        } else {
            std::borrow::Cow::Borrowed(value)
        }
    }
}
