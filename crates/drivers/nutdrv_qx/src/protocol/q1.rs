//! `q1`: the fallback: Q1 status only (no ratings, no vendor), claimed on the status answer.

use super::blazer_common::{self as bc, DEFAULT_OFFDELAY, DEFAULT_ONDELAY, R_OFFDELAY, R_ONDELAY};
use super::{CLAIM_LIGHT, Protocol, ProtocolId};
use crate::item::Item;

static TABLE: &[Item] = crate::qx_table![
    @q1("Q1\r", 0),
    @megatec_cmds,
    @delays(R_ONDELAY, R_OFFDELAY, DEFAULT_ONDELAY, DEFAULT_OFFDELAY),
];

/// The q1 protocol.
pub static PROTOCOL: Protocol = Protocol {
    id: ProtocolId::Q1,
    version: "Q1 0.07",
    table: TABLE,
    claim: CLAIM_LIGHT,
    initups: bc::initups_light,
    initinfo: None,
    accepted: Some("ACK"),
    rejected: None,
};
