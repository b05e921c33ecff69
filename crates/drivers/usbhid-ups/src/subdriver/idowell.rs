//! iDowell (075d:0300) — NUT's "iDowell HID 0.2". Standard Power Device paths only; the
//! battery.charge.low and transfer limits are read once and read-only. (NUT's debug-build
//! `unmapped.*` rows are not part of Debian's binary and are left out.)

use crate::mapping::{Conversion, Function, HidInfo as H};
use crate::status::tables as st;

const STRING: Conversion = Conversion::Fun(Function::StringId);

/// The table, in NUT 2.8.0's row order.
pub const TABLE: &[H] = &[
    H::status("UPS.PowerSummary.PresentStatus.ACPresent", st::ONLINE).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit",
        st::LOWBATT,
    )
    .quick(),
    H::status("UPS.PowerSummary.PresentStatus.Charging", st::CHARGING).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.CommunicationLost",
        st::COMMFAULT,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.Discharging",
        st::DISCHARGING,
    )
    .quick(),
    H::status("UPS.PowerSummary.PresentStatus.Good", st::OFF),
    H::status(
        "UPS.PowerSummary.PresentStatus.InternalFailure",
        st::COMMFAULT,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.NeedReplacement",
        st::REPLACEBATT,
    ),
    H::status("UPS.PowerSummary.PresentStatus.Overload", st::OVERLOAD),
    H::status(
        "UPS.PowerSummary.PresentStatus.ShutdownImminent",
        st::SHUTDOWNIMM,
    ),
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
    .static_(),
    H::var("battery.runtime", "UPS.PowerSummary.RunTimeToEmpty", "%.0f"),
    H::var_conv("battery.type", "UPS.PowerSummary.iDeviceChemistry", STRING).static_(),
    H::absent(
        "ups.delay.start",
        "UPS.PowerSummary.DelayBeforeStartup",
        "30",
    ),
    H::absent(
        "ups.delay.shutdown",
        "UPS.PowerSummary.DelayBeforeShutdown",
        "20",
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
    H::var("ups.load", "UPS.PowerSummary.PercentLoad", "%.0f"),
    H::var(
        "ups.power.nominal",
        "UPS.Flow.[4].ConfigApparentPower",
        "%.0f",
    )
    .static_(),
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
    H::var(
        "output.voltage",
        "UPS.PowerConverter.Output.Voltage",
        "%.1f",
    ),
    H::var(
        "output.voltage.nominal",
        "UPS.Flow.[4].ConfigVoltage",
        "%.0f",
    )
    .static_(),
    H::var(
        "output.frequency.nominal",
        "UPS.Flow.[4].ConfigFrequency",
        "%.0f",
    )
    .static_(),
    H::command(
        "load.off.delay",
        "UPS.PowerSummary.DelayBeforeShutdown",
        "20",
    ),
    H::command("load.on.delay", "UPS.PowerSummary.DelayBeforeStartup", "30"),
    H::command(
        "shutdown.stop",
        "UPS.PowerSummary.DelayBeforeShutdown",
        "-1",
    ),
];
crate::pooled_table!(TABLE);
