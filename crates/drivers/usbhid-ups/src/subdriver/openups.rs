//! Minibox openUPS (04d8:d004, 04d8:d005) — NUT's "openUPS HID 0.5".
//!
//! The firmware reports raw ADC-like units: NUT multiplies input/output voltages and the
//! charge/discharge currents by per-product factors (d004: 3.545, 2.571, 0.08274, 1.6113;
//! d005: 0.1 each; any other product claimed through `productid`: 1), see
//! [`scale_factors`] and [`crate::mapping::DeviceState::openups_scales`], and reads the battery
//! temperature through a thermistor table ([`temperature`]). Its status functions test
//! "non-zero" rather than looking up 0/1 ([`Function::NonZero`]), except BatteryPresent,
//! whose inverted 2.8.0 function we do not copy.

use crate::mapping::{Conversion, Function, HidInfo as H};
use crate::status::tables as st;

const STRING: Conversion = Conversion::Fun(Function::StringId);

const fn fun(f: Function) -> Conversion {
    Conversion::Fun(f)
}

/// Vendor usage names: the six battery cells (NUT 2.8.0 maps none of them).
pub static USAGES: crate::usage::UsageTable = &[
    (0x0000_0001, "Cell1"),
    (0x0000_0002, "Cell2"),
    (0x0000_0003, "Cell3"),
    (0x0000_0004, "Cell4"),
    (0x0000_0005, "Cell5"),
    (0x0000_0006, "Cell6"),
];

/// The factors (input voltage, output voltage, charge current, discharge current) NUT 2.8.0
/// applies for a product id. They are set when the device is matched by its id; a device
/// claimed only through the `productid` option keeps 1.
pub fn scale_factors(product_id: u16) -> [f64; 4] {
    match product_id {
        0xd004 => [
            0.03545 * 100.0,
            0.02571 * 100.0,
            0.8274 / 10.0,
            16.113 / 10.0,
        ],
        0xd005 => [0.1; 4],
        _ => [1.0; 4],
    }
}

/// Thermistor readings (×100) at -40 °C, -35 °C, … 125 °C, in 5 °C steps.
const THERMISTOR: [u32; 34] = [
    0x31, 0x40, 0x53, 0x68, 0x82, 0xa0, 0xc3, 0xe9, 0x113, 0x13f, 0x16e, 0x19f, 0x1cf, 0x200,
    0x22f, 0x25c, 0x286, 0x2ae, 0x2d3, 0x2f4, 0x312, 0x32d, 0x345, 0x35a, 0x36d, 0x37e, 0x38c,
    0x399, 0x3a5, 0x3af, 0x3b7, 0x3bf, 0x3c6, 0x3cc,
];

/// The temperature for a thermistor value: value × 100 truncated to an unsigned 32-bit
/// number (as C converts it; a negative reading wraps to a huge one), clamped to -40/125 °C
/// (printed as integers), a table point exactly as `%d`, else interpolated linearly as `%.2f`.
pub fn temperature(value: f64) -> String {
    let t = (value * 100.0) as i64 as u32;
    let last = THERMISTOR.len() - 1;
    if t <= THERMISTOR[0] {
        return "-40".into();
    }
    if t >= THERMISTOR[last] {
        return "125".into();
    }
    let pos = THERMISTOR.iter().rposition(|&d| t >= d).unwrap_or(0);
    let t1 = pos as i64 * 5 - 40;
    if t == THERMISTOR[pos] {
        return t1.to_string();
    }
    let (d1, d2) = (THERMISTOR[pos], THERMISTOR[pos + 1]);
    let temp = f64::from(t - d1) * 5.0 / f64::from(d2 - d1) + t1 as f64;
    format!("{temp:.2}")
}

/// The table, in NUT 2.8.0's row order.
pub const TABLE: &[H] = &[
    H::var_conv("ups.serial", "UPS.PowerSummary.iSerialNumber", STRING),
    H::var_conv("battery.type", "UPS.PowerSummary.iDeviceChemistry", STRING).static_(),
    H::var_conv(
        "battery.mfr.date",
        "UPS.PowerSummary.iOEMInformation",
        STRING,
    )
    .static_(),
    H::var("battery.voltage", "UPS.PowerSummary.Voltage", "%.2f").quick(),
    H::var("battery.current", "UPS.PowerSummary.Current", "%.3f").quick(),
    H::var(
        "battery.capacity",
        "UPS.PowerSummary.DesignCapacity",
        "%.0f",
    )
    .static_(),
    H::var(
        "battery.charge",
        "UPS.PowerSummary.RemainingCapacity",
        "%.0f",
    )
    .quick(),
    H::var(
        "battery.charge.low",
        "UPS.PowerSummary.RemainingCapacityLimit",
        "%.0f",
    )
    .quick(),
    H::var(
        "battery.charge.warning",
        "UPS.PowerSummary.WarningCapacityLimit",
        "%.0f",
    ),
    H::var("battery.runtime", "UPS.PowerSummary.RunTimeToEmpty", "%.0f").quick(),
    H::var_conv(
        "battery.temperature",
        "UPS.PowerSummary.Temperature",
        fun(Function::OpenupsTemperature),
    )
    .quick(),
    H::var_conv(
        "output.voltage",
        "UPS.PowerSummary.Output.Voltage",
        fun(Function::OpenupsVout),
    )
    .quick(),
    H::var_conv(
        "output.current",
        "UPS.PowerSummary.Output.Current",
        fun(Function::OpenupsCdischarge),
    )
    .quick(),
    H::var_conv(
        "input.voltage",
        "UPS.PowerSummary.Input.Voltage",
        fun(Function::OpenupsVin),
    )
    .quick(),
    H::var_conv(
        "input.current",
        "UPS.PowerSummary.Input.Current",
        fun(Function::OpenupsCcharge),
    )
    .quick(),
    H::status_fun(
        "UPS.PowerSummary.PresentStatus.Good",
        Function::NonZero("!off", "off"),
    )
    .quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.InternalFailure",
        st::COMMFAULT,
    )
    .quick(),
    H::status("UPS.PowerSummary.PresentStatus.Overload", st::OVERLOAD).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.OverTemperature",
        st::OVERHEAT,
    )
    .quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.ShutdownImminent",
        st::SHUTDOWNIMM,
    )
    .quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit",
        st::LOWBATT,
    )
    .quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.RemainingTimeLimitExpired",
        st::TIMELIMITEXPIRED,
    )
    .quick(),
    H::status_fun(
        "UPS.PowerSummary.PresentStatus.Charging",
        Function::NonZero("chrg", "!chrg"),
    )
    .quick(),
    H::status_fun(
        "UPS.PowerSummary.PresentStatus.Discharging",
        Function::NonZero("dischrg", "!dischrg"),
    )
    .quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.NeedReplacement",
        st::REPLACEBATT,
    ),
    H::status_fun(
        "UPS.PowerSummary.PresentStatus.ACPresent",
        Function::NonZero("online", "!online"),
    )
    .quick(),
    // Deliberate fix (docs/compatibility.md): 2.8.0 maps a present battery (1) to
    // "nobattery" with its own inverted function, so every openUPS in service raises
    // "No battery installed!"; NUT fixed it later (issue #3246) with the common lookup.
    H::status(
        "UPS.PowerSummary.PresentStatus.BatteryPresent",
        st::NOBATTERY,
    )
    .quick(),
];
crate::pooled_table!(TABLE);
