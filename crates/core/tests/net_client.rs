//! The client-side reply parser: one test per reply kind, good and malformed, plus a
//! render → parse round trip over generated replies.

use nut_core::net::{
    ErrCode, GetQuery, ListCollector, ListItem, ListQuery, OkReply, Reply, ReplyError, ReplyParser,
    Request, TrackingId, TrackingStatus, ValueKind, VarType, parse_reply,
};
use proptest::prelude::*;

fn get_var(ups: &str, var: &str) -> Request {
    Request::Get(GetQuery::Var {
        ups: ups.into(),
        var: var.into(),
    })
}

fn is_protocol(result: &Result<Reply, ReplyError>) -> bool {
    matches!(result, Err(ReplyError::Protocol(_)))
}

#[test]
fn text_replies_are_kept_verbatim() {
    let line = "Network UPS Tools upsd 2.8.0 - http://www.networkupstools.org/\n";
    assert_eq!(
        parse_reply(&Request::Ver, line),
        Ok(Reply::Text(line.trim_end().into()))
    );
    assert_eq!(
        parse_reply(&Request::NetVer, "1.3\r\n"),
        Ok(Reply::Text("1.3".into()))
    );
    assert_eq!(
        parse_reply(&Request::Help, "ERR UNKNOWN-COMMAND\n"),
        Err(ReplyError::Server(ErrCode::UnknownCommand))
    );
}

#[test]
fn ok_replies() {
    let cases = [
        (Request::Username("u".into()), "OK", OkReply::Plain),
        (Request::Logout, "OK Goodbye", OkReply::Goodbye),
        // Servers before 2.8 said this on LOGOUT.
        (Request::Logout, "Goodbye...", OkReply::Goodbye),
        (
            Request::Primary { ups: "u".into() },
            "OK PRIMARY-GRANTED",
            OkReply::PrimaryGranted,
        ),
        // Older servers answered plain OK to MASTER.
        (Request::Master { ups: "u".into() }, "OK", OkReply::Plain),
        (
            Request::Fsd { ups: "u".into() },
            "OK FSD-SET",
            OkReply::FsdSet,
        ),
        (Request::StartTls, "OK STARTTLS", OkReply::StartTls),
        (
            Request::SetTracking(true),
            "OK TRACKING 1234",
            OkReply::Tracking(TrackingId::from_wire("1234")),
        ),
        (
            Request::Login { ups: "u".into() },
            "OK what ever",
            OkReply::Other("what ever".into()),
        ),
    ];
    for (request, line, ok) in cases {
        assert_eq!(parse_reply(&request, line), Ok(Reply::Ok(ok)), "{line:?}");
    }
    assert!(is_protocol(&parse_reply(&Request::Logout, "BYE")));
    assert!(is_protocol(&parse_reply(&Request::Logout, "")));
    assert_eq!(
        parse_reply(&Request::StartTls, "ERR FEATURE-NOT-CONFIGURED extra text"),
        Err(ReplyError::Server(ErrCode::FeatureNotConfigured))
    );
}

#[test]
fn get_replies_must_echo_the_query() {
    assert_eq!(
        parse_reply(
            &get_var("ups", "UPS.STATUS"),
            "VAR UPS ups.status \"OL \\\"x\\\"\""
        ),
        Ok(Reply::Var {
            ups: "UPS".into(),
            var: "ups.status".into(),
            value: "OL \"x\"".into(),
        }),
        "echo compared case-insensitively; value unescaped"
    );
    for wrong in [
        "VAR other ups.status \"OL\"",
        "VAR ups battery.charge \"OL\"",
        "TYPE ups ups.status NUMBER",
        "VAR ups",
        "VAR ups ups.status",
        "OL",
        "",
    ] {
        assert!(
            is_protocol(&parse_reply(&get_var("ups", "ups.status"), wrong)),
            "{wrong:?}"
        );
    }
    assert_eq!(
        parse_reply(&get_var("ups", "x"), "ERR VAR-NOT-SUPPORTED"),
        Err(ReplyError::Server(ErrCode::VarNotSupported))
    );
    assert!(matches!(
        parse_reply(&get_var("ups", "x"), "VAR ups x \"open"),
        Err(ReplyError::Token(_))
    ));
    let numlogins = Request::Get(GetQuery::NumLogins { ups: "u".into() });
    assert!(is_protocol(&parse_reply(&numlogins, "NUMLOGINS u many")));
    assert!(is_protocol(&parse_reply(&numlogins, "NUMLOGINS u -1")));
}

#[test]
fn type_replies() {
    let request = Request::Get(GetQuery::Type {
        ups: "u".into(),
        var: "v".into(),
    });
    let parsed = |line: &str| match parse_reply(&request, line) {
        Ok(Reply::Type { ty, .. }) => Some(ty),
        _ => None,
    };
    assert_eq!(
        parsed("TYPE u v RW ENUM RANGE STRING:16"),
        Some(VarType {
            rw: true,
            enumerated: true,
            range: true,
            kind: Some(ValueKind::String { max_len: 16 })
        })
    );
    assert_eq!(
        parsed("TYPE u v FUTURE NUMBER"),
        Some(VarType {
            rw: false,
            enumerated: false,
            range: false,
            kind: Some(ValueKind::Number)
        }),
        "unknown words are ignored"
    );
    assert_eq!(
        parsed("TYPE u v"),
        Some(VarType {
            rw: false,
            enumerated: false,
            range: false,
            kind: None
        })
    );
    assert_eq!(parsed("TYPE u v STRING:x"), None);
}

#[test]
fn tracking_replies() {
    let mode = Request::Get(GetQuery::TrackingMode);
    assert_eq!(parse_reply(&mode, "ON"), Ok(Reply::TrackingMode(true)));
    assert_eq!(parse_reply(&mode, "OFF"), Ok(Reply::TrackingMode(false)));
    assert!(is_protocol(&parse_reply(&mode, "MAYBE")));
    assert_eq!(
        parse_reply(&mode, "ERR ACCESS-DENIED"),
        Err(ReplyError::Server(ErrCode::AccessDenied))
    );
    let status = Request::Get(GetQuery::Tracking(TrackingId::from_wire("x")));
    assert_eq!(
        parse_reply(&status, "PENDING"),
        Ok(Reply::Tracking(TrackingStatus::Pending))
    );
    assert_eq!(
        parse_reply(&status, "ERR INVALID-ARGUMENT"),
        Ok(Reply::Tracking(TrackingStatus::Error(
            ErrCode::InvalidArgument
        )))
    );
    assert!(is_protocol(&parse_reply(&status, "DONE")));
}

fn var_item(var: &str, value: &str) -> ListItem {
    ListItem::Var {
        ups: "ups".into(),
        var: var.into(),
        value: value.into(),
    }
}

#[test]
fn list_collector_line_by_line() {
    let mut collector = ListCollector::new(ListQuery::Var { ups: "UPS".into() });
    assert_eq!(collector.push_line("BEGIN LIST VAR ups\n"), Ok(None));
    assert_eq!(collector.push_line("VAR ups a \"1\"\n"), Ok(None));
    assert_eq!(collector.push_line("VAR ups b \"x y\"\n"), Ok(None));
    assert_eq!(
        collector.push_line("END LIST VAR ups\n"),
        Ok(Some(vec![var_item("a", "1"), var_item("b", "x y")]))
    );
    assert!(matches!(
        collector.push_line("VAR ups c \"2\""),
        Err(ReplyError::Protocol(_))
    ));
}

#[test]
fn malformed_lists() {
    let query = || ListQuery::Var { ups: "ups".into() };
    let run = |lines: &[&str]| {
        let mut collector = ListCollector::new(query());
        let mut last = Ok(None);
        for line in lines {
            last = collector.push_line(line);
            if !matches!(last, Ok(None)) {
                break;
            }
        }
        last
    };
    let protocol =
        |r: &Result<Option<Vec<ListItem>>, ReplyError>| matches!(r, Err(ReplyError::Protocol(_)));
    // Missing or wrong BEGIN.
    assert!(protocol(&run(&["VAR ups a \"1\""])));
    assert!(protocol(&run(&["BEGIN LIST VAR other"])));
    assert!(protocol(&run(&["BEGIN LIST RW ups"])));
    assert!(protocol(&run(&["BEGIN LIST VAR"])));
    // Words after the query are not checked (libupsclient accepts them; verified with upsc).
    assert_eq!(
        run(&["BEGIN LIST VAR ups extra", "END LIST VAR ups"]),
        Ok(Some(vec![]))
    );
    // BEGIN is matched case-insensitively, END only exactly.
    assert_eq!(run(&["begin list var UPS", "END LIST"]), Ok(Some(vec![])));
    assert!(protocol(&run(&["BEGIN LIST VAR ups", "end list VAR ups"])));
    // The END's query words are not checked (libupsclient does not).
    assert_eq!(
        run(&["BEGIN LIST VAR ups", "END LIST whatever"]),
        Ok(Some(vec![]))
    );
    // Items must echo the query and be complete.
    assert!(protocol(&run(&["BEGIN LIST VAR ups", "VAR other a \"1\""])));
    assert!(protocol(&run(&["BEGIN LIST VAR ups", "RW ups a \"1\""])));
    assert!(protocol(&run(&["BEGIN LIST VAR ups", "VAR ups a"])));
    // ERR instead of the list, or in the middle of it.
    assert_eq!(
        run(&["ERR DATA-STALE"]),
        Err(ReplyError::Server(ErrCode::DataStale))
    );
    assert_eq!(
        run(&["BEGIN LIST VAR ups", "ERR UNKNOWN-UPS"]),
        Err(ReplyError::Server(ErrCode::UnknownUps))
    );
    // Ranges must be integers.
    let mut range = ListCollector::new(ListQuery::Range {
        ups: "u".into(),
        var: "v".into(),
    });
    assert_eq!(range.push_line("BEGIN LIST RANGE u v"), Ok(None));
    assert!(matches!(
        range.push_line("RANGE u v \"1.5\" \"2\""),
        Err(ReplyError::Protocol(_))
    ));
}

#[test]
fn reply_parser_stops_after_completion() {
    let mut parser = ReplyParser::new(&Request::List(ListQuery::Ups));
    assert!(!parser.is_done());
    assert_eq!(parser.push_line("BEGIN LIST UPS"), Ok(None));
    assert_eq!(
        parser.push_line("UPS a \"Description unavailable\""),
        Ok(None)
    );
    assert_eq!(
        parser.push_line("END LIST UPS"),
        Ok(Some(Reply::List {
            query: ListQuery::Ups,
            items: vec![ListItem::Ups {
                name: "a".into(),
                desc: "Description unavailable".into()
            }]
        }))
    );
    assert!(parser.is_done());
    assert!(matches!(
        parser.push_line("OK"),
        Err(ReplyError::Protocol(_))
    ));
    assert!(is_protocol(&parse_reply(
        &Request::List(ListQuery::Ups),
        "BEGIN LIST UPS\n"
    )));
}

// ---- Round trip: every reply the server can render, the client reads back ----------------

fn bare() -> impl Strategy<Value = String> {
    // Names are echoed raw, so they are bare words on the wire.
    "[A-Za-z0-9._-]{1,16}"
}

fn value() -> impl Strategy<Value = String> {
    "[ -~]{0,32}"
}

fn list_case() -> impl Strategy<Value = (ListQuery, Vec<ListItem>)> {
    let items = |f: fn(String, String, String) -> ListItem| {
        (bare(), bare(), proptest::collection::vec(value(), 0..5)).prop_map(move |(u, v, vals)| {
            let items = vals
                .into_iter()
                .map(|x| f(u.clone(), v.clone(), x))
                .collect();
            (u, v, items)
        })
    };
    prop_oneof![
        proptest::collection::vec((bare(), value()), 0..5).prop_map(|entries| (
            ListQuery::Ups,
            entries
                .into_iter()
                .map(|(name, desc)| ListItem::Ups { name, desc })
                .collect()
        )),
        items(|ups, var, value| ListItem::Var { ups, var, value })
            .prop_map(|(ups, _, items)| (ListQuery::Var { ups }, items)),
        items(|ups, var, value| ListItem::Rw { ups, var, value })
            .prop_map(|(ups, _, items)| (ListQuery::Rw { ups }, items)),
        items(|ups, cmd, _| ListItem::Cmd { ups, cmd })
            .prop_map(|(ups, _, items)| (ListQuery::Cmd { ups }, items)),
        items(|ups, _, _| ListItem::Client {
            ups,
            address: "::1".into()
        })
        .prop_map(|(ups, _, items)| (ListQuery::Client { ups }, items)),
        items(|ups, var, value| ListItem::Enum { ups, var, value })
            .prop_map(|(ups, var, items)| (ListQuery::Enum { ups, var }, items)),
        (
            bare(),
            bare(),
            proptest::collection::vec(any::<(i32, i32)>(), 0..4)
        )
            .prop_map(|(ups, var, bounds)| {
                let items = bounds
                    .into_iter()
                    .map(|(min, max)| ListItem::Range {
                        ups: ups.clone(),
                        var: var.clone(),
                        min: min.into(),
                        max: max.into(),
                    })
                    .collect();
                (ListQuery::Range { ups, var }, items)
            }),
    ]
}

fn single_case() -> impl Strategy<Value = (Request, Reply)> {
    let get = |q: GetQuery| Request::Get(q);
    prop_oneof![
        (bare(), bare(), value()).prop_map(move |(ups, var, value)| (
            get(GetQuery::Var {
                ups: ups.clone(),
                var: var.clone()
            }),
            Reply::Var { ups, var, value }
        )),
        (bare(), bare(), value()).prop_map(move |(ups, var, desc)| (
            get(GetQuery::Desc {
                ups: ups.clone(),
                var: var.clone()
            }),
            Reply::Desc { ups, var, desc }
        )),
        (bare(), bare(), value()).prop_map(move |(ups, cmd, desc)| (
            get(GetQuery::CmdDesc {
                ups: ups.clone(),
                cmd: cmd.clone()
            }),
            Reply::CmdDesc { ups, cmd, desc }
        )),
        (bare(), value()).prop_map(move |(ups, desc)| (
            get(GetQuery::UpsDesc { ups: ups.clone() }),
            Reply::UpsDesc { ups, desc }
        )),
        (bare(), any::<u64>()).prop_map(move |(ups, count)| (
            get(GetQuery::NumLogins { ups: ups.clone() }),
            Reply::NumLogins { ups, count }
        )),
        (
            bare(),
            bare(),
            any::<(bool, bool, bool, bool)>(),
            any::<i64>()
        )
            .prop_map(move |(ups, var, (rw, string, en, range), aux)| (
                get(GetQuery::Type {
                    ups: ups.clone(),
                    var: var.clone()
                }),
                Reply::Type {
                    ups,
                    var,
                    ty: VarType::from_flags(rw, string, aux, en, range)
                }
            )),
        any::<[u8; 16]>().prop_map(|bytes| (
            Request::InstCmd {
                ups: "u".into(),
                cmd: "c".into(),
                param: None
            },
            Reply::Ok(OkReply::Tracking(TrackingId::new_v4(bytes)))
        )),
        "[A-Z-]{1,20}".prop_map(move |code| (
            get(GetQuery::Var {
                ups: "u".into(),
                var: "v".into()
            }),
            Reply::Err(ErrCode::parse(&code))
        )),
    ]
}

proptest! {
    #[test]
    fn rendered_lists_parse_back((query, items) in list_case()) {
        let reply = Reply::List { query: query.clone(), items };
        let text = reply.to_text();
        prop_assert!(text.ends_with('\n'));
        prop_assert_eq!(parse_reply(&Request::List(query), &text), Ok(reply));
    }

    #[test]
    fn rendered_single_replies_parse_back((request, reply) in single_case()) {
        let text = reply.to_text();
        prop_assert_eq!(text.matches('\n').count(), 1);
        prop_assert!(text.ends_with('\n'));
        let parsed = parse_reply(&request, &text);
        match reply {
            Reply::Err(code) => prop_assert_eq!(parsed, Err(ReplyError::Server(code))),
            reply => prop_assert_eq!(parsed, Ok(reply)),
        }
    }
}
