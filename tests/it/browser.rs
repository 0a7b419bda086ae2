//! The pages authsome serves, in a real browser: Debian's chromium, headless, driven by
//! playwright-core (`tests/servers/browser.mjs`), as a person at the login form would use it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::User;

/// Runs a browser scenario (`{"steps": [...]}`) and returns the driver's JSON report.
pub fn browse(steps: serde_json::Value) -> serde_json::Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers");
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing; run scripts/test (it runs npm ci)"
    );
    let mut child = Command::new("node")
        .arg(dir.join("browser.mjs"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let scenario = serde_json::json!({ "steps": steps }).to_string();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scenario.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the browser driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Starts `authsome ARGS` with a `$BROWSER` that opens nothing, and returns it with the URL it
/// printed for the page.
fn start_login(u: &User, args: &[&str]) -> (std::process::Child, String, Vec<String>) {
    let mut c = u.command();
    c.env("BROWSER", "true")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let url = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("login printed no URL: {seen:?}"))
            .unwrap();
        if let Some(at) = line.find("http://127.0.0.1:") {
            break line[at..].trim().to_owned();
        }
        seen.push(line);
    };
    // The rest of stderr is drained so the login never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url, seen)
}

#[test]
fn the_key_form_works_in_a_real_browser() {
    let u = User::initialized();
    let (login, url, _) = start_login(&u, &["login", "openai", "-c", "web"]);
    let key = "sk-from-chromium-0123456789";
    let report = browse(serde_json::json!([
        {"goto": url},
        // An empty submit is stopped by the browser: the field is required.
        {"click": "button[type=submit]"},
        {"fill": "input[name=api_key]", "value": "not-a-key"},
        {"click": "button[type=submit]"},
        {"fill": "input[name=api_key]", "value": key},
        {"click": "button[type=submit]"},
        // A reload after the submission: the page says the link is closed.
        {"goto": url},
    ]));
    let out = login.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", report["errors"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Logged in to OpenAI as connection web"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(report["errors"], serde_json::json!([]));
    let shots = report["snapshots"].as_array().unwrap();
    assert_eq!(shots.len(), 5);
    let text = |i: usize| shots[i]["text"].as_str().unwrap().to_owned();

    // The form: heading, connection, hint, docs link, a masked input no manager saves.
    let form = &shots[0];
    assert_eq!(form["status"], 200);
    assert_eq!(form["title"], "authsome: OpenAI");
    assert!(
        text(0).contains("Paste an OpenAI API key for the connection \u{201c}web\u{201d}"),
        "{}",
        text(0)
    );
    assert!(text(0).contains("Starts with sk-"), "{}", text(0));
    assert!(
        text(0).contains("goes wherever the store is pushed"),
        "{}",
        text(0)
    );
    let link = &form["links"][0];
    assert_eq!(
        link["href"], "https://platform.openai.com/api-keys",
        "{form}"
    );
    let input = &form["inputs"][0];
    assert_eq!(input["type"], "password", "{input}");
    assert_eq!(input["autocomplete"], "off", "{input}");
    assert_eq!(input["required"], true, "{input}");

    // The empty submit went nowhere: still the form, no error from the server.
    assert_eq!(shots[1]["url"], form["url"]);
    assert!(text(1).contains("Paste an OpenAI API key"), "{}", text(1));
    assert!(!text(1).contains("does not look like"), "{}", text(1));
    // A key failing the pattern: the reason, and the form again.
    assert!(
        text(2).contains("does not look like an OpenAI key"),
        "{}",
        text(2)
    );
    assert!(
        !text(2).contains("not-a-key"),
        "the page echoed the bad key: {}",
        text(2)
    );
    assert_eq!(shots[2]["inputs"][0]["name"], "api_key");
    // The success page names the provider, the connection and the store.
    assert!(text(3).contains("Saved"), "{}", text(3));
    assert!(
        text(3).contains("Your OpenAI API key is saved as the connection \u{201c}web\u{201d}"),
        "{}",
        text(3)
    );
    assert!(text(3).contains("Return to your terminal"), "{}", text(3));
    assert!(!shots[3]["html"].as_str().unwrap().contains(key));
    // Afterwards: the closed page, not the browser's own error.
    assert!(text(4).contains("This link is closed"), "{}", text(4));

    assert_eq!(u.api_key("openai", "web"), key);
}

/// The OAuth consent of a real server (panva's oidc-provider, consent required), in the real
/// browser: its login page, its consent page, then authsome's callback page.
#[test]
fn an_oauth_login_and_consent_in_a_real_browser() {
    let oidc = crate::common::servers::NodeServer::start_args("oidc.mjs", &["--consent"]);
    let u = User::initialized();
    crate::oauth::oidc_provider(&u, &oidc, "pkce");
    let (login, url, _) = start_login(
        &u,
        &["login", "oidc", "--client-id", "authsome-device", "--json"],
    );
    let report = browse(serde_json::json!([
        {"goto": url},
        {"fill": "input[name=login]", "value": "carol"},
        {"fill": "input[name=password]", "value": "any"},
        {"click": "button[type=submit]"},
        {"click": "button[type=submit]"},
    ]));
    let out = login.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", report["errors"]);
    assert_eq!(report["errors"], serde_json::json!([]));
    let shots = report["snapshots"].as_array().unwrap();
    let text = |i: usize| shots[i]["text"].as_str().unwrap().to_owned();
    assert!(text(0).contains("Sign-in"), "{}", text(0));
    assert!(
        text(1).contains("Authorize"),
        "the consent page: {}",
        text(1)
    );
    let done = shots.last().unwrap();
    assert!(
        done["url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:"),
        "{}",
        done["url"]
    );
    assert!(
        done["text"].as_str().unwrap().contains("Authorized")
            && done["text"]
                .as_str()
                .unwrap()
                .contains("Return to your terminal"),
        "{}",
        done["text"]
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "success");
    assert_eq!(v["account"], "carol");
}
