//! STARTTLS with rustls: a handshake after `OK STARTTLS`, requests over TLS, client
//! certificate checks (CERTREQUEST), and a refusal to start when CERTFILE is unusable.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use nut_harness::{Impl, Stack, StackBuilder, bin, free_port, poll_until};
use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

const DEV: &str = "ups.status: OL\nbattery.charge: 100\n";

/// A CA, a server certificate for `localhost` and a client certificate, all PEM.
struct Pki {
    ca_pem: String,
    server_pem: String,
    server_key_pem: String,
    client_der: CertificateDer<'static>,
    client_key_der: Vec<u8>,
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(vec!["client.local".to_owned()]).unwrap();
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = client_params.signed_by(&client_key, &issuer).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        server_pem: server.pem(),
        server_key_pem: server_key.serialize_pem(),
        client_der: client.der().clone(),
        client_key_der: client_key.serialize_der(),
    }
}

fn stack_with(pki: &Pki, extra_conf: &str) -> Stack {
    StackBuilder::new()
        .upsd(Impl::Ours)
        .driver(Impl::Debian)
        .dummy("dummy", "dummy.dev", DEV)
        // OpenSSL-build semantics: one PEM with the certificate chain and the key.
        .file(
            "upsd.pem",
            format!("{}{}{}", pki.server_pem, pki.ca_pem, pki.server_key_pem),
        )
        .file("ca.pem", &pki.ca_pem)
        .upsd_conf(&format!("CERTFILE upsd.pem\n{extra_conf}"))
        .start()
}

fn read_line(stream: &mut impl Read) -> std::io::Result<String> {
    // Byte by byte: nothing after the LF may be consumed before the handshake.
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        line.push(byte[0]);
        if byte[0] == b'\n' {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

type Tls = StreamOwned<ClientConnection, TcpStream>;

fn starttls(stack: &Stack, pki: &Pki, with_client_cert: bool) -> Tls {
    let mut tcp = TcpStream::connect(stack.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    tcp.write_all(b"STARTTLS\n").unwrap();
    assert_eq!(read_line(&mut tcp).unwrap(), "OK STARTTLS\n");
    let mut roots = RootCertStore::empty();
    for cert in rustls_pki_types_pem(&pki.ca_pem) {
        roots.add(cert).unwrap();
    }
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
    let config = if with_client_cert {
        let key = PrivateKeyDer::try_from(pki.client_key_der.clone()).unwrap();
        builder
            .with_client_auth_cert(vec![pki.client_der.clone()], key)
            .unwrap()
    } else {
        builder.with_no_client_auth()
    };
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(Arc::new(config), name).unwrap();
    StreamOwned::new(conn, tcp)
}

fn rustls_pki_types_pem(pem: &str) -> Vec<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap()
}

fn request(tls: &mut Tls, line: &str) -> std::io::Result<String> {
    tls.write_all(format!("{line}\n").as_bytes())?;
    tls.flush()?;
    read_line(tls)
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn starttls_then_requests_over_tls() {
    let pki = pki();
    let stack = stack_with(&pki, "");
    let mut tls = starttls(&stack, &pki, false);
    assert_eq!(
        request(&mut tls, "GET VAR dummy ups.status").unwrap(),
        "VAR dummy ups.status \"OL\"\n"
    );
    assert_eq!(
        request(&mut tls, "STARTTLS").unwrap(),
        "ERR ALREADY-SSL-MODE\n"
    );
    tls.write_all(b"LIST VAR dummy\n").unwrap();
    let mut reader = BufReader::new(&mut tls);
    let mut lines = Vec::new();
    loop {
        let mut l = String::new();
        reader.read_line(&mut l).unwrap();
        let end = l.starts_with("END LIST") || l.is_empty();
        lines.push(l);
        if end {
            break;
        }
    }
    assert_eq!(lines.first().unwrap(), "BEGIN LIST VAR dummy\n");
    assert_eq!(lines.last().unwrap(), "END LIST VAR dummy\n");
    // Plain connections are still served.
    let mut plain = stack.conn();
    assert_eq!(
        plain.request("GET VAR dummy ups.status"),
        ["VAR dummy ups.status \"OL\""]
    );
}

/// A client that asks for STARTTLS and never starts its handshake is dropped when the
/// handshake time (30 s, a pause on the shell's one timer) runs out; others are served
/// meanwhile.
#[test]
fn a_handshake_that_never_starts_is_dropped() {
    let pki = pki();
    let stack = stack_with(&pki, "");
    let mut silent = TcpStream::connect(stack.addr()).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    silent.write_all(b"STARTTLS\n").unwrap();
    assert_eq!(read_line(&mut silent).unwrap(), "OK STARTTLS\n");
    let mut other = TcpStream::connect(stack.addr()).unwrap();
    other
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    other.write_all(b"USERNAME someone\n").unwrap();
    assert_eq!(read_line(&mut other).unwrap(), "OK\n");
    // Well past the 30 s: end of file (or a reset), not our read timeout.
    silent
        .set_read_timeout(Some(Duration::from_secs(90)))
        .unwrap();
    let mut byte = [0u8; 1];
    match silent.read(&mut byte) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("the connection was not dropped: {other:?}"),
    }
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn client_certificates_are_required_when_configured() {
    let pki = pki();
    let stack = stack_with(&pki, "CERTREQUEST REQUIRE\nCERTPATH ca.pem");
    let mut with_cert = starttls(&stack, &pki, true);
    assert_eq!(
        request(&mut with_cert, "GET VAR dummy ups.status").unwrap(),
        "VAR dummy ups.status \"OL\"".to_owned() + "\n"
    );
    let mut without = starttls(&stack, &pki, false);
    // The handshake (or the first read after it) must fail: no data without a certificate.
    if let Ok(reply) = request(&mut without, "GET VAR dummy ups.status") {
        assert!(!reply.starts_with("VAR"), "served without a certificate");
    }
}

/// Runs our upsd on a config with a broken CERTFILE; returns (exit code, stderr).
fn refuses_to_start(certfile_contents: Option<&str>) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(
        dir.path().join("upsd.conf"),
        format!(
            "LISTEN 127.0.0.1 {port}\nCERTFILE {}/upsd.pem\n",
            dir.path().display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ups.conf"),
        "[dummy]\n driver = dummy-ups\n port = x\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("upsd.users"), "").unwrap();
    if let Some(contents) = certfile_contents {
        std::fs::write(dir.path().join("upsd.pem"), contents).unwrap();
    }
    let mut child = Command::new(bin(Impl::Ours, "upsd"))
        .arg("-F")
        .env("NUT_CONFPATH", dir.path())
        .env("NUT_STATEPATH", dir.path())
        .env("NUT_ALTPIDPATH", dir.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let status = poll_until(Duration::from_secs(20), || child.try_wait().unwrap());
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.and_then(|s| s.code()), stderr)
}

#[test]
fn unusable_certfile_stops_startup_with_one_clear_message() {
    for contents in [None, Some("not a certificate\n")] {
        let (code, stderr) = refuses_to_start(contents);
        assert_eq!(
            code,
            Some(78),
            "{contents:?}: upsd should exit 78 (EX_CONFIG); stderr:\n{stderr}"
        );
        let fatal: Vec<&str> = stderr.lines().filter(|l| l.contains("CERTFILE")).collect();
        assert_eq!(fatal.len(), 1, "{stderr}");
        assert!(fatal[0].starts_with("Fatal error: CERTFILE "), "{stderr}");
    }
    // A certificate without its key is unusable too.
    let pki = pki();
    let (code, stderr) = refuses_to_start(Some(&pki.server_pem));
    assert_eq!(code, Some(78), "{stderr}");
    assert!(stderr.contains("private key"), "{stderr}");
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server); scripts/test runs it"]
fn forcessl_keeps_credentials_and_privileged_commands_off_plain_connections() {
    let pki = pki();
    let stack = stack_with(&pki, "FORCESSL 1");
    // A plain client may read, but never send credentials or privileged commands.
    let mut plain = stack.conn();
    assert_eq!(
        plain.request("GET VAR dummy ups.status"),
        ["VAR dummy ups.status \"OL\""]
    );
    assert_eq!(plain.request("USERNAME monuser"), ["ERR ACCESS-DENIED"]);
    assert_eq!(plain.request("PASSWORD monpass"), ["ERR ACCESS-DENIED"]);
    assert_eq!(plain.request("LOGIN dummy"), ["ERR USERNAME-REQUIRED"]);
    // Over TLS the same user logs in as usual.
    let mut tls = starttls(&stack, &pki, false);
    for (line, want) in [
        ("USERNAME monuser", "OK\n"),
        ("PASSWORD monpass", "OK\n"),
        ("LOGIN dummy", "OK\n"),
        ("GET NUMLOGINS dummy", "NUMLOGINS dummy 1\n"),
    ] {
        assert_eq!(request(&mut tls, line).unwrap(), want, "{line}");
    }
    let upsd = stack.upsd_daemon().unwrap();
    let out = poll_until(Duration::from_secs(30), || {
        let out = upsd.output_so_far();
        out.contains("logged into UPS [dummy] (TLS)").then_some(out)
    })
    .expect("the TLS login is logged");
    assert!(
        out.contains(
            "Access denied: (null)@127.0.0.1 USERNAME monuser (not a TLS connection (FORCESSL))"
        ),
        "{out}"
    );
    assert!(!out.contains("monpass"), "{out}");
}

#[test]
fn forcessl_without_certfile_is_a_config_error() {
    let stack = StackBuilder::new()
        .no_upsd()
        .upsd(Impl::Ours)
        .upsd_conf("FORCESSL yes")
        .start();
    let output = Command::new(bin(Impl::Ours, "upsd"))
        .arg("-F")
        .envs(stack.env_vars())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(78), "{text}");
    assert!(
        text.contains("FORCESSL needs CERTFILE: without TLS no client could ever log in"),
        "{text}"
    );
}

/// Debian's upsmon (OpenSSL) as the real-world TLS client: with its own FORCESSL it logs in
/// over TLS to a upsd that requires it.
#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn forcessl_debian_upsmon_logs_in_over_tls_and_plain_upscmd_is_refused() {
    let pki = pki();
    let mut stack = stack_with(&pki, "FORCESSL 1");
    let conf = format!(
        "MONITOR dummy@127.0.0.1:{} 1 monuser monpass secondary\n\
         SHUTDOWNCMD \"/bin/true\"\nPOLLFREQ 1\nFORCESSL 1\nCERTVERIFY 0\n",
        stack.port()
    );
    let upsmon = stack.upsmon(Impl::Debian, &conf);
    let upsd = stack.upsd_daemon().unwrap().clone();
    let logged_in = poll_until(Duration::from_secs(30), || {
        let out = upsd.output_so_far();
        out.contains("User monuser@127.0.0.1 logged into UPS [dummy] (TLS)")
            .then_some(())
    });
    assert!(
        logged_in.is_some(),
        "upsd:\n{}\nupsmon:\n{}",
        upsd.output_so_far(),
        upsmon.output_so_far()
    );
    assert!(!upsd.output_so_far().contains("Access denied"));
    // Debian's upscmd never tries TLS: it is a plain client, refused before its password.
    let out = stack
        .command(Impl::Debian, "upscmd")
        .args(["-u", "admin", "-p", "adminpass"])
        .arg(stack.ups_id("dummy"))
        .arg("load.off")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    // It ignores the refused USERNAME and PASSWORD, so its INSTCMD finds no username.
    assert!(text.contains("ERR USERNAME-REQUIRED"), "{text}");
    poll_until(Duration::from_secs(30), || {
        upsd.output_so_far()
            .contains(
                "Access denied: (null)@127.0.0.1 USERNAME admin (not a TLS connection (FORCESSL))",
            )
            .then_some(())
    })
    .expect("the refusal is logged");
}
