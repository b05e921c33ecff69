//! Tripp Lite (09ae), HP (03f0) and Delta/Minuteman (05dd:a011) units of Tripp Lite's HID
//! protocol — NUT's "TrippLite HID 0.84". Per-product scales correct battery voltage (×0.1 on
//! several older units) and, on the Smart1500LCDT/AVR750U generation (3016, 3024), voltages
//! (×1e5), frequency and current (×0.01) whose report descriptors declare wrong exponents.
//! Vendor usage names: [`super::names_tripplite`].

use crate::mapping::{Conversion, DeviceState, Function, HidInfo as H, tables};
use crate::status::tables as st;

const ONDELAY: &str = "30";
const OFFDELAY: &str = "20";

const STRING: Conversion = Conversion::Fun(Function::StringId);
const IO_VOLT: Conversion = Conversion::Fun(Function::TrippliteIoVolt);
const IO_FREQ: Conversion = Conversion::Fun(Function::TrippliteIoFreq);

/// A writable string variable of at most `len` characters.
const fn rw_len(row: H, len: usize) -> H {
    let mut row = row.rw();
    row.var_flags.string = Some(len);
    row
}

const OUTLET_STARTUP: &str = "UPS.OutletSystem.Outlet.DelayBeforeStartup";
const TL_STARTUP: &str = "UPS.OutletSystem.Outlet.TLDelayBeforeStartup";
const OUTLET_SHUTDOWN: &str = "UPS.OutletSystem.Outlet.DelayBeforeShutdown";
const OUTLET_REBOOT: &str = "UPS.OutletSystem.Outlet.DelayBeforeReboot";
const WATCHDOG: &str = "UPS.OutletSystem.Outlet.TLWatchdog";
const TEST: &str = "UPS.BatterySystem.Test";
const ALARM: &str = "UPS.PowerSummary.AudibleAlarmControl";

/// Rows in NUT's order: the first row whose path exists wins a variable.
pub const TABLE: &[H] = &[
    // Device
    H::var_conv("device.part", "UPS.TLCustom.[1].iUPSPartNumber", STRING).static_(),
    // Battery
    H::var(
        "battery.charge",
        "UPS.PowerSummary.RemainingCapacity",
        "%.0f",
    ),
    H::var(
        "battery.charge",
        "UPS.BatterySystem.Battery.RemainingCapacity",
        "%.0f",
    ),
    rw_len(
        H::var(
            "battery.charge.low",
            "UPS.PowerSummary.RemainingCapacityLimit",
            "%.0f",
        ),
        5,
    )
    .semi_static(),
    H::var(
        "battery.charge.warning",
        "UPS.PowerSummary.WarningCapacityLimit",
        "%.0f",
    ),
    H::var("battery.runtime", "UPS.PowerSummary.RunTimeToEmpty", "%.0f"),
    H::var(
        "battery.voltage.nominal",
        "UPS.BatterySystem.Battery.ConfigVoltage",
        "%.1f",
    )
    .static_(),
    H::var_conv(
        "battery.voltage",
        "UPS.BatterySystem.Battery.Voltage",
        Conversion::Fun(Function::TrippliteBattVolt),
    ),
    H::var_conv(
        "battery.type",
        "UPS.PowerSummary.iDeviceChemistry",
        Conversion::Fun(Function::TrippliteChemistry),
    )
    .static_(),
    H::var_conv(
        "battery.temperature",
        "UPS.BatterySystem.Temperature",
        Conversion::Fun(Function::KelvinCelsius),
    ),
    // UPS
    H::absent("ups.delay.start", OUTLET_STARTUP, ONDELAY),
    H::absent("ups.delay.start", TL_STARTUP, ONDELAY),
    H::absent("ups.delay.shutdown", OUTLET_SHUTDOWN, OFFDELAY),
    H::var("ups.timer.start", OUTLET_STARTUP, "%.0f").quick(),
    H::var("ups.timer.start", TL_STARTUP, "%.0f").quick(),
    H::var("ups.timer.shutdown", OUTLET_SHUTDOWN, "%.0f").quick(),
    H::var("ups.timer.reboot", OUTLET_REBOOT, "%.0f").quick(),
    H::var_conv(
        "ups.test.result",
        TEST,
        Conversion::Lookup(tables::TEST_READ),
    ),
    H::var_conv(
        "ups.beeper.status",
        ALARM,
        Conversion::Lookup(tables::BEEPER),
    ),
    H::var("ups.power.nominal", "UPS.Flow.ConfigApparentPower", "%.0f").static_(),
    H::var("ups.power", "UPS.OutletSystem.Outlet.ActivePower", "%.1f"),
    H::var("ups.power", "UPS.PowerConverter.Output.ActivePower", "%.1f"),
    H::var("ups.load", "UPS.OutletSystem.Outlet.PercentLoad", "%.0f"),
    H::var(
        "ups.firmware",
        "UPS.TLCustom.[1].UPSFirmwareVersion",
        "%.0f",
    )
    .static_(),
    H::var("ups.watchdog.status", WATCHDOG, "%.0f"),
    // Status
    H::status(
        "UPS.PowerSummary.PresentStatus.InternalFailure",
        st::COMMFAULT,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.ShutdownImminent",
        st::SHUTDOWNIMM,
    ),
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
    ),
    // the same on units that use the wrong usage codes (OMNI1000LCD)
    H::status("UPS.PowerSummary.PresentStatus.TLACPresent", st::ONLINE).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.TLDischarging",
        st::DISCHARGING,
    )
    .quick(),
    // HP units use 0x00840045 as the standard ConfigPercentLoad
    H::var("ups.load.nominal", "UPS.Flow.ConfigPercentLoad", "%.0f"),
    H::status("UPS.PowerSummary.PresentStatus.TLCharging", st::CHARGING).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.TLNeedReplacement",
        st::REPLACEBATT,
    ),
    H::status(
        "UPS.PowerConverter.PresentStatus.VoltageOutOfRange",
        st::VRANGE,
    ),
    H::status("UPS.PowerConverter.PresentStatus.Buck", st::TRIM),
    H::status("UPS.PowerConverter.PresentStatus.Boost", st::BOOST),
    H::status("UPS.PowerConverter.PresentStatus.Overload", st::OVERLOAD),
    H::status(
        "UPS.PowerConverter.PresentStatus.OverTemperature",
        st::OVERHEAT,
    ),
    H::status(
        "UPS.PowerConverter.PresentStatus.InternalFailure",
        st::COMMFAULT,
    ),
    H::status(
        "UPS.PowerConverter.PresentStatus.AwaitingPower",
        st::AWAITINGPOWER,
    ),
    // Input
    H::var(
        "input.voltage.nominal",
        "UPS.PowerSummary.Input.ConfigVoltage",
        "%.0f",
    )
    .static_(),
    H::var_conv("input.voltage", "UPS.PowerSummary.Input.Voltage", IO_VOLT),
    H::var_conv("input.voltage", "UPS.PowerConverter.Input.Voltage", IO_VOLT),
    H::var_conv(
        "input.frequency",
        "UPS.PowerConverter.Input.Frequency",
        IO_FREQ,
    ),
    rw_len(
        H::var(
            "input.transfer.low",
            "UPS.PowerConverter.Output.LowVoltageTransfer",
            "%.1f",
        ),
        5,
    )
    .semi_static(),
    H::var(
        "input.transfer.low.max",
        "UPS.PowerConverter.Output.TLLowVoltageTransferMax",
        "%.0f",
    )
    .static_(),
    H::var(
        "input.transfer.low.min",
        "UPS.PowerConverter.Output.TLLowVoltageTransferMin",
        "%.0f",
    )
    .static_(),
    rw_len(
        H::var(
            "input.transfer.high",
            "UPS.PowerConverter.Output.HighVoltageTransfer",
            "%.1f",
        ),
        5,
    )
    .semi_static(),
    H::var(
        "input.transfer.high.max",
        "UPS.PowerConverter.Output.TLHighVoltageTransferMax",
        "%.0f",
    )
    .static_(),
    H::var(
        "input.transfer.high.min",
        "UPS.PowerConverter.Output.TLHighVoltageTransferMin",
        "%.0f",
    )
    .static_(),
    // Output
    H::var("output.voltage.nominal", "UPS.Flow.ConfigVoltage", "%.0f").static_(),
    H::var_conv(
        "output.voltage",
        "UPS.PowerConverter.Output.Voltage",
        IO_VOLT,
    ),
    H::var_conv("output.voltage", "UPS.PowerSummary.Voltage", IO_VOLT),
    H::var_conv(
        "output.current",
        "UPS.PowerConverter.Output.Current",
        Conversion::Fun(Function::TrippliteIoAmp),
    ),
    H::var(
        "output.frequency.nominal",
        "UPS.Flow.ConfigFrequency",
        "%.0f",
    )
    .static_(),
    H::var_conv(
        "output.frequency",
        "UPS.PowerConverter.Output.Frequency",
        IO_FREQ,
    ),
    // Instant commands
    H::command("test.battery.start.quick", TEST, "1"),
    H::command("test.battery.start.deep", TEST, "2"),
    H::command("test.battery.stop", TEST, "3"),
    H::command("load.off.delay", OUTLET_SHUTDOWN, OFFDELAY),
    H::command("load.on.delay", OUTLET_STARTUP, ONDELAY),
    H::command("load.on.delay", TL_STARTUP, ONDELAY),
    H::command("shutdown.stop", OUTLET_SHUTDOWN, "-1"),
    H::command("shutdown.reboot", OUTLET_REBOOT, "10"),
    // the ECO550UPS has no DelayBeforeStartup: its watchdog reboots it
    H::command("shutdown.reboot", WATCHDOG, "10"),
    // the UPS reboots when this timer runs out
    H::command("reset.watchdog", WATCHDOG, "60"),
    H::command("beeper.on", ALARM, "2"),
    H::command("beeper.off", ALARM, "3"),
    H::command("beeper.disable", ALARM, "1"),
    H::command("beeper.enable", ALARM, "2"),
    H::command("beeper.mute", ALARM, "3"),
];
crate::pooled_table!(TABLE);

/// The scales of a supported device (NUT sets them when its VID:PID is matched; devices
/// claimed only through the `productid` option keep 1.0): (battery voltage, input/output
/// voltage, frequency, current).
pub fn scales(vendor_id: u16, product_id: u16) -> (f64, f64, f64, f64) {
    const UNIT: (f64, f64, f64, f64) = (1.0, 1.0, 1.0, 1.0);
    const TENTH: (f64, f64, f64, f64) = (0.1, 1.0, 1.0, 1.0);
    const SMART1500LCDT: (f64, f64, f64, f64) = (100000.0, 100000.0, 0.01, 0.01);
    if vendor_id != 0x09ae {
        return UNIT;
    }
    match product_id {
        0x1003 | 0x1007 | 0x1008 | 0x1009 | 0x1010 | 0x2005 | 0x2007 | 0x2008 | 0x2009 | 0x2010
        | 0x2011 | 0x2012 | 0x2013 | 0x2014 => TENTH,
        0x3016 | 0x3024 => SMART1500LCDT,
        _ => UNIT,
    }
}

/// Prepares the conversion state for a device (scales, product id for the chemistry quirk).
pub fn prepare(vendor_id: u16, product_id: u16, state: &mut DeviceState) {
    let (battery, voltage, frequency, current) = scales(vendor_id, product_id);
    state.product_id = product_id;
    state.tl_battery_scale = battery;
    state.tl_io_voltage_scale = voltage;
    state.tl_io_frequency_scale = frequency;
    state.tl_io_current_scale = current;
}
