//! `authsome run` through its proxy, end to end: real clients (curl, Python urllib and
//! requests, git) in the child, a real HTTPS upstream with its own CA (tests/servers/echo.mjs),
//! and what arrived there.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::common::upstream::{Echo, TestCa};
use crate::common::{Run, User, finish};
use authsome::error::ErrorKind;

pub(crate) const KEY: &str = "echo-key-personal-0123456789";
const WORK_KEY: &str = "echo-key-work-9876543210";

/// A user with provider `echo` (covering the upstream's IP) logged in as `personal` (the
/// default) and `work`, and the upstream running.
pub(crate) fn setup(ip: &str) -> (User, Echo) {
    setup_speaking(ip, false)
}

/// [`setup`], with an upstream that speaks only HTTP/2 when `h2`.
fn setup_speaking(ip: &str, h2: bool) -> (User, Echo) {
    let u = User::initialized();
    let ca = TestCa::new(&u.home().join("upstream"), &[ip]);
    let echo = if h2 {
        Echo::start_h2(&ca, ip)
    } else {
        Echo::start(&ca, ip)
    };
    add_provider(&u, "echo", &echo, None);
    u.run_stdin(&["login", "echo", "--stdin", "-c", "personal"], KEY)
        .ok();
    u.run_stdin(&["login", "echo", "--stdin", "-c", "work"], WORK_KEY)
        .ok();
    (u, echo)
}

/// A provider for the echo server's address and port.
fn add_provider(u: &User, name: &str, echo: &Echo, prefix: Option<&str>) {
    let path = u.home().join(format!("{name}.yaml"));
    let (host, port) = echo
        .url
        .trim_start_matches("https://")
        .split_once(':')
        .unwrap();
    let prefix = prefix
        .map(|p| format!("    path_prefix: {p}\n"))
        .unwrap_or_default();
    std::fs::write(
        &path,
        format!(
            "schema_version: 1\nname: {name}\ndisplay_name: {name}\nauth_type: api_key\nflow: api_key\nhosts:\n  - host: '{host}'\n    port: {port}\n{prefix}api_key:\n  header_name: Authorization\n  header_prefix: Bearer\nenv:\n  {}_API_KEY: api_key\n",
            name.to_uppercase()
        ),
    )
    .unwrap();
    u.run(&["provider", "add", path.to_str().unwrap()]).ok();
}

/// `authsome audit [args...] --json`, parsed.
pub(crate) fn audit_log(u: &User, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    all.push("--json");
    serde_json::from_str(&u.run(&all).ok().stdout).unwrap()
}

/// `authsome run --upstream-ca CA [extra...] -- sh -c SCRIPT`.
pub(crate) fn run_sh(u: &User, echo: &Echo, extra: &[&str], script: &str) -> Run {
    let mut c = u.command();
    c.arg("run").arg("--upstream-ca").arg(&echo.ca);
    c.args(extra).args(["--", "sh", "-c", script]);
    finish(c, None)
}

#[test]
fn curl_python_and_git_get_the_credential_and_the_child_only_placeholders() {
    let (u, echo) = setup("127.0.0.2");
    let url = &echo.url;
    // The client's own Authorization is replaced, not kept alongside.
    let curl = run_sh(
        &u,
        &echo,
        &[],
        &format!("curl -sS -H 'Authorization: Bearer mine' {url}/curl"),
    )
    .ok();
    assert_eq!(echo.auth("/curl"), format!("Bearer {KEY}"));
    // The echoed header comes back with the placeholder in place of the key.
    let body: serde_json::Value = serde_json::from_str(&curl.stdout).unwrap();
    let echoed = body["headers"]["authorization"].as_str().unwrap();
    assert!(
        echoed.starts_with("Bearer authsome-placeholder-echo-"),
        "{echoed}"
    );

    let urllib = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).status)";
    run_sh(
        &u,
        &echo,
        &[],
        &format!("python3 -c '{urllib}' {url}/urllib"),
    )
    .ok();
    assert_eq!(echo.auth("/urllib"), format!("Bearer {KEY}"));
    let requests = "import sys, requests; print(requests.get(sys.argv[1]).status_code)";
    let r = run_sh(
        &u,
        &echo,
        &[],
        &format!("python3 -c '{requests}' {url}/requests"),
    )
    .ok();
    assert_eq!(r.stdout.trim(), "200");
    assert_eq!(echo.auth("/requests"), format!("Bearer {KEY}"));
    // git talks smart HTTP; the echo is no git server, but the request got there, with the key.
    run_sh(
        &u,
        &echo,
        &[],
        &format!("git ls-remote {url}/team/repo.git || true"),
    )
    .ok();
    assert_eq!(
        echo.auth("/team/repo.git/info/refs?service=git-upload-pack"),
        format!("Bearer {KEY}")
    );

    // The environment holds the placeholder, the proxy and the CA bundle, never the key.
    let env = run_sh(&u, &echo, &[], "env").ok().stdout;
    assert!(!env.contains(KEY) && !env.contains(WORK_KEY), "{env}");
    let var = |name: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} is not set:\n{env}"))
            .to_owned()
    };
    assert!(var("ECHO_API_KEY").starts_with("authsome-placeholder-echo-"));
    assert_eq!(var("AUTHSOME_PROXY"), "1");
    assert!(var("https_proxy").starts_with("http://authsome:"));
    assert_eq!(var("HTTPS_PROXY"), var("https_proxy"));
    assert_eq!(var("NO_PROXY"), "localhost,127.0.0.1,::1");
    let bundle = var("SSL_CERT_FILE");
    for v in [
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "GIT_SSL_CAINFO",
        "NODE_EXTRA_CA_CERTS",
        "AWS_CA_BUNDLE",
        "CARGO_HTTP_CAINFO",
        "DENO_CERT",
    ] {
        assert_eq!(var(v), bundle, "{v}");
    }
    let pem = std::fs::read_to_string(&bundle).unwrap();
    assert!(
        pem.matches("BEGIN CERTIFICATE").count() > 10,
        "system roots too"
    );

    // The local CA: created once, key private, reused by the next run.
    let ca_dir = u.home().join(".config/authsome/ca");
    let key = std::fs::metadata(ca_dir.join("ca-key.pem")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
    let ca = std::fs::read(ca_dir.join("ca.pem")).unwrap();
    run_sh(&u, &echo, &[], "true").ok();
    assert_eq!(std::fs::read(ca_dir.join("ca.pem")).unwrap(), ca);
    // doctor checks it, and says what to do when the key is open to others.
    u.run(&["doctor"]).ok();
    std::fs::set_permissions(
        ca_dir.join("ca-key.pem"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let r = u.run(&["doctor"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("FAIL  proxy CA") && r.stdout.contains("chmod 600"),
        "{}",
        r.stdout
    );
    run_sh(&u, &echo, &[], "true").fails(ErrorKind::Crypto, "chmod 600");
    std::fs::set_permissions(
        ca_dir.join("ca-key.pem"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    // Nothing went into the store: no commit, a clean work tree.
    u.assert_git_clean();
}

#[test]
fn hosts_no_provider_covers_are_tunnelled_untouched() {
    let (u, echo) = setup("127.0.0.2");
    let other_ca = TestCa::new(&u.home().join("other"), &["127.0.0.3"]);
    let other = Echo::start(&other_ca, "127.0.0.3");
    // Trusting only the other server's own CA works: the proxy did not touch the TLS.
    let r = run_sh(
        &u,
        &echo,
        &[],
        &format!(
            "curl -sS --cacert {} {}/tunnel",
            other_ca.ca.display(),
            other.url
        ),
    )
    .ok();
    assert!(r.stdout.contains("\"/tunnel\""));
    assert_eq!(other.auth("/tunnel"), "<none>");
    // The provider's host on a port its definition does not name is someone else's service.
    let port_ca = TestCa::new(&u.home().join("port"), &["127.0.0.2"]);
    let other_port = Echo::start(&port_ca, "127.0.0.2");
    run_sh(
        &u,
        &echo,
        &[],
        &format!(
            "curl -sS --cacert {} {}/other-port",
            port_ca.ca.display(),
            other_port.url
        ),
    )
    .ok();
    assert_eq!(other_port.auth("/other-port"), "<none>");
    // The intercepted host, by contrast, shows authsome's certificate, not its own.
    let r = run_sh(
        &u,
        &echo,
        &[],
        &format!("curl -sS --cacert {} {}/mitm", echo.ca.display(), echo.url),
    );
    assert_eq!(r.code, 60, "curl: certificate problem; {}", r.stderr);
}

#[test]
fn the_proxy_wants_its_run_password() {
    let (u, echo) = setup("127.0.0.2");
    let url = &echo.url;
    // Same port, without the password, and with a wrong one.
    let script = format!(
        "hp=${{HTTPS_PROXY##*@}}; \
         curl -s -o /dev/null -w '%{{http_connect}} ' -x http://$hp {url}/no-password; \
         curl -s -o /dev/null -w '%{{http_connect}}' -x http://authsome:guess@$hp {url}/wrong-password; \
         true"
    );
    let r = run_sh(&u, &echo, &[], &script).ok();
    assert_eq!(r.stdout, "407 407");
    assert!(echo.seen("/no-password").is_empty() && echo.seen("/wrong-password").is_empty());
    // Only the wrong password is worth a line in the audit log.
    let audit = audit_log(&u, &[]);
    let refused: Vec<_> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == 407)
        .collect();
    assert_eq!(refused.len(), 1, "{audit}");
}

#[test]
fn connections_are_chosen_per_run_and_per_request() {
    let (u, echo) = setup("127.0.0.2");
    let url = &echo.url;
    run_sh(
        &u,
        &echo,
        &["--connection", "echo=work"],
        &format!("curl -sS {url}/flag"),
    )
    .ok();
    assert_eq!(echo.auth("/flag"), format!("Bearer {WORK_KEY}"));
    run_sh(
        &u,
        &echo,
        &[],
        &format!("curl -sS -H 'X-Authsome-Connection: work' {url}/header"),
    )
    .ok();
    assert_eq!(echo.auth("/header"), format!("Bearer {WORK_KEY}"));
    let seen = &echo.seen("/header")[0];
    assert!(
        seen["headers"].get("x-authsome-connection").is_none(),
        "the selector header is stripped: {seen}"
    );
    // A connection that does not exist: the proxy answers, the upstream never hears of it.
    let r = run_sh(
        &u,
        &echo,
        &[],
        &format!("curl -s -w ' %{{http_code}}' -H 'X-Authsome-Connection: nope' {url}/nope"),
    )
    .ok();
    assert!(r.stdout.contains("no connection \"nope\""), "{}", r.stdout);
    assert!(r.stdout.ends_with(" 403"), "{}", r.stdout);
    assert!(echo.seen("/nope").is_empty());
    // --connection naming a connection that does not exist fails before the command runs.
    run_sh(&u, &echo, &["-c", "echo=gone"], "echo ran")
        .fails(ErrorKind::ConnectionNotFound, "gone");
}

#[test]
fn a_default_switched_by_another_process_applies_to_the_next_request() {
    let (u, echo) = setup("127.0.0.2");
    let url = &echo.url;
    let authsome = env!("CARGO_BIN_EXE_authsome");
    run_sh(
        &u,
        &echo,
        &[],
        &format!(
            "curl -sS {url}/before && {authsome} default echo work && curl -sS {url}/after && \
             {authsome} logout echo -c work && curl -sS {url}/logged-out"
        ),
    )
    .ok();
    assert_eq!(echo.auth("/before"), format!("Bearer {KEY}"));
    assert_eq!(echo.auth("/after"), format!("Bearer {WORK_KEY}"));
    // After the logout the default falls back to the remaining connection.
    assert_eq!(echo.auth("/logged-out"), format!("Bearer {KEY}"));
}

#[test]
fn a_commit_applies_to_the_next_request_on_a_connection_kept_open() {
    // One keep-alive tunnel stays on one proxy worker, whose HEAD check has the old state
    // cached: only its watch can tell it a commit happened.
    let (u, echo) = setup("127.0.0.2");
    let script = u.home().join("keep.py");
    std::fs::write(
        &script,
        "import subprocess, sys, requests\n\
         s = requests.Session()\n\
         url, authsome = sys.argv[1], sys.argv[2]\n\
         for i in range(3):\n    s.get(f'{url}/keep-before-{i}').raise_for_status()\n\
         subprocess.run([authsome, 'default', 'echo', 'work'], check=True, capture_output=True)\n\
         for i in range(3):\n    s.get(f'{url}/keep-after-{i}').raise_for_status()\n",
    )
    .unwrap();
    let authsome = env!("CARGO_BIN_EXE_authsome");
    run_sh(
        &u,
        &echo,
        &[],
        &format!("python3 {} {} {authsome}", script.display(), echo.url),
    )
    .ok();
    let mut peers = std::collections::BTreeSet::new();
    for i in 0..3 {
        assert_eq!(
            echo.auth(&format!("/keep-before-{i}")),
            format!("Bearer {KEY}")
        );
        assert_eq!(
            echo.auth(&format!("/keep-after-{i}")),
            format!("Bearer {WORK_KEY}")
        );
        for when in ["before", "after"] {
            peers.insert(echo.seen(&format!("/keep-{when}-{i}"))[0]["peer"].to_string());
        }
    }
    // One upstream connection carried all six: one worker (and its pool) served the tunnel.
    assert_eq!(peers.len(), 1, "{peers:?}");
}

#[test]
fn the_exit_code_and_signals_reach_the_child() {
    let (u, echo) = setup("127.0.0.2");
    assert_eq!(run_sh(&u, &echo, &[], "exit 7").code, 7);
    // A child killed by a signal: authsome dies of the same signal, as the child did.
    let mut c = u.command();
    c.args(["run", "--", "sh", "-c", "kill -TERM $$"]);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(c.status().unwrap().signal(), Some(libc::SIGTERM));
    let mut c = u.command();
    c.args(["run", "--", "sh", "-c"])
        // Bounded, so a signal that never arrives fails the test instead of hanging it.
        .arg("trap 'echo got-term; exit 42' TERM; echo ready; i=0; while [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; echo no-signal")
        .stdout(Stdio::piped())
        .stdin(Stdio::null());
    let mut child = c.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    // SAFETY: signalling a child process we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    line.clear();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "got-term\n");
    assert_eq!(child.wait().unwrap().code(), Some(42));
}

#[test]
fn hardening_rules_each_hold_over_http1() {
    hardening_rules_each_hold(false);
}

#[test]
fn hardening_rules_each_hold_over_http2() {
    hardening_rules_each_hold(true);
}

/// Every rule, with the client and the upstream speaking HTTP/2 (each rule then holds per
/// stream) or HTTP/1.1; the rules of the proxy's own listener (plain HTTP, absolute URIs sent
/// in the clear) are HTTP/1.1's alone.
fn hardening_rules_each_hold(h2: bool) {
    let (u, echo) = setup_speaking("127.0.0.2", h2);
    add_provider(&u, "other", &echo, Some("/other"));
    u.run_stdin(&["login", "other", "--stdin"], "other-key-000111")
        .ok();
    let url = &echo.url;
    let version = if h2 { "--http2" } else { "--http1.1" };
    let code = |extra: &str, path: &str| {
        let r = run_sh(
            &u,
            &echo,
            &[],
            &format!(
                "curl {version} -s -o /dev/null -w '%{{http_code}} %{{http_version}}' {extra} {url}{path}"
            ),
        );
        // Each answer came over the version asked for.
        let (code, got) = r.stdout.split_once(' ').unwrap_or((&r.stdout, ""));
        let shown: String = extra.chars().take(60).collect();
        assert_eq!(
            got,
            if h2 { "2" } else { "1.1" },
            "{shown} {path}: {}",
            r.stderr
        );
        code.to_owned()
    };
    let sh = |script: &str| {
        run_sh(
            &u,
            &echo,
            &[],
            &script.replacen("curl ", &format!("curl {version} "), 1),
        )
    };
    // The request reached the upstream over the version it speaks.
    assert_eq!(code("", "/version"), "200");
    assert_eq!(
        echo.seen("/version")[0]["version"],
        if h2 { "2.0" } else { "1.1" }
    );
    if !h2 {
        listener_rules(&u, &echo);
    }

    // TRACE and TRACK would echo the credential back.
    assert_eq!(code("-X TRACE", "/trace"), "405");
    assert_eq!(code("-X TRACK", "/track"), "405");
    assert!(echo.seen("/trace").is_empty() && echo.seen("/track").is_empty());

    // The upstream Host is the CONNECT target, whatever the client wrote.
    assert_eq!(code("-H 'Host: evil.example'", "/host"), "200");
    let host = echo.seen("/host")[0]["headers"]["host"].clone();
    assert_eq!(host, url.trim_start_matches("https://"));
    // ...and whatever absolute URI it wrote inside the tunnel (HTTP/2 has no such form).
    if !h2 {
        assert_eq!(
            code("--request-target https://evil.example/absolute-inside", "/"),
            "200"
        );
        let inside = &echo.seen("/absolute-inside")[0];
        assert_eq!(inside["headers"]["host"], host, "{inside}");
    }

    // Redirects go back to the client as they came, for it to follow (or not) itself.
    let landed = format!("{url}/landed");
    let r = sh(&format!(
        "curl -sS -o /dev/null -D - '{url}/redirect?to={landed}'"
    ))
    .ok();
    let status = if h2 { "HTTP/2 302" } else { "HTTP/1.1 302" };
    assert!(r.stdout.contains(status), "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!("location: {landed}")),
        "{}",
        r.stdout
    );
    assert!(echo.seen("/landed").is_empty());

    // Injected requests ask for uncompressed answers, so an echo can be redacted.
    assert_eq!(code("--compressed", "/compressed"), "200");
    assert_eq!(
        echo.seen("/compressed")[0]["headers"]["accept-encoding"],
        "identity"
    );

    // `Connection: Authorization` cannot take the credential out: hop-by-hop headers go first.
    assert_eq!(code("-H 'Connection: Authorization'", "/hop"), "200");
    assert_eq!(echo.auth("/hop"), format!("Bearer {KEY}"));
    let hop = &echo.seen("/hop")[0]["headers"];
    assert!(
        hop.get("connection").is_none_or(|c| c != "Authorization"),
        "{hop}"
    );

    // A placeholder sent where its provider does not serve is blocked, not forwarded.
    let r = sh(&format!(
        "curl -s -w ' %{{http_code}}' -H \"X-Key: $ECHO_API_KEY\" {url}/other/x"
    ))
    .ok();
    assert!(
        r.stdout.contains("placeholder for echo") && r.stdout.ends_with(" 403"),
        "{}",
        r.stdout
    );
    assert!(echo.seen("/other/x").is_empty());
    let r = run_sh(
        &u,
        &echo,
        &[],
        "curl -s -w ' %{http_code}' \"http://127.0.0.9:9/?k=$ECHO_API_KEY\"",
    )
    .ok();
    assert!(r.stdout.ends_with(" 403"), "{}", r.stdout);
    // ...while the other provider's own path gets its own credential.
    assert_eq!(code("", "/other/y"), "200");
    assert_eq!(echo.auth("/other/y"), "Bearer other-key-000111");

    // Sizes are capped: a huge header block, a huge declared body.
    let big = "a".repeat(70 * 1024);
    if h2 {
        // The proxy's SETTINGS say how large a header block may be: curl then does not send
        // it, or the proxy answers 431 itself.
        let r = sh(&format!(
            "curl -s -o /dev/null -w '%{{http_code}}' -H 'X-Big: {big}' {url}/big-header"
        ));
        assert!(["431", "000"].contains(&r.stdout.as_str()), "{}", r.stdout);
    } else {
        assert_eq!(code(&format!("-H 'X-Big: {big}'"), "/big-header"), "431");
    }
    // And the number of fields: 100 pass, 600 are refused.
    let fields = |n: usize| {
        (0..n)
            .map(|i| format!("-H 'X-F{i}: 1' "))
            .collect::<String>()
    };
    assert_eq!(code(&fields(100), "/some-fields"), "200");
    assert_eq!(code(&fields(600), "/many-fields"), "431");
    assert!(echo.seen("/many-fields").is_empty());
    let big_body = "-X POST -H 'Content-Length: 999999999' --data x";
    if h2 {
        // A body that keeps coming (a short one would contradict the declared length, which
        // HTTP/2 resets before any answer). The 413 goes out with a reset of the stream the
        // client is still sending on, which curl may report instead; the audit log below has
        // the refusal either way.
        let r = sh(&format!(
            "curl -s -o /dev/null -w '%{{http_code}}' --max-time 20 -X POST -H 'Content-Length: 999999999' -T /dev/zero {url}/big-body"
        ));
        assert!(["413", "000"].contains(&r.stdout.as_str()), "{}", r.stdout);
    } else {
        assert_eq!(code(big_body, "/big-body"), "413");
    }
    assert!(echo.seen("/big-header").is_empty() && echo.seen("/big-body").is_empty());

    // A response echoing the secret gets the placeholder instead, in headers and in bodies
    // that stream without a length.
    let r = sh(&format!("curl -sS -D - {url}/echo-header")).ok();
    assert!(!r.stdout.contains(KEY), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("x-echo: Bearer authsome-placeholder-echo-"),
        "{}",
        r.stdout
    );
    let r = sh(&format!("curl -sS {url}/stream")).ok();
    assert!(!r.stdout.contains(KEY), "{}", r.stdout);
    assert!(
        r.stdout.contains("Bearer authsome-placeholder-echo-"),
        "{}",
        r.stdout
    );
    assert_eq!(echo.auth("/stream"), format!("Bearer {KEY}"));

    // Each refusal is in the audit log, and no secret is.
    let log = std::fs::read_to_string(u.home().join(".local/state/authsome/audit.jsonl")).unwrap();
    assert!(!log.contains(KEY) && !log.contains("other-key-000111"));
    let audit = audit_log(&u, &[]);
    let statuses: Vec<(String, u64)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "refused")
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_owned(),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let listener = if h2 { vec![] } else { vec![("/plain", 403)] };
    for expected in listener.into_iter().chain([
        ("/trace", 405),
        ("/track", 405),
        ("/other/x", 403),
        ("/big-body", 413),
    ]) {
        assert!(
            statuses.contains(&(expected.0.to_owned(), expected.1)),
            "{expected:?} not in {statuses:?}"
        );
    }
}

/// The rules of the proxy's own listener: plain HTTP, and https:// URIs sent to it in the clear.
fn listener_rules(u: &User, echo: &Echo) {
    let url = &echo.url;
    // Plain HTTP to a provider's host never carries a credential.
    let plain = url.replace("https://", "http://");
    let r = run_sh(
        u,
        echo,
        &[],
        &format!("curl -s -w ' %{{http_code}}' {plain}/plain"),
    )
    .ok();
    assert!(
        r.stdout.contains("only over HTTPS") && r.stdout.ends_with(" 403"),
        "{}",
        r.stdout
    );
    // Nor does an https:// URL sent in the clear to the proxy (no TLS stripping).
    let absolute = "import os, socket, base64, sys, urllib.parse as u\n\
        p = u.urlparse(os.environ['HTTPS_PROXY'])\n\
        s = socket.create_connection((p.hostname, p.port))\n\
        a = base64.b64encode(f'{p.username}:{p.password}'.encode()).decode()\n\
        s.sendall(f'GET {sys.argv[1]} HTTP/1.1\\r\\nHost: x\\r\\nProxy-Authorization: Basic {a}\\r\\nConnection: close\\r\\n\\r\\n'.encode())\n\
        print(s.recv(4096).decode().split('\\r\\n')[0])";
    std::fs::write(u.home().join("absolute.py"), absolute).unwrap();
    let r = run_sh(
        u,
        echo,
        &[],
        &format!("python3 {}/absolute.py {url}/absolute", u.home().display()),
    )
    .ok();
    assert_eq!(r.stdout.trim(), "HTTP/1.1 403 Forbidden");
    assert!(echo.seen("/plain").is_empty() && echo.seen("/absolute").is_empty());
}

#[test]
fn websocket_upgrades_get_the_credential_and_a_spliced_connection() {
    let (u, echo) = setup("127.0.0.2");
    let client = "import base64, os, socket, ssl, sys, urllib.parse as u\n\
        p, t = u.urlparse(os.environ['HTTPS_PROXY']), u.urlparse(sys.argv[1])\n\
        s = socket.create_connection((p.hostname, p.port))\n\
        a = base64.b64encode(f'{p.username}:{p.password}'.encode()).decode()\n\
        s.sendall(f'CONNECT {t.netloc} HTTP/1.1\\r\\nHost: {t.netloc}\\r\\nProxy-Authorization: Basic {a}\\r\\n\\r\\n'.encode())\n\
        head = b''\n\
        while b'\\r\\n\\r\\n' not in head: head += s.recv(1)\n\
        w = ssl.create_default_context().wrap_socket(s, server_hostname=t.hostname)\n\
        w.sendall(f'GET /ws HTTP/1.1\\r\\nHost: {t.netloc}\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n'.encode())\n\
        head = b''\n\
        while b'\\r\\n\\r\\n' not in head: head += w.recv(1)\n\
        print(head.split(b'\\r\\n')[0].decode())\n\
        w.sendall(b'ping-through-the-tunnel')\n\
        got = b''\n\
        while len(got) < 23: got += w.recv(64)\n\
        print(got.decode())";
    std::fs::write(u.home().join("ws.py"), client).unwrap();
    let r = run_sh(
        &u,
        &echo,
        &[],
        &format!("python3 {}/ws.py {}", u.home().display(), echo.url),
    )
    .ok();
    assert_eq!(
        r.stdout,
        "HTTP/1.1 101 Switching Protocols\nping-through-the-tunnel\n"
    );
    let seen = &echo.seen("/ws")[0]["headers"];
    assert_eq!(seen["authorization"], format!("Bearer {KEY}"));
    assert_eq!(seen["upgrade"], "websocket");
}

#[test]
fn behind_another_http_proxy_authsome_goes_through_it() {
    let (u, echo) = setup("127.0.0.2");
    let authsome = env!("CARGO_BIN_EXE_authsome");
    // The outer run plays the network's proxy for the inner one. Both read the same store, so
    // both intercept: through the chain, the request is injected once by each.
    let r = run_sh(
        &u,
        &echo,
        &[],
        &format!("{authsome} run -- curl -sS {}/chained", echo.url),
    )
    .ok();
    assert!(r.stdout.contains("\"/chained\""), "{}", r.stdout);
    assert_eq!(echo.auth("/chained"), format!("Bearer {KEY}"));
    let audit = audit_log(&u, &[]);
    let hops = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"] == "/chained" && e["action"] == "injected")
        .count();
    assert_eq!(hops, 2, "{audit}");
    // The hosts in authsome's own NO_PROXY are reached directly: one injection, not two.
    run_sh(
        &u,
        &echo,
        &[],
        &format!(
            "NO_PROXY=127.0.0.2 {authsome} run --upstream-ca {} -- curl -sS {}/direct",
            echo.ca.display(),
            echo.url
        ),
    )
    .ok();
    let audit = audit_log(&u, &[]);
    let hops = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"] == "/direct")
        .count();
    assert_eq!(hops, 1, "{audit}");
    assert_eq!(echo.auth("/direct"), format!("Bearer {KEY}"));
    // An upstream proxy that wants credentials it was not given is named as the problem.
    let r = run_sh(
        &u,
        &echo,
        &[],
        &format!(
            "HTTPS_PROXY=http://${{HTTPS_PROXY##*@}} {authsome} run -- curl -s {}/no-creds",
            echo.url
        ),
    )
    .ok();
    assert!(r.stdout.contains("wants credentials"), "{}", r.stdout);
    // A proxy authsome cannot speak through is named, not ignored.
    let mut c = u.command();
    c.env("HTTPS_PROXY", "socks5://user:hunter2@127.0.0.1:9")
        .args(["run", "--", "true"]);
    let r = finish(c, None).fails(
        ErrorKind::Usage,
        "only reach upstream servers through an http:// proxy",
    );
    assert!(
        !r.stderr.contains("hunter2"),
        "the password stays out of messages: {}",
        r.stderr
    );
}

#[test]
fn basic_auth_providers_get_the_key_encoded() {
    let (u, echo) = setup("127.0.0.2");
    let (host, port) = echo
        .url
        .trim_start_matches("https://")
        .split_once(':')
        .unwrap();
    let def = u.home().join("basic.yaml");
    std::fs::write(
        &def,
        format!(
            "schema_version: 1\nname: basic\ndisplay_name: Basic\nauth_type: api_key\nflow: api_key\nhosts:\n  - host: '{host}'\n    port: {port}\n    path_prefix: /basic\napi_key:\n  header_name: Authorization\n  basic_auth: password\n  basic_user: anystring\n"
        ),
    )
    .unwrap();
    u.run(&["provider", "add", def.to_str().unwrap()]).ok();
    u.run_stdin(&["login", "basic", "--stdin"], "raw-key-123")
        .ok();
    let r = run_sh(&u, &echo, &[], &format!("curl -sS {}/basic/x", echo.url)).ok();
    // base64("anystring:raw-key-123")
    let encoded = "YW55c3RyaW5nOnJhdy1rZXktMTIz";
    assert_eq!(echo.auth("/basic/x"), format!("Basic {encoded}"));
    // The echo of the encoded form is the secret too, and is redacted.
    assert!(!r.stdout.contains(encoded), "{}", r.stdout);
    assert!(
        r.stdout.contains("Basic authsome-placeholder-basic-"),
        "{}",
        r.stdout
    );
    // So is the raw key, when an API repeats it ("invalid key raw-key-123").
    let r = run_sh(
        &u,
        &echo,
        &[],
        &format!("curl -sS '{}/basic/say?text=bad+key+raw-key-123'", echo.url),
    )
    .ok();
    assert!(
        r.stdout.starts_with("bad key authsome-placeholder-basic-"),
        "{}",
        r.stdout
    );
}

#[test]
fn audit_shows_injections_and_filters() {
    let (u, echo) = setup("127.0.0.2");
    let url = &echo.url;
    run_sh(
        &u,
        &echo,
        &["-c", "echo=work"],
        &format!("curl -sS '{url}/v1/models?secret=query'"),
    )
    .ok();
    let json = audit_log(&u, &["echo", "--since", "1h"]);
    let entries = json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{json}");
    let e = &entries[0];
    assert_eq!(e["action"], "injected");
    assert_eq!(e["provider"], "echo");
    assert_eq!(e["connection"], "work");
    assert_eq!(e["method"], "GET");
    assert_eq!(e["path"], "/v1/models", "no query string in the log");
    assert_eq!(e["status"], 200);
    assert_eq!(e["host"], url.trim_start_matches("https://"));
    // An upstream nobody listens on: nothing is sent, and the log says so rather than
    // "injected ... 502".
    let closed = std::net::TcpListener::bind("127.0.0.2:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let def = u.home().join("gone.yaml");
    std::fs::write(
        &def,
        format!(
            "schema_version: 1\nname: gone\ndisplay_name: gone\nauth_type: api_key\nflow: api_key\nhosts:\n  - host: '127.0.0.2'\n    port: {closed}\napi_key:\n  header_name: Authorization\n  header_prefix: Bearer\nenv:\n  GONE_API_KEY: api_key\n"
        ),
    )
    .unwrap();
    u.run(&["provider", "add", def.to_str().unwrap()]).ok();
    u.run_stdin(&["login", "gone", "--stdin"], "gone-key").ok();
    let r = run_sh(
        &u,
        &echo,
        &[],
        &format!("curl -s -o /dev/null -w '%{{http_code}}' https://127.0.0.2:{closed}/x"),
    )
    .ok();
    assert_eq!(r.stdout, "502");
    let json = audit_log(&u, &["gone"]);
    assert_eq!(json["entries"][0]["action"], "unreachable", "{json}");
    // Text columns line up whatever the outcome and the connection's length.
    let text = u.run(&["audit"]).ok().stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains("  injected       echo/work     GET "),
        "{text}"
    );
    assert!(
        lines[1].contains("  unreachable    gone/default  GET "),
        "{text}"
    );
    assert_eq!(
        lines[0].find("injected"),
        lines[1].find("unreachable"),
        "{text}"
    );
    assert_eq!(lines[0].find(" GET "), lines[1].find(" GET "), "{text}");
    // Filters: another provider, a time after the entry.
    let none = u.run(&["audit", "github", "--json"]).ok().stdout;
    assert!(none.contains("\"entries\": []"), "{none}");
    let none = u
        .run(&["audit", "--since", "2999-01-01T00:00:00Z", "--json"])
        .ok()
        .stdout;
    assert!(none.contains("\"entries\": []"), "{none}");
    u.run(&["audit", "--since", "yesterday-ish"])
        .fails(ErrorKind::Usage, "--since takes a time");
}

#[test]
fn shell_runs_under_the_proxy() {
    let (u, echo) = setup("127.0.0.2");
    let mut c = u.command();
    c.arg("shell").arg("--upstream-ca").arg(&echo.ca);
    c.args(["--", "sh", "-c"]).arg(format!(
        "printf '%s\\n' \"$AUTHSOME_SHELL\"; curl -sS -o /dev/null {}/shell",
        echo.url
    ));
    let r = finish(c, None).ok();
    assert_eq!(r.stdout.trim(), u.store().display().to_string());
    assert_eq!(echo.auth("/shell"), format!("Bearer {KEY}"));
    // Without a command, $SHELL is started.
    let mut c = u.command();
    c.env("SHELL", "/bin/sh")
        .arg("shell")
        .arg("--upstream-ca")
        .arg(&echo.ca);
    let r = finish(c, Some("echo \"in:$AUTHSOME_PROXY\"; exit 3\n"));
    assert_eq!(r.code, 3);
    assert_eq!(r.stdout.trim(), "in:1");
}

/// A user logged in (PKCE, scripted browser) to `mock`, an OAuth2 provider whose token
/// endpoint is oauth2-mock-server and whose API host is the echo upstream.
fn oauth_setup() -> (crate::common::servers::NodeServer, User, Echo) {
    let mock = crate::common::servers::NodeServer::start("mock.mjs", &[]);
    let u = User::initialized();
    let ca = TestCa::new(&u.home().join("upstream"), &["127.0.0.2"]);
    let echo = Echo::start(&ca, "127.0.0.2");
    let i = &mock.issuer;
    let port = echo.url.rsplit(':').next().unwrap();
    let def = u.home().join("mock.yaml");
    std::fs::write(
        &def,
        format!(
            "schema_version: 1\nname: mock\ndisplay_name: Mock\nauth_type: oauth2\nflow: pkce\nhosts:\n  - host: 127.0.0.2\n    port: {port}\noauth2:\n  authorization_url: {i}/authorize\n  token_url: {i}/token\n  scopes: [read]\nenv:\n  MOCK_TOKEN: access_token\n  MOCK_REFRESH_TOKEN: refresh_token\n"
        ),
    )
    .unwrap();
    u.run(&["provider", "add", def.to_str().unwrap()]).ok();
    let browser = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/browser.sh");
    let mut c = u.command();
    c.env("BROWSER", browser)
        .args(["login", "mock", "--client-id", "app-1"]);
    finish(c, None).ok();
    (mock, u, echo)
}

/// The refresh-token grants the mock server answered.
fn refreshes(mock: &crate::common::servers::NodeServer) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r["params"]["grant_type"] == "refresh_token")
        .count()
}

#[test]
fn requests_refused_together_share_one_refresh() {
    let (mock, u, echo) = oauth_setup();
    let url = &echo.url;
    // Both requests go out with the same token at once, and both come back 401.
    let r = run_sh(
        &u,
        &echo,
        &[],
        &format!(
            "curl -s -o /dev/null -w '%{{http_code}}\\n' {url}/reject-first & \
             curl -s -o /dev/null -w '%{{http_code}}\\n' {url}/reject-first & wait"
        ),
    )
    .ok();
    assert_eq!(
        r.stdout, "200\n200\n",
        "both retried with the refreshed token"
    );
    assert_eq!(refreshes(&mock), 1, "one refresh for both");
}

#[test]
fn an_oauth_token_the_upstream_rejects_is_refreshed_once_and_the_request_retried() {
    let (mock, u, echo) = oauth_setup();
    let refreshes = || refreshes(&mock);

    let r = run_sh(
        &u,
        &echo,
        &[],
        &format!(
            "curl -s -o /dev/null -w '%{{http_code}} ' {0}/reject-first; curl -s -o /dev/null -w '%{{http_code}}' {0}/after",
            echo.url
        ),
    )
    .ok();
    assert_eq!(
        r.stdout, "200 200",
        "the retry with a refreshed token succeeded"
    );
    let tried: Vec<String> = echo
        .seen("/reject-first")
        .iter()
        .map(|s| s["headers"]["authorization"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(tried.len(), 2, "one retry: {tried:?}");
    assert_ne!(tried[0], tried[1]);
    assert!(
        tried.iter().all(|t| t.starts_with("Bearer ey")),
        "{tried:?}"
    );
    assert_eq!(refreshes(), 1);
    let audit = audit_log(&u, &["mock"]);
    let first = &audit["entries"][0];
    assert_eq!(first["path"], "/reject-first");
    assert_eq!(first["status"], 200);
    assert_eq!(first["retried"], true, "{audit}");
    // The next request uses the refreshed token, with no second refresh.
    assert_eq!(echo.auth("/after"), tried[1]);
    assert_eq!(refreshes(), 1);
    // A refresh token left in the environment (say by an earlier `export`) does not reach the
    // child; the access token variable holds a placeholder.
    let mut c = u.command();
    c.env("MOCK_REFRESH_TOKEN", "leftover-real-refresh-token")
        .args([
            "run",
            "--",
            "sh",
            "-c",
            "echo \"[$MOCK_REFRESH_TOKEN] $MOCK_TOKEN\"",
        ]);
    let r = finish(c, None).ok();
    assert!(
        r.stdout.starts_with("[] authsome-placeholder-mock-"),
        "{}",
        r.stdout
    );

    // A 401 that a fresh token does not cure is passed through after that one retry.
    let r = run_sh(
        &u,
        &echo,
        &[],
        &format!(
            "curl -s -o /dev/null -w '%{{http_code}}' {}/status/401",
            echo.url
        ),
    )
    .ok();
    assert_eq!(r.stdout, "401");
    assert_eq!(echo.seen("/status/401").len(), 2);
}

#[test]
fn a_running_proxy_keeps_the_last_verified_state_of_a_sealed_store() {
    let (u, echo) = setup("127.0.0.2");
    let url = &echo.url;
    u.run(&["seal"]).ok();
    let store = u.store();
    let state = store.join("vaults/default/echo/provider.yaml");
    // Mid-run, someone switches the default by hand (no seal): the proxy does not follow.
    let script = format!(
        "curl -sS {url}/before && printf 'default: work\\n' > {} && git -C {} -c user.name=m -c user.email=m@x commit -qam 'by hand' && \
         curl -sS {url}/unverified",
        state.display(),
        store.display()
    );
    let r = run_sh(&u, &echo, &[], &script).ok();
    assert_eq!(echo.auth("/before"), format!("Bearer {KEY}"));
    assert_eq!(
        echo.auth("/unverified"),
        format!("Bearer {KEY}"),
        "it followed an unsealed change"
    );
    assert!(
        r.stderr.contains("keeps serving the last verified one"),
        "{}",
        r.stderr
    );
    // The audit log says so too, once, with the reason.
    let audit: serde_json::Value =
        serde_json::from_str(&u.run(&["--json", "audit"]).ok().stdout).unwrap();
    let refused: Vec<&serde_json::Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "state_refused")
        .collect();
    assert_eq!(refused.len(), 1, "{audit}");
    assert!(
        refused[0]["reason"]
            .as_str()
            .unwrap()
            .contains("vaults/default changed since its seal"),
        "{audit}"
    );
}

#[test]
fn the_proxy_answers_its_client_past_idle_and_stalled_connections_and_caps_bodies() {
    let (u, echo) = setup("127.0.0.2");
    let url = &echo.url;
    // 300 connections that never send a byte and 64 that stall half-way through a head: none
    // shows the password, so the oldest are closed to make room, and the child's own request
    // is answered at once.
    let script = format!(
        r#"python3 - <<'PY'
import os, socket, subprocess, time, urllib.parse
p = urllib.parse.urlparse(os.environ["HTTPS_PROXY"])
idle = [socket.create_connection((p.hostname, p.port)) for _ in range(300)]
slow = []
for _ in range(64):
    s = socket.create_connection((p.hostname, p.port))
    s.sendall(b"CONNECT example.com:443 HTTP/1.1\r\nHost: exa")
    slow.append(s)
t = time.monotonic()
out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{{http_code}}", "{url}/alive"],
                     capture_output=True, text=True).stdout
print(out, time.monotonic() - t)
PY"#
    );
    let r = run_sh(&u, &echo, &[], &script).ok();
    let (code, took) = r.stdout.trim().split_once(' ').unwrap();
    assert_eq!(code, "200", "{}", r.stderr);
    assert!(took.parse::<f64>().unwrap() < 1.0, "took {took} s");
    assert_eq!(echo.auth("/alive"), format!("Bearer {KEY}"));

    // A chunked body past 64 MiB is refused with 413 (no length was said, so it is found out
    // while it streams), not a 502 that SDKs would retry. The client is still sending 32 MiB
    // when the answer comes: the proxy reads and drops them before it closes, or the client
    // would see a reset instead of the 413.
    let script = format!(
        r#"python3 - <<'PY'
import requests
def body():
    chunk = b"x" * (1 << 20)
    for _ in range(96):
        yield chunk
try:
    r = requests.post("{url}/big", data=body(), timeout=120)
    print(r.status_code, r.text)
except requests.exceptions.ConnectionError as e:
    print("reset", e)
PY"#
    );
    let r = run_sh(&u, &echo, &[], &script).ok();
    assert!(r.stdout.starts_with("413 "), "{}{}", r.stdout, r.stderr);

    // A placeholder percent-encoded into a query to another provider is blocked too.
    add_provider(&u, "other", &echo, Some("/other"));
    u.run_stdin(&["login", "other", "--stdin"], "other-key")
        .ok();
    let r = run_sh(
        &u,
        &echo,
        &[],
        &format!(
            "k=$(printf %s \"$ECHO_API_KEY\" | sed 's/^a/%61/'); curl -s -w ' %{{http_code}}' \"{url}/other/y?k=$k\""
        ),
    )
    .ok();
    assert!(r.stdout.ends_with(" 403"), "{}", r.stdout);
    assert!(echo.seen("/other/y").is_empty());
}

#[test]
fn verbose_output_shows_routing_decisions_and_never_the_credential() {
    let (u, echo) = setup("127.0.0.2");
    let url = &echo.url;
    let mut c = u.command();
    c.args(["-vv", "run", "--upstream-ca"]).arg(&echo.ca).args([
        "--",
        "sh",
        "-c",
        &format!("curl -sS -o /dev/null '{url}/v1/models?q=1' && curl -sS -o /dev/null https://127.0.0.3:1/ 2>/dev/null; true"),
    ]);
    let r = finish(c, None).ok();
    assert_eq!(echo.auth("/v1/models?q=1"), format!("Bearer {KEY}"));
    let host = url
        .trim_start_matches("https://")
        .split(':')
        .next()
        .unwrap();
    assert!(
        r.stderr.contains(&format!("host={host}")) && r.stderr.contains("provider=echo"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("path=/v1/models"), "{}", r.stderr);
    assert!(r.stderr.contains("tunnelled untouched"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("q=1"),
        "the query is not logged: {}",
        r.stderr
    );
    assert!(!r.stderr.contains(KEY), "{}", r.stderr);
}

/// `login github --with-token`: a personal access token for an OAuth2 provider is checked
/// against the declared pattern, stored as the connection's access token, injected by the proxy
/// as an access token is, and read back by `get --field token` and `export`; the child sees only
/// a placeholder.
#[test]
fn a_personal_token_for_an_oauth_provider_goes_out_like_an_access_token() {
    let u = User::initialized();
    let ca = TestCa::new(&u.home().join("upstream"), &["127.0.0.2"]);
    let echo = Echo::start(&ca, "127.0.0.2");
    let (host, port) = echo
        .url
        .trim_start_matches("https://")
        .split_once(':')
        .unwrap();
    // GitHub's definition, its API host pointed at the local upstream.
    let bundled = u.run(&["provider", "show", "github"]).ok().stdout;
    let local = bundled
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace(
            "- host: api.github.com",
            &format!("- host: '{host}'\n  port: {port}"),
        );
    assert!(local.contains("personal_token:"), "{local}");
    let path = u.home().join("github.yaml");
    std::fs::write(&path, local).unwrap();
    u.run(&["provider", "add", path.to_str().unwrap(), "--force"])
        .ok();

    u.run_stdin(
        &["login", "github", "-c", "bad", "--with-token"],
        "not-a-pat",
    )
    .fails(
        ErrorKind::Usage,
        "does not look like a GitHub personal access token (Starts with ghp_",
    );
    let pat = format!("ghp_{}", "A1b2C3d4E5".repeat(4));
    let r = u.run_stdin(&["login", "github", "--with-token"], &pat).ok();
    assert!(r.stdout.contains("Logged in to GitHub"), "{}", r.stdout);
    assert!(!r.stdout.contains(&pat) && !r.stderr.contains(&pat));
    let got: serde_json::Value =
        serde_json::from_str(&u.run(&["get", "github", "--json"]).ok().stdout).unwrap();
    assert_eq!(got["auth_type"], "personal_token");
    assert_eq!(got["expires_at"], serde_json::Value::Null);
    assert_eq!(
        u.run(&["get", "github", "--field", "token", "--show-secret"])
            .ok()
            .stdout
            .trim(),
        pat
    );
    assert!(
        u.run(&["export", "github"])
            .ok()
            .stdout
            .contains(&format!("GITHUB_TOKEN={pat}"))
    );
    let r = run_sh(
        &u,
        &echo,
        &[],
        &format!(
            "printf '%s\\n' \"$GITHUB_TOKEN\"; curl -sS {}/user",
            echo.url
        ),
    )
    .ok();
    assert_eq!(echo.auth("/user"), format!("Bearer {pat}"));
    assert!(
        !r.stdout.contains(&pat),
        "the child saw the token: {}",
        r.stdout
    );
    assert!(
        r.stdout.starts_with("authsome-placeholder-github-"),
        "{}",
        r.stdout
    );
    // An API-key provider takes no --with-token.
    u.run_stdin(&["login", "openai", "--with-token"], "sk-1")
        .fails(ErrorKind::Usage, "takes an API key, not a token");

    // Linear's personal keys go without `Bearer`, as its definition says.
    let linear = u.run(&["provider", "show", "linear"]).ok().stdout;
    assert!(linear.contains("header_prefix: \"\""), "{linear}");
    let local = linear
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace(
            "- host: api.linear.app",
            &format!("- host: '{host}'\n  port: {port}\n  path_prefix: /linear"),
        );
    let path = u.home().join("linear.yaml");
    std::fs::write(&path, local).unwrap();
    u.run(&["provider", "add", path.to_str().unwrap(), "--force"])
        .ok();
    let key = format!("lin_api_{}", "Z9y8X7w6V5".repeat(4));
    u.run_stdin(&["login", "linear", "--with-token"], &key).ok();
    run_sh(
        &u,
        &echo,
        &[],
        &format!("curl -sS {}/linear/graphql", echo.url),
    )
    .ok();
    assert_eq!(echo.auth("/linear/graphql"), key);
}

#[test]
fn grpc_calls_of_every_kind_get_the_credential_and_keep_their_trailers() {
    let u = User::initialized();
    let ca = TestCa::new(&u.home().join("upstream"), &["127.0.0.2"]);
    let log = u.home().join("grpc.jsonl");
    let server = crate::common::servers::NodeServer::start_args(
        "grpc.mjs",
        &[
            "server",
            &format!("--cert={}", ca.cert.display()),
            &format!("--key={}", ca.key.display()),
            &format!("--log={}", log.display()),
        ],
    );
    let port = server.issuer.rsplit(':').next().unwrap().to_owned();
    let def = u.home().join("grpc.yaml");
    std::fs::write(
        &def,
        format!(
            "schema_version: 1\nname: grpc\ndisplay_name: gRPC\nauth_type: api_key\nflow: api_key\nhosts:\n  - host: '127.0.0.2'\n    port: {port}\napi_key:\n  header_name: Authorization\n  header_prefix: Bearer\nenv:\n  GRPC_API_KEY: api_key\n"
        ),
    )
    .unwrap();
    u.run(&["provider", "add", def.to_str().unwrap()]).ok();
    u.run_stdin(&["login", "grpc", "--stdin"], KEY).ok();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/grpc.mjs");
    let mut c = u.command();
    c.arg("run").arg("--upstream-ca").arg(&ca.ca).arg("--");
    c.arg("node")
        .arg(&script)
        .args(["client", &format!("--target=127.0.0.2:{port}")]);
    let r = finish(c, None).ok();
    assert!(
        !r.stdout.contains(KEY),
        "the child saw the key: {}",
        r.stdout
    );
    let out: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    // What the server echoed came back with the placeholder in place of the key, inside
    // messages whose framing still holds.
    let placeholder = out["env"]["GRPC_API_KEY"].as_str().unwrap().to_owned();
    assert!(placeholder.starts_with("authsome-placeholder-grpc-"));
    let echoed = format!("Bearer {placeholder}");
    assert_eq!(out["unary"]["text"], "one");
    assert_eq!(out["unary"]["authorization"], echoed.as_str());
    // Server streaming: every message, then the trailers (status and the server's own).
    let messages = out["stream"]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{out}");
    for (n, m) in messages.iter().enumerate() {
        assert_eq!(m["n"], n);
        assert_eq!(m["authorization"], echoed.as_str());
    }
    assert_eq!(out["stream"]["trailers"]["code"], 0);
    assert_eq!(out["stream"]["trailers"]["done"], "yes");
    // Bidirectional: each message went out only after the answer to the one before.
    let chat: Vec<&str> = out["chat"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(chat, ["a", "b", "c"]);
    // An error status arrives in the trailers, as sent.
    assert_eq!(out["fail"]["code"], 5);
    assert_eq!(out["fail"]["details"], "no such thing");
    // The server got the key itself on every call.
    let seen: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let methods: std::collections::BTreeSet<&str> =
        seen.iter().map(|s| s["method"].as_str().unwrap()).collect();
    assert_eq!(methods.len(), 4, "{seen:?}");
    assert!(
        seen.iter()
            .all(|s| s["authorization"] == format!("Bearer {KEY}").as_str()),
        "{seen:?}"
    );
    drop(server);
}

#[test]
fn the_audit_log_has_every_request_of_a_burst_once_the_run_ends() {
    let (u, echo) = setup("127.0.0.2");
    let url = &echo.url;
    // 300 requests, 16 at a time (streams of one HTTP/2 connection), the last ones just before
    // the child exits: entries are written in batches, here to a disk made slow (each batch
    // waits 50 ms), so much is still queued when the child exits, and the run writes it.
    let mut c = u.command();
    c.env("AUTHSOME_AUDIT_DELAY_MS", "50");
    c.arg("run").arg("--upstream-ca").arg(&echo.ca).args([
        "--",
        "sh",
        "-c",
        &format!("curl -sS --parallel --parallel-max 16 '{url}/burst/[1-300]' > /dev/null"),
    ]);
    finish(c, None).ok();
    let audit = audit_log(&u, &[]);
    let burst: std::collections::BTreeSet<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "injected" && e["status"] == 200)
        .filter_map(|e| e["path"].as_str())
        .filter(|p| p.starts_with("/burst/"))
        .collect();
    assert_eq!(burst.len(), 300, "entries of the burst in the audit log");
    assert_eq!(echo.seen("/burst/300").len(), 1);
}
