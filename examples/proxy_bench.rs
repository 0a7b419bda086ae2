//! Benchmark of `authsome run`'s proxy: requests per second, latency and proxy CPU per request,
//! direct to a local HTTPS upstream (the floor), through nginx as a TLS reverse proxy that sets
//! the same header (the limit: TLS termination and re-encryption with nothing else), through the
//! proxy of the release binary, and through mitmproxy with a header-setting addon (the engine of
//! the original Python tool, the peer).
//!
//! ```text
//! cargo build --release && cargo run --release --example proxy_bench
//! apt-get install nginx-light                                        # for the nginx rows
//! python3 -m venv /tmp/mitm && /tmp/mitm/bin/pip install mitmproxy   # optional, for the peer row
//! ```
//!
//! The upstream answers every request with a small JSON body, over TLS (HTTP/1.1) with its own
//! test CA, on 127.0.0.2. Each path gets the same client: one keep-alive connection sending
//! requests one after another, then 16 connections at once, then (HTTP/2 paths) 16 streams at
//! once on one connection. All paths are up at once and measured in turns, five rounds; the
//! table gives each figure's median. nginx (2 workers, keep-alive upstream connections, TLS 1.3 both ways)
//! listens on 127.0.0.3 with the upstream's certificate. mitmproxy is found on PATH, in
//! /tmp/mitm, or through `MITMDUMP=/path/to/mitmdump`; without it (or nginx) that row is skipped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SEQUENTIAL: usize = 5_000;
const CONNECTIONS: usize = 16;
const PER_CONNECTION: usize = 2_000;
/// Requests per stream in the HTTP/2 round (16 streams on one connection).
const PER_STREAM: usize = 2_000;
const KEY: &str = "bench-key-0123456789abcdef";
const BODY: &str = r#"{"object":"list","data":[{"id":"model-1","object":"model"}]}"#;

/// Rules in the policy of the second authsome row.
const POLICY_RULES: usize = 20;
/// How many times each path is measured (in turns); the table shows medians.
const ROUNDS: usize = 5;

/// A way to the upstream: straight, or through one of the proxies.
struct Route {
    name: String,
    /// The proxy URL, for the paths that go through CONNECT.
    proxy: Option<String>,
    /// The CA bundle the client trusts on this path.
    roots: PathBuf,
    /// Where the client connects (or asks the proxy to connect).
    target: String,
    /// The proxy's process, whose CPU is counted.
    child: Option<Child>,
    rounds: usize,
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let bin = release_binary();
    let ca = TestCa::new(dir.path());
    let upstream = start_upstream(&ca);
    let target = format!("127.0.0.2:{}", upstream.port());
    eprintln!("upstream on https://{target}");

    // Every path is up at once and measured in turns, ROUNDS times, so a change in the
    // machine's load falls on all of them alike; each figure is the median of its rounds.
    let mut paths = vec![Route {
        name: "direct".to_owned(),
        proxy: None,
        roots: ca.ca.clone(),
        target: target.clone(),
        child: None,
        rounds: ROUNDS,
    }];
    match start_nginx(dir.path(), &ca, upstream.port()) {
        Some((nginx, at)) => paths.push(Route {
            name: "nginx TLS reverse proxy".to_owned(),
            proxy: None,
            roots: ca.ca.clone(),
            target: at,
            child: Some(nginx),
            rounds: ROUNDS,
        }),
        None => eprintln!("nginx not found (apt-get install nginx-light); skipping its row"),
    }
    let (authsome, proxy, bundle) = start_authsome(&bin, dir.path(), &ca.ca, upstream.port(), 0);
    paths.push(Route {
        name: "authsome run".to_owned(),
        proxy: Some(proxy),
        roots: bundle,
        target: target.clone(),
        child: Some(authsome),
        rounds: ROUNDS,
    });
    // The same, with a committed request policy of 20 rules that every request is judged by
    // (the request matches only the last allow: the longest walk).
    let (authsome, proxy, bundle) =
        start_authsome(&bin, dir.path(), &ca.ca, upstream.port(), POLICY_RULES);
    paths.push(Route {
        name: format!("authsome run, {POLICY_RULES}-rule policy"),
        proxy: Some(proxy),
        roots: bundle,
        target: target.clone(),
        child: Some(authsome),
        rounds: ROUNDS,
    });
    match mitmdump() {
        Some(mitm) => {
            let (child, proxy, ca_file) = start_mitmproxy(&mitm, dir.path(), &ca.ca);
            paths.push(Route {
                name: "mitmproxy + addon".to_owned(),
                proxy: Some(proxy),
                roots: ca_file,
                target: target.clone(),
                child: Some(child),
                // A round takes it over a minute; its figures are far from the others'.
                rounds: 1,
            });
        }
        None => eprintln!(
            "mitmproxy not found (python3 -m venv /tmp/mitm && /tmp/mitm/bin/pip install mitmproxy); skipping it"
        ),
    }

    let mut measured: Vec<Vec<Stats>> = paths.iter().map(|_| Vec::new()).collect();
    for round in 0..ROUNDS {
        for (path, stats) in paths.iter().zip(&mut measured) {
            if round < path.rounds {
                eprintln!("round {}: {}", round + 1, path.name);
                let pid = path.child.as_ref().map(Child::id);
                stats.push(bench(path.proxy.as_deref(), &path.roots, &path.target, pid));
            }
        }
    }
    let authsome_pid = paths
        .iter()
        .find(|p| p.name == "authsome run")
        .and_then(|p| p.child.as_ref())
        .map(Child::id)
        .unwrap();
    let memory = peak_rss_kib(authsome_pid);
    let rows: Vec<(String, Stats)> = paths
        .iter()
        .map(|p| p.name.clone())
        .zip(measured.into_iter().map(median))
        .collect();
    for path in &mut paths {
        if let Some(child) = &mut path.child {
            // SAFETY: signalling our own child: nginx's master stops its workers, authsome
            // passes SIGTERM on to `sleep` and exits, mitmdump exits.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let _ = child.wait();
        }
    }

    println!(
        "| path | 1 connection: req/s | p50 | p99 | {CONNECTIONS} connections: req/s | p50 | p99 | HTTP/2, {CONNECTIONS} streams: req/s | p50 | proxy CPU per request |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, s) in &rows {
        let (h2_rps, h2_p50) = match &s.h2 {
            Some((rps, p50)) => (format!("{rps:.0}"), us(*p50)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        println!(
            "| {name} | {:.0} | {} | {} | {:.0} | {} | {} | {h2_rps} | {h2_p50} | {} |",
            s.seq_rps,
            us(s.seq_p50),
            us(s.seq_p99),
            s.par_rps,
            us(s.par_p50),
            us(s.par_p99),
            s.cpu_per_request.map_or("-".to_owned(), us),
        );
    }
    let direct = &rows[0].1;
    let row = |prefix: &str| {
        rows.iter()
            .find(|(n, _)| n.starts_with(prefix))
            .map(|(_, s)| s)
    };
    let proxied = row("authsome run").unwrap();
    if let Some(n) = row("nginx") {
        let ratio = |a: f64, b: f64| a / b;
        println!();
        println!(
            "authsome vs nginx: throughput {:.2} (1 connection), {:.2} ({CONNECTIONS} connections){}; p50 {} over nginx's (1 connection); CPU per request {}",
            ratio(proxied.seq_rps, n.seq_rps),
            ratio(proxied.par_rps, n.par_rps),
            match (&proxied.h2, &n.h2) {
                (Some((a, _)), Some((b, _))) =>
                    format!(", {:.2} (HTTP/2, {CONNECTIONS} streams)", a / b),
                _ => String::new(),
            },
            us(proxied.seq_p50.saturating_sub(n.seq_p50)),
            match (proxied.cpu_per_request, n.cpu_per_request) {
                (Some(a), Some(b)) => format!("{:.2}x nginx's", a.as_secs_f64() / b.as_secs_f64()),
                _ => "-".to_owned(),
            }
        );
    }
    println!();
    println!(
        "added p50 latency through authsome: {} (1 connection), {} ({CONNECTIONS} connections)",
        us(proxied.seq_p50.saturating_sub(direct.seq_p50)),
        us(proxied.par_p50.saturating_sub(direct.par_p50))
    );
    if let Some(kib) = memory {
        println!(
            "authsome proxy peak memory (VmHWM): {:.1} MB",
            kib as f64 / 1024.0
        );
    }
    let policy = row("authsome run, ").unwrap();
    println!(
        "cost of the {POLICY_RULES}-rule policy at p50: {} (1 connection), {} ({CONNECTIONS} connections)",
        us(policy.seq_p50.saturating_sub(proxied.seq_p50)),
        us(policy.par_p50.saturating_sub(proxied.par_p50))
    );
    if let Some((_, m)) = rows.iter().find(|(name, _)| name.starts_with("mitmproxy")) {
        println!(
            "throughput vs mitmproxy: {:.1}x (1 connection), {:.1}x ({CONNECTIONS} connections)",
            proxied.seq_rps / m.seq_rps,
            proxied.par_rps / m.par_rps
        );
    }
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn release_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("authsome");
    assert!(
        bin.exists(),
        "build the binary first: cargo build --release (then run this example)"
    );
    bin
}

/// A CA and a certificate for 127.0.0.2.
struct TestCa {
    ca: PathBuf,
    cert: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
    /// The certificate and key as PEM files, for nginx.
    cert_pem: PathBuf,
    key_pem: PathBuf,
}

impl TestCa {
    fn new(dir: &Path) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        // A name of its own: with rcgen's default name on both, the leaf would look self-signed.
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "authsome bench upstream CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().unwrap();
        // Strict verifiers (Python's, hence mitmproxy's) want the authority key identifier.
        // The name is for nginx, which checks only DNS names against `proxy_ssl_name`.
        let mut params =
            CertificateParams::new(vec!["127.0.0.2".to_owned(), "upstream.bench".to_owned()])
                .unwrap();
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &issuer).unwrap();
        let ca = dir.join("upstream-ca.pem");
        std::fs::write(&ca, ca_cert.pem()).unwrap();
        let (cert_pem, key_pem) = (dir.join("upstream.pem"), dir.join("upstream-key.pem"));
        std::fs::write(&cert_pem, cert.pem()).unwrap();
        std::fs::write(&key_pem, key.serialize_pem()).unwrap();
        TestCa {
            ca,
            cert: vec![cert.der().clone()],
            key: key.serialize_der(),
            cert_pem,
            key_pem,
        }
    }
}

/// The upstream, on its own thread and runtime.
fn start_upstream(ca: &TestCa) -> SocketAddr {
    let mut config =
        rustls::ServerConfig::builder_with_provider(authsome::proxy::crypto_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(ca.cert.clone(), PrivateKeyDer::Pkcs8(ca.key.clone().into()))
            .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.2:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(|_req| async {
                        let mut r = Response::new(Full::new(Bytes::from_static(BODY.as_bytes())));
                        r.headers_mut()
                            .insert("content-type", "application/json".parse().unwrap());
                        Ok::<_, std::convert::Infallible>(r)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
    });
    rx.recv().unwrap()
}

/// Starts `authsome run` with a connection for the upstream; returns it, the proxy URL and the
/// trust bundle the child got.
fn start_authsome(
    bin: &Path,
    dir: &Path,
    upstream_ca: &Path,
    port: u16,
    policy_rules: usize,
) -> (Child, String, PathBuf) {
    let home = dir.join(format!("home-{policy_rules}"));
    std::fs::create_dir_all(&home).unwrap();
    let cmd = |args: &[&str]| {
        let mut c = Command::new(bin);
        c.env("HOME", &home)
            .env_remove("AUTHSOME_HOME")
            .env_remove("AUTHSOME_STORE")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("XDG_STATE_HOME")
            .args(args);
        c
    };
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut c = cmd(args);
        c.stdin(Stdio::piped()).stdout(Stdio::null());
        let mut child = c.spawn().unwrap();
        use std::io::Write;
        let mut pipe = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            pipe.write_all(s.as_bytes()).unwrap();
        }
        drop(pipe);
        assert!(child.wait().unwrap().success(), "authsome {args:?} failed");
    };
    run(&["init"], None);
    let def = home.join("bench.yaml");
    std::fs::write(
        &def,
        format!("schema_version: 1\nname: bench\ndisplay_name: Bench\nauth_type: api_key\nflow: api_key\nhosts:\n  - host: 127.0.0.2\n    port: {port}\napi_key:\n  header_name: Authorization\n  header_prefix: Bearer\n"),
    )
    .unwrap();
    run(&["provider", "add", def.to_str().unwrap()], None);
    run(&["login", "bench", "--stdin"], Some(KEY));
    // Rules that all bind the bench's connection (`default`; each names another one too, so
    // they stay separate rules), one pattern each and none matching; the last allows everything.
    for i in 1..policy_rules {
        let pattern = format!("GET /nothing-{i}/**");
        let other = format!("other-{i}");
        run(
            &[
                "policy", "allow", "bench", &pattern, "-c", "default", "-c", &other,
            ],
            None,
        );
    }
    if policy_rules > 0 {
        run(&["policy", "allow", "bench", "* /**"], None);
    }
    let ready = dir.join(format!("proxy-{policy_rules}.txt"));
    let script = format!(
        "printf '%s\\n%s\\n' \"$HTTPS_PROXY\" \"$SSL_CERT_FILE\" > {0}.tmp && mv {0}.tmp {0} && exec sleep 3600",
        ready.display()
    );
    let child = cmd(&[
        "run",
        "--upstream-ca",
        upstream_ca.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        &script,
    ])
    .spawn()
    .unwrap();
    let text = wait_for(|| std::fs::read_to_string(&ready).ok());
    let mut lines = text.lines();
    let proxy = lines.next().unwrap().to_owned();
    let bundle = PathBuf::from(lines.next().unwrap());
    (child, proxy, bundle)
}

/// Starts nginx as a TLS reverse proxy for the upstream (HTTP/1.1 and HTTP/2 towards the
/// client, keep-alive HTTP/1.1 connections upstream, the same header set); returns it and the
/// address it listens on.
fn start_nginx(dir: &Path, ca: &TestCa, upstream: u16) -> Option<(Child, String)> {
    let nginx = ["/usr/sbin/nginx", "nginx"].into_iter().find(|n| {
        Command::new(n)
            .arg("-v")
            .stderr(Stdio::null())
            .status()
            .is_ok()
    })?;
    let root = dir.join("nginx");
    std::fs::create_dir_all(root.join("logs")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.3:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = root.join("nginx.conf");
    let temp = root.display();
    std::fs::write(
        &conf,
        format!(
            "worker_processes 2;\ndaemon off;\npid {temp}/nginx.pid;\nerror_log stderr error;\nevents {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n  scgi_temp_path {temp}/scgi;\n\
             upstream up {{ server 127.0.0.2:{upstream}; keepalive 64; }}\n\
             server {{\n    listen 127.0.0.3:{port} ssl http2;\n    keepalive_requests 100000;\n    ssl_certificate {};\n    ssl_certificate_key {};\n\
             location / {{\n      proxy_pass https://up;\n      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n      proxy_set_header Authorization \"Bearer {KEY}\";\n      proxy_ssl_verify on;\n      proxy_ssl_trusted_certificate {};\n      proxy_ssl_name upstream.bench;\n      proxy_ssl_session_reuse on;\n    }}\n  }}\n}}\n",
            ca.cert_pem.display(),
            ca.key_pem.display(),
            ca.ca.display(),
        ),
    )
    .unwrap();
    let child = Command::new(nginx)
        .arg("-p")
        .arg(&root)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    wait_for(|| std::net::TcpStream::connect(("127.0.0.3", port)).ok());
    Some((child, format!("127.0.0.3:{port}")))
}

fn mitmdump() -> Option<PathBuf> {
    // `MITMDUMP=` (empty) skips the peer row.
    if let Some(p) = std::env::var_os("MITMDUMP") {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    let venv = PathBuf::from("/tmp/mitm/bin/mitmdump");
    if venv.exists() {
        return Some(venv);
    }
    Command::new("mitmdump")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()
        .filter(|s| s.success())
        .map(|_| PathBuf::from("mitmdump"))
}

/// Starts mitmdump with an addon that sets the same header; returns it, its URL and its CA.
fn start_mitmproxy(mitm: &Path, dir: &Path, upstream_ca: &Path) -> (Child, String, PathBuf) {
    let confdir = dir.join("mitm");
    std::fs::create_dir_all(&confdir).unwrap();
    let addon = dir.join("inject.py");
    std::fs::write(
        &addon,
        format!(
            "def request(flow):\n    if flow.request.host == '127.0.0.2':\n        flow.request.headers['Authorization'] = 'Bearer {KEY}'\n"
        ),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(mitm)
        .args([
            "--quiet",
            "--listen-host",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .arg("-s")
        .arg(&addon)
        .arg("--set")
        .arg(format!("confdir={}", confdir.display()))
        .arg("--set")
        .arg(format!(
            "ssl_verify_upstream_trusted_ca={}",
            upstream_ca.display()
        ))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(|| std::net::TcpStream::connect(("127.0.0.1", port)).ok());
    let ca = confdir.join("mitmproxy-ca-cert.pem");
    wait_for(|| ca.exists().then_some(()));
    (child, format!("http://127.0.0.1:{port}"), ca)
}

/// Polls for something a child process makes (a file, a listening port).
fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for a child process"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The median of each figure over the rounds.
fn median(rounds: Vec<Stats>) -> Stats {
    fn mid<T: Copy>(
        rounds: &[Stats],
        f: impl Fn(&Stats) -> T,
        cmp: impl Fn(&T, &T) -> std::cmp::Ordering,
    ) -> T {
        let mut v: Vec<T> = rounds.iter().map(f).collect();
        v.sort_by(&cmp);
        v[v.len() / 2]
    }
    let f = |a: &f64, b: &f64| a.total_cmp(b);
    let d = |a: &Duration, b: &Duration| a.cmp(b);
    Stats {
        seq_rps: mid(&rounds, |s| s.seq_rps, f),
        seq_p50: mid(&rounds, |s| s.seq_p50, d),
        seq_p99: mid(&rounds, |s| s.seq_p99, d),
        par_rps: mid(&rounds, |s| s.par_rps, f),
        par_p50: mid(&rounds, |s| s.par_p50, d),
        par_p99: mid(&rounds, |s| s.par_p99, d),
        h2: rounds[0].h2.map(|_| {
            (
                mid(&rounds, |s| s.h2.map_or(0.0, |h| h.0), f),
                mid(&rounds, |s| s.h2.map_or(Duration::ZERO, |h| h.1), d),
            )
        }),
        cpu_per_request: rounds[0]
            .cpu_per_request
            .map(|_| mid(&rounds, |s| s.cpu_per_request.unwrap_or_default(), d)),
    }
}

struct Stats {
    seq_rps: f64,
    seq_p50: Duration,
    seq_p99: Duration,
    par_rps: f64,
    par_p50: Duration,
    par_p99: Duration,
    /// HTTP/2, 16 streams on one connection: req/s and p50, where the path speaks HTTP/2.
    h2: Option<(f64, Duration)>,
    /// CPU time of the proxy (the process `pid` and its children) per request of the HTTP/1.1
    /// rounds.
    cpu_per_request: Option<Duration>,
}

/// CPU time (user and system) of `pid` and its direct children, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let of = |pid: &str| -> Option<(u64, u32)> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The fields after the command name, which is in parentheses and may hold spaces.
        let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ppid = rest.get(1)?.parse().ok()?;
        let ticks = rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?;
        Some((ticks, ppid))
    };
    let own = of(&pid.to_string()).map_or(0, |(t, _)| t);
    let children: u64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(&of))
        .filter(|(_, ppid)| *ppid == pid)
        .map(|(t, _)| t)
        .sum();
    own + children
}

/// Runs the client against `target`, through `proxy` when given, trusting the PEM file `roots`;
/// `pid` is the proxy's process, whose CPU time is counted.
fn bench(proxy: Option<&str>, roots: &Path, target: &str, pid: Option<u32>) -> Stats {
    eprintln!("benchmarking {}", proxy.unwrap_or("direct"));
    let mut store = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(roots).unwrap() {
        let _ = store.add(cert.unwrap());
    }
    let roots_store = store.clone();
    let mut config =
        rustls::ClientConfig::builder_with_provider(authsome::proxy::crypto_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(store)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let proxy = proxy.map(str::to_owned);
    let target = target.to_owned();
    rt.block_on(async move {
        // For profiling one phase: PROXY_BENCH_ONLY=h2 runs the HTTP/2 round through the
        // first proxy (authsome) until killed.
        if proxy.is_some() && std::env::var_os("PROXY_BENCH_ONLY").is_some_and(|v| v == "h2") {
            loop {
                bench_h2(proxy.clone(), roots_store.clone(), target.clone()).await;
            }
        }
        let connect = || connection(proxy.clone(), tls.clone(), target.clone());
        // One connection, requests one after another.
        let mut sender = connect().await;
        for _ in 0..200 {
            request(&mut sender, &target).await;
        }
        let ticks_before = pid.map(cpu_ticks);
        let mut seq = Vec::with_capacity(SEQUENTIAL);
        let start = Instant::now();
        for _ in 0..SEQUENTIAL {
            let t = Instant::now();
            request(&mut sender, &target).await;
            seq.push(t.elapsed());
        }
        let seq_rps = SEQUENTIAL as f64 / start.elapsed().as_secs_f64();
        // Many connections at once.
        let mut senders = Vec::new();
        for _ in 0..CONNECTIONS {
            senders.push(connect().await);
        }
        let start = Instant::now();
        let tasks: Vec<_> = senders
            .into_iter()
            .map(|mut s| {
                let target = target.clone();
                tokio::spawn(async move {
                    let mut times = Vec::with_capacity(PER_CONNECTION);
                    for _ in 0..PER_CONNECTION {
                        let t = Instant::now();
                        request(&mut s, &target).await;
                        times.push(t.elapsed());
                    }
                    times
                })
            })
            .collect();
        let mut par = Vec::new();
        for t in tasks {
            par.extend(t.await.unwrap());
        }
        let par_rps = par.len() as f64 / start.elapsed().as_secs_f64();
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        let cpu_per_request = pid.zip(ticks_before).map(|(pid, before)| {
            let ticks = cpu_ticks(pid).saturating_sub(before) as f64;
            Duration::from_secs_f64(ticks / hz / (SEQUENTIAL + par.len()) as f64)
        });
        let h2 = bench_h2(proxy.clone(), roots_store.clone(), target.clone()).await;
        seq.sort();
        par.sort();
        let pct = |v: &[Duration], p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
        Stats {
            seq_rps,
            seq_p50: pct(&seq, 0.5),
            seq_p99: pct(&seq, 0.99),
            par_rps,
            par_p50: pct(&par, 0.5),
            par_p99: pct(&par, 0.99),
            h2,
            cpu_per_request,
        }
    })
}

/// 16 streams at once on one HTTP/2 connection, [`PER_STREAM`] requests each; `None` when the
/// path does not offer HTTP/2.
async fn bench_h2(
    proxy: Option<String>,
    roots: rustls::RootCertStore,
    target: String,
) -> Option<(f64, Duration)> {
    let mut config =
        rustls::ClientConfig::builder_with_provider(authsome::proxy::crypto_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    // HTTP/1.1 offered too, so a path without HTTP/2 answers and is skipped.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = tunnel(&proxy, &target).await;
    let name = ServerName::try_from("127.0.0.2").unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
        return None;
    }
    let (sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let uri: hyper::Uri = format!("https://{target}/v1/models").parse().unwrap();
    let one = |mut s: hyper::client::conn::http2::SendRequest<Empty<Bytes>>, uri: hyper::Uri| async move {
        let req = Request::get(uri)
            .header("authorization", "Bearer placeholder")
            .body(Empty::new())
            .unwrap();
        let response = s.send_request(req).await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body.len(), BODY.len());
    };
    for _ in 0..200 {
        one(sender.clone(), uri.clone()).await;
    }
    let start = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (sender, uri) = (sender.clone(), uri.clone());
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(PER_STREAM);
                for _ in 0..PER_STREAM {
                    let t = Instant::now();
                    one(sender.clone(), uri.clone()).await;
                    times.push(t.elapsed());
                }
                times
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rps = all.len() as f64 / start.elapsed().as_secs_f64();
    all.sort();
    Some((rps, all[all.len() / 2]))
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// A keep-alive HTTP/1.1 connection over TLS to `target`, through a CONNECT tunnel when proxied.
async fn connection(
    proxy: Option<String>,
    tls: tokio_rustls::TlsConnector,
    target: String,
) -> Sender {
    let tcp = tunnel(&proxy, &target).await;
    let name = ServerName::try_from("127.0.0.2").unwrap();
    let stream = tls.connect(name, tcp).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

/// A TCP connection to `target`, through a CONNECT tunnel when proxied.
async fn tunnel(proxy: &Option<String>, target: &str) -> TcpStream {
    let tcp = match proxy {
        None => TcpStream::connect(target).await.unwrap(),
        Some(url) => {
            let url = url::Url::parse(url).unwrap();
            let mut tcp = TcpStream::connect((url.host_str().unwrap(), url.port().unwrap()))
                .await
                .unwrap();
            let auth = if url.password().is_some() {
                use base64::Engine;
                let creds = format!("{}:{}", url.username(), url.password().unwrap());
                format!(
                    "Proxy-Authorization: Basic {}\r\n",
                    base64::engine::general_purpose::STANDARD.encode(creds)
                )
            } else {
                String::new()
            };
            tcp.write_all(
                format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{auth}\r\n").as_bytes(),
            )
            .await
            .unwrap();
            let mut head = Vec::new();
            while !head.ends_with(b"\r\n\r\n") {
                let mut byte = [0u8; 1];
                tcp.read_exact(&mut byte).await.unwrap();
                head.push(byte[0]);
            }
            assert!(
                head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.0 200"),
                "CONNECT refused: {}",
                String::from_utf8_lossy(&head)
            );
            tcp
        }
    };
    tcp.set_nodelay(true).unwrap();
    tcp
}

async fn request(sender: &mut Sender, target: &str) {
    tokio::time::timeout(Duration::from_secs(30), send(sender, target))
        .await
        .expect("a request took over 30 s");
}

async fn send(sender: &mut Sender, target: &str) {
    sender.ready().await.unwrap();
    let req = Request::get("/v1/models")
        .header("host", target)
        .header("authorization", "Bearer placeholder")
        .body(Empty::new())
        .unwrap();
    let response = sender.send_request(req).await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.len(), BODY.len());
}
