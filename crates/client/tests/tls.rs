//! STARTTLS and certificate verification, blocking and async, against a small in-test server
//! speaking just enough of the protocol (STARTTLS, VER, LOGOUT) with rustls and rcgen
//! certificates.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;

use nut_client::{ConnectOptions, Error, TlsMode, TlsOptions};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

const VER_TEXT: &str = "Network UPS Tools upsd test - https://example.invalid/";

/// A CA, a server certificate for `localhost` signed by it, and PEM files for both.
struct Pki {
    dir: tempfile::TempDir,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: PrivatePkcs8KeyDer<'static>,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("ca key"))
            .expect("ca cert");
        let key = KeyPair::generate().expect("server key");
        let cert = CertificateParams::new(vec!["localhost".to_owned()])
            .expect("server params")
            .signed_by(&key, &ca)
            .expect("server cert");
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("write ca");
        std::fs::create_dir(dir.path().join("cadir")).expect("mkdir");
        std::fs::write(dir.path().join("cadir/ca.crt"), ca.pem()).expect("write ca dir");
        std::fs::write(dir.path().join("cadir/README"), "not a certificate").expect("write");
        std::fs::write(dir.path().join("server.pem"), cert.pem()).expect("write server");
        Pki {
            server_chain: vec![cert.der().clone()],
            server_key: PrivatePkcs8KeyDer::from(key.serialize_der()),
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn server_config(&self) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                self.server_chain.clone(),
                PrivateKeyDer::Pkcs8(self.server_key.clone_key()),
            )
            .expect("server config");
        Arc::new(config)
    }
}

/// Serve one connection: STARTTLS (accepted when `tls` is Some), then VER/LOGOUT.
fn serve_one(tls: Option<Arc<ServerConfig>>) -> u16 {
    serve_one_on("127.0.0.1:0", tls)
}

fn serve_one_on(bind: &str, tls: Option<Arc<ServerConfig>>) -> u16 {
    let listener = TcpListener::bind(bind).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let Ok((tcp, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(tcp.try_clone().expect("clone"));
        let mut plain = tcp;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        assert_eq!(line, "STARTTLS\n");
        match tls {
            None => {
                plain
                    .write_all(b"ERR FEATURE-NOT-CONFIGURED\n")
                    .expect("write");
                serve_lines(reader, plain);
            }
            Some(config) => {
                plain.write_all(b"OK STARTTLS\n").expect("write");
                let conn = ServerConnection::new(config).expect("server conn");
                let stream = StreamOwned::new(conn, plain);
                let reader = BufReader::new(stream);
                serve_tls(reader);
            }
        }
    });
    port
}

fn answer(line: &str) -> Option<&'static str> {
    match line.trim_end() {
        "VER" => Some("VER"),
        "LOGOUT" => None,
        _ => Some("ERR UNKNOWN-COMMAND"),
    }
}

fn serve_lines(mut reader: BufReader<TcpStream>, mut out: TcpStream) {
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        match answer(&line) {
            Some("VER") => writeln!(out, "{VER_TEXT}").expect("write"),
            Some(other) => writeln!(out, "{other}").expect("write"),
            None => {
                let _ = out.write_all(b"OK Goodbye\n");
                return;
            }
        }
        line.clear();
    }
}

fn serve_tls(mut stream: BufReader<StreamOwned<ServerConnection, TcpStream>>) {
    let mut line = String::new();
    // A failed handshake (the client rejected us) shows up as a read error: just stop.
    while stream.read_line(&mut line).unwrap_or(0) > 0 {
        let reply = match answer(&line) {
            Some("VER") => format!("{VER_TEXT}\n"),
            Some(other) => format!("{other}\n"),
            None => "OK Goodbye\n".to_owned(),
        };
        let inner = stream.get_mut();
        if inner.write_all(reply.as_bytes()).is_err() || reply.starts_with("OK Goodbye") {
            inner.conn.send_close_notify();
            let _ = inner.flush();
            return;
        }
        line.clear();
    }
}

fn options(port: u16, tls: TlsMode) -> ConnectOptions {
    ConnectOptions::new("localhost", port).tls(tls)
}

fn required(options: TlsOptions) -> TlsMode {
    TlsMode::Required(options)
}

#[test]
fn verified_with_ca_file_blocking() {
    let pki = Pki::new();
    let port = serve_one(Some(pki.server_config()));
    let mode = required(TlsOptions::with_ca_file(pki.path("ca.pem")));
    let mut client = nut_client::blocking::Client::connect(&options(port, mode)).expect("connect");
    assert!(client.is_tls());
    assert_eq!(client.ver().expect("VER over TLS"), VER_TEXT);
    client.logout().expect("logout");
}

#[test]
fn verified_with_ca_dir_async() {
    let pki = Pki::new();
    let port = serve_one(Some(pki.server_config()));
    let mode = required(TlsOptions::with_ca_dir(pki.path("cadir")));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut client = nut_client::aio::Client::connect(&options(port, mode))
            .await
            .expect("connect");
        assert!(client.is_tls());
        assert_eq!(client.ver().await.expect("VER over TLS"), VER_TEXT);
        client.logout().await.expect("logout");
    });
}

#[test]
fn pinned_certificate() {
    let pki = Pki::new();
    let port = serve_one(Some(pki.server_config()));
    let mode = required(TlsOptions::with_pinned_certificate(pki.path("server.pem")));
    let mut client = nut_client::blocking::Client::connect(&options(port, mode)).expect("connect");
    assert_eq!(client.ver().expect("VER"), VER_TEXT);

    // Another server's certificate is not the pinned one.
    let other = Pki::new();
    let port = serve_one(Some(other.server_config()));
    let mode = required(TlsOptions::with_pinned_certificate(pki.path("server.pem")));
    let err = nut_client::blocking::Client::connect(&options(port, mode))
        .err()
        .expect("must fail");
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
}

#[test]
fn untrusted_ca_and_wrong_name_are_rejected() {
    let pki = Pki::new();
    let other = Pki::new();
    let port = serve_one(Some(pki.server_config()));
    let mode = required(TlsOptions::with_ca_file(other.path("ca.pem")));
    let err = nut_client::blocking::Client::connect(&options(port, mode))
        .err()
        .expect("untrusted");
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
    assert!(err.client_message().starts_with("SSL error: "));

    let port = serve_one(Some(pki.server_config()));
    let mode = required(TlsOptions::with_ca_file(pki.path("ca.pem")).server_name("ups.example"));
    let err = nut_client::blocking::Client::connect(&options(port, mode))
        .err()
        .expect("name");
    assert!(matches!(err, Error::Tls(_)), "{err:?}");

    // Connecting by address but expecting the certificate's name works.
    let port = serve_one(Some(pki.server_config()));
    let mode = required(TlsOptions::with_ca_file(pki.path("ca.pem")).server_name("localhost"));
    let by_ip = ConnectOptions::new("127.0.0.1", port).tls(mode);
    let mut client = nut_client::blocking::Client::connect(&by_ip).expect("connect by IP");
    assert_eq!(client.ver().expect("VER"), VER_TEXT);
}

#[test]
fn no_silent_downgrade_when_tls_is_required() {
    let pki = Pki::new();
    let port = serve_one(None);
    let mode = required(TlsOptions::with_ca_file(pki.path("ca.pem")));
    let err = nut_client::blocking::Client::connect(&options(port, mode))
        .err()
        .expect("refused");
    match &err {
        Error::TlsUnavailable { reply } => assert_eq!(reply, "ERR FEATURE-NOT-CONFIGURED"),
        other => panic!("expected TlsUnavailable, got {other:?}"),
    }

    let port = serve_one(None);
    let mode = required(TlsOptions::with_ca_file(pki.path("ca.pem")));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let err = runtime
        .block_on(nut_client::aio::Client::connect(&options(port, mode)))
        .err()
        .expect("refused");
    assert!(matches!(err, Error::TlsUnavailable { .. }), "{err:?}");
}

#[test]
fn opportunistic_tls_both_ways() {
    // Server without TLS: clear text.
    let port = serve_one(None);
    let mut client = nut_client::blocking::Client::connect(&options(port, TlsMode::Opportunistic))
        .expect("plain");
    assert!(!client.is_tls());
    assert_eq!(client.ver().expect("VER"), VER_TEXT);

    // Server with TLS (certificate not checked): encrypted.
    let pki = Pki::new();
    let port = serve_one(Some(pki.server_config()));
    let mut client =
        nut_client::blocking::Client::connect(&options(port, TlsMode::Opportunistic)).expect("tls");
    assert!(client.is_tls());
    assert_eq!(client.ver().expect("VER"), VER_TEXT);
}

#[test]
fn bracketed_ipv6_identifier() {
    let port = serve_one_on("[::1]:0", None);
    let id = nut_client::UpsId::parse(&format!("ups@[::1]:{port}")).expect("identifier");
    let options = ConnectOptions::for_ups(&id);
    assert_eq!(options.host, "::1");
    let mut client = nut_client::blocking::Client::connect(&options).expect("connect over IPv6");
    assert_eq!(client.ver().expect("VER"), VER_TEXT);
}
