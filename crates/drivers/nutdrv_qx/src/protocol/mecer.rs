//! `mecer`: megatec plus the Voltronic `QPI` protocol query; commands are answered `(ACK\r`
//! or `(NAK\r` (so an unanswered command fails), rejected queries answer `(NAK\r`.

use super::blazer_common::{self as bc, DEFAULT_OFFDELAY, DEFAULT_ONDELAY, R_OFFDELAY, R_ONDELAY};
use super::{ClaimStep, Protocol, ProtocolId};
use crate::cnum;
use crate::engine::{Level, Qx};
use crate::item::{Item, Refused, qxf};

const fn ack_cmd(
    var: &'static str,
    command: &'static str,
    pre: Option<crate::item::ValueFn>,
) -> Item {
    Item {
        var,
        command: Some(command),
        answer_len: 5,
        leading: Some(b'('),
        from: 1,
        to: 3,
        flags: qxf::CMD,
        pre,
        ..Item::BLANK
    }
}

static TABLE: &[Item] = crate::qx_table![
    // > QPI\r  < (PI98\r
    Item::query("ups.firmware.aux", "QPI\r", 6, Some(b'('), 1, 4, Some("%s"), qxf::STATIC, Some(p98_protocol)),
    @q1("Q1\r", 0),
    @f,
    @vendor("I\r"),
    ack_cmd("beeper.toggle", "Q\r", None),
    ack_cmd("load.off", "S00R0000\r", None),
    ack_cmd("load.on", "C\r", None),
    ack_cmd("shutdown.return", "S%s\r", Some(bc::process_command)),
    ack_cmd("shutdown.stayoff", "S%sR0000\r", Some(bc::process_command)),
    ack_cmd("shutdown.stop", "C\r", None),
    ack_cmd("test.battery.start", "T%s\r", Some(test_battery)),
    ack_cmd("test.battery.start.deep", "TL\r", None),
    ack_cmd("test.battery.start.quick", "T\r", None),
    ack_cmd("test.battery.stop", "CT\r", None),
    @delays(R_ONDELAY, R_OFFDELAY, DEFAULT_ONDELAY, DEFAULT_OFFDELAY),
];

/// `QPI` must answer `PI98` (a Voltronic Power P98 unit).
fn p98_protocol(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    if !cnum::eq_ic(value, "PI98") {
        qx.logm(
            Level::Error,
            format!("Protocol [{value}] is not supported by this driver"),
        );
        return Err(Refused);
    }
    Ok("Voltronic Power P98".into())
}

/// `T<n>`: `.2`..`.9` (12..59 s, P98 units only) or `01`..`99` minutes; default 600 s.
fn test_battery(qx: &mut Qx, idx: usize, value: &str) -> Result<String, Refused> {
    let it = qx.item(idx);
    let p98 = qx
        .getinfo("ups.firmware.aux")
        .is_some_and(|p| cnum::eq_ic(p, "Voltronic Power P98"));
    let min = if p98 { 12 } else { 60 };
    if !cnum::only_chars(value, "0123456789") {
        qx.logm(
            Level::Error,
            format!("{}: non numerical value [{}]", it.var, value),
        );
        return Err(Refused);
    }
    let t = if value.is_empty() {
        600
    } else {
        cnum::strtol(value)
    };
    if t < min || t > 5940 {
        qx.logm(
            Level::Error,
            format!(
                "{}: battery test time '{}' out of range [{}..5940] seconds",
                it.var, t, min
            ),
        );
        return Err(Refused);
    }
    let arg = if t < 60 {
        format!(".{}", t / 6)
    } else {
        format!("{:02}", t / 60)
    };
    Ok(cnum::format_str(it.command.unwrap_or(""), &arg))
}

/// The mecer protocol.
pub static PROTOCOL: Protocol = Protocol {
    id: ProtocolId::Mecer,
    version: "Mecer 0.07",
    table: TABLE,
    claim: &[
        ClaimStep::Query("input.voltage", 0, 0),
        ClaimStep::QueryOrNak("ups.firmware.aux", 0, 0),
    ],
    initups: bc::initups,
    initinfo: None,
    accepted: Some("ACK"),
    rejected: Some("(NAK\r"),
};
