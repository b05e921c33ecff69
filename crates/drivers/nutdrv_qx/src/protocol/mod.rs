//! Protocol tables, one file per protocol, and the auto-detection order.

pub mod blazer_common;

pub mod ablerex;
pub mod bestups;
pub mod hunnox;
pub mod masterguard;
pub mod mecer;
pub mod megatec;
pub mod megatec_old;
pub mod mustek;
pub mod q1;
pub mod voltronic;
pub mod voltronic_qs;
pub mod voltronic_qs_hex;
pub mod zinto;

use crate::engine::Qx;
use crate::item::Item;
use crate::options::Variant;

/// Every protocol name nutdrv_qx 2.8.0 knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtocolId {
    /// `voltronic` (QGS/QPI/QMOD… protocol).
    Voltronic,
    /// `voltronic-qs`.
    VoltronicQs,
    /// `voltronic-qs-hex`.
    VoltronicQsHex,
    /// `mustek` (QS).
    Mustek,
    /// `megatec/old` (D).
    MegatecOld,
    /// `bestups` (Q1 + ID).
    Bestups,
    /// `mecer` (Q1 + QPI, (ACK/(NAK).
    Mecer,
    /// `megatec` (Q1, F, I).
    Megatec,
    /// `zinto` (Q1, F, FW?).
    Zinto,
    /// `masterguard`.
    Masterguard,
    /// `hunnox` (Q1, F, FW?, quick-polled values).
    Hunnox,
    /// `ablerex`.
    Ablerex,
    /// `q1` (Q1 only; the fallback).
    Q1,
}

impl ProtocolId {
    /// The name used in `protocol =` and in `driver.version.data`'s first word.
    pub fn name(self) -> &'static str {
        match self {
            ProtocolId::Voltronic => "voltronic",
            ProtocolId::VoltronicQs => "voltronic-qs",
            ProtocolId::VoltronicQsHex => "voltronic-qs-hex",
            ProtocolId::Mustek => "mustek",
            ProtocolId::MegatecOld => "megatec/old",
            ProtocolId::Bestups => "bestups",
            ProtocolId::Mecer => "mecer",
            ProtocolId::Megatec => "megatec",
            ProtocolId::Zinto => "zinto",
            ProtocolId::Masterguard => "masterguard",
            ProtocolId::Hunnox => "hunnox",
            ProtocolId::Ablerex => "ablerex",
            ProtocolId::Q1 => "q1",
        }
    }

    /// The table and claim logic.
    pub fn protocol(self) -> &'static Protocol {
        match self {
            ProtocolId::Mustek => &mustek::PROTOCOL,
            ProtocolId::MegatecOld => &megatec_old::PROTOCOL,
            ProtocolId::Bestups => &bestups::PROTOCOL,
            ProtocolId::Mecer => &mecer::PROTOCOL,
            ProtocolId::Megatec => &megatec::PROTOCOL,
            ProtocolId::Zinto => &zinto::PROTOCOL,
            ProtocolId::Hunnox => &hunnox::PROTOCOL,
            ProtocolId::Q1 => &q1::PROTOCOL,
            ProtocolId::VoltronicQs => &voltronic_qs::PROTOCOL,
            ProtocolId::VoltronicQsHex => &voltronic_qs_hex::PROTOCOL,
            ProtocolId::Ablerex => &ablerex::PROTOCOL,
            ProtocolId::Masterguard => &masterguard::PROTOCOL,
            ProtocolId::Voltronic => &voltronic::PROTOCOL,
        }
    }
}

/// nutdrv_qx 2.8.0's auto-detection order (each protocol's claim is tried 3 times before the
/// next one); `q1` is the fallback.
pub const NUTDRV_QX_ORDER: &[ProtocolId] = &[
    ProtocolId::Voltronic,
    ProtocolId::VoltronicQs,
    ProtocolId::VoltronicQsHex,
    ProtocolId::Mustek,
    ProtocolId::MegatecOld,
    ProtocolId::Bestups,
    ProtocolId::Mecer,
    ProtocolId::Megatec,
    ProtocolId::Zinto,
    ProtocolId::Masterguard,
    ProtocolId::Hunnox,
    ProtocolId::Ablerex,
    ProtocolId::Q1,
];

/// blazer_ser / blazer_usb try these, in this order.
pub const BLAZER_ORDER: &[ProtocolId] = &[
    ProtocolId::Megatec,
    ProtocolId::Mustek,
    ProtocolId::MegatecOld,
    ProtocolId::Zinto,
];

/// The protocols `variant` tries, in order.
pub fn candidates(variant: Variant) -> &'static [ProtocolId] {
    match variant {
        Variant::NutdrvQx => NUTDRV_QX_ORDER,
        Variant::BlazerSer | Variant::BlazerUsb => BLAZER_ORDER,
    }
}

/// One step of a claim: the device is this protocol's if every step passes.
#[derive(Clone, Copy, Debug)]
pub enum ClaimStep {
    /// Query the first item named so (with flags / without noflags); its value must be set.
    Query(&'static str, u32, u32),
    /// Like `Query`, but an answer of exactly `(NAK\r` also passes (and the item is skipped
    /// from then on): mecer's check for '(ACK/(NAK' units.
    QueryOrNak(&'static str, u32, u32),
    /// Accept right away when this ups.conf flag is set (`novendor`).
    AcceptIfFlag(&'static str),
    /// Query the first item named so (with flags / without noflags) and run only its value
    /// function (nothing is published); a refusal fails the claim (masterguard).
    Preprocess(&'static str, u32, u32),
    /// A check without I/O; `false` fails the claim (it logs its own reason).
    Check(fn(&mut Qx) -> bool),
}

/// A protocol ("subdriver" in nutdrv_qx).
#[derive(Debug)]
pub struct Protocol {
    /// Which protocol.
    pub id: ProtocolId,
    /// `driver.version.data` (name and version as NUT 2.8.0 reports them).
    pub version: &'static str,
    /// Items in walk order.
    pub table: &'static [Item],
    /// Claim steps.
    pub claim: &'static [ClaimStep],
    /// Applies ups.conf options to the table after the claim.
    pub initups: fn(&mut Qx),
    /// Runs at the end of initialisation.
    pub initinfo: Option<fn(&mut Qx)>,
    /// Answer value meaning "command accepted".
    pub accepted: Option<&'static str>,
    /// Whole answer meaning "query rejected".
    pub rejected: Option<&'static str>,
}

/// The claim of megatec, zinto, hunnox: status, then vendor unless `novendor`.
pub const CLAIM_VENDOR: &[ClaimStep] = &[
    ClaimStep::Query("input.voltage", 0, 0),
    ClaimStep::AcceptIfFlag("novendor"),
    ClaimStep::Query("ups.firmware", 0, 0),
];

/// The light claim (status only): mustek, megatec/old, q1.
pub const CLAIM_LIGHT: &[ClaimStep] = &[ClaimStep::Query("input.voltage", 0, 0)];
