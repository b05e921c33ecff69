//! The udev rules the package ships (`udev/62-nut-usbups.rules`, installed as
//! `/usr/lib/udev/rules.d/62-nut-usbups.rules`, the name of Debian nut-server's file): every
//! USB VID:PID one of our USB drivers matches is handed to the `nut` group, so the drivers,
//! which run as user `nut`, can open the device.
//!
//! The list is generated from the drivers' own tables (usbhid-ups' subdriver tables, the USB
//! tables of nutdrv_qx and blazer_usb), so a table change cannot leave a device out: the
//! package's test `udev` compares the shipped file with [`rules`] (`UPDATE_UDEV_RULES=1 cargo
//! test -p nut-rs-deb udev` rewrites it). The file spans several driver families, as
//! Debian's does, so it is assembled here, where the package is, and not in one driver's
//! crate; each family's crate only publishes its table.

use std::collections::BTreeMap;

use nutdrv_qx::usb::{BLAZER_USB_IDS, QX_USB_IDS, UsbId};

/// One driver matching one USB device id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub vid: u16,
    pub pid: u16,
    /// The program name (`usbhid-ups`, `nutdrv_qx`, `blazer_usb`).
    pub driver: &'static str,
    /// What the driver's table says the id is (a subdriver or device models).
    pub device: String,
}

/// Every VID:PID our USB drivers match, per driver.
pub fn claims() -> Vec<Claim> {
    let mut out: Vec<Claim> = usbhid_ups::subdriver::select::all_devices()
        .into_iter()
        .map(|(vid, pid, sub)| Claim {
            vid,
            pid,
            driver: "usbhid-ups",
            device: sub.version().to_owned(),
        })
        .collect();
    let qx = |driver: &'static str, ids: &'static [UsbId]| {
        ids.iter().map(move |id| Claim {
            vid: id.vid,
            pid: id.pid,
            driver,
            device: id.comment.to_owned(),
        })
    };
    out.extend(qx("nutdrv_qx", QX_USB_IDS));
    out.extend(qx("blazer_usb", BLAZER_USB_IDS));
    out
}

/// The rules file for `claims`, in the form of Debian's 62-nut-usbups.rules: one
/// `ATTR{idVendor}…, MODE="664", GROUP="nut"` line per VID:PID, ascending, under one
/// `#  <devices>  - <driver>` comment line per driver that matches it (the devices a driver's
/// table names for the id, each once, joined by ` / `).
pub fn rules(claims: &[Claim]) -> String {
    /// Per driver that matches an id, in table order: the devices it names for the id.
    type Drivers<'a> = Vec<(&'a str, Vec<&'a str>)>;
    let mut ids: BTreeMap<(u16, u16), Drivers> = BTreeMap::new();
    for c in claims {
        let drivers = ids.entry((c.vid, c.pid)).or_default();
        let at = match drivers.iter().position(|(d, _)| *d == c.driver) {
            Some(at) => at,
            None => {
                drivers.push((c.driver, Vec::new()));
                drivers.len() - 1
            }
        };
        let devices = &mut drivers[at].1;
        if !devices.contains(&c.device.as_str()) {
            devices.push(&c.device);
        }
    }
    let mut out = String::from(
        "# Generated from the USB tables of usbhid-ups, nutdrv_qx and blazer_usb\n\
         # (packaging/src/udev.rs); gives the nut group the USB UPSes these drivers support.\n\n\
         ACTION==\"remove\", GOTO=\"nut-usbups_rules_end\"\n\
         SUBSYSTEM==\"usb_device\", GOTO=\"nut-usbups_rules_real\"\n\
         SUBSYSTEM==\"usb\", GOTO=\"nut-usbups_rules_real\"\n\
         GOTO=\"nut-usbups_rules_end\"\n\n\
         LABEL=\"nut-usbups_rules_real\"\n",
    );
    for ((vid, pid), drivers) in ids {
        for (driver, devices) in drivers {
            out.push_str(&format!("#  {}  - {driver}\n", devices.join(" / ")));
        }
        out.push_str(&format!(
            "ATTR{{idVendor}}==\"{vid:04x}\", ATTR{{idProduct}}==\"{pid:04x}\", MODE=\"664\", GROUP=\"nut\"\n"
        ));
    }
    out.push_str("\nLABEL=\"nut-usbups_rules_end\"\n");
    out
}

/// The rules the package ships: [`rules`] of every [`claims`].
pub fn shipped_rules() -> String {
    rules(&claims())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(vid: u16, pid: u16, driver: &'static str, device: &str) -> Claim {
        Claim {
            vid,
            pid,
            driver,
            device: device.to_owned(),
        }
    }

    #[test]
    fn one_line_per_id_with_every_driver_in_its_comment() {
        let text = rules(&[
            claim(0x06da, 0x0002, "nutdrv_qx", "Masterguard"),
            claim(0x0001, 0x0000, "nutdrv_qx", "Krauler"),
            claim(0x06da, 0x0002, "nutdrv_qx", "Yunto"),
            claim(0x06da, 0x0002, "blazer_usb", "Yunto"),
            claim(0x06da, 0x0002, "nutdrv_qx", "Yunto"),
        ]);
        let body = text
            .split_once("LABEL=\"nut-usbups_rules_real\"\n")
            .unwrap()
            .1;
        assert_eq!(
            body,
            "#  Krauler  - nutdrv_qx\n\
             ATTR{idVendor}==\"0001\", ATTR{idProduct}==\"0000\", MODE=\"664\", GROUP=\"nut\"\n\
             #  Masterguard / Yunto  - nutdrv_qx\n\
             #  Yunto  - blazer_usb\n\
             ATTR{idVendor}==\"06da\", ATTR{idProduct}==\"0002\", MODE=\"664\", GROUP=\"nut\"\n\
             \n\
             LABEL=\"nut-usbups_rules_end\"\n"
        );
    }
}
