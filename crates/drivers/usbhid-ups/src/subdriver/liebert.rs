//! Phoenixtec/Liebert (06da:ffff, e.g. PowerWalker VI SHL "PPC Offline UPS") — NUT's
//! "Phoenixtec/Liebert HID 0.41". Standard paths; the transfer limits sit on unnamed
//! vendor usages of page 0xffff.

use crate::mapping::{Conversion, Function, HidInfo as H};
use crate::status::tables as st;

pub const TABLE: &[H] = &[
    H::var("battery.voltage", "UPS.PowerSummary.Voltage", "%.2f"),
    H::var(
        "battery.voltage.nominal",
        "UPS.PowerSummary.ConfigVoltage",
        "%.2f",
    )
    .static_(),
    H::var(
        "battery.charge",
        "UPS.PowerSummary.RemainingCapacity",
        "%.0f",
    ),
    H::var("battery.runtime", "UPS.PowerSummary.RunTimeToEmpty", "%.0f"),
    H::var_conv(
        "battery.type",
        "UPS.PowerSummary.iDeviceChemistry",
        Conversion::Fun(Function::StringId),
    ),
    H::var("ups.load", "UPS.PowerSummary.PercentLoad", "%.0f"),
    H::var(
        "output.voltage",
        "UPS.PowerConverter.Output.Voltage",
        "%.1f",
    ),
    H::var(
        "output.frequency",
        "UPS.PowerConverter.Output.Frequency",
        "%.2f",
    ),
    H::var(
        "output.transfer.high",
        "UPS.PowerConverter.Output.HighVoltageTransfer",
        "%.1f",
    )
    .semi_static(),
    H::var(
        "output.transfer.low",
        "UPS.PowerConverter.Output.LowVoltageTransfer",
        "%.1f",
    )
    .semi_static(),
    H::var(
        "input.voltage",
        "UPS.PowerConverter.Input.[1].Voltage",
        "%.1f",
    ),
    H::var(
        "input.frequency",
        "UPS.PowerConverter.Input.[1].Frequency",
        "%.2f",
    ),
    H::var(
        "input.transfer.low",
        "UPS.PowerConverter.Output.ffff0057",
        "%.0f",
    )
    .semi_static(),
    H::var(
        "input.transfer.high",
        "UPS.PowerConverter.Output.ffff0058",
        "%.0f",
    )
    .semi_static(),
    H::var(
        "input.frequency.transfer.low",
        "UPS.PowerConverter.Output.ffff00f9",
        "%.0f",
    )
    .semi_static(),
    H::var(
        "input.frequency.transfer.high",
        "UPS.PowerConverter.Output.ffff00f8",
        "%.0f",
    )
    .semi_static(),
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
    H::status("UPS.PowerSummary.PresentStatus.Overload", st::OVERLOAD),
    H::status(
        "UPS.PowerSummary.PresentStatus.ShutdownImminent",
        st::SHUTDOWNIMM,
    ),
];
crate::pooled_table!(TABLE);
