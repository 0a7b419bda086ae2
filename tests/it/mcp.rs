//! `authsome mcp` driven by the official MCP TypeScript SDK (`@modelcontextprotocol/sdk`) as the
//! client: the tools are listed, no result holds a secret, `http_request` reaches the local
//! HTTPS upstream with the credential attached by the proxy (and the echo of it redacted), the
//! vault's policy refuses what it refuses, and every call is audited with the client's name.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use crate::proxy::{KEY, audit_log, setup};

/// Runs the SDK client against `authsome mcp` as `u`, with `calls`.
fn mcp(u: &crate::common::User, echo_ca: &Path, calls: serde_json::Value) -> serde_json::Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers");
    let mut c = u.command_of("node");
    c.arg(dir.join("mcp_client.mjs"))
        .arg(env!("CARGO_BIN_EXE_authsome"))
        .env("AUTHSOME_UPSTREAM_CA", echo_ca)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(calls.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the MCP client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn text(result: &serde_json::Value) -> String {
    result["content"][0]["text"].as_str().unwrap().to_owned()
}

#[test]
fn an_mcp_client_lists_connections_and_calls_apis_without_seeing_a_secret() {
    let (u, echo) = setup("127.0.0.2");
    u.run(&["policy", "allow", "echo", "GET /**"]).ok();
    let report = mcp(
        &u,
        &echo.ca,
        serde_json::json!([
            {"tool": "list_connections"},
            {"tool": "connection_status", "arguments": {"provider": "echo", "connection": "work"}},
            {"tool": "http_request", "arguments": {"method": "GET", "url": format!("{}/mcp/ok", echo.url)}},
            {"tool": "http_request", "arguments": {"method": "DELETE", "url": format!("{}/mcp/no", echo.url)}},
            {"tool": "http_request", "arguments": {"method": "GET", "url": "http://example.com/"}},
            {"tool": "audit_recent", "arguments": {"limit": 5}},
            {"tool": "start_login", "arguments": {"provider": "openai", "connection": "agent"}},
        ]),
    );
    assert_eq!(
        report["tools"],
        serde_json::json!([
            "audit_recent",
            "connection_status",
            "http_request",
            "list_connections",
            "start_login"
        ])
    );
    let results = report["results"].as_array().unwrap();
    let everything = report.to_string();
    assert!(
        !everything.contains(KEY),
        "a tool returned the secret: {everything}"
    );

    let listed: serde_json::Value = serde_json::from_str(&text(&results[0])).unwrap();
    let echo_conns = &listed["providers"][0]["connections"];
    assert_eq!(echo_conns[0]["name"], "personal");
    assert_eq!(echo_conns[1]["name"], "work");
    let status: serde_json::Value = serde_json::from_str(&text(&results[1])).unwrap();
    assert_eq!(status["connection"], "work");
    assert_eq!(status["status"], "connected");

    // Through the proxy: the upstream got the key, the tool's result only a placeholder.
    let ok: serde_json::Value = serde_json::from_str(&text(&results[2])).unwrap();
    assert_eq!(ok["status"], 200, "{ok}");
    assert_eq!(echo.auth("/mcp/ok"), format!("Bearer {KEY}"));
    assert!(ok["body"].as_str().unwrap().contains("/mcp/ok"));
    // The policy's refusal comes back as the proxy's answer; nothing reached the upstream.
    let no: serde_json::Value = serde_json::from_str(&text(&results[3])).unwrap();
    assert_eq!(no["status"], 403, "{no}");
    assert!(
        no["body"]
            .as_str()
            .unwrap()
            .contains("authsome's policy refused DELETE")
    );
    assert!(echo.seen("/mcp/no").is_empty());
    // Plain http is refused by the tool itself.
    assert_eq!(results[4]["isError"], true);
    assert!(text(&results[4]).contains("https only"));

    // Every call is audited, with the client's name.
    let log = audit_log(&u, &[]);
    let calls: Vec<_> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "mcp_call")
        .collect();
    assert_eq!(calls.len(), 7, "{log}");
    assert!(
        calls
            .iter()
            .all(|e| e["reason"] == "called by authsome-test-client 1.2.3")
    );
    assert!(calls.iter().any(|e| e["path"] == "/http_request"));

    // start_login returned at once with the page a person opens; the person submits the key
    // there, and the background login commits it.
    let pending: serde_json::Value = serde_json::from_str(&text(&results[6])).unwrap();
    let url = pending["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{pending}");
    let submitted = std::process::Command::new("curl")
        .args([
            "-sS",
            "--noproxy",
            "*",
            "--data-urlencode",
            "api_key=sk-from-a-person",
            url,
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&submitted.stdout).contains("Saved"));
    let status = u
        .run(&[
            "login", "openai", "-c", "agent", "--status", "--wait", "--json",
        ])
        .ok();
    assert!(status.stdout.contains("\"connected\""), "{}", status.stdout);
    u.run(&["get", "openai", "-c", "agent"]).ok();
}
