//! A one-shot web form on 127.0.0.1 for entering a secret.
//!
//! The page lives at an unguessable path on a random port and answers only requests whose
//! `Host` is the loopback address it was bound to (so another site cannot rebind its way in).
//! It serves until one valid submission arrives or five minutes pass.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

const TIMEOUT: Duration = Duration::from_secs(300);
const MAX_REQUEST: usize = 64 * 1024;

/// What the form asks for.
pub struct FormRequest<'a> {
    /// The provider's display name.
    pub display_name: &'a str,
    /// The connection being logged in.
    pub connection: &'a str,
    /// What a valid key looks like.
    pub hint: Option<&'a str>,
    /// Where to get a key.
    pub docs_url: Option<&'a str>,
    /// Validates a submitted key; an error message is shown on the page.
    pub validate: &'a (dyn Fn(&SecretString) -> Result<()> + Sync),
    /// Whether to try to open a browser.
    pub open_browser: bool,
}

/// Serves the form and returns the submitted key.
pub fn collect_via_form(req: &FormRequest<'_>) -> Result<SecretString> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| {
        Error::internal(format!("could not open a local port for the key form: {e}"))
    })?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::internal(e.to_string()))?
        .port();
    let token = crate::random_hex(16);
    let url = format!("http://127.0.0.1:{port}/{token}");
    eprintln!(
        "Enter the {} key for connection {:?} in your browser:\n  {url}\n(waiting up to 5 minutes; press Ctrl-C to cancel)",
        req.display_name, req.connection
    );
    if req.open_browser {
        open_browser(&url);
    }
    // Non-blocking accept with a deadline keeps this single-threaded and lets it end by itself.
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::internal(format!("could not set up the key form: {e}")))?;
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = stream.set_nonblocking(false);
                if let Some(key) = serve(stream, req, port, &token) {
                    return Ok(key);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(_) => {}
        }
    }
    Err(Error::usage(
        "no key was entered within 5 minutes; run the command again, or pipe the key with --stdin",
    ))
}

/// Handles one request; returns the key once a valid one was submitted.
fn serve(
    mut stream: TcpStream,
    req: &FormRequest<'_>,
    port: u16,
    token: &str,
) -> Option<SecretString> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = read_request(&mut stream)?;
    let host_ok = request
        .host
        .as_deref()
        .is_some_and(|h| h == format!("127.0.0.1:{port}") || h == format!("localhost:{port}"));
    let path_ok = request.path == format!("/{token}");
    if !host_ok || !path_ok {
        respond(&mut stream, "404 Not Found", "<p>Not found.</p>");
        return None;
    }
    match request.method.as_str() {
        "GET" => {
            respond(&mut stream, "200 OK", &page(req, None));
            None
        }
        "POST" => {
            let key = form_value(&request.body, "api_key");
            let key =
                match super::finish("API key", key.as_deref().map(|k| k.as_str()).unwrap_or("")) {
                    Ok(k) => k,
                    Err(e) => {
                        respond(
                            &mut stream,
                            "400 Bad Request",
                            &page(req, Some(e.message())),
                        );
                        return None;
                    }
                };
            match (req.validate)(&key) {
                Ok(()) => {
                    respond(&mut stream, "200 OK", DONE_PAGE);
                    Some(key)
                }
                Err(e) => {
                    respond(
                        &mut stream,
                        "400 Bad Request",
                        &page(req, Some(e.message())),
                    );
                    None
                }
            }
        }
        _ => {
            respond(
                &mut stream,
                "405 Method Not Allowed",
                "<p>Method not allowed.</p>",
            );
            None
        }
    }
}

struct Request {
    method: String,
    path: String,
    host: Option<String>,
    body: Zeroizing<Vec<u8>>,
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
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
        host,
        body,
    })
}

/// Decodes one field of an `application/x-www-form-urlencoded` body.
fn form_value(body: &[u8], field: &str) -> Option<Zeroizing<String>> {
    for pair in body.split(|b| *b == b'&') {
        let mut kv = pair.splitn(2, |b| *b == b'=');
        let k = kv.next()?;
        let v = kv.next().unwrap_or_default();
        if k == field.as_bytes() {
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

fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Frame-Options: DENY\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; form-action 'self'\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(req: &FormRequest<'_>, error: Option<&str>) -> String {
    let hint = req
        .hint
        .map(|h| format!("<p class=hint>{}</p>", escape(h)))
        .unwrap_or_default();
    let docs = req
        .docs_url
        .filter(|u| u.starts_with("https://"))
        .map(|u| {
            format!(
                "<p><a href=\"{}\" target=_blank rel=noreferrer>Where do I find my key?</a></p>",
                escape(u)
            )
        })
        .unwrap_or_default();
    let error = error
        .map(|e| format!("<p class=error role=alert>{}</p>", escape(e)))
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>authsome: {name} key</title>{STYLE}</head><body><main>\
<h1>{name}</h1><p>Paste the API key for connection <b>{conn}</b>. It is encrypted into your authsome store and never leaves this machine.</p>\
{error}<form method=post autocomplete=off><label for=k>API key</label><input id=k name=api_key type=password autofocus required spellcheck=false>{hint}<button type=submit>Save key</button></form>{docs}</main></body></html>",
        name = escape(req.display_name),
        conn = escape(req.connection),
    )
}

const STYLE: &str = "<style>body{font-family:system-ui,sans-serif;background:#f6f7f9;margin:0}main{max-width:28rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box;margin:.5rem 0}button{padding:.5rem 1rem;font-size:1rem}.error{color:#b00020}.hint{color:#555;font-size:.9rem}</style>";

const DONE_PAGE: &str = "<!doctype html><html lang=en><head><meta charset=utf-8><title>authsome: saved</title></head><body style=\"font-family:system-ui,sans-serif\"><main style=\"max-width:28rem;margin:4rem auto\"><h1>Saved</h1><p>The key was saved. You can close this tab.</p></main><script>setTimeout(function(){window.close()},800)</script></body></html>";

/// Opens `url` in the user's browser when there is one: `$BROWSER`, else the desktop's opener.
/// Failure is fine: the URL was printed.
fn open_browser(url: &str) {
    use std::process::{Command, Stdio};
    let command = match std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
    {
        Some(b) => b.split(':').next().unwrap_or_default().to_owned(),
        None if cfg!(target_os = "macos") => "open".to_owned(),
        None if std::env::var_os("DISPLAY").is_some()
            || std::env::var_os("WAYLAND_DISPLAY").is_some() =>
        {
            "xdg-open".to_owned()
        }
        None => return,
    };
    let mut words = command.split_whitespace();
    let Some(program) = words.next() else { return };
    let _ = Command::new(program)
        .args(words)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_form_values() {
        let v = form_value(b"a=1&api_key=sk-%2Bx%20y+z%zz", "api_key").unwrap();
        assert_eq!(v.as_str(), "sk-+x y z%zz");
        assert!(form_value(b"a=1", "api_key").is_none());
        assert_eq!(form_value(b"api_key=%4", "api_key").unwrap().as_str(), "%4");
    }
}
