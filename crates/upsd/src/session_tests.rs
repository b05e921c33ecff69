//! Transcript tests of [`Session`] against a [`Server`] fed with driver lines.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use nut_core::token::{Limits, Tokenizer};

use super::*;
use crate::server::Settings;
use crate::ups::UpsDef;
use nut_core::conf::{parse_cmdvartab, parse_upsd_users};

const USERS: &[u8] = b"[admin]\n password = adminpass\n actions = SET FSD\n instcmds = ALL\n\
    [mon]\n password = monpass\n upsmon primary\n[sec]\n password = s\n upsmon secondary\n\
    [nobody]\n password = x\n";

const DUMP: &str = "SETINFO battery.charge \"90\"\nSETFLAGS battery.charge RW\n\
    SETINFO driver.name \"dummy-ups\"\n\
    SETINFO ups.id \"myid\"\nSETAUX ups.id 16\nSETFLAGS ups.id RW STRING\n\
    SETINFO ups.status \"OL CHRG\"\nSETAUX ups.status 32\nSETFLAGS ups.status RW STRING\n\
    SETINFO input.transfer.low \"100\"\nADDENUM input.transfer.low \"100\"\n\
    ADDENUM input.transfer.low \"95\"\nSETFLAGS input.transfer.low RW\n\
    SETINFO input.transfer.high \"125\"\nADDRANGE input.transfer.high 120 130\n\
    SETFLAGS input.transfer.high RW\nSETINFO ups.mfr \"Acme \\\"Power\\\"\"\n\
    ADDCMD load.off\nADDCMD beeper.enable\nDATAOK\nDUMPDONE\n";

struct Fixture {
    server: Server,
    now: Instant,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::with_settings(Settings::default())
    }

    fn with_settings(settings: Settings) -> Fixture {
        let (users, _) = parse_upsd_users(USERS, "upsd.users").unwrap().into_parts();
        let defs = vec![
            UpsDef {
                name: "dummy".into(),
                driver: "dummy-ups".into(),
                desc: Some("Test \"quoted\" UPS".into()),
            },
            UpsDef {
                name: "seq".into(),
                driver: "dummy-ups".into(),
                desc: None,
            },
        ];
        let (descs, _) = parse_cmdvartab(
            b"VARDESC ups.status \"UPS status\"\nCMDDESC load.off \"Turn off the load immediately\"\n",
            "cmdvartab",
        )
        .unwrap()
        .into_parts();
        let mut server = Server::new(settings, defs, users, descs, 1);
        let now = Instant::now();
        let key = server.find("dummy").map(|u| u.key).unwrap();
        server.driver_connected(key, "dummy-ups-dummy", now);
        let mut tok = Tokenizer::new(Limits::default());
        for line in tok.push_slice(DUMP.as_bytes()) {
            server.driver_line(key, &line.words, now);
        }
        while server.poll_driver_transmit().is_some() {}
        Fixture { server, now }
    }

    fn session(&mut self) -> Session {
        Session::new(&mut self.server, IpAddr::V4(Ipv4Addr::LOCALHOST), self.now)
    }

    /// Send raw bytes; return everything the session wrote.
    fn send(&mut self, session: &mut Session, bytes: &str) -> String {
        let mut tok = Tokenizer::new(Limits {
            max_line_bytes: Some(crate::MAX_REQUEST_LINE),
            ..Limits::default()
        });
        let mut out = String::new();
        for line in tok.push_slice(bytes.as_bytes()) {
            let _ = session.handle_line(self.now, &line.borrowed(), &mut self.server, &mut out);
        }
        out
    }

    fn req(&mut self, session: &mut Session, line: &str) -> String {
        self.send(session, &format!("{line}\n"))
    }
}

#[test]
fn basic_replies() {
    let mut f = Fixture::new();
    let mut s = f.session();
    assert_eq!(
        f.req(&mut s, "VER"),
        "Network UPS Tools upsd 2.8.0 - http://www.networkupstools.org/\n"
    );
    assert_eq!(f.req(&mut s, "VER extra"), "ERR INVALID-ARGUMENT\n");
    assert_eq!(f.req(&mut s, "protver"), "1.3\n");
    assert_eq!(f.req(&mut s, ""), "ERR UNKNOWN-COMMAND\n");
    assert_eq!(f.req(&mut s, "FOO"), "ERR UNKNOWN-COMMAND\n");
    assert_eq!(
        f.req(&mut s, "LIST UPS"),
        "BEGIN LIST UPS\nUPS dummy \"Test \\\"quoted\\\" UPS\"\n\
         UPS seq \"Description unavailable\"\nEND LIST UPS\n"
    );
    assert_eq!(
        f.req(&mut s, "GET UPSDESC seq"),
        "UPSDESC seq \"Unavailable\"\n"
    );
    assert_eq!(f.req(&mut s, "GET UPSDESC nosuch"), "ERR UNKNOWN-UPS\n");
    assert_eq!(
        f.req(&mut s, "GET VAR DUMMY ups.status"),
        "VAR DUMMY ups.status \"OL CHRG\"\n"
    );
    assert_eq!(
        f.req(&mut s, "GET VAR x SERVER.Version"),
        "VAR x server.version \"2.8.0\"\n"
    );
    assert_eq!(
        f.req(&mut s, "GET VAR x server.foo"),
        "ERR VAR-NOT-SUPPORTED\n"
    );
    assert_eq!(
        f.req(&mut s, "GET VAR seq ups.status"),
        "ERR DRIVER-NOT-CONNECTED\n"
    );
    assert_eq!(
        f.req(&mut s, "GET TYPE dummy ups.status"),
        "TYPE dummy ups.status RW STRING:32\n"
    );
    assert_eq!(
        f.req(&mut s, "GET TYPE dummy driver.name"),
        "TYPE dummy driver.name NUMBER\n"
    );
    assert_eq!(
        f.req(&mut s, "GET TYPE dummy input.transfer.low"),
        "TYPE dummy input.transfer.low RW ENUM NUMBER\n"
    );
    assert_eq!(
        f.req(&mut s, "GET DESC dummy nosuch"),
        "DESC dummy nosuch \"Description unavailable\"\n"
    );
    assert_eq!(
        f.req(&mut s, "GET CMDDESC dummy load.off"),
        "CMDDESC dummy load.off \"Turn off the load immediately\"\n"
    );
    assert_eq!(f.req(&mut s, "GET TRACKING"), "OFF\n");
    assert_eq!(
        f.req(&mut s, "GET TRACKING abc"),
        "ERR FEATURE-NOT-CONFIGURED\n"
    );
    assert_eq!(f.req(&mut s, "STARTTLS"), "ERR FEATURE-NOT-CONFIGURED\n");
    assert_eq!(
        f.req(&mut s, "LIST CMD Dummy"),
        "BEGIN LIST CMD Dummy\nCMD Dummy beeper.enable\nCMD Dummy load.off\nEND LIST CMD Dummy\n"
    );
    assert_eq!(
        f.req(&mut s, "LIST RANGE dummy input.transfer.high"),
        "BEGIN LIST RANGE dummy input.transfer.high\n\
         RANGE dummy input.transfer.high \"120\" \"130\"\n\
         END LIST RANGE dummy input.transfer.high\n"
    );
    assert_eq!(
        f.req(&mut s, "LIST ENUM dummy nosuch"),
        "ERR VAR-NOT-SUPPORTED\n"
    );
    assert_eq!(f.req(&mut s, "LIST VAR seq"), "ERR DRIVER-NOT-CONNECTED\n");
}

#[test]
fn names_are_case_insensitive_and_echoed_as_sent() {
    let mut f = Fixture::new();
    let mut s = f.session();
    // As upsd 2.8.0 (checked on loopback): the lookup ignores case, the reply repeats the
    // names as the client wrote them.
    assert_eq!(
        f.req(&mut s, "GET VAR DUMMY UPS.Status"),
        "VAR DUMMY UPS.Status \"OL CHRG\"\n"
    );
    assert_eq!(
        f.req(&mut s, "GET VAR dummy ups.status"),
        "VAR dummy ups.status \"OL CHRG\"\n"
    );
    assert_eq!(
        f.req(&mut s, "GET VAR dummy ups.nothing"),
        "ERR VAR-NOT-SUPPORTED\n"
    );
}

#[test]
fn get_var_words_as_upsd_reads_them() {
    let mut f = Fixture::new();
    let mut s = f.session();
    // Any case for the command and sub-command, words after the variable ignored, too few
    // words an INVALID-ARGUMENT, another sub-command not taken for VAR.
    assert_eq!(
        f.req(&mut s, "get vAr dummy ups.status"),
        "VAR dummy ups.status \"OL CHRG\"\n"
    );
    assert_eq!(
        f.req(&mut s, "GET VAR dummy ups.status extra words"),
        "VAR dummy ups.status \"OL CHRG\"\n"
    );
    assert_eq!(f.req(&mut s, "GET VAR dummy"), "ERR INVALID-ARGUMENT\n");
    assert_eq!(f.req(&mut s, "GET VAR"), "ERR INVALID-ARGUMENT\n");
    assert_eq!(
        f.req(&mut s, "GET VARS dummy ups.status"),
        "ERR INVALID-ARGUMENT\n"
    );
    assert_eq!(
        f.req(&mut s, "GET VAR nosuch ups.status"),
        "ERR UNKNOWN-UPS\n"
    );
}

#[test]
fn parse_errors_get_no_reply_and_long_lines_an_error() {
    let mut f = Fixture::new();
    let mut s = f.session();
    assert_eq!(f.req(&mut s, "GET VAR dummy \"ups.st#atus\""), "");
    let long = format!("GET VAR dummy {}", "a".repeat(1 << 20));
    assert_eq!(f.req(&mut s, &long), "ERR INVALID-ARGUMENT\n");
    assert_eq!(
        f.send(&mut s, "GET VAR du\u{1}mmy ups.status\n"),
        "VAR dummy ups.status \"OL CHRG\"\n"
    );
}

#[test]
fn authentication_order() {
    let mut f = Fixture::new();
    let mut s = f.session();
    assert_eq!(f.req(&mut s, "LOGIN dummy"), "ERR USERNAME-REQUIRED\n");
    assert_eq!(f.req(&mut s, "SET"), "ERR USERNAME-REQUIRED\n");
    assert_eq!(f.req(&mut s, "USERNAME"), "ERR INVALID-ARGUMENT\n");
    assert_eq!(f.req(&mut s, "USERNAME admin"), "OK\n");
    assert_eq!(f.req(&mut s, "LOGIN dummy"), "ERR PASSWORD-REQUIRED\n");
    assert_eq!(
        f.req(&mut s, "USERNAME admin2"),
        "ERR ALREADY-SET-USERNAME\n"
    );
    assert_eq!(f.req(&mut s, "PASSWORD wrong"), "OK\n");
    assert_eq!(
        f.req(&mut s, "PASSWORD again"),
        "ERR ALREADY-SET-PASSWORD\n"
    );
    assert_eq!(
        f.req(&mut s, "SET VAR dummy ups.id \"x\""),
        "ERR ACCESS-DENIED\n"
    );
    assert_eq!(
        f.req(&mut s, "SET VAR seq ups.id \"x\""),
        "ERR DRIVER-NOT-CONNECTED\n"
    );
    assert_eq!(
        f.req(&mut s, "SET VAR nosuch ups.id \"x\""),
        "ERR UNKNOWN-UPS\n"
    );
    assert_eq!(
        f.req(&mut s, "INSTCMD dummy nosuch"),
        "ERR CMD-NOT-SUPPORTED\n"
    );
    assert_eq!(
        f.req(&mut s, "INSTCMD dummy load.off"),
        "ERR ACCESS-DENIED\n"
    );
    // With the wrong password every privileged request is refused.
    for line in ["LOGIN dummy", "FSD dummy", "PRIMARY dummy"] {
        assert_eq!(f.req(&mut s, line), "ERR ACCESS-DENIED\n", "{line}");
    }
}

#[test]
fn admin_set_and_instcmd_with_tracking() {
    let mut f = Fixture::new();
    let mut s = f.session();
    f.req(&mut s, "USERNAME admin");
    f.req(&mut s, "PASSWORD adminpass");
    let key = f.server.find("dummy").unwrap().key;
    let r = |f: &mut Fixture, s: &mut Session, l: &str| f.req(s, l);
    assert_eq!(
        r(
            &mut f,
            &mut s,
            "SET VAR dummy ups.id \"this string is longer than sixteen\""
        ),
        "ERR TOO-LONG\n"
    );
    assert_eq!(
        r(&mut f, &mut s, "SET VAR dummy driver.name x"),
        "ERR READONLY\n"
    );
    assert_eq!(
        r(&mut f, &mut s, "SET VAR dummy nosuch x"),
        "ERR VAR-NOT-SUPPORTED\n"
    );
    assert_eq!(
        r(&mut f, &mut s, "SET VAR dummy ups.id"),
        "ERR INVALID-ARGUMENT\n"
    );
    assert_eq!(
        r(&mut f, &mut s, "SET VAR dummy input.transfer.low 99"),
        "ERR INVALID-VALUE\n"
    );
    assert_eq!(
        r(&mut f, &mut s, "SET VAR dummy input.transfer.low 95"),
        "OK\n"
    );
    assert_eq!(
        f.server.poll_driver_transmit(),
        Some((key, "SET input.transfer.low \"95\"\n".into()))
    );
    assert_eq!(
        r(&mut f, &mut s, "SET VAR dummy input.transfer.high 131"),
        "ERR INVALID-VALUE\n"
    );
    assert_eq!(
        r(&mut f, &mut s, "SET VAR dummy input.transfer.high 125.9"),
        "OK\n"
    );
    assert_eq!(
        r(&mut f, &mut s, "SET VAR dummy input.transfer.high 12abc"),
        "ERR INVALID-VALUE\n",
        "deliberate fix: no atoi"
    );
    assert_eq!(
        r(&mut f, &mut s, "SET VAR dummy battery.charge abc"),
        "OK\n"
    );
    assert_eq!(
        r(&mut f, &mut s, "SET TRACKING maybe"),
        "ERR INVALID-ARGUMENT\n"
    );
    assert_eq!(r(&mut f, &mut s, "SET TRACKING on"), "OK\n");
    assert_eq!(r(&mut f, &mut s, "GET TRACKING"), "ON\n");
    while f.server.poll_driver_transmit().is_some() {}
    let reply = r(&mut f, &mut s, "INSTCMD dummy load.off \"a b\"");
    let id = reply
        .strip_prefix("OK TRACKING ")
        .and_then(|r| r.strip_suffix('\n'))
        .unwrap()
        .to_owned();
    assert_eq!(
        f.server.poll_driver_transmit(),
        Some((key, format!("INSTCMD load.off \"a b\" TRACKING {id}\n"))),
        "deliberate fix: the parameter stays one word"
    );
    assert_eq!(
        r(&mut f, &mut s, &format!("GET TRACKING {id}")),
        "PENDING\n"
    );
    f.server
        .driver_line(key, &["TRACKING", id.as_str(), "0"], f.now);
    let lower = id.to_ascii_lowercase();
    assert_eq!(
        r(&mut f, &mut s, &format!("GET TRACKING {lower}")),
        "SUCCESS\n"
    );
    assert_eq!(
        r(&mut f, &mut s, "GET TRACKING nonexistent"),
        "ERR UNKNOWN\n"
    );
    assert_eq!(r(&mut f, &mut s, "SET TRACKING OFF"), "OK\n");
    assert_eq!(r(&mut f, &mut s, "INSTCMD dummy LOAD.OFF"), "OK\n");
    assert_eq!(r(&mut f, &mut s, "LOGIN dummy"), "ERR ACCESS-DENIED\n");
    assert_eq!(r(&mut f, &mut s, "FSD dummy"), "OK FSD-SET\n");
    assert_eq!(
        r(&mut f, &mut s, "GET VAR dummy ups.status"),
        "VAR dummy ups.status \"FSD OL CHRG\"\n"
    );
    assert!(r(&mut f, &mut s, "LIST VAR dummy").contains("VAR dummy ups.status \"FSD OL CHRG\"\n"));
    assert!(r(&mut f, &mut s, "LIST RW dummy").contains("RW dummy ups.status \"OL CHRG\"\n"));
    assert_eq!(f.send(&mut s, "LOGOUT\nNETVER\n"), "OK Goodbye\n1.3\n");
    assert!(s.is_closing());
}

#[test]
fn logins_primary_and_list_client() {
    let mut f = Fixture::new();
    let mut a = f.session();
    let mut b = f.session();
    f.send(&mut a, "USERNAME mon\nPASSWORD monpass\n");
    assert_eq!(f.req(&mut a, "LOGIN dummy"), "OK\n");
    assert_eq!(f.req(&mut a, "LOGIN seq"), "ERR ALREADY-LOGGED-IN\n");
    assert_eq!(f.req(&mut a, "PRIMARY dummy"), "OK PRIMARY-GRANTED\n");
    assert_eq!(f.req(&mut a, "MASTER dummy"), "OK MASTER-GRANTED\n");
    assert_eq!(f.req(&mut a, "PRIMARY nosuch"), "ERR UNKNOWN-UPS\n");
    f.send(&mut b, "USERNAME sec\nPASSWORD s\n");
    assert_eq!(f.req(&mut b, "LOGIN DUMMY"), "OK\n");
    assert_eq!(f.req(&mut b, "PRIMARY dummy"), "ERR ACCESS-DENIED\n");
    assert_eq!(f.req(&mut b, "FSD dummy"), "ERR ACCESS-DENIED\n");
    assert_eq!(f.req(&mut b, "GET NUMLOGINS dummy"), "NUMLOGINS dummy 2\n");
    assert_eq!(
        f.req(&mut b, "LIST CLIENT DUMMY"),
        "BEGIN LIST CLIENT DUMMY\nCLIENT dummy 127.0.0.1\nCLIENT dummy 127.0.0.1\n\
         END LIST CLIENT DUMMY\n"
    );
    b.handle_close(&mut f.server);
    assert_eq!(f.req(&mut a, "GET NUMLOGINS dummy"), "NUMLOGINS dummy 1\n");
    // LOGIN needs no availability.
    let mut c = f.session();
    f.send(&mut c, "USERNAME sec\nPASSWORD s\n");
    assert_eq!(f.req(&mut c, "LOGIN seq"), "OK\n");
}

#[test]
fn stale_data_answers() {
    let mut f = Fixture::new();
    let mut s = f.session();
    let key = f.server.find("dummy").unwrap().key;
    f.server.driver_line(key, &["DATASTALE"], f.now);
    for line in [
        "GET VAR dummy ups.status",
        "LIST VAR dummy",
        "GET NUMLOGINS dummy",
        "GET TYPE dummy ups.status",
    ] {
        assert_eq!(f.req(&mut s, line), "ERR DATA-STALE\n", "{line}");
    }
    // What upsd.conf says about the UPS does not depend on the driver's data.
    assert_eq!(
        f.req(&mut s, "GET UPSDESC dummy"),
        "UPSDESC dummy \"Test \\\"quoted\\\" UPS\"\n"
    );
    assert_eq!(
        f.req(&mut s, "LIST CLIENT dummy"),
        "BEGIN LIST CLIENT dummy\nEND LIST CLIENT dummy\n"
    );
    f.server.driver_line(key, &["DATAOK"], f.now);
    assert_eq!(
        f.req(&mut s, "GET VAR dummy ups.status"),
        "VAR dummy ups.status \"OL CHRG\"\n"
    );
    // A driver that went away is not stale data: the reply says so.
    f.server.driver_disconnected(key, f.now);
    assert_eq!(
        f.req(&mut s, "GET VAR dummy ups.status"),
        "ERR DRIVER-NOT-CONNECTED\n"
    );
}

fn kicks(server: &mut Server) -> Vec<ClientId> {
    std::iter::from_fn(|| server.poll_event())
        .filter_map(|e| match e {
            crate::server::ServerEvent::KickClient(id) => Some(id),
            _ => None,
        })
        .collect()
}

/// The 60-second idle limit in virtual time: any bytes (even half a line) or a request
/// restart the clock; a client silent for more than the limit is kicked, once.
#[test]
fn a_silent_client_is_kicked_after_the_idle_limit() {
    let mut f = Fixture::new();
    let t0 = f.now;
    let secs = |n| t0 + Duration::from_secs(n);
    let quiet = f.session();
    let mut talker = f.session();
    while f.server.poll_event().is_some() {}
    f.server.handle_timeout(secs(60));
    assert_eq!(
        kicks(&mut f.server),
        [],
        "exactly at the limit is not over it"
    );
    // Half a line at 30 s keeps `talker`; nothing keeps `quiet`.
    talker.handle_activity(secs(30), &mut f.server);
    let due = f.server.poll_timeout().unwrap();
    assert!(due <= secs(60) + Duration::from_millis(1), "{due:?}");
    f.server.handle_timeout(secs(60) + Duration::from_millis(1));
    assert_eq!(kicks(&mut f.server), [quiet.id()]);
    let idle_lines = logs(&mut f.server);
    assert!(
        idle_lines.contains(&"Client 127.0.0.1 idle for too long: disconnecting".to_owned()),
        "{idle_lines:?}"
    );
    // A complete request at 80 s; the kicked client is not kicked twice.
    f.now = secs(80);
    assert_eq!(f.req(&mut talker, "NETVER"), "1.3\n");
    f.server.handle_timeout(secs(140));
    assert_eq!(kicks(&mut f.server), []);
    f.server
        .handle_timeout(secs(140) + Duration::from_millis(1));
    assert_eq!(kicks(&mut f.server), [talker.id()]);
    quiet.handle_close(&mut f.server);
    talker.handle_close(&mut f.server);
    assert_eq!(f.server.client_count(), 0);
}

/// The limit comes from the settings (upsd.conf cannot change it; the test override can).
#[test]
fn the_idle_limit_is_a_setting() {
    let mut f = Fixture::with_settings(Settings {
        idle_timeout: Duration::from_secs(2),
        ..Settings::default()
    });
    let s = f.session();
    while f.server.poll_event().is_some() {}
    f.server.handle_timeout(f.now + Duration::from_millis(2001));
    assert_eq!(kicks(&mut f.server), [s.id()]);
}

#[test]
fn range_check() {
    use nut_core::sock::Range;
    let r = [Range { min: 120, max: 130 }, Range { min: 135, max: 140 }];
    assert!(in_ranges("125.9", &r));
    assert!(in_ranges("137", &r));
    assert!(in_ranges(" 130", &r));
    assert!(!in_ranges("130.5", &r));
    assert!(!in_ranges("131", &r));
    assert!(!in_ranges("", &r));
    assert!(!in_ranges("1e2", &r));
    assert!(!in_ranges("-", &r));
}

#[test]
fn starttls_when_tls_is_configured() {
    let mut f = Fixture::with_settings(Settings {
        tls_available: true,
        ..Settings::default()
    });
    let mut s = f.session();
    let mut out = String::new();
    let mut tok = Tokenizer::new(Limits::default());
    let line = tok.push_slice(b"STARTTLS\n").remove(0);
    let action = s.handle_line(f.now, &line.borrowed(), &mut f.server, &mut out);
    assert_eq!(out, "OK STARTTLS\n");
    assert_eq!(action, Some(SessionAction::StartTls));
    s.handle_tls_established();
    assert!(s.is_tls());
    assert_eq!(f.req(&mut s, "STARTTLS"), "ERR ALREADY-SSL-MODE\n");
    assert_eq!(
        f.req(&mut s, "GET VAR dummy ups.status"),
        "VAR dummy ups.status \"OL CHRG\"\n"
    );
}

#[test]
fn reload_changes_credentials_for_connected_sessions() {
    let mut f = Fixture::new();
    let mut s = f.session();
    f.send(&mut s, "USERNAME admin\nPASSWORD adminpass\n");
    assert_eq!(f.req(&mut s, "FSD seq"), "OK FSD-SET\n");
    let (users, _) = parse_upsd_users(&b"[admin]\n password = other\n actions = FSD\n"[..], "u")
        .unwrap()
        .into_parts();
    let defs = f.server.upses().iter().map(|u| u.def.clone()).collect();
    let descs = f.server.descriptions().clone();
    f.server.reload(Settings::default(), defs, users, descs);
    assert_eq!(f.req(&mut s, "FSD seq"), "ERR ACCESS-DENIED\n");
}

fn logs(server: &mut Server) -> Vec<String> {
    std::iter::from_fn(|| server.poll_log())
        .map(|l| l.text)
        .collect()
}

#[test]
fn repeated_misuse_is_logged_a_few_times_then_counted() {
    let mut f = Fixture::new();
    let mut s = f.session();
    logs(&mut f.server);
    assert_eq!(f.req(&mut s, "USERNAME first"), "OK\n");
    let flood = "USERNAME \"x\"\n".repeat(20_000);
    let out = f.send(&mut s, &flood);
    assert_eq!(out, "ERR ALREADY-SET-USERNAME\n".repeat(20_000));
    let lines = logs(&mut f.server);
    assert_eq!(lines.len(), crate::server::LOG_BURST as usize, "{lines:?}");
    assert!(
        lines
            .iter()
            .all(|l| l == "Client first@127.0.0.1 tried to set a username twice"),
        "{lines:?}"
    );
    // The count comes when the window ends, even if the flood has stopped.
    let due = f.server.poll_timeout().unwrap();
    assert!(due <= f.now + crate::server::LOG_WINDOW + Duration::from_millis(1));
    f.server.handle_timeout(f.now + crate::server::LOG_WINDOW);
    let summary: Vec<String> = logs(&mut f.server)
        .into_iter()
        .filter(|l| !l.contains("is stale"))
        .collect();
    let expected = 20_000 - crate::server::LOG_BURST as usize;
    assert_eq!(
        summary,
        [format!(
            "{expected} more protocol misuse messages not logged in the last 60 seconds"
        )]
    );
    // A new window logs again.
    f.now += crate::server::LOG_WINDOW;
    f.req(&mut s, "USERNAME again");
    assert_eq!(
        logs(&mut f.server),
        ["Client first@127.0.0.1 tried to set a username twice"]
    );
}

#[test]
fn every_refusal_is_logged_with_the_peer_and_without_the_password() {
    let mut f = Fixture::new();
    let mut s = f.session();
    logs(&mut f.server);
    f.req(&mut s, "USERNAME sec");
    f.req(&mut s, "PASSWORD wrong-secret");
    assert_eq!(f.req(&mut s, "LOGIN dummy"), "ERR ACCESS-DENIED\n");
    assert_eq!(f.req(&mut s, "FSD dummy"), "ERR ACCESS-DENIED\n");
    let mut ok = f.session();
    f.req(&mut ok, "USERNAME sec");
    f.req(&mut ok, "PASSWORD s");
    assert_eq!(f.req(&mut ok, "FSD dummy"), "ERR ACCESS-DENIED\n");
    assert_eq!(
        f.req(&mut ok, "SET VAR dummy ups.id \"new\""),
        "ERR ACCESS-DENIED\n"
    );
    assert_eq!(
        f.req(&mut ok, "INSTCMD dummy load.off"),
        "ERR ACCESS-DENIED\n"
    );
    assert_eq!(f.req(&mut ok, "PRIMARY dummy"), "ERR ACCESS-DENIED\n");
    assert_eq!(
        logs(&mut f.server),
        [
            "Access denied: sec@127.0.0.1 LOGIN dummy (unknown user or wrong password)",
            "Access denied: sec@127.0.0.1 FSD dummy (unknown user or wrong password)",
            "Access denied: sec@127.0.0.1 FSD dummy (not permitted for this user)",
            "Access denied: sec@127.0.0.1 SET VAR dummy ups.id (not permitted for this user)",
            "Access denied: sec@127.0.0.1 INSTCMD dummy load.off (not permitted for this user)",
            "Access denied: sec@127.0.0.1 PRIMARY dummy (not permitted for this user)",
        ]
    );
}

#[test]
fn forcessl_refuses_credentials_and_privileged_commands_without_tls() {
    let settings = Settings {
        tls_available: true,
        force_tls: true,
        ..Settings::default()
    };
    let mut f = Fixture::with_settings(settings);
    logs(&mut f.server);
    let mut plain = f.session();
    // Reading is not affected.
    assert_eq!(
        f.req(&mut plain, "GET VAR dummy battery.charge"),
        "VAR dummy battery.charge \"90\"\n"
    );
    assert_eq!(f.req(&mut plain, "USERNAME admin"), "ERR ACCESS-DENIED\n");
    assert_eq!(
        f.req(&mut plain, "PASSWORD adminpass"),
        "ERR ACCESS-DENIED\n"
    );
    assert_eq!(
        logs(&mut f.server),
        [
            "Access denied: (null)@127.0.0.1 USERNAME admin (not a TLS connection (FORCESSL))",
            "Access denied: (null)@127.0.0.1 PASSWORD (not a TLS connection (FORCESSL))",
        ]
    );
    // Over TLS everything works as usual.
    let mut tls = f.session();
    tls.handle_tls_established();
    assert_eq!(f.req(&mut tls, "USERNAME mon"), "OK\n");
    assert_eq!(f.req(&mut tls, "PASSWORD monpass"), "OK\n");
    assert_eq!(f.req(&mut tls, "LOGIN dummy"), "OK\n");
    assert_eq!(f.req(&mut tls, "PRIMARY dummy"), "OK PRIMARY-GRANTED\n");
    assert_eq!(f.req(&mut tls, "FSD dummy"), "OK FSD-SET\n");
    let mut admin = f.session();
    admin.handle_tls_established();
    f.send(&mut admin, "USERNAME admin\nPASSWORD adminpass\n");
    assert_eq!(f.req(&mut admin, "INSTCMD dummy load.off"), "OK\n");
    assert_eq!(f.req(&mut admin, "SET VAR dummy ups.id \"x\""), "OK\n");
    assert!(
        logs(&mut f.server)
            .iter()
            .all(|l| !l.starts_with("Access denied"))
    );
}

#[test]
fn a_driver_that_stops_reading_gets_no_more_commands() {
    let mut f = Fixture::new();
    let mut s = f.session();
    f.req(&mut s, "USERNAME admin");
    f.req(&mut s, "PASSWORD adminpass");
    let key = f.server.find("dummy").unwrap().key;
    let param = "p".repeat(7000);
    let mut accepted = 0usize;
    let refused = loop {
        let reply = f.req(&mut s, &format!("INSTCMD dummy load.off {param}"));
        if reply != "OK\n" {
            break reply;
        }
        accepted += 1;
        assert!(accepted < 10_000, "the queue never filled up");
    };
    assert_eq!(refused, "ERR INSTCMD-FAILED\n");
    assert!(f.server.driver_backlog(key) >= DRIVER_QUEUE_LIMIT);
    assert!(f.server.driver_backlog(key) < DRIVER_QUEUE_LIMIT + 8 * 1024);
    assert_eq!(
        f.req(&mut s, "SET VAR dummy ups.id \"x\""),
        "ERR SET-FAILED\n"
    );
    // Once the driver has read its queue, commands go through again.
    let queued = f.server.driver_backlog(key);
    f.server.driver_written(key, queued);
    assert_eq!(f.req(&mut s, "INSTCMD dummy load.off"), "OK\n");
    let lines = logs(&mut f.server);
    assert!(
        lines.iter().any(|l| l.starts_with(
            "INSTCMD from admin@127.0.0.1 on UPS [dummy] refused: the driver is not reading its socket"
        )),
        "{lines:?}"
    );
}
