//! PowerCOM (0d9f) — NUT's "PowerCOM HID 0.6". Newer units use standard paths (under
//! `UPS.PowerSummary` or directly under `UPS`), older ones a vendor tree on page 2 (names in
//! [`super::names_powercom`]) with status bytes. The delays are encoded their own way:
//! DelayBeforeStartup holds minutes with swapped bytes, DelayBeforeShutdown minutes and seconds
//! in two bytes plus "restart" / "stay off" bits on writing (see the PowerCOM functions in
//! [`crate::mapping::Function`]).

use crate::mapping::{Conversion, Function, HidInfo as H, tables};
use crate::status::tables as st;

const OFFDELAY: &str = "20";

static BEEPER: &[(i64, &str)] = &[(1, "enabled"), (2, "disabled")];

const STARTUP: Conversion = Conversion::Fun(Function::PowercomStartup);
const SHUTDOWN: Conversion = Conversion::Fun(Function::PowercomShutdown);
const STAYOFF: Conversion = Conversion::Fun(Function::PowercomStayoff);
const VOLTAGE: Conversion = Conversion::Fun(Function::PowercomVoltage);
const DATE: Conversion = Conversion::Fun(Function::Date);
const STRING: Conversion = Conversion::Fun(Function::StringId);

/// A driver-side delay variable: a string of at most 8 characters.
const fn delay(name: &'static str, path: &'static str, default: &'static str) -> H {
    let mut row = H::absent(name, path, default);
    row.var_flags.string = Some(8);
    row
}

/// An instant command whose value goes through a conversion (no value: the variable's).
const fn command_conv(
    name: &'static str,
    path: &'static str,
    value: Option<&'static str>,
    conversion: Conversion,
) -> H {
    let mut row = H::command(name, path, "");
    row.default = value;
    row.conversion = Some(conversion);
    row
}

/// A quick-polled status row: `word` when `value & mask == equal`, else `clear`.
const fn status_bits(
    path: &'static str,
    mask: i64,
    equal: i64,
    word: &'static str,
    clear: &'static str,
) -> H {
    let mut row = H::status(path, &[]);
    row.conversion = Some(Conversion::Fun(Function::StatusBits {
        mask,
        equal,
        then: word,
        otherwise: clear,
    }));
    row.flags.quick_poll = true;
    row
}

const CHARGE_CONTROLLER: &str =
    "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomInternalChargeController";
const BATTERY_SUPPORT: &str =
    "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomPrimaryBatterySupport";
const PS_STARTUP: &str = "UPS.PowerSummary.DelayBeforeStartup";
const PS_SHUTDOWN: &str = "UPS.PowerSummary.DelayBeforeShutdown";
const PCM_SHUTDOWN: &str = "UPS.PowerSummary.PCMDelayBeforeShutdown";
const ALARM: &str = "UPS.PowerSummary.AudibleAlarmControl";

/// Rows in NUT's order: the first row whose path exists wins a variable.
pub const TABLE: &[H] = &[
    // Status, under PowerSummary
    H::status("UPS.PowerSummary.PresentStatus.ACPresent", st::ONLINE),
    H::status(
        "UPS.PowerSummary.PresentStatus.BatteryPresent",
        st::NOBATTERY,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit",
        st::LOWBATT,
    ),
    H::status("UPS.PowerSummary.PresentStatus.Charging", st::CHARGING),
    H::status(
        "UPS.PowerSummary.PresentStatus.CommunicationLost",
        st::COMMFAULT,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.Discharging",
        st::DISCHARGING,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.NeedReplacement",
        st::REPLACEBATT,
    ),
    H::status("UPS.PowerSummary.PresentStatus.Overload", st::OVERLOAD),
    H::status(
        "UPS.PowerSummary.PresentStatus.RemainingTimeLimitExpired",
        st::TIMELIMITEXPIRED,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.ShutdownImminent",
        st::SHUTDOWNIMM,
    ),
    // Status, directly under UPS
    H::status("UPS.PresentStatus.ACPresent", st::ONLINE),
    H::status("UPS.PresentStatus.BatteryPresent", st::NOBATTERY),
    H::status("UPS.PresentStatus.BelowRemainingCapacityLimit", st::LOWBATT),
    H::status("UPS.PresentStatus.Boost", st::BOOST),
    H::status("UPS.PresentStatus.Buck", st::TRIM),
    H::status("UPS.PresentStatus.Charging", st::CHARGING),
    H::status("UPS.PresentStatus.CommunicationLost", st::COMMFAULT),
    H::status("UPS.PresentStatus.Discharging", st::DISCHARGING),
    H::status("UPS.PresentStatus.NeedReplacement", st::REPLACEBATT),
    H::status("UPS.PresentStatus.Overload", st::OVERLOAD),
    H::status(
        "UPS.PresentStatus.RemainingTimeLimitExpired",
        st::TIMELIMITEXPIRED,
    ),
    H::status("UPS.PresentStatus.ShutdownImminent", st::SHUTDOWNIMM),
    // Battery (PowerSummary.Voltage/ConfigVoltage repeat the output's: not used)
    H::var(
        "battery.charge",
        "UPS.PowerSummary.RemainingCapacity",
        "%.0f",
    ),
    H::var("battery.charge", "UPS.Battery.RemainingCapacity", "%.0f"),
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
    H::var_conv("battery.date", "UPS.Battery.ManufacturerDate", DATE).static_(),
    H::var_conv("battery.type", "UPS.PowerSummary.iDeviceChemistry", STRING).static_(),
    // UPS
    H::var_conv("ups.beeper.status", ALARM, Conversion::Lookup(BEEPER)),
    H::var_conv(
        "ups.beeper.status",
        "UPS.AudibleAlarmControl",
        Conversion::Lookup(BEEPER),
    ),
    H::var("ups.load", "UPS.Output.PercentLoad", "%.0f"),
    H::var_conv("ups.date", "UPS.PowerSummary.ManufacturerDate", DATE).static_(),
    H::var_conv(
        "ups.test.result",
        "UPS.Battery.Test",
        Conversion::Lookup(tables::TEST_READ),
    ),
    delay("ups.delay.start", PS_STARTUP, "60"),
    H::var_conv("ups.timer.start", PS_STARTUP, STARTUP),
    delay("ups.delay.shutdown", PS_SHUTDOWN, OFFDELAY),
    H::var_conv("ups.timer.shutdown", PS_SHUTDOWN, SHUTDOWN).quick(),
    delay("ups.delay.shutdown", PCM_SHUTDOWN, OFFDELAY),
    H::var_conv("ups.timer.shutdown", PCM_SHUTDOWN, SHUTDOWN).quick(),
    // Input and output
    H::var("input.voltage", "UPS.Input.Voltage", "%.1f"),
    H::var("input.voltage.nominal", "UPS.Input.ConfigVoltage", "%.0f").static_(),
    H::var("input.frequency", "UPS.Input.Frequency", "%.1f"),
    H::var("output.voltage", "UPS.Output.Voltage", "%.1f"),
    H::var("output.voltage.nominal", "UPS.Output.ConfigVoltage", "%.0f").static_(),
    H::var("output.frequency", "UPS.Output.Frequency", "%.1f"),
    // Instant commands
    H::command("beeper.toggle", ALARM, "1"),
    H::command("beeper.enable", ALARM, "1"),
    H::command("beeper.disable", ALARM, "0"),
    H::command("test.battery.start.quick", "UPS.Battery.Test", "1"),
    command_conv("load.on.delay", PS_STARTUP, None, STARTUP),
    command_conv("shutdown.return", PS_SHUTDOWN, None, SHUTDOWN),
    command_conv("shutdown.stayoff", PS_SHUTDOWN, None, STAYOFF),
    command_conv(
        "load.on",
        "UPS.PowerSummary.PCMDelayBeforeStartup",
        Some("0"),
        STARTUP,
    ),
    command_conv("load.off", PCM_SHUTDOWN, Some("0"), STAYOFF),
    command_conv("shutdown.return", PCM_SHUTDOWN, None, SHUTDOWN),
    command_conv("shutdown.stayoff", PCM_SHUTDOWN, None, STAYOFF),
    // Older units: the vendor tree on page 2
    H::var_conv("ups.serial", "PowercomUPS.PowercomSerialNumber", STRING),
    H::var_conv("ups.mfr", "PowercomUPS.PowercomManufacturerName", STRING),
    H::var_conv("ups.mfr.date", "PowercomUPS.PowercomManufacturerDate", DATE),
    H::var(
        "battery.temperature",
        "PowercomUPS.PowercomBatterySystem.PowercomTemperature",
        "%.0f",
    ),
    H::var("battery.temperature", "UPS.Battery.Temperature", "%.1f"),
    H::var(
        "battery.charge",
        "PowercomUPS.PowercomBatterySystem.PowercomVoltage",
        "%.0f",
    ),
    H::var(
        "input.frequency",
        "PowercomUPS.PowercomPowerConverter.PowercomInput.PowercomFrequency",
        "%.0f",
    ),
    H::var_conv(
        "input.voltage",
        "PowercomUPS.PowercomPowerConverter.PowercomInput.PowercomVoltage",
        VOLTAGE,
    ),
    H::var_conv(
        "output.voltage",
        "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomVoltage",
        VOLTAGE,
    ),
    H::var(
        "ups.load",
        "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomPercentLoad",
        "%.0f",
    ),
    // InternalChargeController bits: 0 UPS fault, 1 battery bad, 2 test, 4 pre-shutdown count
    status_bits(CHARGE_CONTROLLER, 0x0001, 0x0001, "fanfail", "!fanfail"),
    status_bits(
        CHARGE_CONTROLLER,
        0x0002,
        0x0002,
        "replacebatt",
        "!replacebatt",
    ),
    status_bits(CHARGE_CONTROLLER, 0x0004, 0x0004, "cal", "!cal"),
    status_bits(
        CHARGE_CONTROLLER,
        0x0010,
        0x0010,
        "shutdownimm",
        "!shutdownimm",
    ),
    // PrimaryBatterySupport bits: 0 line failure, 1 low battery, 3 AVR on, 4 AVR boosts
    // (else bucks), 5 overload
    status_bits(BATTERY_SUPPORT, 0x0001, 0x0001, "!online", "online"),
    status_bits(BATTERY_SUPPORT, 0x0002, 0x0002, "lowbatt", "!lowbatt"),
    status_bits(BATTERY_SUPPORT, 0x0018, 0x0008, "trim", "!trim"),
    status_bits(BATTERY_SUPPORT, 0x0018, 0x0018, "boost", "!boost"),
    status_bits(BATTERY_SUPPORT, 0x0020, 0x0020, "overload", "!overload"),
    H::var(
        "output.frequency",
        "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomFrequency",
        "%.0f",
    ),
    H::var_conv(
        "ups.test.result",
        "PowercomUPS.PowercomPowerConverter.PowercomTest",
        Conversion::Lookup(tables::TEST_READ),
    ),
    H::var(
        "ups.delay.shutdown",
        "PowercomUPS.PowercomPowerConverter.PowercomDelayBeforeShutdown",
        "%.0f",
    ),
    H::var(
        "ups.delay.start",
        "PowercomUPS.PowercomPowerConverter.PowercomDelayBeforeStartup",
        "%.0f",
    ),
    H::command(
        "load.off",
        "PowercomUPS.PowercomPowerConverter.PowercomDelayBeforeShutdown",
        "0",
    ),
];
crate::pooled_table!(TABLE);

/// NUT reads PowerCOM 0d9f:0001 through the interrupt pipe only, in 8-byte reports
/// (`interruptonly`, `interruptsize=8`): the interrupt size, or `None` for other devices.
pub fn forced_interrupt_size(vendor_id: u16, product_id: u16) -> Option<usize> {
    (vendor_id == 0x0d9f && product_id == 0x0001).then_some(8)
}
