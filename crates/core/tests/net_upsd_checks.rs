//! upsd 2.8.0's request checks as observed on Debian's upsd (not in the reference's
//! transcripts): which error comes first, which extra words are ignored, and what the
//! tokenizer does to request lines on the wire.

use nut_core::net::reply;
use nut_core::net::{GetQuery, ListQuery, Request, TrackingId};
use nut_core::token;

fn words(line: &str) -> Vec<String> {
    token::split_line(line).unwrap_or_else(|e| panic!("{line:?} does not tokenize: {e}"))
}

/// The reply upsd sends for a line rejected before any server state is consulted, given
/// whether USERNAME and PASSWORD were sent.
fn rejection(line: &str, user: bool, pass: bool) -> String {
    let code = Request::parse_with_credentials(&words(line), user, pass)
        .expect_err(&format!("{line:?} should be rejected"));
    let mut out = String::new();
    reply::write_err(&mut out, &code);
    out
}

/// Verified against Debian's upsd 2.8.0: the credentials check of FLAG_USER commands comes
/// before any argument check; for the other commands, argument errors come first.
#[test]
fn verified_check_order() {
    for line in [
        "SET",
        "INSTCMD",
        "SET VAR",
        "LOGIN",
        "PRIMARY",
        "FSD",
        "MASTER a b",
        "set",
    ] {
        assert_eq!(
            rejection(line, false, false),
            "ERR USERNAME-REQUIRED\n",
            "{line:?}"
        );
        assert_eq!(
            rejection(line, true, false),
            "ERR PASSWORD-REQUIRED\n",
            "{line:?}"
        );
    }
    for line in [
        "SET",
        "INSTCMD",
        "LOGIN",
        "LOGIN a b",
        "PRIMARY",
        "FSD",
        "SET VAR dummy",
        "SET FOO a b c",
        "SET TRACKING",
        "INSTCMD dummy",
        "PASSWORD a b",
        "PASSWORD",
        "USERNAME",
        "USERNAME a b",
        "NETVER x",
        "PROTVER x",
        "HELP x",
        "LOGOUT x",
        "GET NUMLOGINS",
        "GET VAR dummy",
        "GET FOO",
        "GET FOO a",
        "GET foo a b c",
        "LIST",
        "LIST VAR",
        "LIST ENUM dummy",
        "LIST FOO a",
        "LIST FOO a b",
        "LIST FOO a b c",
    ] {
        assert_eq!(
            rejection(line, true, true),
            "ERR INVALID-ARGUMENT\n",
            "{line:?}"
        );
    }
    // Extra words upsd ignores.
    let accepted = [
        ("STARTTLS x", Request::StartTls),
        (
            "GET TRACKING a b",
            Request::Get(GetQuery::Tracking(TrackingId::from_wire("a"))),
        ),
        (
            "GET NUMLOGINS dummy extra",
            Request::Get(GetQuery::NumLogins {
                ups: "dummy".into(),
            }),
        ),
        (
            "GET VAR dummy UPS.STATUS a b",
            Request::Get(GetQuery::Var {
                ups: "dummy".into(),
                var: "UPS.STATUS".into(),
            }),
        ),
        ("LIST UPS extra", Request::List(ListQuery::Ups)),
        (
            "LIST RW dummy x",
            Request::List(ListQuery::Rw {
                ups: "dummy".into(),
            }),
        ),
        ("SET TRACKING on extra", Request::SetTracking(true)),
        (
            "SET VAR dummy ups.id \"v1\" extra more",
            Request::SetVar {
                ups: "dummy".into(),
                var: "ups.id".into(),
                value: "v1".into(),
            },
        ),
        (
            "INSTCMD dummy load.off \"a b\" c d",
            Request::InstCmd {
                ups: "dummy".into(),
                cmd: "load.off".into(),
                param: Some("a b".into()),
            },
        ),
    ];
    for (line, expected) in accepted {
        assert_eq!(
            Request::parse_with_credentials(&words(line), true, true),
            Ok(expected),
            "{line:?}"
        );
    }
}

#[test]
fn tokenizer_edge_cases_on_the_wire() {
    let status = Request::Get(GetQuery::Var {
        ups: "fake".into(),
        var: "ups.status".into(),
    });
    for line in [
        &b"GET VAR fake ups.status extra args\n"[..],
        b"GET VAR fake \"ups.status\"extra\n",
        b"GET VAR fake ups.sta\\\ntus\n",
        b"GET VAR fake ups.status\x01\n",
        b"GET VAR fake ups.status\r\n",
    ] {
        let words = token::split_bytes(line).unwrap();
        assert_eq!(Request::parse(&words), Ok(status.clone()), "{line:?}");
    }
    // '=' is a word of its own: GET VAR fake = ups.status → the variable is "=".
    let words = token::split_line("GET VAR fake=ups.status").unwrap();
    assert_eq!(
        Request::parse(&words),
        Ok(Request::Get(GetQuery::Var {
            ups: "fake".into(),
            var: "=".into()
        }))
    );
    let forty = format!("VER{}", " x".repeat(40));
    assert_eq!(rejection(&forty, false, false), "ERR INVALID-ARGUMENT\n");
}
