//! TLS settings: the crypto provider (ring, the one reqwest already uses) and the client
//! configuration towards upstream servers.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::ClientConfig;
use rustls::crypto::CryptoProvider;

use crate::error::{Error, Result};

/// The TLS crypto provider: ring, the one reqwest already uses.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The TLS client configuration towards upstream servers: the system roots, plus `extra`.
pub fn upstream_tls(
    system: Vec<rustls::pki_types::CertificateDer<'static>>,
    extra: Option<&Path>,
) -> Result<ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(system);
    if let Some(path) = extra {
        let bad = |e: &dyn std::fmt::Display| {
            Error::usage(format!(
                "{} is not a PEM file of CA certificates ({e}); pass a file with -----BEGIN CERTIFICATE----- blocks",
                path.display()
            ))
        };
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
            roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad(&"no certificates in it"));
        }
    }
    let config = ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}
