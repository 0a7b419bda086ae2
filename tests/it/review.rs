//! Credential changes as diffs people can read: plain `git log -p` through the textconv driver
//! that `init` registers, and `authsome diff` / `show`.

use std::process::Command;

use crate::common::User;

/// Runs git in the store with authsome on PATH, as a user's shell would have it.
fn git_with_authsome(u: &User, args: &[&str]) -> String {
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_authsome"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("git")
        .arg("-C")
        .arg(u.store())
        .args(args)
        .env("HOME", u.home())
        .env("PATH", path)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fingerprint_of(text: &str, path: &str) -> String {
    text.lines()
        .find(|l| l.contains(path))
        .and_then(|l| l.split("fingerprint ").nth(1))
        .unwrap_or_else(|| panic!("no fingerprint for {path} in {text}"))
        .trim_end_matches(')')
        .to_owned()
}

#[test]
fn git_log_p_shows_secrets_as_redacted_summaries() {
    let u = User::initialized();
    u.login("openai", "work", "sk-review-1").ok();
    u.run_stdin(
        &["login", "openai", "-c", "work", "--force", "--stdin"],
        "sk-review-2",
    )
    .ok();
    let log = git_with_authsome(&u, &["log", "-p", "-2"]);
    assert!(
        log.contains("+authsome secret default/openai/work/api_key"),
        "{log}"
    );
    assert!(
        log.contains("-fingerprint: ") && log.contains("+fingerprint: "),
        "{log}"
    );
    assert!(
        !log.contains("BEGIN AGE ENCRYPTED FILE"),
        "ciphertext noise is gone"
    );
    assert!(!log.contains("sk-review"), "the value never shows");
}

#[test]
fn authsome_diff_names_changed_secrets_by_keyed_fingerprint() {
    let u = User::initialized();
    u.login("openai", "default", "sk-same").ok();
    u.login("openai", "work", "sk-same").ok();
    let shown = u.run(&["show"]).ok().stdout;
    assert!(shown.contains("login openai/work"), "{shown}");
    let work_fp = fingerprint_of(&shown, "openai/work/api_key.age");
    let first = u.run(&["diff", "HEAD~1..HEAD~1"]).ok().stdout;
    assert_eq!(first, "", "a revision against itself has no changes");
    let both = u.run(&["diff", "HEAD~2"]).ok().stdout;
    assert_eq!(
        fingerprint_of(&both, "openai/default/api_key.age"),
        work_fp,
        "one value, one fingerprint"
    );

    u.run_stdin(
        &["login", "openai", "-c", "work", "--force", "--stdin"],
        "sk-other",
    )
    .ok();
    let diff = u.run(&["diff"]).ok().stdout;
    assert!(
        diff.contains(&format!(
            "secret vaults/default/openai/work/api_key.age changed (fingerprint {work_fp} -> "
        )),
        "{diff}"
    );
    assert!(
        diff.contains("--- a/vaults/default/openai/provider.yaml")
            && diff.contains("+default: work"),
        "{diff}"
    );
    assert!(!diff.contains("sk-"));

    // Keyed, not a bare hash: another store gives the same value another fingerprint.
    let v = User::initialized();
    v.login("openai", "default", "sk-same").ok();
    let other = v.run(&["show"]).ok().stdout;
    assert_ne!(
        fingerprint_of(&other, "openai/default/api_key.age"),
        work_fp
    );
}
