//! Reaching upstream servers: directly, or through the HTTP proxy authsome itself was started
//! behind (`HTTPS_PROXY` in authsome's own environment, as on a corporate network), honouring
//! that environment's `NO_PROXY`.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::{Error, Result};

/// The largest response head accepted from the upstream proxy.
const MAX_HEAD: usize = 16 * 1024;

/// An HTTP proxy to reach upstream servers through.
#[derive(Debug, Clone)]
pub struct Via {
    host: String,
    port: u16,
    /// `Proxy-Authorization` value, from the proxy URL's user and password.
    auth: Option<String>,
    no_proxy: Vec<String>,
}

impl Via {
    /// The proxy named by `HTTPS_PROXY` (or `https_proxy`, `ALL_PROXY`, `all_proxy`) in this
    /// process's environment, if any.
    pub fn from_env() -> Result<Option<Self>> {
        let var = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
        };
        let Some(text) = var(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]) else {
            return Ok(None);
        };
        let no_proxy = var(&["NO_PROXY", "no_proxy"])
            .map(|v| {
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
        let url = url::Url::parse(&with_scheme)
            .ok()
            .filter(|u| u.scheme() == "http");
        let Some(url) = url else {
            return Err(Error::usage(format!(
                "HTTPS_PROXY is {text:?}, but authsome run can only reach upstream servers through an http:// proxy; unset it, or use `authsome run --env`"
            )));
        };
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
        let auth = (!url.username().is_empty()).then(|| {
            use base64::Engine;
            let pair = format!(
                "{}:{}",
                percent_decode(url.username()),
                percent_decode(url.password().unwrap_or_default())
            );
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        Ok(Some(Via {
            host: host.to_owned(),
            port: url.port().unwrap_or(80),
            auth,
            no_proxy,
        }))
    }

    /// Whether requests to `host` go through this proxy (`NO_PROXY` does not exempt it).
    pub fn applies(&self, host: &str) -> bool {
        !self.no_proxy.iter().any(|entry| {
            let entry = entry.split(':').next().unwrap_or(entry);
            entry == "*"
                || host == entry
                || host
                    .strip_suffix(entry)
                    .is_some_and(|front| front.ends_with('.'))
        })
    }

    /// The proxy's address.
    pub fn address(&self) -> (&str, u16) {
        (&self.host, self.port)
    }

    /// `Proxy-Authorization` for requests to the proxy, if its URL had credentials.
    pub fn auth(&self) -> Option<&str> {
        self.auth.as_deref()
    }
}

/// A TCP stream to `host:port`: direct, or a tunnel through `via` when it applies.
pub async fn dial(
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
    if let Some(auth) = &via.auth {
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
    if line.split_whitespace().nth(1) != Some("200") {
        return Err(format!(
            "the upstream proxy {proxy} refused the tunnel to {authority}: {line}"
        ));
    }
    Ok(stream)
}

/// Undoes the `%XX` escapes of a URL's user or password.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
            ],
        };
        assert!(!via.applies("example.com"));
        assert!(!via.applies("api.example.com"));
        assert!(via.applies("notexample.com"));
        assert!(!via.applies("10.0.0.1"));
        assert!(!via.applies("internal"));
        assert!(via.applies("api.openai.com"));
    }
}
