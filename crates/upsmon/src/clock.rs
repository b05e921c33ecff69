//! Time as data: the state machines never read a clock, the caller passes [`Time`] in.
//!
//! [`Time`] counts milliseconds from an epoch the caller chooses (the daemons use the moment
//! they started, on a monotonic clock; the tests use a virtual clock starting at zero).
//!
//! NUT compares `time_t` values, so every "has N seconds passed" test in upsmon and upssched
//! works on whole seconds: `now - then` is the difference of two truncated clock readings.
//! [`Time::whole_secs_since`] reproduces exactly that, so a threshold such as `DEADTIME 15`
//! trips on the same poll as NUT's (one poll later than a millisecond-exact comparison would).

use std::fmt;
use std::ops::Add;
use std::time::Duration;

/// A point in time: milliseconds since a caller-chosen epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(u64);

impl Time {
    /// The epoch.
    pub const ZERO: Time = Time(0);

    /// `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// `secs` seconds after the epoch.
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// `elapsed` after the epoch (saturating at about 584 million years).
    pub fn from_duration(elapsed: Duration) -> Self {
        Self(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Time since the epoch.
    pub const fn as_duration(self) -> Duration {
        Duration::from_millis(self.0)
    }

    /// Whole seconds since the epoch (the `time_t` this instant would read as).
    pub const fn whole_secs(self) -> u64 {
        self.0 / 1000
    }

    /// NUT's `now - then` on `time_t` values: whole seconds of `self` minus whole seconds of
    /// `earlier`, zero if `earlier` is later.
    pub const fn whole_secs_since(self, earlier: Time) -> u64 {
        self.whole_secs().saturating_sub(earlier.whole_secs())
    }

    /// The time `secs` seconds later.
    pub const fn plus_secs(self, secs: u64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(1000)))
    }

    /// The time `ms` milliseconds later.
    pub const fn plus_millis(self, ms: u64) -> Self {
        Self(self.0.saturating_add(ms))
    }
}

impl Add<Duration> for Time {
    type Output = Time;

    fn add(self, rhs: Duration) -> Time {
        self.plus_millis(u64::try_from(rhs.as_millis()).unwrap_or(u64::MAX))
    }
}

impl fmt::Display for Time {
    /// Seconds with millisecond precision, e.g. `12.250s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0 / 1000, self.0 % 1000)
    }
}

/// Whole seconds from `then` to `now`, where "never" counts as infinitely long ago.
///
/// NUT keeps its timestamps as `time_t` initialised to 0, so a check like `now - lastrbwarn >
/// RBWARNTIME` is always true before the first event; `None` plays the part of that 0.
pub(crate) fn secs_since(now: Time, then: Option<Time>) -> u64 {
    match then {
        Some(then) => now.whole_secs_since(then),
        None => u64::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_second_differences_follow_time_t() {
        // 100.9 -> 101.1 reads as one second in time_t arithmetic although 200 ms passed.
        assert_eq!(
            Time::from_millis(101_100).whole_secs_since(Time::from_millis(100_900)),
            1
        );
        // 100.0 -> 100.999 reads as zero.
        assert_eq!(
            Time::from_millis(100_999).whole_secs_since(Time::from_secs(100)),
            0
        );
        assert_eq!(Time::from_secs(5).whole_secs_since(Time::from_secs(9)), 0);
        assert_eq!(secs_since(Time::from_secs(3), None), u64::MAX);
        assert_eq!(secs_since(Time::from_secs(3), Some(Time::from_secs(1))), 2);
    }

    #[test]
    fn arithmetic_and_display() {
        let t = Time::from_secs(2) + Duration::from_millis(250);
        assert_eq!(t.as_millis(), 2250);
        assert_eq!(t.to_string(), "2.250s");
        assert_eq!(t.plus_secs(1), Time::from_millis(3250));
        assert_eq!(
            Time::from_duration(Duration::from_secs(7)),
            Time::from_secs(7)
        );
        assert_eq!(Time::from_secs(u64::MAX).plus_secs(1).as_millis(), u64::MAX);
    }
}
