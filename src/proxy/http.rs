//! The HTTP pieces the listener ([`super::server`]) and the interceptor ([`super::intercept`])
//! share: the body type, where a request goes, hop-by-hop headers, and the proxy's own answers.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::http::uri::PathAndQuery;
use hyper::{Method, Request, Response, StatusCode, Uri};

use super::audit::{Action, Entry};

/// A boxed error, for bodies that mix upstream and local sources.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Every body the proxy sends.
pub type Body = http_body_util::combinators::BoxBody<Bytes, BoxError>;

/// The largest request head accepted (request line and headers); larger ones get 431.
pub const MAX_HEAD: usize = 64 * 1024;
/// The header a client sets to pick a connection for one request.
pub const CONNECTION_HEADER: &str = "x-authsome-connection";

/// Where a request goes.
#[derive(Debug, Clone)]
pub struct Target {
    /// Lower-case host name or IP address (without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// `host[:port]`, made once: every request of a tunnel names it.
    authority: String,
}

impl Target {
    /// The target `host` (lower-case, without brackets) and `port`.
    pub fn new(host: String, port: u16) -> Self {
        let bracketed = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        let authority = match port {
            443 => bracketed,
            p => format!("{bracketed}:{p}"),
        };
        Target {
            host,
            port,
            authority,
        }
    }

    /// `host[:port]` (port left out when 443), IPv6 in brackets.
    pub fn authority(&self) -> &str {
        &self.authority
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

/// The path and query of a request, whatever form its URI came in (`/` when it has none that
/// starts with one, as `*` or an absolute URI without a path). A cheap clone: no copy.
pub fn path_and_query(uri: &Uri) -> PathAndQuery {
    uri.path_and_query()
        .filter(|p| p.as_str().starts_with('/'))
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"))
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
pub fn entry<B>(req: &Request<B>, target: &Target) -> Entry {
    Entry {
        time: String::new(),
        action: Action::Refused,
        provider: None,
        connection: None,
        method: req.method().as_str().to_owned(),
        host: target.authority().to_owned(),
        path: req.uri().path().to_owned(),
        status: 0,
        reason: None,
        rule: None,
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

/// A body of these bytes, then these trailers (a gRPC answer's status), if any.
pub fn with_trailers(bytes: Bytes, trailers: Option<HeaderMap>) -> Body {
    match trailers {
        None => full(bytes),
        Some(t) => Full::new(bytes)
            .map_err(|never| -> BoxError { match never {} })
            .with_trailers(std::future::ready(Some(Ok(t))))
            .boxed(),
    }
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
