//! Usage names and NUT's HID path strings.
//!
//! Paths print as dot-separated usage names (`UPS.PowerSummary.RemainingCapacity`). Each node is
//! looked up in the subdriver's vendor table first, then in the standard Power Device (0x84) and
//! Battery System (0x85) pages of the USB HID Power Device Class; an index node of a vendor
//! collection prints `[n]`; anything else prints as 8 lowercase hex digits (`ff860024`).
//! Parsing a path accepts the same three forms (names case-insensitively).

use crate::descriptor::Usage;

/// A table of named usages (a subdriver's vendor names; they take precedence).
pub type UsageTable = &'static [(Usage, &'static str)];

/// Standard usages of the Power Device page (0x84), with the spellings NUT prints.
pub static POWER_DEVICE: &[(u16, &str)] = &[
    (0x0000, "Undefined"),
    (0x0001, "iName"),
    (0x0002, "PresentStatus"),
    (0x0003, "ChangedStatus"),
    (0x0004, "UPS"),
    (0x0005, "PowerSupply"),
    (0x0010, "BatterySystem"),
    (0x0011, "BatterySystemID"),
    (0x0012, "Battery"),
    (0x0013, "BatteryID"),
    (0x0014, "Charger"),
    (0x0015, "ChargerID"),
    (0x0016, "PowerConverter"),
    (0x0017, "PowerConverterID"),
    (0x0018, "OutletSystem"),
    (0x0019, "OutletSystemID"),
    (0x001a, "Input"),
    (0x001b, "InputID"),
    (0x001c, "Output"),
    (0x001d, "OutputID"),
    (0x001e, "Flow"),
    (0x001f, "FlowID"),
    (0x0020, "Outlet"),
    (0x0021, "OutletID"),
    (0x0022, "Gang"),
    (0x0023, "GangID"),
    (0x0024, "PowerSummary"),
    (0x0025, "PowerSummaryID"),
    (0x0030, "Voltage"),
    (0x0031, "Current"),
    (0x0032, "Frequency"),
    (0x0033, "ApparentPower"),
    (0x0034, "ActivePower"),
    (0x0035, "PercentLoad"),
    (0x0036, "Temperature"),
    (0x0037, "Humidity"),
    (0x0038, "BadCount"),
    (0x0040, "ConfigVoltage"),
    (0x0041, "ConfigCurrent"),
    (0x0042, "ConfigFrequency"),
    (0x0043, "ConfigApparentPower"),
    (0x0044, "ConfigActivePower"),
    (0x0045, "ConfigPercentLoad"),
    (0x0046, "ConfigTemperature"),
    (0x0047, "ConfigHumidity"),
    (0x0050, "SwitchOnControl"),
    (0x0051, "SwitchOffControl"),
    (0x0052, "ToggleControl"),
    (0x0053, "LowVoltageTransfer"),
    (0x0054, "HighVoltageTransfer"),
    (0x0055, "DelayBeforeReboot"),
    (0x0056, "DelayBeforeStartup"),
    (0x0057, "DelayBeforeShutdown"),
    (0x0058, "Test"),
    (0x0059, "ModuleReset"),
    (0x005a, "AudibleAlarmControl"),
    (0x0060, "Present"),
    (0x0061, "Good"),
    (0x0062, "InternalFailure"),
    (0x0063, "VoltageOutOfRange"),
    (0x0064, "FrequencyOutOfRange"),
    (0x0065, "Overload"),
    (0x0066, "OverCharged"),
    (0x0067, "OverTemperature"),
    (0x0068, "ShutdownRequested"),
    (0x0069, "ShutdownImminent"),
    (0x006b, "SwitchOn/Off"),
    (0x006c, "Switchable"),
    (0x006d, "Used"),
    (0x006e, "Boost"),
    (0x006f, "Buck"),
    (0x0070, "Initialized"),
    (0x0071, "Tested"),
    (0x0072, "AwaitingPower"),
    (0x0073, "CommunicationLost"),
    (0x00fd, "iManufacturer"),
    (0x00fe, "iProduct"),
    (0x00ff, "iSerialNumber"),
];

/// Standard usages of the Battery System page (0x85), with the spellings NUT prints.
pub static BATTERY_SYSTEM: &[(u16, &str)] = &[
    (0x0000, "Undefined"),
    (0x0001, "SMBBatteryMode"),
    (0x0002, "SMBBatteryStatus"),
    (0x0003, "SMBAlarmWarning"),
    (0x0004, "SMBChargerMode"),
    (0x0005, "SMBChargerStatus"),
    (0x0006, "SMBChargerSpecInfo"),
    (0x0007, "SMBSelectorState"),
    (0x0008, "SMBSelectorPresets"),
    (0x0009, "SMBSelectorInfo"),
    (0x0010, "OptionalMfgFunction1"),
    (0x0011, "OptionalMfgFunction2"),
    (0x0012, "OptionalMfgFunction3"),
    (0x0013, "OptionalMfgFunction4"),
    (0x0014, "OptionalMfgFunction5"),
    (0x0015, "ConnectionToSMBus"),
    (0x0016, "OutputConnection"),
    (0x0017, "ChargerConnection"),
    (0x0018, "BatteryInsertion"),
    (0x0019, "Usenext"),
    (0x001a, "OKToUse"),
    (0x001b, "BatterySupported"),
    (0x001c, "SelectorRevision"),
    (0x001d, "ChargingIndicator"),
    (0x0028, "ManufacturerAccess"),
    (0x0029, "RemainingCapacityLimit"),
    (0x002a, "RemainingTimeLimit"),
    (0x002b, "AtRate"),
    (0x002c, "CapacityMode"),
    (0x002d, "BroadcastToCharger"),
    (0x002e, "PrimaryBattery"),
    (0x002f, "ChargeController"),
    (0x0040, "TerminateCharge"),
    (0x0041, "TerminateDischarge"),
    (0x0042, "BelowRemainingCapacityLimit"),
    (0x0043, "RemainingTimeLimitExpired"),
    (0x0044, "Charging"),
    (0x0045, "Discharging"),
    (0x0046, "FullyCharged"),
    (0x0047, "FullyDischarged"),
    (0x0048, "ConditioningFlag"),
    (0x0049, "AtRateOK"),
    (0x004a, "SMBErrorCode"),
    (0x004b, "NeedReplacement"),
    (0x0060, "AtRateTimeToFull"),
    (0x0061, "AtRateTimeToEmpty"),
    (0x0062, "AverageCurrent"),
    (0x0063, "Maxerror"),
    (0x0064, "RelativeStateOfCharge"),
    (0x0065, "AbsoluteStateOfCharge"),
    (0x0066, "RemainingCapacity"),
    (0x0067, "FullChargeCapacity"),
    (0x0068, "RunTimeToEmpty"),
    (0x0069, "AverageTimeToEmpty"),
    (0x006a, "AverageTimeToFull"),
    (0x006b, "CycleCount"),
    (0x0080, "BattPackModelLevel"),
    (0x0081, "InternalChargeController"),
    (0x0082, "PrimaryBatterySupport"),
    (0x0083, "DesignCapacity"),
    (0x0084, "SpecificationInfo"),
    (0x0085, "ManufacturerDate"),
    (0x0086, "SerialNumber"),
    (0x0087, "iManufacturerName"),
    (0x0088, "iDevicename"),
    (0x0089, "iDeviceChemistry"),
    (0x008a, "ManufacturerData"),
    (0x008b, "Rechargeable"),
    (0x008c, "WarningCapacityLimit"),
    (0x008d, "CapacityGranularity1"),
    (0x008e, "CapacityGranularity2"),
    (0x008f, "iOEMInformation"),
    (0x00c0, "InhibitCharge"),
    (0x00c1, "EnablePolling"),
    (0x00c2, "ResetToZero"),
    (0x00d0, "ACPresent"),
    (0x00d1, "BatteryPresent"),
    (0x00d2, "PowerFail"),
    (0x00d3, "AlarmInhibited"),
    (0x00d4, "ThermistorUnderRange"),
    (0x00d5, "ThermistorHot"),
    (0x00d6, "ThermistorCold"),
    (0x00d7, "ThermistorOverRange"),
    (0x00d8, "VoltageOutOfRange"),
    (0x00d9, "CurrentOutOfRange"),
    (0x00da, "CurrentNotRegulated"),
    (0x00db, "VoltageNotRegulated"),
    (0x00dc, "MasterMode"),
    (0x00f0, "ChargerSelectorSupport"),
    (0x00f1, "ChargerSpec"),
    (0x00f2, "Level2"),
    (0x00f3, "Level3"),
];

fn standard_name(usage: Usage) -> Option<&'static str> {
    let table = match usage >> 16 {
        0x84 => POWER_DEVICE,
        0x85 => BATTERY_SYSTEM,
        _ => return None,
    };
    let id = (usage & 0xffff) as u16;
    table.iter().find(|(u, _)| *u == id).map(|(_, n)| *n)
}

fn standard_usage(name: &str) -> Option<Usage> {
    POWER_DEVICE
        .iter()
        .map(|(u, n)| (0x0084_0000 | u32::from(*u), n))
        .chain(
            BATTERY_SYSTEM
                .iter()
                .map(|(u, n)| (0x0085_0000 | u32::from(*u), n)),
        )
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(u, _)| u)
}

/// The name of one path node, or `None` when it prints as `[n]` or hex.
pub fn usage_name(usage: Usage, vendor: UsageTable) -> Option<&'static str> {
    vendor
        .iter()
        .find(|(u, _)| *u == usage)
        .map(|(_, n)| *n)
        .or_else(|| standard_name(usage))
}

/// A numeric path as NUT prints it.
pub fn path_to_string(path: &[Usage], vendor: UsageTable) -> String {
    let mut out = String::new();
    for (i, node) in path.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if let Some(name) = usage_name(*node, vendor) {
            out.push_str(name);
        } else if node & 0xffff_0000 == 0x00ff_0000 {
            out.push_str(&format!("[{}]", node & 0xffff));
        } else {
            out.push_str(&format!("{node:08x}"));
        }
    }
    out
}

/// A path string back to usages; `None` when a component is neither a known name, 1–8 hex
/// digits nor `[n]`. (NUT skips such a component with a debug message; a table naming an
/// unknown usage is a programming error here, so it is reported instead.)
pub fn string_to_path(s: &str, vendor: UsageTable) -> Option<Vec<Usage>> {
    let mut path = Vec::new();
    for token in s.split('.').filter(|t| !t.is_empty()) {
        if let Some(u) = vendor
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(token))
            .map(|(u, _)| *u)
            .or_else(|| standard_usage(token))
        {
            path.push(u);
        } else if token.len() <= 8 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
            path.push(u32::from_str_radix(token, 16).ok()?);
        } else if let Some(n) = token.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            let n: u32 = n.parse().ok()?;
            path.push(0x00ff_0000 + (n & 0xffff));
        } else {
            return None;
        }
    }
    Some(path)
}
