//! The `-4` / `-6` address-family restriction shared by upsd and upsmon.

use std::net::IpAddr;

/// Only IPv4 (`-4`) or only IPv6 (`-6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl Family {
    /// Whether `ip` belongs to this family.
    pub fn admits(self, ip: &IpAddr) -> bool {
        match self {
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_family_admits_only_its_addresses() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let v6: IpAddr = "::1".parse().unwrap();
        assert!(Family::V4.admits(&v4) && !Family::V4.admits(&v6));
        assert!(Family::V6.admits(&v6) && !Family::V6.admits(&v4));
    }
}
