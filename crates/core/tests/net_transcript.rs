//! Every exchange of the reference's 2.8.0 transcripts (§2.6), plus the corner cases verified
//! against Debian's upsd 2.8.0 while writing `nut_core::net`: each request line is tokenized
//! and parsed as upsd would, each reply is rendered byte-identical to what upsd sent, and the
//! client-side parser reads the transcript reply back into the same value.

use nut_core::net::reply::{self, DESC_UNAVAILABLE, HELP_TEXT, UPSDESC_UNAVAILABLE};
use nut_core::net::{
    ErrCode, GetQuery, ListItem, ListQuery, OkReply, Reply, ReplyError, Request, TrackingId,
    TrackingStatus, ValueKind, VarType, parse_reply,
};
use nut_core::token;

/// Connection credentials state, as upsd tracks it.
#[derive(Clone, Copy)]
struct Creds {
    user: bool,
    pass: bool,
}

const ANON: Creds = Creds {
    user: false,
    pass: false,
};
const USER_ONLY: Creds = Creds {
    user: true,
    pass: false,
};
const AUTHED: Creds = Creds {
    user: true,
    pass: true,
};

fn words(line: &str) -> Vec<String> {
    token::split_line(line).unwrap_or_else(|e| panic!("{line:?} does not tokenize: {e}"))
}

/// A request upsd answers from its state: it parses, and the transcript reply is exactly
/// `expected` rendered, and the client parser reads it back.
fn exchange(creds: Creds, line: &str, reply_text: &str, expected: Reply) -> Request {
    let request = Request::parse_with_credentials(&words(line), creds.user, creds.pass)
        .unwrap_or_else(|e| panic!("{line:?} rejected with {e}"));
    assert_eq!(
        expected.to_text(),
        reply_text,
        "rendering the reply to {line:?}"
    );
    let parsed = parse_reply(&request, reply_text);
    match expected {
        Reply::Err(code) => assert_eq!(parsed, Err(ReplyError::Server(code)), "{line:?}"),
        expected => assert_eq!(
            parsed,
            Ok(expected),
            "client parse of the reply to {line:?}"
        ),
    }
    request
}

/// A request the parser itself rejects (before any server state is consulted).
fn rejected(creds: Creds, line: &str, reply_text: &str) {
    let code = Request::parse_with_credentials(&words(line), creds.user, creds.pass)
        .expect_err(&format!("{line:?} should be rejected"));
    let mut out = String::new();
    reply::write_err(&mut out, &code);
    assert_eq!(out, reply_text, "reply to {line:?}");
}

fn text(s: &str) -> Reply {
    Reply::Text(s.to_owned())
}

fn err(code: ErrCode) -> Reply {
    Reply::Err(code)
}

fn var(ups: &str, name: &str, value: &str) -> Reply {
    Reply::Var {
        ups: ups.into(),
        var: name.into(),
        value: value.into(),
    }
}

fn ty(ups: &str, name: &str, rw: bool, en: bool, range: bool, kind: ValueKind) -> Reply {
    Reply::Type {
        ups: ups.into(),
        var: name.into(),
        ty: VarType {
            rw,
            enumerated: en,
            range,
            kind: Some(kind),
        },
    }
}

fn ok() -> Reply {
    Reply::Ok(OkReply::Plain)
}

fn ok_tracking(id: &str) -> Reply {
    Reply::Ok(OkReply::Tracking(TrackingId::from_wire(id)))
}

fn list(query: ListQuery, items: Vec<ListItem>) -> Reply {
    Reply::List { query, items }
}

fn list_var(ups: &str) -> ListQuery {
    ListQuery::Var { ups: ups.into() }
}

#[test]
fn informational_commands() {
    let info = "Network UPS Tools upsd 2.8.0 - http://www.networkupstools.org/";
    assert_eq!(
        reply::server_info(reply::UPSD_VERSION, reply::UPSD_URL),
        info
    );
    exchange(ANON, "VER", &format!("{info}\n"), text(info));
    exchange(ANON, "NETVER", "1.3\n", text(reply::PROTOCOL_VERSION));
    exchange(ANON, "PROTVER", "1.3\n", text("1.3"));
    let help = "Commands: HELP VER GET LIST SET INSTCMD LOGIN LOGOUT USERNAME PASSWORD STARTTLS";
    assert_eq!(HELP_TEXT, help);
    exchange(ANON, "help", &format!("{help}\n"), text(help));
    rejected(ANON, "VER extra", "ERR INVALID-ARGUMENT\n");
    exchange(
        ANON,
        "STARTTLS",
        "ERR FEATURE-NOT-CONFIGURED\n",
        err(ErrCode::FeatureNotConfigured),
    );
    assert_eq!(
        Request::parse(&words("VER\r")),
        Ok(Request::Ver),
        "CRLF works"
    );
}

#[test]
fn list_ups_and_descriptions() {
    exchange(
        ANON,
        "LIST UPS",
        "BEGIN LIST UPS\nUPS dummy \"Test \\\"quoted\\\" UPS\"\nUPS seq \"Description unavailable\"\nEND LIST UPS\n",
        list(
            ListQuery::Ups,
            vec![
                ListItem::Ups {
                    name: "dummy".into(),
                    desc: "Test \"quoted\" UPS".into(),
                },
                ListItem::Ups {
                    name: "seq".into(),
                    desc: DESC_UNAVAILABLE.into(),
                },
            ],
        ),
    );
    exchange(
        ANON,
        "GET UPSDESC seq",
        "UPSDESC seq \"Unavailable\"\n",
        Reply::UpsDesc {
            ups: "seq".into(),
            desc: UPSDESC_UNAVAILABLE.into(),
        },
    );
    exchange(
        ANON,
        "GET UPSDESC nosuch",
        "ERR UNKNOWN-UPS\n",
        err(ErrCode::UnknownUps),
    );
    exchange(
        ANON,
        "GET NUMLOGINS dummy",
        "NUMLOGINS dummy 0\n",
        Reply::NumLogins {
            ups: "dummy".into(),
            count: 0,
        },
    );
}

#[test]
fn get_var_type_desc() {
    exchange(
        ANON,
        "GET VAR DUMMY ups.status",
        "VAR DUMMY ups.status \"OL CHRG\"\n",
        var("DUMMY", "ups.status", "OL CHRG"),
    );
    exchange(
        ANON,
        "GET VAR dummy nosuch.var",
        "ERR VAR-NOT-SUPPORTED\n",
        err(ErrCode::VarNotSupported),
    );
    exchange(
        ANON,
        "GET VAR anything server.version",
        "VAR anything server.version \"2.8.0\"\n",
        var("anything", "server.version", reply::UPSD_VERSION),
    );
    assert_eq!(
        reply::server_var("SERVER.VERSION"),
        Some(Ok("server.version"))
    );
    assert_eq!(reply::server_var("Server.Info"), Some(Ok("server.info")));
    assert_eq!(
        reply::server_var("server.foo"),
        Some(Err(ErrCode::VarNotSupported))
    );
    assert_eq!(reply::server_var("ups.status"), None);
    assert_eq!(reply::server_var("serv"), None);
    assert_eq!(reply::server_var("servér.x"), None);
    // Verified on 2.8.0: server.* names are answered in canonical spelling.
    exchange(
        ANON,
        "GET VAR x SERVER.VERSION",
        "VAR x server.version \"2.8.0\"\n",
        var("x", "server.version", "2.8.0"),
    );
    exchange(
        ANON,
        "GET TYPE dummy ups.status",
        "TYPE dummy ups.status RW STRING:32\n",
        ty(
            "dummy",
            "ups.status",
            true,
            false,
            false,
            ValueKind::String { max_len: 32 },
        ),
    );
    exchange(
        ANON,
        "GET TYPE dummy battery.charge",
        "TYPE dummy battery.charge RW NUMBER\n",
        ty(
            "dummy",
            "battery.charge",
            true,
            false,
            false,
            ValueKind::Number,
        ),
    );
    exchange(
        ANON,
        "GET TYPE dummy driver.name",
        "TYPE dummy driver.name NUMBER\n",
        ty(
            "dummy",
            "driver.name",
            false,
            false,
            false,
            ValueKind::Number,
        ),
    );
    exchange(
        ANON,
        "GET TYPE fake ups.mfr",
        "TYPE fake ups.mfr RW STRING:20\n",
        ty(
            "fake",
            "ups.mfr",
            true,
            false,
            false,
            ValueKind::String { max_len: 20 },
        ),
    );
    assert_eq!(
        Reply::Type {
            ups: "fake".into(),
            var: "input.transfer.low".into(),
            ty: VarType::from_flags(true, false, 0, true, false),
        }
        .to_text(),
        "TYPE fake input.transfer.low RW ENUM NUMBER\n"
    );
    assert_eq!(
        Reply::Type {
            ups: "fake".into(),
            var: "input.transfer.high".into(),
            ty: VarType::from_flags(true, false, 0, false, true),
        }
        .to_text(),
        "TYPE fake input.transfer.high RW RANGE NUMBER\n"
    );
    exchange(
        ANON,
        "GET DESC dummy ups.status",
        "DESC dummy ups.status \"UPS status\"\n",
        Reply::Desc {
            ups: "dummy".into(),
            var: "ups.status".into(),
            desc: "UPS status".into(),
        },
    );
    exchange(
        ANON,
        "GET DESC dummy nosuch.var",
        "DESC dummy nosuch.var \"Description unavailable\"\n",
        Reply::Desc {
            ups: "dummy".into(),
            var: "nosuch.var".into(),
            desc: DESC_UNAVAILABLE.into(),
        },
    );
    exchange(
        ANON,
        "GET CMDDESC dummy load.off",
        "CMDDESC dummy load.off \"Turn off the load immediately\"\n",
        Reply::CmdDesc {
            ups: "dummy".into(),
            cmd: "load.off".into(),
            desc: "Turn off the load immediately".into(),
        },
    );
}

#[test]
fn malformed_requests() {
    exchange(ANON, "GET TRACKING", "OFF\n", Reply::TrackingMode(false));
    exchange(
        ANON,
        "GET TRACKING abc",
        "ERR FEATURE-NOT-CONFIGURED\n",
        Reply::Tracking(TrackingStatus::Error(ErrCode::FeatureNotConfigured)),
    );
    rejected(ANON, "GET", "ERR INVALID-ARGUMENT\n");
    rejected(ANON, "GET FOO dummy bar", "ERR INVALID-ARGUMENT\n");
    rejected(ANON, "FOO", "ERR UNKNOWN-COMMAND\n");
    rejected(ANON, "", "ERR UNKNOWN-COMMAND\n");
    rejected(ANON, "   # only a comment", "ERR UNKNOWN-COMMAND\n");
    // A tokenizer error: upsd sends nothing at all.
    assert!(token::split_line("GET VAR dummy \"ups.st#atus\"").is_err());
}

#[test]
fn lists() {
    exchange(
        ANON,
        "LIST ENUM dummy ups.status",
        "BEGIN LIST ENUM dummy ups.status\nEND LIST ENUM dummy ups.status\n",
        list(
            ListQuery::Enum {
                ups: "dummy".into(),
                var: "ups.status".into(),
            },
            vec![],
        ),
    );
    exchange(
        ANON,
        "LIST ENUM dummy nosuch",
        "ERR VAR-NOT-SUPPORTED\n",
        err(ErrCode::VarNotSupported),
    );
    exchange(
        ANON,
        "LIST CLIENT dummy",
        "BEGIN LIST CLIENT dummy\nEND LIST CLIENT dummy\n",
        list(
            ListQuery::Client {
                ups: "dummy".into(),
            },
            vec![],
        ),
    );
    let vars = [
        ("battery.charge", "90"),
        ("battery.charge.low", "30"),
        ("device.mfr", "Acme Power"),
        ("device.model", "Dummy UPS"),
        ("device.type", "ups"),
        ("driver.name", "dummy-ups"),
        ("driver.parameter.mode", "dummy-once"),
        ("driver.parameter.pollinterval", "2"),
        ("driver.parameter.port", "dummy.dev"),
        ("driver.parameter.synchronous", "auto"),
        ("driver.version", "2.8.0"),
        ("driver.version.internal", "0.15"),
        ("input.voltage", "230.0"),
        ("ups.id", "myid"),
        ("ups.mfr", "Acme Power"),
        ("ups.model", "Dummy UPS"),
        ("ups.status", "OL CHRG"),
    ];
    let mut transcript = String::from("BEGIN LIST VAR dummy\n");
    for (name, value) in vars {
        transcript.push_str(&format!("VAR dummy {name} \"{value}\"\n"));
    }
    transcript.push_str("END LIST VAR dummy\n");
    exchange(
        ANON,
        "LIST VAR dummy",
        &transcript,
        list(
            list_var("dummy"),
            vars.iter()
                .map(|(name, value)| ListItem::Var {
                    ups: "dummy".into(),
                    var: (*name).into(),
                    value: (*value).into(),
                })
                .collect(),
        ),
    );
    // The server's hot path: render the same list with the borrowed writers into one buffer.
    let mut out = String::new();
    let query = list_var("dummy");
    reply::write_begin_list(&mut out, &query);
    for (name, value) in vars {
        reply::write_list_var(&mut out, "dummy", name, value);
    }
    reply::write_end_list(&mut out, &query);
    assert_eq!(out, transcript);

    // Verified on 2.8.0: the sub-command is echoed upper-case, the UPS as spelled.
    let request = Request::parse(&words("list var DUMMY")).unwrap();
    let mut out = String::new();
    let Request::List(query) = &request else {
        panic!("not a LIST: {request:?}")
    };
    reply::write_begin_list(&mut out, query);
    reply::write_end_list(&mut out, query);
    assert_eq!(out, "BEGIN LIST VAR DUMMY\nEND LIST VAR DUMMY\n");
}

/// The credential checks the request parser makes itself (USERNAME-REQUIRED,
/// PASSWORD-REQUIRED), and the codecs of the authentication errors upsd sends. Whether upsd
/// sends them (wrong password, already set, …) is decided by its session: nut-upsd's
/// `session_tests::authentication_order`.
#[test]
fn credential_checks_and_authentication_error_codecs() {
    exchange(ANON, "USERNAME admin", "OK\n", ok());
    rejected(ANON, "LOGIN dummy", "ERR USERNAME-REQUIRED\n");
    rejected(
        ANON,
        "SET VAR dummy ups.id \"x\"",
        "ERR USERNAME-REQUIRED\n",
    );
    rejected(USER_ONLY, "LOGIN dummy", "ERR PASSWORD-REQUIRED\n");
    exchange(
        USER_ONLY,
        "USERNAME admin2",
        "ERR ALREADY-SET-USERNAME\n",
        err(ErrCode::AlreadySetUsername),
    );
    exchange(USER_ONLY, "PASSWORD wrong", "OK\n", ok());
    exchange(
        AUTHED,
        "SET VAR dummy ups.id \"x\"",
        "ERR ACCESS-DENIED\n",
        err(ErrCode::AccessDenied),
    );
    exchange(
        AUTHED,
        "PASSWORD again",
        "ERR ALREADY-SET-PASSWORD\n",
        err(ErrCode::AlreadySetPassword),
    );
    for line in [
        "LOGIN dummy",
        "SET VAR dummy ups.id x",
        "INSTCMD dummy load.off",
        "FSD dummy",
        "PRIMARY dummy",
    ] {
        exchange(
            AUTHED,
            line,
            "ERR ACCESS-DENIED\n",
            err(ErrCode::AccessDenied),
        );
    }
}

#[test]
fn privileged_commands_and_tracking() {
    exchange(
        AUTHED,
        "SET VAR dummy ups.id \"this string is longer than sixteen\"",
        "ERR TOO-LONG\n",
        err(ErrCode::TooLong),
    );
    exchange(
        AUTHED,
        "SET VAR dummy driver.name \"x\"",
        "ERR READONLY\n",
        err(ErrCode::Readonly),
    );
    exchange(
        AUTHED,
        "SET VAR nosuch ups.id \"x\"",
        "ERR UNKNOWN-UPS\n",
        err(ErrCode::UnknownUps),
    );
    rejected(AUTHED, "SET VAR dummy ups.id", "ERR INVALID-ARGUMENT\n");
    exchange(AUTHED, "SET VAR dummy battery.charge 55", "OK\n", ok());
    exchange(AUTHED, "SET TRACKING ON", "OK\n", ok());
    exchange(AUTHED, "GET TRACKING", "ON\n", Reply::TrackingMode(true));
    exchange(
        AUTHED,
        "SET VAR dummy ups.id \"tracked\"",
        "OK TRACKING F4F78A1F-D59B-4F21-82C6-9729871FA9DC\n",
        ok_tracking("F4F78A1F-D59B-4F21-82C6-9729871FA9DC"),
    );
    let request = exchange(
        AUTHED,
        "INSTCMD dummy load.off 10",
        "OK TRACKING EC36A221-9C2E-4F36-8A18-C6711BC5C571\n",
        ok_tracking("EC36A221-9C2E-4F36-8A18-C6711BC5C571"),
    );
    assert_eq!(
        request,
        Request::InstCmd {
            ups: "dummy".into(),
            cmd: "load.off".into(),
            param: Some("10".into())
        }
    );
    exchange(
        AUTHED,
        "INSTCMD dummy nosuch.cmd",
        "ERR CMD-NOT-SUPPORTED\n",
        err(ErrCode::CmdNotSupported),
    );
    rejected(AUTHED, "INSTCMD dummy", "ERR INVALID-ARGUMENT\n");
    rejected(AUTHED, "SET TRACKING maybe", "ERR INVALID-ARGUMENT\n");
    exchange(AUTHED, "SET TRACKING OFF", "OK\n", ok());
    exchange(AUTHED, "INSTCMD dummy load.off", "OK\n", ok());
    exchange(
        AUTHED,
        "FSD dummy",
        "OK FSD-SET\n",
        Reply::Ok(OkReply::FsdSet),
    );
    exchange(
        AUTHED,
        "GET VAR dummy ups.status",
        "VAR dummy ups.status \"FSD OL CHRG\"\n",
        var("dummy", "ups.status", "FSD OL CHRG"),
    );
    exchange(
        AUTHED,
        "LOGOUT",
        "OK Goodbye\n",
        Reply::Ok(OkReply::Goodbye),
    );

    exchange(AUTHED, "LOGIN dummy", "OK\n", ok());
    exchange(
        AUTHED,
        "LOGIN seq",
        "ERR ALREADY-LOGGED-IN\n",
        err(ErrCode::AlreadyLoggedIn),
    );
    exchange(
        AUTHED,
        "PRIMARY dummy",
        "OK PRIMARY-GRANTED\n",
        Reply::Ok(OkReply::PrimaryGranted),
    );
    exchange(
        AUTHED,
        "MASTER dummy",
        "OK MASTER-GRANTED\n",
        Reply::Ok(OkReply::MasterGranted),
    );
    exchange(
        AUTHED,
        "PRIMARY nosuch",
        "ERR UNKNOWN-UPS\n",
        err(ErrCode::UnknownUps),
    );
    exchange(
        ANON,
        "GET NUMLOGINS dummy",
        "NUMLOGINS dummy 2\n",
        Reply::NumLogins {
            ups: "dummy".into(),
            count: 2,
        },
    );
    let client = || ListItem::Client {
        ups: "dummy".into(),
        address: "127.0.0.1".into(),
    };
    exchange(
        ANON,
        "LIST CLIENT dummy",
        "BEGIN LIST CLIENT dummy\nCLIENT dummy 127.0.0.1\nCLIENT dummy 127.0.0.1\nEND LIST CLIENT dummy\n",
        list(
            ListQuery::Client {
                ups: "dummy".into(),
            },
            vec![client(), client()],
        ),
    );
}

#[test]
fn enum_range_and_tracking_results() {
    let low = ListQuery::Enum {
        ups: "fake".into(),
        var: "input.transfer.low".into(),
    };
    exchange(
        ANON,
        "LIST ENUM fake input.transfer.low",
        "BEGIN LIST ENUM fake input.transfer.low\nENUM fake input.transfer.low \"100\"\nENUM fake input.transfer.low \"95\"\nENUM fake input.transfer.low \"103\"\nEND LIST ENUM fake input.transfer.low\n",
        list(
            low,
            ["100", "95", "103"]
                .iter()
                .map(|v| ListItem::Enum {
                    ups: "fake".into(),
                    var: "input.transfer.low".into(),
                    value: (*v).into(),
                })
                .collect(),
        ),
    );
    let high = ListQuery::Range {
        ups: "fake".into(),
        var: "input.transfer.high".into(),
    };
    exchange(
        ANON,
        "LIST RANGE fake input.transfer.high",
        "BEGIN LIST RANGE fake input.transfer.high\nRANGE fake input.transfer.high \"120\" \"130\"\nRANGE fake input.transfer.high \"135\" \"140\"\nEND LIST RANGE fake input.transfer.high\n",
        list(
            high,
            [(120, 130), (135, 140)]
                .iter()
                .map(|&(min, max)| ListItem::Range {
                    ups: "fake".into(),
                    var: "input.transfer.high".into(),
                    min,
                    max,
                })
                .collect(),
        ),
    );
    exchange(
        AUTHED,
        "SET VAR fake input.transfer.low 99",
        "ERR INVALID-VALUE\n",
        err(ErrCode::InvalidValue),
    );
    let id = "F4F78A1F-D59B-4F21-82C6-9729871FA9DC";
    exchange(
        ANON,
        &format!("GET TRACKING {id}"),
        "ERR FAILED\n",
        Reply::Tracking(TrackingStatus::from_driver_result(3)),
    );
    exchange(
        ANON,
        &format!("GET TRACKING {id}"),
        "SUCCESS\n",
        Reply::Tracking(TrackingStatus::from_driver_result(0)),
    );
    let lower = exchange(
        ANON,
        &format!("GET TRACKING {}", id.to_lowercase()),
        "SUCCESS\n",
        Reply::Tracking(TrackingStatus::Success),
    );
    assert_eq!(
        lower,
        Request::Get(GetQuery::Tracking(TrackingId::from_wire(id))),
        "ids compare case-insensitively"
    );
    exchange(
        ANON,
        "GET TRACKING nonexistent",
        "ERR UNKNOWN\n",
        Reply::Tracking(TrackingStatus::unknown_id()),
    );
}

/// The codecs of the replies upsd gives about stale data and missing drivers, as the
/// transcripts show them (this test supplies the error code). Which reply upsd gives, and
/// when, is decided by its session: nut-upsd's `session_tests::stale_data_answers`.
#[test]
fn stale_and_driver_not_connected_codecs() {
    exchange(
        ANON,
        "GET VAR fake ups.status",
        "ERR DATA-STALE\n",
        err(ErrCode::DataStale),
    );
    exchange(
        ANON,
        "LIST VAR fake",
        "ERR DATA-STALE\n",
        err(ErrCode::DataStale),
    );
    exchange(
        ANON,
        "GET UPSDESC fake",
        "UPSDESC fake \"Fake driver\"\n",
        Reply::UpsDesc {
            ups: "fake".into(),
            desc: "Fake driver".into(),
        },
    );
    exchange(
        ANON,
        "GET NUMLOGINS fake",
        "ERR DATA-STALE\n",
        err(ErrCode::DataStale),
    );
    exchange(
        ANON,
        "GET TYPE fake ups.status",
        "ERR DATA-STALE\n",
        err(ErrCode::DataStale),
    );
    exchange(
        ANON,
        "GET VAR fake ups.status",
        "ERR DRIVER-NOT-CONNECTED\n",
        err(ErrCode::DriverNotConnected),
    );
}
