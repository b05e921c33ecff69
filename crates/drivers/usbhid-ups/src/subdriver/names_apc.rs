//! Vendor usage names of the apc subdriver (the names NUT 2.8.0 prints for them).

use crate::usage::UsageTable;

/// Vendor usage names, looked up before the standard pages.
pub static USAGES: UsageTable = &[
    (0xff86_0005, "APCGeneralCollection"),
    (0xff86_0006, "APCEnvironment"),
    (0xff86_0007, "APCProbe1"),
    (0xff86_0008, "APCProbe2"),
    (0xff86_0016, "APCBattReplaceDate"),
    (0xff86_0019, "APCBattCapBeforeStartup"),
    (0xff86_0042, "APC_UPS_FirmwareRevision"),
    (0xff86_0052, "APCLineFailCause"),
    (0xff86_0060, "APCStatusFlag"),
    (0xff86_0061, "APCSensitivity"),
    (0xff86_0072, "APCPanelTest"),
    (0xff86_0076, "APCShutdownAfterDelay"),
    (0xff86_0079, "APC_USB_FirmwareRevision"),
    (0xff86_007c, "APCDelayBeforeReboot"),
    (0xff86_007d, "APCDelayBeforeShutdown"),
    (0xff86_007e, "APCDelayBeforeStartup"),
    (0x0085_0058, "BUPHibernate"),
    (0x0086_0012, "BUPBattCapBeforeStartup"),
    (0x0086_0076, "BUPDelayBeforeStartup"),
    (0x0086_0010, "BUPSelfTest"),
];
