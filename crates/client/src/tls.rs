//! rustls setup for STARTTLS, shared by both clients: the client configuration for a
//! [`TlsMode`], and what a `STARTTLS` reply means for that mode.
//!
//! The crypto provider is always ring, passed explicitly (never the process default), so an
//! application that also links aws-lc-rs cannot make us panic.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::config::{TlsMode, TlsOptions};
use crate::error::{Error, Result};
use crate::proto;

/// What to do after the `STARTTLS` exchange.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StartTls {
    /// The server said `OK STARTTLS`: hand the socket to the TLS handshake now.
    Handshake,
    /// The server cannot do TLS and the mode allows clear text.
    StayPlain,
}

/// Decide from the STARTTLS result whether to handshake, stay in clear text or fail.
pub(crate) fn after_starttls(mode: &TlsMode, result: Result<()>) -> Result<StartTls> {
    match (result, mode) {
        (Ok(()), _) => Ok(StartTls::Handshake),
        (Err(Error::Server { code, .. }), TlsMode::Opportunistic)
            if proto::starttls_unsupported(&code) =>
        {
            Ok(StartTls::StayPlain)
        }
        (Err(Error::Server { line, .. }), TlsMode::Required(_)) => {
            Err(Error::TlsUnavailable { reply: line })
        }
        (Err(other), _) => Err(other),
    }
}

/// Whether credentials sent on a connection would be readable on the network: not
/// encrypted, and the server is not a loopback address (an unknown address counts as remote).
pub(crate) fn password_in_clear(is_tls: bool, peer: Option<std::net::SocketAddr>) -> bool {
    let loopback = peer.is_some_and(|addr| match addr.ip() {
        std::net::IpAddr::V4(ip) => ip.is_loopback(),
        std::net::IpAddr::V6(ip) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    });
    !is_tls && !loopback
}

impl TlsMode {
    /// Load what this mode needs (CA files, the pinned certificate) and check the expected
    /// server name, without connecting: programs call this at start-up so that a missing or
    /// unreadable certificate file is a configuration error, not a failure at every
    /// connection.
    pub fn check(&self) -> Result<()> {
        match self {
            TlsMode::Required(_) => client_setup(self, "localhost").map(drop),
            _ => Ok(()),
        }
    }
}

/// The ring provider, explicitly.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_error(what: impl fmt::Display) -> Error {
    Error::Tls(what.to_string())
}

/// The rustls client configuration and the name to verify for a TLS-using mode.
pub(crate) fn client_setup(
    mode: &TlsMode,
    host: &str,
) -> Result<(Arc<ClientConfig>, ServerName<'static>)> {
    let provider = provider();
    let (verifier, name): (Arc<dyn ServerCertVerifier>, &str) = match mode {
        TlsMode::Disabled => return Err(tls_error("TLS is disabled")),
        TlsMode::Opportunistic => (
            Arc::new(WithoutChain::new(Accept::AnyCertificate, &provider)),
            host,
        ),
        TlsMode::Required(options) => {
            let name = options.server_name.as_deref().unwrap_or(host);
            let verifier: Arc<dyn ServerCertVerifier> = if options.danger_accept_any_certificate {
                Arc::new(WithoutChain::new(Accept::AnyCertificate, &provider))
            } else if let Some(pin) = &options.pinned_certificate {
                let pinned = load_certs(pin)?;
                Arc::new(WithoutChain::new(Accept::Pinned(pinned), &provider))
            } else {
                let roots = trust_anchors(options)?;
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                    .build()
                    .map_err(tls_error)?
            };
            (verifier, name)
        }
    };
    // `dangerous()` only unlocks choosing the verifier; the WebPKI one is the same rustls
    // would install through `with_webpki_verifier`.
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let name = ServerName::try_from(name.to_owned())
        .map_err(|e| tls_error(format!("invalid server name {name:?}: {e}")))?;
    Ok((Arc::new(config), name))
}

/// Every certificate in a PEM file.
fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            tls_error(format!(
                "cannot read certificates from {}: {e}",
                path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(tls_error(format!("no certificate in {}", path.display())));
    }
    Ok(certs)
}

/// The CA certificates of [`TlsOptions::ca_file`] and [`TlsOptions::ca_dir`].
fn trust_anchors(options: &TlsOptions) -> Result<RootCertStore> {
    let mut certs = Vec::new();
    if let Some(file) = &options.ca_file {
        certs.extend(load_certs(file)?);
    }
    if let Some(dir) = &options.ca_dir {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| tls_error(format!("cannot read CA directory {}: {e}", dir.display())))?;
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths.iter().filter(|p| p.is_file()) {
            // Hash links, CRLs and other files without certificates are skipped.
            if let Ok(found) = load_certs(path) {
                certs.extend(found);
            }
        }
    }
    if certs.is_empty() {
        return Err(tls_error(
            "TLS verification needs a CA file, a CA directory or a pinned certificate",
        ));
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| tls_error(format!("unusable CA certificate: {e}")))?;
    }
    Ok(roots)
}

/// Which end-entity certificates a [`WithoutChain`] verifier accepts.
#[derive(Debug)]
enum Accept {
    /// Any: the session is encrypted to whoever holds the presented key (opportunistic TLS,
    /// or a required mode told to skip verification).
    AnyCertificate,
    /// Exactly one of these certificates.
    Pinned(Vec<CertificateDer<'static>>),
}

/// Verifies no certificate chain, only [`Accept`] for the end entity; the handshake
/// signatures are still checked, so the peer must hold the key of the certificate it shows.
#[derive(Debug)]
struct WithoutChain {
    accept: Accept,
    algorithms: WebPkiSupportedAlgorithms,
}

impl WithoutChain {
    fn new(accept: Accept, provider: &CryptoProvider) -> Self {
        WithoutChain {
            accept,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for WithoutChain {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let accepted = match &self.accept {
            Accept::AnyCertificate => true,
            Accept::Pinned(pinned) => pinned.iter().any(|pin| pin.as_ref() == end_entity.as_ref()),
        };
        if accepted {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "server certificate does not match the pinned certificate".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use nut_core::net::ErrCode;

    use super::*;

    fn refused(code: ErrCode) -> Result<()> {
        Err(Error::Server {
            line: format!("ERR {code}"),
            code,
        })
    }

    #[test]
    fn starttls_outcomes() {
        let opportunistic = TlsMode::Opportunistic;
        let required = TlsMode::Required(TlsOptions::default());
        assert_eq!(
            after_starttls(&opportunistic, Ok(())).unwrap(),
            StartTls::Handshake
        );
        assert_eq!(
            after_starttls(&opportunistic, refused(ErrCode::FeatureNotConfigured)).unwrap(),
            StartTls::StayPlain
        );
        // A server that refuses must never downgrade a TLS-required connection.
        let err = after_starttls(&required, refused(ErrCode::FeatureNotConfigured)).unwrap_err();
        assert!(
            matches!(err, Error::TlsUnavailable { ref reply } if reply == "ERR FEATURE-NOT-CONFIGURED")
        );
        // Other errors are errors even when opportunistic.
        assert!(after_starttls(&opportunistic, refused(ErrCode::AlreadySslMode)).is_err());
    }

    #[test]
    fn clear_text_passwords_are_spotted_off_loopback_only() {
        let at = |s: &str| Some(s.parse().unwrap());
        assert!(password_in_clear(false, at("192.0.2.7:3493")));
        assert!(password_in_clear(false, at("[2001:db8::1]:3493")));
        assert!(password_in_clear(false, None));
        assert!(!password_in_clear(true, at("192.0.2.7:3493")));
        assert!(!password_in_clear(false, at("127.0.0.1:3493")));
        assert!(!password_in_clear(false, at("127.1.2.3:3493")));
        assert!(!password_in_clear(false, at("[::1]:3493")));
        assert!(!password_in_clear(false, at("[::ffff:127.0.0.1]:3493")));
    }

    #[test]
    fn check_loads_the_files_up_front() {
        assert!(TlsMode::Opportunistic.check().is_ok());
        let missing = TlsMode::Required(TlsOptions::with_ca_file("/nonexistent/ca.pem"));
        let err = missing.check().unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
        let pinned = TlsMode::Required(TlsOptions::with_pinned_certificate("/nonexistent/p.pem"));
        assert!(pinned.check().is_err());
    }

    #[test]
    fn required_without_trust_anchor_is_an_error() {
        let err = client_setup(&TlsMode::Required(TlsOptions::default()), "h").unwrap_err();
        assert!(err.to_string().contains("CA file"), "{err}");
    }
}
