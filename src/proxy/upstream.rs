//! Reaching upstream servers: directly, or through the HTTP proxy authsome itself was started
//! behind (`HTTPS_PROXY` in authsome's own environment, as on a corporate network), honouring
//! that environment's `NO_PROXY`.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use hyper::header::HeaderValue;

use crate::error::{Error, Result};

/// The largest response head accepted from the upstream proxy.
const MAX_HEAD: usize = 16 * 1024;

/// An HTTP proxy to reach upstream servers through.
#[derive(Clone)]
pub struct Via {
    host: String,
    port: u16,
    /// `Proxy-Authorization` value, from the proxy URL's user and password (marked sensitive).
    auth: Option<HeaderValue>,
    no_proxy: Vec<String>,
}

impl std::fmt::Debug for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Via")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("no_proxy", &self.no_proxy)
            .finish_non_exhaustive()
    }
}

/// The variables naming the proxy for HTTPS requests, in the order curl reads them.
pub const HTTPS_VARS: [&str; 4] = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"];
/// The variables naming the proxy for plain-HTTP requests (upper-case `HTTP_PROXY` is ignored,
/// as curl does: under CGI a client's `Proxy:` header becomes that variable).
pub const HTTP_VARS: [&str; 3] = ["http_proxy", "ALL_PROXY", "all_proxy"];

impl Via {
    /// The proxy the first set variable of `names` in this process's environment names, if any.
    pub fn from_env(names: &[&str]) -> Result<Option<Self>> {
        fn var<'a>(names: &[&'a str]) -> Option<(&'a str, String)> {
            names.iter().find_map(|n| {
                std::env::var(n)
                    .ok()
                    .filter(|v| !v.is_empty())
                    .map(|v| (*n, v))
            })
        }
        let Some((name, text)) = var(names) else {
            return Ok(None);
        };
        let no_proxy = var(&["NO_PROXY", "no_proxy"])
            .map(|(_, v)| {
                v.split(',')
                    .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
                    .filter(|e| !e.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        // `host:port` alone means http://host:port, as curl reads it.
        let with_scheme = if text.contains("://") {
            text.clone()
        } else {
            format!("http://{text}")
        };
        let parsed = url::Url::parse(&with_scheme).ok();
        let Some(url) = parsed.clone().filter(|u| u.scheme() == "http") else {
            // Said without the user and password the URL may carry.
            let shown = parsed.map_or_else(
                || "not a URL".to_owned(),
                |mut u| {
                    let _ = u.set_username("");
                    let _ = u.set_password(None);
                    u.to_string()
                },
            );
            return Err(Error::usage(format!(
                "{name} is {shown}, but authsome run can only reach upstream servers through an http:// proxy; unset it, or use `authsome run --env`"
            )));
        };
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
        let auth = if url.username().is_empty() {
            None
        } else {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            let basic = crate::basic_auth(
                &decode(url.username()),
                &decode(url.password().unwrap_or_default()),
            );
            let mut value = HeaderValue::from_str(&basic).map_err(|_| {
                Error::usage(format!(
                    "the user or password in {name} cannot go in an HTTP header; check the variable"
                ))
            })?;
            value.set_sensitive(true);
            Some(value)
        };
        Ok(Some(Via {
            host: host.to_owned(),
            port: url.port().unwrap_or(80),
            auth,
            no_proxy,
        }))
    }

    /// Whether requests to `host` go through this proxy (`NO_PROXY` does not exempt it).
    pub fn applies(&self, host: &str) -> bool {
        let is_ip = host.parse::<std::net::IpAddr>().is_ok();
        !self.no_proxy.iter().any(|entry| {
            let entry = without_port(entry);
            entry == "*"
                || host == entry
                // Names match their subdomains; addresses match only themselves.
                || (!is_ip
                    && host
                        .strip_suffix(entry)
                        .is_some_and(|front| front.ends_with('.')))
        })
    }

    /// The proxy's address.
    pub fn address(&self) -> (&str, u16) {
        (&self.host, self.port)
    }

    /// `Proxy-Authorization` for requests to the proxy, if its URL had credentials.
    pub fn auth(&self) -> Option<&HeaderValue> {
        self.auth.as_ref()
    }
}

/// A TCP stream to `host:port`: direct, or a tunnel through `via` when it applies.
pub async fn dial(
    via: Option<&Via>,
    host: &str,
    port: u16,
) -> std::result::Result<TcpStream, String> {
    within(
        CONNECT_TIMEOUT,
        &format!("{host}:{port}"),
        dial_now(via, host, port),
    )
    .await
}

/// How long reaching an upstream (through a proxy, and its TLS handshake) may take.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs `work`, giving up after `limit` with a message naming `what`.
pub async fn within<T>(
    limit: std::time::Duration,
    what: &str,
    work: impl std::future::Future<Output = std::result::Result<T, String>>,
) -> std::result::Result<T, String> {
    tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
        Err(format!(
            "{what} did not answer within {} seconds; check the network, or retry",
            limit.as_secs()
        ))
    })
}

async fn dial_now(
    via: Option<&Via>,
    host: &str,
    port: u16,
) -> std::result::Result<TcpStream, String> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let Some(via) = via.filter(|v| v.applies(host)) else {
        let stream = TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("could not reach {authority}: {e}"))?;
        let _ = stream.set_nodelay(true);
        return Ok(stream);
    };
    let proxy = format!("{}:{}", via.host, via.port);
    let mut stream = TcpStream::connect(via.address())
        .await
        .map_err(|e| format!("could not reach the upstream proxy {proxy}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(auth) = via.auth.as_ref().and_then(|a| a.to_str().ok()) {
        request.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("the upstream proxy {proxy} failed: {e}"))?;
    // Byte by byte, so nothing after the head (the tunnel's first bytes) is read here.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD {
            return Err(format!(
                "the upstream proxy {proxy} sent an oversized answer"
            ));
        }
        let mut byte = [0u8; 1];
        let n = stream
            .read(&mut byte)
            .await
            .map_err(|e| format!("the upstream proxy {proxy} failed: {e}"))?;
        if n == 0 {
            return Err(format!("the upstream proxy {proxy} closed the connection"));
        }
        head.push(byte[0]);
    }
    let status = String::from_utf8_lossy(&head);
    let line = status.lines().next().unwrap_or_default();
    match line.split_whitespace().nth(1) {
        Some("200") => {}
        Some("407") => return Err(needs_credentials(&proxy)),
        _ => {
            return Err(format!(
                "the upstream proxy {proxy} refused the tunnel to {authority} ({line}); check that it allows it"
            ));
        }
    }
    Ok(stream)
}

/// A `NO_PROXY` entry without its port: `host:port`, `[v6]:port`; a bare IPv6 address stays.
fn without_port(entry: &str) -> &str {
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match entry.split_once(':') {
        Some((host, port)) if !port.contains(':') => host,
        _ => entry,
    }
}

/// What to say when the upstream proxy answers 407.
pub fn needs_credentials(proxy: &str) -> String {
    format!(
        "the upstream proxy {proxy} wants credentials; put them in the URL of HTTPS_PROXY (http://user:password@host:port)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_exempts_hosts_and_their_subdomains() {
        let via = Via {
            host: "proxy".into(),
            port: 3128,
            auth: None,
            no_proxy: vec![
                "example.com".into(),
                "10.0.0.1".into(),
                "internal:8080".into(),
                "::1".into(),
                "[fd00::2]:443".into(),
                "0.0.3".into(),
            ],
        };
        assert!(!via.applies("::1"));
        assert!(!via.applies("fd00::2"));
        assert!(via.applies("10.0.0.3"), "addresses match only themselves");
        assert!(!via.applies("example.com"));
        assert!(!via.applies("api.example.com"));
        assert!(via.applies("notexample.com"));
        assert!(!via.applies("10.0.0.1"));
        assert!(!via.applies("internal"));
        assert!(via.applies("api.openai.com"));
    }
}
