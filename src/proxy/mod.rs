//! The injecting proxy of `authsome run`: a local HTTPS proxy that terminates TLS for the hosts
//! of providers with a connection, sets the credential header there, and tunnels every other
//! host untouched. The child process only ever sees placeholders.
//!
//! Built on hyper 1, tokio-rustls (ring) and rcgen. A small runtime accepts connections and
//! forwards signals while the main thread waits for the child; worker threads, one per core
//! (`workers.rs`), serve the connections.

pub mod audit;
mod ca;
pub mod child;
pub mod credentials;
pub mod guard;
mod head;
mod http;
mod intercept;
mod limits;
mod linger;
mod pool;
mod redact;
pub mod routes;
mod server;
mod state;
mod tls;
mod upstream;
mod workers;

use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::model::provider::EnvSource;
use credentials::{Resolver, Settings};
use state::Proxy;
pub use tls::crypto_provider;

/// The local CA's folder if it exists, after checking its key (for `doctor`).
pub fn check_ca() -> Result<Option<std::path::PathBuf>> {
    ca::check(&ca::dir()?)
}

/// What `start` needs besides the store.
pub struct Options<'a> {
    /// Extra CA certificates (PEM) to trust for upstream servers.
    pub upstream_ca: Option<&'a Path>,
    /// The run's own limits on what credentials may do.
    pub narrowing: guard::Narrowing,
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
    audit: Arc<audit::Log>,
}

impl Running {
    /// Stops serving, and writes every audit entry still queued.
    pub fn stop(self) {
        self.runtime.shutdown_background();
        self.audit.flush();
    }
}

/// Starts the proxy on 127.0.0.1 with a random port and password.
pub fn start(settings: Settings, options: Options<'_>) -> Result<Running> {
    let via = upstream::Via::from_env(&upstream::HTTPS_VARS)?;
    let via_http = upstream::Via::from_env(&upstream::HTTP_VARS)?;
    let audit = Arc::new(audit::Log::open(&audit::path()?, settings.ui.clone())?);
    let resolver = Resolver::new(settings, Some(audit.clone()))?;
    let ca_dir = ca::dir()?;
    let ca = ca::LocalCa::load_or_create(&ca_dir)?;
    // Read once: parsing the system's roots is most of the start-up time.
    let roots = rustls_native_certs::load_native_certs().certs;
    let bundle = ca.write_bundle(&ca_dir, &roots)?;
    let upstream_tls = tls::upstream_tls(roots, options.upstream_ca)?;
    let threads = workers::count();
    let pools = (0..threads)
        .map(|_| pool::Pool::new(upstream_tls.clone(), via.clone()))
        .collect();
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
        let field = p.def.auth_type.credential_field().as_str();
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
    child::raise_descriptor_limit();
    // This runtime accepts connections and hands each to the next worker thread (workers.rs
    // says why not a work-stealing runtime), and forwards signals to the child.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
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
        pools,
        via,
        via_http,
        password_header,
        finders: placeholders
            .iter()
            .map(|(_, ph)| memchr::memmem::Finder::new(ph.as_bytes()).into_owned())
            .collect(),
        placeholders,
        audit: Some(audit.clone()),
        unauthenticated: Default::default(),
        guard: guard::Guard::new(options.narrowing),
    });
    let workers = {
        let proxy = proxy.clone();
        workers::Workers::start(threads, move |job| server::take(proxy.clone(), job))
            .map_err(|e| Error::internal(format!("starting the proxy's threads: {e}")))?
    };
    runtime.spawn(server::serve(listener, proxy, workers));
    let url = format!("http://authsome:{password}@127.0.0.1:{port}");
    let mut env = child::environment(&url, &bundle);
    env.extend(variables);
    Ok(Running {
        runtime,
        env,
        unset,
        audit,
    })
}
