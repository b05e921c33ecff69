//! What the Megatec-derived protocols share: the Q1-style status answer layout, its status
//! bits, the `S`/`T` command formatting, the delay ranges and the claim/option handling
//! (`novendor`, `norating`, `ignoresab`).
//!
//! Q1-style answer (47 bytes with the CR):
//! ```text
//! (226.0 195.0 226.0 014 49.0 27.5 30.0 00001000\r
//!  0         1         2         3         4
//!  0123456789012345678901234567890123456789012345 6
//! ```
//! input V 1-5, input fault V 7-11, output V 13-17, load % 19-21, input Hz 23-26, battery V
//! 28-31, temperature 33-36, then status bits 38 (utility fail), 39 (battery low), 40
//! (bypass/boost/buck active), 41 (UPS failed), 42 (line-interactive), 43 (test in progress),
//! 44 (shutdown active), 45 (beeper on).

use crate::cnum;
use crate::engine::{Level, Qx};
use crate::item::{Item, Refused, RwValue, qxf};

/// `ups.delay.start` range, seconds.
pub const R_ONDELAY: &[RwValue] = &[RwValue::new("0"), RwValue::new("599940")];
/// `ups.delay.shutdown` range, seconds.
pub const R_OFFDELAY: &[RwValue] = &[RwValue::new("12"), RwValue::new("600")];

/// Default `ondelay`, seconds.
pub const DEFAULT_ONDELAY: &str = "180";
/// Default `offdelay`, seconds.
pub const DEFAULT_OFFDELAY: &str = "30";

/// Builds a protocol table from items and these shorthands for the shared blocks:
/// `@values(cmd, flags)` the seven Q1 measurements, `@bits_a(cmd)` bits 38-39, `@bit40(cmd)`,
/// `@bits_b(cmd)` bits 41-44, `@beeper(cmd)` bit 45, `@q1(cmd, flags)` all of them in
/// megatec's order, `@f` the `F` ratings, `@vendor(cmd)` the `I`/`FW?` vendor rows,
/// `@megatec_cmds` the Megatec instant commands, `@delays(on_range, off_range, on, off)` the
/// server-side delay variables.
#[macro_export]
#[doc(hidden)]
macro_rules! qx_table {
    (@acc [$($out:expr,)*]) => { &[$($out,)*] };
    (@acc [$($out:expr,)*] @q1($cmd:expr, $vf:expr) $(, $($rest:tt)*)?) => {
        $crate::qx_table!(@acc [$($out,)*] @values($cmd, $vf), @bits_a($cmd), @bit40($cmd), @bits_b($cmd), @beeper($cmd) $(, $($rest)*)?)
    };
    (@acc [$($out:expr,)*] @values($cmd:expr, $vf:expr) $(, $($rest:tt)*)?) => {
        $crate::qx_table!(@acc [$($out,)*
            $crate::item::Item::query("input.voltage", $cmd, 47, Some(b'('), 1, 5, Some("%.1f"), $vf, None),
            $crate::item::Item::query("input.voltage.fault", $cmd, 47, Some(b'('), 7, 11, Some("%.1f"), $vf, None),
            $crate::item::Item::query("output.voltage", $cmd, 47, Some(b'('), 13, 17, Some("%.1f"), $vf, None),
            $crate::item::Item::query("ups.load", $cmd, 47, Some(b'('), 19, 21, Some("%.0f"), $vf, None),
            $crate::item::Item::query("input.frequency", $cmd, 47, Some(b'('), 23, 26, Some("%.1f"), $vf, None),
            $crate::item::Item::query("battery.voltage", $cmd, 47, Some(b'('), 28, 31, Some("%.2f"), $vf, None),
            $crate::item::Item::query("ups.temperature", $cmd, 47, Some(b'('), 33, 36, Some("%.1f"), $vf, None),
        ] $($($rest)*)?)
    };
    (@acc [$($out:expr,)*] @bits_a($cmd:expr) $(, $($rest:tt)*)?) => {
        $crate::qx_table!(@acc [$($out,)*
            $crate::item::Item::query("ups.status", $cmd, 47, Some(b'('), 38, 38, None, $crate::item::qxf::QUICK_POLL, None).fixed($crate::protocol::blazer_common::status_bit),
            $crate::item::Item::query("ups.status", $cmd, 47, Some(b'('), 39, 39, None, $crate::item::qxf::QUICK_POLL, None).fixed($crate::protocol::blazer_common::status_bit),
        ] $($($rest)*)?)
    };
    (@acc [$($out:expr,)*] @bit40($cmd:expr) $(, $($rest:tt)*)?) => {
        $crate::qx_table!(@acc [$($out,)*
            $crate::item::Item::query("ups.status", $cmd, 47, Some(b'('), 40, 40, None, $crate::item::qxf::QUICK_POLL, None).fixed($crate::protocol::blazer_common::status_bit),
        ] $($($rest)*)?)
    };
    (@acc [$($out:expr,)*] @bits_b($cmd:expr) $(, $($rest:tt)*)?) => {
        $crate::qx_table!(@acc [$($out,)*
            $crate::item::Item::query("ups.alarm", $cmd, 47, Some(b'('), 41, 41, None, 0, None).fixed($crate::protocol::blazer_common::status_bit),
            $crate::item::Item::query("ups.type", $cmd, 47, Some(b'('), 42, 42, Some("%s"), $crate::item::qxf::STATIC, None).fixed($crate::protocol::blazer_common::status_bit),
            $crate::item::Item::query("ups.status", $cmd, 47, Some(b'('), 43, 43, None, $crate::item::qxf::QUICK_POLL, None).fixed($crate::protocol::blazer_common::status_bit),
            $crate::item::Item::query("ups.status", $cmd, 47, Some(b'('), 44, 44, None, $crate::item::qxf::QUICK_POLL, None).fixed($crate::protocol::blazer_common::status_bit),
        ] $($($rest)*)?)
    };
    (@acc [$($out:expr,)*] @beeper($cmd:expr) $(, $($rest:tt)*)?) => {
        $crate::qx_table!(@acc [$($out,)*
            $crate::item::Item::query("ups.beeper.status", $cmd, 47, Some(b'('), 45, 45, Some("%s"), 0, None).fixed($crate::protocol::blazer_common::status_bit),
        ] $($($rest)*)?)
    };
    (@acc [$($out:expr,)*] @f $(, $($rest:tt)*)?) => {
        $crate::qx_table!(@acc [$($out,)*
            $crate::item::Item::query("input.voltage.nominal", "F\r", 22, Some(b'#'), 1, 5, Some("%.0f"), $crate::item::qxf::STATIC, None),
            $crate::item::Item::query("input.current.nominal", "F\r", 22, Some(b'#'), 7, 9, Some("%.1f"), $crate::item::qxf::STATIC, None),
            $crate::item::Item::query("battery.voltage.nominal", "F\r", 22, Some(b'#'), 11, 15, Some("%.1f"), $crate::item::qxf::STATIC, None),
            $crate::item::Item::query("input.frequency.nominal", "F\r", 22, Some(b'#'), 17, 20, Some("%.0f"), $crate::item::qxf::STATIC, None),
        ] $($($rest)*)?)
    };
    (@acc [$($out:expr,)*] @vendor($cmd:expr) $(, $($rest:tt)*)?) => {
        $crate::qx_table!(@acc [$($out,)*
            $crate::item::Item::query("device.mfr", $cmd, 39, Some(b'#'), 1, 15, Some("%s"), $crate::item::qxf::STATIC | $crate::item::qxf::TRIM, None),
            $crate::item::Item::query("device.model", $cmd, 39, Some(b'#'), 17, 26, Some("%s"), $crate::item::qxf::STATIC | $crate::item::qxf::TRIM, None),
            $crate::item::Item::query("ups.firmware", $cmd, 39, Some(b'#'), 28, 37, Some("%s"), $crate::item::qxf::STATIC | $crate::item::qxf::TRIM, None),
        ] $($($rest)*)?)
    };
    (@acc [$($out:expr,)*] @megatec_cmds $(, $($rest:tt)*)?) => {
        $crate::qx_table!(@acc [$($out,)*
            $crate::item::Item::cmd("beeper.toggle", "Q\r", None),
            $crate::item::Item::cmd("load.off", "S00R0000\r", None),
            $crate::item::Item::cmd("load.on", "C\r", None),
            $crate::item::Item::cmd("shutdown.return", "S%s\r", Some($crate::protocol::blazer_common::process_command)),
            $crate::item::Item::cmd("shutdown.stayoff", "S%sR0000\r", Some($crate::protocol::blazer_common::process_command)),
            $crate::item::Item::cmd("shutdown.stop", "C\r", None),
            $crate::item::Item::cmd("test.battery.start", "T%02d\r", Some($crate::protocol::blazer_common::process_command)),
            $crate::item::Item::cmd("test.battery.start.deep", "TL\r", None),
            $crate::item::Item::cmd("test.battery.start.quick", "T\r", None),
            $crate::item::Item::cmd("test.battery.stop", "CT\r", None),
        ] $($($rest)*)?)
    };
    (@acc [$($out:expr,)*] @delays($ron:expr, $roff:expr, $don:expr, $doff:expr) $(, $($rest:tt)*)?) => {
        $crate::qx_table!(@acc [$($out,)*
            $crate::item::Item {
                var: "ups.delay.start",
                st_flags: $crate::item::stf::RW,
                rw: $ron,
                dfl: Some($don),
                flags: $crate::item::qxf::ABSENT | $crate::item::qxf::SETVAR | $crate::item::qxf::RANGE,
                pre: Some($crate::protocol::blazer_common::process_setvar),
                ..$crate::item::Item::BLANK
            },
            $crate::item::Item {
                var: "ups.delay.shutdown",
                st_flags: $crate::item::stf::RW,
                rw: $roff,
                dfl: Some($doff),
                flags: $crate::item::qxf::ABSENT | $crate::item::qxf::SETVAR | $crate::item::qxf::RANGE,
                pre: Some($crate::protocol::blazer_common::process_setvar),
                ..$crate::item::Item::BLANK
            },
        ] $($($rest)*)?)
    };
    (@acc [$($out:expr,)*] $e:expr $(, $($rest:tt)*)?) => {
        $crate::qx_table!(@acc [$($out,)* $e,] $($($rest)*)?)
    };
    ($($t:tt)*) => { $crate::qx_table!(@acc [] $($t)*) };
}

/// Decode one Q1 status bit (the item's `from` says which).
pub fn status_bits(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    status_bit(qx, idx, value).map(str::to_string)
}

/// [`status_bits`] as a fixed text: the Q1 tables' rows use this one, since the engine decodes
/// every status bit in every poll and the text needs no allocation.
pub fn status_bit(qx: &mut Qx, idx: usize, value: &str) -> Result<&'static str, Refused> {
    let it = qx.item(idx);
    let b = value.as_bytes();
    if b.is_empty() || !b"01".contains(&b[0]) || (b.len() > 1 && b"01".contains(&b[1])) {
        qx.logm(
            Level::Debug(3),
            format!(
                "blazer_process_status_bits: unexpected value {}@{}->{}",
                value, it.from, value
            ),
        );
        return Err(Refused);
    }
    let on = b[0] == b'1';
    let v = match it.from {
        38 => {
            if on {
                "!OL"
            } else {
                "OL"
            }
        }
        39 => {
            if on {
                "LB"
            } else {
                "!LB"
            }
        }
        40 => {
            if !on {
                ""
            } else {
                let vi = cnum::strtod(qx.getinfo("input.voltage").unwrap_or(""));
                let vo = cnum::strtod(qx.getinfo("output.voltage").unwrap_or(""));
                if vo < 0.5 * vi {
                    qx.logm(
                        Level::Debug(2),
                        "blazer_process_status_bits: output voltage too low",
                    );
                    return Err(Refused);
                } else if vo < 0.95 * vi {
                    "TRIM"
                } else if vo < 1.05 * vi {
                    "BYPASS"
                } else if vo < 1.5 * vi {
                    "BOOST"
                } else {
                    qx.logm(
                        Level::Debug(2),
                        "blazer_process_status_bits: output voltage too high",
                    );
                    return Err(Refused);
                }
            }
        }
        41 => {
            if on {
                "UPS selftest failed!"
            } else {
                ""
            }
        }
        42 => {
            if on {
                "offline / line interactive"
            } else {
                "online"
            }
        }
        43 => {
            if on {
                "CAL"
            } else {
                "!CAL"
            }
        }
        44 => {
            if on {
                "FSD"
            } else {
                "!FSD"
            }
        }
        45 => {
            if on {
                "enabled"
            } else {
                "disabled"
            }
        }
        _ => return Err(Refused),
    };
    Ok(v)
}

/// Round a SET of `ups.delay.start` / `ups.delay.shutdown` down to what the device can do
/// (whole minutes; below one minute, multiples of 6 s for the shutdown delay).
pub fn process_setvar(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let it = qx.item(idx);
    if value.is_empty() {
        qx.logm(Level::Debug(2), format!("value not given for {}", it.var));
        return Err(Refused);
    }
    let n = cnum::strtol(value);
    if cnum::eq_ic(it.var, "ups.delay.start") {
        if n < 0 {
            qx.logm(
                Level::Error,
                format!("{}: ondelay '{}' should not be negative", it.var, n),
            );
            return Err(Refused);
        }
        Ok((n - n % 60).to_string())
    } else if cnum::eq_ic(it.var, "ups.delay.shutdown") {
        if n < 0 {
            qx.logm(
                Level::Error,
                format!("{}: offdelay '{}' should not be negative", it.var, n),
            );
            return Err(Refused);
        }
        Ok(if n < 60 { n - n % 6 } else { n - n % 60 }.to_string())
    } else {
        Err(Refused)
    }
}

/// `S<n>` delay text for an offdelay in seconds: `.2`..`.9` below a minute, else `01`..`99`.
pub fn offdelay_text(offdelay: i64) -> String {
    if offdelay < 60 {
        format!(".{}", offdelay / 6)
    } else {
        format!("{:02}", offdelay / 60)
    }
}

/// Build `shutdown.return` (`S<n>` / `S<n>R<mmmm>`), `shutdown.stayoff` (`S<n>R0000`) and
/// `test.battery.start` (`T<mm>`, 60..5940 s, default 600) from the delays.
pub fn process_command(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let it = qx.item(idx);
    let fmt = it.command.unwrap_or("");
    let offdelay = cnum::strtol(qx.getinfo("ups.delay.shutdown").unwrap_or(""));
    if cnum::eq_ic(it.var, "shutdown.return") {
        let ondelay = cnum::strtol(qx.getinfo("ups.delay.start").unwrap_or("")) / 60;
        if offdelay < 0 {
            qx.logm(
                Level::Error,
                format!("{}: offdelay '{}' should not be negative", it.var, offdelay),
            );
            return Err(Refused);
        }
        let arg = if ondelay <= 0 {
            offdelay_text(offdelay)
        } else {
            format!("{}R{:04}", offdelay_text(offdelay), ondelay)
        };
        Ok(cnum::format_str(fmt, &arg))
    } else if cnum::eq_ic(it.var, "shutdown.stayoff") {
        if offdelay < 0 {
            qx.logm(
                Level::Error,
                format!("{}: offdelay '{}' should not be negative", it.var, offdelay),
            );
            return Err(Refused);
        }
        Ok(cnum::format_str(fmt, &offdelay_text(offdelay)))
    } else if cnum::eq_ic(it.var, "test.battery.start") {
        let delay = if value.is_empty() {
            600
        } else {
            cnum::strtol(value)
        };
        if !(60..=5940).contains(&delay) {
            qx.logm(
                Level::Error,
                format!(
                    "{}: battery test time '{}' out of range [60..5940] seconds",
                    it.var, delay
                ),
            );
            return Err(Refused);
        }
        Ok(cnum::format_num(fmt, (delay / 60) as f64))
    } else {
        Err(Refused)
    }
}

/// `blazer_initups`: apply `norating` (skip `F`), `novendor` (skip `I`/`FW?`) and
/// `ignoresab` (skip the shutdown-active bit).
pub fn initups(qx: &mut Qx) {
    let nr = qx.opts.testvar("norating");
    let nv = qx.opts.testvar("novendor");
    apply_skips(qx, nr, nv);
}

/// `blazer_initups_light`: only `ignoresab`.
pub fn initups_light(qx: &mut Qx) {
    apply_skips(qx, false, false);
}

fn apply_skips(qx: &mut Qx, nr: bool, nv: bool) {
    let isb = qx.opts.testvar("ignoresab");
    for (i, it) in qx.proto.table.iter().enumerate() {
        let Some(cmd) = it.command else { continue };
        if (nr && cnum::eq_ic(cmd, "F\r"))
            || (nv && (cnum::eq_ic(cmd, "I\r") || cnum::eq_ic(cmd, "FW?\r")))
            || (isb && cnum::eq_ic(it.var, "ups.status") && it.from == 44 && it.to == 44)
        {
            qx.flags[i] |= qxf::SKIP;
        }
    }
}

/// For tests and tables: every item of a table that is a Q1 status row.
pub fn is_status_row(it: &Item) -> bool {
    cnum::eq_ic(it.var, "ups.status")
}
