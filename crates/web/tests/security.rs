//! nut-web under hostile load and toward untrusted servers, with real sockets:
//! * 80 half-sent requests (slowloris) under a 64-descriptor limit: `/healthz` still
//!   answers, and the half-sent connections are closed (header-read timeout, connection cap);
//! * concurrent scrapes share one polling round (one `LIST VAR` upstream, counted by a fake
//!   upsd), instead of one round each;
//! * TLS required (`--certverify --certpath`): a man in the middle refusing STARTTLS never
//!   gets the credentials, a real TLS upsd (ours) is read.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use nut_harness::fake_upsd::{FakeUpsd, Reply};
use nut_harness::pki::Pki;
use nut_harness::{Daemon, Impl, StackBuilder, free_port, wait_until};
use nut_web::config::Target;
use nut_web::poll::{Descriptions, Poller};

const TIMEOUT: Duration = Duration::from_secs(30);

/// A fake upsd for UPS `ups`: no TLS, a two-variable `LIST VAR` after `delay`.
fn fake_upsd(delay: Duration) -> FakeUpsd {
    FakeUpsd::start(move |line| match line {
        "STARTTLS" => Reply::Lines(vec!["ERR FEATURE-NOT-CONFIGURED".into()]),
        "LIST VAR ups" => Reply::After(
            delay,
            vec![
                "BEGIN LIST VAR ups".into(),
                "VAR ups ups.status \"OL\"".into(),
                "VAR ups battery.charge \"100\"".into(),
                "END LIST VAR ups".into(),
            ],
        ),
        "GET UPSDESC ups" => Reply::Lines(vec!["UPSDESC ups \"Unavailable\"".into()]),
        l if l.starts_with("USERNAME") || l.starts_with("PASSWORD") => {
            Reply::Lines(vec!["OK".into()])
        }
        "LOGOUT" => Reply::Lines(vec!["OK Goodbye".into()]),
        _ => Reply::Lines(vec!["ERR UNKNOWN-COMMAND".into()]),
    })
}

/// nut-web showing `ups@127.0.0.1:<upsd>`, with `args`; waits for /healthz.
fn start_web(upsd: u16, args: &[&str], setup: impl FnOnce(&mut Command)) -> (Daemon, u16) {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nut-web"));
    cmd.env("NUT_CONFPATH", dir.path())
        .env_remove("NUT_WEB_USERNAME")
        .env_remove("NUT_WEB_PASSWORD")
        .env_remove("NOTIFY_SOCKET")
        .args(["-l", &format!("127.0.0.1:{port}")])
        .args(["-m", &format!("ups@127.0.0.1:{upsd}")])
        .args(args);
    for (var, _) in nut_client::TLS_ENV {
        cmd.env_remove(var);
    }
    setup(&mut cmd);
    let web = Daemon::spawn("nut-web", cmd);
    wait_until("nut-web to answer /healthz", TIMEOUT, || {
        assert!(web.is_running(), "nut-web exited:\n{}", web.output_so_far());
        let r = nut_harness::http::try_get(port, "/healthz").ok()?;
        (r.status == 200).then_some(())
    });
    (web, port)
}

/// A connection that sent the start of a request head and nothing more.
fn half_sent(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").expect("send");
    s
}

/// Whether the server has closed `s` (EOF or reset); `None` while it is still open.
fn closed(s: &mut TcpStream) -> Option<()> {
    s.set_read_timeout(Some(Duration::from_millis(50))).ok()?;
    let mut buf = [0u8; 512];
    match s.read(&mut buf) {
        Ok(0) => Some(()),
        // A 408 or 503 reply is followed by the close; read on.
        Ok(_) => closed(s),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            None
        }
        Err(_) => Some(()),
    }
}

#[test]
fn half_sent_requests_cannot_take_it_off_the_air() {
    let upsd = fake_upsd(Duration::ZERO);
    let (web, port) = start_web(upsd.port(), &["--header-timeout", "3"], |cmd| {
        // SAFETY: setrlimit is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, 64, 64)
                    .map_err(std::io::Error::from)
            });
        }
    });
    let mut slow: Vec<TcpStream> = (0..80).map(|_| half_sent(port)).collect();
    // Every one of them still open on our side, nut-web answers a probe and a scrape.
    let healthz = nut_harness::http::try_get(port, "/healthz").expect("GET /healthz");
    assert_eq!((healthz.status, healthz.body.as_str()), (200, "ok\n"));
    let metrics = nut_harness::http::try_get(port, "/metrics").expect("GET /metrics");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.body.contains("network_ups_tools_up{"),
        "{}",
        metrics.body
    );
    // And every half-sent request is closed in the end (made room for, or timed out).
    wait_until("the half-sent requests to be closed", TIMEOUT, || {
        slow.retain_mut(|s| closed(s).is_none());
        slow.is_empty().then_some(())
    });
    assert!(web.is_running(), "{}", web.output_so_far());
}

#[test]
fn a_half_sent_request_times_out_below_the_cap() {
    let upsd = fake_upsd(Duration::ZERO);
    let (_web, port) = start_web(upsd.port(), &["--header-timeout", "1"], |_| {});
    let mut slow: Vec<TcpStream> = (0..3).map(|_| half_sent(port)).collect();
    wait_until("the header-read timeout to close them", TIMEOUT, || {
        slow.retain_mut(|s| closed(s).is_none());
        slow.is_empty().then_some(())
    });
}

/// Concurrent requests for the same page while a round is under way join it: the server
/// sees one `LIST VAR`, not one per request.
#[test]
fn concurrent_scrapes_share_one_round() {
    let upsd = fake_upsd(Duration::from_millis(200));
    let target = Target {
        system: format!("ups@127.0.0.1:{}", upsd.port()),
        ups: "ups".into(),
        host: "127.0.0.1".into(),
        port: upsd.port(),
        description: None,
    };
    let poller = Poller::new(Duration::from_secs(5), None);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let targets = [target];
    let results = runtime.block_on(async {
        let poll = || poller.poll(&targets, Descriptions::None);
        // join! polls each future once before any of them can see an answer: all ten are
        // under way together.
        let (a, b, c, d, e, f, g, h, i, j) = tokio::join!(
            poll(),
            poll(),
            poll(),
            poll(),
            poll(),
            poll(),
            poll(),
            poll(),
            poll(),
            poll()
        );
        vec![a, b, c, d, e, f, g, h, i, j]
    });
    for snapshots in &results {
        assert_eq!(snapshots.len(), 1);
        assert_eq!(snapshots[0].error, None);
        assert_eq!(snapshots[0].var("ups.status"), Some("OL"));
    }
    assert_eq!(upsd.count("LIST VAR"), 1, "{:?}", upsd.requests());
    assert_eq!(upsd.connections(), 1);
    // A later request is a new round: values are not cached.
    let later = runtime.block_on(poller.poll(&targets, Descriptions::None));
    assert_eq!(later[0].var("battery.charge"), Some("100"));
    assert_eq!(upsd.count("LIST VAR"), 2);
}

fn upses(port: u16) -> serde_json::Value {
    let reply = nut_harness::http::try_get(port, "/api/v1/upses").expect("GET /api/v1/upses");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    json["upses"][0].clone()
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn credentials_only_go_to_a_verified_server() {
    let pki = Pki::new();
    let ca = pki.path("ca.pem").display().to_string();
    let tls_args = ["--certverify", "--certpath", &ca, "--certhost", "localhost"];
    let credentials = |cmd: &mut Command| {
        cmd.env("NUT_WEB_USERNAME", "admin")
            .env("NUT_WEB_PASSWORD", "adminpass");
    };

    // A man in the middle that refuses STARTTLS gets neither USERNAME nor PASSWORD.
    let mitm = fake_upsd(Duration::ZERO);
    let (_web, port) = start_web(mitm.port(), &tls_args, credentials);
    let ups = upses(port);
    assert_eq!(
        ups["error"],
        format!("127.0.0.1:{}: SSL is not available", mitm.port()),
        "{ups}"
    );
    assert!(
        mitm.requests().iter().all(|l| l == "STARTTLS"),
        "credentials leaked: {:?}",
        mitm.requests()
    );

    // Our upsd with TLS: verified, logged in, read.
    let stack = StackBuilder::new()
        .upsd(Impl::Ours)
        .driver(Impl::Debian)
        .dummy("ups", "ups.dev", "ups.status: OL\nbattery.charge: 90\n")
        .file("upsd.pem", pki.upsd_pem())
        .upsd_conf("CERTFILE upsd.pem\n")
        .start();
    let (_web, port) = start_web(stack.port(), &tls_args, credentials);
    let ups = upses(port);
    assert_eq!(ups["error"], serde_json::Value::Null, "{ups}");
    assert_eq!(ups["vars"]["battery.charge"], "90", "{ups}");
}
