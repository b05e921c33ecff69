//! Vendor usage names of the tripplite subdriver (the names NUT 2.8.0 prints for them).

use crate::usage::UsageTable;

/// Vendor usage names, looked up before the standard pages.
pub static USAGES: UsageTable = &[
    (0xffff_0010, "TLCustom"),
    (0xffff_0056, "TLDelayBeforeStartup"),
    (0xffff_0057, "TLLowVoltageTransferMax"),
    (0xffff_0058, "TLLowVoltageTransferMin"),
    (0xffff_0059, "TLHighVoltageTransferMax"),
    (0xffff_005a, "TLHighVoltageTransferMin"),
    (0xffff_007a, "OutletState"),
    (0xffff_007b, "OutletCount"),
    (0xffff_007c, "UPSFirmwareVersion"),
    (0xffff_007d, "CommunicationProtocolVersion"),
    (0xffff_007e, "CommunicationVersion"),
    (0xffff_007f, "iUPSPartNumber"),
    (0xffff_0080, "AutoOnDelay"),
    (0xffff_0092, "TLWatchdog"),
    (0xffff_0095, "TLOutletsAvailableMask"),
    (0xffff_0096, "TLOutletsStatusMask"),
    (0x0084_0044, "TLCharging"),
    (0x0084_0045, "TLDischarging"),
    (0x0084_004b, "TLNeedReplacement"),
    (0x0084_00d0, "TLACPresent"),
];
