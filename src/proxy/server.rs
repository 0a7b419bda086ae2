//! The proxy's request path: the password check, CONNECT (intercepted or tunnelled), the
//! intercepted requests (route, inject, forward, redact), and plain-HTTP forwarding.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

use super::Proxy;
use super::audit::{Action, Entry};

/// A boxed error, for bodies that mix upstream and local sources.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Every body the proxy sends.
pub type Body = http_body_util::combinators::BoxBody<Bytes, BoxError>;

/// The largest request head accepted (request line and headers); larger ones get 431.
pub const MAX_HEAD: usize = 64 * 1024;
/// The header a client sets to pick a connection for one request.
pub const CONNECTION_HEADER: &str = "x-authsome-connection";

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
                .max_header_size(MAX_HEAD)
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
    /// `host[:port]` (port left out when 443), IPv6 in brackets.
    pub fn authority(&self) -> String {
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
    let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
    Target {
        // `api.example.com.` is the same host as `api.example.com`.
        host: host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase(),
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
    if view.table.covers(&target.host, target.port) {
        tokio::spawn(async move {
            if let Ok(upgraded) = hyper::upgrade::on(req).await {
                super::intercept::intercept(proxy, upgraded, target).await;
            }
        });
    } else {
        let mut upstream =
            match super::upstream::dial(proxy.via.as_ref(), &target.host, target.port).await {
                Ok(s) => s,
                Err(e) => return text(StatusCode::BAD_GATEWAY, &e),
            };
        tokio::spawn(async move {
            if let Ok(upgraded) = hyper::upgrade::on(req).await {
                let mut client = TokioIo::new(upgraded);
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            }
        });
    }
    Response::new(empty())
}

/// A plain-HTTP request (absolute-form `http://`): forwarded without a credential, never to a
/// host a provider covers.
async fn plain(proxy: Arc<Proxy>, req: Request<Incoming>) -> Response<Body> {
    let target = target_of(req.uri());
    let log = entry(&req, target.clone());
    let (mut parts, body) = req.into_parts();
    if is_trace(&parts.method) {
        return proxy.refuse_trace(log);
    }
    parts.headers.remove(CONNECTION_HEADER);
    strip_hop_by_hop(&mut parts.headers);
    let view = match proxy.resolver.view().await {
        Ok(v) => v,
        Err(e) => return proxy.refuse(log, StatusCode::BAD_GATEWAY, e.message()),
    };
    if let Some(provider) = view
        .table
        .route(&target.host, target.port, parts.uri.path())
    {
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
    let path_and_query = path_and_query(&parts.uri);
    if let Some(other) = proxy.foreign_placeholder(&parts.headers, &path_and_query, None) {
        return proxy.refuse_placeholder(log, other, &target.authority());
    }
    // Behind another proxy the request goes to it as it came (absolute URI); else to the host.
    let via = proxy.via_http.as_ref().filter(|v| v.applies(&target.host));
    let address = via.map_or((target.host.as_str(), target.port), |v| v.address());
    let connected = tokio::time::timeout(
        super::upstream::CONNECT_TIMEOUT,
        TcpStream::connect(address),
    )
    .await
    .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()));
    let tcp = match connected {
        Ok(s) => {
            let _ = s.set_nodelay(true);
            s
        }
        Err(e) => {
            return text(
                StatusCode::BAD_GATEWAY,
                &format!("could not reach {}: {e}", target.authority()),
            );
        }
    };
    let (mut sender, conn) = match hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await {
        Ok(pair) => pair,
        Err(e) => {
            let message = format!("{} did not speak HTTP/1.1 ({e})", target.authority());
            return text(StatusCode::BAD_GATEWAY, &message);
        }
    };
    tokio::spawn(conn);
    match via {
        Some(v) => {
            if let Some(auth) = v.auth() {
                parts
                    .headers
                    .insert(header::PROXY_AUTHORIZATION, auth.clone());
            }
        }
        None => {
            parts.uri =
                Uri::try_from(path_and_query.as_str()).unwrap_or_else(|_| Uri::from_static("/"));
        }
    }
    let request = Request::from_parts(parts, body.map_err(BoxError::from).boxed());
    match sender.send_request(request).await {
        // The upstream proxy's 407 is not about authsome's password: say so.
        Ok(response)
            if via.is_some() && response.status() == StatusCode::PROXY_AUTHENTICATION_REQUIRED =>
        {
            let (host, port) = via.map(|v| v.address()).unwrap_or_default();
            text(
                StatusCode::BAD_GATEWAY,
                &super::upstream::needs_credentials(&format!("{host}:{port}")),
            )
        }
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Response::from_parts(parts, body.map_err(BoxError::from).boxed())
        }
        Err(e) => text(
            StatusCode::BAD_GATEWAY,
            &format!("{} failed: {e}", target.authority()),
        ),
    }
}

/// The names the `Connection` header lists (`close`, `upgrade`, header names), trimmed.
pub fn connection_tokens(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
}

/// The path and query of a request, whatever form its URI came in.
pub fn path_and_query(uri: &Uri) -> String {
    uri.path_and_query().map_or("/", |p| p.as_str()).to_owned()
}

/// Whether the method is TRACE or TRACK, which echo the request back.
pub fn is_trace(method: &Method) -> bool {
    method == Method::TRACE || method.as_str().eq_ignore_ascii_case("TRACK")
}

/// Removes the headers meant for one hop (and any header `Connection` names), before the
/// credential goes in, so `Connection: authorization` cannot remove it.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = connection_tokens(headers)
        .filter_map(|n| HeaderName::from_bytes(n.as_bytes()).ok())
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

/// The request's or response's declared body length.
pub fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// An audit entry for `req` to `target`, to be filled in as the request is handled.
pub fn entry<B>(req: &Request<B>, target: Target) -> Entry {
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
        retried: false,
    }
}

/// An empty body.
pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}

/// A body of these bytes.
pub fn full(bytes: Bytes) -> Body {
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
