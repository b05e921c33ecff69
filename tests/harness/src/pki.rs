//! Throw-away certificates for TLS tests: a CA, a server certificate for `localhost` signed
//! by it, and a stranger's self-signed certificate for `localhost` (what a man in the middle
//! would present), as PEM texts and files in a temp dir.

use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

/// The certificates; files `ca.pem`, `server.pem` and `stranger.pem` in [`Pki::path`].
pub struct Pki {
    dir: tempfile::TempDir,
    /// The CA certificate.
    pub ca_pem: String,
    /// The server certificate (`localhost`), signed by the CA.
    pub server_pem: String,
    /// The server's private key.
    pub server_key_pem: String,
}

impl Pki {
    /// New keys and certificates.
    pub fn new() -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().expect("CA key");
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().expect("server key");
        let server = CertificateParams::new(vec!["localhost".to_owned()])
            .expect("server params")
            .signed_by(&server_key, &issuer)
            .expect("server certificate");
        let stranger_key = KeyPair::generate().expect("stranger key");
        let stranger = CertificateParams::new(vec!["localhost".to_owned()])
            .expect("stranger params")
            .self_signed(&stranger_key)
            .expect("stranger certificate");
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, pem) in [
            ("ca.pem", ca_cert.pem()),
            ("server.pem", server.pem()),
            ("stranger.pem", stranger.pem()),
        ] {
            std::fs::write(dir.path().join(name), pem).expect("write a certificate");
        }
        Pki {
            dir,
            ca_pem: ca_cert.pem(),
            server_pem: server.pem(),
            server_key_pem: server_key.serialize_pem(),
        }
    }

    /// The file `name` (`ca.pem`, `server.pem`, `stranger.pem`).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// upsd's CERTFILE: certificate chain and key in one PEM.
    pub fn upsd_pem(&self) -> String {
        format!("{}{}{}", self.server_pem, self.ca_pem, self.server_key_pem)
    }
}

impl Default for Pki {
    fn default() -> Self {
        Pki::new()
    }
}
