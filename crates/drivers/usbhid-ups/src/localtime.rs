//! Local time without a time-zone database: the shell tells the core the offset from UTC in
//! effect at a given instant (it has `localtime_r`), the core does the calendar arithmetic.
//!
//! NUT's mge subdriver shows the UPS clock (`UPS.PowerSummary.Time`, Unix seconds) in the
//! driver's local time (`localtime_r`) and turns a SET back with `mktime`. [`LocalTime`]
//! gives the same two directions: [`LocalTime::to_wall`] and [`LocalTime::from_wall`], with
//! daylight-saving time handled by asking for the offset of the instant being converted, not
//! of the moment the driver started.

use std::fmt;
use std::sync::Arc;

/// The offset from UTC (seconds east, as `tm_gmtoff`) in effect at a Unix time.
type OffsetAt = dyn Fn(i64) -> i64 + Send + Sync;

/// The driver's local time zone, as the shell supplies it. The default is UTC.
#[derive(Clone)]
pub struct LocalTime(Zone);

#[derive(Clone)]
enum Zone {
    Fixed(i64),
    Rule(Arc<OffsetAt>),
}

/// Offsets beyond ±26 hours are not time zones: they are clamped (a shell bug must not make
/// the arithmetic overflow).
const MAX_OFFSET: i64 = 26 * 3600;

impl LocalTime {
    /// UTC (what a driver running with `TZ=UTC` shows).
    pub fn utc() -> LocalTime {
        LocalTime(Zone::Fixed(0))
    }

    /// A zone that is always `seconds` east of UTC (no daylight-saving time).
    pub fn fixed(seconds: i64) -> LocalTime {
        LocalTime(Zone::Fixed(seconds.clamp(-MAX_OFFSET, MAX_OFFSET)))
    }

    /// A zone given by the offset (seconds east of UTC) in effect at each Unix time: the
    /// shell passes `|t| localtime_r(t).tm_gmtoff`, so each conversion uses the offset valid
    /// for the time it converts (summer and winter alike).
    pub fn from_fn(offset_at: impl Fn(i64) -> i64 + Send + Sync + 'static) -> LocalTime {
        LocalTime(Zone::Rule(Arc::new(offset_at)))
    }

    /// The offset (seconds east of UTC) in effect at Unix time `unix`.
    pub fn offset_at(&self, unix: i64) -> i64 {
        match &self.0 {
            Zone::Fixed(s) => *s,
            Zone::Rule(f) => f(unix).clamp(-MAX_OFFSET, MAX_OFFSET),
        }
    }

    /// Unix time → the local wall-clock time, as seconds counted as if the wall clock were
    /// UTC (`localtime_r`, then read the fields as UTC).
    pub fn to_wall(&self, unix: i64) -> i64 {
        unix.saturating_add(self.offset_at(unix))
    }

    /// Local wall-clock time (seconds as if UTC) → Unix time, as `mktime` with `tm_isdst = -1`
    /// (the zone decides whether daylight-saving time applies): a time the clocks skip (spring
    /// forward) is read with the offset before the change, so it lands after the gap, as
    /// glibc does; a time that occurs twice (fall back) is its first occurrence (glibc's
    /// choice there depends on its previous calls; usually the first as well).
    pub fn from_wall(&self, wall: i64) -> i64 {
        // The offsets around the wall time: any zone change within a day either side shows.
        let before = self.offset_at(wall.saturating_sub(86_400 + MAX_OFFSET));
        let after = self.offset_at(wall.saturating_add(86_400 + MAX_OFFSET));
        let fits = |offset: i64| {
            let unix = wall.saturating_sub(offset);
            (self.offset_at(unix) == offset).then_some(unix)
        };
        match (fits(before), fits(after)) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            // In the gap: the offset before the change.
            (None, None) => wall.saturating_sub(before),
        }
    }
}

impl Default for LocalTime {
    fn default() -> LocalTime {
        LocalTime::utc()
    }
}

impl fmt::Debug for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Zone::Fixed(s) => write!(f, "LocalTime::fixed({s})"),
            Zone::Rule(_) => f.write_str("LocalTime::from_fn(..)"),
        }
    }
}

impl PartialEq for LocalTime {
    fn eq(&self, other: &LocalTime) -> bool {
        match (&self.0, &other.0) {
            (Zone::Fixed(a), Zone::Fixed(b)) => a == b,
            (Zone::Rule(a), Zone::Rule(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01 (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central European Time with summer time from 2021-03-28 01:00 UTC to 2021-10-31
    /// 01:00 UTC (the only change that matters for these instants).
    fn cet_2021() -> LocalTime {
        LocalTime::from_fn(|t| {
            if (1_616_893_200..1_635_642_000).contains(&t) {
                7200
            } else {
                3600
            }
        })
    }

    #[test]
    fn fixed_offsets_both_ways() {
        let z = LocalTime::fixed(-5 * 3600);
        assert_eq!(z.to_wall(1_000_000), 1_000_000 - 18_000);
        assert_eq!(z.from_wall(1_000_000 - 18_000), 1_000_000);
        assert_eq!(LocalTime::default().to_wall(42), 42);
        assert_eq!(LocalTime::fixed(1_000_000).offset_at(0), MAX_OFFSET);
    }

    #[test]
    fn daylight_saving_uses_the_offset_of_the_converted_time() {
        let z = cet_2021();
        // Winter: +1 h; summer: +2 h.
        assert_eq!(z.to_wall(1_610_000_000) - 1_610_000_000, 3600);
        assert_eq!(z.to_wall(1_620_000_000) - 1_620_000_000, 7200);
        assert_eq!(z.from_wall(1_620_000_000 + 7200), 1_620_000_000);
        assert_eq!(z.from_wall(1_610_000_000 + 3600), 1_610_000_000);
        // 2021-03-28 02:30 local does not exist: read as 02:30 CET = 03:30 CEST.
        let gap_wall = days_from_civil(2021, 3, 28) * 86_400 + 2 * 3600 + 1800;
        assert_eq!(z.from_wall(gap_wall), gap_wall - 3600);
        // 2021-10-31 02:30 local happens twice: the first (summer-time) one.
        let twice = days_from_civil(2021, 10, 31) * 86_400 + 2 * 3600 + 1800;
        assert_eq!(z.from_wall(twice), twice - 7200);
        // Extremes do not overflow.
        assert_eq!(z.from_wall(i64::MIN), i64::MIN);
        assert_eq!(z.to_wall(i64::MAX), i64::MAX);
    }

    #[test]
    fn civil_days_round_trip() {
        for days in [-719_468, -1, 0, 59, 18_690, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2021, 3, 4), 18_690);
    }
}
