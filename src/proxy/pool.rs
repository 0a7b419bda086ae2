//! Connections to intercepted hosts: kept open and shared by every tunnel to the same CONNECT
//! target, over HTTP/2 when the upstream offers it by ALPN (many requests on one connection)
//! and HTTP/1.1 otherwise. An upgrade (a WebSocket) always goes over a connection of its own
//! that speaks HTTP/1.1, the only version with `101 Switching Protocols`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Request, Response, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::http::Body;
use super::upstream::{self, Via};

/// How long an unused upstream connection stays open.
const IDLE: Duration = Duration::from_secs(60);
/// How many unused connections are kept per upstream.
const MAX_IDLE: usize = 32;

/// The pools of upstream connections.
pub struct Pool {
    /// HTTP/2 or HTTP/1.1, as the upstream prefers.
    any: Client<Connector, Body>,
    /// HTTP/1.1 only, for upgrades.
    http1: Client<Connector, Body>,
}

/// Why a request got no answer from its upstream.
pub struct SendError {
    /// What went wrong, in a sentence.
    pub message: String,
    /// False when no connection could be made: nothing was sent.
    pub sent: bool,
}

impl Pool {
    /// Pools that reach upstreams with `tls` (`http/1.1` and `h2` are offered by ALPN here),
    /// through `via` when it applies.
    pub fn new(tls: ClientConfig, via: Option<Via>) -> Self {
        let via = via.map(Arc::new);
        let mut any_tls = tls.clone();
        any_tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let mut http1_tls = tls;
        http1_tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client = |tls: ClientConfig| {
            Client::builder(TokioExecutor::new())
                .pool_timer(TokioTimer::new())
                .timer(TokioTimer::new())
                .pool_idle_timeout(IDLE)
                .pool_max_idle_per_host(MAX_IDLE)
                // The request's Host is pinned to the CONNECT target before it gets here.
                .set_host(false)
                .build(Connector {
                    tls: Arc::new(tls),
                    via: via.clone(),
                })
        };
        Pool {
            any: client(any_tls),
            http1: client(http1_tls),
        }
    }

    /// Sends `request` (its URI absolute: `https://` and the CONNECT target), over HTTP/1.1
    /// when it asks for an upgrade.
    pub async fn send(
        &self,
        request: Request<Body>,
        upgrade: bool,
    ) -> Result<Response<Incoming>, SendError> {
        // Kept for an error message: a cheap clone, formatted only on failure.
        let authority = request.uri().authority().cloned();
        let client = if upgrade { &self.http1 } else { &self.any };
        client.request(request).await.map_err(|e| {
            if e.is_connect() {
                // Said as the connector put it (what to check, which flag to pass).
                let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
                while let Some(s) = source {
                    if let Some(own) = s.downcast_ref::<ConnectError>() {
                        return SendError {
                            message: own.0.clone(),
                            sent: false,
                        };
                    }
                    source = s.source();
                }
            }
            let authority = authority.as_ref().map_or("the upstream", |a| a.as_str());
            SendError {
                message: format!("{authority} failed: {}", crate::error::chain(&e)),
                sent: !e.is_connect(),
            }
        })
    }
}

/// Why a connection to an upstream could not be made, in a sentence.
#[derive(Debug)]
struct ConnectError(String);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

/// Opens TLS connections to the host and port of a request's URI (the CONNECT target).
#[derive(Clone)]
struct Connector {
    tls: Arc<ClientConfig>,
    via: Option<Arc<Via>>,
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<Stream>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
            let port = uri.port_u16().unwrap_or(443);
            let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
            let open = async {
                let tcp = upstream::dial(this.via.as_deref(), host, port).await?;
                let name = rustls::pki_types::ServerName::try_from(host.to_owned())
                    .map_err(|_| format!("{host} is not a valid TLS server name"))?;
                tokio_rustls::TlsConnector::from(this.tls.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| {
                        format!(
                            "TLS with {authority} failed ({e}); if a private or corporate CA signs its certificate, pass it with --upstream-ca FILE"
                        )
                    })
            };
            let tls = upstream::within(upstream::CONNECT_TIMEOUT, &authority, open)
                .await
                .map_err(ConnectError)?;
            Ok(TokioIo::new(Stream(tls)))
        })
    }
}

/// A TLS connection to an upstream, telling the pool which HTTP version ALPN chose.
pub struct Stream(TlsStream<TcpStream>);

impl Connection for Stream {
    fn connected(&self) -> Connected {
        let connected = Connected::new();
        if self.0.get_ref().1.alpn_protocol() == Some(b"h2") {
            connected.negotiated_h2()
        } else {
            connected
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
