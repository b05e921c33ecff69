//! Salicru (2e66) — NUT's "Salicru HID 0.3". Two layouts: the plain Power Device one
//! (UPS.Output/UPS.Input) and a PowerConverter/Flow one; the first row whose path exists wins.
//! (NUT's DEBUG-build "experimental.*" rows are not part of Debian's driver.)

use crate::mapping::{Conversion, Function, HidInfo as H, tables};
use crate::status::tables as st;

const TEST: Conversion = Conversion::Lookup(tables::TEST_READ);

pub const TABLE: &[H] = &[
    H::var_conv(
        "battery.type",
        "UPS.PowerSummary.iDeviceChemistry",
        Conversion::Fun(Function::StringId),
    ),
    H::var(
        "battery.charge",
        "UPS.PowerSummary.RemainingCapacity",
        "%.0f",
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
    H::var("battery.voltage", "UPS.PowerSummary.Voltage", "%.2f"),
    H::var("ups.load", "UPS.Output.PercentLoad", "%.0f"),
    H::var_conv(
        "ups.beeper.status",
        "UPS.PowerSummary.AudibleAlarmControl",
        Conversion::Lookup(tables::BEEPER),
    ),
    H::var_conv("ups.test.result", "UPS.Output.Test", TEST),
    H::var(
        "ups.realpower.nominal",
        "UPS.Output.ConfigActivePower",
        "%.0f",
    ),
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
    H::status("UPS.Output.CommunicationLost", st::COMMFAULT),
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
    H::var(
        "input.transfer.high",
        "UPS.PowerConverter.Output.HighVoltageTransfer",
        "%.0f",
    )
    .static_(),
    H::var(
        "input.transfer.low",
        "UPS.PowerConverter.Output.LowVoltageTransfer",
        "%.0f",
    )
    .static_(),
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
    // PowerConverter/Flow layout
    H::var("ups.load", "UPS.PowerSummary.PercentLoad", "%.0f"),
    H::var_conv("ups.test.result", "UPS.BatterySystem.Battery.Test", TEST),
    H::var(
        "ups.realpower.nominal",
        "UPS.Flow.[4].ConfigActivePower",
        "%.0f",
    ),
    H::var(
        "ups.realpower",
        "UPS.PowerConverter.Output.ActivePower",
        "%.0f",
    ),
    H::status("UPS.PowerSummary.PresentStatus.Overload", st::OVERLOAD),
    H::status(
        "UPS.PowerSummary.PresentStatus.OverTemperature",
        st::OVERHEAT,
    ),
    H::var(
        "input.frequency",
        "UPS.PowerConverter.Input.[1].Frequency",
        "%.1f",
    ),
    H::var(
        "input.voltage",
        "UPS.PowerConverter.Input.[1].Voltage",
        "%.1f",
    ),
    H::var(
        "output.frequency",
        "UPS.PowerConverter.Output.Frequency",
        "%.1f",
    ),
    H::var(
        "output.voltage",
        "UPS.PowerConverter.Output.Voltage",
        "%.1f",
    ),
    H::var(
        "output.voltage.nominal",
        "UPS.PowerSummary.ConfigVoltage",
        "%.0f",
    ),
    H::var_conv("ups.test.result", "UPS.BatterySystem.Battery.Test", TEST),
    H::command(
        "test.battery.start.quick",
        "UPS.BatterySystem.Battery.Test",
        "1",
    ),
    H::command(
        "test.battery.start.deep",
        "UPS.BatterySystem.Battery.Test",
        "2",
    ),
    H::command("test.battery.stop", "UPS.BatterySystem.Battery.Test", "3"),
];
crate::pooled_table!(TABLE);
