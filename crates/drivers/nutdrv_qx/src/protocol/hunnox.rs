//! `hunnox`: zinto with quick-polled measurements, delays 0 s / 60 s by default, "UPS No Ack" as the accepted answer.

use super::blazer_common::{self as bc, R_OFFDELAY, R_ONDELAY};
use super::{CLAIM_VENDOR, Protocol, ProtocolId};
use crate::item::Item;

static TABLE: &[Item] = crate::qx_table![
    @q1("Q1\r", crate::item::qxf::QUICK_POLL),
    @f,
    @vendor("FW?\r"),
    @megatec_cmds,
    @delays(R_ONDELAY, R_OFFDELAY, "0", "60"),
];

/// The hunnox protocol.
pub static PROTOCOL: Protocol = Protocol {
    id: ProtocolId::Hunnox,
    version: "Hunnox 0.01",
    table: TABLE,
    claim: CLAIM_VENDOR,
    initups: bc::initups,
    initinfo: None,
    accepted: Some("UPS No Ack"),
    rejected: None,
};
