//! `-x record=<file>`: writes a device spec (the test rig's format, which `port =
//! "replay:<file>"` and the rig's libusb stand-in read) of the UPS the driver talks to: the
//! device descriptor's identity, its strings, the report descriptor, the first answer to every
//! report read, and every interrupt report as an `intr` line. The file is rewritten (through a
//! temporary file and a rename, so a reader never sees half of it) whenever something new was
//! seen, so it is complete while the driver runs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use nut_usb::DeviceIdentity;

/// What a spec records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recording {
    pub vendor_id: u16,
    pub product_id: u16,
    pub bcd_device: u16,
    pub bus: u8,
    pub device: u8,
    pub port: Option<u8>,
    pub interface: u8,
    pub langid: Option<u16>,
    pub imanufacturer: u8,
    pub iproduct: u8,
    pub iserial: u8,
    pub strings: BTreeMap<u8, String>,
    pub report_descriptor: Vec<u8>,
    /// Feature reports by id: the first answer (report id first).
    pub features: BTreeMap<u8, Vec<u8>>,
    pub interrupts: Vec<Vec<u8>>,
}

/// Upper bound on recorded interrupt reports (the replay keeps at most 4096 as well).
const MAX_INTERRUPTS: usize = 4096;

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl Recording {
    /// The identity part, from what the finder read and the raw device descriptor.
    pub fn new(
        identity: &DeviceIdentity,
        device_descriptor: Option<&[u8]>,
        interface: u8,
        report_descriptor: &[u8],
    ) -> Recording {
        let mut r = Recording {
            vendor_id: identity.vendor_id,
            product_id: identity.product_id,
            bcd_device: identity.bcd_device,
            bus: identity.bus,
            device: identity.device,
            port: identity.port,
            interface,
            report_descriptor: report_descriptor.to_vec(),
            ..Recording::default()
        };
        if let Some(d) = device_descriptor.filter(|d| d.len() >= 18) {
            r.bcd_device = u16::from_le_bytes([d[12], d[13]]);
            r.imanufacturer = d[14];
            r.iproduct = d[15];
            r.iserial = d[16];
            for (index, text) in [
                (r.imanufacturer, &identity.vendor),
                (r.iproduct, &identity.product),
                (r.iserial, &identity.serial),
            ] {
                if let (true, Some(t)) = (index != 0, text) {
                    r.strings.insert(index, t.clone());
                }
            }
        }
        r
    }

    /// Notes a report read; true when it is new.
    pub fn feature(&mut self, bytes: &[u8]) -> bool {
        match bytes.first() {
            Some(&id) if !self.features.contains_key(&id) => {
                self.features.insert(id, bytes.to_vec());
                true
            }
            _ => false,
        }
    }

    /// Notes a string read; true when it is new.
    pub fn string(&mut self, index: u8, text: &str) -> bool {
        if index == 0 || self.strings.contains_key(&index) {
            return false;
        }
        self.strings.insert(index, text.to_string());
        true
    }

    /// Notes an interrupt report; true when it was kept.
    pub fn interrupt(&mut self, bytes: &[u8]) -> bool {
        if bytes.is_empty() || self.interrupts.len() >= MAX_INTERRUPTS {
            return false;
        }
        self.interrupts.push(bytes.to_vec());
        true
    }

    /// The spec text. Strings are written as read (ASCII; a line break in one would end the
    /// directive, so it becomes a blank).
    pub fn to_spec(&self, header: &str) -> String {
        let mut s = String::new();
        for line in header.lines() {
            let _ = writeln!(s, "# {line}");
        }
        let _ = writeln!(s, "vid {:04x}", self.vendor_id);
        let _ = writeln!(s, "pid {:04x}", self.product_id);
        let _ = writeln!(s, "bcd {:04x}", self.bcd_device);
        let _ = writeln!(s, "bus {}", self.bus);
        let _ = writeln!(s, "devnum {}", self.device);
        if let Some(p) = self.port {
            let _ = writeln!(s, "port {p}");
        }
        let _ = writeln!(s, "iface {}", self.interface);
        if let Some(l) = self.langid {
            let _ = writeln!(s, "langid {l:04x}");
        }
        for (word, index) in [
            ("imanufacturer", self.imanufacturer),
            ("iproduct", self.iproduct),
            ("iserial", self.iserial),
        ] {
            if index != 0 {
                let _ = writeln!(s, "{word} {index}");
            }
        }
        for (index, text) in &self.strings {
            let clean: String = text
                .chars()
                .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
                .collect();
            let _ = writeln!(s, "string {index} {clean}");
        }
        for chunk in self.report_descriptor.chunks(16) {
            let _ = writeln!(s, "desc {}", hex(chunk));
        }
        for (id, bytes) in &self.features {
            let _ = writeln!(s, "feature {id:02x} {}", hex(bytes));
        }
        for bytes in &self.interrupts {
            let _ = writeln!(s, "intr {}", hex(bytes));
        }
        s
    }
}

/// A recording and the file it goes to.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    pub recording: Recording,
    dirty: bool,
    warned: bool,
}

impl Recorder {
    pub fn new(path: &Path, recording: Recording) -> Recorder {
        Recorder {
            path: path.to_path_buf(),
            recording,
            dirty: true,
            warned: false,
        }
    }

    /// Marks that something new was recorded.
    pub fn touch(&mut self, changed: bool) {
        self.dirty |= changed;
    }

    /// Writes the file if something changed. A failure is logged once and does not stop the
    /// driver (the recording is an aid, the UPS is what matters).
    pub fn save(&mut self) {
        if !self.dirty {
            return;
        }
        let header = format!(
            "usbhid-ups device spec recorded by nut-rs usbhid-ups {} (-x record)\n\
             replay it with: port = \"replay:<this file>\"",
            env!("CARGO_PKG_VERSION")
        );
        let text = self.recording.to_spec(&header);
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let res = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &self.path));
        match res {
            Ok(()) => {
                self.dirty = false;
                self.warned = false;
            }
            Err(e) if !self.warned => {
                self.warned = true;
                nut_driver::warning!("record: cannot write {}: {e}", self.path.display());
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_text_parses_back_to_the_same_device() {
        let id = DeviceIdentity {
            vendor_id: 0x051d,
            product_id: 0x0002,
            bcd_device: 0x0106,
            vendor: Some("APC".into()),
            product: Some("Back-UPS\nXS".into()),
            serial: None,
            bus: 3,
            device: 7,
            port: Some(2),
        };
        let mut dd = vec![0u8; 18];
        dd[12] = 0x06;
        dd[13] = 0x01;
        dd[14] = 3;
        dd[15] = 1;
        let mut r = Recording::new(&id, Some(&dd), 0, &[0x05, 0x84, 0x09, 0x04]);
        assert!(r.feature(&[0x0c, 0x64]));
        assert!(!r.feature(&[0x0c, 0x00]), "the first answer is kept");
        assert!(r.string(5, "PbAc"));
        assert!(r.interrupt(&[0x16, 0x08]));
        let text = r.to_spec("a\nb");
        let d = nut_usb::spec::parse(&text).expect("our spec parses");
        use nut_usb::spec::Directive as D;
        for want in [
            D::Vid(0x051d),
            D::Pid(0x0002),
            D::Bcd(0x0106),
            D::Bus(3),
            D::Devnum(7),
            D::Port(2),
            D::IManufacturer(3),
            D::IProduct(1),
            D::String {
                index: 1,
                text: "Back-UPS XS".into(),
            },
            D::String {
                index: 5,
                text: "PbAc".into(),
            },
            D::Desc(vec![0x05, 0x84, 0x09, 0x04]),
            D::Feature {
                id: 0x0c,
                bytes: vec![0x0c, 0x64],
            },
            D::Intr(vec![0x16, 0x08]),
        ] {
            assert!(d.contains(&want), "{want:?} missing in\n{text}");
        }
        assert!(!d.iter().any(|x| matches!(x, D::ISerial(_))));
    }
}
