//! `voltronic` (Voltronic Power P00–P99: QGS, QPI, QRI, QMD, QFS, QWS, QBV, QFLAG … with
//! about 400 table rows in NUT 2.8.0): **only its claim is implemented so far** — status
//! `QGS` (input voltage at 1–5 of a 76-byte answer) and protocol `QPI` (`PI00`–`PI99`, of which
//! 2.8.0 accepts 00, 01, 02, 03, 08, 09, 10, 13, 14, 31, 99). It keeps auto-detection
//! byte-identical to Debian's (QGS is the first probe) and lets [`crate::detect::Detector`]
//! say clearly that a device speaks voltronic ([`crate::DetectStep::Unimplemented`]) instead
//! of letting a later, more generic protocol drive it differently from NUT.

use super::{ClaimStep, Protocol, ProtocolId};
use crate::cnum;
use crate::engine::{Level, Qx};
use crate::item::{Item, Refused, qxf};

static TABLE: &[Item] = &[
    // > QGS\r  < (234.9 50.0 229.8 50.0 000.0 000 369.1 ---.- 026.5 ---.- 018.8 100000000001\r
    Item::query(
        "input.voltage",
        "QGS\r",
        76,
        Some(b'('),
        1,
        5,
        Some("%.1f"),
        0,
        None,
    ),
    // > QPI\r  < (PI03\r
    Item::query(
        "ups.firmware.aux",
        "QPI\r",
        6,
        Some(b'('),
        1,
        4,
        Some("%s"),
        qxf::STATIC,
        Some(protocol),
    ),
];

fn protocol(qx: &mut Qx, _idx: usize, value: &str) -> Result<String, Refused> {
    let Some(num) = value
        .get(..2)
        .filter(|p| p.eq_ignore_ascii_case("PI"))
        .map(|_| &value[2..])
    else {
        qx.logm(
            Level::Debug(2),
            format!("voltronic_protocol: invalid start characters [{value}]"),
        );
        return Err(Refused);
    };
    if !cnum::only_chars(num, "0123489") {
        qx.logm(
            Level::Error,
            format!("Protocol [{value}] is not supported by this driver"),
        );
        return Err(Refused);
    }
    let p = cnum::strtol(num);
    if ![0, 1, 2, 3, 8, 9, 10, 13, 14, 31, 99].contains(&p) {
        qx.logm(
            Level::Error,
            format!("Protocol [PI{p:02}] is not supported by this driver"),
        );
        return Err(Refused);
    }
    Ok(format!("P{p:02}"))
}

/// The voltronic protocol (claim only; see the module documentation).
pub static PROTOCOL: Protocol = Protocol {
    id: ProtocolId::Voltronic,
    version: "Voltronic 0.06",
    table: TABLE,
    claim: &[
        ClaimStep::Query("input.voltage", 0, 0),
        ClaimStep::Query("ups.firmware.aux", 0, 0),
    ],
    initups: |_| {},
    initinfo: None,
    accepted: Some("ACK"),
    rejected: Some("(NAK\r"),
    implemented: false,
};
