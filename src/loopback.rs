//! A tiny one-shot HTTP server on 127.0.0.1, for the local key form and the OAuth2 callback.
//!
//! It answers only requests whose `Host` names the loopback address and port it is bound to, so
//! a web page elsewhere cannot rebind a name of its own onto it, and serves until its handler
//! returns a value or the time runs out. Requests are read with a size cap and a read timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::error::{Error, Result};

const MAX_REQUEST: usize = 64 * 1024;

/// The style of every page authsome serves on 127.0.0.1: one card, system fonts.
pub const PAGE_STYLE: &str = "<style>body{font-family:system-ui,sans-serif;background:#f6f7f9;margin:0}main{max-width:30rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}label{display:block;margin-top:1rem;font-weight:600}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box;margin:.4rem 0}input[readonly]{background:#eee}button{margin-top:1rem;padding:.5rem 1rem;font-size:1rem}.error{color:#b00020}.ok{color:#1a7f37}code{background:#eee;padding:0 .2rem}.hint{color:#555;font-size:.9rem;margin:0}</style>";

/// A bound loopback listener.
pub struct Server {
    listener: TcpListener,
    port: u16,
}

/// One request.
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    query: String,
    host: Option<String>,
    body: Zeroizing<Vec<u8>>,
}

/// A response: status line text (`200 OK`) and an HTML body.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status, such as `200 OK`.
    pub status: &'static str,
    /// The HTML body.
    pub body: String,
}

impl Response {
    /// `200 OK` with `body`.
    pub fn ok(body: String) -> Self {
        Response {
            status: "200 OK",
            body,
        }
    }

    /// An error status with a short page.
    pub fn error(status: &'static str, message: &str) -> Self {
        Response {
            status,
            body: format!(
                "<!doctype html><meta charset=utf-8><title>authsome</title><p>{}</p>",
                escape(message)
            ),
        }
    }
}

impl Server {
    /// Binds 127.0.0.1 on `port` (0 picks a free one).
    pub fn bind(port: u16) -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
            Error::usage(format!(
                "could not listen on 127.0.0.1:{port} ({e}); close whatever uses that port and try again"
            ))
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::internal(e.to_string()))?
            .port();
        Ok(Server { listener, port })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves requests until `handle` returns `Some`, or fails after `timeout` with a message
    /// about `waiting_for`.
    pub fn serve<T>(
        &self,
        timeout: Duration,
        waiting_for: &str,
        handle: impl FnMut(&Request) -> (Response, Option<T>),
    ) -> Result<T> {
        self.serve_polling(timeout, waiting_for, |_| None, handle)
    }

    /// Answers every request with `response` for `period`, on a thread of its own, so a reload
    /// or a second submit after the wait is over shows a page instead of "refused to connect".
    pub fn linger(self, period: Duration, response: Response) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            let _: Result<()> = self.serve(period, "nothing", |_| (response.clone(), None));
        })
    }

    /// [`Server::serve`], calling `poll` with the seconds left whenever no request is waiting;
    /// what `poll` returns, when anything, ends the wait.
    pub fn serve_polling<T>(
        &self,
        timeout: Duration,
        waiting_for: &str,
        mut poll: impl FnMut(u64) -> Option<Result<T>>,
        mut handle: impl FnMut(&Request) -> (Response, Option<T>),
    ) -> Result<T> {
        // Non-blocking accept with a deadline keeps this single-threaded and lets it end by itself.
        self.listener
            .set_nonblocking(true)
            .map_err(|e| Error::internal(format!("could not set up the local server: {e}")))?;
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.listener.accept() {
                Ok((mut stream, _)) => {
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    let Some(request) = read_request(&mut stream) else {
                        continue;
                    };
                    let host_ok = request.host.as_deref().is_some_and(|h| {
                        h == format!("127.0.0.1:{}", self.port)
                            || h == format!("localhost:{}", self.port)
                    });
                    if !host_ok {
                        respond(&mut stream, &Response::error("404 Not Found", "Not found."));
                        continue;
                    }
                    let (response, done) = handle(&request);
                    respond(&mut stream, &response);
                    if let Some(value) = done {
                        return Ok(value);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let left = deadline.saturating_duration_since(Instant::now()).as_secs();
                    if let Some(end) = poll(left) {
                        return end;
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(_) => {}
            }
        }
        Err(Error::usage(format!(
            "gave up waiting for {waiting_for} after {} seconds; run the command again",
            timeout.as_secs()
        )))
    }
}

impl Request {
    /// A decoded query parameter.
    pub fn query(&self, name: &str) -> Option<String> {
        decode_pair(self.query.as_bytes(), name).map(|v| v.to_string())
    }

    /// A decoded `application/x-www-form-urlencoded` body field.
    pub fn form(&self, name: &str) -> Option<Zeroizing<String>> {
        decode_pair(&self.body, name)
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    parse_request(stream.try_clone().ok()?)
}

/// Reads one HTTP/1.1 request; `None` for anything malformed or too large (public for the
/// fuzz targets).
pub fn parse_request(source: impl Read) -> Option<Request> {
    // Everything read from one connection is capped, request line and headers included.
    let mut reader = BufReader::new(source.take(2 * MAX_REQUEST as u64));
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target, String::new()),
    };
    let mut host = None;
    let mut length = 0usize;
    let mut header_bytes = line.len();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        header_bytes += h.len();
        if header_bytes > MAX_REQUEST {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("host") {
                host = Some(value.to_owned());
            } else if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().ok()?;
            }
        }
    }
    if length > MAX_REQUEST {
        return None;
    }
    let mut body = Zeroizing::new(vec![0u8; length]);
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        query,
        host,
        body,
    })
}

/// Decodes one field of a urlencoded string.
pub(crate) fn decode_pair(data: &[u8], field: &str) -> Option<Zeroizing<String>> {
    for pair in data.split(|b| *b == b'&') {
        let mut kv = pair.splitn(2, |b| *b == b'=');
        let k = kv.next()?;
        let v = kv.next().unwrap_or_default();
        if percent_decode(k).as_slice() == field.as_bytes() {
            let decoded = percent_decode(v);
            return String::from_utf8(decoded.to_vec()).ok().map(Zeroizing::new);
        }
    }
    None
}

fn percent_decode(v: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(v.len()));
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < v.len() => {
                let hex = std::str::from_utf8(&v[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn respond(stream: &mut TcpStream, response: &Response) {
    let text = format!(
        "HTTP/1.1 {}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Frame-Options: DENY\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; form-action 'self'\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n{}",
        response.status,
        response.body.len(),
        response.body
    );
    let _ = stream.write_all(text.as_bytes());
    let _ = stream.flush();
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_urlencoded_values() {
        let v = decode_pair(b"a=1&api_key=sk-%2Bx%20y+z%zz", "api_key").unwrap();
        assert_eq!(v.as_str(), "sk-+x y z%zz");
        assert!(decode_pair(b"a=1", "api_key").is_none());
        assert_eq!(
            decode_pair(b"api_key=%4", "api_key").unwrap().as_str(),
            "%4"
        );
    }
}
