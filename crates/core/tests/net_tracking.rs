//! Tracking ids and tracking results.

use std::collections::HashSet;

use nut_core::net::{ErrCode, TrackingId, TrackingStatus};
use proptest::prelude::*;

#[test]
fn ids_have_upsds_shape() {
    let zero = TrackingId::new_v4([0; 16]);
    assert_eq!(zero.as_str(), "00000000-0000-4000-8000-000000000000");
    let ones = TrackingId::new_v4([0xff; 16]);
    assert_eq!(ones.as_str(), "FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF");
    let bytes = [
        0xf4, 0xf7, 0x8a, 0x1f, 0xd5, 0x9b, 0x4f, 0x21, 0x82, 0xc6, 0x97, 0x29, 0x87, 0x1f, 0xa9,
        0xdc,
    ];
    assert_eq!(
        TrackingId::new_v4(bytes).to_string(),
        "F4F78A1F-D59B-4F21-82C6-9729871FA9DC"
    );
    assert!(zero.is_well_formed());
    assert!(TrackingId::from_wire("f4f78a1f-d59b-4f21-82c6-9729871fa9dc").is_well_formed());
    for bad in [
        "",
        "abc",
        "F4F78A1F-D59B-4F21-82C6-9729871FA9D",
        "F4F78A1FD-59B-4F21-82C6-9729871FA9DC",
        "G4F78A1F-D59B-4F21-82C6-9729871FA9DC",
    ] {
        assert!(!TrackingId::from_wire(bad).is_well_formed(), "{bad:?}");
    }
}

#[test]
fn ids_compare_and_hash_ignoring_case() {
    let upper = TrackingId::from_wire("EC36A221-9C2E-4F36-8A18-C6711BC5C571");
    let lower = TrackingId::from_wire("ec36a221-9c2e-4f36-8a18-c6711bc5c571");
    assert_eq!(upper, lower);
    assert_eq!(
        lower.as_str(),
        "ec36a221-9c2e-4f36-8a18-c6711bc5c571",
        "kept verbatim"
    );
    let set: HashSet<TrackingId> = [upper.clone()].into_iter().collect();
    assert!(set.contains(&lower));
    assert_ne!(upper, TrackingId::from_wire("EC36A221"));
}

#[test]
fn driver_results_map_like_upsd() {
    use TrackingStatus::{Error, Success};
    let cases = [
        (0, Success),
        (1, Error(ErrCode::Unknown)),
        (2, Error(ErrCode::InvalidArgument)),
        (3, Error(ErrCode::Failed)),
        (4, Error(ErrCode::InvalidArgument)),
        (5, Error(ErrCode::Unknown)),
        (-1, Error(ErrCode::Unknown)),
    ];
    for (code, status) in cases {
        assert_eq!(TrackingStatus::from_driver_result(code), status, "{code}");
    }
    assert_eq!(TrackingStatus::unknown_id(), Error(ErrCode::Unknown));
}

#[test]
fn statuses_render_and_parse() {
    let cases = [
        (TrackingStatus::Pending, "PENDING\n"),
        (TrackingStatus::Success, "SUCCESS\n"),
        (TrackingStatus::Error(ErrCode::Unknown), "ERR UNKNOWN\n"),
        (
            TrackingStatus::Error(ErrCode::InvalidArgument),
            "ERR INVALID-ARGUMENT\n",
        ),
        (TrackingStatus::Error(ErrCode::Failed), "ERR FAILED\n"),
    ];
    for (status, line) in cases {
        let mut out = String::new();
        status.write_line(&mut out);
        assert_eq!(out, line);
        assert_eq!(format!("{status}\n"), line);
        let words = nut_core::token::split_line(line.trim_end()).unwrap();
        assert_eq!(TrackingStatus::from_words(&words), Some(status.clone()));
        assert_eq!(status.is_final(), status != TrackingStatus::Pending);
    }
    for junk in [&["pending"][..], &["ERR"], &[], &["SUCCESS", "x"]] {
        assert_eq!(TrackingStatus::from_words(junk), None, "{junk:?}");
    }
}

proptest! {
    #[test]
    fn every_generated_id_is_well_formed(bytes in any::<[u8; 16]>()) {
        let id = TrackingId::new_v4(bytes);
        prop_assert!(id.is_well_formed());
        let s = id.as_str();
        prop_assert_eq!(&s[14..15], "4");
        prop_assert!(matches!(&s[19..20], "8" | "9" | "A" | "B"));
        prop_assert!(!s.bytes().any(|b| b.is_ascii_lowercase()));
        prop_assert_eq!(TrackingId::from_wire(s.to_lowercase()), id);
    }
}
