//! Ever (2e51:ffff, 2e51:0000, and ST Microelectronics 0483:a113 as Ever uses it) — NUT's
//! "Ever HID 0.1". Vendor collection EVER1 with firmware/hardware ids, temperatures,
//! controls, configuration, statistics, the network card and the work mode, messages and
//! alarms words. Several of NUT's conversions ignore the value they are given and decode a
//! fixed report's raw bytes instead (report 74: work mode, 75: messages, 76: alarms, 210: MAC
//! address, 211/230/231/232: IP addresses, 215–218: packet counters); the IP-address and
//! packet decoders take the next report of their cycle on every call, whichever row calls
//! them ([`ReportCycles`]).

use crate::mapping::{Conversion, Function, HidInfo as H, tables};
use crate::status::tables as st;

const fn fun(f: Function) -> Conversion {
    Conversion::Fun(f)
}

/// Vendor usage names, in NUT 2.8.0's order.
pub static USAGES: crate::usage::UsageTable = &[
    (0x0000_0000, "EVER1"),
    (0xff00_0000, "EVER2"),
    (0xff00_0001, "EVER3"),
    (0xff00_0002, "EVER4"),
    (0xff00_0003, "EVER5"),
    (0xff00_0004, "EVER6"),
    (0xff00_0005, "EVER7"),
    (0xff00_0006, "EVER8"),
    (0xff00_0007, "EVER9"),
    (0xff00_0008, "EVER10"),
    (0xff00_0009, "EVER11"),
    (0xff00_0010, "EVER12"),
    (0xff00_0011, "EVER13"),
    (0xff00_0012, "EVER14"),
    (0xff00_0013, "EVER15"),
    (0xff00_0014, "EVER16"),
    (0xff00_0015, "EVER17"),
    (0xff00_0016, "EVER18"),
    (0xff00_0017, "EVER19"),
    (0xff00_0018, "EVER20"),
    (0xff00_0019, "EVER21"),
    (0xff00_001a, "EVER22"),
    (0xff00_001b, "EVER23"),
    (0xff00_001c, "EVER24"),
    (0xff00_001d, "EVER25"),
    (0xff00_001e, "EVER26"),
    (0xff00_001f, "EVER27"),
    (0xff00_0020, "EVER28"),
    (0xff00_0021, "EVER29"),
    (0xff00_0022, "EVER30"),
    (0xff00_0023, "EVER31"),
    (0xff00_0030, "EVER32"),
    (0xff00_0031, "EVER33"),
    (0xff00_0032, "EVER34"),
    (0xff00_0033, "EVER35"),
    (0xff00_0034, "EVER36"),
    (0xff00_0035, "EVER37"),
    (0xff00_0036, "EVER38"),
    (0xff00_0037, "EVER39"),
    (0xff00_0038, "EVER40"),
    (0xff00_0039, "EVER41"),
    (0xff00_0040, "EVER42"),
    (0xff00_0041, "EVER43"),
    (0xff00_0042, "EVER44"),
    (0xff00_0043, "EVER45"),
    (0xff00_0044, "EVER46"),
    (0xff00_0045, "EVER47"),
    (0xff00_0046, "EVER48"),
    (0xff00_0050, "EVER49"),
    (0xff00_0051, "EVER50"),
    (0xff00_0052, "EVER51"),
    (0xff00_0053, "EVER52"),
    (0xff00_0054, "EVER53"),
    (0xff00_0060, "EVER54"),
    (0xff00_0061, "EVER55"),
    (0xff00_0062, "EVER56"),
    (0xff00_0063, "EVER57"),
    (0xff00_0064, "EVER58"),
    (0xff00_0066, "EVER59"),
    (0xff00_0067, "EVER60"),
    (0xff00_0068, "EVER61"),
    (0xff00_0069, "EVER62"),
    (0xff00_006a, "EVER63"),
    (0xff00_006b, "EVER64"),
    (0xff00_006c, "EVER65"),
    (0xff00_006d, "EVER66"),
    (0xff00_006e, "EVER67"),
    (0xff00_006f, "EVER68"),
    (0xff00_0070, "EVER69"),
    (0xff00_0071, "EVER70"),
    (0xff00_0072, "EVER71"),
    (0xff00_0073, "EVER72"),
    (0xff00_0074, "EVER73"),
    (0xff00_0075, "EVER74"),
    (0xff00_0076, "EVER75"),
    (0xff00_0077, "EVER76"),
    (0xff00_0078, "EVER77"),
    (0xff00_0079, "EVER78"),
    (0xff00_007a, "EVER79"),
    (0xff00_007b, "EVER80"),
    (0xff00_007c, "EVER81"),
    (0xff00_007d, "EVER82"),
    (0xff00_007e, "EVER83"),
    (0xff00_007f, "EVER84"),
    (0xff00_0080, "EVER85"),
    (0xff00_0081, "EVER86"),
    (0xff00_0082, "EVER87"),
    (0xff00_0083, "EVER88"),
    (0xff00_0084, "EVER89"),
    (0xff00_0085, "EVER90"),
    (0xff00_0086, "EVER91"),
    (0xff00_0087, "EVER92"),
    (0xff00_0088, "EVER93"),
    (0xff00_0089, "EVER94"),
    (0xff00_008a, "EVER95"),
    (0xff00_008b, "EVER96"),
    (0xff00_0090, "EVER97"),
    (0xff00_0091, "EVER98"),
    (0xff00_0092, "EVER99"),
    (0xff00_0093, "EVER100"),
    (0xff00_0094, "EVER101"),
    (0xff00_0095, "EVER102"),
    (0xff00_0096, "EVER103"),
    (0xff00_0097, "EVER104"),
];

/// `v%X.%Xb%02d` of a version word.
pub fn version(value: f64) -> String {
    let v = value as i64;
    let u = v as u32;
    format!(
        "v{:X}.{:X}b{:02}",
        (u & 0xf000) >> 12,
        (u & 0xf00) >> 8,
        v & 0xff
    )
}

/// `rev.<R>v<vv>`: R is `0` for revision 0, `A`…`Z` for 1…26; a revision beyond Z (NUT then
/// reads past its table) publishes nothing.
pub fn hardware(value: f64) -> Option<String> {
    let u = value as i64 as u32;
    let rev = ((u & 0xff00) >> 8) as u8;
    let letter = match rev {
        0 => '0',
        1..=26 => char::from(b'A' + rev - 1),
        _ => return None,
    };
    Some(format!("rev.{letter}v{:02}", u & 0xff))
}

/// The report ids NUT's report-reading conversions look at.
pub const WORKMODE_REPORT: u8 = 74;
pub const MESSAGES_REPORT: u8 = 75;
pub const ALARMS_REPORT: u8 = 76;
pub const MAC_REPORT: u8 = 210;
pub const IP_REPORTS: [u8; 4] = [211, 230, 231, 232];
pub const PACKET_REPORTS: [u8; 4] = [215, 216, 217, 218];

/// The process-wide call counters of NUT's IP-address and packet conversions: each call uses
/// the next report of its cycle of four, whichever variable it serves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportCycles {
    ip: u8,
    packets: u8,
}

impl ReportCycles {
    fn next(counter: &mut u8, ids: [u8; 4]) -> u8 {
        let id = ids[usize::from(*counter % 4)];
        *counter = (*counter + 1) % 4;
        id
    }

    /// The report the function reads on this call (advancing the cycles), `None` for the
    /// functions that do not read reports.
    pub fn report_for(&mut self, fun: Function) -> Option<u8> {
        match fun {
            Function::EverWorkmode | Function::EverOnOff => Some(WORKMODE_REPORT),
            Function::EverMessages => Some(MESSAGES_REPORT),
            Function::EverAlarms => Some(ALARMS_REPORT),
            Function::EverMacAddress => Some(MAC_REPORT),
            Function::EverIpAddress => Some(Self::next(&mut self.ip, IP_REPORTS)),
            Function::EverPackets => Some(Self::next(&mut self.packets, PACKET_REPORTS)),
            _ => None,
        }
    }
}

/// The bytes after the report id, joined (truncated to 99 characters as NUT's buffer does).
fn join(report: &[u8], sep: &str, hex: bool) -> String {
    let mut out = String::new();
    for (i, b) in report.iter().skip(1).enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        if hex {
            out.push_str(&format!("{b:02x}"));
        } else {
            out.push_str(&b.to_string());
        }
    }
    out.truncate(99);
    out
}

fn word16(report: &[u8]) -> u16 {
    let b = |i: usize| report.get(i).copied().unwrap_or(0);
    u16::from_le_bytes([b(1), b(2)])
}

fn words(flags: u16, names: &[(u16, &str)]) -> String {
    names
        .iter()
        .filter(|(mask, _)| flags & mask != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Decodes a report-reading conversion from the report's buffer (report id first, as long as
/// the descriptor makes it; missing bytes read as 0).
pub fn decode(fun: Function, report: &[u8]) -> Option<String> {
    let byte1 = report.get(1).copied().unwrap_or(0);
    Some(match fun {
        Function::EverMacAddress => join(report, ":", true),
        Function::EverIpAddress => join(report, ".", false),
        Function::EverPackets => {
            if report.len() < 5 {
                String::new()
            } else {
                i32::from_le_bytes([report[1], report[2], report[3], report[4]]).to_string()
            }
        }
        Function::EverWorkmode => match byte1 {
            2 => "STOP",
            4 => "ONLINE",
            8 => "ONBATTERY",
            16 => "WATCH",
            32 => "WAITING",
            64 => "EMERGENCY",
            _ => "UNKNOWN",
        }
        .to_string(),
        Function::EverOnOff => if byte1 == 4 || byte1 == 8 {
            "!off"
        } else {
            "off"
        }
        .to_string(),
        Function::EverMessages => words(
            word16(report),
            &[
                (0x04, "BOOST"),
                (0x08, "BUCK"),
                (0x10, "BOOST_BLOCKED"),
                (0x20, "BUCK_BLOCKED"),
                (0x40, "CHARGING"),
                (0x80, "FAN_ON"),
                (0x100, "EPO_BLOCKED"),
                (0x200, "NEED_REPLACMENT"),
                (0xc00, "OVERHEAT"),
                (0x1000, "WAITING_FOR_MIN_CHARGE"),
                (0x2000, "MAINS_OUT_OF_RANGE"),
            ],
        ),
        Function::EverAlarms => words(
            word16(report),
            &[
                (0x01, "OVERLOAD"),
                (0x02, "SHORT-CIRCUIT"),
                (0x0c, "OVERHEAT"),
                (0x10, "EPO"),
                (0x20, "INERNAL_ERROR"),
                (0x40, "REVERSE_POWER_SUPPLY"),
                (0x80, "NO_INETERNAL_COMM"),
                (0x100, "CRITICAL_BATT_VOLTAGE"),
            ],
        ),
        _ => return None,
    })
}

/// The table, in NUT 2.8.0's row order.
pub const TABLE: &[H] = &[
    H::var(
        "experimental.battery.batteryid",
        "UPS.BatterySystem.Battery.BatteryID",
        "%.0f",
    ),
    H::var(
        "experimental.battery.systemid",
        "UPS.BatterySystem.BatterySystemID",
        "%.0f",
    ),
    H::var(
        "experimental.battery.chargerid",
        "UPS.BatterySystem.Charger.ChargerID",
        "%.0f",
    ),
    H::var(
        "experimental.battery.input_flowid",
        "UPS.BatterySystem.Input.FlowID",
        "%.0f",
    ),
    H::var(
        "experimental.battery.input_id",
        "UPS.BatterySystem.Input.InputID",
        "%.0f",
    ),
    H::var(
        "experimental.battery.output_flowid",
        "UPS.BatterySystem.Output.FlowID",
        "%.0f",
    ),
    H::var(
        "experimental.battery.output_id",
        "UPS.BatterySystem.Output.OutputID",
        "%.0f",
    ),
    H::var_conv(
        "experimental.id.firmware_version_inverter",
        "UPS.EVER1.EVER13",
        fun(Function::EverVersion),
    ),
    H::var_conv(
        "experimental.id.firmware_version_interfaces",
        "UPS.EVER1.EVER14",
        fun(Function::EverVersion),
    ),
    H::var_conv(
        "experimental.id.hardware_version",
        "UPS.EVER1.EVER15",
        fun(Function::EverHardware),
    ),
    H::var_conv(
        "experimental.id.protocol_version_inverter",
        "UPS.EVER1.EVER16",
        fun(Function::EverVersion),
    ),
    H::var_conv(
        "experimental.id.protocol_version_interfaces",
        "UPS.EVER1.EVER17",
        fun(Function::EverVersion),
    ),
    H::var_conv(
        "ups.temperature",
        "UPS.EVER1.EVER42",
        fun(Function::KelvinCelsius),
    ),
    H::var_conv(
        "battery.temperature",
        "UPS.EVER1.EVER43",
        fun(Function::KelvinCelsius),
    ),
    H::var("powerfactor", "UPS.EVER1.EVER44", "%.0f"),
    H::var(
        "experimental.control.ups_on",
        "UPS.EVER1.EVER45.EVER46",
        "%.0f",
    )
    .rw_number(),
    H::var(
        "experimental.control.clear_fault",
        "UPS.EVER1.EVER45.EVER47",
        "%.0f",
    )
    .rw_number(),
    H::var(
        "experimental.control.clear_battery_fault",
        "UPS.EVER1.EVER45.EVER48",
        "%.0f",
    )
    .rw_number(),
    H::var(
        "experimental.control.epo_blocked",
        "UPS.EVER1.EVER49.EVER50",
        "%.0f",
    )
    .rw_number(),
    H::var(
        "experimental.control.green_mode",
        "UPS.EVER1.EVER49.EVER51",
        "%.0f",
    )
    .rw_number(),
    H::var(
        "experimental.control.button_sound",
        "UPS.EVER1.EVER49.EVER52",
        "%.0f",
    )
    .rw_number(),
    H::var(
        "experimental.control.audible_alarm",
        "UPS.EVER1.EVER49.EVER53",
        "%.0f",
    )
    .rw_number(),
    H::var("output.voltage", "UPS.EVER1.EVER54", "%.0f").rw_string(3),
    H::var(
        "experimental.config.overload_clearance_threshold",
        "UPS.EVER1.EVER59",
        "%.0f",
    )
    .rw_string(2),
    H::var("experimental.config.stb_charge", "UPS.EVER1.EVER60", "%.0f").rw_string(2),
    H::var("battery.packs.external", "UPS.EVER1.EVER61", "%.0f").rw_string(1),
    H::var(
        "experimental.statistics.mains_loss_counter",
        "UPS.EVER1.EVER62",
        "%.0f",
    ),
    H::var(
        "experimental.statistics.lowering_AVR_trigger_counter",
        "UPS.EVER1.EVER63",
        "%.0f",
    ),
    H::var(
        "experimental.statistics.rising_AVR_trigger_counter",
        "UPS.EVER1.EVER64",
        "%.0f",
    ),
    H::var(
        "experimental.statistics.overload_counter",
        "UPS.EVER1.EVER65",
        "%.0f",
    ),
    H::var(
        "experimental.statistics.short_circuit_counter",
        "UPS.EVER1.EVER66",
        "%.0f",
    ),
    H::var(
        "experimental.statistics.discharge_counter",
        "UPS.EVER1.EVER67",
        "%.0f",
    ),
    H::var(
        "experimental.statistics.overheat_counter",
        "UPS.EVER1.EVER68",
        "%.0f",
    ),
    H::var(
        "experimental.statistics.mains_operation_time",
        "UPS.EVER1.EVER69",
        "%.0f",
    ),
    H::var(
        "experimental.statistics.autonomous_operation_time",
        "UPS.EVER1.EVER70",
        "%.0f",
    ),
    H::var(
        "experimental.statistics.overload_operation_time",
        "UPS.EVER1.EVER71",
        "%.0f",
    ),
    H::var_conv(
        "experimental.networkcard.mac_address",
        "UPS.EVER1.EVER72",
        fun(Function::EverMacAddress),
    ),
    H::var_conv(
        "experimental.networkcard.notification_destination_ip",
        "UPS.EVER1.EVER73",
        fun(Function::EverIpAddress),
    ),
    H::var_conv(
        "experimental.networkcard.send_packets",
        "UPS.EVER1.EVER77",
        fun(Function::EverPackets),
    ),
    H::var_conv(
        "experimental.networkcard.received_packets",
        "UPS.EVER1.EVER78",
        fun(Function::EverPackets),
    ),
    H::var_conv(
        "experimental.networkcard.send_packets_err",
        "UPS.EVER1.EVER79",
        fun(Function::EverPackets),
    ),
    H::var_conv(
        "experimental.networkcard.received_packets_err",
        "UPS.EVER1.EVER80",
        fun(Function::EverPackets),
    ),
    H::var(
        "experimental.networkcard.config_dhcp_enabled",
        "UPS.EVER1.EVER85.EVER86",
        "%.0f",
    ),
    H::var(
        "experimental.networkcard.config_ethernet_enabled",
        "UPS.EVER1.EVER85.EVER87",
        "%.0f",
    ),
    H::var(
        "experimental.networkcard.config_http_enabled",
        "UPS.EVER1.EVER85.EVER88",
        "%.0f",
    ),
    H::var(
        "experimental.networkcard.config_snmp_enabled",
        "UPS.EVER1.EVER85.EVER89",
        "%.0f",
    ),
    H::var(
        "experimental.networkcard.config_snmp_trap_enabled",
        "UPS.EVER1.EVER85.EVER90",
        "%.0f",
    ),
    H::var(
        "experimental.networkcard.config_readonly",
        "UPS.EVER1.EVER85.EVER91",
        "%.0f",
    ),
    H::var(
        "experimental.networkcard.config_restart_eth",
        "UPS.EVER1.EVER85.EVER96",
        "%.0f",
    ),
    H::var_conv(
        "experimental.networkcard.ip_address",
        "UPS.EVER1.EVER93",
        fun(Function::EverIpAddress),
    ),
    H::var_conv(
        "experimental.networkcard.network_mask",
        "UPS.EVER1.EVER94",
        fun(Function::EverIpAddress),
    ),
    H::var_conv(
        "experimental.networkcard.default_gateway",
        "UPS.EVER1.EVER95",
        fun(Function::EverIpAddress),
    ),
    H::var(
        "ups.realpower.nominal",
        "UPS.Flow.ConfigActivePower",
        "%.0f",
    ),
    H::var("ups.power.nominal", "UPS.Flow.ConfigApparentPower", "%.0f"),
    H::var(
        "output.frequency.nominal",
        "UPS.Flow.ConfigFrequency",
        "%.0f",
    ),
    H::var("output.voltage.nominal", "UPS.Flow.ConfigVoltage", "%.0f"),
    H::var("experimental.ups.flow_id", "UPS.Flow.FlowID", "%.0f"),
    H::var("outlet.1.id", "UPS.OutletSystem.Outlet.OutletID", "%.0f"),
    H::var_conv(
        "experimental.outlet.1.present",
        "UPS.OutletSystem.Outlet.PresentStatus.Present",
        Conversion::Lookup(tables::YES_NO),
    ),
    H::var_conv(
        "outlet.1.switchable",
        "UPS.OutletSystem.Outlet.PresentStatus.Switchable",
        Conversion::Lookup(tables::YES_NO),
    ),
    H::var(
        "outlet.1.status",
        "UPS.OutletSystem.Outlet.PresentStatus.SwitchOn/Off",
        "%.0f",
    ),
    H::var(
        "experimental.outlet.1.undefined",
        "UPS.OutletSystem.Outlet.PresentStatus.Undefined",
        "%.0f",
    ),
    H::var(
        "experimental.outlet.1.system_id",
        "UPS.OutletSystem.OutletSystemID",
        "%.0f",
    ),
    H::var(
        "experimental.outlet.1.switch_off_control",
        "UPS.OutletSystem.Outlet.SwitchOffControl",
        "%.0f",
    )
    .rw_number(),
    H::var(
        "experimental.outlet.1.switch_on_control",
        "UPS.OutletSystem.Outlet.SwitchOnControl",
        "%.0f",
    )
    .rw_number(),
    H::var(
        "experimental.powerconverter.input_flow_id",
        "UPS.PowerConverter.Input.FlowID",
        "%.0f",
    ),
    H::var(
        "input.frequency",
        "UPS.PowerConverter.Input.Frequency",
        "%.0f",
    ),
    H::var(
        "experimental.powerconverter.input_id",
        "UPS.PowerConverter.Input.InputID",
        "%.0f",
    ),
    H::var("input.voltage", "UPS.PowerConverter.Input.Voltage", "%.0f"),
    H::var(
        "ups.realpower",
        "UPS.PowerConverter.Output.ActivePower",
        "%.0f",
    ),
    H::var(
        "ups.power",
        "UPS.PowerConverter.Output.ApparentPower",
        "%.0f",
    ),
    H::var(
        "output.current",
        "UPS.PowerConverter.Output.Current",
        "%.0f",
    ),
    H::var(
        "experimental.powerconverter.output_flowid",
        "UPS.PowerConverter.Output.FlowID",
        "%.0f",
    ),
    H::var(
        "output.frequency",
        "UPS.PowerConverter.Output.Frequency",
        "%.0f",
    ),
    H::var(
        "experimental.powerconverter.output_id",
        "UPS.PowerConverter.Output.OutputID",
        "%.0f",
    ),
    H::var("ups.load", "UPS.PowerConverter.Output.PercentLoad", "%.0f"),
    H::var(
        "output.voltage",
        "UPS.PowerConverter.Output.Voltage",
        "%.0f",
    ),
    H::var(
        "experimental.powerconverter.powerconverterid",
        "UPS.PowerConverter.PowerConverterID",
        "%.0f",
    ),
    H::var(
        "experimental.powersummary.capacity_granularity_1",
        "UPS.PowerSummary.CapacityGranularity1",
        "%.0f",
    ),
    H::var(
        "experimental.powersummary.capacity_granularity_2",
        "UPS.PowerSummary.CapacityGranularity2",
        "%.0f",
    ),
    H::var(
        "experimental.powersummary.capacity_mode",
        "UPS.PowerSummary.CapacityMode",
        "%.0f",
    ),
    H::absent(
        "ups.delay.shutdown",
        "UPS.PowerSummary.DelayBeforeShutdown",
        "20",
    ),
    H::var(
        "battery.capacity",
        "UPS.PowerSummary.DesignCapacity",
        "%.0f",
    ),
    H::var(
        "experimental.powersummary.flow_id",
        "UPS.PowerSummary.FlowID",
        "%.0f",
    ),
    H::var(
        "battery.capacity",
        "UPS.PowerSummary.FullChargeCapacity",
        "%.0f",
    ),
    H::var("battery.type", "UPS.PowerSummary.iDeviceChemistry", "%.0f"),
    H::var("ups.load", "UPS.PowerSummary.PercentLoad", "%.0f"),
    H::var(
        "experimental.powersummary.rechargeable",
        "UPS.PowerSummary.Rechargeable",
        "%.0f",
    ),
    H::var(
        "battery.charge",
        "UPS.PowerSummary.RemainingCapacity",
        "%.0f",
    ),
    H::var(
        "battery.runtime.low",
        "UPS.PowerSummary.RemainingTimeLimit",
        "%.0f",
    )
    .rw_number(),
    H::var("battery.runtime", "UPS.PowerSummary.RunTimeToEmpty", "%.0f"),
    H::var("battery.voltage", "UPS.PowerSummary.Voltage", "%.0f"),
    H::var(
        "ups.timer.shutdown",
        "UPS.PowerSummary.DelayBeforeShutdown",
        "%.0f",
    )
    .quick(),
    H::status("UPS.PowerSummary.PresentStatus.ACPresent", st::ONLINE).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.AwaitingPower",
        st::AWAITINGPOWER,
    )
    .quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.BatteryPresent",
        st::NOBATTERY,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.CommunicationLost",
        st::COMMFAULT,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.Discharging",
        st::DISCHARGING,
    )
    .quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.NeedReplacement",
        st::REPLACEBATT,
    ),
    H::status("UPS.PowerSummary.PresentStatus.Overload", st::OVERLOAD).quick(),
    H::status(
        "UPS.PowerSummary.PresentStatus.OverTemperature",
        st::OVERHEAT,
    ),
    H::status(
        "UPS.PowerSummary.PresentStatus.ShutdownImminent",
        st::SHUTDOWNIMM,
    ),
    H::status("UPS.EVER1.EVER18.EVER19", st::OVERLOAD),
    H::status("UPS.EVER1.EVER18.EVER20", st::LOWBATT),
    H::status("UPS.EVER1.EVER18.EVER21", st::BOOST),
    H::status("UPS.EVER1.EVER18.EVER22", st::TRIM),
    H::status("UPS.EVER1.EVER18.EVER25", st::CHARGING),
    H::status("UPS.EVER1.EVER18.EVER28", st::REPLACEBATT),
    H::status("UPS.EVER1.EVER32.EVER33", st::OVERLOAD),
    H::status("UPS.EVER1.EVER32.EVER40", st::COMMFAULT),
    H::status_fun("UPS.EVER1.EVER97.EVER102", Function::EverOnOff),
    H::var_conv(
        "experimental.status.workmode",
        "UPS.EVER1.EVER97.EVER98",
        fun(Function::EverWorkmode),
    ),
    H::var_conv(
        "experimental.status.messages",
        "UPS.EVER1.EVER18.EVER28",
        fun(Function::EverMessages),
    ),
    H::var_conv(
        "experimental.status.alarms",
        "UPS.EVER1.EVER32.EVER33",
        fun(Function::EverAlarms),
    ),
    H::command(
        "load.off.delay",
        "UPS.PowerSummary.DelayBeforeShutdown",
        "20",
    ),
    H::command(
        "shutdown.return",
        "UPS.PowerSummary.DelayBeforeShutdown",
        "20",
    ),
];
crate::pooled_table!(TABLE);
