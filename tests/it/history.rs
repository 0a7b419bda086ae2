//! History: `log` agrees with `git log`, and `restore` brings a connection back in a new commit.

use crate::common::User;
use authsome::error::ErrorKind;

#[test]
fn log_lists_what_each_commit_changed_and_filters_by_connection() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    u.login("openai", "work", "sk-2").ok();
    u.login("anthropic", "default", "sk-ant-1").ok();
    u.run(&["default", "openai", "work"]).ok();

    let v: serde_json::Value =
        serde_json::from_str(&u.run(&["log", "--json"]).ok().stdout).unwrap();
    let commits = v["commits"].as_array().unwrap();
    let git_ids: Vec<String> = u
        .git(&["log", "--format=%H"])
        .lines()
        .map(str::to_owned)
        .collect();
    let ids: Vec<&str> = commits.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, git_ids, "the same commits as git log, newest first");
    assert_eq!(commits[0]["message"], "default openai: default -> work");
    assert_eq!(
        commits[0]["changes"],
        serde_json::json!([
            {"path": "vaults/default/openai/provider.yaml", "status": "modified"},
            {"path": "vaults/default/seal", "status": "modified"},
        ])
    );
    // git's own view of the same commit agrees: the change, and the vault's new seal.
    assert_eq!(
        u.git(&["show", "--format=", "--name-status", "HEAD"]),
        "M\tvaults/default/openai/provider.yaml\nM\tvaults/default/seal\n"
    );

    let work: serde_json::Value =
        serde_json::from_str(&u.run(&["log", "openai/work", "--json"]).ok().stdout).unwrap();
    let summaries: Vec<&str> = work["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["message"].as_str().unwrap())
        .collect();
    assert_eq!(summaries, ["login openai/work"]);
    let text = u.run(&["log", "anthropic", "-n", "1"]).ok().stdout;
    assert!(
        text.contains("login anthropic/default")
            && text.contains("A vaults/default/anthropic/default/api_key.age"),
        "{text}"
    );
    assert!(!text.contains("openai"));
}

#[test]
fn restore_brings_a_connection_back_in_a_new_commit() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    u.login("openai", "work", "sk-old").ok();
    let before = u.git(&["rev-parse", "HEAD"]).trim().to_owned();
    u.run_stdin(
        &[
            "login",
            "openai",
            "--connection",
            "work",
            "--force",
            "--stdin",
        ],
        "sk-new",
    )
    .ok();
    u.run(&["logout", "openai", "--connection", "work"]).ok();
    u.run(&["get", "openai", "-c", "work"])
        .fails(ErrorKind::ConnectionNotFound, "it has default");

    u.run(&["restore", "openai/work", "--to", &before]).ok();
    assert_eq!(
        u.log()[0],
        format!("restore openai/work to {}", &before[..8])
    );
    assert_eq!(
        u.run(&[
            "get",
            "openai",
            "-c",
            "work",
            "--field",
            "api_key",
            "--show-secret"
        ])
        .ok()
        .stdout,
        "sk-old\n"
    );
    // The secret file is the very blob it was, and history was not rewritten.
    assert_eq!(
        u.git(&["rev-parse", "HEAD:vaults/default/openai/work/api_key.age"]),
        u.git(&[
            "rev-parse",
            &format!("{before}:vaults/default/openai/work/api_key.age")
        ])
    );
    assert_eq!(
        u.log().len(),
        6,
        "init, three logins, a logout and the restore"
    );
    let again = u.run(&["restore", "openai/work", "--to", &before]).ok();
    assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);
    u.assert_git_clean();

    u.run(&["restore", "openai/nope", "--to", "HEAD"])
        .fails(ErrorKind::Usage, "did not exist at HEAD");
    u.run(&["restore", "openai/work", "--to", "not-a-rev"])
        .fails(ErrorKind::Usage, "is not a revision");
}

#[test]
fn status_reports_what_needs_attention() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    u.login("openai", "work", "sk-2").ok();
    let clean = u.run(&["status"]).ok().stdout;
    assert!(clean.contains("Nothing needs attention"), "{clean}");

    // A key that expired (committed by hand), an edit and a stray file in the work tree.
    let record = u.store().join("vaults/default/openai/work/connection.yaml");
    let text = std::fs::read_to_string(&record).unwrap();
    std::fs::write(
        &record,
        text.replace(
            "status: connected",
            "status: connected\nexpires_at: 2020-01-01T00:00:00Z",
        ),
    )
    .unwrap();
    u.git(&["commit", "-qam", "expire work"]);
    std::fs::write(
        u.store().join("vaults/default/openai/provider.yaml"),
        "default: work\n",
    )
    .unwrap();
    std::fs::write(u.store().join("vaults/default/stray.txt"), "x").unwrap();

    let v: serde_json::Value =
        serde_json::from_str(&u.run(&["status", "--json"]).flags().stdout).unwrap();
    let kinds: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&(
            "uncommitted".into(),
            "vaults/default/openai/provider.yaml".into()
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("uncommitted".into(), "vaults/default/stray.txt".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("expired".into(), "openai/work".into())),
        "{kinds:?}"
    );
    assert_eq!(v["clean"], false);
}

#[test]
fn status_notices_a_store_rolled_back_since_it_last_looked() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    u.login("openai", "default", "sk-1").ok();
    u.run_stdin(&["login", "openai", "--force", "--stdin"], "sk-rotated")
        .ok();
    u.run(&["status"]).ok();
    // Someone puts back the older state, with the older key.
    u.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let r = u.run(&["status"]).flags().stdout;
    assert!(r.contains("trust") && r.contains("rolled back"), "{r}");
}

/// Gives `a`'s store a bare remote, syncs to it, and clones it as a second machine's store.
/// Runs authsome on a second machine of `a`'s: the clone, the same identity and signing key, and
/// its own pin (state folder), trusted once with `trust accept` as a new laptop would.
pub(crate) fn machine_b<'a>(
    a: &'a User,
    clone: &'a std::path::Path,
) -> impl Fn(&[&str], Option<&str>) -> crate::common::Run + 'a {
    let run = move |args: &[&str], stdin: Option<&str>| {
        let mut c = a.command();
        c.env("XDG_STATE_HOME", a.home().join("machine-b-state"))
            .env("AUTHSOME_STORE", clone)
            .env("AUTHSOME_IDENTITY", a.identity())
            .args(args);
        crate::common::finish(c, stdin)
    };
    run(&["trust", "accept"], None).ok();
    run
}

pub(crate) fn second_machine(a: &User) -> std::path::PathBuf {
    let remote = a.home().join("remote.git");
    let bare = [
        "init",
        "-q",
        "--bare",
        "--initial-branch=main",
        remote.to_str().unwrap(),
    ];
    crate::common::tool("git", &bare, None);
    a.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    a.run(&["sync"]).ok();
    let clone = a.home().join("clone");
    crate::common::tool(
        "git",
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
        None,
    );
    clone
}

#[test]
fn sync_pulls_and_pushes_and_stops_on_a_secret_conflict() {
    let a = User::initialized();
    a.login("openai", "default", "sk-1").ok();
    // A second machine: a clone of the store, the same identity.
    let clone = second_machine(&a);
    let on_b = machine_b(&a, &clone);
    on_b(&["login", "anthropic", "--stdin"], Some("sk-ant-b")).ok();
    on_b(&["sync"], None).ok();
    let synced = a.run(&["sync"]).ok();
    assert!(
        synced.stdout.contains("pulled new commits"),
        "{}",
        synced.stdout
    );
    assert_eq!(
        a.run(&["get", "anthropic", "--field", "api_key", "--show-secret"])
            .ok()
            .stdout,
        "sk-ant-b\n"
    );
    a.assert_git_clean();

    // Different connections on each side: the rebase replays one side's commit on the other's.
    a.login("openai", "from-a", "sk-a").ok();
    on_b(
        &["login", "openai", "-c", "from-b", "--stdin"],
        Some("sk-b"),
    )
    .ok();
    a.run(&["sync"]).ok();
    // Both sides re-sealed the vault: the rebase keeps the remote's seal, and machine B seals
    // the remote's tree plus its own login, one seq higher.
    let synced = on_b(&["sync"], None).ok();
    assert!(
        synced
            .stdout
            .contains("Sealed your changes on top of the remote's: vaults/default #"),
        "{}",
        synced.stdout
    );
    a.run(&["sync"]).ok();
    let list = a.run(&["list"]).ok().stdout;
    assert!(list.contains("from-a") && list.contains("from-b"), "{list}");
    a.run(&["verify"]).ok();
    on_b(&["verify"], None).ok();

    // Both sides change the same secret: sync stops, names it, and says how to keep one side.
    a.run_stdin(&["login", "openai", "--force", "--stdin"], "sk-from-a")
        .ok();
    a.run(&["sync"]).ok();
    on_b(
        &["login", "openai", "--force", "--stdin"],
        Some("sk-from-b"),
    )
    .ok();
    on_b(&["sync"], None).fails(
        ErrorKind::Store,
        "vaults/default/openai/default/api_key.age changed here and on the remote",
    );
}

#[test]
fn sync_stops_on_a_conflicting_default_switch_with_git_markers() {
    let a = User::initialized();
    a.login("openai", "default", "sk-1").ok();
    a.login("openai", "x", "sk-x").ok();
    a.login("openai", "y", "sk-y").ok();
    // A second machine: a clone of the store, the same identity.
    let clone = second_machine(&a);
    let on_b = machine_b(&a, &clone);

    a.run(&["default", "openai", "x"]).ok();
    a.run(&["sync"]).ok();
    on_b(&["default", "openai", "y"], None).ok();
    let r = on_b(&["sync"], None).fails(
        ErrorKind::Store,
        "vaults/default/openai/provider.yaml has conflict markers",
    );
    assert!(r.stderr.contains("rebase --continue"), "{}", r.stderr);
    let marked =
        std::fs::read_to_string(clone.join("vaults/default/openai/provider.yaml")).unwrap();
    assert!(
        marked.contains("<<<<<<<")
            && marked.contains("default: x")
            && marked.contains("default: \"y\""),
        "{marked}"
    );
}
