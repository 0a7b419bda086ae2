//! Bad input gets one clear sentence, a documented exit code, and no change to the store.

use crate::common::{User, tool};
use authsome::error::ErrorKind;

/// Runs `args` and checks the exit code, the message and that HEAD did not move.
fn refused(u: &User, args: &[&str], stdin: Option<&str>, kind: ErrorKind, needle: &str) {
    let head = u.git(&["rev-parse", "HEAD"]);
    u.run_with(args, stdin).fails(kind, needle);
    assert_eq!(
        u.git(&["rev-parse", "HEAD"]),
        head,
        "{args:?} changed the store"
    );
    u.assert_git_clean();
}

#[test]
fn unknown_provider_suggests_the_nearest_names() {
    let u = User::initialized();
    refused(
        &u,
        &["login", "opnai", "--stdin"],
        Some("sk-x"),
        ErrorKind::ProviderNotFound,
        "did you mean openai?",
    );
    refused(
        &u,
        &["get", "anthropik"],
        None,
        ErrorKind::ProviderNotFound,
        "anthropic",
    );
}

#[test]
fn unknown_connection_lists_the_existing_ones() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    u.login("openai", "work", "sk-2").ok();
    refused(
        &u,
        &["get", "openai", "--connection", "personal"],
        None,
        ErrorKind::ConnectionNotFound,
        "it has default, work",
    );
    refused(
        &u,
        &["default", "openai", "personal"],
        None,
        ErrorKind::ConnectionNotFound,
        "it has default, work",
    );
    refused(
        &u,
        &["logout", "openai", "--connection", "personal"],
        None,
        ErrorKind::ConnectionNotFound,
        "it has default, work",
    );
    refused(
        &u,
        &["get", "anthropic"],
        None,
        ErrorKind::ConnectionNotFound,
        "anthropic has no connections",
    );
}

#[test]
fn bad_connection_names_are_refused() {
    let u = User::initialized();
    let long = "a".repeat(65);
    for name in [
        "../x",
        "a/b",
        "",
        ".hidden",
        long.as_str(),
        "tab\there",
        "new\nline",
        "Work",
        "-x",
    ] {
        let flag = format!("--connection={name}");
        refused(
            &u,
            &["login", "openai", &flag, "--stdin"],
            Some("sk-1"),
            ErrorKind::Usage,
            "connection name",
        );
    }
    assert!(!u.home().join("x").exists());
}

#[test]
fn a_key_that_fails_the_pattern_is_refused_without_echoing_it() {
    let u = User::initialized();
    let head = u.git(&["rev-parse", "HEAD"]);
    let r = u.login("openai", "default", "not-a-key-123").fails(
        ErrorKind::Usage,
        "does not look like an OpenAI key (Starts with sk-",
    );
    assert!(!r.stderr.contains("not-a-key-123"));
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);
    u.login("openai", "default", "   ")
        .fails(ErrorKind::Usage, "is empty");
}

#[test]
fn a_hand_edited_yaml_file_that_no_longer_parses_is_named_with_its_line() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let path = u
        .store()
        .join("vaults/default/openai/default/connection.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("status: connected", "status: [broken")).unwrap();
    u.git(&["commit", "-qam", "a bad hand edit"]);
    u.run(&["get", "openai"])
        .fails(ErrorKind::Trust, "vaults/default changed since its seal");
    // Vouched for by mistake, the file is still named with its line.
    u.run(&["seal"]).ok();
    let r = u.run(&["get", "openai"]).fails(
        ErrorKind::Store,
        "vaults/default/openai/default/connection.yaml",
    );
    assert!(r.stderr.contains("at line"), "{}", r.stderr);
    assert!(r.stderr.contains("git checkout HEAD~1"), "{}", r.stderr);
}

#[test]
fn uncommitted_edits_are_ignored_by_reads_and_protected_from_writes() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let path = u.store().join("vaults/default/openai/default/api_key.age");
    let edited = std::fs::read_to_string(&path).unwrap() + "# a hand edit\n";
    std::fs::write(&path, &edited).unwrap();
    assert_eq!(
        u.run(&["get", "openai", "--field", "api_key", "--show-secret"])
            .ok()
            .stdout,
        "sk-1\n"
    );
    let head = u.git(&["rev-parse", "HEAD"]);
    u.run_stdin(&["login", "openai", "--force", "--stdin"], "sk-2")
        .fails(
            ErrorKind::Store,
            "vaults/default/openai/default/api_key.age",
        );
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        edited,
        "the hand edit is kept"
    );
    let doctor = u.run(&["doctor"]);
    assert!(
        doctor.stdout.contains("uncommitted edits"),
        "{}",
        doctor.stdout
    );
}

#[test]
fn a_missing_identity_says_how_to_make_one() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    std::fs::remove_file(u.identity()).unwrap();
    refused(
        &u,
        &["get", "openai", "--field", "api_key", "--show-secret"],
        None,
        ErrorKind::Crypto,
        "run `authsome init`",
    );
}

#[test]
fn a_world_readable_identity_is_refused_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    std::fs::set_permissions(u.identity(), std::fs::Permissions::from_mode(0o644)).unwrap();
    refused(
        &u,
        &["get", "openai", "--field", "api_key", "--show-secret"],
        None,
        ErrorKind::Crypto,
        "chmod 600",
    );
}

#[test]
fn an_identity_that_is_not_a_recipient_is_told_so() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let other = u.home().join("other.txt");
    tool("age-keygen", &["-o", other.to_str().unwrap()], None);
    refused(
        &u,
        &[
            "--identity",
            other.to_str().unwrap(),
            "get",
            "openai",
            "--field",
            "api_key",
            "--show-secret",
        ],
        None,
        ErrorKind::Crypto,
        "is not a recipient",
    );
}

#[test]
fn truncated_or_altered_secret_files_are_refused() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let file = u.store().join("vaults/default/openai/default/api_key.age");
    let good = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let truncated = lines[..lines.len() - 2].join("\n") + "\n-----END AGE ENCRYPTED FILE-----\n";
    std::fs::write(&file, truncated).unwrap();
    u.git(&["commit", "-qam", "truncate"]);
    u.run(&["get", "openai", "--field", "api_key", "--show-secret"])
        .fails(ErrorKind::Trust, "vaults/default changed since its seal");
    // Sealed anyway (a member vouched without looking): the ciphertext check still refuses.
    u.run(&["seal"]).ok();
    u.run(&["get", "openai", "--field", "api_key", "--show-secret"])
        .fails(ErrorKind::Crypto, "damaged or was altered");

    let mut altered = good.clone().into_bytes();
    let i = altered.len() / 2;
    altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
    std::fs::write(&file, altered).unwrap();
    u.git(&["commit", "-qam", "flip a byte"]);
    u.run(&["seal"]).ok();
    u.run(&["export", "openai"])
        .fails(ErrorKind::Crypto, "api_key.age");
}

#[test]
fn a_secret_moved_to_another_connection_is_refused() {
    let u = User::initialized();
    u.login("openai", "default", "sk-personal").ok();
    u.login("openai", "work", "sk-work").ok();
    let from = u.store().join("vaults/default/openai/default/api_key.age");
    let to = u.store().join("vaults/default/openai/work/api_key.age");
    std::fs::copy(&from, &to).unwrap();
    u.git(&["commit", "-qam", "swap a key"]);
    u.run(&["get", "openai", "-c", "work"])
        .fails(ErrorKind::Trust, "vaults/default changed since its seal");
    u.run(&["seal"]).ok();
    let r = u.run(&[
        "get",
        "openai",
        "-c",
        "work",
        "--field",
        "api_key",
        "--show-secret",
    ]);
    r.fails(ErrorKind::Crypto, "copied or moved");
}

#[test]
fn a_store_that_is_not_a_git_repository_is_refused() {
    let u = User::new();
    let dir = u.home().join("plain");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    u.run(&["--store", dir.to_str().unwrap(), "list"])
        .fails(ErrorKind::Store, "is not a git repository");
    u.run(&["--store", dir.to_str().unwrap(), "init"])
        .fails(ErrorKind::Store, "is not empty");
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine"
    );
    u.run(&["list"])
        .fails(ErrorKind::Store, "run `authsome init`");
}

#[test]
fn a_secret_field_is_not_printed_as_a_placeholder_without_show_secret() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let r = u
        .run(&["get", "openai", "--field", "api_key"])
        .fails(ErrorKind::Usage, "add --show-secret");
    assert_eq!(r.stdout, "");
    u.run(&["get", "openai", "--field", "nonsense"])
        .fails(ErrorKind::Usage, "choose one of provider, connection");
}

#[test]
fn a_key_is_never_accepted_as_an_argument() {
    let u = User::initialized();
    u.run(&["login", "openai", "sk-as-argument"])
        .fails(ErrorKind::Usage, "unexpected argument");
    u.run(&["login", "openai", "--api-key", "sk-x"])
        .fails(ErrorKind::Usage, "unexpected argument");
}

#[test]
fn provider_definitions_are_checked() {
    let u = User::initialized();
    let bad = u.home().join("bad.yaml");
    std::fs::write(
        &bad,
        "schema_version: 1\nname: ../evil\ndisplay_name: E\nauth_type: api_key\nflow: api_key\n",
    )
    .unwrap();
    refused(
        &u,
        &["provider", "add", bad.to_str().unwrap()],
        None,
        ErrorKind::Usage,
        "provider name",
    );
    std::fs::write(&bad, "schema_version: 1\nname: evil\ndisplay_name: E\nauth_type: api_key\nflow: api_key\nhosts: [{host: a.test}]\n").unwrap();
    refused(
        &u,
        &["provider", "add", bad.to_str().unwrap()],
        None,
        ErrorKind::Usage,
        "needs an api_key section",
    );
    std::fs::write(&bad, "name: [\n").unwrap();
    refused(
        &u,
        &["provider", "add", bad.to_str().unwrap()],
        None,
        ErrorKind::Usage,
        "at line 1",
    );
    refused(
        &u,
        &["provider", "remove", "openai"],
        None,
        ErrorKind::ProviderNotFound,
        "bundled provider",
    );
}

#[test]
fn a_symlinked_folder_in_the_store_is_not_written_through() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let elsewhere = u.home().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let dir = u.store().join("vaults/default/anthropic");
    std::os::unix::fs::symlink(&elsewhere, &dir).unwrap();
    let head = u.git(&["rev-parse", "HEAD"]);
    u.login("anthropic", "default", "sk-ant-1")
        .fails(ErrorKind::Store, "is a symbolic link");
    assert_eq!(
        u.git(&["rev-parse", "HEAD"]),
        head,
        "refused before committing"
    );
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "nothing was written through the link"
    );
}

#[test]
fn a_git_lock_left_behind_is_named_with_what_to_do() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let lock = u.store().join(".git/HEAD.lock");
    std::fs::write(&lock, "").unwrap();
    let head = u.git(&["rev-parse", "HEAD"]);
    let shown = lock.display().to_string();
    u.login("openai", "work", "sk-2")
        .fails(ErrorKind::Store, &format!("holds the lock {shown}"));
    let r = u.run_with(
        &[
            "--json",
            "login",
            "openai",
            "--connection",
            "work",
            "--stdin",
        ],
        Some("sk-2"),
    );
    let err: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(err["error"]["code"], "store");
    let hint = err["error"]["hint"].as_str().unwrap();
    assert!(hint.contains(&format!("delete {shown}")), "{hint}");
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);
    // Once the lock is gone, the same login goes through.
    std::fs::remove_file(&lock).unwrap();
    u.login("openai", "work", "sk-2").ok();
}

#[test]
fn an_invalid_name_under_json_is_a_json_usage_error() {
    let u = User::initialized();
    let r = u.run_with(
        &[
            "--json",
            "login",
            "openai",
            "--connection",
            "Work",
            "--stdin",
        ],
        Some("sk-1"),
    );
    assert_eq!(r.code, ErrorKind::Usage.exit_code());
    let err: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(err["error"]["code"], "usage");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("the connection name \"Work\""),
        "{message}"
    );
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn provider_hosts_and_headers_that_would_leak_a_credential_are_refused_when_added() {
    let u = User::initialized();
    let def = u.home().join("def.yaml");
    let with = |hosts: &str, header: &str| {
        std::fs::write(
            &def,
            format!(
                "schema_version: 1\nname: mine\ndisplay_name: Mine\nauth_type: api_key\nflow: api_key\n\
                 api_key:\n  {header}\nhosts:\n{hosts}"
            ),
        )
        .unwrap();
        u.run(&["provider", "add", def.to_str().unwrap()])
    };
    let plain = "header_name: Authorization";
    for (host, why) in [
        ("'*.com'", "public suffix com"),
        ("'*.co.uk'", "public suffix co.uk"),
        ("com", "\"com\" is a public suffix"),
        ("'.'", "empty label"),
        ("'..'", "empty label"),
        ("a..b", "empty label"),
        ("api.example.com.", "empty label"),
    ] {
        with(&format!("  - host: {host}\n"), plain).fails(ErrorKind::Usage, why);
    }
    for (header, why) in [
        ("header_name: \"X-Key\\r\"", "not a valid HTTP header name"),
        ("header_name: \"X Key\"", "not a valid HTTP header name"),
        (
            "header_name: Authorization\n  header_prefix: \"Bearer\\r\\nX-Evil: 1\"",
            "control character",
        ),
    ] {
        with("  - host: api.example.com\n", header).fails(ErrorKind::Usage, why);
    }
    // What a provider owns is fine: its API host, its own wildcard, a private-list suffix its
    // operator runs (googleapis.com), a local name.
    with(
        "  - host: api.example.com\n  - host: '*.api.example.com'\n  - host: '*.googleapis.com'\n  - host: localhost\n    port: 8080\n",
        "header_name: X-Api-Key",
    )
    .ok();
    u.run(&["provider", "remove", "mine"]).ok();
    // Replacing a bundled provider says which hosts the credential would newly go to.
    std::fs::write(
        &def,
        "schema_version: 1\nname: openai\ndisplay_name: OpenAI\nauth_type: api_key\nflow: api_key\n\
         api_key:\n  header_prefix: Bearer\nhosts:\n  - host: api.openai.com\n  - host: collector.example.net\n",
    )
    .unwrap();
    let r = u
        .run(&["provider", "add", "--force", def.to_str().unwrap()])
        .ok();
    assert!(
        r.stderr.contains("now also go to collector.example.net")
            && !r.stderr.contains("api.openai.com,"),
        "{}",
        r.stderr
    );
    let json = u
        .run(&[
            "--json",
            "provider",
            "add",
            "--force",
            def.to_str().unwrap(),
        ])
        .ok();
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["added_hosts"], serde_json::json!([]), "{json}");
}

#[test]
fn a_missing_vault_or_a_file_where_a_folder_belongs_is_a_store_problem_not_a_login() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    for args in [
        &["--vault", "nope", "get", "openai"][..],
        &["--vault", "nope", "list"],
    ] {
        u.run(args).fails(
            ErrorKind::Store,
            "there is no vault named \"nope\"; the store has default",
        );
    }
    // Someone replaced the provider's folder with a file and sealed it.
    u.git(&["rm", "-rq", "vaults/default/openai"]);
    std::fs::write(u.store().join("vaults/default/openai"), "x").unwrap();
    u.git(&["add", "-A"]);
    u.git(&["commit", "-qm", "a file"]);
    u.run(&["seal"]).ok();
    for args in [&["get", "openai"][..], &["export", "openai"]] {
        u.run(args).fails(
            ErrorKind::Store,
            "vaults/default/openai is a file where the folder of openai's connections belongs",
        );
    }
}
