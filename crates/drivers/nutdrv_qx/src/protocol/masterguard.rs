//! `masterguard` (Masterguard A/E series, `WH`/`Q3`/`GS,XX`… commands) as NUT 2.8.0 ships it:
//! its claim looks up an item called "series" while the table calls it
//! "experimental.series", so it gives up before sending anything ("claim: cannot find
//! series") and no device is ever driven by it; `protocol = masterguard` ends in "Device not
//! supported!". This reproduces that outcome, without I/O, so auto-detection and explicit
//! selection behave exactly like Debian's nutdrv_qx. Making the protocol work would be a
//! deliberate fix (the lead's call; see the crate report), not a compatibility matter.

use super::{ClaimStep, Protocol, ProtocolId};

/// The masterguard protocol (never claims a device, as in 2.8.0).
pub static PROTOCOL: Protocol = Protocol {
    id: ProtocolId::Masterguard,
    version: "Masterguard 0.02",
    table: &[],
    claim: &[ClaimStep::Unclaimable("claim: cannot find series")],
    initups: |_| {},
    initinfo: None,
    accepted: None,
    rejected: None,
    implemented: true,
};
