//! Vendor usage names of the powercom subdriver (the names NUT 2.8.0 prints for them).

use crate::usage::UsageTable;

/// Vendor usage names, looked up before the standard pages.
pub static USAGES: UsageTable = &[
    (0x0002_0004, "PowercomUPS"),
    (0x0002_0010, "PowercomBatterySystem"),
    (0x0002_0016, "PowercomPowerConverter"),
    (0x0002_001a, "PowercomInput"),
    (0x0002_001c, "PowercomOutput"),
    (0x0002_0030, "PowercomVoltage"),
    (0x0002_0032, "PowercomFrequency"),
    (0x0002_0035, "PowercomPercentLoad"),
    (0x0002_0036, "PowercomTemperature"),
    (0x0002_0056, "PowercomDelayBeforeStartup"),
    (0x0002_0057, "PowercomDelayBeforeShutdown"),
    (0x0002_0058, "PowercomTest"),
    (0x0002_0068, "PowercomShutdownRequested"),
    (0x0002_0081, "PowercomInternalChargeController"),
    (0x0002_0082, "PowercomPrimaryBatterySupport"),
    (0x0002_0083, "PowercomDesignCapacity"),
    (0x0002_0084, "PowercomSpecificationInfo"),
    (0x0002_0085, "PowercomManufacturerDate"),
    (0x0002_0086, "PowercomSerialNumber"),
    (0x0002_0087, "PowercomManufacturerName"),
    (0x0084_002f, "POWERCOM1"),
    (0xff86_0060, "POWERCOM2"),
    (0xff86_0080, "POWERCOM3"),
    (0x00ff_0056, "PCMDelayBeforeStartup"),
    (0x00ff_0057, "PCMDelayBeforeShutdown"),
];
