//! Subdrivers: vendor usage names and descriptor fixes (the mapping tables follow).

use crate::descriptor::{ReportDescriptor, Usage};
use crate::mapping::HidInfo;
use crate::usage::UsageTable;

use std::sync::OnceLock;

pub mod apc;
pub mod arduino;
pub mod belkin;
pub mod cps;
pub mod delta_ups;
pub mod ever;
pub mod idowell;
pub mod legrand;
pub mod liebert;
pub mod mge;
pub mod names_apc;
pub mod names_belkin;
pub mod names_mge;
pub mod names_powercom;
pub mod names_tripplite;
pub mod openups;
pub mod powercom;
pub mod powervar;
pub mod salicru;
pub mod select;
pub mod tripplite;

/// The subdrivers of NUT 2.8.0's usbhid-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subdriver {
    Apc,
    Arduino,
    Belkin,
    Cps,
    DeltaUps,
    Ever,
    Explore,
    Idowell,
    Legrand,
    Liebert,
    Mge,
    Openups,
    Powercom,
    Powervar,
    Salicru,
    TrippLite,
}

impl Subdriver {
    /// `driver.version.data`: the subdriver's name and version as NUT 2.8.0 publishes it.
    pub fn version(self) -> &'static str {
        match self {
            Subdriver::Apc => "APC HID 0.98",
            Subdriver::Arduino => "Arduino HID 0.2",
            Subdriver::Belkin => "Belkin/Liebert HID 0.18",
            Subdriver::Cps => "CyberPower HID 0.6",
            Subdriver::DeltaUps => "Delta UPS HID 0.6",
            Subdriver::Ever => "Ever HID 0.1",
            Subdriver::Explore => "EXPLORE HID 0.2",
            Subdriver::Idowell => "iDowell HID 0.2",
            Subdriver::Legrand => "Legrand HID 0.2",
            Subdriver::Liebert => "Phoenixtec/Liebert HID 0.41",
            Subdriver::Mge => "MGE HID 1.46",
            Subdriver::Openups => "openUPS HID 0.5",
            Subdriver::Powercom => "PowerCOM HID 0.6",
            Subdriver::Powervar => "Powervar HID 0.20",
            Subdriver::Salicru => "Salicru HID 0.3",
            Subdriver::TrippLite => "TrippLite HID 0.84",
        }
    }

    /// The short name `subdriver=` accepts besides a prefix of [`Subdriver::version`]
    /// (the C file stem: `apc`, `cps`, `mge`, `tripplite`, …).
    pub fn short_name(self) -> &'static str {
        match self {
            Subdriver::Apc => "apc",
            Subdriver::Arduino => "arduino",
            Subdriver::Belkin => "belkin",
            Subdriver::Cps => "cps",
            Subdriver::DeltaUps => "delta_ups",
            Subdriver::Ever => "ever",
            Subdriver::Explore => "explore",
            Subdriver::Idowell => "idowell",
            Subdriver::Legrand => "legrand",
            Subdriver::Liebert => "liebert",
            Subdriver::Mge => "mge",
            Subdriver::Openups => "openups",
            Subdriver::Powercom => "powercom",
            Subdriver::Powervar => "powervar",
            Subdriver::Salicru => "salicru",
            Subdriver::TrippLite => "tripplite",
        }
    }

    /// The vendor usage names this subdriver prints and accepts in paths.
    pub fn usages(self) -> UsageTable {
        match self {
            Subdriver::Apc => names_apc::USAGES,
            Subdriver::Belkin => names_belkin::USAGES,
            Subdriver::Mge => names_mge::USAGES,
            Subdriver::Powercom => names_powercom::USAGES,
            Subdriver::TrippLite => names_tripplite::USAGES,
            Subdriver::DeltaUps => delta_ups::USAGES,
            Subdriver::Ever => ever::USAGES,
            Subdriver::Openups => openups::USAGES,
            Subdriver::Powervar => powervar::USAGES,
            _ => &[],
        }
    }

    /// The subdriver's rows without pointers ([`crate::pool`]); `None` for explore, whose
    /// table is empty (as in NUT).
    fn pool(self) -> Option<crate::pool::View> {
        Some(match self {
            Subdriver::Apc => apc::POOL.view(),
            Subdriver::Arduino => arduino::POOL.view(),
            Subdriver::Belkin => belkin::POOL.view(),
            Subdriver::Cps => cps::POOL.view(),
            Subdriver::DeltaUps => delta_ups::POOL.view(),
            Subdriver::Ever => ever::POOL.view(),
            Subdriver::Explore => return None,
            Subdriver::Idowell => idowell::POOL.view(),
            Subdriver::Legrand => legrand::POOL.view(),
            Subdriver::Liebert => liebert::POOL.view(),
            Subdriver::Mge => mge::POOL.view(),
            Subdriver::Openups => openups::POOL.view(),
            Subdriver::Powercom => powercom::POOL.view(),
            Subdriver::Powervar => powervar::POOL.view(),
            Subdriver::Salicru => salicru::POOL.view(),
            Subdriver::TrippLite => tripplite::POOL.view(),
        })
    }

    /// The subdriver's mapping table, built from its pool on first use (once per process:
    /// only the subdriver in use is ever read).
    pub fn table(self) -> &'static [HidInfo] {
        const COUNT: usize = Subdriver::TrippLite as usize + 1;
        static TABLES: [OnceLock<&'static [HidInfo]>; COUNT] = [const { OnceLock::new() }; COUNT];
        let Some(pool) = self.pool() else {
            return &[];
        };
        TABLES[self as usize].get_or_init(|| pool.materialise().leak())
    }

    /// True when this subdriver's mapping table is ported (it has rows), and for explore
    /// (whose table is empty in NUT too).
    pub fn is_ported(self) -> bool {
        self == Subdriver::Explore || self.pool().is_some_and(|p| !p.is_empty())
    }

    /// The identity variables usbhid-ups publishes from the USB device descriptor and
    /// strings (`ups.mfr`, `ups.model`, `ups.serial` with their `device.*` mirrors,
    /// `ups.vendorid`, `ups.productid`, and what the subdriver derives, e.g. APC's
    /// `ups.firmware`), in publication order.
    pub fn identity(
        self,
        vendor_id: u16,
        product_id: u16,
        mfr: Option<&str>,
        product: Option<&str>,
        serial: Option<&str>,
    ) -> Vec<(String, String)> {
        // NUT keeps a USB string only when reading it gave at least one character.
        let (mfr, product, serial) = (
            mfr.filter(|s| !s.is_empty()),
            product.filter(|s| !s.is_empty()),
            serial.filter(|s| !s.is_empty()),
        );
        let mut out = Vec::new();
        let (mfr, model) = match self {
            Subdriver::Apc => {
                let (model, fw, aux) = apc::format_model(product);
                if let Some(aux) = aux {
                    out.push(("ups.firmware.aux".to_string(), aux));
                }
                if let Some(fw) = fw {
                    out.push(("ups.firmware".to_string(), fw));
                }
                (apc::format_mfr(mfr), Some(model))
            }
            Subdriver::Cps => (
                Some(mfr.unwrap_or("CPS").to_string()),
                product.map(String::from),
            ),
            // The small subdrivers: the USB strings, the maker's name when there is no
            // manufacturer string (Delta's model name from its report: `identity_with`).
            Subdriver::Arduino
            | Subdriver::DeltaUps
            | Subdriver::Ever
            | Subdriver::Idowell
            | Subdriver::Legrand
            | Subdriver::Openups
            | Subdriver::Powervar => (
                Some(mfr.unwrap_or(self.default_mfr()).to_string()),
                product.map(String::from),
            ),
            // `product` is the model as formatted ([`Subdriver::identity_with`]).
            Subdriver::Mge => (mge::format_mfr(mfr), product.map(String::from)),
            Subdriver::Belkin => (
                Some(belkin::format_mfr(mfr)),
                Some(belkin::format_model(product)),
            ),
            Subdriver::Powercom => (
                Some(mfr.unwrap_or("PowerCOM").to_string()),
                product.map(String::from),
            ),
            _ => (mfr.map(String::from), product.map(String::from)),
        };
        for (var, value) in [
            ("mfr", mfr),
            ("model", model),
            ("serial", serial.map(String::from)),
        ] {
            if let Some(v) = value {
                out.push((format!("ups.{var}"), v.clone()));
                out.push((format!("device.{var}"), v));
            }
        }
        out.push(("ups.vendorid".into(), format!("{vendor_id:04x}")));
        out.push(("ups.productid".into(), format!("{product_id:04x}")));
        out.push(("device.type".into(), "ups".into()));
        out
    }

    /// `ups.mfr` when the device has no manufacturer string (the small subdrivers).
    fn default_mfr(self) -> &'static str {
        match self {
            Subdriver::Arduino => "Arduino",
            Subdriver::DeltaUps => "Delta",
            Subdriver::Ever => "Ever",
            Subdriver::Idowell => "iDowell",
            Subdriver::Legrand => "Legrand",
            Subdriver::Openups => "openUPS",
            Subdriver::Powervar => "Powervar",
            _ => "",
        }
    }

    /// The USB interface whose HID report descriptor and reports NUT 2.8.0 uses for this
    /// subdriver's devices (`hid_rep_index`): 2 for Arduino, 1 for Powervar, else 0.
    pub fn hid_interface(self) -> u8 {
        match self {
            Subdriver::Arduino => arduino::USB_ENDPOINTS.2,
            Subdriver::Powervar => powervar::REPORT_DESC_INDEX,
            _ => 0,
        }
    }

    /// The interrupt endpoints (in, out) NUT 2.8.0 uses instead of the descriptor's: Arduino
    /// 4 and 5.
    pub fn interrupt_endpoints(self) -> Option<(u8, u8)> {
        match self {
            Subdriver::Arduino => Some((arduino::USB_ENDPOINTS.0, arduino::USB_ENDPOINTS.1)),
            _ => None,
        }
    }

    /// True when NUT 2.8.0 turns the interrupt pipe off for this device, as if `pollonly`
    /// were set (Legrand 1cb0:0038 and 1cb0:0032, matched by id), logging
    /// "interrupt pipe disabled (add 'pollonly' flag to 'ups.conf' to get rid of this
    /// message)" when `pollonly` is not set.
    pub fn poll_only(self, vendor_id: u16, product_id: u16) -> bool {
        self == Subdriver::Legrand
            && legrand::POLL_ONLY
            && select::devices(self).contains(&(vendor_id, product_id))
    }

    /// The HID paths [`Subdriver::identity_with`] reads: the shell files their reports
    /// ([`crate::engine::Engine::report_of`]) before calling it.
    pub fn identity_paths(self) -> &'static [&'static str] {
        match self {
            Subdriver::Mge => mge::IDENTITY_PATHS,
            Subdriver::DeltaUps => &[delta_ups::MODEL_PATH],
            _ => &[],
        }
    }

    /// [`Subdriver::identity`] for subdrivers whose model name also needs device data: mge
    /// completes iProduct with the iModel string or the nominal power read from the engine's
    /// filed reports (`UPS.PowerSummary.iModel`, `UPS.Flow.[4].ConfigApparentPower`; file
    /// them before calling) and sets the engine's model family, which later conversions use;
    /// Delta UPS uses the string whose index `UPS.DeltaCustom.[1].DeltaModelName` holds when
    /// it is non-empty. For the other subdrivers this is [`Subdriver::identity`].
    pub fn identity_with(
        self,
        engine: &mut crate::engine::Engine,
        vendor_id: u16,
        product_id: u16,
        mfr: Option<&str>,
        product: Option<&str>,
        serial: Option<&str>,
    ) -> Vec<(String, String)> {
        let model = match self {
            Subdriver::Mge => mge::format_model(vendor_id, product, engine),
            Subdriver::DeltaUps => engine
                .item_string(delta_ups::MODEL_PATH)
                .filter(|m| !m.is_empty())
                .or_else(|| product.map(String::from)),
            _ => product.map(String::from),
        };
        self.identity(vendor_id, product_id, mfr, model.as_deref(), serial)
    }

    /// Sets up the engine for this device: its conversion state ([`Engine::device_state_mut`]:
    /// CyberPower 0501's battery scale check, openUPS' unit factors of its product id, Tripp
    /// Lite's per-product scales) and PowerCOM 0001's interrupt-only reading.
    ///
    /// [`Engine::device_state_mut`]: crate::engine::Engine::device_state_mut
    pub fn prepare(self, vendor_id: u16, product_id: u16, engine: &mut crate::engine::Engine) {
        let state = engine.device_state_mut();
        match self {
            Subdriver::Cps if vendor_id == 0x0764 && product_id == 0x0501 => {
                state.cps_battery_scale = crate::mapping::CpsBatteryScale::Undecided;
            }
            Subdriver::Openups => {
                let matched = select::devices(self).contains(&(vendor_id, product_id));
                state.openups_scales = openups::scale_factors(if matched { product_id } else { 0 });
            }
            Subdriver::TrippLite => tripplite::prepare(vendor_id, product_id, state),
            Subdriver::Powercom
                if powercom::forced_interrupt_size(vendor_id, product_id).is_some() =>
            {
                engine.set_interrupt_only();
            }
            _ => {}
        }
    }

    /// Repairs known descriptor defects of this vendor's devices, as NUT 2.8.0 does after
    /// parsing. Returns true when something was changed.
    pub fn fix_report_desc(
        self,
        vendor_id: u16,
        product_id: u16,
        desc: &mut ReportDescriptor,
    ) -> bool {
        match self {
            Subdriver::Apc if vendor_id == 0x051d && product_id == 0x0002 => fix_apc(desc),
            Subdriver::Cps if vendor_id == 0x0764 && product_id == 0x0501 => fix_cps(desc),
            _ => false,
        }
    }
}

const HIGH_VOLTAGE_TRANSFER: Usage = 0x0084_0054;
const VOLTAGE: Usage = 0x0084_0030;
const CONFIG_VOLTAGE: Usage = 0x0084_0040;

/// The first field of a report id whose own usage is `usage`, any type.
fn by_id_usage(desc: &mut ReportDescriptor, report_id: u8, usage: Usage) -> Option<usize> {
    desc.fields
        .iter()
        .position(|f| f.report_id == report_id && f.usage() == usage)
}

/// APC Back-UPS (051d:0002) firmware declares input voltages with a logical maximum below the
/// high transfer point: widen Input.Voltage to 0..2×HVT and ConfigVoltage to ..255.
fn fix_apc(desc: &mut ReportDescriptor) -> bool {
    let Some(hvt) = by_id_usage(desc, 0x33, HIGH_VOLTAGE_TRANSFER) else {
        return false;
    };
    let hvt_max = desc.fields[hvt].logical_max;
    let mut changed = false;
    if let Some(v) = by_id_usage(desc, 0x31, VOLTAGE)
        && hvt_max > desc.fields[v].logical_max
    {
        desc.fields[v].logical_min = 0;
        desc.fields[v].logical_max = hvt_max.saturating_mul(2);
        changed = true;
    }
    if let Some(c) = by_id_usage(desc, 0x30, CONFIG_VOLTAGE)
        && hvt_max > desc.fields[c].logical_max
    {
        desc.fields[c].logical_max = 255;
        changed = true;
    }
    changed
}

/// CyberPower 0764:0501 declares Output.Voltage with the range of the high transfer point
/// (e.g. 136..142): when the two ranges are equal, Output.Voltage becomes 0..511. (NUT 2.8.0
/// announces the same fix for Input.Voltage but does not apply it; neither do we, so values
/// stay identical.)
fn fix_cps(desc: &mut ReportDescriptor) -> bool {
    let Some(hvt) = by_id_usage(desc, 16, HIGH_VOLTAGE_TRANSFER) else {
        return false;
    };
    let (min, max) = (desc.fields[hvt].logical_min, desc.fields[hvt].logical_max);
    let Some(out) = by_id_usage(desc, 18, VOLTAGE) else {
        return false;
    };
    if desc.fields[out].logical_min == min && desc.fields[out].logical_max == max {
        desc.fields[out].logical_min = 0;
        desc.fields[out].logical_max = 511;
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each subdriver's table as written in its source (a `const`).
    fn source(sub: Subdriver) -> &'static [HidInfo] {
        match sub {
            Subdriver::Apc => apc::TABLE,
            Subdriver::Arduino => arduino::TABLE,
            Subdriver::Belkin => belkin::TABLE,
            Subdriver::Cps => cps::TABLE,
            Subdriver::DeltaUps => delta_ups::TABLE,
            Subdriver::Ever => ever::TABLE,
            Subdriver::Explore => &[],
            Subdriver::Idowell => idowell::TABLE,
            Subdriver::Legrand => legrand::TABLE,
            Subdriver::Liebert => liebert::TABLE,
            Subdriver::Mge => mge::TABLE,
            Subdriver::Openups => openups::TABLE,
            Subdriver::Powercom => powercom::TABLE,
            Subdriver::Powervar => powervar::TABLE,
            Subdriver::Salicru => salicru::TABLE,
            Subdriver::TrippLite => tripplite::TABLE,
        }
    }

    /// The rows rebuilt from a pool are the rows written in the source, row for row (strings,
    /// flags, lookups and functions compared by value), and the table is built once.
    #[test]
    fn pooled_tables_equal_their_source() {
        for &sub in select::ORDER {
            let table = sub.table();
            assert_eq!(table, source(sub), "{sub:?}");
            assert!(std::ptr::eq(table, sub.table()), "{sub:?} built twice");
            assert_eq!(
                sub.is_ported(),
                sub == Subdriver::Explore || !table.is_empty()
            );
        }
        // Something to compare: every subdriver but explore has rows.
        assert_eq!(
            select::ORDER
                .iter()
                .filter(|s| !source(**s).is_empty())
                .count(),
            15
        );
    }
}
