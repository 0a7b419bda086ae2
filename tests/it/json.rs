//! Every command's `--json` output is valid against its schema in `schema/output/`, as an
//! independent validator (Python's `jsonschema`) judges it; failures print the error object, and a
//! usage error under `--json` is that object on stdout with exit code 2.

use std::process::Command;

use crate::common::{User, age_keygen};

/// One command run under `--json`: what it printed, and the schema it must satisfy.
struct Case {
    label: String,
    schema: &'static str,
    stdout: String,
    /// False for the deliberately wrong instance that shows the validator can refuse.
    valid: bool,
}

struct Cases<'a> {
    user: &'a User,
    list: Vec<Case>,
}

impl Cases<'_> {
    /// Runs `authsome --json ARGS` (with `stdin`), which must succeed and print `schema`'s shape;
    /// `schema` "error" means it must fail.
    fn run(&mut self, args: &[&str], stdin: Option<&str>, schema: &'static str) -> String {
        let full = [&["--json"][..], args].concat();
        let r = self.user.run_with(&full, stdin);
        let label = args.join(" ");
        match schema {
            "error" => assert_ne!(r.code, 0, "{label} should fail: {}", r.stdout),
            // `status` and `doctor` exit 1 when they find something; `verify` 12.
            "status" | "doctor" | "verify" => {}
            _ => assert_eq!(r.code, 0, "{label}: {}{}", r.stdout, r.stderr),
        }
        assert!(
            r.stdout.trim_start().starts_with('{'),
            "{label} printed no JSON object on stdout: {:?} (stderr {:?})",
            r.stdout,
            r.stderr
        );
        self.list.push(Case {
            label,
            schema,
            stdout: r.stdout.clone(),
            valid: true,
        });
        r.stdout
    }

    fn ok(&mut self, args: &[&str], schema: &'static str) -> String {
        self.run(args, None, schema)
    }

    /// A usage error: the error object on stdout, exit code 2.
    fn usage(&mut self, args: &[&str], needle: &str) {
        let full = [&["--json"][..], args].concat();
        let r = self.user.run(&full);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.contains(needle), "{args:?}: {}", r.stdout);
        self.list.push(Case {
            label: args.join(" "),
            schema: "error",
            stdout: r.stdout,
            valid: true,
        });
    }
}

const VALIDATE: &str = r#"
import json, sys, jsonschema
bad = []
for case in json.load(open(sys.argv[1])):
    schema = json.load(open(case["schema"]))
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    errors = [e.message for e in validator(schema).iter_errors(json.loads(case["stdout"]))]
    if bool(errors) == case["valid"]:
        bad.append(case["label"] + " (" + case["schema"] + "): " + ("; ".join(errors[:3]) or "accepted a wrong instance"))
print("\n".join(bad))
sys.exit(1 if bad else 0)
"#;

#[test]
fn every_commands_json_validates_against_its_schema() {
    let u = User::initialized();
    let bob_key = age_keygen(&u.home().join("bob.key"));
    let carol_key = age_keygen(&u.home().join("carol.key"));
    let provider_file = u.home().join("acme.yaml");
    std::fs::write(
        &provider_file,
        "schema_version: 1\nname: acme\ndisplay_name: Acme\nauth_type: api_key\nflow: api_key\nhosts:\n  - host: api.acme.example\napi_key:\n  header_name: X-Key\n",
    )
    .unwrap();
    let agent_file = u.home().join("agent.key");
    let agent_out = agent_file.to_str().unwrap();

    let mut c = Cases {
        user: &u,
        list: Vec::new(),
    };
    c.run(&["login", "openai", "--stdin"], Some("sk-one"), "login");
    c.run(
        &["login", "openai", "-c", "work", "--stdin"],
        Some("sk-two"),
        "login",
    );
    c.ok(&["list"], "list");
    c.ok(&["get", "openai"], "get");
    let shown = c.ok(&["get", "openai", "--show-secret"], "get");
    assert!(shown.contains("sk-one"), "{shown}");
    c.ok(&["get", "openai", "--field", "scopes"], "get-field");
    let vars = c.ok(&["export", "openai"], "export");
    assert!(vars.contains("OPENAI_API_KEY"), "{vars}");
    c.ok(&["inspect", "openai"], "inspect");
    c.ok(&["whoami"], "whoami");
    c.ok(&["default", "openai", "default"], "default");
    c.ok(&["status"], "status");
    c.ok(&["doctor"], "doctor");
    c.ok(&["verify"], "verify");
    c.ok(&["log"], "log");
    c.ok(&["show"], "show");
    c.ok(&["diff", "HEAD~2..HEAD"], "diff");
    c.run(
        &["login", "openai", "-c", "work", "--stdin", "--force"],
        Some("sk-three"),
        "login",
    );
    c.ok(&["restore", "openai/work", "--to", "HEAD~1"], "restore");
    c.ok(&["provider", "list"], "provider-list");
    c.ok(&["provider", "show", "openai"], "provider-show");
    c.ok(
        &["provider", "add", provider_file.to_str().unwrap()],
        "provider-add",
    );
    c.ok(&["provider", "remove", "acme"], "provider-remove");

    c.ok(&["vault", "create", "prod"], "vault-create");
    c.run(
        &["--vault", "prod", "login", "openai", "-c", "p", "--stdin"],
        Some("sk-prod"),
        "login",
    );
    c.ok(
        &["principal", "add", "bob", "--recipient", &bob_key],
        "principal-add",
    );
    c.ok(&["grant", "bob", "prod"], "grant");
    c.ok(&["vault", "list"], "vault-list");
    c.ok(&["vault", "show", "prod"], "vault-show");
    c.ok(&["principal", "list"], "principal-list");
    c.ok(&["principal", "show", "bob"], "principal-show");
    c.ok(
        &["principal", "rotate-key", "bob", "--recipient", &carol_key],
        "principal-rotate",
    );
    c.ok(&["revoke-access", "bob", "prod"], "grant");
    c.ok(&["grant", "bob", "prod"], "grant");
    c.ok(&["principal", "remove", "bob"], "principal-remove");
    let marks = c.ok(&["rotation", "list"], "rotation-list");
    assert!(marks.contains("\"p\""), "{marks}");
    c.ok(
        &["--vault", "prod", "rotation", "done", "openai/p"],
        "rotation",
    );
    c.ok(
        &[
            "agent", "create", "ci", "--vault", "prod", "--out", agent_out,
        ],
        "agent",
    );
    let created = c.ok(
        &["agent", "create", "bot", "--vault", "prod"],
        "agent-created",
    );
    assert!(created.contains("AGE-SECRET-KEY-1"), "{created}");
    c.ok(
        &["policy", "allow", "openai", "POST /v1/chat/completions"],
        "policy",
    );
    c.ok(&["policy", "show"], "policy-show");
    c.ok(
        &["policy", "check", "openai", "POST", "/v1/chat/completions"],
        "policy-check",
    );
    c.ok(&["rekey"], "rekey");
    c.ok(&["seal"], "seal");
    c.ok(&["trust", "show"], "trust-show");
    c.ok(&["trust", "accept"], "trust");
    c.ok(
        &["trust", "reset", "--to-current", "--i-understand"],
        "trust",
    );
    c.ok(&["join-request"], "join-request");
    c.ok(&["config", "signing.commits"], "config");
    c.ok(&["git-setup"], "git-setup");
    c.ok(&["upgrade"], "upgrade");
    c.ok(&["audit"], "audit");
    c.ok(&["logout", "openai", "-c", "work"], "logout");
    c.ok(&["revoke", "openai", "-c", "default"], "revoke");
    c.ok(&["vault", "delete", "prod"], "vault-delete");

    // Failures print the error object, whatever the command.
    c.ok(&["refresh", "openai"], "error");
    c.ok(&["sync"], "error");
    c.ok(&["get", "nosuch"], "error");
    // Usage errors: clap's, and the commands that print no data.
    c.usage(&["get"], "required");
    c.usage(&["no-such-command"], "unrecognized subcommand");
    c.usage(&["list", "--no-such-flag"], "unexpected argument");
    for (args, needle) in [
        (&["run", "--", "true"][..], "run prints"),
        (&["shell"], "shell starts"),
        (&["man"], "man writes"),
        (&["help"], "help prints"),
        (&["completions", "bash"], "completions prints"),
        (&["trust", "allowed-signers"], "allowed-signers prints"),
        (&["textconv", "x"], "textconv prints"),
        (&["skill"], "skill prints"),
        (&["mcp"], "mcp speaks"),
    ] {
        c.usage(args, needle);
        assert!(
            c.list.last().unwrap().stdout.contains("no JSON form"),
            "{args:?}"
        );
    }

    // The validator must be able to say no: `list`'s output with a field its schema lacks.
    let list = c.list.iter().find(|c| c.schema == "list").unwrap();
    let mut wrong: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    wrong["unexpected"] = serde_json::json!(true);
    c.list.push(Case {
        label: "list with an extra field".into(),
        schema: "list",
        stdout: wrong.to_string(),
        valid: false,
    });

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/output");
    let cases: Vec<serde_json::Value> = c
        .list
        .iter()
        .map(|case| {
            serde_json::json!({
                "label": case.label,
                "schema": dir.join(format!("{}.schema.json", case.schema)),
                "stdout": case.stdout,
                "valid": case.valid,
            })
        })
        .collect();
    let file = u.home().join("cases.json");
    std::fs::write(&file, serde_json::to_string(&cases).unwrap()).unwrap();
    let out = Command::new("python3")
        .args(["-c", VALIDATE])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "outputs that break their schema:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
