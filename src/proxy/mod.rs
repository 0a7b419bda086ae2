//! The injecting proxy of `authsome run`: a local HTTPS proxy that terminates TLS for the hosts
//! of providers with a connection, sets the credential header there, and tunnels every other
//! host untouched. The child process only ever sees placeholders.
//!
//! Built on hyper 1, tokio-rustls (ring) and rcgen. One tokio runtime serves the proxy while
//! the main thread waits for the child.

pub mod audit;
mod ca;
pub mod child;
pub mod credentials;
mod http;
mod intercept;
mod redact;
pub mod routes;
mod server;
mod upstream;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use hyper::header::HeaderMap;
use rustls::ClientConfig;
use rustls::crypto::CryptoProvider;

use crate::error::{Error, Result};
use crate::model::provider::{AuthType, EnvSource};
use audit::{Action, Entry};
use credentials::{Resolver, Settings};

/// The TLS crypto provider: ring, the one reqwest already uses.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The local CA's folder if it exists, after checking its key (for `doctor`).
pub fn check_ca() -> Result<Option<std::path::PathBuf>> {
    ca::check(&ca::dir()?)
}

/// A running proxy's shared state.
pub struct Proxy {
    resolver: Resolver,
    ca: ca::LocalCa,
    upstream_tls: Arc<ClientConfig>,
    /// The HTTP proxy authsome was started behind for HTTPS, if any.
    via: Option<upstream::Via>,
    /// The HTTP proxy authsome was started behind for plain HTTP, if any.
    via_http: Option<upstream::Via>,
    /// The `Proxy-Authorization` value a client must send.
    password_header: String,
    /// (provider, placeholder) for every provider the child got variables for.
    placeholders: Vec<(String, String)>,
    audit: Option<audit::Log>,
}

impl Proxy {
    fn authorized(&self, headers: &HeaderMap) -> bool {
        headers
            .get(hyper::header::PROXY_AUTHORIZATION)
            .is_some_and(|v| constant_time_eq(v.as_bytes(), self.password_header.as_bytes()))
    }

    /// Answers with a refusal, and logs it (unless it is the password challenge).
    fn refuse(
        &self,
        mut entry: Entry,
        status: hyper::StatusCode,
        message: &str,
    ) -> hyper::Response<http::Body> {
        if entry.action != Action::Challenged {
            entry.action = Action::Refused;
        }
        self.answer(entry, status, message)
    }

    /// Refuses TRACE and TRACK, which echo request headers (and so a credential) back.
    fn refuse_trace(&self, entry: Entry) -> hyper::Response<http::Body> {
        self.refuse(
            entry,
            hyper::StatusCode::METHOD_NOT_ALLOWED,
            "authsome refuses TRACE and TRACK, which echo request headers (and so the credential) back",
        )
    }

    /// Refuses a request that carries `provider`'s placeholder to a host it does not serve.
    fn refuse_placeholder(
        &self,
        mut entry: Entry,
        provider: &str,
        authority: &str,
    ) -> hyper::Response<http::Body> {
        entry.provider = Some(provider.to_owned());
        self.refuse(
            entry,
            hyper::StatusCode::FORBIDDEN,
            &format!(
                "the request carries authsome's placeholder for {provider}, which does not serve {authority}; authsome blocked it"
            ),
        )
    }

    /// Answers with a message from the proxy, and logs `entry` with it.
    fn answer(
        &self,
        mut entry: Entry,
        status: hyper::StatusCode,
        message: &str,
    ) -> hyper::Response<http::Body> {
        entry.status = status.as_u16();
        entry.reason = Some(message.to_owned());
        if entry.action != Action::Challenged {
            self.record(entry);
        }
        http::text(status, message)
    }

    fn record(&self, entry: Entry) {
        if let Some(log) = &self.audit {
            log.record(entry);
        }
    }

    /// The provider of a placeholder that a request carries (in a header, the path or the
    /// query) although it does not go to that provider.
    fn foreign_placeholder(
        &self,
        headers: &HeaderMap,
        path_and_query: &str,
        route: Option<&str>,
    ) -> Option<&str> {
        self.placeholders
            .iter()
            .filter(|(provider, _)| Some(provider.as_str()) != route)
            .find(|(_, ph)| {
                let needle = memchr::memmem::Finder::new(ph.as_bytes());
                needle.find(path_and_query.as_bytes()).is_some()
                    || headers
                        .values()
                        .any(|v| needle.find(v.as_bytes()).is_some())
            })
            .map(|(provider, _)| provider.as_str())
    }

    /// The placeholder that stands for `provider`'s credential.
    fn placeholder_of(&self, provider: &str) -> std::borrow::Cow<'_, str> {
        match self.placeholders.iter().find(|(p, _)| p == provider) {
            Some((_, ph)) => ph.as_str().into(),
            // A provider logged in after the run started has no variable, hence no placeholder.
            None => format!("authsome-placeholder-{provider}").into(),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What `start` needs besides the store.
pub struct Options<'a> {
    /// Extra CA certificates (PEM) to trust for upstream servers.
    pub upstream_ca: Option<&'a Path>,
}

/// A started proxy: keep the runtime alive while the child runs.
pub struct Running {
    /// The runtime serving the proxy.
    pub runtime: tokio::runtime::Runtime,
    /// The child's environment: proxy, trust bundle, placeholders.
    pub env: Vec<(String, String)>,
    /// Variables taken out of the child's environment: refresh tokens a provider declares, which
    /// the child never needs and an earlier `export` may have left with real values.
    pub unset: Vec<String>,
}

/// Starts the proxy on 127.0.0.1 with a random port and password.
pub fn start(settings: Settings, options: Options<'_>) -> Result<Running> {
    let via = upstream::Via::from_env(&upstream::HTTPS_VARS)?;
    let via_http = upstream::Via::from_env(&upstream::HTTP_VARS)?;
    let ui = settings.ui.clone();
    let resolver = Resolver::new(settings)?;
    let ca_dir = ca::dir()?;
    let ca = ca::LocalCa::load_or_create(&ca_dir)?;
    // Read once: parsing the system's roots is most of the start-up time.
    let roots = rustls_native_certs::load_native_certs().certs;
    let bundle = ca.write_bundle(&ca_dir, &roots)?;
    let upstream_tls = Arc::new(upstream_tls(roots, options.upstream_ca)?);
    let password = crate::random_hex(16);
    let password_header = crate::basic_auth("authsome", &password).to_string();
    let view = resolver.current();
    let mut placeholders = Vec::new();
    let mut variables = Vec::new();
    let mut unset = Vec::new();
    let mut names: Vec<&String> = view.providers.keys().collect();
    names.sort();
    for name in names {
        let p = &view.providers[name];
        let placeholder = format!("authsome-placeholder-{name}-{}", crate::random_hex(8));
        unset.extend(
            p.def
                .env
                .iter()
                .filter(|(_, s)| matches!(s, EnvSource::RefreshToken))
                .map(|(var, _)| var.clone()),
        );
        // The field the provider's credential lives in, as `export` would find it.
        let field = match p.def.auth_type {
            AuthType::ApiKey => "api_key",
            AuthType::Oauth2 => "access_token",
        };
        for (var, source) in p.def.env_mapping([field]) {
            if variables.iter().any(|(v, _): &(String, String)| *v == var) {
                continue;
            }
            let value = match source {
                EnvSource::BaseUrl => match &p.base_url {
                    Some(b) => b.clone(),
                    None => continue,
                },
                _ => placeholder.clone(),
            };
            variables.push((var, value));
        }
        placeholders.push((name.clone(), placeholder));
    }
    let audit = audit::Log::open(&audit::path()?, ui.clone())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("authsome-proxy")
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("starting the proxy runtime: {e}")))?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
        .map_err(|e| Error::internal(format!("the proxy could not listen on 127.0.0.1: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::internal(e.to_string()))?
        .port();
    let proxy = Arc::new(Proxy {
        resolver,
        ca,
        upstream_tls,
        via,
        via_http,
        password_header,
        placeholders,
        audit: Some(audit),
    });
    runtime.spawn(server::serve(listener, proxy));
    let url = format!("http://authsome:{password}@127.0.0.1:{port}");
    let mut env = child::environment(&url, &bundle);
    env.extend(variables);
    Ok(Running {
        runtime,
        env,
        unset,
    })
}

/// The TLS client configuration towards upstream servers: the system roots, plus `extra`.
fn upstream_tls(
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
    let mut config = ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
