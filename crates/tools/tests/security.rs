//! The clients against servers that cannot be trusted, as real processes:
//! * a server streaming an endless `LIST VAR` (upsc stops at nut-core's limit and says so,
//!   under a 512 MiB address-space limit that the unbounded version blew through), or
//!   dripping it a byte at a time (upsc stops at the call deadline);
//! * `NUT_DEFAULT_CONNECT_TIMEOUT=1e20` (ignored with a warning, as NUT does, not a panic);
//! * TLS required through NUT's keywords as environment variables (`NUT_CERTVERIFY`,
//!   `NUT_CERTPATH`, `NUT_CERTHOST`, `NUT_CERTPIN`): a man in the middle that answers
//!   `ERR FEATURE-NOT-CONFIGURED` to STARTTLS never sees USERNAME or PASSWORD, a wrong pinned
//!   certificate is refused before the credentials, and a real TLS upsd (ours) takes them.

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use nut_harness::fake_upsd::{FakeUpsd, Reply};
use nut_harness::pki::Pki;
use nut_harness::{Impl, StackBuilder};

const WAIT: Duration = Duration::from_secs(60);

/// Run a tool to completion: (exit code, stdout then stderr). Killed (and the test failed)
/// if it is still running after [`WAIT`].
fn run(mut cmd: Command) -> (i32, String) {
    use std::io::Read;
    use std::process::Stdio;
    let label = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {label}: {e}"));
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut stream| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stream.read_to_string(&mut text);
            text
        })
    })
    .collect();
    let Some(status) = nut_harness::poll_until(WAIT, || child.try_wait().ok().flatten()) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{label} still running after {WAIT:?}");
    };
    let output = readers
        .into_iter()
        .map(|r| r.join().unwrap_or_default())
        .collect();
    (status.code().unwrap_or(-1), output)
}

fn tool(name: &str) -> Command {
    let path = match name {
        "upsc" => env!("CARGO_BIN_EXE_upsc"),
        "upscmd" => env!("CARGO_BIN_EXE_upscmd"),
        "upsrw" => env!("CARGO_BIN_EXE_upsrw"),
        other => panic!("no tool {other}"),
    };
    let mut cmd = Command::new(path);
    cmd.env_remove(nut_client::CONNECT_TIMEOUT_ENV);
    for (var, _) in nut_client::TLS_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// A server that refuses STARTTLS (as a man in the middle would) and answers the rest with
/// `rest`.
fn refusing_tls(rest: impl Fn(&str) -> Reply + Send + Sync + 'static) -> FakeUpsd {
    FakeUpsd::start(move |line| match line {
        "STARTTLS" => Reply::Lines(vec!["ERR FEATURE-NOT-CONFIGURED".into()]),
        _ => rest(line),
    })
}

#[test]
fn upsc_stops_reading_an_endless_list() {
    let fake = refusing_tls(|_| Reply::EndlessList);
    let mut cmd = tool("upsc");
    cmd.arg(format!("x@127.0.0.1:{}", fake.port()));
    let limit = 512 * 1024 * 1024;
    // SAFETY: setrlimit is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_AS, limit, limit)
                .map_err(std::io::Error::from)
        });
    }
    let (code, output) = run(cmd);
    assert_eq!(code, 1, "{output}");
    assert_eq!(
        output,
        "Error: Protocol error: reply too large (more than 65536 items)\n"
    );
}

/// A reply dripped a byte at a time, each read well inside the 5 s read timeout, ends at
/// the call deadline (30 s) instead of holding upsc forever.
#[test]
fn upsc_gives_up_on_a_dripped_reply() {
    let fake = refusing_tls(|_| Reply::Drip {
        head: b"BEGIN LIST VAR x\n".to_vec(),
        bytes: b"VAR x a \"1\"\n".to_vec(),
        every: Duration::from_millis(100),
        repeat: true,
    });
    let mut cmd = tool("upsc");
    cmd.arg(format!("x@127.0.0.1:{}", fake.port()));
    let (code, output) = run(cmd);
    assert_eq!(
        (code, output.as_str()),
        (
            1,
            "Error: Read error: no complete reply to LIST VAR x within 30 s\n"
        )
    );
}

#[test]
fn a_huge_connect_timeout_is_ignored_with_a_warning() {
    let fake = refusing_tls(|line| match line {
        "LIST UPS" => Reply::Lines(vec![
            "BEGIN LIST UPS".into(),
            "UPS alpha \"A\"".into(),
            "END LIST UPS".into(),
        ]),
        _ => Reply::Lines(vec!["ERR UNKNOWN-COMMAND".into()]),
    });
    let mut cmd = tool("upsc");
    cmd.env(nut_client::CONNECT_TIMEOUT_ENV, "1e20")
        .arg("-l")
        .arg(format!("127.0.0.1:{}", fake.port()));
    let (code, output) = run(cmd);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("alpha\n"), "{output}");
    assert!(
        output.contains(
            "Warning: NUT_DEFAULT_CONNECT_TIMEOUT=\"1e20\" ignored: timeout \"1e20\" is too large"
        ),
        "{output}"
    );
}

/// `upsmon -W 1e20` used to panic in `Duration::from_secs_f64`; it is a usage error now (the
/// timeout is parsed by nut-client, as upsc's and nut-web's are).
#[test]
fn upsmon_refuses_a_huge_connect_timeout() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("upsmon.conf"),
        "MONITOR ups@127.0.0.1 1 monuser secret primary\nSHUTDOWNCMD /bin/true\n",
    )
    .unwrap();
    let mut cmd = Command::new(nut_harness::bin(Impl::Ours, "upsmon"));
    cmd.env("NUT_CONFPATH", dir.path())
        .env("NUT_STATEPATH", dir.path())
        .env("NUT_PIDPATH", dir.path())
        .args(["-F", "-W", "1e20"]);
    let (code, output) = run(cmd);
    assert_eq!(code, 64, "{output}");
    assert!(
        output.contains("Invalid connection timeout [1e20]"),
        "{output}"
    );
}

fn verify_with(cmd: &mut Command, pki: &Pki) {
    cmd.env("NUT_CERTVERIFY", "1")
        .env("NUT_CERTPATH", pki.path("ca.pem"))
        .env("NUT_CERTHOST", "localhost");
}

#[test]
fn a_man_in_the_middle_never_gets_the_password_when_tls_is_required() {
    let pki = Pki::new();
    let mitm = refusing_tls(|_| Reply::Lines(vec!["OK".into()]));
    let target = format!("ups@127.0.0.1:{}", mitm.port());

    let mut upscmd = tool("upscmd");
    upscmd.args(["-u", "admin", "-p", "secret", &target, "load.off"]);
    verify_with(&mut upscmd, &pki);
    let (code, output) = run(upscmd);
    assert_eq!(
        (code, output.as_str()),
        (1, "Error: SSL is not available\n")
    );

    let mut upsrw = tool("upsrw");
    upsrw.args(["-u", "admin", "-p", "secret", "-s", "ups.id=x", &target]);
    upsrw.env("NUT_FORCESSL", "yes");
    let (code, output) = run(upsrw);
    assert_eq!(
        (code, output.as_str()),
        (1, "Error: SSL is not available\n")
    );

    let requests = mitm.requests();
    assert_eq!(requests, ["STARTTLS", "STARTTLS"], "credentials leaked");
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn a_real_tls_upsd_gets_the_credentials_and_a_wrong_pin_does_not() {
    let pki = Pki::new();
    let stack = StackBuilder::new()
        .upsd(Impl::Ours)
        .driver(Impl::Debian)
        .dummy(
            "dummy",
            "dummy.dev",
            "ups.status: OL\nbattery.charge: 100\n",
        )
        .file("upsd.pem", pki.upsd_pem())
        .upsd_conf("CERTFILE upsd.pem\n")
        .start();
    let target = format!("dummy@127.0.0.1:{}", stack.port());
    let set = |value: &str, tls: &dyn Fn(&mut Command)| {
        let mut upsrw = tool("upsrw");
        upsrw.args([
            "-u",
            "admin",
            "-p",
            "adminpass",
            "-s",
            &format!("battery.charge={value}"),
            &target,
        ]);
        tls(&mut upsrw);
        run(upsrw)
    };
    assert_eq!(set("50", &|c| verify_with(c, &pki)), (0, "OK\n".to_owned()));
    let pinned = |c: &mut Command| {
        c.env("NUT_CERTPIN", pki.path("server.pem"));
    };
    assert_eq!(set("60", &pinned), (0, "OK\n".to_owned()));
    let mut conn = stack.conn();
    nut_harness::wait_until("the SET to reach the driver", WAIT, || {
        (conn.request("GET VAR dummy battery.charge") == ["VAR dummy battery.charge \"60\""])
            .then_some(())
    });
    // Another certificate pinned: the handshake fails before any credential is sent.
    let wrong_pin = |c: &mut Command| {
        c.env("NUT_CERTPIN", pki.path("stranger.pem"));
    };
    let (code, output) = set("70", &wrong_pin);
    assert_eq!(code, 1, "{output}");
    assert!(
        output.starts_with("Error: SSL error: ") && output.contains("pinned"),
        "{output}"
    );
    // CERTVERIFY without a CA is a configuration error, not a silent downgrade.
    let no_ca = |c: &mut Command| {
        c.env("NUT_CERTVERIFY", "on");
    };
    let (code, output) = set("80", &no_ca);
    assert_eq!(code, 1, "{output}");
    assert!(
        output.starts_with("Error: TLS settings: CERTVERIFY needs CERTPATH"),
        "{output}"
    );
    assert_eq!(
        conn.request("GET VAR dummy battery.charge"),
        ["VAR dummy battery.charge \"60\""]
    );
}
