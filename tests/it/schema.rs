//! The JSON Schemas under `schema/` (the store's files) and `schema/output/` (what commands print
//! under `--json`) are generated from the Rust types; this test fails when they drift. Regenerate
//! with `AUTHSOME_UPDATE_SCHEMA=1 cargo test --test it schema`.

use std::path::Path;

use authsome::model::provider::ProviderDef;
use authsome::model::report::{
    ChangeStatus, DiffReport, Finding, LogReport, ShowReport, StatusReport,
};
use authsome::model::state::{ConnectionRecord, Principal, ProviderState, StoreMeta, VaultMeta};

fn check(name: &str, schema: schemars::Schema) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(format!("{name}.schema.json"));
    check_at(&path, schema);
}

fn check_at(path: &Path, schema: schemars::Schema) {
    let mut text = serde_json::to_string_pretty(&schema).unwrap();
    text.push('\n');
    if std::env::var_os("AUTHSOME_UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run AUTHSOME_UPDATE_SCHEMA=1 cargo test --test it schema",
            path.display()
        )
    });
    assert_eq!(
        committed,
        text,
        "{} is out of date with the Rust types; run AUTHSOME_UPDATE_SCHEMA=1 cargo test --test it schema",
        path.display()
    );
}

#[test]
fn schemas_match_the_rust_types() {
    check("provider", schemars::schema_for!(ProviderDef));
    check("connection", schemars::schema_for!(ConnectionRecord));
    check("provider-state", schemars::schema_for!(ProviderState));
    check("vault", schemars::schema_for!(VaultMeta));
    check("principal", schemars::schema_for!(Principal));
    check("store", schemars::schema_for!(StoreMeta));
    check(
        "policy",
        schemars::schema_for!(authsome::model::policy::PolicyFile),
    );
    check(
        "project",
        schemars::schema_for!(authsome::model::project::ProjectConfig),
    );
}

/// One schema per shape a command prints under `--json`, and no file for a shape that is gone.
#[test]
fn output_schemas_match_the_report_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/output");
    let schemas = authsome::reports::schemas();
    let mut names = Vec::new();
    for (name, schema) in schemas {
        check_at(&dir.join(format!("{name}.schema.json")), schema);
        names.push(format!("{name}.schema.json"));
    }
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            names.contains(&file),
            "schema/output/{file} describes no report type; delete it"
        );
    }
}

/// Every bundled definition parses, passes validation and is valid against the provider schema's
/// required fields (the schema and the type are the same source, checked above).
#[test]
fn every_bundled_provider_is_valid() {
    let mut api_key = 0;
    let mut oauth2 = 0;
    for (name, _) in authsome::providers::BUNDLED {
        let def = authsome::providers::bundled(name)
            .unwrap()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        match def.auth_type {
            authsome::model::provider::AuthType::ApiKey => {
                api_key += 1;
                assert!(
                    def.env
                        .values()
                        .any(|s| *s == authsome::model::provider::EnvSource::ApiKey),
                    "{name} exports no variable for its api_key"
                );
            }
            authsome::model::provider::AuthType::Oauth2 => oauth2 += 1,
            authsome::model::provider::AuthType::PersonalToken => {
                panic!("{name}: personal_token is no provider's auth_type")
            }
        }
    }
    assert!(
        api_key >= 35,
        "only {api_key} API-key providers are bundled"
    );
    assert!(
        api_key + oauth2 >= 70,
        "only {} providers are bundled",
        api_key + oauth2
    );
}

/// Headers of well-known providers, as their vendors document them.
#[test]
fn bundled_headers_match_vendor_documentation() {
    let expect = [
        ("openai", "Authorization", "Bearer"),
        ("anthropic", "x-api-key", ""),
        ("brevo", "api-key", ""),
        ("postmark", "X-Postmark-Server-Token", ""),
        ("klaviyo", "Authorization", "Klaviyo-API-Key"),
        ("g2", "Authorization", "Token"),
        ("sendgrid", "Authorization", "Bearer"),
    ];
    for (name, header, prefix) in expect {
        let def = authsome::providers::bundled(name).unwrap().unwrap();
        let spec = def.api_key.unwrap();
        assert_eq!(
            spec.header_name.to_lowercase(),
            header.to_lowercase(),
            "{name}"
        );
        assert_eq!(spec.header_prefix, prefix, "{name}");
    }
}

/// `status --json` is exactly the committed schema's type (unknown fields refused), clean or
/// not, and `doctor --json`'s findings are the same shape.
#[test]
fn status_and_doctor_print_the_one_findings_shape() {
    let u = crate::common::User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let clean: StatusReport =
        serde_json::from_str(&u.run(&["--json", "status"]).ok().stdout).unwrap();
    assert_eq!(
        clean,
        StatusReport {
            clean: true,
            findings: vec![]
        }
    );
    let record = u
        .store()
        .join("vaults/default/openai/default/connection.yaml");
    let text = std::fs::read_to_string(&record).unwrap();
    std::fs::write(&record, format!("{text}# a hand edit\n")).unwrap();
    let found: StatusReport =
        serde_json::from_str(&u.run(&["--json", "status"]).flags().stdout).unwrap();
    assert!(!found.clean);
    assert_eq!(found.findings[0].kind, "uncommitted", "{found:?}");
    assert_eq!(
        found.findings[0].subject, "vaults/default/openai/default/connection.yaml",
        "{found:?}"
    );
    // doctor: a world-readable identity fails, and is a finding of the same shape.
    use std::os::unix::fs::PermissionsExt;
    let identity = u.home().join(".config/authsome/identity.txt");
    std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o644)).unwrap();
    let doctor: serde_json::Value =
        serde_json::from_str(&u.run(&["--json", "doctor"]).flags().stdout).unwrap();
    let findings: Vec<Finding> = serde_json::from_value(doctor["findings"].clone()).unwrap();
    assert!(findings.iter().any(|f| f.kind == "identity"), "{doctor}");
}

/// `log`, `show` and `diff` print one commit shape, each exactly its committed schema's type.
#[test]
fn log_show_and_diff_print_the_one_commit_shape() {
    let u = crate::common::User::initialized();
    u.login("openai", "default", "sk-1").ok();
    u.login("openai", "work", "sk-2").ok();
    let log: LogReport = serde_json::from_str(&u.run(&["--json", "log"]).ok().stdout).unwrap();
    let head = &log.commits[0];
    assert_eq!(head.message, "login openai/work");
    assert_eq!(head.id, u.git(&["rev-parse", "HEAD"]).trim());
    assert!(head.id.starts_with(&head.short) && head.short.len() == 12);
    assert_eq!(head.email, u.git(&["log", "-1", "--format=%ae"]).trim());
    assert!(
        head.changes
            .iter()
            .any(|c| c.path == "vaults/default/openai/work/api_key.age"
                && c.status == ChangeStatus::Added)
    );
    let show: ShowReport = serde_json::from_str(&u.run(&["--json", "show"]).ok().stdout).unwrap();
    assert_eq!(&show.commit, head);
    assert!(show.diff.contains("openai/work"), "{}", show.diff);
    let diff: DiffReport = serde_json::from_str(&u.run(&["--json", "diff"]).ok().stdout).unwrap();
    assert_eq!(&diff.to, head);
    assert_eq!(diff.from.as_ref(), Some(&log.commits[1]));
    let range: DiffReport =
        serde_json::from_str(&u.run(&["--json", "diff", "HEAD~1..HEAD"]).ok().stdout).unwrap();
    assert_eq!(range.from, diff.from);
}
