//! `authsome mcp`: the Model Context Protocol over stdio (rmcp), a front end for agents beside
//! the command line. No tool returns a secret: connections are listed without values, and
//! `http_request` goes out through authsome's own proxy, so the credential is attached under
//! the vault's policy and the response comes back redacted and size-capped. Every call is
//! audited with the client's name.

use std::sync::{Arc, OnceLock};

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServiceExt, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};

use authsome::context::Context;
use authsome::error::{Error, Result};
use authsome::model::report::{ConnectionFacts, ListReport, ListedConnection, ListedProvider};
use authsome::providers::Catalog;
use authsome::proxy::audit::{self, Action, Entry};
use authsome::vault;

/// The largest response body `http_request` returns, in bytes.
const MAX_BODY: usize = 64 * 1024;

/// The proxy `http_request` sends through, started on first use; never dropped (its runtime
/// must not be dropped inside the server's).
static PROXY: OnceLock<std::result::Result<Proxied, String>> = OnceLock::new();

struct Proxied {
    _running: authsome::proxy::Running,
    client: reqwest::blocking::Client,
}

/// The MCP server.
#[derive(Clone)]
pub struct Server {
    ctx: Arc<Context>,
    audit: Option<Arc<audit::Log>>,
}

/// Arguments of `connection_status`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct StatusArgs {
    /// The provider (`github`, `openai`, ...).
    pub provider: String,
    /// The connection (default: the provider's default).
    pub connection: Option<String>,
}

/// Arguments of `http_request`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct RequestArgs {
    /// GET, POST, ...
    pub method: String,
    /// An https URL on a provider's API host.
    pub url: String,
    /// Request headers (an Authorization header is replaced by the credential).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// The request body, as text.
    pub body: Option<String>,
    /// The connection to use (default: the provider's default).
    pub connection: Option<String>,
}

/// Arguments of `start_login`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct LoginArgs {
    /// The provider to log in to.
    pub provider: String,
    /// The connection name (default: `default`).
    pub connection: Option<String>,
    /// The OAuth2 flow (`device_code` suits a person on another machine).
    pub flow: Option<String>,
}

/// Arguments of `audit_recent`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct AuditArgs {
    /// How many entries, newest last (default 20).
    pub limit: Option<usize>,
}

/// What `http_request` returns.
#[derive(Debug, Serialize)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    body: String,
    truncated: bool,
}

#[tool_router(server_handler)]
impl Server {
    /// A server over the resolved context.
    pub fn new(ctx: Context) -> Self {
        let audit = audit::path()
            .and_then(|p| audit::Log::open(&p, Arc::new(authsome::ui::Silent)))
            .ok()
            .map(Arc::new);
        Server {
            ctx: Arc::new(ctx),
            audit,
        }
    }

    #[tool(
        description = "List the providers and connections the user is logged in to: names, status, expiry, scopes. Never secrets."
    )]
    async fn list_connections(&self, ctx: RequestContext<RoleServer>) -> CallToolResult {
        let this = self.clone();
        let result = blocking(move || this.list()).await;
        self.finish(&ctx, "list_connections", result.and_then(json))
    }

    #[tool(
        description = "The status of one connection (connected, expired, ...), its expiry and scopes. Never secrets."
    )]
    async fn connection_status(
        &self,
        Parameters(args): Parameters<StatusArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let this = self.clone();
        let result = blocking(move || this.status(&args)).await;
        self.finish(&ctx, "connection_status", result.and_then(json))
    }

    #[tool(
        description = "Send an HTTPS request to a provider's API with the user's credential attached by authsome's proxy, under the vault's request policy. The response is redacted and capped at 64 KiB. A 403 or 429 whose body starts with 'authsome' is the user's policy: do not work around it."
    )]
    async fn http_request(
        &self,
        Parameters(args): Parameters<RequestArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let this = self.clone();
        let result = blocking(move || this.send(&args)).await;
        self.finish(&ctx, "http_request", result.and_then(json))
    }

    #[tool(
        description = "Start a login that a person completes: returns at once with the device code and page (or the page to open) to show the person; the login finishes in the background. connection_status tells when it is connected."
    )]
    async fn start_login(
        &self,
        Parameters(args): Parameters<LoginArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let result = blocking(move || start_login(&args)).await;
        self.finish(&ctx, "start_login", result)
    }

    #[tool(description = "The most recent entries of authsome's audit log (no secrets).")]
    async fn audit_recent(
        &self,
        Parameters(args): Parameters<AuditArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let result = (|| {
            let mut entries = audit::read(&audit::path()?)?;
            let keep = args.limit.unwrap_or(20);
            let skip = entries.len().saturating_sub(keep);
            entries.drain(..skip);
            Ok(entries)
        })();
        self.finish(&ctx, "audit_recent", result.and_then(json))
    }
}

impl Server {
    fn list(&self) -> Result<ListReport> {
        let cx = &self.ctx;
        let store = cx.store()?;
        let snap = store.snapshot()?;
        authsome::trust::gate_vault(&snap, &cx.vault, &cx.trust, &authsome::ui::Silent)?;
        let catalog = Catalog::new(&snap);
        let mut providers = Vec::new();
        for (name, (state, conns)) in vault::all_records(&snap, &cx.vault, None)? {
            if conns.is_empty() {
                continue;
            }
            let def = catalog.get(&name).ok().map(|p| p.def);
            providers.push(ListedProvider {
                display_name: def.as_ref().map(|d| d.display_name.clone()),
                source: None,
                auth_type: def.as_ref().map(|d| d.auth_type),
                connections: conns
                    .iter()
                    .map(|(c, r)| ListedConnection::of(c, r, state.default.as_deref() == Some(c)))
                    .collect(),
                default: state.default.clone(),
                name,
            });
        }
        Ok(ListReport {
            vault: cx.vault.to_string(),
            providers,
        })
    }

    fn status(&self, args: &StatusArgs) -> Result<ConnectionFacts> {
        let cx = &self.ctx;
        let store = cx.store()?;
        let snap = store.snapshot()?;
        authsome::trust::gate_vault(&snap, &cx.vault, &cx.trust, &authsome::ui::Silent)?;
        let def = Catalog::new(&snap).get(&args.provider)?.def;
        let (conn, record) = vault::resolve_connection(
            &snap,
            &cx.vault,
            &def.name,
            cx.connection(&def.name, args.connection.as_deref()),
        )?;
        let state = vault::provider_state(&snap, &cx.vault, &def.name)?;
        Ok(ConnectionFacts::of(
            &def.name,
            &conn,
            &cx.vault,
            state.default.as_deref() == Some(conn.as_str()),
            &record,
        ))
    }

    fn send(&self, args: &RequestArgs) -> Result<Answer> {
        let url = url::Url::parse(&args.url)
            .map_err(|e| Error::usage(format!("{:?} is not a URL ({e})", args.url)))?;
        if url.scheme() != "https" {
            return Err(Error::usage(
                "http_request sends credentials over https only; use an https:// URL",
            ));
        }
        let method = reqwest::Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| Error::usage(format!("{:?} is not an HTTP method", args.method)))?;
        let proxied = PROXY
            .get_or_init(|| start_proxy(&self.ctx).map_err(|e| e.message().to_owned()))
            .as_ref()
            .map_err(|e| Error::internal(e.clone()))?;
        let mut request = proxied.client.request(method, url);
        for (k, v) in &args.headers {
            request = request.header(k, v);
        }
        if let Some(c) = &args.connection {
            request = request.header("X-Authsome-Connection", c);
        }
        if let Some(b) = &args.body {
            request = request.body(b.clone());
        }
        let response = request
            .send()
            .map_err(|e| Error::new(authsome::error::ErrorKind::Endpoint, e.to_string()))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut bytes = Vec::new();
        let mut limited = std::io::Read::take(response, MAX_BODY as u64 + 1);
        std::io::Read::read_to_end(&mut limited, &mut bytes)
            .map_err(|e| Error::new(authsome::error::ErrorKind::Endpoint, e.to_string()))?;
        let truncated = bytes.len() > MAX_BODY;
        bytes.truncate(MAX_BODY);
        Ok(Answer {
            status,
            content_type,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            truncated,
        })
    }

    /// The tool's result, audited with the client's name.
    fn finish(
        &self,
        ctx: &RequestContext<RoleServer>,
        tool: &str,
        result: Result<String>,
    ) -> CallToolResult {
        let client = ctx
            .peer
            .peer_info()
            .map(|i| format!("{} {}", i.client_info.name, i.client_info.version))
            .unwrap_or_else(|| "an unnamed client".to_owned());
        if let Some(log) = &self.audit {
            log.record(Entry {
                time: String::new(),
                action: Action::McpCall,
                provider: None,
                connection: None,
                method: "CALL".to_owned(),
                host: "mcp".to_owned(),
                path: format!("/{tool}"),
                status: if result.is_ok() { 200 } else { 400 },
                reason: Some(format!("called by {client}")),
                rule: None,
                retried: false,
            });
        }
        match result {
            Ok(text) => CallToolResult::success(vec![ContentBlock::text(text)]),
            Err(e) => CallToolResult::error(vec![ContentBlock::text(e.to_string())]),
        }
    }
}

/// Starts the injecting proxy and a client that trusts its CA and goes through it.
fn start_proxy(cx: &Context) -> Result<Proxied> {
    let settings = authsome::proxy::credentials::Settings {
        location: cx.location.clone(),
        vault: cx.vault.clone(),
        identity: cx.identity()?,
        overrides: Default::default(),
        pins: cx.pins.clone(),
        ui: Arc::new(authsome::ui::Silent),
        signing_key: cx.signing_key_path.clone(),
        trust: cx.trust.clone(),
    };
    let running = authsome::proxy::start(
        settings,
        authsome::proxy::Options {
            upstream_ca: std::env::var_os("AUTHSOME_UPSTREAM_CA")
                .map(std::path::PathBuf::from)
                .as_deref(),
            narrowing: Default::default(),
        },
    )?;
    let var = |name: &str| {
        running
            .env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let proxy_url = var("HTTPS_PROXY").ok_or_else(|| Error::internal("the proxy has no URL"))?;
    let bundle = var("SSL_CERT_FILE").ok_or_else(|| Error::internal("the proxy has no CA"))?;
    let pem = std::fs::read(&bundle).map_err(|e| Error::io("read", bundle.as_ref(), e))?;
    let mut builder = reqwest::blocking::Client::builder()
        .proxy(reqwest::Proxy::all(&proxy_url).map_err(|e| Error::internal(e.to_string()))?)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60));
    for cert in reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| Error::internal(format!("the proxy's CA bundle: {e}")))?
    {
        builder = builder.add_root_certificate(cert);
    }
    let client = builder
        .build()
        .map_err(|e| Error::internal(e.to_string()))?;
    Ok(Proxied {
        _running: running,
        client,
    })
}

/// `authsome login --no-wait --json` for the tool, as this process's own command line: its
/// JSON (what the person must do) is the tool's answer.
fn start_login(args: &LoginArgs) -> Result<String> {
    authsome::model::names::validate("provider", &args.provider)?;
    let exe = std::env::current_exe()
        .map_err(|e| Error::internal(format!("could not find authsome's own binary: {e}")))?;
    let mut command = std::process::Command::new(exe);
    command.args(["--json", "login", &args.provider, "--no-wait"]);
    if let Some(c) = &args.connection {
        command.args(["-c", c]);
    }
    if let Some(f) = &args.flow {
        command.args(["--flow", f]);
    }
    let out = command
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|e| Error::internal(format!("could not start the login: {e}")))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() {
        Ok(text)
    } else {
        Err(Error::usage(text))
    }
}

fn json<T: Serialize>(value: T) -> Result<String> {
    serde_json::to_string_pretty(&value).map_err(|e| Error::internal(e.to_string()))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(Error::internal(format!("the tool failed: {e}"))))
}

/// Serves MCP on stdin and stdout until the client goes away.
pub fn serve(ctx: Context) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("starting the MCP runtime: {e}")))?;
    runtime.block_on(async {
        let service = Server::new(ctx)
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| Error::internal(format!("the MCP session did not start: {e}")))?;
        service
            .waiting()
            .await
            .map_err(|e| Error::internal(format!("the MCP session failed: {e}")))?;
        Ok::<(), Error>(())
    })?;
    // The proxy's runtime (if started) is left to the process exit.
    runtime.shutdown_background();
    Ok(())
}
