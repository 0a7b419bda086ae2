//! OAuth2 logins end to end through the binary, against real servers from npm
//! (`oauth2-mock-server`, panva's `oidc-provider`) started on loopback, with a scripted browser.
//! A scripted stub stands in only for the errors a real server will not produce on demand.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::servers::{Answer, NodeServer, Stub};
use crate::common::{Run, User, finish, tool};
use authsome::error::ErrorKind;

fn browser() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/servers/browser.sh")
}

/// Adds a custom OAuth2 provider `name` whose endpoints live on a local server.
fn add_provider(u: &User, name: &str, flow: &str, oauth2: &str) {
    let path = u.home().join(format!("{name}.yaml"));
    std::fs::write(
        &path,
        format!(
            "schema_version: 1\nname: {name}\ndisplay_name: Test {name}\nauth_type: oauth2\nflow: {flow}\nhosts:\n  - host: api.{name}.test\noauth2:\n{oauth2}env:\n  {}_TOKEN: access_token\n",
            name.to_uppercase()
        ),
    )
    .unwrap();
    u.run(&["provider", "add", path.to_str().unwrap()]).ok();
}

fn mock_provider(u: &User, mock: &NodeServer) {
    let i = &mock.issuer;
    add_provider(
        u,
        "mock",
        "pkce",
        &format!(
            "  authorization_url: '{{base_url}}/authorize'\n  token_url: '{{base_url}}/token'\n  revocation_url: '{{base_url}}/revoke'\n  userinfo_url: {i}/userinfo\n  base_url: {i}\n  scopes: [read, write]\n"
        ),
    );
}

pub(crate) fn oidc_provider(u: &User, oidc: &NodeServer, flow: &str) {
    let i = &oidc.issuer;
    add_provider(
        u,
        "oidc",
        flow,
        &format!(
            "  authorization_url: {i}/auth\n  token_url: {i}/token\n  revocation_url: {i}/token/revocation\n  device_authorization_url: {i}/device/auth\n  userinfo_url: {i}/me\n  scopes: [openid, read]\n  supports_device_code: true\n  token_auth_method: none\n"
        ),
    );
}

/// Runs authsome with the scripted browser.
fn with_browser(u: &User, args: &[&str], stdin: Option<&str>, log: Option<&PathBuf>) -> Run {
    let mut c = u.command();
    c.env("BROWSER", browser()).args(args);
    if let Some(l) = log {
        c.env("BROWSER_LOG", l);
    }
    finish(c, stdin)
}

/// Decrypts a secret file of the store with the age CLI.
fn age_decrypt(u: &User, rel: &str) -> String {
    let plain = tool(
        "age",
        &[
            "-d",
            "-i",
            u.identity().to_str().unwrap(),
            u.store().join(rel).to_str().unwrap(),
        ],
        None,
    );
    let text = String::from_utf8(plain).unwrap();
    text.split_once("\n\n").unwrap().1.to_owned()
}

fn sha256_hex(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn show(u: &User, args: &[&str]) -> String {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.push("--show-secret");
    u.run(&all).ok().stdout.trim().to_owned()
}

#[test]
fn pkce_login_stores_tokens_client_and_account() {
    let mock = NodeServer::start("mock.mjs", &[]);
    let u = User::initialized();
    mock_provider(&u, &mock);
    let r = with_browser(
        &u,
        &[
            "login",
            "mock",
            "--client-id",
            "app-1",
            "--client-secret-stdin",
            "--base-url",
            &mock.issuer,
        ],
        Some("client-s3cret"),
        None,
    )
    .ok();
    assert!(
        r.stdout
            .contains("Logged in to Test mock as johndoe, connection default (used when no connection is named)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains(&format!("{}/authorize?", mock.issuer)),
        "the URL is printed: {}",
        r.stderr
    );

    let get: serde_json::Value =
        serde_json::from_str(&u.run(&["get", "mock", "--json"]).ok().stdout).unwrap();
    assert_eq!(get["auth_type"], "oauth2");
    assert_eq!(get["scopes"], serde_json::json!(["read", "write"]));
    assert_eq!(get["account"]["id"], "johndoe");
    assert_eq!(get["access_token"], "***REDACTED***");
    assert!(get["expires_at"].as_str().unwrap().starts_with("20"));

    // The tokens went through the real PKCE check; the stored ones are what the server issued.
    let token_calls = mock
        .requests()
        .into_iter()
        .filter(|r| r["path"] == "/token")
        .collect::<Vec<_>>();
    assert_eq!(token_calls.len(), 1);
    assert_eq!(token_calls[0]["params"]["grant_type"], "authorization_code");
    assert!(token_calls[0]["sha256"]["code_verifier"].is_string());
    let access = age_decrypt(&u, "vaults/default/mock/default/access_token.age");
    assert_eq!(show(&u, &["mock", "--field", "access_token"]), access);
    assert_eq!(
        age_decrypt(&u, "vaults/default/mock/client_secret.age"),
        "client-s3cret"
    );
    let state =
        std::fs::read_to_string(u.store().join("vaults/default/mock/provider.yaml")).unwrap();
    assert!(
        state.contains("client_id: app-1") && state.contains(&format!("base_url: {}", mock.issuer)),
        "{state}"
    );
    assert_eq!(u.log()[0], "login mock/default");
    u.assert_git_clean();

    // The client is configured once: a second connection reuses it, with its own scopes.
    with_browser(
        &u,
        &["login", "mock", "--connection", "work", "--scopes", "read"],
        None,
        None,
    )
    .ok();
    let work: serde_json::Value =
        serde_json::from_str(&u.run(&["get", "mock", "-c", "work", "--json"]).ok().stdout).unwrap();
    assert_eq!(work["scopes"], serde_json::json!(["read"]));
    assert_ne!(
        show(&u, &["mock", "-c", "work", "--field", "access_token"]),
        access
    );
    let calls: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r["path"] == "/token")
        .collect();
    assert_eq!(calls[1]["params"]["client_id"], "app-1");
    assert_eq!(
        calls[1]["sha256"]["client_secret"],
        sha256_hex("client-s3cret"),
        "the stored client secret was used"
    );
}

#[test]
fn a_callback_with_the_wrong_state_is_refused() {
    let mock = NodeServer::start("mock.mjs", &[]);
    let u = User::initialized();
    mock_provider(&u, &mock);
    let script = u.home().join("forger.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nredirect=$(printf '%s' \"$1\" | sed -n 's/.*redirect_uri=\\([^&]*\\).*/\\1/p' | sed 's/%3A/:/g; s/%2F/\\//g')\ncurl -s -o /dev/null \"$redirect?code=forged&state=not-the-one\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let head = u.git(&["rev-parse", "HEAD"]);
    let mut c = u.command();
    c.env("BROWSER", &script)
        .args(["login", "mock", "--client-id", "app-1"]);
    finish(c, None).fails(ErrorKind::AuthFailed, "wrong state");
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head, "nothing was saved");
    assert!(
        mock.requests().iter().all(|r| r["path"] != "/token"),
        "the forged code was never exchanged"
    );
}

#[test]
fn refresh_without_rotation_caches_outside_git() {
    let mock = NodeServer::start_args(
        "mock.mjs",
        &[
            "--expires-in=60",
            "--refresh-expires-in=3600",
            "--no-rotate",
        ],
    );
    let u = User::initialized();
    mock_provider(&u, &mock);
    with_browser(&u, &["login", "mock", "--client-id", "app-1"], None, None).ok();
    let committed = age_decrypt(&u, "vaults/default/mock/default/access_token.age");
    let commits = u.log().len();

    // 60 s left is inside the 5-minute window: the read refreshes first.
    let tokens = |m: &NodeServer| {
        m.requests()
            .iter()
            .filter(|r| r["params"]["grant_type"] == "refresh_token")
            .count()
    };
    assert_eq!(tokens(&mock), 0);
    // With debug output: the token endpoint and its status, never a token.
    let r = u
        .run(&[
            "-vv",
            "get",
            "mock",
            "--field",
            "access_token",
            "--show-secret",
        ])
        .ok();
    let first = r.stdout.trim().to_owned();
    assert!(
        r.stderr.contains("endpoint=http://") && r.stderr.contains("status=200"),
        "{}",
        r.stderr
    );
    let refresh = age_decrypt(&u, "vaults/default/mock/default/refresh_token.age");
    for secret in [&first, &committed, &refresh] {
        assert!(!r.stderr.contains(secret.as_str()), "{}", r.stderr);
    }
    assert_eq!(tokens(&mock), 1, "the read refreshed the token");
    assert!(first.starts_with("ey") && !committed.is_empty());
    assert_eq!(
        u.log().len(),
        commits,
        "a refresh without rotation makes no commit"
    );

    // The next read uses the cached token without asking the server again.
    assert_eq!(show(&u, &["mock", "--field", "access_token"]), first);
    let exported = u.run(&["export", "mock"]).ok().stdout;
    assert_eq!(exported, format!("MOCK_TOKEN={first}\n"));
    assert_eq!(tokens(&mock), 1);

    let cache = u.home().join(".cache/authsome/tokens");
    let files: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    assert!(raw.starts_with("-----BEGIN AGE ENCRYPTED FILE-----") && !raw.contains(&first));
    u.assert_git_clean();
}

#[test]
fn a_rotated_refresh_token_is_committed_and_the_next_refresh_uses_it() {
    let oidc = NodeServer::start("oidc.mjs", &[]);
    let u = User::initialized();
    oidc_provider(&u, &oidc, "device_code");
    let log = u.home().join("browser.log");
    let r = with_browser(
        &u,
        &["login", "oidc", "--client-id", "authsome-device"],
        None,
        Some(&log),
    )
    .ok();
    assert!(r.stdout.contains("as octocat"), "{}", r.stdout);
    assert!(r.stderr.contains("enter the code"), "{}", r.stderr);
    let steps = std::fs::read_to_string(&log).unwrap();
    assert!(
        steps.contains("log in as octocat") && steps.contains("device approved"),
        "{steps}"
    );

    let rt1 = age_decrypt(&u, "vaults/default/oidc/default/refresh_token.age");
    let at1 = age_decrypt(&u, "vaults/default/oidc/default/access_token.age");
    // A window longer than the token's life forces a refresh on every read.
    let mut c = u.command();
    c.env("AUTHSOME_REFRESH_WINDOW", "100000").args([
        "get",
        "oidc",
        "--field",
        "access_token",
        "--show-secret",
    ]);
    let at2 = finish(c, None).ok().stdout.trim().to_owned();
    assert_ne!(at2, at1);
    assert_eq!(
        u.log()[0],
        "refresh oidc/default",
        "the rotated refresh token is state, so it is committed"
    );
    let rt2 = age_decrypt(&u, "vaults/default/oidc/default/refresh_token.age");
    assert_ne!(rt2, rt1);
    // oidc-provider revokes the whole grant if a spent refresh token is reused, so a second
    // refresh only works if the committed token is the live one.
    let mut c = u.command();
    c.env("AUTHSOME_REFRESH_WINDOW", "100000")
        .args(["export", "oidc"]);
    let exported = finish(c, None).ok().stdout;
    assert!(exported.starts_with("OIDC_TOKEN=") && !exported.contains(&at2));
    assert_eq!(u.log()[0], "refresh oidc/default");
    u.assert_git_clean();
}

#[test]
fn pkce_through_oidc_providers_login_page() {
    let oidc = NodeServer::start("oidc.mjs", &[]);
    let u = User::initialized();
    oidc_provider(&u, &oidc, "pkce");
    let mut c = u.command();
    c.env("BROWSER", browser())
        .env("BROWSER_LOGIN", "alice")
        .args(["login", "oidc", "--client-id", "authsome-device", "--json"]);
    let r = finish(c, None).ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["status"], "success");
    assert_eq!(v["account"], "alice");
    assert_eq!(v["scopes"], serde_json::json!(["openid", "read"]));
    assert!(
        u.store()
            .join("vaults/default/oidc/default/refresh_token.age")
            .exists()
    );
    assert!(
        !u.store()
            .join("vaults/default/oidc/client_secret.age")
            .exists(),
        "a public client has no secret"
    );
}

#[test]
fn client_credentials_logs_in_without_a_user() {
    let mock = NodeServer::start("mock.mjs", &[]);
    let u = User::initialized();
    mock_provider(&u, &mock);
    let r = u
        .run_stdin(
            &[
                "login",
                "mock",
                "--flow",
                "client_credentials",
                "--client-id",
                "svc",
                "--client-secret-stdin",
                "--base-url",
                &mock.issuer,
            ],
            "svc-secret",
        )
        .ok();
    assert!(r.stdout.contains("Logged in to Test mock"), "{}", r.stdout);
    assert!(
        !u.store()
            .join("vaults/default/mock/default/refresh_token.age")
            .exists()
    );
    let call = mock
        .requests()
        .into_iter()
        .find(|r| r["path"] == "/token")
        .unwrap();
    assert_eq!(call["params"]["grant_type"], "client_credentials");
    assert_eq!(call["params"]["client_id"], "svc");
    assert_eq!(call["sha256"]["client_secret"], sha256_hex("svc-secret"));
}

#[test]
fn logout_is_local_and_revoke_calls_the_provider() {
    let mock = NodeServer::start("mock.mjs", &[]);
    let u = User::initialized();
    mock_provider(&u, &mock);
    with_browser(
        &u,
        &[
            "login",
            "mock",
            "--client-id",
            "app-1",
            "--client-secret-stdin",
            "--base-url",
            &mock.issuer,
        ],
        Some("s"),
        None,
    )
    .ok();
    for c in ["work", "ci"] {
        with_browser(&u, &["login", "mock", "--connection", c], None, None).ok();
    }
    let before = mock.requests().len();
    u.run(&["logout", "mock", "--connection", "ci"]).ok();
    assert_eq!(
        mock.requests().len(),
        before,
        "logout sends nothing to the provider"
    );

    // One connection: its tokens are revoked; the client and the other connection stay.
    let rt = age_decrypt(&u, "vaults/default/mock/work/refresh_token.age");
    let at = age_decrypt(&u, "vaults/default/mock/work/access_token.age");
    let r = u.run(&["revoke", "mock", "--connection", "work"]).ok();
    assert!(r.stdout.contains("2 tokens were revoked"), "{}", r.stdout);
    let revoked: Vec<String> = mock
        .requests()
        .into_iter()
        .filter(|r| r["path"] == "/revoke")
        .map(|r| r["sha256"]["token"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(revoked, [sha256_hex(&rt), sha256_hex(&at)]);
    assert_eq!(u.log()[0], "revoke mock/work");
    assert!(!u.store().join("vaults/default/mock/work").exists());
    assert!(u.store().join("vaults/default/mock/default").exists());
    assert!(
        u.store()
            .join("vaults/default/mock/client_secret.age")
            .exists()
    );

    // The whole provider: every connection and the client secret go, in one commit.
    u.run(&["revoke", "mock"]).ok();
    assert_eq!(u.log()[0], "revoke mock");
    assert!(!u.store().join("vaults/default/mock").exists());
    assert_eq!(
        mock.requests()
            .iter()
            .filter(|r| r["path"] == "/revoke")
            .count(),
        4
    );
    u.assert_git_clean();
}

#[test]
fn refresh_failures_fall_back_or_mark_the_connection() {
    // Tokens that are already expired when issued, and a refresh token the server then revokes.
    let mock = NodeServer::start_args("mock.mjs", &["--expires-in=-10"]);
    let u = User::initialized();
    mock_provider(&u, &mock);
    with_browser(
        &u,
        &[
            "login",
            "mock",
            "--client-id",
            "app-1",
            "--base-url",
            &mock.issuer,
        ],
        None,
        None,
    )
    .ok();
    let rt = age_decrypt(&u, "vaults/default/mock/default/refresh_token.age");
    tool(
        "curl",
        &[
            "-s",
            "-d",
            &format!("token={rt}"),
            &format!("{}/revoke", mock.issuer),
        ],
        None,
    );
    let r = u.run(&["get", "mock", "--field", "access_token", "--show-secret"]);
    r.fails(
        ErrorKind::CredentialMissing,
        "expired and could not be refreshed (invalid_grant",
    );
    assert_eq!(u.log()[0], "status mock/default: refresh_failed");
    assert_eq!(
        u.run(&["get", "mock", "--field", "status"]).ok().stdout,
        "refresh_failed\n"
    );
}

#[test]
fn a_failed_refresh_with_a_valid_token_warns_and_uses_it() {
    let mock = NodeServer::start("mock.mjs", &[]);
    let u = User::initialized();
    mock_provider(&u, &mock);
    with_browser(
        &u,
        &[
            "login",
            "mock",
            "--client-id",
            "app-1",
            "--base-url",
            &mock.issuer,
        ],
        None,
        None,
    )
    .ok();
    let rt = age_decrypt(&u, "vaults/default/mock/default/refresh_token.age");
    let at = age_decrypt(&u, "vaults/default/mock/default/access_token.age");
    tool(
        "curl",
        &[
            "-s",
            "-d",
            &format!("token={rt}"),
            &format!("{}/revoke", mock.issuer),
        ],
        None,
    );
    let mut c = u.command();
    c.env("AUTHSOME_REFRESH_WINDOW", "100000").args([
        "get",
        "mock",
        "--field",
        "access_token",
        "--show-secret",
    ]);
    let r = finish(c, None).ok();
    assert_eq!(r.stdout.trim(), at);
    assert!(
        r.stderr
            .contains("could not refresh mock/default (invalid_grant"),
        "{}",
        r.stderr
    );
}

/// A provider whose endpoints are a scripted stub.
fn stub_provider(u: &User, stub: &Stub) {
    let s = &stub.url;
    add_provider(
        u,
        "stub",
        "device_code",
        &format!(
            "  authorization_url: {s}/authorize\n  token_url: {s}/token\n  device_authorization_url: {s}/device\n  scopes: [repo]\n  supports_device_code: true\n"
        ),
    );
}

fn device_answer() -> Answer {
    Answer::Json(200, r#"{"device_code":"dc","user_code":"ABCD-1234","verification_uri":"https://example.test/device","interval":1,"expires_in":60}"#.into())
}

#[test]
fn device_flow_errors_from_the_server() {
    for (answer, kind, needle) in [
        (
            Answer::Json(400, r#"{"error":"access_denied"}"#.into()),
            ErrorKind::AuthFailed,
            "denied",
        ),
        (
            Answer::Json(400, r#"{"error":"expired_token"}"#.into()),
            ErrorKind::AuthFailed,
            "expired before it was approved",
        ),
        (
            Answer::Json(500, "oops".into()),
            ErrorKind::Endpoint,
            "answered 500",
        ),
        (Answer::Drop, ErrorKind::Endpoint, "check your network"),
    ] {
        let stub = Stub::start(vec![
            ("/device", vec![device_answer()]),
            ("/token", vec![answer]),
        ]);
        let u = User::initialized();
        stub_provider(&u, &stub);
        let head = u.git(&["rev-parse", "HEAD"]);
        u.run(&["login", "stub", "--client-id", "x", "--no-browser"])
            .fails(kind, needle);
        assert_eq!(u.git(&["rev-parse", "HEAD"]), head);
    }
}

#[test]
fn device_polling_honours_pending_with_status_200_and_slow_down() {
    let pending_200 = Answer::Json(200, r#"{"error":"authorization_pending"}"#.into());
    let slow = Answer::Json(400, r#"{"error":"slow_down"}"#.into());
    let ok = Answer::Json(
        200,
        r#"{"access_token":"gho_x","token_type":"bearer","scope":"repo"}"#.into(),
    );
    let stub = Stub::start(vec![
        ("/device", vec![device_answer()]),
        ("/token", vec![pending_200, slow, ok]),
    ]);
    let u = User::initialized();
    stub_provider(&u, &stub);
    let start = Instant::now();
    u.run(&["login", "stub", "--client-id", "x", "--no-browser"])
        .ok();
    // 1 s, 1 s, then 1 + 5 s after slow_down.
    assert!(
        start.elapsed() >= Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(stub.count("/token"), 3);
    assert_eq!(show(&u, &["stub", "--field", "access_token"]), "gho_x");
}

#[test]
fn endpoints_must_be_https_unless_loopback() {
    let u = User::initialized();
    add_provider(
        &u,
        "plain",
        "pkce",
        "  authorization_url: http://example.com/authorize\n  token_url: http://example.com/token\n",
    );
    u.run(&["login", "plain", "--client-id", "x", "--no-browser"])
        .fails(ErrorKind::Usage, "is not HTTPS");
}

#[test]
fn dynamic_client_registration_then_pkce() {
    let oidc = NodeServer::start("oidc.mjs", &[]);
    let u = User::initialized();
    let i = &oidc.issuer;
    add_provider(
        &u,
        "dcr",
        "dcr_pkce",
        &format!(
            "  authorization_url: {i}/auth\n  token_url: {i}/token\n  registration_url: {i}/reg\n  userinfo_url: {i}/me\n  scopes: [openid]\n  supports_dcr: true\n  token_auth_method: none\n"
        ),
    );
    let r = with_browser(&u, &["login", "dcr"], None, None).ok();
    assert!(r.stdout.contains("as octocat"), "{}", r.stdout);
    let state =
        std::fs::read_to_string(u.store().join("vaults/default/dcr/provider.yaml")).unwrap();
    let client_id = state
        .lines()
        .find_map(|l| l.strip_prefix("client_id: "))
        .expect("the registered client is stored")
        .to_owned();
    // The next connection reuses the registered client instead of registering again.
    with_browser(&u, &["login", "dcr", "--connection", "second"], None, None).ok();
    let again =
        std::fs::read_to_string(u.store().join("vaults/default/dcr/provider.yaml")).unwrap();
    assert!(
        again.contains(&format!("client_id: {client_id}")),
        "{again}"
    );
}

#[test]
fn concurrent_reads_never_spend_a_rotating_refresh_token_twice() {
    let oidc = NodeServer::start("oidc.mjs", &[]);
    let u = User::initialized();
    oidc_provider(&u, &oidc, "device_code");
    with_browser(
        &u,
        &["login", "oidc", "--client-id", "authsome-device"],
        None,
        None,
    )
    .ok();
    // Every read refreshes; oidc-provider revokes the whole grant if a refresh token is reused,
    // so all four succeed only if the refreshes happen one after another, each with the token
    // the previous one committed.
    let children: Vec<_> = (0..4)
        .map(|_| {
            let mut c = u.command();
            c.env("AUTHSOME_REFRESH_WINDOW", "100000")
                .args(["get", "oidc", "--field", "access_token", "--show-secret"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        u.log()
            .iter()
            .filter(|m| *m == "refresh oidc/default")
            .count(),
        4
    );
    u.assert_git_clean();
}

#[test]
fn a_rejected_client_is_told_where_to_register_and_which_redirect_uri() {
    let stub = Stub::start(vec![(
        "/device",
        vec![Answer::Json(
            401,
            r#"{"error":"invalid_client","error_description":"unknown client"}"#.into(),
        )],
    )]);
    let u = User::initialized();
    stub_provider(&u, &stub);
    let r = u.run(&["login", "stub", "--client-id", "nope", "--no-browser"]);
    r.fails(
        ErrorKind::AuthFailed,
        "rejected the OAuth client (unknown client); register an OAuth app",
    );
    // Without a client and without a terminal to ask at, the message says how to give one.
    u.run(&["login", "stub", "--no-browser"])
        .fails(ErrorKind::Usage, "--client-id");
}

#[test]
fn a_rotated_refresh_token_that_cannot_be_committed_is_parked_not_lost() {
    let oidc = NodeServer::start("oidc.mjs", &[]);
    let u = User::initialized();
    oidc_provider(&u, &oidc, "device_code");
    with_browser(
        &u,
        &["login", "oidc", "--client-id", "authsome-device"],
        None,
        None,
    )
    .ok();
    let forced_get = || {
        let mut c = u.command();
        c.env("AUTHSOME_REFRESH_WINDOW", "100000").args([
            "get",
            "oidc",
            "--field",
            "access_token",
            "--show-secret",
        ]);
        finish(c, None)
    };
    // A hand edit in the way: the refresh works, but its commit is refused.
    let record = u
        .store()
        .join("vaults/default/oidc/default/refresh_token.age");
    let original = std::fs::read_to_string(&record).unwrap();
    std::fs::write(&record, format!("{original}# hand edit\n")).unwrap();
    let r = forced_get().ok();
    assert!(
        r.stderr.contains("could not commit the refreshed tokens"),
        "{}",
        r.stderr
    );
    let commits = u.log().len();
    std::fs::write(&record, original).unwrap();
    // oidc-provider revokes the whole grant if the spent token is reused: this only works if
    // the parked token is used, and then committed.
    forced_get().ok();
    assert_eq!(u.log().len(), commits + 1);
    assert_eq!(u.log()[0], "refresh oidc/default");
    forced_get().ok();
    u.assert_git_clean();
}

#[test]
fn a_refresh_refused_by_the_trust_gate_parks_its_token_until_authsome_refresh_commits_it() {
    let oidc = NodeServer::start("oidc.mjs", &[]);
    let u = User::initialized();
    oidc_provider(&u, &oidc, "device_code");
    with_browser(
        &u,
        &["login", "oidc", "--client-id", "authsome-device"],
        None,
        None,
    )
    .ok();
    u.login("openai", "default", "sk-1").ok();
    u.run(&["get", "oidc"]).ok(); // pinned at the newest seal
    let newest = u.git(&["rev-parse", "HEAD"]);
    // The store goes back one commit: reads may look with --allow-rollback, writes refuse.
    u.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let forced = |args: &[&str]| {
        let mut c = u.command();
        c.env("AUTHSOME_REFRESH_WINDOW", "100000").args(args);
        finish(c, None)
    };
    let head = u.git(&["rev-parse", "HEAD"]);
    let r = forced(&[
        "--allow-rollback",
        "get",
        "oidc",
        "--field",
        "access_token",
        "--show-secret",
    ])
    .ok();
    assert!(
        r.stderr.contains("could not commit the refreshed tokens")
            && r.stderr.contains("rolled back")
            && r.stderr.contains("authsome refresh oidc/default"),
        "{}",
        r.stderr
    );
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head, "no commit");
    let status: serde_json::Value =
        serde_json::from_str(&u.run(&["--json", "status"]).flags().stdout).unwrap();
    let kinds: Vec<(&str, &str)> = status["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap(), f["subject"].as_str().unwrap()))
        .collect();
    assert!(
        kinds.contains(&("parked_refresh", "oidc/default")),
        "{status}"
    );
    assert!(kinds.contains(&("trust", "store")), "{status}");
    // Refreshing by hand is a write: refused while the store is rolled back.
    forced(&["refresh", "oidc"]).fails(ErrorKind::Trust, "rolled back");
    // The newer state back: the parked token (the only live one, oidc-provider revokes a
    // grant whose spent token is reused) is used and committed.
    u.git(&["reset", "-q", "--hard", newest.trim()]);
    let done = forced(&["refresh", "oidc/default"]).ok();
    assert!(
        done.stdout.contains("was parked on this machine"),
        "{}",
        done.stdout
    );
    assert_eq!(u.log()[0], "refresh oidc/default");
    let status: serde_json::Value =
        serde_json::from_str(&u.run(&["--json", "status"]).ok().stdout).unwrap();
    assert_eq!(status["findings"], serde_json::json!([]), "{status}");
    forced(&["get", "oidc", "--field", "access_token", "--show-secret"]).ok();
    u.run(&["refresh", "openai"])
        .fails(ErrorKind::Usage, "nothing to refresh");
    u.assert_git_clean();
}

/// `login --no-wait --json` returns what a person must do before anyone has done it; the login
/// goes on in the background, and `login --status` follows it to `connected`.
#[test]
fn a_login_that_does_not_wait_completes_in_the_background() {
    let oidc = NodeServer::start("oidc.mjs", &[]);
    let u = User::initialized();
    oidc_provider(&u, &oidc, "device_code");
    let r = u
        .run(&[
            "login",
            "oidc",
            "--client-id",
            "authsome-device",
            "--no-wait",
            "--json",
        ])
        .ok();
    let pending: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let code = pending["user_code"].as_str().unwrap();
    assert!(!code.is_empty(), "{pending}");
    assert!(
        pending["verification_uri"]
            .as_str()
            .unwrap()
            .starts_with(&oidc.issuer),
        "{pending}"
    );
    assert!(pending["expires_at"].as_str().unwrap().ends_with('Z'));
    // Nothing is connected yet: the command returned before anyone approved.
    let status: serde_json::Value =
        serde_json::from_str(&u.run(&["login", "oidc", "--status", "--json"]).ok().stdout).unwrap();
    assert_eq!(status["status"], "pending", "{status}");
    assert!(u.run(&["get", "oidc"]).code != 0);

    // A person approves, in the scripted browser.
    let complete = pending["verification_uri_complete"].as_str().unwrap();
    let approved = std::process::Command::new(browser())
        .arg(complete)
        .status()
        .unwrap();
    assert!(approved.success());
    let status: serde_json::Value = serde_json::from_str(
        &u.run(&["login", "oidc", "--status", "--wait", "--json"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(status["status"], "connected", "{status}");
    u.run(&["get", "oidc"]).ok();
    assert_eq!(u.log()[0], "login oidc/default");
    u.assert_git_clean();
}
