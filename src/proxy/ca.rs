//! The local certificate authority: created once in the config dir (key mode 0600), it signs a
//! leaf certificate for each intercepted host, and is added to the trust bundle a child gets.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::{Error, Result};

const CERT_FILE: &str = "ca.pem";
const KEY_FILE: &str = "ca-key.pem";
const BUNDLE_FILE: &str = "bundle.pem";

/// Where the CA lives: `<config dir>/ca/`.
pub fn dir() -> Result<PathBuf> {
    Ok(crate::dirs::config_dir()?.join("ca"))
}

/// Where the CA is, if it was made, after checking that its key is private and readable.
pub fn check(dir: &Path) -> Result<Option<PathBuf>> {
    let key = dir.join(KEY_FILE);
    if !key.exists() {
        return Ok(None);
    }
    crate::private_files::check_private_file(&key)?;
    KeyPair::from_pem(&std::fs::read_to_string(&key).map_err(|e| Error::io("read", &key, e))?)
        .map_err(|e| {
            Error::crypto(format!(
                "the local CA key {} is unreadable ({e}); delete {} and the next `authsome run` makes a new CA",
                key.display(),
                dir.display()
            ))
        })?;
    Ok(Some(dir.to_owned()))
}

/// The local CA, with a cache of the server configurations it issued this run.
pub struct LocalCa {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
    /// One key for every leaf of this run; leaves differ only in their names.
    leaf_key: KeyPair,
    leaves: Mutex<HashMap<String, Arc<ServerConfig>>>,
}

impl LocalCa {
    /// Loads the CA from `dir`, creating it on first use.
    pub fn load_or_create(dir: &Path) -> Result<Self> {
        let cert_path = dir.join(CERT_FILE);
        let key_path = dir.join(KEY_FILE);
        crate::private_files::create_private_dir(dir)?;
        // Two runs starting at once must not each write a different CA.
        let _lock = crate::private_files::lock(
            &dir.join("ca.lock"),
            std::time::Duration::from_secs(10),
            "creating the local CA",
        )?;
        if !cert_path.exists() {
            let (cert_pem, key_pem) = create()?;
            crate::private_files::write_private(&key_path, key_pem.as_bytes())?;
            crate::private_files::write_private(&cert_path, cert_pem.as_bytes())?;
        }
        crate::private_files::check_private_file(&key_path)?;
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            Error::crypto(format!(
                "the local CA {what} is unreadable ({e}); delete {} to make a new one",
                dir.display()
            ))
        };
        let cert_pem =
            std::fs::read_to_string(&cert_path).map_err(|e| Error::io("read", &cert_path, e))?;
        let key_pem =
            std::fs::read_to_string(&key_path).map_err(|e| Error::io("read", &key_path, e))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| bad("key", &e))?;
        // The issuer is rebuilt from the same parameters the certificate was made from; the
        // leaves carry its name and key identifier, which is all a client matches on.
        let issuer = Issuer::new(ca_params(), key);
        let leaf_key = KeyPair::generate().map_err(|e| Error::internal(e.to_string()))?;
        Ok(LocalCa {
            issuer,
            cert_pem,
            leaf_key,
            leaves: Mutex::new(HashMap::new()),
        })
    }

    /// The TLS server configuration for `host`, with a leaf for that name (a DNS name, or an IP
    /// address SAN for IP literals). Leaves speak HTTP/1.1 only.
    pub fn server_config(&self, host: &str) -> Result<Arc<ServerConfig>> {
        let mut leaves = self.leaves.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = leaves.get(host) {
            return Ok(c.clone());
        }
        let config = Arc::new(self.issue(host)?);
        leaves.insert(host.to_owned(), config.clone());
        Ok(config)
    }

    fn issue(&self, host: &str) -> Result<ServerConfig> {
        let fail = |e: &dyn std::fmt::Display| {
            Error::internal(format!("issuing a certificate for {host}: {e}"))
        };
        let mut params = CertificateParams::default();
        params.subject_alt_names = vec![match host.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(host.to_owned().try_into().map_err(|e| fail(&e))?),
        }];
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, host);
        params.distinguished_name = name;
        // Short-lived, and back-dated a day for clocks that lag.
        set_validity(&mut params, -1, 30);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&self.leaf_key, &self.issuer)
            .map_err(|e| fail(&e))?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(super::tls::crypto_provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| fail(&e))?
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(cert.der().to_vec())], key)
            .map_err(|e| fail(&e))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }

    /// Writes the trust bundle a child gets, the system roots (`roots`: what
    /// `rustls-native-certs` found, so also the file `SSL_CERT_FILE` names) followed by this
    /// CA, and returns its path. The file is rewritten only
    /// when its content changes, so concurrent runs agree on it.
    pub fn write_bundle(&self, dir: &Path, roots: &[CertificateDer<'static>]) -> Result<PathBuf> {
        let path = dir.join(BUNDLE_FILE);
        let mut bundle = String::new();
        for cert in roots {
            bundle.push_str(&pem("CERTIFICATE", cert.as_ref()));
        }
        bundle.push_str("# authsome local CA\n");
        bundle.push_str(&self.cert_pem);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(bundle.as_str()) {
            crate::private_files::write_private(&path, bundle.as_bytes())?;
        }
        Ok(path)
    }
}

/// The CA's parameters. Its name must never change: loading rebuilds the issuer from it.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "authsome local CA");
    name.push(DnType::OrganizationName, "authsome");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn create() -> Result<(String, String)> {
    let fail = |e: rcgen::Error| Error::internal(format!("creating the local CA: {e}"));
    let key = KeyPair::generate().map_err(fail)?;
    let mut params = ca_params();
    set_validity(&mut params, -1, 3650);
    let cert = params.self_signed(&key).map_err(fail)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Makes a certificate valid from today plus `from` days to today plus `to` days.
fn set_validity(params: &mut CertificateParams, from: i64, to: i64) {
    let day = |offset: i64| {
        let d = jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
            .checked_add(jiff::Span::new().days(offset))
            .unwrap_or(jiff::civil::date(2030, 1, 1));
        rcgen::date_time_ymd(i32::from(d.year()), d.month() as u8, d.day() as u8)
    };
    params.not_before = day(from);
    params.not_after = day(to);
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
