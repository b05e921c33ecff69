//! Legrand Keor (1cb0:0038 PDU, 1cb0:0032 SP) — NUT's "Legrand HID 0.2". Two path families
//! (UPS.Input/Output and UPS.PowerConverter/BatterySystem); the latter's values come with
//! wrong exponents, which the table undoes with fixed factors (×10 … ×10⁷). NUT disables the
//! interrupt pipe for both products ([`POLL_ONLY`]).

use crate::mapping::{Conversion, Function, HidInfo as H};
use crate::status::tables as st;

const fn fun(f: Function) -> Conversion {
    Conversion::Fun(f)
}

/// NUT 2.8.0 turns the interrupt pipe off for these devices (as if `pollonly` were given) and
/// logs "interrupt pipe disabled (add 'pollonly' flag to 'ups.conf' to get rid of this
/// message)" unless `pollonly` is set.
pub const POLL_ONLY: bool = true;

/// The table, in NUT 2.8.0's row order.
pub const TABLE: &[H] = &[
    H::var("input.voltage", "UPS.Input.Voltage", "%.0f"),
    H::var_conv(
        "input.voltage",
        "UPS.PowerConverter.Input.Voltage",
        fun(Function::Multiply(1_000_000)),
    ),
    H::var(
        "input.transfer.high",
        "UPS.Input.HighVoltageTransfer",
        "%.0f",
    )
    .static_(),
    H::var_conv(
        "input.transfer.high",
        "UPS.PowerConverter.Output.HighVoltageTransfer",
        fun(Function::Multiply(10)),
    )
    .static_(),
    H::var("input.transfer.low", "UPS.Input.LowVoltageTransfer", "%.0f").static_(),
    H::var(
        "input.transfer.low",
        "UPS.PowerConverter.Output.LowVoltageTransfer",
        "%.0f",
    )
    .static_(),
    H::var("input.voltage.nominal", "UPS.Input.ConfigVoltage", "%.0f").static_(),
    H::var("input.voltage.nominal", "UPS.Flow.ConfigVoltage", "%.0f").static_(),
    H::var_conv(
        "battery.voltage.nominal",
        "UPS.PowerSummary.ConfigVoltage",
        fun(Function::DivideBy10),
    )
    .static_(),
    H::var(
        "battery.voltage.nominal",
        "UPS.BatterySystem.Battery.ConfigVoltage",
        "%.0f",
    )
    .static_(),
    H::var_conv(
        "battery.voltage",
        "UPS.PowerSummary.Voltage",
        fun(Function::DivideBy10),
    ),
    H::var_conv(
        "battery.voltage",
        "UPS.BatterySystem.Battery.Voltage",
        fun(Function::Multiply(100_000)),
    ),
    H::var(
        "battery.charge",
        "UPS.PowerSummary.RemainingCapacity",
        "%.0f",
    ),
    H::var("battery.runtime", "UPS.PowerSummary.RuntimeToEmpty", "%.0f"),
    H::var(
        "battery.charge.warning",
        "UPS.PowerSummary.WarningCapacityLimit",
        "%.0f",
    )
    .static_(),
    H::var(
        "battery.charge.low",
        "UPS.PowerSummary.RemainingCapacityLimit",
        "%.0f",
    )
    .static_(),
    H::var("output.voltage", "UPS.Output.Voltage", "%.0f"),
    H::var_conv(
        "output.voltage",
        "UPS.PowerConverter.Output.Voltage",
        fun(Function::Multiply(10_000_000)),
    ),
    H::var("output.frequency", "UPS.Output.Frequency", "%.0f"),
    H::var("ups.load", "UPS.Output.PercentLoad", "%.0f"),
    H::var("ups.load", "UPS.OutletSystem.Outlet.PercentLoad", "%.0f"),
    H::var(
        "ups.realpower.nominal",
        "UPS.Output.ConfigActivePower",
        "%.0f",
    )
    .static_(),
    H::var(
        "ups.realpower.nominal",
        "UPS.Flow.ConfigApparentPower",
        "%.0f",
    )
    .static_(),
    H::status("UPS.PowerSummary.PresentStatus.ACPresent", st::ONLINE).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit",
        st::LOWBATT,
    )
    .quick(),
    H::status("UPS.PowerSummary.PresentStatus.Charging", st::CHARGING).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.Discharging",
        st::DISCHARGING,
    )
    .quick(),
    H::status("UPS.Output.Overload", st::OVERLOAD).quick(),
    H::absent(
        "ups.delay.shutdown",
        "UPS.OutletSystem.Outlet.DelayBeforeShutdown",
        "20",
    ),
    H::absent(
        "ups.delay.start",
        "UPS.OutletSystem.Outlet.DelayBeforeStartup",
        "30",
    ),
    H::absent("ups.delay.shutdown", "UPS.Output.DelayBeforeShutdown", "20"),
    H::absent("ups.delay.start", "UPS.Output.DelayBeforeStartup", "30"),
    H::command(
        "load.off.delay",
        "UPS.OutletSystem.Outlet.DelayBeforeShutdown",
        "20",
    ),
    H::command(
        "load.on.delay",
        "UPS.OutletSystem.Outlet.DelayBeforeStartup",
        "30",
    ),
    H::command("load.off.delay", "UPS.Output.DelayBeforeShutdown", "20"),
    H::command("load.on.delay", "UPS.Output.DelayBeforeStartup", "30"),
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
    H::command("test.battery.start.quick", "UPS.Output.Test", "1"),
    H::command("test.battery.start.deep", "UPS.Output.Test", "2"),
    H::command("test.battery.stop", "UPS.Output.Test", "3"),
    H::command("beeper.enable", "UPS.PowerSummary.AudibleAlarmControl", "2"),
    H::command(
        "beeper.disable",
        "UPS.PowerSummary.AudibleAlarmControl",
        "3",
    ),
];
crate::pooled_table!(TABLE);
