//! The host's time zone as an offset from UTC, for pure cores that convert device clocks the
//! way NUT's C code does with `localtime_r`/`mktime` (e.g. usbhid-ups' mge `ups.date`).

use std::sync::Once;

unsafe extern "C" {
    /// POSIX `tzset` (not bound by the libc crate).
    fn tzset();
}

/// Seconds east of UTC in effect at Unix time `unix` in the process's time zone (`TZ`, else
/// /etc/localtime), as `localtime_r` reports it in `tm_gmtoff`; 0 when the time cannot be
/// converted.
pub fn utc_offset_at(unix: i64) -> i64 {
    // localtime_r, unlike localtime, is not required to read TZ: load the zone once first.
    static TZSET: Once = Once::new();
    // SAFETY: tzset only initialises libc's zone state; Once runs it on one thread.
    TZSET.call_once(|| unsafe { tzset() });
    // time_t is 64-bit on every target Debian builds NUT for with 64-bit time.
    let time = unix as libc::time_t;
    // SAFETY: localtime_r writes only into `tm`, which lives for the call; a zeroed `tm` is
    // a valid value of the plain C struct.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&time, &mut tm).is_null() {
            return 0;
        }
        tm.tm_gmtoff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_is_whole_minutes_within_a_day() {
        for t in [0, 1_700_000_000, 1_720_000_000] {
            let off = utc_offset_at(t);
            assert!(off.abs() <= 26 * 3600, "{off}");
            assert_eq!(off % 60, 0, "{off}");
        }
        assert_eq!(utc_offset_at(i64::MAX), 0);
    }
}
