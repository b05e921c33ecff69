//! Subdriver selection: for every fixture the subdriver Debian's usbhid-ups chose (the
//! `Using subdriver:` line recorded in debian-2.8.0/*.paths, with the options it needed), and
//! NUT 2.8.0's special cases.

use crate::common;
use common::{fixtures, read_spec};
use usbhid_ups::Subdriver;
use usbhid_ups::subdriver::select::{DeviceIds, SelectOptions, select};

#[test]
fn every_fixture_selects_debians_subdriver() {
    for entry in std::fs::read_dir(fixtures().join("debian-2.8.0")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "paths") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let command = text.lines().next().unwrap();
        let expected = text
            .lines()
            .find_map(|l| l.strip_prefix("# Using subdriver: "))
            .unwrap();
        // Recordings of the synthetic devices sit next to the real ones; their specs do not.
        let spec = if name.starts_with("synthetic_") {
            read_spec(&format!("synthetic/{name}"))
        } else {
            read_spec(&name)
        };
        let s = |i: u8| spec.strings.get(&i).map(String::as_str);
        let dev = DeviceIds {
            vendor_id: spec.vid,
            product_id: spec.pid,
            vendor: s(spec.imfr),
            product: s(spec.iproduct),
        };
        let opts = SelectOptions {
            explore: command.contains("-x explore"),
            productid_given: command.contains("-x productid="),
            subdriver: None,
        };
        let chosen = select(&dev, &opts)
            .unwrap()
            .subdriver
            .map(Subdriver::version);
        assert_eq!(chosen, Some(expected), "{name}");
        // Without the option it needed, Debian's driver would not claim it either.
        if opts.productid_given {
            let plain = SelectOptions {
                productid_given: false,
                ..opts.clone()
            };
            let sel = select(&dev, &plain).unwrap();
            assert_eq!(sel.subdriver, None, "{name}");
            // ...but names it as a possible match (e.g. "Liebert" for Phoenixtec/Liebert).
            assert!(
                sel.possibly.len() == 1 && expected.contains(sel.possibly[0]),
                "{name}: {:?} for {expected}",
                sel.possibly
            );
        }
    }
}

fn ids(vendor_id: u16, product_id: u16) -> DeviceIds<'static> {
    DeviceIds {
        vendor_id,
        product_id,
        vendor: None,
        product: None,
    }
}

#[test]
fn special_cases() {
    let none = SelectOptions::default();
    let pid = SelectOptions {
        productid_given: true,
        ..SelectOptions::default()
    };
    let pick = |d: &DeviceIds<'_>, o: &SelectOptions| select(d, o).unwrap().subdriver;
    // Phoenixtec 06da:ffff: MGE only with "AEG" in a string, else Liebert/Phoenixtec.
    assert_eq!(pick(&ids(0x06da, 0xffff), &none), Some(Subdriver::Liebert));
    let aeg = DeviceIds {
        product: Some("AEG PROTECT NAS"),
        ..ids(0x06da, 0xffff)
    };
    assert_eq!(pick(&aeg, &none), Some(Subdriver::Mge));
    // Never claimed, even with productid.
    assert_eq!(pick(&ids(0x050d, 0x0218), &pid), None);
    assert_eq!(pick(&ids(0x09ae, 0x0001), &pid), None);
    assert_eq!(pick(&ids(0x0d9f, 0x0002), &pid), None);
    // Unknown Eaton product: possibly supported, claimed with productid.
    let sel = select(&ids(0x0463, 0x1234), &none).unwrap();
    assert_eq!((sel.subdriver, sel.possibly), (None, vec!["Eaton / MGE"]));
    assert_eq!(pick(&ids(0x0463, 0x1234), &pid), Some(Subdriver::Mge));
    // HP: MGE and Tripp Lite stay silent without productid; MGE (earlier) wins with it.
    assert_eq!(
        select(&ids(0x03f0, 0x9999), &none).unwrap().possibly,
        Vec::<&str>::new()
    );
    assert_eq!(pick(&ids(0x03f0, 0x9999), &pid), Some(Subdriver::Mge));
    assert_eq!(
        pick(&ids(0x03f0, 0x1f06), &none),
        Some(Subdriver::TrippLite)
    );
    // explore claims anything.
    let explore = SelectOptions {
        explore: true,
        ..SelectOptions::default()
    };
    assert_eq!(
        pick(&ids(0x051d, 0x0002), &explore),
        Some(Subdriver::Explore)
    );
    assert_eq!(pick(&ids(0x1234, 0x5678), &none), None);
}

#[test]
fn subdriver_option_forces_one() {
    let force = |name: &str| SelectOptions {
        subdriver: Some(name.into()),
        ..SelectOptions::default()
    };
    let dev = ids(0x1234, 0x5678);
    assert_eq!(
        select(&dev, &force("cps")).unwrap().subdriver,
        Some(Subdriver::Cps)
    );
    assert_eq!(
        select(&dev, &force("CyberPower")).unwrap().subdriver,
        Some(Subdriver::Cps)
    );
    assert_eq!(
        select(&dev, &force("MGE HID")).unwrap().subdriver,
        Some(Subdriver::Mge)
    );
    assert_eq!(
        select(&dev, &force("phoenixtec")).unwrap().subdriver,
        Some(Subdriver::Liebert)
    );
    let err = select(&dev, &force("nonesuch")).unwrap_err();
    assert!(err.to_string().contains("APC HID 0.98"), "{err}");
    assert!(select(&dev, &force("")).is_err());
}
