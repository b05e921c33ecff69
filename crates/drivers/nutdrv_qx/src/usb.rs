//! USB subdrivers (serial-over-USB bridges).

use crate::options::Variant;

/// A USB subdriver of nutdrv_qx / blazer_usb.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subdriver {
    /// Cypress USB-serial bridge.
    Cypress,
    /// Phoenixtec.
    Phoenixtec,
    /// Phoenix.
    Phoenix,
    /// Ippon.
    Ippon,
    /// Krauler (string descriptors).
    Krauler,
    /// Fabula (string descriptors).
    Fabula,
    /// Hunnox (string descriptors, with a handshake).
    Hunnox,
    /// Fuji (interrupt transfers).
    Fuji,
    /// SGS.
    Sgs,
    /// SNR (string descriptors).
    Snr,
    /// Ablerex.
    Ablerex,
    /// Armac.
    Armac,
}

const QX_SUBDRIVERS: &[Subdriver] = &[
    Subdriver::Cypress,
    Subdriver::Phoenixtec,
    Subdriver::Phoenix,
    Subdriver::Ippon,
    Subdriver::Krauler,
    Subdriver::Fabula,
    Subdriver::Hunnox,
    Subdriver::Fuji,
    Subdriver::Sgs,
    Subdriver::Snr,
    Subdriver::Ablerex,
    Subdriver::Armac,
];

const BLAZER_SUBDRIVERS: &[Subdriver] = &[
    Subdriver::Cypress,
    Subdriver::Phoenix,
    Subdriver::Ippon,
    Subdriver::Krauler,
];

impl Subdriver {
    /// Name as in `subdriver =`.
    pub fn name(self) -> &'static str {
        match self {
            Subdriver::Cypress => "cypress",
            Subdriver::Phoenixtec => "phoenixtec",
            Subdriver::Phoenix => "phoenix",
            Subdriver::Ippon => "ippon",
            Subdriver::Krauler => "krauler",
            Subdriver::Fabula => "fabula",
            Subdriver::Hunnox => "hunnox",
            Subdriver::Fuji => "fuji",
            Subdriver::Sgs => "sgs",
            Subdriver::Snr => "snr",
            Subdriver::Ablerex => "ablerex",
            Subdriver::Armac => "armac",
        }
    }

    /// The subdrivers `variant` accepts, in NUT's help order.
    pub fn all(variant: Variant) -> &'static [Subdriver] {
        match variant {
            Variant::NutdrvQx => QX_SUBDRIVERS,
            Variant::BlazerUsb => BLAZER_SUBDRIVERS,
            Variant::BlazerSer => &[],
        }
    }

    /// Look a subdriver up by name (case-insensitive).
    pub fn from_name(name: &str, variant: Variant) -> Option<Subdriver> {
        Self::all(variant)
            .iter()
            .copied()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }
}
