//! Project stores: `init --project` puts the store in a folder of an ordinary repository, and
//! authsome's commits go on the current branch touching only that folder.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Run, User, finish};
use authsome::error::ErrorKind;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A project repository with one commit, a staged new file and an unstaged edit.
fn project(u: &User) -> PathBuf {
    let p = u.home().join("my-project");
    std::fs::create_dir_all(p.join("src")).unwrap();
    git(&p, &["init", "-q", "-b", "main"]);
    std::fs::write(p.join("README"), "hello\n").unwrap();
    git(&p, &["add", "README"]);
    git(&p, &["commit", "-qm", "first"]);
    std::fs::write(p.join("staged.txt"), "staged\n").unwrap();
    git(&p, &["add", "staged.txt"]);
    std::fs::write(p.join("README"), "hello, edited\n").unwrap();
    p
}

fn run_in(u: &User, dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut c = u.command();
    c.current_dir(dir).args(args);
    finish(c, stdin)
}

#[test]
fn a_project_store_commits_on_the_branch_and_leaves_the_users_changes_alone() {
    let u = User::new();
    let p = project(&u);
    let user_status = git(&p, &["status", "--porcelain"]);
    assert_eq!(user_status, " M README\nA  staged.txt\n");

    let init = run_in(&u, &p, &["init", "--project"], None).ok();
    assert!(init.stdout.contains(".authsome.yaml"), "{}", init.stdout);
    assert_eq!(
        git(&p, &["log", "--format=%s"]),
        "init project store\nfirst\n"
    );
    let files = git(&p, &["show", "--format=", "--name-only", "HEAD"]);
    assert!(
        files
            .lines()
            .all(|f| f == ".authsome.yaml" || f.starts_with(".authsome/")),
        "{files}"
    );
    assert!(
        files.contains(".authsome/store.yaml")
            && files.contains(".authsome/vaults/default/vault.yaml")
    );
    assert_eq!(
        git(&p, &["status", "--porcelain"]),
        user_status,
        "staged and unstaged changes are kept as they were"
    );

    // From a subfolder, commands find the project's store by walking up.
    let sub = p.join("src");
    run_in(
        &u,
        &sub,
        &["login", "openai", "--stdin"],
        Some("sk-project"),
    )
    .ok();
    assert_eq!(
        git(&p, &["log", "-1", "--format=%s"]),
        "login openai/default\n"
    );
    let files = git(&p, &["show", "--format=", "--name-only", "HEAD"]);
    assert!(
        files.lines().all(|f| f.starts_with(".authsome/")),
        "{files}"
    );
    assert_eq!(git(&p, &["status", "--porcelain"]), user_status);
    assert_eq!(
        run_in(
            &u,
            &sub,
            &["get", "openai", "--field", "api_key", "--show-secret"],
            None
        )
        .ok()
        .stdout,
        "sk-project\n"
    );
    assert!(
        !u.home().join(".authsome").exists(),
        "the personal store was not touched"
    );
    // The personal store is still reachable with --store.
    run_in(
        &u,
        &sub,
        &[
            "--store",
            u.home().join(".authsome").to_str().unwrap(),
            "list",
        ],
        None,
    )
    .fails(ErrorKind::Store, "no store at");
    git(&p, &["fsck", "--strict", "--no-dangling"]);
}

#[test]
fn pins_choose_the_projects_connection_and_flags_still_win() {
    let u = User::new();
    let p = project(&u);
    run_in(&u, &p, &["init", "--project"], None).ok();
    run_in(&u, &p, &["login", "openai", "--stdin"], Some("sk-personal")).ok();
    run_in(
        &u,
        &p,
        &["login", "openai", "-c", "work", "--stdin"],
        Some("sk-work"),
    )
    .ok();
    std::fs::write(
        p.join(".authsome.yaml"),
        "store: .authsome\npins:\n  openai: work\n",
    )
    .unwrap();
    git(
        &p,
        &["commit", "-qm", "use the work account", ".authsome.yaml"],
    );
    assert_eq!(
        run_in(
            &u,
            &p,
            &["get", "openai", "--field", "api_key", "--show-secret"],
            None
        )
        .ok()
        .stdout,
        "sk-work\n"
    );
    assert_eq!(
        run_in(&u, &p, &["export", "openai"], None).ok().stdout,
        "OPENAI_API_KEY=sk-work\n"
    );
    assert_eq!(
        run_in(&u, &p, &["export"], None).ok().stdout,
        "OPENAI_API_KEY=sk-work\n"
    );
    assert_eq!(
        run_in(
            &u,
            &p,
            &[
                "get",
                "openai",
                "-c",
                "default",
                "--field",
                "api_key",
                "--show-secret"
            ],
            None
        )
        .ok()
        .stdout,
        "sk-personal\n"
    );
}

#[test]
fn uncommitted_edits_in_a_project_store_stop_writes() {
    let u = User::new();
    let p = project(&u);
    run_in(&u, &p, &["init", "--project"], None).ok();
    let head = git(&p, &["rev-parse", "HEAD"]);
    std::fs::write(
        p.join(".authsome/vaults/default/vault.yaml"),
        "principals: [someone-else]\n",
    )
    .unwrap();
    run_in(&u, &p, &["login", "anthropic", "--stdin"], Some("sk-ant-x"))
        .fails(ErrorKind::Store, ".authsome/vaults/default/vault.yaml");
    assert_eq!(git(&p, &["rev-parse", "HEAD"]), head);
}

#[test]
fn init_project_outside_a_repository_says_what_to_do() {
    let u = User::new();
    let dir = u.home().join("plain");
    std::fs::create_dir_all(&dir).unwrap();
    run_in(&u, &dir, &["init", "--project"], None).fails(ErrorKind::Store, "run `git init` first");
}

#[test]
fn a_detached_checkout_reads_but_does_not_write_and_log_shows_only_store_commits() {
    let u = User::new();
    let p = project(&u);
    run_in(&u, &p, &["init", "--project"], None).ok();
    run_in(&u, &p, &["login", "openai", "--stdin"], Some("sk-ci")).ok();
    git(&p, &["commit", "-qm", "code change", "staged.txt"]);
    let log: serde_json::Value =
        serde_json::from_str(&run_in(&u, &p, &["log", "--json"], None).ok().stdout).unwrap();
    let summaries: Vec<&str> = log["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        summaries,
        ["login openai/default", "init project store"],
        "code commits are not store history"
    );

    // CI checks out a commit, not a branch: reads work there, writes say why they cannot.
    let head = git(&p, &["rev-parse", "HEAD"]);
    git(&p, &["stash", "-q"]);
    git(&p, &["checkout", "-q", "--detach", head.trim()]);
    assert_eq!(
        run_in(&u, &p, &["export", "openai"], None).ok().stdout,
        "OPENAI_API_KEY=sk-ci\n"
    );
    run_in(&u, &p, &["login", "anthropic", "--stdin"], Some("sk-ant-x"))
        .fails(ErrorKind::Store, "detached HEAD");
}

#[test]
fn a_project_pointed_at_another_store_is_refused() {
    let u = User::new();
    let p = project(&u);
    run_in(&u, &p, &["init", "--project"], None).ok();
    run_in(&u, &p, &["login", "openai", "--stdin"], Some("sk-real")).ok();
    run_in(&u, &p, &["get", "openai"], None).ok(); // this machine used the project's store
    // A change to the project makes it lead to a store of its author's: a copy with another
    // id, at format 2 without seals (which no seal check would look at).
    let evil = p.join("evil");
    std::fs::create_dir_all(&evil).unwrap();
    for entry in ["principals", "vaults"] {
        let out = Command::new("cp")
            .args(["-r"])
            .arg(p.join(".authsome").join(entry))
            .arg(&evil)
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    std::fs::remove_file(evil.join("vaults/default/seal")).unwrap();
    std::fs::write(
        evil.join("store.yaml"),
        "format: 2\nid: 0123456789abcdef0123456789abcdef\nowners:\n- tester\n",
    )
    .unwrap();
    std::fs::write(p.join(".authsome.yaml"), "store: evil\n").unwrap();
    git(&p, &["add", "-A", "evil", ".authsome.yaml"]);
    git(&p, &["commit", "-qm", "a helpful change"]);
    let r = run_in(&u, &p, &["export", "openai"], None)
        .fails(ErrorKind::Trust, "the project was pointed at another store");
    assert!(r.stdout.is_empty());
    // Moving a project's store on purpose is said out loud once.
    run_in(
        &u,
        &p,
        &["trust", "reset", "--to-current", "--i-understand"],
        None,
    )
    .fails(ErrorKind::Trust, "store");
}
