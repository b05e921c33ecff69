//! NUT's USB device matching (drivers/usb-common.c): the `vendorid`, `productid`, `vendor`,
//! `product`, `serial`, `bus`, `device` and `busport` options are case-insensitive extended
//! regular expressions that must match the WHOLE value (leading and trailing blanks of the value
//! ignored); an option that is not set matches anything, a missing value is matched as "". IDs are
//! matched as four lower-case hex digits, bus, device and port as three decimal digits.
//!
//! After the first open, the device is found again by its exact identity (vendor and product ID,
//! and the vendor, product and serial strings), like NUT's "reopen matcher".

use regex_lite::{Regex, RegexBuilder};

use crate::DeviceIdentity;

/// The matching options of a `ups.conf` section, as given (regex sources).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchCriteria {
    pub vendorid: Option<String>,
    pub productid: Option<String>,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub serial: Option<String>,
    pub bus: Option<String>,
    pub device: Option<String>,
    pub busport: Option<String>,
}

impl MatchCriteria {
    /// The option names, in NUT's order.
    pub const NAMES: [&'static str; 8] = [
        "vendorid",
        "productid",
        "vendor",
        "product",
        "serial",
        "bus",
        "device",
        "busport",
    ];

    /// Set one option by its `ups.conf` name; false for a name that is not a matching option.
    pub fn set(&mut self, name: &str, value: &str) -> bool {
        let slot = match name {
            "vendorid" => &mut self.vendorid,
            "productid" => &mut self.productid,
            "vendor" => &mut self.vendor,
            "product" => &mut self.product,
            "serial" => &mut self.serial,
            "bus" => &mut self.bus,
            "device" => &mut self.device,
            "busport" => &mut self.busport,
            _ => return false,
        };
        *slot = Some(value.to_string());
        true
    }

    fn fields(&self) -> [(&'static str, &Option<String>); 8] {
        [
            ("vendorid", &self.vendorid),
            ("productid", &self.productid),
            ("vendor", &self.vendor),
            ("product", &self.product),
            ("serial", &self.serial),
            ("bus", &self.bus),
            ("device", &self.device),
            ("busport", &self.busport),
        ]
    }
}

/// An option whose value is not a valid regular expression (NUT: "Invalid regular expression").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid regular expression: {source_text} (option {option}: {message})")]
pub struct InvalidRegex {
    pub option: &'static str,
    pub source_text: String,
    pub message: String,
}

/// The compiled matching options.
#[derive(Debug, Clone)]
pub struct RegexMatcher {
    regexes: Vec<(&'static str, Regex)>,
}

impl RegexMatcher {
    pub fn new(criteria: &MatchCriteria) -> Result<RegexMatcher, InvalidRegex> {
        let mut regexes = Vec::new();
        for (option, src) in criteria.fields() {
            let Some(src) = src else { continue };
            // Anchored: a match must cover the whole value, as NUT checks after regexec().
            let re = RegexBuilder::new(&format!("^(?:{src})$"))
                .case_insensitive(true)
                .build()
                .map_err(|e| InvalidRegex {
                    option,
                    source_text: src.clone(),
                    message: e.to_string(),
                })?;
            regexes.push((option, re));
        }
        Ok(RegexMatcher { regexes })
    }

    /// The first option the device does not match, or `None` when it matches all of them.
    pub fn mismatch(&self, id: &DeviceIdentity) -> Option<&'static str> {
        for (option, re) in &self.regexes {
            let value = match *option {
                "vendorid" => format!("{:04x}", id.vendor_id),
                "productid" => format!("{:04x}", id.product_id),
                "vendor" => id.vendor.clone().unwrap_or_default(),
                "product" => id.product.clone().unwrap_or_default(),
                "serial" => id.serial.clone().unwrap_or_default(),
                "bus" => id.bus_string(),
                "device" => id.device_string(),
                _ => id.busport_string().unwrap_or_default(),
            };
            if !re.is_match(value.trim_matches([' ', '\t', '\n'])) {
                return Some(option);
            }
        }
        None
    }

    pub fn matches(&self, id: &DeviceIdentity) -> bool {
        self.mismatch(id).is_none()
    }
}

/// The exact identity of a device opened before: vendor/product IDs and strings (not the bus or
/// device number, which change when it re-enumerates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactMatcher {
    pub vendor_id: u16,
    pub product_id: u16,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub serial: Option<String>,
}

impl ExactMatcher {
    pub fn of(id: &DeviceIdentity) -> ExactMatcher {
        ExactMatcher {
            vendor_id: id.vendor_id,
            product_id: id.product_id,
            vendor: id.vendor.clone(),
            product: id.product.clone(),
            serial: id.serial.clone(),
        }
    }

    pub fn matches(&self, id: &DeviceIdentity) -> bool {
        self.vendor_id == id.vendor_id
            && self.product_id == id.product_id
            && self.vendor == id.vendor
            && self.product == id.product
            && self.serial == id.serial
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ups() -> DeviceIdentity {
        DeviceIdentity {
            vendor_id: 0x051d,
            product_id: 0x0002,
            bcd_device: 0x0106,
            vendor: Some("American Power Conversion".into()),
            product: Some(" Back-UPS XS 1400U  \t".into()),
            serial: Some("3B1234X56789".into()),
            bus: 1,
            device: 5,
            port: Some(2),
        }
    }

    fn crit(pairs: &[(&str, &str)]) -> RegexMatcher {
        let mut c = MatchCriteria::default();
        for (k, v) in pairs {
            assert!(c.set(k, v));
        }
        RegexMatcher::new(&c).unwrap()
    }

    #[test]
    fn no_options_match_everything() {
        assert!(crit(&[]).matches(&ups()));
        assert!(crit(&[]).matches(&DeviceIdentity::default()));
    }

    #[test]
    fn ids_are_lower_case_hex_and_case_insensitive() {
        assert!(crit(&[("vendorid", "051D"), ("productid", "0002")]).matches(&ups()));
        assert!(crit(&[("vendorid", "051[cd]")]).matches(&ups()));
        assert_eq!(
            crit(&[("vendorid", "51d")]).mismatch(&ups()),
            Some("vendorid")
        );
        assert_eq!(
            crit(&[("productid", "0003")]).mismatch(&ups()),
            Some("productid")
        );
    }

    #[test]
    fn strings_match_whole_trimmed_value_ignoring_case() {
        assert!(crit(&[("product", "back-ups xs 1400u")]).matches(&ups()));
        assert!(crit(&[("product", "Back-UPS.*")]).matches(&ups()));
        assert!(!crit(&[("product", "Back-UPS")]).matches(&ups()));
        assert!(!crit(&[("vendor", "American|APC")]).matches(&ups()));
        assert!(crit(&[("vendor", "American.*|APC")]).matches(&ups()));
        assert!(crit(&[("serial", "3B[0-9]{4}X[[:digit:]]+")]).matches(&ups()));
    }

    #[test]
    fn missing_strings_match_as_empty() {
        let mut id = ups();
        id.serial = None;
        assert!(crit(&[("serial", "")]).matches(&id));
        assert!(crit(&[("serial", ".*")]).matches(&id));
        assert!(!crit(&[("serial", ".+")]).matches(&id));
    }

    #[test]
    fn bus_device_and_port_are_three_digits() {
        assert!(crit(&[("bus", "001"), ("device", "005"), ("busport", "002")]).matches(&ups()));
        assert_eq!(crit(&[("bus", "1")]).mismatch(&ups()), Some("bus"));
        let mut id = ups();
        id.port = None;
        assert_eq!(crit(&[("busport", "002")]).mismatch(&id), Some("busport"));
    }

    #[test]
    fn invalid_regex_names_the_option() {
        let mut c = MatchCriteria::default();
        c.set("product", "Back-UPS(");
        let e = RegexMatcher::new(&c).unwrap_err();
        assert_eq!(e.option, "product");
        assert!(
            e.to_string()
                .starts_with("Invalid regular expression: Back-UPS(")
        );
        assert!(!c.set("port", "auto"));
    }

    #[test]
    fn exact_matcher_ignores_bus_and_device_number() {
        let first = ups();
        let m = ExactMatcher::of(&first);
        let mut again = first.clone();
        again.device = 9;
        again.bus = 3;
        assert!(m.matches(&again));
        again.serial = Some("other".into());
        assert!(!m.matches(&again));
        let mut other = first.clone();
        other.product_id = 3;
        assert!(!m.matches(&other));
    }
}
