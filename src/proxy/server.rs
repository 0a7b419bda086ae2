//! The proxy's request path: the password check, CONNECT (intercepted or tunnelled), the
//! intercepted requests (route, inject, forward, redact), and plain-HTTP forwarding.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

use super::audit::Action;
use super::http::{
    Body, BoxError, CONNECTION_HEADER, Target, empty, entry, is_trace, path_and_query,
    strip_hop_by_hop, text,
};
use super::state::Proxy;
use super::workers::Workers;

/// Accepts clients until the process exits, giving each connection to the next worker.
pub async fn serve(listener: TcpListener, proxy: Arc<Proxy>, workers: Workers<Job>) {
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
        // Admitted in the order connections arrive, whichever worker serves them.
        let pending = super::limits::Unauthenticated::admit(&proxy.unauthenticated);
        // A socket moves between runtimes as a std one (registered with the worker's reactor
        // there); one that cannot is dropped, as if refused.
        if let Ok(stream) = stream.into_std() {
            workers.give(Job { stream, pending });
        }
    }
}

/// A connection accepted for a worker to serve.
pub struct Job {
    stream: std::net::TcpStream,
    pending: super::limits::Pending,
}

/// Serves an accepted connection on the calling worker's runtime.
pub fn take(proxy: Arc<Proxy>, job: Job) {
    let Ok(stream) = TcpStream::from_std(job.stream) else {
        return;
    };
    let pending = Arc::new(job.pending);
    tokio::spawn(async move {
        let evicted = pending.evicted.clone();
        let service = service_fn(move |req| front(proxy.clone(), pending.clone(), req));
        let connection = super::limits::server()
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        // A connection that never showed the password is closed to make room for newer
        // ones; an authenticated one is never told to.
        tokio::select! {
            _ = connection => {}
            _ = evicted.notified() => {}
        }
    });
}

/// A request as it reaches the proxy port.
async fn front(
    proxy: Arc<Proxy>,
    pending: Arc<super::limits::Pending>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    if proxy.authorized(req.headers()) {
        pending.authenticated();
    } else {
        let mut entry = entry(&req, &target_of(req.uri()));
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
            let entry = entry(&req, &target_of(req.uri()));
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

fn target_of(uri: &Uri) -> Target {
    let default = if uri.scheme_str() == Some("http") {
        80
    } else {
        443
    };
    let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
    // `api.example.com.` is the same host as `api.example.com`.
    Target::new(
        host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase(),
        uri.port_u16().unwrap_or(default),
    )
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
    let covered = view.table.covers(&target.host, target.port);
    tracing::debug!(
        host = %target.host,
        port = target.port,
        "CONNECT: {}",
        if covered { "a provider's host: TLS ends here" } else { "tunnelled untouched" }
    );
    if !covered && let Some(why) = proxy.guard.narrowing().egress_refusal(&target.host) {
        let mut log = entry(&req, &target);
        log.action = super::audit::Action::PolicyDenied;
        return proxy.answer(log, StatusCode::FORBIDDEN, &why);
    }
    if covered {
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
    let log = entry(&req, &target);
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
    if let Some(why) = proxy.guard.narrowing().egress_refusal(&target.host) {
        let mut log = log;
        log.action = super::audit::Action::PolicyDenied;
        return proxy.answer(log, StatusCode::FORBIDDEN, &why);
    }
    let path_and_query = path_and_query(&parts.uri);
    if let Some(other) = proxy.foreign_placeholder(&parts.headers, path_and_query.as_str(), None) {
        return proxy.refuse_placeholder(log, other, target.authority());
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
            parts.uri = Uri::from(path_and_query);
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
