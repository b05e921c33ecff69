//! Parser and codec rules on hand-made descriptors, and robustness on arbitrary input.

use proptest::prelude::*;
use usbhid_ups::report::{format_g, logical_for_set, logical_value, physical_value, write_bits};
use usbhid_ups::usage::{path_to_string, string_to_path};
use usbhid_ups::{ParseWarning, ReportDescriptor, ReportType, Subdriver};

/// UPS collection, PowerSummary, report 1 with one 16-bit feature field of the given usage
/// (page 0x85), logical range bytes as given.
fn one_field(extra: &[u8], usage: u8) -> Vec<u8> {
    let mut d = vec![
        0x05, 0x84, 0x09, 0x04, 0xa1, 0x01, 0x09, 0x24, 0xa1, 0x00, 0x85, 0x01,
    ];
    d.extend_from_slice(extra);
    d.extend_from_slice(&[
        0x75, 0x10, 0x95, 0x01, 0x05, 0x85, 0x09, usage, 0xb1, 0x02, 0xc0, 0xc0,
    ]);
    d
}

#[test]
fn path_names_and_signed_values() {
    // LogMin -32768, LogMax 32767: signed 16-bit.
    let d =
        ReportDescriptor::parse(&one_field(&[0x16, 0x00, 0x80, 0x26, 0xff, 0x7f], 0x68)).unwrap();
    let f = &d.fields[0];
    assert_eq!(
        path_to_string(&f.path, &[]),
        "UPS.PowerSummary.RunTimeToEmpty"
    );
    assert_eq!(
        (f.report_id, f.kind, f.offset, f.size),
        (1, ReportType::Feature, 0, 16)
    );
    assert_eq!(logical_value(&[1, 0xfe, 0xff], f), -2);
    assert_eq!(logical_value(&[1, 0x10, 0x0e], f), 3600);
    assert_eq!(d.buffer_len(1), 3);
}

#[test]
fn logmax_below_logmin_is_read_unsigned() {
    // LogMin 0, LogMax encoded as 1 byte 0xff (-1 signed): NUT re-reads it as 255.
    let d = ReportDescriptor::parse(&one_field(&[0x15, 0x00, 0x25, 0xff], 0x66)).unwrap();
    assert_eq!(d.fields[0].logical_max, 255);
    assert!(matches!(
        d.warnings[0],
        ParseWarning::LogMaxBelowLogMin { unsigned: 255, .. }
    ));
    assert_eq!(logical_value(&[1, 200, 0], &d.fields[0]), 200);
}

#[test]
fn garbage_high_bits_are_dropped_and_values_clamped() {
    // Range 0..100 in a 16-bit field: the sign-free width is 7 bits.
    let d = ReportDescriptor::parse(&one_field(&[0x15, 0x00, 0x25, 0x64], 0x66)).unwrap();
    let f = &d.fields[0];
    assert_eq!(logical_value(&[1, 0x32, 0xff], f), 50);
    assert_eq!(logical_value(&[1, 0x7f, 0x00], f), 100);
}

#[test]
fn unit_exponent_nibble_and_si_correction() {
    // Volts (0x00f0d121) with exponent 7 → ×1; with exponent 5 → ×0.01.
    let volts = [
        0x67, 0x21, 0xd1, 0xf0, 0x00, 0x55, 0x05, 0x15, 0x00, 0x27, 0xff, 0xff, 0x00, 0x00,
    ];
    let d = ReportDescriptor::parse(&one_field(&volts, 0x30)).unwrap();
    assert_eq!(
        format_g(physical_value(&[1, 0x60, 0x09], &d.fields[0])),
        "24"
    );
    // Exponent nibble 0x0e means -2.
    let d = ReportDescriptor::parse(&one_field(
        &[0x55, 0x0e, 0x15, 0x00, 0x27, 0xff, 0xff, 0, 0],
        0x66,
    ))
    .unwrap();
    assert_eq!(d.fields[0].unit_exp, -2);
    assert_eq!(
        format_g(physical_value(&[1, 0x39, 0x30], &d.fields[0])),
        "123.45"
    );
    assert_eq!(logical_for_set(&d.fields[0], 123.45), 12344); // truncation, as NUT's C cast
}

#[test]
fn physical_range_maps_and_clamps() {
    let extra = [0x15, 0x00, 0x26, 0xff, 0x00, 0x35, 0x00, 0x45, 0x64];
    let d = ReportDescriptor::parse(&one_field(&extra, 0x66)).unwrap();
    assert_eq!(format_g(physical_value(&[1, 255, 0], &d.fields[0])), "100");
    assert_eq!(format_g(physical_value(&[1, 51, 0], &d.fields[0])), "20");
}

#[test]
fn write_bits_round_trips_and_keeps_neighbours() {
    let d =
        ReportDescriptor::parse(&one_field(&[0x16, 0x00, 0x80, 0x26, 0xff, 0x7f], 0x68)).unwrap();
    let mut buf = [1u8, 0, 0];
    write_bits(&mut buf, &d.fields[0], -60);
    assert_eq!(buf, [1, 0xc4, 0xff]);
    assert_eq!(logical_value(&buf, &d.fields[0]), -60);
}

#[test]
fn continuation_fields_take_space_but_are_not_objects() {
    // Two usages, report count 3 of 8 bits: third field is a continuation.
    let d = ReportDescriptor::parse(&[
        0x05, 0x84, 0x09, 0x04, 0xa1, 0x01, 0x85, 0x02, 0x75, 0x08, 0x95, 0x03, 0x09, 0x30, 0x09,
        0x31, 0x81, 0x02, 0x09, 0x32, 0x95, 0x01, 0x81, 0x02, 0xc0,
    ])
    .unwrap();
    let places: Vec<_> = d
        .fields
        .iter()
        .map(|f| (path_to_string(&f.path, &[]), f.offset))
        .collect();
    assert_eq!(
        places,
        [
            ("UPS.Voltage".into(), 0),
            ("UPS.Current".into(), 8),
            ("UPS.Frequency".into(), 24)
        ]
    );
    assert_eq!(d.buffer_len(2), 5);
}

#[test]
fn vendor_collections_get_index_nodes_and_hex_names() {
    // Collection type 0x81 (vendor) pushes [1]; usage ff86:0024 unknown to the standard pages.
    let d = ReportDescriptor::parse(&[
        0x05, 0x84, 0x09, 0x04, 0xa1, 0x01, 0x09, 0x20, 0xa1, 0x81, 0x85, 0x03, 0x75, 0x08, 0x95,
        0x01, 0x06, 0x86, 0xff, 0x09, 0x24, 0xb1, 0x02, 0xc0, 0x05, 0x84, 0x09, 0x30, 0xb1, 0x02,
        0xc0,
    ])
    .unwrap();
    let names: Vec<_> = d
        .fields
        .iter()
        .map(|f| path_to_string(&f.path, &[]))
        .collect();
    assert_eq!(names, ["UPS.Outlet.[1].ff860024", "UPS.Voltage"]);
    assert_eq!(
        string_to_path("UPS.Outlet.[1].ff860024", &[]).unwrap(),
        d.fields[0].path
    );
    // The APC subdriver names its page.
    let apc = string_to_path(
        "UPS.APCGeneralCollection.APCPanelTest",
        Subdriver::Apc.usages(),
    )
    .unwrap();
    assert_eq!(apc, [0x0084_0004, 0xff86_0005, 0xff86_0072]);
    assert!(string_to_path("UPS.NoSuchName", &[]).is_none());
}

#[test]
fn long_items_are_skipped_and_truncation_is_reported() {
    let mut d = one_field(&[0xfe, 0x02, 0x10, 0xaa, 0xbb], 0x66);
    let parsed = ReportDescriptor::parse(&d).unwrap();
    assert_eq!(parsed.fields.len(), 1);
    d.push(0x26); // Logical Maximum with its two bytes missing
    let parsed = ReportDescriptor::parse(&d).unwrap();
    assert!(
        parsed
            .warnings
            .iter()
            .any(|w| matches!(w, ParseWarning::Truncated { .. }))
    );
}

#[test]
fn format_g_matches_c() {
    for (v, s) in [
        (0.0, "0"),
        (230.0, "230"),
        (27.2, "27.2"),
        (0.001214, "0.001214"),
        (1e-5, "1e-05"),
        (1234567.0, "1.23457e+06"),
        (-60.0, "-60"),
        (123456.0, "123456"),
        (0.5, "0.5"),
    ] {
        assert_eq!(format_g(v), s, "{v}");
    }
}

proptest! {
    #[test]
    fn arbitrary_descriptors_and_reports_never_panic(
        desc in proptest::collection::vec(any::<u8>(), 0..2048),
        report in proptest::collection::vec(any::<u8>(), 0..80),
        set in any::<f64>(),
    ) {
        if let Ok(d) = ReportDescriptor::parse(&desc) {
            prop_assert!(!d.fields.is_empty());
            for f in &d.fields {
                let _ = path_to_string(&f.path, Subdriver::Mge.usages());
                let _ = physical_value(&report, f);
                let l = logical_value(&report, f);
                prop_assert!(l >= f.logical_min.min(f.logical_max) || l == f.logical_min);
                let mut buf = report.clone();
                write_bits(&mut buf, f, logical_for_set(f, set));
            }
        }
    }

    #[test]
    fn structured_descriptors_never_panic(items in proptest::collection::vec(
        (prop_oneof![Just(0x04u8), Just(0x08), Just(0x14), Just(0x24), Just(0x34), Just(0x44), Just(0x54),
            Just(0x64), Just(0x74), Just(0x84), Just(0x94), Just(0xa0), Just(0xc0), Just(0x80), Just(0x90),
            Just(0xb0), Just(0xfc)], 0u8..4, any::<u32>()), 0..300),
        report in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut desc = Vec::new();
        for (tag, size, value) in items {
            desc.push(tag | size);
            let n = [0usize, 1, 2, 4][usize::from(size)];
            desc.extend_from_slice(&value.to_le_bytes()[..n]);
        }
        if let Ok(d) = ReportDescriptor::parse(&desc) {
            for f in &d.fields {
                prop_assert!(f.path.len() <= usbhid_ups::descriptor::PATH_SIZE);
                let _ = format_g(physical_value(&report, f));
            }
        }
    }
}

#[test]
fn values_below_logical_minimum_clamp_to_it() {
    // LogMin -1: the sign-free width is 15 bits, -2 is below the range.
    let d = ReportDescriptor::parse(&one_field(&[0x15, 0xff, 0x26, 0xff, 0x7f], 0x68)).unwrap();
    assert_eq!(logical_value(&[1, 0xfe, 0xff], &d.fields[0]), -1);
}

proptest! {
    #[test]
    fn fuzz_entry_points_never_panic(data in proptest::collection::vec(any::<u8>(), 0..1500)) {
        usbhid_ups::fuzzing::descriptor(&data);
        usbhid_ups::fuzzing::reports(&data);
        usbhid_ups::fuzzing::engine(&data);
    }

    #[test]
    fn engine_on_a_real_descriptor_never_panics(reports in proptest::collection::vec(any::<u8>(), 0..600)) {
        // A real APC descriptor (so rows bind) with arbitrary report bytes.
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../tests/fixtures/hid/apc_back-ups-xs-1400u.spec")).unwrap();
        let desc: Vec<u8> = text.lines().filter_map(|l| l.strip_prefix("desc ")).flat_map(|l| l.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap())).collect();
        let mut data = (desc.len() as u16).to_le_bytes().to_vec();
        data.extend(&desc);
        data.extend(reports);
        prop_assert_eq!(usbhid_ups::fuzzing::split(&data).0, &desc[..]);
        usbhid_ups::fuzzing::engine(&data);
    }
}
