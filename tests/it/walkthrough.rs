//! The founding document's walkthrough for API-key providers, end to end through the binary,
//! checked against the real git CLI.

use crate::common::User;
use authsome::error::ErrorKind;

#[test]
fn the_seed_walkthrough_works_as_written() {
    let u = User::new();
    let init = u.run(&["init"]).ok();
    assert!(init.stdout.contains("Created identity"), "{}", init.stdout);
    assert!(u.store().join(".git").is_dir());

    u.login("openai", "default", "sk-test-1").ok();
    let work = u.login("openai", "work", "sk-test-2").ok();
    assert!(
        work.stdout
            .contains("Logged in to OpenAI as connection work"),
        "{}",
        work.stdout
    );

    let list = u.run(&["list"]).ok().stdout;
    assert!(
        list.contains("openai") && list.contains("* default") && list.contains("work"),
        "{list}"
    );

    let inspect = u.run(&["inspect", "openai"]).ok().stdout;
    for needle in [
        "* default",
        "work",
        "status:  connected",
        "expires: never",
        "created:",
    ] {
        assert!(
            inspect.contains(needle),
            "inspect lacks {needle:?}:\n{inspect}"
        );
    }

    let get = u
        .run(&["get", "openai", "--connection", "work"])
        .ok()
        .stdout;
    assert!(get.contains("api_key: ***REDACTED***"), "{get}");
    assert!(!get.contains("sk-test-2"));
    assert_eq!(
        u.run(&["get", "openai", "--connection", "work", "--field", "status"])
            .ok()
            .stdout,
        "connected\n"
    );
    assert_eq!(
        u.run(&[
            "get",
            "openai",
            "--connection",
            "work",
            "--field",
            "api_key",
            "--show-secret"
        ])
        .ok()
        .stdout,
        "sk-test-2\n"
    );
    assert_eq!(
        u.run(&["get", "openai", "--field", "api_key", "--show-secret"])
            .ok()
            .stdout,
        "sk-test-1\n",
        "without --connection the default connection is used"
    );

    assert_eq!(
        u.run(&[
            "export",
            "openai",
            "--connection",
            "work",
            "--format",
            "env"
        ])
        .ok()
        .stdout,
        "OPENAI_API_KEY=sk-test-2\n"
    );
    assert_eq!(
        u.run(&[
            "export",
            "openai",
            "--connection",
            "work",
            "--format",
            "shell"
        ])
        .ok()
        .stdout,
        "export OPENAI_API_KEY='sk-test-2'\n"
    );
    let json: serde_json::Value = serde_json::from_str(
        &u.run(&[
            "export",
            "openai",
            "--connection",
            "work",
            "--format",
            "json",
        ])
        .ok()
        .stdout,
    )
    .unwrap();
    assert_eq!(json["OPENAI_API_KEY"], "sk-test-2");
    // --json means JSON here too, never env lines; with another --format it is a usage error.
    let json: serde_json::Value = serde_json::from_str(
        &u.run(&["--json", "export", "openai", "-c", "work"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(json["OPENAI_API_KEY"], "sk-test-2");
    let r = u.run(&["--json", "export", "openai", "--format", "shell"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    let error: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("drop --json")
    );

    // Switching the default is one commit whose diff of the state is one line; the vault's seal
    // vouches for the new state in the same commit.
    u.run(&["default", "openai", "work"]).ok();
    assert_eq!(u.log()[0], "default openai: default -> work");
    assert_eq!(
        u.git(&["show", "--format=", "--name-only", "HEAD"]),
        "vaults/default/openai/provider.yaml\nvaults/default/seal\n"
    );
    let diff = u.git(&[
        "show",
        "--format=",
        "--unified=0",
        "HEAD",
        "--",
        ".",
        ":!vaults/default/seal",
    ]);
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(changed, ["-default: default", "+default: work"], "{diff}");
    assert_eq!(
        u.run(&["get", "openai", "--field", "connection"])
            .ok()
            .stdout,
        "work\n"
    );

    // The seed's way to switch: re-login with --force makes the connection the default.
    u.run(&["set-default", "openai", "default"]).ok();
    u.run_stdin(
        &[
            "login",
            "openai",
            "--connection",
            "work",
            "--force",
            "--stdin",
        ],
        "sk-test-3",
    )
    .ok();
    assert_eq!(
        u.run(&["get", "openai", "--field", "connection"])
            .ok()
            .stdout,
        "work\n"
    );
    assert_eq!(
        u.run(&["get", "openai", "--field", "api_key", "--show-secret"])
            .ok()
            .stdout,
        "sk-test-3\n"
    );

    u.run(&["logout", "openai", "--connection", "work"]).ok();
    let list = u.run(&["list"]).ok().stdout;
    assert!(list.contains("default") && !list.contains("work"), "{list}");
    assert_eq!(
        u.run(&["get", "openai", "--field", "api_key", "--show-secret"])
            .ok()
            .stdout,
        "sk-test-1\n",
        "the other connection stays, and becomes the default again"
    );

    assert_eq!(
        u.log(),
        [
            "logout openai/work",
            "login openai/work",
            "default openai: work -> default",
            "default openai: default -> work",
            "login openai/work",
            "login openai/default",
            "init store",
        ]
    );
    u.assert_git_clean();
    assert!(
        !u.store().join("vaults/default/openai/work").exists(),
        "logout removed the folder"
    );
}

#[test]
fn init_is_idempotent_and_says_so() {
    let u = User::initialized();
    let again = u.run(&["init"]).ok();
    assert!(again.stdout.contains("Nothing to do"), "{}", again.stdout);
    assert_eq!(u.log(), ["init store"]);
    let json: serde_json::Value =
        serde_json::from_str(&u.run(&["init", "--json"]).ok().stdout).unwrap();
    assert_eq!(json["status"], "unchanged");
    assert_eq!(json["identity_is_recipient"], true);
}

#[test]
fn login_to_an_existing_connection_changes_nothing_without_force() {
    let u = User::initialized();
    u.login("openai", "default", "sk-one").ok();
    let again = u.login("openai", "default", "sk-two").ok();
    assert!(
        again.stdout.contains("already logged in"),
        "{}",
        again.stdout
    );
    assert_eq!(
        u.run(&["get", "openai", "--field", "api_key", "--show-secret"])
            .ok()
            .stdout,
        "sk-one\n"
    );
    assert_eq!(u.log().len(), 2);
}

#[test]
fn an_unchanged_key_does_not_rewrite_its_secret_file() {
    let u = User::initialized();
    u.login("openai", "default", "sk-same").ok();
    let path = "HEAD:vaults/default/openai/default/api_key.age";
    let before = u.git(&["rev-parse", path]);
    let again = u
        .run_stdin(&["login", "openai", "--force", "--stdin"], "sk-same")
        .ok();
    assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);
    assert_eq!(u.git(&["rev-parse", path]), before);
    assert_eq!(
        u.log().len(),
        2,
        "no commit for a re-login that changes nothing"
    );
    u.run_stdin(&["login", "openai", "--force", "--stdin"], "sk-new")
        .ok();
    assert_ne!(
        u.git(&["rev-parse", path]),
        before,
        "a new value is a new file"
    );
}

#[test]
fn json_output_is_stable_for_scripts() {
    let u = User::initialized();
    u.login("openai", "default", "sk-a").ok();
    u.login("openai", "work", "sk-b").ok();
    let list: serde_json::Value =
        serde_json::from_str(&u.run(&["list", "--json"]).ok().stdout).unwrap();
    let openai = &list["providers"][0];
    assert_eq!(openai["name"], "openai");
    assert_eq!(openai["default"], "default");
    assert_eq!(openai["connections"][1]["name"], "work");
    assert_eq!(openai["connections"][1]["status"], "connected");
    assert_eq!(openai["connections"][1]["default"], false);

    let get: serde_json::Value =
        serde_json::from_str(&u.run(&["get", "openai", "--json"]).ok().stdout).unwrap();
    assert_eq!(get["api_key"], "***REDACTED***");
    assert_eq!(get["connection"], "default");
    assert_eq!(get["default"], true);

    let inspect: serde_json::Value =
        serde_json::from_str(&u.run(&["inspect", "openai", "--json"]).ok().stdout).unwrap();
    assert_eq!(inspect["connections"].as_array().unwrap().len(), 2);
    assert_eq!(
        inspect["definition"]["api_key"]["header_name"],
        "Authorization"
    );

    let err = u.run(&["get", "nope", "--json"]);
    assert_eq!(err.code, ErrorKind::ProviderNotFound.exit_code());
    let err: serde_json::Value = serde_json::from_str(&err.stdout).unwrap();
    assert_eq!(err["error"]["code"], "provider_not_found");
    assert_eq!(err["error"]["exit_code"], 4);

    let who: serde_json::Value =
        serde_json::from_str(&u.run(&["whoami", "--json"]).ok().stdout).unwrap();
    assert_eq!(who["principal"], "tester");
    assert_eq!(who["recipient"], u.recipient());
    assert_eq!(who["vaults"][0]["connections"], 2);

    let doctor: serde_json::Value =
        serde_json::from_str(&u.run(&["doctor", "--json"]).ok().stdout).unwrap();
    assert_eq!(doctor["status"], "ready");
}

#[test]
fn quiet_prints_only_values() {
    let u = User::initialized();
    let login = u
        .run_stdin(&["--quiet", "login", "openai", "--stdin"], "sk-q")
        .ok();
    assert_eq!(login.stdout, "");
    assert_eq!(
        u.run(&["-q", "get", "openai", "--field", "status"])
            .ok()
            .stdout,
        "connected\n"
    );
}

#[test]
fn export_without_a_provider_exports_every_default_and_resolves_collisions() {
    let u = User::initialized();
    u.login("openai", "default", "sk-openai").ok();
    u.login("anthropic", "default", "sk-ant-x").ok();
    // A custom provider that claims the same variable as openai.
    let def = u.home().join("acme.yaml");
    std::fs::write(
        &def,
        "schema_version: 1\nname: acme\ndisplay_name: Acme\nauth_type: api_key\nflow: api_key\nhosts:\n  - host: api.acme.test\napi_key:\n  header_name: Authorization\n  header_prefix: Bearer\nenv:\n  OPENAI_API_KEY: api_key\n",
    )
    .unwrap();
    u.run(&["provider", "add", def.to_str().unwrap()]).ok();
    u.login("acme", "default", "acme-key").ok();
    let out = u.run(&["export"]).ok();
    assert_eq!(
        out.stdout,
        "OPENAI_API_KEY=acme-key\nANTHROPIC_API_KEY=sk-ant-x\nOPENAI_API_KEY_OPENAI=sk-openai\n"
    );
    assert!(
        out.stderr
            .contains("OPENAI_API_KEY is already exported for acme"),
        "{}",
        out.stderr
    );
    // The output evaluates in a real shell.
    let script = format!("{}\nprintf '%s' \"$OPENAI_API_KEY_OPENAI\"", out.stdout);
    let shell = crate::common::tool("sh", &["-c", &script], None);
    assert_eq!(shell, b"sk-openai");
}

#[test]
fn the_list_cache_follows_every_commit_and_survives_damage() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    assert!(!u.run(&["list"]).ok().stdout.contains("work"));
    u.login("openai", "work", "sk-2").ok();
    assert!(
        u.run(&["list"]).ok().stdout.contains("work"),
        "a new connection shows at once"
    );
    // A commit made with git, not authsome, is seen too: the cache is keyed by tree ids.
    u.git(&["rm", "-rq", "vaults/default/openai/work"]);
    u.git(&["commit", "-qm", "remove work by hand"]);
    // A change nobody sealed is refused until someone allowed vouches for it.
    u.run(&["list"])
        .fails(ErrorKind::Trust, "vaults/default changed since its seal");
    u.run(&["seal"]).ok();
    assert!(!u.run(&["list"]).ok().stdout.contains("work"));
    let cache_dir = u.home().join(".cache/authsome");
    for entry in std::fs::read_dir(&cache_dir).unwrap() {
        let path = entry.unwrap().path();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(
            !std::fs::read_to_string(&path).unwrap().contains("sk-1"),
            "the cache holds no secrets"
        );
        std::fs::write(&path, "{ not json").unwrap();
    }
    assert!(
        u.run(&["list"]).ok().stdout.contains("default"),
        "a damaged cache is rebuilt"
    );
}

#[test]
fn run_env_hands_the_command_real_values_and_its_exit_code() {
    let u = User::initialized();
    u.login("openai", "default", "sk-env-default").ok();
    u.login("openai", "work", "sk-env-work").ok();
    u.login("anthropic", "default", "sk-ant-env").ok();
    let r = u.run(&[
        "run",
        "--env",
        "--",
        "sh",
        "-c",
        "printf '%s %s' \"$OPENAI_API_KEY\" \"$ANTHROPIC_API_KEY\"; exit 7",
    ]);
    assert_eq!(r.code, 7, "the command's exit code is authsome's");
    assert_eq!(r.stdout, "sk-env-default sk-ant-env");
    assert!(
        r.stderr.contains("warning: --env puts 2 real credentials"),
        "{}",
        r.stderr
    );
    let work = u
        .run(&[
            "run",
            "--env",
            "--connection",
            "openai=work",
            "--",
            "sh",
            "-c",
            "printf %s \"$OPENAI_API_KEY\"",
        ])
        .ok();
    assert_eq!(work.stdout, "sk-env-work");
    u.run(&["run", "--env", "-c", "github=x", "--", "true"])
        .fails(ErrorKind::ConnectionNotFound, "github has no connections");
    // Without --env the command runs under the proxy; its exit code is authsome's.
    assert_eq!(u.run(&["run", "--", "sh", "-c", "exit 4"]).code, 4);
}
