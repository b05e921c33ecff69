//! The variables dummy-ups knows, with the flags and string lengths it gives them (the table
//! of NUT's dummy-ups). Any other variable is published as a 32-character RW string.

use nut_driver::VarFlags;

const RW: VarFlags = VarFlags::RW;
const RW_STRING: VarFlags = VarFlags::RW.union(VarFlags::STRING);

/// (name, flags, maximum length for strings)
const KNOWN: &[(&str, VarFlags, i64)] = &[
    ("ups.mfr", RW_STRING, 32),
    ("ups.model", RW_STRING, 32),
    ("ups.status", RW_STRING, 32),
    ("ups.serial", RW_STRING, 32),
    ("ups.load", RW, 0),
    ("ups.alarm", RW_STRING, 32),
    ("ups.time", RW_STRING, 16),
    ("ups.date", RW_STRING, 16),
    ("ups.mfr.date", RW_STRING, 16),
    ("ups.firmware", RW_STRING, 16),
    ("ups.firmware.aux", RW_STRING, 16),
    ("ups.temperature", RW, 0),
    ("ups.id", RW_STRING, 16),
    ("ups.delay.start", RW, 0),
    ("ups.delay.reboot", RW, 0),
    ("ups.delay.shutdown", RW, 0),
    ("ups.test.interval", RW, 0),
    ("ups.test.result", RW_STRING, 16),
    ("input.voltage", RW, 0),
    ("input.voltage.maximum", RW, 0),
    ("input.voltage.minimum", RW, 0),
    ("input.voltage.nominal", RW, 0),
    ("input.transfer.reason", RW_STRING, 1),
    ("input.transfer.low", RW, 0),
    ("input.transfer.high", RW, 0),
    ("input.sensitivity", RW_STRING, 1),
    ("input.quality", RW_STRING, 6),
    ("input.frequency", RW, 0),
    ("input.transfer.boost.low", RW, 0),
    ("input.transfer.boost.high", RW, 0),
    ("input.transfer.trim.low", RW, 0),
    ("input.transfer.trim.high", RW, 0),
    ("output.voltage", RW, 0),
    ("output.frequency", RW, 0),
    ("output.current", RW, 0),
    ("battery.charge", RW, 0),
    ("battery.charge.low", RW, 0),
    ("battery.voltage", RW, 0),
    ("battery.current", RW, 0),
    ("battery.runtime", RW, 0),
    ("battery.runtime.low", RW, 0),
    ("battery.charge.restart", RW, 0),
    ("battery.temperature", RW, 0),
    ("battery.voltage.nominal", RW, 0),
];

/// Flags and aux for `var` (ASCII case ignored): the table's, else a 32-character RW string.
pub fn flags_for(var: &str) -> (VarFlags, i64) {
    KNOWN
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(var))
        .map_or((RW_STRING, 32), |(_, flags, aux)| (*flags, *aux))
}

/// Whether `var` is a known numeric variable (a table entry without STRING).
pub fn is_numeric(var: &str) -> bool {
    KNOWN
        .iter()
        .any(|(name, flags, _)| name.eq_ignore_ascii_case(var) && !flags.string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_variables() {
        assert_eq!(flags_for("ups.id"), (RW_STRING, 16));
        assert_eq!(flags_for("BATTERY.CHARGE"), (RW, 0));
        assert_eq!(flags_for("device.mfr"), (RW_STRING, 32));
        assert!(is_numeric("input.voltage"));
        assert!(!is_numeric("ups.mfr"));
        assert!(!is_numeric("anything.else"));
    }
}
