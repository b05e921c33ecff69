use super::*;
use crate::conf::testutil::{clean, errors, warnings};

fn parse(text: &str) -> ConfResult<UpsdConf> {
    parse_upsd_conf(text, "upsd.conf")
}

#[test]
fn defaults() {
    let c = clean(parse(""));
    assert_eq!(c, UpsdConf::default());
    assert_eq!(c.maxage, 15);
    assert_eq!(c.trackingdelay, 3600);
    let l = c.listeners();
    assert_eq!(l.len(), 2);
    assert_eq!(l[0].addr, ListenAddr::Host("127.0.0.1".into()));
    assert_eq!(l[1].addr, ListenAddr::Host("::1".into()));
    assert!(l.iter().all(|x| x.port == 3493));
}

#[test]
fn every_directive() {
    let c = clean(parse(
        "LISTEN 127.0.0.1 3493\nLISTEN ::1\nLISTEN * 34939\nMAXAGE 30\nTRACKINGDELAY 60\n\
         MAXCONN 1024\nSTATEPATH /run/nut\nDATAPATH /usr/share/nut\nALLOW_NO_DEVICE true\n\
         ALLOW_NOT_ALL_LISTENERS 5\nCERTFILE /etc/nut/cert.pem\nCERTPATH /etc/ssl/certs\n\
         CERTIDENT \"my cert\" \"pass word\"\nCERTREQUEST REQUIRE\nDISABLE_WEAK_SSL on\ndebug_min 2\n",
    ));
    assert_eq!(
        c.listen,
        [
            Listen {
                addr: ListenAddr::Host("127.0.0.1".into()),
                port: 3493,
                line: 1
            },
            Listen {
                addr: ListenAddr::Host("::1".into()),
                port: 3493,
                line: 2
            },
            Listen {
                addr: ListenAddr::Any,
                port: 34939,
                line: 3
            },
        ]
    );
    assert_eq!(c.listeners(), c.listen);
    assert_eq!((c.maxage, c.trackingdelay, c.maxconn), (30, 60, Some(1024)));
    assert_eq!(c.statepath.as_deref(), Some("/run/nut"));
    assert_eq!(c.datapath.as_deref(), Some("/usr/share/nut"));
    assert!(c.allow_no_device && c.allow_not_all_listeners && c.disable_weak_ssl);
    assert_eq!(c.certfile.as_deref(), Some("/etc/nut/cert.pem"));
    assert_eq!(c.certpath.as_deref(), Some("/etc/ssl/certs"));
    let ident = c.certident.unwrap();
    assert_eq!(
        (ident.name.as_str(), ident.password.as_str()),
        ("my cert", "pass word")
    );
    assert_eq!(c.certrequest, CertRequest::Require);
    assert_eq!(c.debug_min, Some(2));
}

#[test]
fn certrequest_forms() {
    for (word, want) in [
        ("0", CertRequest::No),
        ("no", CertRequest::No),
        ("1", CertRequest::Request),
        ("Request", CertRequest::Request),
        ("2", CertRequest::Require),
    ] {
        let c = clean(parse(&format!("CERTREQUEST {word}\n")));
        assert_eq!(c.certrequest, want, "{word}");
    }
}

#[test]
fn warnings_for_ignored_lines() {
    let (c, w) = warnings(parse(
        "FOO 1\nlisten 0.0.0.0\nACCEPT all\nACL all 0.0.0.0/0\nMAXAGE 20 extra\nMAXAGE 25\n\
         LISTEN 127.0.0.1\nLISTEN 127.0.0.1 3493\nREJECT\n",
    ));
    assert_eq!(
        w,
        [
            "upsd.conf:1: unknown directive FOO (ignored)",
            "upsd.conf:2: unknown directive listen (ignored; keywords are case-sensitive, did you mean LISTEN?)",
            "upsd.conf:3: ACCEPT is no longer supported (ignored): use LISTEN, and a firewall for access control",
            "upsd.conf:4: ACL is no longer supported (ignored): use LISTEN, and a firewall for access control",
            "upsd.conf:5: extra words ignored: extra (usage: MAXAGE <seconds>)",
            "upsd.conf:6: MAXAGE already set at line 5; this later value wins",
            "upsd.conf:8: LISTEN 127.0.0.1 3493 repeats line 7 (ignored)",
            "upsd.conf:9: REJECT is no longer supported (ignored): use LISTEN, and a firewall for access control",
        ]
    );
    assert_eq!(c.maxage, 25);
    assert_eq!(c.listen.len(), 1);
}

#[test]
fn errors_for_bad_values() {
    assert_eq!(
        errors(parse(
            "MAXAGE\nMAXAGE 15s\nLISTEN\nLISTEN 127.0.0.1 nut\nLISTEN ::1 0\nLISTEN \"\"\n\
             ALLOW_NO_DEVICE maybe\nCERTREQUEST 3\nCERTIDENT onlyname\nDISABLE_WEAK_SSL 2\n\
             MAXCONN 0\nDEBUG_MIN x\nTRACKINGDELAY -1\n"
        )),
        [
            "upsd.conf:1: MAXAGE needs 2 words: MAXAGE <seconds>",
            "upsd.conf:2: MAXAGE: expected a whole number >= 1, got '15s'",
            "upsd.conf:3: LISTEN needs at least 2 words: LISTEN <address|*> [<port>]",
            "upsd.conf:4: LISTEN: port must be a number from 1 to 65535, got 'nut'",
            "upsd.conf:5: LISTEN: port must be a number from 1 to 65535, got '0'",
            "upsd.conf:6: LISTEN: empty address (use * for every address)",
            "upsd.conf:7: ALLOW_NO_DEVICE: expected yes|no (also true|false, on|off, 1|0), got 'maybe'",
            "upsd.conf:8: CERTREQUEST: expected 0, 1, 2, NO, REQUEST or REQUIRE, got '3'",
            "upsd.conf:9: CERTIDENT needs 3 words: CERTIDENT <certificate name> <password>",
            "upsd.conf:10: DISABLE_WEAK_SSL: expected yes|no (also true|false, on|off, 1|0), got '2'",
            "upsd.conf:11: MAXCONN: expected a whole number >= 1, got '0'",
            "upsd.conf:12: DEBUG_MIN: expected a whole number >= 0, got 'x'",
            "upsd.conf:13: TRACKINGDELAY: expected a whole number >= 0, got '-1'",
        ]
    );
}

#[test]
fn tokenizer_errors() {
    assert_eq!(
        errors(parse(
            "STATEPATH \"/run/#nut\"\nLISTEN 127.0.0.1\nDATAPATH \"/usr/share"
        )),
        [
            "upsd.conf:1: '#' inside quotes must be escaped as \\# (line rejected)",
            "upsd.conf:3: missing closing quote (line rejected)",
        ]
    );
}

#[test]
fn forcessl_is_a_flag_and_needs_certfile() {
    assert!(!clean(parse("")).force_ssl);
    let c = clean(parse("CERTFILE /etc/nut/upsd.pem\nFORCESSL 1\n"));
    assert!(c.force_ssl);
    let c = clean(parse("CERTFILE /etc/nut/upsd.pem\nFORCESSL off\n"));
    assert!(!c.force_ssl);
    assert_eq!(
        errors(parse("MAXAGE 20\nFORCESSL on\n")),
        ["upsd.conf:2: FORCESSL needs CERTFILE: without TLS no client could ever log in"]
    );
    // Off without CERTFILE is fine.
    assert!(!clean(parse("FORCESSL 0\n")).force_ssl);
    assert_eq!(
        errors(parse("CERTFILE x\nFORCESSL maybe\n")),
        ["upsd.conf:2: FORCESSL: expected yes|no (also true|false, on|off, 1|0), got 'maybe'"]
    );
}
