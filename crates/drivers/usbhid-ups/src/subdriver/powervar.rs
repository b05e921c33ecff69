//! Powervar (4234:0002) — NUT's "Powervar HID 0.20". Battery and status rows only. NUT reads
//! these units with HID report-descriptor index 1 ([`REPORT_DESC_INDEX`]). Its Good and
//! InternalFailure rows map through the yes/no table, whose words are no status bits: they
//! change nothing (as in NUT, which only logs them).

use crate::mapping::{Conversion, Function, HidInfo as H, tables};
use crate::status::tables as st;

const STRING: Conversion = Conversion::Fun(Function::StringId);

/// The HID report-descriptor index NUT 2.8.0 uses for Powervar devices.
pub const REPORT_DESC_INDEX: u8 = 1;

/// Vendor usage names.
pub static USAGES: crate::usage::UsageTable = &[(0xff00_0001, "POWERVAR1")];

/// The table, in NUT 2.8.0's row order.
pub const TABLE: &[H] = &[
    H::var_conv("battery.type", "UPS.PowerSummary.iDeviceChemistry", STRING),
    H::var(
        "battery.charge",
        "UPS.PowerSummary.RemainingCapacity",
        "%.0f",
    ),
    H::var(
        "battery.capacity",
        "UPS.PowerSummary.FullChargeCapacity",
        "%.0f",
    ),
    H::var("battery.runtime", "UPS.PowerSummary.RuntimeToEmpty", "%.0f"),
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
    ),
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
        "UPS.PowerSummary.PresentStatus.InternalFailure",
        tables::YES_NO,
    ),
    H::status("UPS.PowerSummary.PresentStatus.Good", tables::YES_NO),
    H::status(
        "UPS.PowerSummary.PresentStatus.OverTemperature",
        st::OVERHEAT,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.FullyCharged",
        st::FULLYCHARGED,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.FullyDischarged",
        st::DEPLETED,
    ),
];
crate::pooled_table!(TABLE);
