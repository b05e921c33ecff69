//! Subdriver selection: NUT 2.8.0's claim order and rules, plus `subdriver=` forcing.
//!
//! Each subdriver has a VID:PID table. A device whose VID and PID are listed is *supported*;
//! one whose VID alone is listed is *possibly supported* and is claimed only when the user
//! named a `productid` (NUT then says so in the log). Exceptions, as in 2.8.0: `explore`
//! claims any device (it comes first); MGE takes Phoenixtec 06da devices only when the USB
//! vendor or product string contains "AEG"; HP and Dell possibly-supported devices never get a
//! "possibly supported" message; Belkin 050d:0218 (a USB hub), Tripp Lite 09ae:0001 (use
//! tripplite_usb) and PowerCOM 0d9f:0002 (use powercom) are never claimed.

use super::Subdriver;

/// The claim order of NUT 2.8.0 (explore first; it only claims with the `explore` flag).
pub const ORDER: &[Subdriver] = &[
    Subdriver::Explore,
    Subdriver::Mge,
    Subdriver::Apc,
    Subdriver::Arduino,
    Subdriver::Belkin,
    Subdriver::Cps,
    Subdriver::DeltaUps,
    Subdriver::Ever,
    Subdriver::Idowell,
    Subdriver::Legrand,
    Subdriver::Liebert,
    Subdriver::Openups,
    Subdriver::Powercom,
    Subdriver::Powervar,
    Subdriver::Salicru,
    Subdriver::TrippLite,
];

const HP: u16 = 0x03f0;
const DELL: u16 = 0x047c;
const PHOENIXTEC: u16 = 0x06da;

/// The VID:PID pairs a subdriver supports.
pub fn devices(sub: Subdriver) -> &'static [(u16, u16)] {
    match sub {
        Subdriver::Explore => &[],
        Subdriver::Mge => &[
            (0x0463, 0x0001),
            (0x0463, 0xffff),
            (DELL, 0xffff),
            (0x0592, 0x0004),
            (HP, 0x1fe5),
            (HP, 0x1fe6),
            (HP, 0x1fe7),
            (HP, 0x1fe8),
            (0x2b2d, 0xffff),
            (PHOENIXTEC, 0xffff),
            (0x04b3, 0x0001),
        ],
        Subdriver::Apc => &[(0x051d, 0x0000), (0x051d, 0x0002), (0x051d, 0x0003)],
        Subdriver::Arduino => &[
            (0x2341, 0x0036),
            (0x2341, 0x8036),
            (0x2a03, 0x0036),
            (0x2a03, 0x8036),
            (0x2a03, 0x0040),
            (0x2a03, 0x8040),
        ],
        Subdriver::Belkin => &[
            (0x050d, 0x0980),
            (0x050d, 0x0900),
            (0x050d, 0x0910),
            (0x050d, 0x0912),
            (0x050d, 0x0551),
            (0x050d, 0x0750),
            (0x050d, 0x0751),
            (0x050d, 0x0375),
            (0x050d, 0x0f51),
            (0x050d, 0x1100),
            (0x10af, 0x0001),
            (0x10af, 0x0004),
            (0x10af, 0x0008),
        ],
        Subdriver::Cps => &[(0x0764, 0x0005), (0x0764, 0x0501), (0x0764, 0x0601)],
        Subdriver::DeltaUps => &[(0x05dd, 0x041b)],
        Subdriver::Ever => &[(0x0483, 0xa113), (0x2e51, 0xffff), (0x2e51, 0x0000)],
        Subdriver::Idowell => &[(0x075d, 0x0300)],
        Subdriver::Legrand => &[(0x1cb0, 0x0038), (0x1cb0, 0x0032)],
        Subdriver::Liebert => &[(PHOENIXTEC, 0xffff)],
        Subdriver::Openups => &[(0x04d8, 0xd004), (0x04d8, 0xd005)],
        Subdriver::Powercom => &[
            (0x0d9f, 0x00a2),
            (0x0d9f, 0x00a3),
            (0x0d9f, 0x00a4),
            (0x0d9f, 0x00a5),
            (0x0d9f, 0x00a6),
            (0x0d9f, 0x0004),
            (0x0d9f, 0x0001),
        ],
        Subdriver::Powervar => &[(0x4234, 0x0002)],
        Subdriver::Salicru => &[
            (0x2e66, 0x0201),
            (0x2e66, 0x0202),
            (0x2e66, 0x0203),
            (0x2e66, 0x0300),
        ],
        Subdriver::TrippLite => &[
            (0x09ae, 0x1003),
            (0x09ae, 0x1007),
            (0x09ae, 0x1008),
            (0x09ae, 0x1009),
            (0x09ae, 0x1010),
            (0x09ae, 0x1330),
            (0x09ae, 0x2005),
            (0x09ae, 0x2007),
            (0x09ae, 0x2008),
            (0x09ae, 0x2009),
            (0x09ae, 0x2010),
            (0x09ae, 0x2011),
            (0x09ae, 0x2012),
            (0x09ae, 0x2013),
            (0x09ae, 0x2014),
            (0x09ae, 0x3008),
            (0x09ae, 0x3009),
            (0x09ae, 0x3010),
            (0x09ae, 0x3011),
            (0x09ae, 0x3012),
            (0x09ae, 0x3013),
            (0x09ae, 0x3014),
            (0x09ae, 0x3015),
            (0x09ae, 0x3016),
            (0x09ae, 0x3024),
            (0x09ae, 0x4001),
            (0x09ae, 0x4002),
            (0x09ae, 0x4003),
            (0x09ae, 0x4004),
            (0x09ae, 0x4005),
            (0x09ae, 0x4006),
            (0x09ae, 0x4007),
            (0x09ae, 0x4008),
            (HP, 0x0001),
            (HP, 0x1fe0),
            (HP, 0x1fe1),
            (HP, 0x1fe2),
            (HP, 0x1fe3),
            (HP, 0x1f06),
            (HP, 0x1f08),
            (HP, 0x1f09),
            (HP, 0x1f0a),
            (0x05dd, 0xa011),
        ],
    }
}

/// What the selection looks at.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeviceIds<'a> {
    pub vendor_id: u16,
    pub product_id: u16,
    /// USB manufacturer string.
    pub vendor: Option<&'a str>,
    /// USB product string.
    pub product: Option<&'a str>,
}

/// The options that influence selection.
#[derive(Debug, Clone, Default)]
pub struct SelectOptions {
    /// `explore` flag.
    pub explore: bool,
    /// A `productid` option was given (claims possibly-supported devices).
    pub productid_given: bool,
    /// `subdriver=`: force this subdriver (matched against the start of its name,
    /// case-insensitively, e.g. `apc`, `CyberPower`, `MGE HID`).
    pub subdriver: Option<String>,
}

/// The outcome of a claim attempt by one subdriver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    Yes,
    No,
    /// Not claimed, but NUT logs that the device is possibly supported by this vendor's
    /// subdriver and that `productid` would make it try.
    PossiblySupported(&'static str),
}

fn possibly_vendor(sub: Subdriver, vendor_id: u16) -> &'static str {
    match sub {
        Subdriver::Mge => "Eaton / MGE",
        Subdriver::Belkin if vendor_id == 0x10af => "Liebert",
        Subdriver::Belkin => "Belkin",
        Subdriver::Cps => "CyberPower",
        Subdriver::Liebert => "Liebert",
        Subdriver::Powercom => "PowerCOM",
        Subdriver::TrippLite => "TrippLite",
        Subdriver::Apc => "APC",
        Subdriver::Arduino => "Arduino",
        Subdriver::DeltaUps => "Delta UPS",
        Subdriver::Ever => "Ever",
        Subdriver::Idowell => "iDowell",
        Subdriver::Legrand => "Legrand",
        Subdriver::Openups => "openUPS",
        Subdriver::Powervar => "Powervar",
        Subdriver::Salicru => "Salicru",
        Subdriver::Explore => "",
    }
}

/// One subdriver's claim (NUT's `*_claim`).
pub fn claim(sub: Subdriver, dev: &DeviceIds<'_>, opts: &SelectOptions) -> Claim {
    if sub == Subdriver::Explore {
        return if opts.explore { Claim::Yes } else { Claim::No };
    }
    let table = devices(sub);
    let supported = table.contains(&(dev.vendor_id, dev.product_id));
    let possibly = !supported && table.iter().any(|(v, _)| *v == dev.vendor_id);
    if !supported && !possibly {
        return Claim::No;
    }
    let aeg = || {
        dev.vendor.is_some_and(|v| v.contains("AEG"))
            || dev.product.is_some_and(|p| p.contains("AEG"))
    };
    let by_productid = |quiet: bool| {
        if opts.productid_given {
            Claim::Yes
        } else if quiet {
            Claim::No
        } else {
            Claim::PossiblySupported(possibly_vendor(sub, dev.vendor_id))
        }
    };
    match sub {
        Subdriver::Mge if dev.vendor_id == PHOENIXTEC => {
            if aeg() {
                Claim::Yes
            } else {
                Claim::No
            }
        }
        Subdriver::Mge if possibly => by_productid(matches!(dev.vendor_id, HP | DELL)),
        Subdriver::Belkin if possibly && dev.vendor_id == 0x050d && dev.product_id == 0x0218 => {
            Claim::No
        }
        Subdriver::TrippLite if possibly => match dev.vendor_id {
            HP => by_productid(true),
            0x09ae if dev.product_id == 0x0001 => Claim::No,
            0x09ae => by_productid(false),
            _ => Claim::No,
        },
        Subdriver::Powercom if possibly && dev.product_id == 0x0002 => Claim::No,
        _ if supported => Claim::Yes,
        _ => by_productid(false),
    }
}

/// The result of selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The chosen subdriver, if any.
    pub subdriver: Option<Subdriver>,
    /// "Possibly supported" notes from subdrivers that declined, in claim order.
    pub possibly: Vec<&'static str>,
}

/// Why `subdriver=` could not be honoured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("subdriver {0:?} matches none of: {list}", list = ORDER.iter().map(|s| s.version()).collect::<Vec<_>>().join(", "))]
pub struct UnknownSubdriver(pub String);

/// Chooses the subdriver for a device: `subdriver=` if given, else the first subdriver in
/// NUT's order that claims it.
pub fn select(dev: &DeviceIds<'_>, opts: &SelectOptions) -> Result<Selection, UnknownSubdriver> {
    if let Some(want) = &opts.subdriver {
        let want_lc = want.trim().to_ascii_lowercase();
        let found = ORDER.iter().copied().find(|s| {
            let name = s.version().to_ascii_lowercase();
            !want_lc.is_empty() && (name.starts_with(&want_lc) || s.short_name() == want_lc)
        });
        return match found {
            Some(s) => Ok(Selection {
                subdriver: Some(s),
                possibly: Vec::new(),
            }),
            None => Err(UnknownSubdriver(want.clone())),
        };
    }
    let mut possibly = Vec::new();
    for sub in ORDER {
        match claim(*sub, dev, opts) {
            Claim::Yes => {
                return Ok(Selection {
                    subdriver: Some(*sub),
                    possibly,
                });
            }
            Claim::PossiblySupported(v) => possibly.push(v),
            Claim::No => {}
        }
    }
    Ok(Selection {
        subdriver: None,
        possibly,
    })
}

/// Every VID:PID a subdriver supports, once each, ascending, with the first subdriver in
/// [`ORDER`] that claims it (the devices udev hands to the `nut` group for usbhid-ups:
/// packaging/src/udev.rs).
pub fn all_devices() -> Vec<(u16, u16, Subdriver)> {
    let mut out: Vec<(u16, u16, Subdriver)> = Vec::new();
    for sub in ORDER {
        for (v, p) in devices(*sub) {
            if !out.iter().any(|(ov, op, _)| ov == v && op == p) {
                out.push((*v, *p, *sub));
            }
        }
    }
    out.sort_by_key(|(v, p, _)| (*v, *p));
    out
}
