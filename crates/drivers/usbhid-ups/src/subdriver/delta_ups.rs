//! Delta UPS (05dd:041b: RT series, Amplon R series) — NUT's "Delta UPS HID 0.6". Vendor
//! collection `DeltaCustom` with sensitivity, UPS type, auto-start and the model name (which
//! becomes `ups.model` when it is set, see [`MODEL_PATH`]).

use crate::mapping::{Conversion, Function, HidInfo as H, tables};
use crate::status::tables as st;

const STRING: Conversion = Conversion::Fun(Function::StringId);

const fn fun(f: Function) -> Conversion {
    Conversion::Fun(f)
}

/// Vendor usage names, in NUT 2.8.0's order.
pub static USAGES: crate::usage::UsageTable = &[
    (0x0000_0000, "DELTA1"),
    (0xff00_0055, "DELTA2"),
    (0xffff_0010, "DeltaCustom"),
    (0xffff_0056, "DELTA4"),
    (0xffff_0057, "DeltaConfigTransferLowMax"),
    (0xffff_0058, "DeltaConfigTransferLowMin"),
    (0xffff_0059, "DeltaConfigTransferHighMax"),
    (0xffff_005a, "DeltaConfigTransferHighMin"),
    (0xffff_0060, "DELTA9"),
    (0xffff_0061, "DeltaConfigExternalBatteryPack"),
    (0xffff_0062, "DELTA11"),
    (0xffff_0063, "DELTA12"),
    (0xffff_0064, "DELTA13"),
    (0xffff_0065, "DELTA14"),
    (0xffff_0066, "DELTA15"),
    (0xffff_0067, "DELTA16"),
    (0xffff_0068, "DELTA17"),
    (0xffff_0075, "DeltaModelName"),
    (0xffff_0076, "DELTA19"),
    (0xffff_007c, "DeltaUPSType"),
    (0xffff_007d, "DELTA21"),
    (0xffff_0081, "DeltaConfigStartPowerRestoreDelay"),
    (0xffff_0091, "DeltaOutputSource"),
    (0xffff_0092, "DELTA24"),
    (0xffff_0093, "DELTA25"),
    (0xffff_0094, "DELTA26"),
    (0xffff_0095, "DELTA27"),
    (0xffff_0096, "DELTA28"),
    (0xffff_0097, "DELTA29"),
    (0xffff_0098, "DELTA30"),
    (0xffff_0099, "DELTA31"),
    (0xffff_009a, "DELTA32"),
    (0xffff_009b, "DeltaConfigSensitivity"),
    (0xffff_009c, "DeltaConfigStartPowerRestore"),
];

/// The item whose value is the USB string index of the model name: when that string is
/// non-empty it is `ups.model` (else the USB product string is).
pub const MODEL_PATH: &str = "UPS.DeltaCustom.[1].DeltaModelName";

static SENSITIVITY: &[(i64, &str)] = &[(0, "normal"), (1, "reduced"), (2, "low")];

static OUTPUT_SOURCE: &[(i64, &str)] = &[
    (0, "normal"),
    (1, "battery"),
    (2, "bypass/reserve"),
    (3, "reducing"),
    (4, "boosting"),
    (5, "manual bypass"),
    (6, "other"),
    (7, "no output"),
    (8, "on eco"),
];

/// `ups.type` from the low nibble of the type code: 0 online, 1 offline, 2 line-interactive,
/// 3 offline, 4 line-interactive, 5 3-phase, 6 split-phase; 7–15 have no name (nothing is
/// published).
pub fn ups_type(value: f64) -> Option<&'static str> {
    const NAMES: [&str; 5] = [
        "online",
        "offline",
        "line-interactive",
        "3-phase",
        "split-phase",
    ];
    let code = (value as i64 as i32) & 0xf;
    let index = match code {
        6 => 4,
        3..=5 => code - 2,
        c => c,
    };
    usize::try_from(index)
        .ok()
        .and_then(|i| NAMES.get(i))
        .copied()
}

/// The table, in NUT 2.8.0's row order.
pub const TABLE: &[H] = &[
    H::var_conv(
        "input.sensitivity",
        "UPS.DeltaCustom.[1].DeltaConfigSensitivity",
        Conversion::Lookup(SENSITIVITY),
    )
    .rw_number(),
    H::var(
        "input.voltage.nominal",
        "UPS.PowerSummary.Input.ConfigVoltage",
        "%.1f",
    )
    .semi_static(),
    H::var("input.voltage", "UPS.PowerSummary.Input.Voltage", "%.1f").quick(),
    H::var("input.voltage", "UPS.PowerConverter.Input.Voltage", "%.1f").quick(),
    H::var(
        "input.transfer.low",
        "UPS.PowerConverter.Output.LowVoltageTransfer",
        "%.1f",
    )
    .rw_number(),
    H::var(
        "input.transfer.high",
        "UPS.PowerConverter.Output.HighVoltageTransfer",
        "%.1f",
    )
    .rw_number(),
    H::var(
        "input.transfer.low.min",
        "UPS.PowerConverter.Output.DeltaConfigTransferLowMin",
        "%.1f",
    )
    .static_(),
    H::var(
        "input.transfer.low.max",
        "UPS.PowerConverter.Output.DeltaConfigTransferLowMax",
        "%.1f",
    )
    .static_(),
    H::var(
        "input.transfer.high.min",
        "UPS.PowerConverter.Output.DeltaConfigTransferHighMin",
        "%.1f",
    )
    .static_(),
    H::var(
        "input.transfer.high.max",
        "UPS.PowerConverter.Output.DeltaConfigTransferHighMax",
        "%.1f",
    )
    .static_(),
    H::var_conv(
        "input.source",
        "UPS.OutletSystem.Outlet.DeltaOutputSource",
        Conversion::Lookup(OUTPUT_SOURCE),
    ),
    H::var(
        "input.frequency",
        "UPS.PowerConverter.Input.Frequency",
        "%.1f",
    )
    .quick(),
    H::var(
        "battery.voltage.nominal",
        "UPS.BatterySystem.Battery.ConfigVoltage",
        "%.1f",
    )
    .static_(),
    H::var(
        "battery.voltage",
        "UPS.BatterySystem.Battery.Voltage",
        "%.1f",
    )
    .quick(),
    H::var(
        "battery.charge",
        "UPS.PowerSummary.RemainingCapacity",
        "%.0f",
    )
    .quick(),
    H::var(
        "battery.charge",
        "UPS.BatterySystem.Battery.RemainingCapacity",
        "%.0f",
    ),
    H::var(
        "battery.charge.low",
        "UPS.PowerSummary.RemainingCapacityLimit",
        "%.0f",
    )
    .rw_string(5)
    .semi_static(),
    H::var(
        "battery.charge.warning",
        "UPS.PowerSummary.WarningCapacityLimit",
        "%.0f",
    )
    .semi_static(),
    H::var_conv(
        "battery.temperature",
        "UPS.BatterySystem.Temperature",
        fun(Function::KelvinCelsius),
    )
    .quick(),
    H::var("battery.runtime", "UPS.PowerSummary.RunTimeToEmpty", "%.0f").quick(),
    H::var_conv("battery.type", "UPS.PowerSummary.iDeviceChemistry", STRING).static_(),
    H::var(
        "battery.capacity",
        "UPS.PowerSummary.DesignCapacity",
        "%.0f",
    )
    .semi_static(),
    H::var(
        "battery.capacity",
        "UPS.PowerSummary.FullChargeCapacity",
        "%.0f",
    )
    .semi_static(),
    H::var("output.voltage.nominal", "UPS.Flow.ConfigVoltage", "%.1f").semi_static(),
    H::var(
        "output.frequency.nominal",
        "UPS.Flow.ConfigFrequency",
        "%.1f",
    )
    .semi_static(),
    H::var(
        "output.voltage",
        "UPS.PowerConverter.Output.Voltage",
        "%.1f",
    )
    .quick(),
    H::var(
        "output.frequency",
        "UPS.PowerConverter.Output.Frequency",
        "%.1f",
    )
    .quick(),
    H::var(
        "output.current",
        "UPS.PowerConverter.Output.Current",
        "%.1f",
    )
    .quick(),
    H::var_conv(
        "ups.beeper.status",
        "UPS.PowerSummary.AudibleAlarmControl",
        Conversion::Lookup(tables::BEEPER),
    )
    .quick(),
    H::var_conv(
        "ups.test.result",
        "UPS.BatterySystem.Test",
        Conversion::Lookup(tables::TEST_READ),
    ),
    H::var_conv(
        "ups.type",
        "UPS.DeltaCustom.[1].DeltaUPSType",
        fun(Function::DeltaUpsType),
    )
    .static_(),
    H::var_conv(
        "ups.start.auto",
        "UPS.DeltaCustom.[1].DeltaConfigStartPowerRestore",
        Conversion::Lookup(tables::YES_NO),
    )
    .rw_number(),
    H::var("ups.power.nominal", "UPS.Flow.ConfigApparentPower", "%.0f").static_(),
    H::var(
        "ups.realpower",
        "UPS.OutletSystem.Outlet.ActivePower",
        "%.1f",
    )
    .quick(),
    H::var(
        "ups.realpower",
        "UPS.PowerConverter.Output.ActivePower",
        "%.1f",
    )
    .quick(),
    H::var("ups.load", "UPS.OutletSystem.Outlet.PercentLoad", "%.1f").quick(),
    H::var(
        "ups.delay.start",
        "UPS.OutletSystem.Outlet.DeltaConfigStartPowerRestoreDelay",
        "%.0f",
    )
    .rw_number(),
    H::var(
        "ups.timer.start",
        "UPS.OutletSystem.Outlet.DelayBeforeStartup",
        "%.0f",
    )
    .quick(),
    H::var(
        "ups.timer.shutdown",
        "UPS.OutletSystem.Outlet.DelayBeforeShutdown",
        "%.0f",
    )
    .quick(),
    H::var(
        "ups.timer.reboot",
        "UPS.OutletSystem.Outlet.DelayBeforeReboot",
        "%.0f",
    )
    .quick(),
    H::status("UPS.PowerSummary.PresentStatus.Good", st::OFF).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.InternalFailure",
        st::COMMFAULT,
    )
    .quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.ShutdownImminent",
        st::SHUTDOWNIMM,
    )
    .quick(),
    H::status("UPS.PowerSummary.PresentStatus.ACPresent", st::ONLINE).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit",
        st::LOWBATT,
    )
    .quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.FullyCharged",
        st::FULLYCHARGED,
    )
    .quick(),
    H::status("UPS.PowerSummary.PresentStatus.Charging", st::CHARGING).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.Discharging",
        st::DISCHARGING,
    )
    .quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.FullyDischarged",
        st::DEPLETED,
    )
    .quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.NeedReplacement",
        st::REPLACEBATT,
    )
    .quick(),
    H::status(
        "UPS.PowerConverter.PresentStatus.VoltageOutOfRange",
        st::VRANGE,
    )
    .quick(),
    H::status("UPS.PowerConverter.PresentStatus.Buck", st::TRIM).quick(),
    H::status("UPS.PowerConverter.PresentStatus.Boost", st::BOOST).quick(),
    H::status("UPS.PowerConverter.PresentStatus.Overload", st::OVERLOAD).quick(),
    H::status("UPS.PowerConverter.PresentStatus.Used", st::NOBATTERY).quick(),
    H::status(
        "UPS.PowerConverter.PresentStatus.OverTemperature",
        st::OVERHEAT,
    )
    .quick(),
    H::status(
        "UPS.PowerConverter.PresentStatus.InternalFailure",
        st::COMMFAULT,
    )
    .quick(),
    H::status(
        "UPS.PowerConverter.PresentStatus.AwaitingPower",
        st::AWAITINGPOWER,
    )
    .quick(),
    H::command("beeper.on", "UPS.PowerSummary.AudibleAlarmControl", "2"),
    H::command("beeper.off", "UPS.PowerSummary.AudibleAlarmControl", "3"),
    H::command("beeper.enable", "UPS.PowerSummary.AudibleAlarmControl", "2"),
    H::command(
        "beeper.disable",
        "UPS.PowerSummary.AudibleAlarmControl",
        "1",
    ),
    H::command("beeper.mute", "UPS.PowerSummary.AudibleAlarmControl", "3"),
    H::command("test.battery.start.quick", "UPS.BatterySystem.Test", "1"),
    H::command("test.battery.start.deep", "UPS.BatterySystem.Test", "2"),
    H::command("test.battery.stop", "UPS.BatterySystem.Test", "3"),
    H::command(
        "load.on.delay",
        "UPS.OutletSystem.Outlet.DelayBeforeStartup",
        "30",
    ),
    H::command(
        "load.off.delay",
        "UPS.OutletSystem.Outlet.DelayBeforeShutdown",
        "20",
    ),
    H::command(
        "shutdown.stop",
        "UPS.OutletSystem.Outlet.DelayBeforeShutdown",
        "-1",
    ),
    H::command(
        "shutdown.reboot",
        "UPS.OutletSystem.Outlet.DelayBeforeReboot",
        "10",
    ),
];
crate::pooled_table!(TABLE);
