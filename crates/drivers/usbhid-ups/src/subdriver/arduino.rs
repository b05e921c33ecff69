//! Arduino (2341, 2a03: Leonardo, Leonardo ETH, Pro Micro running the HIDPowerDevice sketch) —
//! NUT's "Arduino HID 0.2". Only the delays and their commands, on PowerSummary; no vendor
//! usages. NUT reads these boards through interrupt endpoint 4 (out: 5) and report descriptor
//! index 2 — a USB transport concern, see [`USB_ENDPOINTS`].

use crate::mapping::HidInfo as H;

/// (interrupt IN endpoint, interrupt OUT endpoint, HID report-descriptor index) NUT 2.8.0 uses
/// for every Arduino it claims.
pub const USB_ENDPOINTS: (u8, u8, u8) = (4, 5, 2);

/// The table, in NUT 2.8.0's row order.
pub const TABLE: &[H] = &[
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
    H::var(
        "ups.timer.reboot",
        "UPS.PowerSummary.DelayBeforeReboot",
        "%.0f",
    )
    .quick(),
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
    H::command(
        "shutdown.reboot",
        "UPS.PowerSummary.DelayBeforeReboot",
        "10",
    ),
];
crate::pooled_table!(TABLE);
