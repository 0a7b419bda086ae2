//! Test servers: the real OAuth2 servers from npm (started with node, stopped on drop), and a
//! tiny scripted HTTP stub for the error cases a real server will not produce on demand.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A node server from `tests/servers/`, which prints one JSON line with its issuer when ready.
pub struct NodeServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub issuer: String,
}

impl NodeServer {
    pub fn start(script: &str, env: &[(&str, &str)]) -> Self {
        Self::start_with(script, &[], env)
    }

    pub fn start_args(script: &str, args: &[&str]) -> Self {
        Self::start_with(script, args, &[])
    }

    fn start_with(script: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers");
        assert!(
            dir.join("node_modules").is_dir(),
            "tests/servers/node_modules is missing; run scripts/test (it runs npm ci)"
        );
        let mut child = Command::new("node")
            .arg(dir.join(script))
            .args(args)
            .current_dir(&dir)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node is installed");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        // Keep draining: a server writing to a closed pipe would die of EPIPE mid-test.
        std::thread::spawn(move || {
            let mut rest = String::new();
            while stdout.read_line(&mut rest).unwrap_or(0) > 0 {
                eprint!("{rest}");
                rest.clear();
            }
        });
        let ready: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{script} did not start: {e}: {line:?}"));
        NodeServer {
            child,
            issuer: ready["issuer"]
                .as_str()
                .unwrap()
                .trim_end_matches('/')
                .to_owned(),
        }
    }

    /// The requests the mock server saw (its `/__requests` route).
    pub fn requests(&self) -> Vec<serde_json::Value> {
        let out = Command::new("curl")
            .args(["-s", &format!("{}/__requests", self.issuer)])
            .output()
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One scripted answer.
#[derive(Clone)]
pub enum Answer {
    /// Status and JSON body.
    Json(u16, String),
    /// Close the connection without answering.
    Drop,
}

/// A scripted HTTP server: each path has a queue of answers; the last one repeats.
pub struct Stub {
    pub url: String,
    pub seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl Stub {
    pub fn start(routes: Vec<(&'static str, Vec<Answer>)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let mut routes: Vec<(String, Vec<Answer>)> =
            routes.into_iter().map(|(p, a)| (p.to_owned(), a)).collect();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .split('?')
                    .next()
                    .unwrap_or("")
                    .to_owned();
                let mut length = 0;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                log.lock()
                    .unwrap()
                    .push((path.clone(), String::from_utf8_lossy(&body).into_owned()));
                let answer = match routes.iter_mut().find(|(p, _)| *p == path) {
                    Some((_, queue)) if queue.len() > 1 => queue.remove(0),
                    Some((_, queue)) => queue[0].clone(),
                    None => Answer::Json(404, "{}".into()),
                };
                match answer {
                    Answer::Drop => drop(stream),
                    Answer::Json(status, body) => {
                        let _ = write!(
                            stream,
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                }
            }
        });
        Stub { url, seen }
    }

    /// How many requests reached `path`.
    pub fn count(&self, path: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .count()
    }
}
