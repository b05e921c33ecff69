//! `megatec`: status `Q1`, ratings `F`, vendor `I`; commands answered by silence.

use super::blazer_common::{self as bc, DEFAULT_OFFDELAY, DEFAULT_ONDELAY, R_OFFDELAY, R_ONDELAY};
use super::{CLAIM_VENDOR, Protocol, ProtocolId};
use crate::item::Item;

static TABLE: &[Item] = crate::qx_table![
    @q1("Q1\r", 0),
    @f,
    @vendor("I\r"),
    @megatec_cmds,
    @delays(R_ONDELAY, R_OFFDELAY, DEFAULT_ONDELAY, DEFAULT_OFFDELAY),
];

/// The megatec protocol.
pub static PROTOCOL: Protocol = Protocol {
    id: ProtocolId::Megatec,
    version: "Megatec 0.06",
    table: TABLE,
    claim: CLAIM_VENDOR,
    initups: bc::initups,
    initinfo: None,
    accepted: Some("ACK"),
    rejected: None,
};
