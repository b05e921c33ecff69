//! APC (051d): Back-UPS, Back-UPS RS/XS/ES/CS, Smart-UPS (5G and older) — NUT's "APC HID 0.98".

use crate::mapping::{Conversion, Function, HidInfo as H, tables};
use crate::status::tables as st;

/// Product ids this subdriver supports outright (051d:0000 serial kit, 0002, 0003 5G).
pub const PRODUCTS: &[u16] = &[0x0000, 0x0002, 0x0003];

const ONDELAY: &str = "30";
const OFFDELAY: &str = "20";

static APC_STATUS_FLAG: &[(i64, &str)] = &[(8, "!off"), (16, "!off"), (0, "off")];
static LINE_FAIL_VRANGE: &[(i64, &str)] = &[
    (1, "vrange"),
    (2, "vrange"),
    (4, "vrange"),
    (8, "vrange"),
    (9, "vrange"),
    (0, "!vrange"),
];
static LINE_FAIL_FRANGE: &[(i64, &str)] = &[(7, "frange"), (0, "!frange")];
static SENSITIVITY: &[(i64, &str)] = &[(0, "low"), (1, "medium"), (2, "high")];

const DATE: Conversion = Conversion::Fun(Function::Date);
const APC_DATE: Conversion = Conversion::Fun(Function::ApcDate);
const KELVIN: Conversion = Conversion::Fun(Function::KelvinCelsius);
const STRING: Conversion = Conversion::Fun(Function::StringId);

/// Rows in NUT's order: the first row whose path exists wins a variable (stored as [`POOL`]).
pub const TABLE: &[H] = &[
    // Battery
    H::var(
        "battery.charge",
        "UPS.PowerSummary.RemainingCapacity",
        "%.0f",
    ),
    H::var(
        "battery.charge.low",
        "UPS.PowerSummary.RemainingCapacityLimit",
        "%.0f",
    )
    .rw()
    .semi_static(),
    H::var(
        "battery.charge.warning",
        "UPS.PowerSummary.WarningCapacityLimit",
        "%.0f",
    ),
    H::var("battery.runtime", "UPS.Battery.RunTimeToEmpty", "%.0f"),
    H::var("battery.runtime", "UPS.PowerSummary.RunTimeToEmpty", "%.0f"),
    H::var(
        "battery.runtime.low",
        "UPS.Battery.RemainingTimeLimit",
        "%.0f",
    )
    .rw()
    .semi_static(),
    H::var(
        "battery.runtime.low",
        "UPS.PowerSummary.RemainingTimeLimit",
        "%.0f",
    )
    .rw()
    .semi_static(),
    H::var("battery.voltage", "UPS.Battery.Voltage", "%.1f"),
    H::var("battery.voltage", "UPS.PowerSummary.Voltage", "%.1f"),
    H::var(
        "battery.voltage.nominal",
        "UPS.Battery.ConfigVoltage",
        "%.1f",
    ),
    H::var(
        "battery.voltage.nominal",
        "UPS.PowerSummary.ConfigVoltage",
        "%.1f",
    ),
    H::var_conv("battery.temperature", "UPS.Battery.Temperature", KELVIN),
    H::var_conv("battery.type", "UPS.PowerSummary.iDeviceChemistry", STRING),
    H::var_conv("battery.mfr.date", "UPS.Battery.ManufacturerDate", DATE)
        .rw()
        .semi_static(),
    H::var_conv(
        "battery.mfr.date",
        "UPS.PowerSummary.APCBattReplaceDate",
        APC_DATE,
    ),
    H::var_conv("battery.date", "UPS.Battery.APCBattReplaceDate", APC_DATE),
    // UPS
    H::var("ups.load", "UPS.Output.PercentLoad", "%.1f"),
    H::var("ups.load", "UPS.PowerConverter.PercentLoad", "%.0f"),
    // Delays and timers: HID PDC defaults, Smart-UPS RM (Output), Back-UPS ES (vendor page)
    H::absent(
        "ups.delay.start",
        "UPS.PowerSummary.DelayBeforeStartup",
        ONDELAY,
    ),
    H::absent(
        "ups.delay.shutdown",
        "UPS.PowerSummary.DelayBeforeShutdown",
        OFFDELAY,
    ),
    H::var(
        "ups.timer.start",
        "UPS.PowerSummary.DelayBeforeStartup",
        "%.0f",
    )
    .quick(),
    H::var(
        "ups.timer.shutdown",
        "UPS.PowerSummary.DelayBeforeShutdown",
        "%.0f",
    )
    .quick(),
    H::var(
        "ups.timer.reboot",
        "UPS.PowerSummary.DelayBeforeReboot",
        "%.0f",
    )
    .quick(),
    H::absent("ups.delay.start", "UPS.Output.DelayBeforeStartup", ONDELAY),
    H::absent(
        "ups.delay.shutdown",
        "UPS.Output.DelayBeforeShutdown",
        OFFDELAY,
    ),
    H::var("ups.timer.start", "UPS.Output.DelayBeforeStartup", "%.0f").quick(),
    H::var(
        "ups.timer.shutdown",
        "UPS.Output.DelayBeforeShutdown",
        "%.0f",
    )
    .quick(),
    H::var("ups.timer.reboot", "UPS.Output.DelayBeforeReboot", "%.0f").quick(),
    H::absent(
        "ups.delay.start",
        "UPS.APCGeneralCollection.APCDelayBeforeStartup",
        ONDELAY,
    ),
    H::absent(
        "ups.delay.shutdown",
        "UPS.APCGeneralCollection.APCDelayBeforeShutdown",
        OFFDELAY,
    ),
    H::var(
        "ups.timer.start",
        "UPS.APCGeneralCollection.APCDelayBeforeStartup",
        "%.0f",
    )
    .quick(),
    H::var(
        "ups.timer.shutdown",
        "UPS.APCGeneralCollection.APCDelayBeforeShutdown",
        "%.0f",
    )
    .quick(),
    H::var(
        "ups.timer.reboot",
        "UPS.APCGeneralCollection.APCDelayBeforeReboot",
        "%.0f",
    )
    .quick(),
    H::var_conv(
        "ups.test.result",
        "UPS.Battery.Test",
        Conversion::Lookup(tables::TEST_READ),
    ),
    H::var_conv(
        "ups.beeper.status",
        "UPS.PowerSummary.AudibleAlarmControl",
        Conversion::Lookup(tables::BEEPER),
    ),
    H::var_conv("ups.mfr.date", "UPS.ManufacturerDate", DATE),
    H::var_conv("ups.mfr.date", "UPS.PowerSummary.ManufacturerDate", DATE),
    H::var(
        "ups.realpower.nominal",
        "UPS.PowerConverter.ConfigActivePower",
        "%.0f",
    ),
    H::var(
        "ups.realpower.nominal",
        "UPS.Output.ConfigActivePower",
        "%.0f",
    ),
    // Status
    H::status("UPS.PowerSummary.PresentStatus.ACPresent", st::ONLINE).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.Discharging",
        st::DISCHARGING,
    )
    .quick(),
    H::status("UPS.PowerSummary.PresentStatus.Charging", st::CHARGING).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.ShutdownImminent",
        st::SHUTDOWNIMM,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit",
        st::LOWBATT,
    )
    .quick(),
    H::status("UPS.PowerSummary.PresentStatus.Overload", st::OVERLOAD),
    H::status(
        "UPS.PowerSummary.PresentStatus.NeedReplacement",
        st::REPLACEBATT,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.RemainingTimeLimitExpired",
        st::TIMELIMITEXPIRED,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.BatteryPresent",
        st::NOBATTERY,
    ),
    H::status("UPS.PowerSummary.Charging", st::CHARGING).quick(),
    H::status("UPS.PowerSummary.Discharging", st::DISCHARGING).quick(),
    H::status("UPS.PowerSummary.ACPresent", st::ONLINE).quick(),
    H::status("UPS.PowerSummary.BelowRemainingCapacityLimit", st::LOWBATT).quick(),
    H::status("UPS.PowerSummary.ShutdownImminent", st::SHUTDOWNIMM),
    H::status("UPS.PowerSummary.APCStatusFlag", APC_STATUS_FLAG).quick(),
    // Line fail cause twice, so that both vrange and frange can be cleared.
    H::status("UPS.Input.APCLineFailCause", LINE_FAIL_VRANGE),
    H::status("UPS.Input.APCLineFailCause", LINE_FAIL_FRANGE),
    // Input
    H::var("input.voltage", "UPS.Input.Voltage", "%.1f"),
    H::var("input.voltage.nominal", "UPS.Input.ConfigVoltage", "%.0f"),
    H::var(
        "input.transfer.low",
        "UPS.Output.LowVoltageTransfer",
        "%.0f",
    )
    .rw()
    .semi_static(),
    H::var(
        "input.transfer.high",
        "UPS.Output.HighVoltageTransfer",
        "%.0f",
    )
    .rw()
    .semi_static(),
    H::var("input.transfer.low", "UPS.Input.LowVoltageTransfer", "%.0f")
        .rw()
        .semi_static(),
    H::var(
        "input.transfer.high",
        "UPS.Input.HighVoltageTransfer",
        "%.0f",
    )
    .rw()
    .semi_static(),
    H::var_conv(
        "input.sensitivity",
        "UPS.Input.APCSensitivity",
        Conversion::Lookup(SENSITIVITY),
    )
    .rw()
    .semi_static(),
    // Output
    H::var("output.voltage", "UPS.Output.Voltage", "%.1f"),
    H::var("output.voltage.nominal", "UPS.Output.ConfigVoltage", "%.1f"),
    H::var("output.current", "UPS.Output.Current", "%.2f"),
    H::var("output.frequency", "UPS.Output.Frequency", "%.1f"),
    // Environment
    H::var_conv(
        "ambient.temperature",
        "UPS.APCEnvironment.APCProbe1.Temperature",
        KELVIN,
    ),
    H::var(
        "ambient.humidity",
        "UPS.APCEnvironment.APCProbe1.Humidity",
        "%.1f",
    ),
    // Instant commands
    H::command(
        "test.battery.start.quick",
        "UPS.BatterySystem.Battery.Test",
        "1",
    ),
    H::command("test.battery.start.quick", "UPS.Battery.Test", "1"),
    H::command(
        "test.battery.start.deep",
        "UPS.BatterySystem.Battery.Test",
        "2",
    ),
    H::command("test.battery.start.deep", "UPS.Battery.Test", "2"),
    H::command("test.battery.stop", "UPS.BatterySystem.Battery.Test", "3"),
    H::command("test.battery.stop", "UPS.Battery.Test", "3"),
    H::command("test.panel.start", "UPS.APCPanelTest", "1"),
    H::command("test.panel.stop", "UPS.APCPanelTest", "0"),
    H::command("test.panel.start", "UPS.PowerSummary.APCPanelTest", "1"),
    H::command("test.panel.stop", "UPS.PowerSummary.APCPanelTest", "0"),
    H::command(
        "load.off.delay",
        "UPS.PowerSummary.DelayBeforeShutdown",
        OFFDELAY,
    ),
    H::command(
        "load.on.delay",
        "UPS.PowerSummary.DelayBeforeStartup",
        ONDELAY,
    ),
    H::command(
        "shutdown.stop",
        "UPS.PowerSummary.DelayBeforeShutdown",
        "-1",
    ),
    H::command(
        "shutdown.reboot",
        "UPS.PowerSummary.DelayBeforeReboot",
        "10",
    ),
    H::command("load.off.delay", "UPS.Output.DelayBeforeShutdown", OFFDELAY),
    H::command("load.on.delay", "UPS.Output.DelayBeforeStartup", ONDELAY),
    H::command("shutdown.stop", "UPS.Output.DelayBeforeShutdown", "-1"),
    H::command("shutdown.reboot", "UPS.Output.DelayBeforeReboot", "10"),
    H::command(
        "load.off.delay",
        "UPS.APCGeneralCollection.APCDelayBeforeShutdown",
        OFFDELAY,
    ),
    H::command(
        "load.on.delay",
        "UPS.APCGeneralCollection.APCDelayBeforeStartup",
        ONDELAY,
    ),
    H::command(
        "shutdown.stop",
        "UPS.APCGeneralCollection.APCDelayBeforeShutdown",
        "-1",
    ),
    H::command(
        "shutdown.reboot",
        "UPS.APCGeneralCollection.APCDelayBeforeReboot",
        "10",
    ),
    H::command("shutdown.return", "UPS.Output.APCDelayBeforeReboot", "1"),
    H::command("beeper.on", "UPS.PowerSummary.AudibleAlarmControl", "2"),
    H::command("beeper.off", "UPS.PowerSummary.AudibleAlarmControl", "3"),
    H::command("beeper.enable", "UPS.PowerSummary.AudibleAlarmControl", "2"),
    H::command(
        "beeper.disable",
        "UPS.PowerSummary.AudibleAlarmControl",
        "1",
    ),
    H::command("beeper.mute", "UPS.PowerSummary.AudibleAlarmControl", "3"),
];
crate::pooled_table!(TABLE);

/// `ups.mfr`: the USB manufacturer string, else "APC".
pub fn format_mfr(vendor: Option<&str>) -> Option<String> {
    Some(vendor.unwrap_or("APC").to_string())
}

/// `ups.model` from the product string; a `… FW:x USB FW:y` product also gives
/// `ups.firmware` (x) and `ups.firmware.aux` (y). Returns (model, firmware, firmware.aux).
pub fn format_model(product: Option<&str>) -> (String, Option<String>, Option<String>) {
    let model = product.unwrap_or("unknown");
    let model: String = model.chars().take(63).collect();
    let Some(at) = model.find("FW:") else {
        return (model, None, None);
    };
    // NUT cuts the model one character before "FW:" (the separating blank).
    let head = model[..at.saturating_sub(1)].to_string();
    let rest = &model[at + 3..];
    match rest.find("USB FW:") {
        Some(u) => (
            head,
            Some(rest[..u.saturating_sub(1)].to_string()),
            Some(rest[u + 7..].to_string()),
        ),
        None => (head, Some(rest.to_string()), None),
    }
}
