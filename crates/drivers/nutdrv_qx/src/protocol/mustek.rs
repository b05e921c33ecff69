//! `mustek`: megatec with status command `QS`; claimed on the status answer alone.

use super::blazer_common::{self as bc, DEFAULT_OFFDELAY, DEFAULT_ONDELAY, R_OFFDELAY, R_ONDELAY};
use super::{CLAIM_LIGHT, Protocol, ProtocolId};
use crate::item::Item;

static TABLE: &[Item] = crate::qx_table![
    @q1("QS\r", 0),
    @f,
    @vendor("I\r"),
    @megatec_cmds,
    @delays(R_ONDELAY, R_OFFDELAY, DEFAULT_ONDELAY, DEFAULT_OFFDELAY),
];

/// The mustek protocol.
pub static PROTOCOL: Protocol = Protocol {
    id: ProtocolId::Mustek,
    version: "Mustek 0.07",
    table: TABLE,
    claim: CLAIM_LIGHT,
    initups: bc::initups,
    initinfo: None,
    accepted: Some("ACK"),
    rejected: None,
};
