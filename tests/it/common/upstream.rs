//! An HTTPS upstream for the proxy tests: `tests/servers/echo.mjs` (node's own TLS server) with
//! a certificate from a test CA made here, for an IP address other than 127.0.0.1 so the
//! child's `NO_PROXY` (loopback names and 127.0.0.1) does not send it around the proxy.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

use super::servers::NodeServer;

/// A test CA and one server certificate it signed.
pub struct TestCa {
    /// The CA certificate (PEM), to pass as `--upstream-ca` or `curl --cacert`.
    pub ca: PathBuf,
    /// The server certificate.
    pub cert: PathBuf,
    /// The server key.
    pub key: PathBuf,
}

impl TestCa {
    /// Makes a CA in `dir` and a server certificate for the IP addresses `ips`.
    pub fn new(dir: &Path, ips: &[&str]) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "authsome test upstream CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(ips.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &issuer).unwrap();
        let out = TestCa {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&out.ca, ca_cert.pem()).unwrap();
        std::fs::write(&out.cert, cert.pem()).unwrap();
        std::fs::write(&out.key, key.serialize_pem()).unwrap();
        out
    }
}

/// A running echo server.
pub struct Echo {
    server: NodeServer,
    /// `https://IP:PORT`.
    pub url: String,
    /// The CA that signed its certificate.
    pub ca: PathBuf,
}

impl Echo {
    /// Starts an echo server on `ip` with a certificate from `ca`.
    pub fn start(ca: &TestCa, ip: &str) -> Self {
        Self::start_speaking(ca, ip, false)
    }

    /// Starts an echo server that speaks only HTTP/2 (`h2` is all it offers by ALPN).
    pub fn start_h2(ca: &TestCa, ip: &str) -> Self {
        Self::start_speaking(ca, ip, true)
    }

    fn start_speaking(ca: &TestCa, ip: &str, h2: bool) -> Self {
        let cert = format!("--cert={}", ca.cert.display());
        let key = format!("--key={}", ca.key.display());
        let host = format!("--host={ip}");
        let mut args = vec![cert.as_str(), key.as_str(), host.as_str()];
        if h2 {
            args.push("--h2");
        }
        let server = NodeServer::start_args("echo.mjs", &args);
        Echo {
            url: server.issuer.clone(),
            server,
            ca: ca.ca.clone(),
        }
    }

    /// The requests it received, straight from the server (not through any proxy).
    pub fn log(&self) -> Vec<serde_json::Value> {
        let out = Command::new("curl")
            .args(["-sS", "--noproxy", "*", "--cacert"])
            .arg(&self.ca)
            .arg(format!("{}/__log", self.url))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    /// The requests received for `path` (path and query).
    pub fn seen(&self, path: &str) -> Vec<serde_json::Value> {
        self.log()
            .into_iter()
            .filter(|r| r["path"] == path)
            .collect()
    }

    /// The Authorization header of the one request received for `path`.
    pub fn auth(&self, path: &str) -> String {
        let seen = self.seen(path);
        assert_eq!(seen.len(), 1, "expected one request for {path}: {seen:?}");
        seen[0]["headers"]["authorization"]
            .as_str()
            .unwrap_or("<none>")
            .to_owned()
    }
}
