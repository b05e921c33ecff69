//! Tests of the driver socket protocol: parsing, rendering, mirror and driver tree.

use proptest::prelude::*;

use super::mirror::{Applied, DriverState};
use super::tree::{StateTree, render};
use super::*;
use crate::token::split_line;

fn words(line: &str) -> Vec<String> {
    split_line(line).expect("test line tokenizes")
}

fn driver(line: &str) -> Result<DriverMsg, ParseError> {
    DriverMsg::parse(&words(line))
}

fn server(line: &str) -> Result<ServerMsg, ParseError> {
    ServerMsg::parse(&words(line))
}

#[test]
fn driver_messages_parse_case_insensitively() {
    assert_eq!(
        driver("setinfo ups.status \"OL CHRG\"").unwrap(),
        DriverMsg::SetInfo {
            var: "ups.status".into(),
            value: "OL CHRG".into()
        }
    );
    assert_eq!(driver("DumpDone").unwrap(), DriverMsg::DumpDone);
    assert_eq!(
        driver("SETFLAGS ups.id rw String bogus NUMBER").unwrap(),
        DriverMsg::SetFlags {
            var: "ups.id".into(),
            flags: VarFlags::RW | VarFlags::STRING | VarFlags::NUMBER
        }
    );
    assert_eq!(
        driver("TRACKING abc 3").unwrap(),
        DriverMsg::Tracking {
            id: "abc".into(),
            status: CmdStatus::Failed
        }
    );
    assert_eq!(driver("OK Goodbye").unwrap(), DriverMsg::Goodbye);
    assert_eq!(driver("PID 42").unwrap(), DriverMsg::Pid { pid: 42 });
}

#[test]
fn driver_messages_enforce_nut_minimum_word_counts() {
    for (line, min) in [
        ("SETINFO x", 3),
        ("DELINFO", 2),
        ("ADDENUM x", 3),
        ("DELENUM x", 3),
        ("ADDRANGE x 1", 4),
        ("DELRANGE x 1", 4),
        ("SETAUX x", 3),
        ("SETFLAGS x", 3),
        ("ADDCMD", 2),
        ("DELCMD", 2),
        ("TRACKING id", 3),
    ] {
        match driver(line) {
            Err(ParseError::TooFewArgs { min: m, .. }) => assert_eq!(m, min, "{line}"),
            other => panic!("{line}: {other:?}"),
        }
    }
    assert_eq!(driver(""), Err(ParseError::Empty));
    assert!(matches!(
        driver("HELLO there"),
        Err(ParseError::UnknownCommand { .. })
    ));
    // Extra words are ignored, as upsd does.
    assert_eq!(
        driver("DELINFO a b c").unwrap(),
        DriverMsg::DelInfo { var: "a".into() }
    );
}

#[test]
fn numbers_are_read_like_atoi() {
    assert_eq!(
        driver("ADDRANGE v 12abc -5").unwrap(),
        DriverMsg::AddRange {
            var: "v".into(),
            min: 12,
            max: -5
        }
    );
    assert_eq!(
        driver("SETAUX v junk").unwrap(),
        DriverMsg::SetAux {
            var: "v".into(),
            aux: 0
        }
    );
    // strtol: overflow saturates at either end, so every i64 a driver renders reads back
    // (found by the sock_mirror fuzz target: i64::MIN came back as MIN + 1).
    for (text, want) in [
        ("-9223372036854775808", i64::MIN),
        ("-99999999999999999999", i64::MIN),
        ("9223372036854775807", i64::MAX),
        ("99999999999999999999", i64::MAX),
    ] {
        assert_eq!(
            driver(&format!("SETAUX v {text}")).unwrap(),
            DriverMsg::SetAux {
                var: "v".into(),
                aux: want
            },
            "{text}"
        );
    }
}

#[test]
fn broadcast_values_are_always_escaped_and_quoted() {
    // The fix of NUT's raw SETINFO broadcast (docs/nut-behaviour.md §12 item 1).
    let msg = DriverMsg::SetInfo {
        var: "ups.id".into(),
        value: r#"a "b" \c #d"#.into(),
    };
    let line = msg.to_string();
    assert_eq!(line, r#"SETINFO ups.id "a \"b\" \\c \#d""#);
    assert_eq!(DriverMsg::parse_line(&line).unwrap(), msg);
    // Unquoted single-word values, as NUT sometimes sends, parse the same.
    assert_eq!(
        driver("SETINFO ups.id plain").unwrap(),
        DriverMsg::SetInfo {
            var: "ups.id".into(),
            value: "plain".into()
        }
    );
}

#[test]
fn instcmd_shapes_follow_nut() {
    assert_eq!(
        server("INSTCMD load.off").unwrap(),
        ServerMsg::InstCmd {
            cmd: "load.off".into(),
            param: None,
            tracking: None
        }
    );
    assert_eq!(
        server("INSTCMD load.off 10").unwrap(),
        ServerMsg::InstCmd {
            cmd: "load.off".into(),
            param: Some("10".into()),
            tracking: None
        }
    );
    assert_eq!(
        server("instcmd load.off tracking ID-1").unwrap(),
        ServerMsg::InstCmd {
            cmd: "load.off".into(),
            param: None,
            tracking: Some("ID-1".into())
        }
    );
    assert_eq!(
        server("INSTCMD load.off 10 TRACKING ID-2").unwrap(),
        ServerMsg::InstCmd {
            cmd: "load.off".into(),
            param: Some("10".into()),
            tracking: Some("ID-2".into())
        }
    );
    for bad in [
        "INSTCMD",
        "INSTCMD a b c",
        "INSTCMD a b c d",
        "INSTCMD a b c d e f",
    ] {
        assert_eq!(
            server(bad),
            Err(ParseError::Malformed { command: "INSTCMD" }),
            "{bad}"
        );
    }
}

#[test]
fn set_shapes_follow_nut() {
    assert_eq!(
        server("SET ups.id \"new id\"").unwrap(),
        ServerMsg::Set {
            var: "ups.id".into(),
            value: "new id".into(),
            tracking: None
        }
    );
    assert_eq!(
        server("SET ups.id x TRACKING t").unwrap().tracking(),
        Some("t")
    );
    for bad in ["SET", "SET ups.id", "SET a b c", "SET a b NOTTRACKING t"] {
        assert_eq!(
            server(bad),
            Err(ParseError::Malformed { command: "SET" }),
            "{bad}"
        );
    }
}

#[test]
fn server_messages_round_trip() {
    let msgs = [
        ServerMsg::DumpAll,
        ServerMsg::DumpValue {
            var: "ups.status".into(),
        },
        ServerMsg::DumpStatus,
        ServerMsg::Ping,
        ServerMsg::GetPid,
        ServerMsg::NoBroadcast,
        ServerMsg::Broadcast { level: None },
        ServerMsg::Broadcast { level: Some(0) },
        ServerMsg::Logout,
        ServerMsg::InstCmd {
            cmd: "load.off".into(),
            param: Some("a b".into()),
            tracking: Some("X".into()),
        },
        ServerMsg::Set {
            var: "ups.id".into(),
            value: "".into(),
            tracking: None,
        },
    ];
    for m in msgs {
        assert_eq!(ServerMsg::parse_line(&m.to_string()).unwrap(), m);
        assert!(m.to_line().ends_with('\n'));
    }
}

#[test]
fn tree_dump_follows_nut_order_and_framing() {
    let mut t = StateTree::new();
    t.set_info("ups.status", "OL");
    t.set_aux("ups.status", 32);
    t.set_flags("ups.status", VarFlags::RW | VarFlags::STRING);
    t.set_info("Battery.charge", "90");
    t.set_flags("battery.charge", VarFlags::RW);
    t.set_info("input.transfer.low", "100");
    t.add_enum("input.transfer.low", "95");
    t.add_range("input.transfer.low", 90, 110);
    t.add_cmd("load.off");
    t.add_cmd("beeper.enable");
    let dump = render(&t.dump_all());
    assert_eq!(
        dump,
        "SETINFO Battery.charge \"90\"\n\
         SETFLAGS Battery.charge RW\n\
         SETINFO input.transfer.low \"100\"\n\
         ADDENUM input.transfer.low \"95\"\n\
         ADDRANGE input.transfer.low 90 110\n\
         SETINFO ups.status \"OL\"\n\
         SETAUX ups.status 32\n\
         SETFLAGS ups.status RW STRING\n\
         ADDCMD beeper.enable\n\
         ADDCMD load.off\n\
         DATAOK\n\
         DUMPDONE\n"
    );
    t.data_stale();
    let dump = t.dump_all();
    assert_eq!(dump.first(), Some(&DriverMsg::DataStale));
    assert_eq!(dump.last(), Some(&DriverMsg::DumpDone));
    assert!(!dump.contains(&DriverMsg::DataOk));
    assert_eq!(
        t.dump_value("UPS.STATUS").len(),
        4,
        "SETINFO, SETAUX, SETFLAGS, DUMPDONE"
    );
    assert_eq!(t.dump_value("nosuch"), vec![DriverMsg::DumpDone]);
}

#[test]
fn tree_queues_only_real_changes() {
    let mut t = StateTree::new();
    assert!(t.set_info("ups.status", "OL"));
    assert!(!t.set_info("UPS.STATUS", "OL"));
    assert!(t.set_info("UPS.STATUS", "OB"));
    assert!(!t.add_enum("nosuch", "x"));
    assert!(t.add_cmd("load.off"));
    assert!(!t.add_cmd("LOAD.OFF"));
    t.data_ok(); // already fresh: nothing
    t.data_stale();
    t.data_stale();
    let changes = t.take_changes();
    assert_eq!(
        changes,
        vec![
            DriverMsg::SetInfo {
                var: "ups.status".into(),
                value: "OL".into()
            },
            DriverMsg::SetInfo {
                var: "ups.status".into(),
                value: "OB".into()
            },
            DriverMsg::AddCmd {
                cmd: "load.off".into()
            },
            DriverMsg::DataStale,
        ]
    );
    assert!(t.take_changes().is_empty());
}

#[test]
fn immutable_variables_resist_updates_and_deletion() {
    let mut t = StateTree::new();
    t.set_info("ups.mfr", "Override");
    t.add_flags("ups.mfr", VarFlags::IMMUTABLE);
    assert!(!t.set_info("ups.mfr", "Device"));
    assert!(!t.del_info("ups.mfr"));
    assert_eq!(t.get("ups.mfr"), Some("Override"));
    // Like NUT's dstate_setflags, set_flags refuses immutable variables.
    assert!(!t.set_flags("ups.mfr", VarFlags::RW));
    assert!(!t.var("ups.mfr").unwrap().flags.rw);
    assert!(t.set_aux("ups.mfr", 32));
    assert!(t.force_info("ups.mfr", "Forced"));
    assert_eq!(t.get("ups.mfr"), Some("Forced"));
}

#[test]
fn mirror_rebuilds_the_driver_tree_from_its_dump() {
    let mut t = StateTree::new();
    t.set_info("ups.status", "OL");
    t.set_aux("ups.status", 32);
    t.set_flags("ups.status", VarFlags::RW | VarFlags::STRING);
    t.set_info("input.transfer.low", "100");
    t.add_enum("input.transfer.low", "95");
    t.add_range("input.transfer.low", 90, 110);
    t.add_cmd("load.off");
    let mut m = DriverState::new();
    let mut done = false;
    for msg in t.dump_all() {
        // Through text, as on the socket.
        let msg = DriverMsg::parse_line(&msg.to_string()).unwrap();
        if m.apply(msg) == Applied::DumpDone {
            done = true;
        }
    }
    assert!(done && m.dump_done() && !m.is_stale());
    let mirrored: Vec<_> = m.vars().cloned().collect();
    let original: Vec<_> = t.vars().cloned().collect();
    assert_eq!(mirrored, original);
    assert!(m.has_command("LOAD.OFF"));
    assert_eq!(m.value("UPS.status"), Some("OL"));
}

#[test]
fn mirror_follows_updates_and_reports_events() {
    let mut m = DriverState::new();
    for line in [
        "SETINFO ups.status OL",
        "ADDENUM nosuch x",
        "SETINFO v 1",
        "ADDRANGE v 5 1",
        "ADDRANGE v 1 5",
        "ADDRANGE v 1 5",
        "DATASTALE",
    ] {
        assert_eq!(
            m.apply(DriverMsg::parse_line(line).unwrap()),
            Applied::State
        );
    }
    assert!(m.is_stale());
    assert_eq!(m.var("v").unwrap().ranges, vec![Range { min: 1, max: 5 }]);
    assert_eq!(
        m.apply(driver("TRACKING X 0").unwrap()),
        Applied::Tracking {
            id: "X".into(),
            status: CmdStatus::Handled
        }
    );
    assert_eq!(m.apply(DriverMsg::Pong), Applied::Pong);
    assert_eq!(m.apply(driver("DELINFO V").unwrap()), Applied::State);
    assert!(m.var("v").is_none());
    m.clear();
    assert_eq!(m.var_count(), 0);
}

#[test]
fn tracking_replies_map_like_upsd() {
    assert_eq!(CmdStatus::Handled.tracking_reply(), "SUCCESS");
    assert_eq!(CmdStatus::Unknown.tracking_reply(), "ERR UNKNOWN");
    assert_eq!(CmdStatus::Invalid.tracking_reply(), "ERR INVALID-ARGUMENT");
    assert_eq!(CmdStatus::Failed.tracking_reply(), "ERR FAILED");
    assert_eq!(
        CmdStatus::ConversionFailed.tracking_reply(),
        "ERR INVALID-ARGUMENT"
    );
    assert_eq!(CmdStatus::from_code(9).tracking_reply(), "ERR UNKNOWN");
    for code in -2..8 {
        assert_eq!(CmdStatus::from_code(code).code(), code);
    }
}

fn printable() -> impl Strategy<Value = String> {
    proptest::collection::vec(0x20u8..0x7f, 0..40)
        .prop_map(|b| String::from_utf8(b).expect("ascii"))
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9._-]{0,20}"
}

proptest! {
    #[test]
    fn any_value_survives_setinfo_and_set(var in name(), value in printable()) {
        let msg = DriverMsg::SetInfo { var: var.clone(), value: value.clone() };
        prop_assert_eq!(DriverMsg::parse_line(&msg.to_string()).unwrap(), msg);
        let msg = DriverMsg::AddEnum { var: var.clone(), value: value.clone() };
        prop_assert_eq!(DriverMsg::parse_line(&msg.to_string()).unwrap(), msg);
        let msg = ServerMsg::Set { var, value, tracking: Some("T-1".into()) };
        prop_assert_eq!(ServerMsg::parse_line(&msg.to_string()).unwrap(), msg);
    }

    #[test]
    fn parsers_never_panic(line in printable()) {
        let _ = DriverMsg::parse_line(&line);
        let _ = ServerMsg::parse_line(&line);
    }
}
