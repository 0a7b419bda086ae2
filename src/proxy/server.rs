//! The proxy's request path: the password check, CONNECT (intercepted or tunnelled), the
//! intercepted requests (route, inject, forward, redact), and plain-HTTP forwarding.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full, Limited};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, Uri, Version};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

use super::Proxy;
use super::audit::{Action, Entry};
use super::credentials::Credential;
use super::redact;

/// A boxed error, for bodies that mix upstream and local sources.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Every body the proxy sends.
pub type Body = http_body_util::combinators::BoxBody<Bytes, BoxError>;

/// The largest request or response head read (request line and headers).
const MAX_HEAD: usize = 64 * 1024;
/// The largest request body forwarded to an intercepted host.
const MAX_BODY: u64 = 64 * 1024 * 1024;
/// Request bodies up to this size are kept, so a request refused with 401 can be sent again
/// with a refreshed token.
const REPLAY_BODY: u64 = 1024 * 1024;
/// Responses up to this size are redacted whole (keeping a Content-Length); larger ones are
/// redacted as they stream.
const REDACT_WHOLE: u64 = 1024 * 1024;
/// The header a client sets to pick a connection for one request.
const CONNECTION_HEADER: &str = "x-authsome-connection";

/// Accepts clients until the process exits.
pub async fn serve(listener: TcpListener, proxy: Arc<Proxy>) {
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of file descriptors, most likely: wait instead of spinning.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let proxy = proxy.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| front(proxy.clone(), req));
            let _ = http1::Builder::new()
                .max_buf_size(MAX_HEAD)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}

/// A request as it reaches the proxy port.
async fn front(proxy: Arc<Proxy>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    if !proxy.authorized(req.headers()) {
        let mut entry = entry(&req, target_of(req.uri()));
        // A request without credentials is the first step of HTTP proxy authentication (git
        // asks that way every time), not an attempt worth logging; a wrong password is.
        if !req.headers().contains_key(header::PROXY_AUTHORIZATION) {
            entry.action = Action::Challenged;
        }
        let mut r = proxy.refuse(
            entry,
            StatusCode::PROXY_AUTHENTICATION_REQUIRED,
            "this proxy takes only requests with its run's password; use the proxy URL authsome run put in HTTPS_PROXY",
        );
        r.headers_mut().insert(
            header::PROXY_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"authsome\""),
        );
        return Ok(r);
    }
    if req.method() == Method::CONNECT {
        return Ok(connect(proxy, req).await);
    }
    Ok(match req.uri().scheme_str() {
        Some("http") => plain(proxy, req).await,
        Some(_) => {
            let entry = entry(&req, target_of(req.uri()));
            proxy.refuse(
                entry,
                StatusCode::FORBIDDEN,
                "send https:// requests through CONNECT; authsome does not turn plain HTTP into HTTPS",
            )
        }
        None => text(
            StatusCode::BAD_REQUEST,
            "this is authsome's proxy; send requests through it with HTTPS_PROXY",
        ),
    })
}

/// Where a request goes.
#[derive(Debug, Clone)]
pub struct Target {
    /// Lower-case host name or IP address (without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
}

impl Target {
    fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            443 => host,
            p => format!("{host}:{p}"),
        }
    }
}

fn target_of(uri: &Uri) -> Target {
    let default = if uri.scheme_str() == Some("http") {
        80
    } else {
        443
    };
    Target {
        host: uri
            .host()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_ascii_lowercase(),
        port: uri.port_u16().unwrap_or(default),
    }
}

async fn connect(proxy: Arc<Proxy>, req: Request<Incoming>) -> Response<Body> {
    let target = target_of(req.uri());
    if target.host.is_empty() {
        return text(StatusCode::BAD_REQUEST, "CONNECT needs host:port");
    }
    let view = match proxy.resolver.view().await {
        Ok(v) => v,
        Err(e) => return text(StatusCode::BAD_GATEWAY, e.message()),
    };
    if view.table.covers(&target.host) {
        tokio::spawn(async move {
            if let Ok(upgraded) = hyper::upgrade::on(req).await {
                intercept(proxy, upgraded, target).await;
            }
        });
    } else {
        let mut upstream = match TcpStream::connect((target.host.as_str(), target.port)).await {
            Ok(s) => s,
            Err(e) => {
                return text(
                    StatusCode::BAD_GATEWAY,
                    &format!("could not reach {}: {e}", target.authority()),
                );
            }
        };
        let _ = upstream.set_nodelay(true);
        tokio::spawn(async move {
            if let Ok(upgraded) = hyper::upgrade::on(req).await {
                let mut client = TokioIo::new(upgraded);
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            }
        });
    }
    Response::new(empty())
}

/// Terminates TLS for `target` with a local leaf, then serves the client's requests over one
/// upstream connection to the CONNECT target (so the credential only ever goes there).
async fn intercept(proxy: Arc<Proxy>, upgraded: hyper::upgrade::Upgraded, target: Target) {
    let Ok(config) = proxy.ca.server_config(&target.host) else {
        return;
    };
    let Ok(tls) = tokio_rustls::TlsAcceptor::from(config)
        .accept(TokioIo::new(upgraded))
        .await
    else {
        return;
    };
    let target = Arc::new(target);
    let upstream: Arc<Mutex<Option<SendRequest<Body>>>> = Arc::new(Mutex::new(None));
    let service = service_fn(move |req| {
        let (proxy, target, upstream) = (proxy.clone(), target.clone(), upstream.clone());
        async move { Ok::<_, Infallible>(intercepted(&proxy, &target, &upstream, req).await) }
    });
    let _ = http1::Builder::new()
        .max_buf_size(MAX_HEAD)
        .serve_connection(TokioIo::new(tls), service)
        .await;
}

async fn intercepted(
    proxy: &Proxy,
    target: &Target,
    upstream: &Mutex<Option<SendRequest<Body>>>,
    req: Request<Incoming>,
) -> Response<Body> {
    let mut log = entry(&req, target.clone());
    let (mut parts, body) = req.into_parts();
    if is_trace(&parts.method) {
        return proxy.refuse(
            log,
            StatusCode::METHOD_NOT_ALLOWED,
            "authsome refuses TRACE and TRACK, which echo request headers (and so the credential) back",
        );
    }
    let named = parts
        .headers
        .remove(CONNECTION_HEADER)
        .and_then(|v| v.to_str().ok().map(str::to_owned));
    strip_hop_by_hop(&mut parts.headers);
    let view = match proxy.resolver.view().await {
        Ok(v) => v,
        Err(e) => return proxy.refuse(log, StatusCode::BAD_GATEWAY, e.message()),
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let route = view
        .table
        .route(&target.host, &path_and_query)
        .map(str::to_owned);
    if let Some(other) =
        proxy.foreign_placeholder(&parts.headers, &path_and_query, route.as_deref())
    {
        log.provider = Some(other.to_owned());
        return proxy.refuse(
            log,
            StatusCode::FORBIDDEN,
            &format!(
                "the request carries authsome's placeholder for {other}, which does not serve {}; authsome blocked it",
                target.authority()
            ),
        );
    }
    let credential = match &route {
        None => None,
        Some(provider) => {
            log.provider = Some(provider.clone());
            match proxy
                .resolver
                .credential(&view, provider, named.as_deref())
                .await
            {
                Ok(c) => Some(c),
                Err(e) => return proxy.refuse(log, StatusCode::BAD_GATEWAY, e.message()),
            }
        }
    };
    let length = content_length(&parts.headers);
    if length.is_some_and(|l| l > MAX_BODY) {
        return proxy.refuse(
            log,
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request bodies over {MAX_BODY} bytes are not forwarded by authsome"),
        );
    }
    // The credential goes only to the CONNECT target, whatever Host the client wrote.
    parts.uri = Uri::try_from(path_and_query.as_str()).unwrap_or_else(|_| Uri::from_static("/"));
    parts.version = Version::HTTP_11;
    if let Ok(host) = HeaderValue::from_str(&target.authority()) {
        parts.headers.insert(header::HOST, host);
    }
    let no_body = length == Some(0)
        || (length.is_none() && !parts.headers.contains_key(header::TRANSFER_ENCODING));
    let replayable = credential.as_ref().is_some_and(|c| c.oauth)
        && (no_body || length.is_some_and(|l| l <= REPLAY_BODY));
    let (body, kept) = if replayable {
        match Limited::new(body, REPLAY_BODY as usize).collect().await {
            Ok(b) => {
                let bytes = b.to_bytes();
                (full(bytes.clone()), Some(bytes))
            }
            Err(e) => return proxy.refuse(log, StatusCode::BAD_REQUEST, &e.to_string()),
        }
    } else {
        (Limited::new(body, MAX_BODY as usize).boxed(), None)
    };
    let method = parts.method.clone();
    let (uri, headers) = (parts.uri.clone(), parts.headers.clone());
    let mut request = Request::from_parts(parts, body);
    if let Some(c) = &credential {
        request
            .headers_mut()
            .insert(c.header.clone(), c.value.clone());
        log.connection = Some(c.connection.clone());
    }
    let mut response = match send(proxy, target, upstream, request).await {
        Ok(r) => r,
        Err(e) => return proxy.refuse(log, StatusCode::BAD_GATEWAY, &e),
    };
    let mut credential = credential;
    if response.status() == StatusCode::UNAUTHORIZED
        && let (Some(c), Some(bytes)) = (&credential, kept)
    {
        // The token may have been revoked or rotated early: one refresh, one retry.
        let fresh = match proxy.resolver.after_rejection(&view, c).await {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!(
                    "authsome: {} answered 401 to {}/{} and the token could not be refreshed: {}",
                    target.authority(),
                    c.provider,
                    c.connection,
                    e.message()
                );
                None
            }
        };
        if let Some(fresh) = fresh
            && fresh.value != c.value
        {
            let mut retry = Request::new(full(bytes));
            *retry.method_mut() = method.clone();
            *retry.uri_mut() = uri;
            *retry.headers_mut() = headers;
            retry
                .headers_mut()
                .insert(fresh.header.clone(), fresh.value.clone());
            match send(proxy, target, upstream, retry).await {
                Ok(r) => response = r,
                Err(e) => return proxy.refuse(log, StatusCode::BAD_GATEWAY, &e),
            }
            credential = Some(fresh);
        }
    }
    log.status = response.status().as_u16();
    let response = finish(response, &method, credential.as_deref(), proxy).await;
    if credential.is_some() {
        log.action = Action::Injected;
        proxy.record(log);
    }
    response
}

/// Sends over the tunnel's upstream connection, opening it (again) when needed.
async fn send(
    proxy: &Proxy,
    target: &Target,
    upstream: &Mutex<Option<SendRequest<Body>>>,
    request: Request<Body>,
) -> Result<Response<Incoming>, String> {
    let mut slot = upstream.lock().await;
    let reusable = match slot.take() {
        Some(mut s) => s.ready().await.is_ok().then_some(s),
        None => None,
    };
    let mut sender = match reusable {
        Some(s) => s,
        None => open_upstream(proxy, target).await?,
    };
    let response = sender.send_request(request);
    *slot = Some(sender);
    drop(slot);
    response
        .await
        .map_err(|e| format!("{} failed: {e}", target.authority()))
}

async fn open_upstream(proxy: &Proxy, target: &Target) -> Result<SendRequest<Body>, String> {
    let authority = target.authority();
    let tcp = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| format!("could not reach {authority}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let name = rustls::pki_types::ServerName::try_from(target.host.clone())
        .map_err(|_| format!("{} is not a valid TLS server name", target.host))?;
    let tls = tokio_rustls::TlsConnector::from(proxy.upstream_tls.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS with {authority} failed: {e}"))?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| format!("HTTP with {authority} failed: {e}"))?;
    tokio::spawn(conn);
    Ok(sender)
}

/// Strips hop-by-hop headers from a response and, when a credential was injected, replaces any
/// echo of it with the placeholder.
async fn finish(
    response: Response<Incoming>,
    method: &Method,
    credential: Option<&Credential>,
    proxy: &Proxy,
) -> Response<Body> {
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let Some(c) = credential else {
        return Response::from_parts(parts, body.map_err(BoxError::from).boxed());
    };
    let placeholder = proxy.placeholder_of(&c.provider);
    let secret = age::secrecy::ExposeSecret::expose_secret(&c.secret).as_bytes();
    redact::headers(&mut parts.headers, secret, placeholder.as_bytes());
    let bodiless = *method == Method::HEAD
        || parts.status == StatusCode::NO_CONTENT
        || parts.status == StatusCode::NOT_MODIFIED;
    if bodiless {
        return Response::from_parts(parts, body.map_err(BoxError::from).boxed());
    }
    match content_length(&parts.headers) {
        Some(len) if len <= REDACT_WHOLE => {
            let bytes = match Limited::new(body, REDACT_WHOLE as usize).collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => {
                    return text(
                        StatusCode::BAD_GATEWAY,
                        &format!("reading the response: {e}"),
                    );
                }
            };
            let bytes = redact::whole(bytes, secret, placeholder.as_bytes());
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            Response::from_parts(parts, full(bytes))
        }
        _ => {
            // The length can change, so the client gets the body chunked.
            parts.headers.remove(header::CONTENT_LENGTH);
            let body = redact::Stream::new(
                body.map_err(BoxError::from).boxed(),
                secret,
                placeholder.as_bytes(),
            );
            Response::from_parts(parts, body.boxed())
        }
    }
}

/// A plain-HTTP request (absolute-form `http://`): forwarded without a credential, never to a
/// host a provider covers.
async fn plain(proxy: Arc<Proxy>, req: Request<Incoming>) -> Response<Body> {
    let target = target_of(req.uri());
    let log = entry(&req, target.clone());
    let (mut parts, body) = req.into_parts();
    if is_trace(&parts.method) {
        return proxy.refuse(
            log,
            StatusCode::METHOD_NOT_ALLOWED,
            "authsome refuses TRACE and TRACK",
        );
    }
    parts.headers.remove(CONNECTION_HEADER);
    strip_hop_by_hop(&mut parts.headers);
    let view = match proxy.resolver.view().await {
        Ok(v) => v,
        Err(e) => return proxy.refuse(log, StatusCode::BAD_GATEWAY, e.message()),
    };
    if let Some(provider) = view.table.route(&target.host, parts.uri.path()) {
        let mut log = log;
        log.provider = Some(provider.to_owned());
        return proxy.refuse(
            log,
            StatusCode::FORBIDDEN,
            &format!(
                "authsome injects credentials only over HTTPS; use https://{}",
                target.authority()
            ),
        );
    }
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    if let Some(other) = proxy.foreign_placeholder(&parts.headers, &path_and_query, None) {
        let mut log = log;
        log.provider = Some(other.to_owned());
        return proxy.refuse(
            log,
            StatusCode::FORBIDDEN,
            &format!(
                "the request carries authsome's placeholder for {other}, which does not serve {}; authsome blocked it",
                target.host
            ),
        );
    }
    let tcp = match TcpStream::connect((target.host.as_str(), target.port)).await {
        Ok(s) => s,
        Err(e) => {
            return text(
                StatusCode::BAD_GATEWAY,
                &format!("could not reach {}: {e}", target.host),
            );
        }
    };
    let (mut sender, conn) = match hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await {
        Ok(pair) => pair,
        Err(e) => return text(StatusCode::BAD_GATEWAY, &e.to_string()),
    };
    tokio::spawn(conn);
    parts.uri = Uri::try_from(path_and_query.as_str()).unwrap_or_else(|_| Uri::from_static("/"));
    let request = Request::from_parts(parts, body.map_err(BoxError::from).boxed());
    match sender.send_request(request).await {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Response::from_parts(parts, body.map_err(BoxError::from).boxed())
        }
        Err(e) => text(StatusCode::BAD_GATEWAY, &e.to_string()),
    }
}

fn is_trace(method: &Method) -> bool {
    method == Method::TRACE || method.as_str().eq_ignore_ascii_case("TRACK")
}

/// Removes the headers meant for one hop (and any header `Connection` names), before the
/// credential goes in, so `Connection: authorization` cannot remove it.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "proxy-authenticate",
        "te",
        "trailer",
        "upgrade",
    ] {
        headers.remove(name);
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn entry<B>(req: &Request<B>, target: Target) -> Entry {
    Entry {
        time: String::new(),
        action: Action::Refused,
        provider: None,
        connection: None,
        method: req.method().as_str().to_owned(),
        host: target.authority(),
        path: req.uri().path().to_owned(),
        status: 0,
        reason: None,
    }
}

fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

/// A short plain-text answer from the proxy itself.
pub fn text(status: StatusCode, message: &str) -> Response<Body> {
    let mut r = Response::new(full(Bytes::from(format!("authsome: {message}\n"))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}
