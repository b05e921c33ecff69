//! `voltronic-qs`: `M` must answer `V` (published as `PM-V`), status `QS` in the Q1 layout
//! (output frequency instead of input frequency), ratings `F` for the output; commands are
//! answered by silence; shutdown delays 12..540 s.

use super::blazer_common::{self as bc, DEFAULT_OFFDELAY, DEFAULT_ONDELAY};
use super::{ClaimStep, Protocol, ProtocolId};
use crate::cnum;
use crate::engine::{Level, Qx};
use crate::item::{Item, Refused, RwValue, qxf};

const R_ONDELAY: &[RwValue] = &[RwValue::new("60"), RwValue::new("599940")];
const R_OFFDELAY: &[RwValue] = &[RwValue::new("12"), RwValue::new("540")];

/// A command row whose answer value would sit at 1..=3 (NUT's table says so; any non-empty
/// answer then counts as a refusal since the protocol has no "accepted" answer).
const fn cmd13(
    var: &'static str,
    command: &'static str,
    pre: Option<crate::item::ValueFn>,
) -> Item {
    Item {
        var,
        command: Some(command),
        from: 1,
        to: 3,
        flags: qxf::CMD,
        pre,
        ..Item::BLANK
    }
}

const fn qs(var: &'static str, from: usize, to: usize, dfl: &'static str) -> Item {
    Item::query(var, "QS\r", 47, Some(b'('), from, to, Some(dfl), 0, None)
}

static TABLE: &[Item] = crate::qx_table![
    // > M\r  < V\r
    Item::query("ups.firmware.aux", "M\r", 2, None, 0, 0, Some("PM-%s"), qxf::STATIC, Some(protocol)),
    qs("input.voltage", 1, 5, "%.1f"),
    qs("input.voltage.fault", 7, 11, "%.1f"),
    qs("output.voltage", 13, 17, "%.1f"),
    qs("ups.load", 19, 21, "%.0f"),
    qs("output.frequency", 23, 26, "%.1f"),
    qs("battery.voltage", 28, 31, "%.2f"),
    qs("ups.temperature", 33, 36, "%.1f"),
    @bits_a("QS\r"),
    @bit40("QS\r"),
    @bits_b("QS\r"),
    @beeper("QS\r"),
    // > F\r  < #220.0 003 12.00 50.0\r
    Item::query("output.voltage.nominal", "F\r", 22, Some(b'#'), 1, 5, Some("%.0f"), qxf::STATIC, None),
    Item::query("output.current.nominal", "F\r", 22, Some(b'#'), 7, 9, Some("%.1f"), qxf::STATIC, None),
    Item::query("battery.voltage.nominal", "F\r", 22, Some(b'#'), 11, 15, Some("%.1f"), qxf::STATIC, None),
    Item::query("output.frequency.nominal", "F\r", 22, Some(b'#'), 17, 20, Some("%.0f"), qxf::STATIC, None),
    cmd13("beeper.toggle", "Q\r", None),
    cmd13("load.off", "S00R0000\r", None),
    cmd13("load.on", "C\r", None),
    cmd13("shutdown.return", "S%s\r", Some(bc::process_command)),
    cmd13("shutdown.stayoff", "S%sR0000\r", Some(bc::process_command)),
    cmd13("shutdown.stop", "C\r", None),
    cmd13("test.battery.start.quick", "T\r", None),
    @delays(R_ONDELAY, R_OFFDELAY, DEFAULT_ONDELAY, DEFAULT_OFFDELAY),
];

fn protocol(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    if !cnum::eq_ic(value, "V") {
        qx.logm(
            Level::Debug(2),
            format!("voltronic_qs_protocol: invalid protocol [{value}]"),
        );
        return Err(Refused);
    }
    Ok(cnum::format_str(qx.item(idx).dfl.unwrap_or("%s"), value))
}

/// The voltronic-qs protocol.
pub static PROTOCOL: Protocol = Protocol {
    id: ProtocolId::VoltronicQs,
    version: "Voltronic-QS 0.07",
    table: TABLE,
    claim: &[
        ClaimStep::Query("ups.firmware.aux", 0, 0),
        ClaimStep::Query("input.voltage", 0, 0),
    ],
    initups: bc::initups_light,
    initinfo: None,
    accepted: None,
    rejected: None,
};
