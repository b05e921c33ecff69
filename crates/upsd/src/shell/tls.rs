//! The rustls server configuration from CERTFILE / CERTPATH / CERTREQUEST (OpenSSL-build
//! semantics: CERTFILE is one PEM file holding the certificate chain and the private key).

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::ring;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use nut_core::conf::UpsdConf;
use nut_core::conf::upsd_conf::CertRequest;

/// Why TLS is configured but unusable.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// CERTFILE cannot be read or holds no certificate.
    #[error("CERTFILE {path}: {reason}")]
    CertFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// CERTPATH is needed to check client certificates but is missing or unusable.
    #[error("CERTPATH {path}: {reason}")]
    CertPath {
        /// The file or directory.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// rustls refused the combination.
    #[error("TLS setup failed: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The TLS configuration, `None` when CERTFILE is not set (STARTTLS then answers
/// `ERR FEATURE-NOT-CONFIGURED`).
pub fn server_config(conf: &UpsdConf) -> Result<Option<Arc<ServerConfig>>, TlsError> {
    let Some(certfile) = &conf.certfile else {
        return Ok(None);
    };
    let cert_err = |reason: String| TlsError::CertFile {
        path: certfile.clone(),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certfile)
        .map_err(|e| cert_err(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| cert_err(e.to_string()))?;
    if certs.is_empty() {
        return Err(cert_err("no certificate found in the file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(certfile)
        .map_err(|e| cert_err(format!("no usable private key in the file ({e})")))?;
    let provider = Arc::new(ring::default_provider());
    // rustls speaks TLS 1.2 and 1.3 only, which is what DISABLE_WEAK_SSL asks for anyway.
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)?;
    let builder = match conf.certrequest {
        CertRequest::No => builder.with_no_client_auth(),
        request => {
            let path = conf.certpath.clone().unwrap_or_default();
            let roots = load_roots(&path)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if request == CertRequest::Request {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier.build().map_err(|e| TlsError::CertPath {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(certs, key)
        .map_err(|e| cert_err(format!("certificate and key do not fit together ({e})")))?;
    Ok(Some(Arc::new(config)))
}

/// CA certificates from a PEM file or every `*.pem`/`*.crt` file of a directory.
fn load_roots(path: &str) -> Result<rustls::RootCertStore, TlsError> {
    let err = |reason: String| TlsError::CertPath {
        path: path.to_owned(),
        reason,
    };
    if path.is_empty() {
        return Err(err("not set, but CERTREQUEST needs CA certificates".into()));
    }
    let p = Path::new(path);
    let files: Vec<std::path::PathBuf> = if p.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(p)
            .map_err(|e| err(e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|f| {
                f.extension()
                    .is_some_and(|x| x == "pem" || x == "crt" || x == "cer")
            })
            .collect();
        files.sort();
        files
    } else {
        vec![p.to_path_buf()]
    };
    let mut roots = rustls::RootCertStore::empty();
    for file in files {
        let iter = CertificateDer::pem_file_iter(&file).map_err(|e| err(e.to_string()))?;
        for cert in iter {
            let cert = cert.map_err(|e| err(e.to_string()))?;
            roots.add(cert).map_err(|e| err(e.to_string()))?;
        }
    }
    if roots.is_empty() {
        return Err(err("no CA certificate found".into()));
    }
    Ok(roots)
}
