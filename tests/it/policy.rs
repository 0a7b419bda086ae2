//! Request policies kept in the store, enforced by the proxy against the local HTTPS upstream:
//! allow, deny beating allow, principals, per-run narrowing, rate limits, the audit of every
//! decision, `policy check`, the policy as a readable diff, and a broken policy refusing
//! rather than letting everything through.

use crate::common::finish;
use crate::proxy::{KEY, audit_log, run_sh, setup};
use authsome::error::ErrorKind;

/// `curl` through the proxy: the status code the child sees.
fn curl(method: &str, url: &str) -> String {
    format!("curl -s -o /dev/null -w '%{{http_code}}\\n' -X {method} '{url}'")
}

#[test]
fn the_committed_policy_decides_what_a_credential_may_do() {
    let (u, echo) = setup("127.0.0.2");
    let url = &echo.url;
    let r = u
        .run(&["policy", "allow", "echo", "GET /repos/acme/**"])
        .ok();
    assert!(
        r.stdout
            .contains("everyone may now GET /repos/acme/** on echo"),
        "{}",
        r.stdout
    );
    u.run(&["policy", "deny", "echo", "* /repos/acme/secret/**"])
        .ok();
    // A rule of its own (for one connection), with its own rate.
    u.run(&[
        "policy",
        "allow",
        "echo",
        "GET /limited",
        "-c",
        "personal",
        "--rate",
        "2/min",
    ])
    .ok();
    assert_eq!(
        u.log()[0],
        "policy default: everyone may now GET /limited on echo"
    );
    u.assert_git_clean();

    let r = run_sh(
        &u,
        &echo,
        &[],
        &[
            curl("GET", &format!("{url}/repos/acme/web")),
            curl("POST", &format!("{url}/repos/acme/web/issues")),
            curl("GET", &format!("{url}/repos/acme/secret/plans")),
            // The same path, written to slip past a naive match.
            curl("GET", &format!("{url}/repos//acme/./web/../%73ecret/plans")),
            curl("GET", &format!("{url}/limited")),
            curl("GET", &format!("{url}/limited")),
            curl("GET", &format!("{url}/limited")),
        ]
        .join("; "),
    )
    .ok();
    let codes: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        codes,
        ["200", "403", "403", "403", "200", "200", "429"],
        "{}",
        r.stderr
    );
    assert_eq!(echo.auth("/repos/acme/web"), format!("Bearer {KEY}"));
    // Refused requests never reached the upstream.
    assert!(echo.seen("/repos/acme/web/issues").is_empty());
    assert!(echo.seen("/repos/acme/secret/plans").is_empty());
    assert_eq!(echo.seen("/limited").len(), 2);

    // Every decision is in the audit log, with the rule.
    let log = audit_log(&u, &[]);
    let entries = log["entries"].as_array().unwrap();
    let allowed = entries
        .iter()
        .find(|e| e["path"] == "/repos/acme/web")
        .unwrap();
    assert_eq!(allowed["action"], "injected");
    assert_eq!(allowed["rule"], "rule 1: GET /repos/acme/**");
    let denied: Vec<_> = entries
        .iter()
        .filter(|e| e["action"] == "policy_denied")
        .collect();
    assert_eq!(denied.len(), 4, "{log}");
    assert!(
        denied.iter().any(|e| e["reason"]
            .as_str()
            .unwrap()
            .contains("rule 1 of vaults/default/policy.yaml denies * /repos/acme/secret/**")),
        "{log}"
    );
    assert!(denied.iter().any(|e| e["status"] == 429));

    // `policy check` says the same, with exit 0 or 1.
    let r = u
        .run(&["policy", "check", "echo", "GET", "/repos/acme/x"])
        .ok();
    assert!(
        r.stdout.contains("allowed by rule 1: GET /repos/acme/**"),
        "{}",
        r.stdout
    );
    let r = u.run(&["policy", "check", "echo", "DELETE", "/repos/acme/x"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("refused: authsome's policy refused DELETE"),
        "{}",
        r.stdout
    );
    let r = u.run(&["policy", "check", "openai", "POST", "/v1/x"]).ok();
    assert!(
        r.stdout
            .contains("no rule of vaults/default/policy.yaml covers it"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_rule_for_an_agent_binds_only_that_agent_and_runs_only_narrow() {
    let (u, echo) = setup("127.0.0.2");
    let url = &echo.url;
    let bot_key = u.home().join("bot.key");
    u.run(&[
        "agent",
        "create",
        "bot",
        "--vault",
        "default",
        "--out",
        bot_key.to_str().unwrap(),
    ])
    .ok();
    u.run(&["policy", "allow", "echo", "GET /**", "--as", "bot"])
        .ok();
    u.run(&["policy", "allow", "echo", "POST /bot-only", "--as", "bot"])
        .ok();
    // `run [extra] -- sh -c script` as the agent.
    let as_bot = |extra: &[&str], script: &str| {
        let mut c = u.command();
        c.env("AUTHSOME_IDENTITY", &bot_key)
            .arg("run")
            .arg("--upstream-ca")
            .arg(&echo.ca)
            .args(extra)
            .args(["--", "sh", "-c", script]);
        finish(c, None).ok()
    };
    // The agent: its rule binds it.
    let r = as_bot(
        &[],
        &[
            curl("POST", &format!("{url}/bot-only")),
            curl("DELETE", &format!("{url}/bot-only")),
        ]
        .join("; "),
    );
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        ["200", "403"],
        "{}",
        r.stderr
    );
    // The owner: no rule names it, so the agent's rules do not touch it.
    let r = run_sh(&u, &echo, &[], &curl("DELETE", &format!("{url}/owner"))).ok();
    assert_eq!(r.stdout.trim(), "200");

    // A run only narrows: --read-only refuses a POST the policy would allow the agent.
    let r = as_bot(&["--read-only"], &curl("POST", &format!("{url}/bot-only")));
    assert_eq!(r.stdout.trim(), "403");
    // --allow narrows to what it names; --max-requests stops the run's requests.
    let r = run_sh(
        &u,
        &echo,
        &["--allow", "echo:GET /ok/**", "--max-requests", "2"],
        &[
            curl("GET", &format!("{url}/ok/1")),
            curl("GET", &format!("{url}/not-ok")),
            curl("GET", &format!("{url}/ok/2")),
            curl("GET", &format!("{url}/ok/3")),
        ]
        .join("; "),
    )
    .ok();
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        ["200", "403", "200", "429"]
    );
    assert!(echo.seen("/not-ok").is_empty() && echo.seen("/ok/3").is_empty());
}

#[test]
fn policy_changes_are_reviewed_as_sentences_and_broken_ones_refuse() {
    let (u, echo) = setup("127.0.0.2");
    u.run(&["git-setup"]).ok();
    u.run(&["policy", "allow", "echo", "POST /repos/acme/*/issues"])
        .ok();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_authsome"))
        .parent()
        .unwrap()
        .to_owned();
    let out = u
        .command_of("git")
        .arg("-C")
        .arg(u.store())
        .args(["log", "-p", "-1", "--", "vaults/default/policy.yaml"])
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .output()
        .unwrap();
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("+everyone may POST /repos/acme/*/issues on echo"),
        "{diff}"
    );

    // Patterns that do not compile are refused before anything is written.
    let head = u.git(&["rev-parse", "HEAD"]);
    u.run(&["policy", "allow", "echo", "FETCH"])
        .fails(ErrorKind::Usage, "is not a request pattern");
    u.run(&["policy", "allow", "echo", "GET /x", "--rate", "5/week"])
        .fails(ErrorKind::Usage, "is not N/sec, N/min or N/hour");
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);

    // A policy broken by hand (and sealed by the owner) is reported, and the proxy refuses
    // rather than run without it.
    let file = u.store().join("vaults/default/policy.yaml");
    std::fs::write(&file, "rules:\n  - provider: echo\n    allow: ['GET']\n").unwrap();
    u.git(&["commit", "-qam", "a hand edit"]);
    u.run(&["seal"]).ok();
    let doctor = u.run(&["doctor"]);
    assert_eq!(doctor.code, 1);
    assert!(doctor.stdout.contains("policy"), "{}", doctor.stdout);
    assert!(doctor.stdout.contains("rule 1"), "{}", doctor.stdout);
    let r = run_sh(&u, &echo, &[], &curl("GET", &format!("{}/any", echo.url))).ok();
    assert_eq!(r.stdout.trim(), "403");
    assert!(echo.seen("/any").is_empty());
}

#[test]
fn providers_only_egress_refuses_other_hosts_unless_allowed() {
    let (u, echo) = setup("127.0.0.2");
    // Another HTTPS server no provider covers.
    let ca = crate::common::upstream::TestCa::new(&u.home().join("other"), &["127.0.0.3"]);
    let other = crate::common::upstream::Echo::start(&ca, "127.0.0.3");
    let fetch = |extra: &[&str]| {
        run_sh(
            &u,
            &echo,
            extra,
            &format!(
                "curl -s -o /dev/null -w '%{{http_connect}}:%{{http_code}}\\n' --cacert '{}' {}/elsewhere; {}",
                other.ca.display(),
                other.url,
                curl("GET", &format!("{}/provider", echo.url))
            ),
        )
        .ok()
        .stdout
    };
    // Tunnelled by default.
    assert_eq!(fetch(&[]).lines().collect::<Vec<_>>(), ["200:200", "200"]);
    assert_eq!(other.seen("/elsewhere").len(), 1);
    // providers-only: the CONNECT is refused (curl sees the proxy's 403), the provider works.
    let shown = fetch(&["--egress", "providers-only"]);
    assert_eq!(
        shown.lines().collect::<Vec<_>>(),
        ["403:000", "200"],
        "{shown}"
    );
    assert_eq!(other.seen("/elsewhere").len(), 1, "nothing more reached it");
    let log = audit_log(&u, &[]);
    assert!(
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "policy_denied"
                && e["reason"]
                    .as_str()
                    .unwrap()
                    .contains("refused a connection to 127.0.0.3")),
        "{log}"
    );
    // --allow-host lets that host through.
    let shown = fetch(&["--egress", "providers-only", "--allow-host", "127.0.0.3"]);
    assert_eq!(
        shown.lines().collect::<Vec<_>>(),
        ["200:200", "200"],
        "{shown}"
    );
    assert_eq!(other.seen("/elsewhere").len(), 2);
}

#[test]
fn a_projects_run_section_narrows_every_run_in_it() {
    let (u, echo) = setup("127.0.0.2");
    let project = u.home().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join(".authsome.yaml"),
        format!("store: {}\nrun:\n  read_only: true\n", u.store().display()),
    )
    .unwrap();
    let mut c = u.command();
    c.current_dir(&project)
        .arg("run")
        .arg("--upstream-ca")
        .arg(&echo.ca)
        .args(["--", "sh", "-c"])
        .arg(
            [
                curl("GET", &format!("{}/read", echo.url)),
                curl("POST", &format!("{}/write", echo.url)),
            ]
            .join("; "),
        );
    let r = finish(c, None).ok();
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        ["200", "403"],
        "{}",
        r.stderr
    );
    assert!(echo.seen("/write").is_empty());
}
