//! Reading the fixtures' device specs (the rig's format; only what these tests need).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/hid")
}

#[derive(Default)]
pub struct Spec {
    pub vid: u16,
    pub pid: u16,
    pub desc: Vec<u8>,
    /// Feature reports by id, in file order.
    pub feature: BTreeMap<u8, Vec<u8>>,
    pub unknown_zero: bool,
    pub strings: HashMap<u8, String>,
    pub imfr: u8,
    pub iproduct: u8,
    pub iserial: u8,
}

pub fn hex_bytes(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).expect("hex byte"))
        .collect()
}

pub fn read_spec(name: &str) -> Spec {
    read_spec_file(&fixtures().join(format!("{name}.spec")))
}

/// A spec file anywhere (e.g. the synthetic specs of tests/mge_synthetic).
pub fn read_spec_file(path: &std::path::Path) -> Spec {
    let text = std::fs::read_to_string(path).expect("spec");
    let mut spec = Spec::default();
    for line in text.lines() {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match word {
            "vid" => spec.vid = u16::from_str_radix(rest.trim(), 16).unwrap(),
            "pid" => spec.pid = u16::from_str_radix(rest.trim(), 16).unwrap(),
            "desc" => spec.desc.extend(hex_bytes(rest)),
            "feature" => {
                let (id, bytes) = rest.split_once(' ').unwrap();
                spec.feature
                    .insert(u8::from_str_radix(id, 16).unwrap(), hex_bytes(bytes));
            }
            "unknown" => spec.unknown_zero = rest.trim() == "zero",
            "imanufacturer" => spec.imfr = rest.trim().parse().unwrap(),
            "iproduct" => spec.iproduct = rest.trim().parse().unwrap(),
            "iserial" => spec.iserial = rest.trim().parse().unwrap(),
            "string" => {
                let (i, t) = rest.split_once(' ').unwrap();
                spec.strings.insert(i.parse().unwrap(), t.to_string());
            }
            _ => {}
        }
    }
    spec
}

/// An engine for a fixture with a subdriver: descriptor parsed and fixed, quirks applied, the
/// spec's feature reports filed (not yet initialised).
pub fn engine(name: &str, sub: usbhid_ups::Subdriver) -> (Spec, usbhid_ups::engine::Engine) {
    engine_for(read_spec(name), sub)
}

/// [`engine`] for a spec already read.
pub fn engine_for(spec: Spec, sub: usbhid_ups::Subdriver) -> (Spec, usbhid_ups::engine::Engine) {
    let mut desc = usbhid_ups::ReportDescriptor::parse(&spec.desc).expect("descriptor parses");
    sub.fix_report_desc(spec.vid, spec.pid, &mut desc);
    let mut engine = usbhid_ups::engine::Engine::new(
        desc,
        sub.table(),
        sub.usages(),
        usbhid_ups::engine::EngineOptions::default(),
    );
    sub.prepare(spec.vid, spec.pid, &mut engine);
    for report in spec.feature.values() {
        engine.file_report(report);
    }
    (spec, engine)
}
