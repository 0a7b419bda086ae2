//! Inside an intercepted tunnel: TLS with a local leaf towards the client (HTTP/2 or HTTP/1.1,
//! as its ALPN chooses), and for each request (each stream, under HTTP/2) the route, the checks,
//! the credential, a pooled upstream connection to the CONNECT target, the retry after a 401,
//! and the redacted response.

use std::convert::Infallible;
use std::sync::Arc;

use age::secrecy::ExposeSecret;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::http::uri::{Authority, PathAndQuery, Scheme};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, Uri, Version};
use hyper_util::rt::TokioIo;

use super::audit::{Action, Entry};
use super::credentials::Credential;
use super::http::{
    Body, BoxError, CONNECTION_HEADER, Target, content_length, entry, is_trace, strip_hop_by_hop,
    text, with_trailers,
};
use super::pool::SendError;
use super::redact;
use super::state::Proxy;

/// The largest request body forwarded to an intercepted host.
const MAX_BODY: u64 = 64 * 1024 * 1024;

/// What `http_body_util::Limited` says when a body passes its limit.
const TOO_LARGE: &str = "length limit exceeded";
/// Request bodies up to this size are kept, so a request refused with 401 can be sent again
/// with a refreshed token.
const REPLAY_BODY: u64 = 1024 * 1024;
/// Responses up to this size are redacted whole (keeping a Content-Length); larger ones are
/// redacted as they stream.
const REDACT_WHOLE: u64 = 1024 * 1024;

/// Terminates TLS for `target` with a local leaf, then serves the client's requests over
/// connections to the CONNECT target (so the credential only ever goes there).
pub async fn intercept(proxy: Arc<Proxy>, upgraded: hyper::upgrade::Upgraded, target: Target) {
    let Ok(config) = proxy.ca.server_config(&target.host) else {
        return;
    };
    // A client that stalls its handshake is not waited for.
    let accept = tokio_rustls::TlsAcceptor::from(config).accept(TokioIo::new(upgraded));
    let Ok(Ok(tls)) = tokio::time::timeout(super::limits::HEAD_TIMEOUT, accept).await else {
        return;
    };
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    let Some(tunnel) = Tunnel::new(target) else {
        return;
    };
    let tunnel = Arc::new(tunnel);
    let service = service_fn(move |req| {
        let (proxy, tunnel) = (proxy.clone(), tunnel.clone());
        async move { Ok::<_, Infallible>(handle(&proxy, &tunnel, req).await) }
    });
    let io = TokioIo::new(super::linger::Linger::new(tls));
    let _ = if h2 {
        super::limits::server_h2()
            .serve_connection(io, service)
            .await
    } else {
        super::limits::server()
            .serve_connection(io, service)
            .with_upgrades()
            .await
    };
}

/// A tunnel's CONNECT target, and what each of its requests is pinned to (made once).
struct Tunnel {
    target: Target,
    /// The target as a URI's authority.
    authority: Authority,
    /// The target as a `Host` header.
    host: HeaderValue,
}

impl Tunnel {
    fn new(target: Target) -> Option<Self> {
        Some(Tunnel {
            authority: target.authority().parse().ok()?,
            host: HeaderValue::from_str(target.authority()).ok()?,
            target,
        })
    }
}

async fn handle(proxy: &Proxy, tunnel: &Tunnel, req: Request<Incoming>) -> Response<Body> {
    let mut entry = entry(&req, &tunnel.target);
    // Refusals and failures come back as the answer to send, already logged.
    // Boxed: the service future is moved whole as hyper and tokio take it (into the stream's
    // task, under HTTP/2), and the request's states take a few kilobytes.
    match Box::pin(forward(proxy, tunnel, req, &mut entry)).await {
        Ok(response) | Err(response) => response,
    }
}

/// Routes, checks, injects, sends (and resends once after a 401), and relays the answer.
async fn forward(
    proxy: &Proxy,
    tunnel: &Tunnel,
    req: Request<Incoming>,
    entry: &mut Entry,
) -> Result<Response<Body>, Response<Body>> {
    let target = &tunnel.target;
    let (mut parts, body) = req.into_parts();
    if is_trace(&parts.method) {
        return Err(proxy.refuse_trace(entry.clone()));
    }
    if parts.headers.len() > super::limits::MAX_HEADERS {
        // HTTP/1.1 heads are held to this as they are parsed; HTTP/2 header blocks here.
        return Err(proxy.refuse(
            entry.clone(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            &format!(
                "requests with over {} header fields are not forwarded by authsome",
                super::limits::MAX_HEADERS
            ),
        ));
    }
    let controls = take_controls(&mut parts)
        .map_err(|message| proxy.refuse(entry.clone(), StatusCode::BAD_REQUEST, message))?;
    let view = proxy
        .resolver
        .view()
        .await
        .map_err(|e| proxy.refuse(entry.clone(), StatusCode::BAD_GATEWAY, e.message()))?;
    // Only the path and query go upstream, even if the client wrote an absolute URI.
    let path_and_query = super::http::path_and_query(&parts.uri);
    let route = view
        .table
        .route(&target.host, target.port, path_and_query.as_str());
    tracing::debug!(
        method = %parts.method,
        host = %target.host,
        path = %path_and_query.path(),
        provider = %route.unwrap_or("-"),
        "request"
    );
    if let Some(other) = proxy.foreign_placeholder(&parts.headers, path_and_query.as_str(), route) {
        return Err(proxy.refuse_placeholder(entry.clone(), other, target.authority()));
    }
    let credential = match route {
        None => None,
        Some(provider) => {
            entry.provider = Some(provider.to_owned());
            let found = proxy
                .resolver
                .credential(&view, provider, controls.connection.as_deref())
                .await;
            // Not a gateway failure: an SDK would retry a 502 to no avail.
            Some(
                found
                    .map_err(|e| proxy.refuse(entry.clone(), StatusCode::FORBIDDEN, e.message()))?,
            )
        }
    };
    if let Some(c) = &credential {
        let path = path_and_query.path();
        match proxy.guard.judge(
            &view,
            &c.provider,
            &c.connection,
            parts.method.as_str(),
            path,
        ) {
            super::guard::Verdict::Go { rule } => entry.rule = rule,
            super::guard::Verdict::Refuse { status, message } => {
                entry.connection = Some(c.connection.clone());
                entry.action = Action::PolicyDenied;
                return Err(proxy.answer(entry.clone(), status, &message));
            }
        }
    }
    let length = content_length(&parts.headers);
    if length.is_some_and(|l| l > MAX_BODY) {
        return Err(proxy.refuse(
            entry.clone(),
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request bodies over {MAX_BODY} bytes are not forwarded by authsome"),
        ));
    }
    pin_to_target(&mut parts, tunnel, path_and_query, credential.is_some());
    // Kept only when it is known to be small (a body still streaming, such as a gRPC stream's,
    // goes out as it comes).
    let replay = credential.as_ref().is_some_and(|c| c.oauth)
        && (hyper::body::Body::is_end_stream(&body)
            || hyper::body::Body::size_hint(&body)
                .exact()
                .is_some_and(|l| l <= REPLAY_BODY));
    let (body, kept) = if replay {
        let collected = Limited::new(body, REPLAY_BODY as usize)
            .collect()
            .await
            .map_err(|e| {
                let message = format!("the request body could not be read ({e})");
                proxy.refuse(entry.clone(), StatusCode::BAD_REQUEST, &message)
            })?;
        let trailers = collected.trailers().cloned();
        let bytes = collected.to_bytes();
        (
            with_trailers(bytes.clone(), trailers.clone()),
            Some((bytes, trailers)),
        )
    } else {
        (Limited::new(body, MAX_BODY as usize).boxed(), None)
    };
    let method = parts.method.clone();
    let upgrade = controls.upgrade.is_some();
    let resend = kept.map(|body| (parts.uri.clone(), parts.headers.clone(), body));
    let mut request = Request::from_parts(parts, body);
    if let Some(c) = &credential {
        request
            .headers_mut()
            .insert(c.header.clone(), c.value.clone());
        entry.connection = Some(c.connection.clone());
        entry.action = Action::Injected;
    }
    let mut response = proxy
        .pool()
        .send(request, upgrade)
        .await
        .map_err(|e| failed(proxy, entry.clone(), &e))?;
    let mut credential = credential;
    if response.status() == StatusCode::UNAUTHORIZED
        && let (Some(c), Some((uri, headers, (bytes, trailers)))) = (&credential, resend)
        && let Some(fresh) = Box::pin(replacement(proxy, &view, target, c)).await
    {
        // The 401's body must not hold up the connection the retry goes out on.
        drop(response);
        let mut retry = Request::new(with_trailers(bytes, trailers));
        *retry.method_mut() = method.clone();
        *retry.uri_mut() = uri;
        *retry.headers_mut() = headers;
        retry
            .headers_mut()
            .insert(fresh.header.clone(), fresh.value.clone());
        entry.retried = true;
        response = Box::pin(proxy.pool().send(retry, upgrade))
            .await
            .map_err(|e| failed(proxy, entry.clone(), &e))?;
        credential = Some(fresh);
    }
    entry.status = response.status().as_u16();
    if credential.is_some() {
        proxy.record(entry.clone());
    }
    if response.status() == StatusCode::SWITCHING_PROTOCOLS
        && let Some(client) = controls.upgrade
    {
        return Ok(splice(response, client, credential.as_deref(), proxy));
    }
    Ok(finish(response, &method, credential.as_deref(), proxy).await)
}

/// What a request says to the proxy rather than to the upstream.
struct Controls {
    /// The connection named by `X-Authsome-Connection`.
    connection: Option<String>,
    /// The client's side of a WebSocket upgrade it asked for.
    upgrade: Option<hyper::upgrade::OnUpgrade>,
}

/// Takes out the proxy's own header and the hop-by-hop headers, keeping an upgrade: its two
/// headers go back in after the strip (and before the credential, so `Connection` cannot name
/// the credential's header).
fn take_controls(parts: &mut hyper::http::request::Parts) -> Result<Controls, &'static str> {
    let connection = match parts.headers.remove(CONNECTION_HEADER) {
        None => None,
        Some(v) => match v.to_str() {
            Ok(name) => Some(name.trim().to_owned()),
            // Falling back to the default would send another account's credential.
            Err(_) => return Err("X-Authsome-Connection must be a connection name in plain ASCII"),
        },
    };
    let protocol = parts
        .headers
        .get(header::UPGRADE)
        .filter(|_| names_upgrade(&parts.headers))
        .cloned();
    let upgrade = protocol
        .as_ref()
        .and_then(|_| parts.extensions.remove::<hyper::upgrade::OnUpgrade>());
    // `TE: trailers`, the one TE value HTTP/2 allows, says the client reads trailers (gRPC
    // servers want it).
    let trailers = parts
        .headers
        .get(header::TE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"trailers"));
    strip_hop_by_hop(&mut parts.headers);
    if trailers {
        parts
            .headers
            .insert(header::TE, HeaderValue::from_static("trailers"));
    }
    if let Some(protocol) = protocol {
        parts.headers.insert(header::UPGRADE, protocol);
        parts
            .headers
            .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
    Ok(Controls {
        connection,
        upgrade,
    })
}

/// Points the request at the CONNECT target whatever the client wrote (URI, Host, HTTP/2's
/// `:authority`), and, when a credential goes in, asks for an uncompressed answer so an echo
/// can be redacted. The pool takes the version from the connection it picks.
fn pin_to_target(
    parts: &mut hyper::http::request::Parts,
    tunnel: &Tunnel,
    path_and_query: PathAndQuery,
    injecting: bool,
) {
    let mut uri = hyper::http::uri::Parts::default();
    uri.scheme = Some(Scheme::HTTPS);
    uri.authority = Some(tunnel.authority.clone());
    uri.path_and_query = Some(path_and_query);
    parts.uri = Uri::from_parts(uri).unwrap_or_else(|_| Uri::from_static("/"));
    parts.version = Version::HTTP_11;
    parts.headers.insert(header::HOST, tunnel.host.clone());
    if injecting {
        parts.headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        // gRPC compresses messages, not the body; a compressed one could not be searched.
        parts
            .headers
            .insert("grpc-accept-encoding", HeaderValue::from_static("identity"));
    }
}

/// Answers a `101` and joins the client's and the upstream's connections.
fn splice(
    mut response: Response<Incoming>,
    client: hyper::upgrade::OnUpgrade,
    credential: Option<&Credential>,
    proxy: &Proxy,
) -> Response<Body> {
    let server = hyper::upgrade::on(&mut response);
    tokio::spawn(async move {
        if let (Ok(client), Ok(server)) = (client.await, server.await) {
            let (mut client, mut server) = (TokioIo::new(client), TokioIo::new(server));
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        }
    });
    let (mut parts, _) = response.into_parts();
    if let Some(c) = credential {
        redact_headers(
            &mut parts.headers,
            c,
            proxy.placeholder_of(&c.provider).as_bytes(),
        );
    }
    Response::from_parts(parts, super::http::empty())
}

/// The answer when the upstream could not be reached or failed: logged when a credential was
/// to go (as sent when it may have arrived, as unreachable when it never left), not otherwise
/// (neither an injection nor a refusal).
fn failed(proxy: &Proxy, mut entry: Entry, error: &SendError) -> Response<Body> {
    let message = error.message.as_str();
    // A body that outgrew the limit while it streamed (chunked, no length said up front) is
    // the client's doing, not the upstream's: 413, which no SDK retries, rather than 502.
    if message.contains(TOO_LARGE) {
        return proxy.refuse(
            entry,
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request bodies over {MAX_BODY} bytes are not forwarded by authsome"),
        );
    }
    if entry.action == Action::Injected {
        if !error.sent {
            entry.action = Action::Unreachable;
        }
        proxy.answer(entry, StatusCode::BAD_GATEWAY, message)
    } else {
        text(StatusCode::BAD_GATEWAY, message)
    }
}

/// After a 401 to an OAuth2 token: a different, fresh token, if there is one.
async fn replacement(
    proxy: &Proxy,
    view: &super::credentials::View,
    target: &Target,
    rejected: &Credential,
) -> Option<Arc<Credential>> {
    if !rejected.oauth {
        return None;
    }
    match proxy.resolver.after_rejection(view, rejected).await {
        Ok(fresh) => (fresh.value != rejected.value).then_some(fresh),
        Err(e) => {
            proxy.resolver.ui().message(&format!(
                "authsome: {} answered 401 to {}/{} and the token could not be refreshed: {}",
                target.authority(),
                rejected.provider,
                rejected.connection,
                e.message()
            ));
            None
        }
    }
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
    redact_headers(&mut parts.headers, c, placeholder.as_bytes());
    let secrets = || c.redact.iter().map(|s| s.expose_secret().as_bytes());
    if is_grpc(&parts.headers) {
        parts.headers.remove(header::CONTENT_LENGTH);
        let body = body.map_err(BoxError::from).boxed();
        let body = redact::GrpcMessages::new(body, secrets(), placeholder.as_bytes());
        return Response::from_parts(parts, body.boxed());
    }
    let bodiless = *method == Method::HEAD
        || parts.status == StatusCode::NO_CONTENT
        || parts.status == StatusCode::NOT_MODIFIED;
    if bodiless {
        return Response::from_parts(parts, body.map_err(BoxError::from).boxed());
    }
    match content_length(&parts.headers) {
        Some(len) if len <= REDACT_WHOLE => {
            let (bytes, trailers) = match Limited::new(body, REDACT_WHOLE as usize).collect().await
            {
                Ok(b) => {
                    let mut trailers = b.trailers().cloned();
                    if let Some(t) = &mut trailers {
                        redact_headers(t, c, placeholder.as_bytes());
                    }
                    (b.to_bytes(), trailers)
                }
                Err(e) => {
                    return text(
                        StatusCode::BAD_GATEWAY,
                        &format!("reading the response: {e}"),
                    );
                }
            };
            let bytes = secrets().fold(bytes, |b, secret| {
                redact::whole(b, secret, placeholder.as_bytes())
            });
            set_length(&mut parts.headers, &bytes);
            Response::from_parts(parts, with_trailers(bytes, trailers))
        }
        _ => {
            // The length can change, so the client gets the body chunked.
            parts.headers.remove(header::CONTENT_LENGTH);
            let body = secrets().fold(body.map_err(BoxError::from).boxed(), |b, secret| {
                redact::Stream::new(b, secret, placeholder.as_bytes()).boxed()
            });
            Response::from_parts(parts, body)
        }
    }
}

/// Replaces every form of the credential in response headers with the placeholder.
fn redact_headers(headers: &mut HeaderMap, c: &Credential, placeholder: &[u8]) {
    for secret in &c.redact {
        redact::headers(headers, secret.expose_secret().as_bytes(), placeholder);
    }
}

/// Whether a response carries gRPC messages (framed binary, not gRPC-Web's base64 text).
fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.as_bytes())
        .is_some_and(|t| {
            t.starts_with(b"application/grpc") && !t.starts_with(b"application/grpc-web-text")
        })
}

/// Whether the `Connection` header lists `upgrade`.
fn names_upgrade(headers: &HeaderMap) -> bool {
    super::http::connection_tokens(headers).any(|t| t.eq_ignore_ascii_case("upgrade"))
}

fn set_length(headers: &mut HeaderMap, body: &Bytes) {
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
}
