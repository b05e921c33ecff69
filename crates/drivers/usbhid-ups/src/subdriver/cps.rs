//! CyberPower (0764) — NUT's "CyberPower HID 0.6". Standard Power Device paths, no vendor
//! usage names; quirks: charge capped at 100 %, battery voltage 2/3 scale on some 0501 units,
//! the 0501 output-voltage descriptor fix (see [`super::Subdriver::fix_report_desc`]).
//!
//! Delays: the devices declare DelayBeforeStartup/Shutdown with a physical range of
//! -60…1966020 s over logical -1…32767, i.e. one logical step per minute; NUT's conversion
//! therefore rounds `ondelay`/`offdelay` down to whole minutes when it writes them (30 s
//! becomes 0). This falls out of the generic conversion; nothing CyberPower-specific is
//! needed for it, and Debian's 2.8.0 does nothing more.

use crate::mapping::{Conversion, Function, HidInfo as H, tables};
use crate::status::tables as st;

/// Product ids supported outright.
pub const PRODUCTS: &[u16] = &[0x0005, 0x0501, 0x0601];

const STRING: Conversion = Conversion::Fun(Function::StringId);

pub const TABLE: &[H] = &[
    H::var_conv("battery.type", "UPS.PowerSummary.iDeviceChemistry", STRING),
    H::var_conv(
        "battery.mfr.date",
        "UPS.PowerSummary.iOEMInformation",
        STRING,
    ),
    H::var(
        "battery.charge.warning",
        "UPS.PowerSummary.WarningCapacityLimit",
        "%.0f",
    ),
    H::var(
        "battery.charge.low",
        "UPS.PowerSummary.RemainingCapacityLimit",
        "%.0f",
    )
    .rw()
    .semi_static(),
    H::var_conv(
        "battery.charge",
        "UPS.PowerSummary.RemainingCapacity",
        Conversion::Fun(Function::CpsBattCharge),
    ),
    H::var("battery.runtime", "UPS.PowerSummary.RunTimeToEmpty", "%.0f"),
    H::var(
        "battery.runtime.low",
        "UPS.PowerSummary.RemainingTimeLimit",
        "%.0f",
    )
    .rw()
    .semi_static(),
    H::var(
        "battery.voltage.nominal",
        "UPS.PowerSummary.ConfigVoltage",
        "%.0f",
    ),
    H::var_conv(
        "battery.voltage",
        "UPS.PowerSummary.Voltage",
        Conversion::Fun(Function::CpsBattVolt),
    ),
    H::var("ups.load", "UPS.Output.PercentLoad", "%.0f"),
    H::var_conv(
        "ups.beeper.status",
        "UPS.PowerSummary.AudibleAlarmControl",
        Conversion::Lookup(tables::BEEPER),
    ),
    H::var_conv(
        "ups.test.result",
        "UPS.Output.Test",
        Conversion::Lookup(tables::TEST_READ),
    ),
    H::var(
        "ups.realpower.nominal",
        "UPS.Output.ConfigActivePower",
        "%.0f",
    ),
    H::absent("ups.delay.start", "UPS.Output.DelayBeforeStartup", "30"),
    H::absent("ups.delay.shutdown", "UPS.Output.DelayBeforeShutdown", "20"),
    H::var("ups.timer.start", "UPS.Output.DelayBeforeStartup", "%.0f").quick(),
    H::var(
        "ups.timer.shutdown",
        "UPS.Output.DelayBeforeShutdown",
        "%.0f",
    )
    .quick(),
    H::var("ups.timer.reboot", "UPS.Output.DelayBeforeReboot", "%.0f").quick(),
    H::status("UPS.PowerSummary.PresentStatus.ACPresent", st::ONLINE).quick(),
    H::status("UPS.PowerSummary.PresentStatus.Charging", st::CHARGING).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.Discharging",
        st::DISCHARGING,
    )
    .quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit",
        st::LOWBATT,
    )
    .quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.FullyCharged",
        st::FULLYCHARGED,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.RemainingTimeLimitExpired",
        st::TIMELIMITEXPIRED,
    ),
    H::status("UPS.Output.Boost", st::BOOST),
    H::status("UPS.Output.Overload", st::OVERLOAD),
    H::var("input.frequency", "UPS.Input.Frequency", "%.1f"),
    H::var("input.voltage.nominal", "UPS.Input.ConfigVoltage", "%.0f"),
    H::var("input.voltage", "UPS.Input.Voltage", "%.1f"),
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
    H::var("output.frequency", "UPS.Output.Frequency", "%.1f"),
    H::var("output.voltage", "UPS.Output.Voltage", "%.1f"),
    H::var("output.voltage.nominal", "UPS.Output.ConfigVoltage", "%.0f"),
    H::command("test.battery.start.quick", "UPS.Output.Test", "1"),
    H::command("test.battery.start.deep", "UPS.Output.Test", "2"),
    H::command("test.battery.stop", "UPS.Output.Test", "3"),
    H::command("load.off.delay", "UPS.Output.DelayBeforeShutdown", "20"),
    H::command("load.on.delay", "UPS.Output.DelayBeforeStartup", "30"),
    H::command("shutdown.stop", "UPS.Output.DelayBeforeShutdown", "-1"),
    H::command("shutdown.reboot", "UPS.Output.DelayBeforeReboot", "10"),
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
