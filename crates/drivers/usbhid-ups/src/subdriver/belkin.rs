//! Belkin (050d) and Liebert (10af: GXT3, GXT4, PowerSure PSA/PSI) — NUT's "Belkin/Liebert HID
//! 0.18". Belkin units put most values on vendor usages of page 0x86 (names in
//! [`super::names_belkin`]) in odd units (0.1 V, 0.1 Hz, status bytes); newer Liebert firmware
//! uses the standard paths but declares some exponents wrong (voltages come out as 1e-7), which
//! the Liebert conversion functions correct.

use crate::mapping::{Conversion, Function, HidInfo as H, tables};

const ONDELAY: &str = "30";
const OFFDELAY: &str = "20";

const STRING: Conversion = Conversion::Fun(Function::StringId);
const TENTH: Conversion = Conversion::Fun(Function::DivideBy10);
const DATE: Conversion = Conversion::Fun(Function::Date);
const LINE_VOLTAGE: Conversion = Conversion::Fun(Function::LiebertLineVoltage);

static BELKIN_TEST: &[(i64, &str)] = &[
    (0, "No test initiated"),
    (1, "Done and passed"),
    (2, "Done and warning"),
    (3, "Done and error"),
    (4, "Aborted"),
    (5, "In progress"),
];

/// A status row whose word comes from a function of the value.
const fn status_fun(path: &'static str, fun: Function) -> H {
    let mut row = H::status(path, &[]);
    row.conversion = Some(Conversion::Fun(fun));
    row
}

/// Liebert status bits: any non-zero value sets the word.
const fn liebert(path: &'static str, word: &'static str, clear: &'static str) -> H {
    status_fun(path, Function::NonZero(word, clear))
}

/// Belkin status bits: `word` when the masked bit is set.
const fn belkin_bit(path: &'static str, mask: i64, word: &'static str, clear: &'static str) -> H {
    status_fun(
        path,
        Function::StatusBits {
            mask,
            equal: mask,
            then: word,
            otherwise: clear,
        },
    )
}

const POWER_STATUS: &str = "UPS.BELKINStatus.BELKINPowerStatus";
const BATTERY_STATUS: &str = "UPS.BELKINStatus.BELKINBatteryStatus";
const TEST: &str = "UPS.BELKINControls.BELKINTest";
const ALARM: &str = "UPS.BELKINControls.BELKINAudibleAlarmControl";
const STARTUP: &str = "UPS.BELKINControls.BELKINDelayBeforeStartup";
const SHUTDOWN: &str = "UPS.BELKINControls.BELKINDelayBeforeShutdown";
const REBOOT: &str = "UPS.BELKINControls.BELKINDelayBeforeReboot";

/// Rows in NUT's order: the first row whose path exists wins a variable.
pub const TABLE: &[H] = &[
    // Belkin vendor paths
    H::var(
        "battery.charge",
        "UPS.BELKINBatterySystem.BELKINCharge",
        "%.0f",
    ),
    H::var(
        "battery.charge.low",
        "UPS.PowerSummary.RemainingCapacityLimit",
        "%.0f",
    ),
    H::var(
        "battery.charge.warning",
        "UPS.PowerSummary.WarningCapacityLimit",
        "%.0f",
    ),
    H::var("battery.runtime", "UPS.PowerSummary.RunTimeToEmpty", "%.0f"),
    H::var_conv("battery.type", "UPS.PowerSummary.iDeviceChemistry", STRING),
    H::var_conv(
        "battery.voltage",
        "UPS.BELKINBatterySystem.BELKINVoltage",
        TENTH,
    ),
    H::var(
        "battery.voltage.nominal",
        "UPS.BELKINConfig.BELKINConfigBatteryVoltage",
        "%.0f",
    ),
    H::var_conv(
        "input.frequency",
        "UPS.BELKINPowerState.BELKINInput.BELKINFrequency",
        TENTH,
    ),
    H::var(
        "input.frequency.nominal",
        "UPS.BELKINConfig.BELKINConfigFrequency",
        "%.0f",
    ),
    H::var_conv(
        "input.sensitivity",
        "UPS.BELKINDevice.BELKINVoltageSensitivity",
        Conversion::Fun(Function::BelkinSensitivity),
    )
    .rw(),
    H::var(
        "input.transfer.high",
        "UPS.BELKINConfig.BELKINHighVoltageTransfer",
        "%.0f",
    )
    .rw(),
    H::var(
        "input.transfer.high.max",
        "UPS.BELKINConfig.BELKINHighVoltageTransferMax",
        "%.0f",
    ),
    H::var(
        "input.transfer.high.min",
        "UPS.BELKINConfig.BELKINHighVoltageTransferMin",
        "%.0f",
    ),
    H::var(
        "input.transfer.low",
        "UPS.BELKINConfig.BELKINLowVoltageTransfer",
        "%.0f",
    )
    .rw(),
    H::var(
        "input.transfer.low.max",
        "UPS.BELKINConfig.BELKINLowVoltageTransferMax",
        "%.0f",
    ),
    H::var(
        "input.transfer.low.min",
        "UPS.BELKINConfig.BELKINLowVoltageTransferMin",
        "%.0f",
    ),
    H::var_conv(
        "input.voltage",
        "UPS.BELKINPowerState.BELKINInput.BELKINVoltage",
        TENTH,
    ),
    H::var(
        "input.voltage.nominal",
        "UPS.BELKINConfig.BELKINConfigVoltage",
        "%.0f",
    ),
    H::var_conv(
        "output.frequency",
        "UPS.BELKINPowerState.BELKINOutput.BELKINFrequency",
        TENTH,
    ),
    H::var_conv(
        "output.voltage",
        "UPS.BELKINPowerState.BELKINOutput.BELKINVoltage",
        TENTH,
    ),
    H::var_conv(
        "ups.beeper.status",
        ALARM,
        Conversion::Lookup(tables::BEEPER),
    ),
    H::absent("ups.delay.start", STARTUP, ONDELAY),
    H::absent("ups.delay.shutdown", SHUTDOWN, OFFDELAY),
    H::var("ups.timer.start", STARTUP, "%.0f").quick(),
    H::var("ups.timer.shutdown", SHUTDOWN, "%.0f").quick(),
    H::var("ups.timer.reboot", REBOOT, "%.0f").quick(),
    H::var_conv(
        "ups.firmware",
        "UPS.BELKINDevice.BELKINUPSType",
        Conversion::Fun(Function::BelkinFirmware),
    ),
    H::var(
        "ups.load",
        "UPS.BELKINPowerState.BELKINOutput.BELKINPercentLoad",
        "%.0f",
    ),
    H::var(
        "ups.load.high",
        "UPS.BELKINConfig.BELKINConfigOverloadTransfer",
        "%.0f",
    ),
    H::var_conv("ups.mfr.date", "UPS.PowerSummary.ManufacturerDate", DATE),
    H::var(
        "ups.power.nominal",
        "UPS.BELKINConfig.BELKINConfigApparentPower",
        "%.0f",
    ),
    H::var_conv("ups.serial", "UPS.PowerSummary.iSerialNumber", STRING),
    H::var_conv("ups.test.result", TEST, Conversion::Lookup(BELKIN_TEST)),
    H::var_conv(
        "ups.type",
        "UPS.BELKINDevice.BELKINUPSType",
        Conversion::Fun(Function::BelkinUpsType),
    ),
    // Liebert PSA and other units on standard paths
    H::var(
        "battery.charge",
        "UPS.PowerSummary.RemainingCapacity",
        "%.0f",
    )
    .quick(),
    H::var_conv("input.frequency", "UPS.Input.Frequency", TENTH),
    H::var_conv("input.voltage", "UPS.Input.Voltage", LINE_VOLTAGE),
    H::var_conv("output.voltage", "UPS.Output.Voltage", LINE_VOLTAGE),
    H::var_conv("battery.voltage", "UPS.PowerSummary.Voltage", LINE_VOLTAGE),
    H::var_conv(
        "battery.voltage.nominal",
        "UPS.PowerSummary.ConfigVoltage",
        Conversion::Fun(Function::LiebertConfigVoltage),
    )
    .static_(),
    H::var("ups.load", "UPS.Output.PercentLoad", "%.0f"),
    // Status
    liebert("UPS.PowerSummary.Discharging", "dischrg", "!dischrg").quick(),
    liebert("UPS.PowerSummary.Charging", "chrg", "!chrg").quick(),
    liebert(
        "UPS.PowerSummary.ShutdownImminent",
        "shutdownimm",
        "!shutdownimm",
    ),
    liebert("UPS.PowerSummary.ACPresent", "online", "!online").quick(),
    liebert(
        "UPS.PowerSummary.PresentStatus.Discharging",
        "dischrg",
        "!dischrg",
    )
    .quick(),
    liebert("UPS.PowerSummary.PresentStatus.Charging", "chrg", "!chrg").quick(),
    liebert(
        "UPS.PowerSummary.PresentStatus.ShutdownImminent",
        "shutdownimm",
        "!shutdownimm",
    ),
    liebert(
        "UPS.PowerSummary.PresentStatus.ACPresent",
        "online",
        "!online",
    )
    .quick(),
    liebert(
        "UPS.PowerSummary.PresentStatus.NeedReplacement",
        "replacebatt",
        "!replacebatt",
    )
    .quick(),
    liebert(
        "UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit",
        "lowbatt",
        "!lowbatt",
    )
    .quick(),
    belkin_bit(POWER_STATUS, 0x0010, "overload", "!overload"),
    belkin_bit(POWER_STATUS, 0x0040, "overheat", "!overheat"),
    belkin_bit(POWER_STATUS, 0x0080, "commfault", "!commfault"),
    belkin_bit(POWER_STATUS, 0x2000, "awaitingpower", "!awaitingpower"),
    // bit 0 is "AC failure": set means on battery
    belkin_bit(POWER_STATUS, 0x0001, "!online", "online").quick(),
    belkin_bit(BATTERY_STATUS, 0x0040, "depleted", "!depleted").quick(),
    belkin_bit(BATTERY_STATUS, 0x0080, "replacebatt", "!replacebatt"),
    belkin_bit(BATTERY_STATUS, 0x0004, "lowbatt", "!lowbatt").quick(),
    // Instant commands
    H::command("test.battery.start.quick", TEST, "1"),
    H::command("test.battery.start.deep", TEST, "2"),
    H::command("test.battery.stop", TEST, "3"),
    H::command("beeper.on", ALARM, "2"),
    H::command("beeper.off", ALARM, "3"),
    H::command("beeper.disable", ALARM, "1"),
    H::command("beeper.enable", ALARM, "2"),
    H::command("beeper.mute", ALARM, "3"),
    H::command("load.off", SHUTDOWN, "1"),
    H::command("load.on", STARTUP, "1"),
    H::command("load.off.delay", SHUTDOWN, OFFDELAY),
    H::command("load.on.delay", STARTUP, ONDELAY),
    H::command("shutdown.stop", SHUTDOWN, "-1"),
    H::command("shutdown.reboot", REBOOT, "10"),
];
crate::pooled_table!(TABLE);

/// `ups.mfr`: the USB vendor string without leading blanks; "Belkin" when there is none or
/// nothing is left.
pub fn format_mfr(mfr: Option<&str>) -> String {
    match mfr.map(|m| m.trim_start_matches(' ')) {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => "Belkin".to_string(),
    }
}

/// `ups.model`: the USB product string, "unknown" when there is none or it is empty.
pub fn format_model(product: Option<&str>) -> String {
    match product {
        Some(p) if !p.is_empty() => p.to_string(),
        _ => "unknown".to_string(),
    }
}
