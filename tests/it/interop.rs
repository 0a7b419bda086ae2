//! authsome's files against the real tools: the stock `age` CLI reads our secrets and we read
//! its files, SSH keys work as identities, concurrent writers all land, and a canary secret
//! shows up nowhere it should not.

use std::process::Command;

use crate::common::{User, tool};

#[test]
fn the_age_cli_decrypts_our_secret_files() {
    let u = User::initialized();
    u.login("openai", "work", "sk-interop-1").ok();
    let file = u.store().join("vaults/default/openai/work/api_key.age");
    let armored = std::fs::read_to_string(&file).unwrap();
    assert!(
        armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"),
        "{armored}"
    );
    let plain = tool(
        "age",
        &[
            "-d",
            "-i",
            u.identity().to_str().unwrap(),
            file.to_str().unwrap(),
        ],
        None,
    );
    let expected = format!(
        "authsome-secret: 1\nstore: {}\nvault: default\nprovider: openai\nconnection: work\nfield: api_key\n\nsk-interop-1",
        u.store_id()
    );
    assert_eq!(String::from_utf8(plain).unwrap(), expected);
}

#[test]
fn we_read_a_secret_the_age_cli_encrypted_in_the_documented_format() {
    let u = User::initialized();
    u.login("openai", "default", "sk-before").ok();
    let plaintext = format!(
        "authsome-secret: 1\nstore: {}\nvault: default\nprovider: openai\nconnection: default\nfield: api_key\n\nsk-from-age-cli",
        u.store_id()
    );
    let sealed = tool(
        "age",
        &["-a", "-r", &u.recipient()],
        Some(plaintext.as_bytes()),
    );
    std::fs::write(
        u.store().join("vaults/default/openai/default/api_key.age"),
        sealed,
    )
    .unwrap();
    // Uncommitted edits are never used: reads come from HEAD.
    assert_eq!(
        u.run(&["get", "openai", "--field", "api_key", "--show-secret"])
            .ok()
            .stdout,
        "sk-before\n"
    );
    u.git(&["commit", "-qam", "rotate by hand"]);
    // The hand-made commit is vouched for, as an allowed member would after review.
    u.run(&["seal"]).ok();
    assert_eq!(
        u.run(&["get", "openai", "--field", "api_key", "--show-secret"])
            .ok()
            .stdout,
        "sk-from-age-cli\n"
    );
}

#[test]
fn an_ssh_ed25519_key_works_as_the_identity() {
    let u = User::new();
    let key = u.home().join("id_ed25519");
    tool(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "tester@test",
            "-f",
            key.to_str().unwrap(),
        ],
        None,
    );
    let key_s = key.to_str().unwrap();
    let init = u.run(&["--identity", key_s, "init", "--json"]).ok();
    let init: serde_json::Value = serde_json::from_str(&init.stdout).unwrap();
    assert!(
        init["recipient"]
            .as_str()
            .unwrap()
            .starts_with("ssh-ed25519 "),
        "{init}"
    );
    u.run_stdin(
        &["--identity", key_s, "login", "openai", "--stdin"],
        "sk-ssh",
    )
    .ok();
    let mut c = u.command();
    c.env("AUTHSOME_IDENTITY", &key)
        .args(["get", "openai", "--field", "api_key", "--show-secret"]);
    assert_eq!(crate::common::finish(c, None).ok().stdout, "sk-ssh\n");
    let file = u.store().join("vaults/default/openai/default/api_key.age");
    let plain = tool("age", &["-d", "-i", key_s, file.to_str().unwrap()], None);
    assert!(String::from_utf8(plain).unwrap().ends_with("\n\nsk-ssh"));
}

#[test]
fn eight_concurrent_logins_all_land() {
    let u = User::initialized();
    let children: Vec<_> = (0..8)
        .map(|i| {
            let mut c = u.command();
            c.args([
                "login",
                "openai",
                "--connection",
                &format!("c{i}"),
                "--stdin",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
            let mut child = c.spawn().unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("sk-concurrent-{i}").as_bytes())
                .unwrap();
            child
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut log = u.log();
    log.sort();
    let mut expected: Vec<String> = (0..8).map(|i| format!("login openai/c{i}")).collect();
    expected.push("init store".into());
    expected.sort();
    assert_eq!(log, expected);
    for i in 0..8 {
        let v = u
            .run(&[
                "get",
                "openai",
                "-c",
                &format!("c{i}"),
                "--field",
                "api_key",
                "--show-secret",
            ])
            .ok();
        assert_eq!(v.stdout, format!("sk-concurrent-{i}\n"));
    }
    u.assert_git_clean();
}

#[test]
fn a_canary_secret_appears_only_where_asked_for() {
    let u = User::initialized();
    let canary = format!("sk-canary{}", authsome::random_hex(12));
    u.login("openai", "default", &canary).ok();
    u.login("openai", "work", "sk-other").ok();
    u.run(&["default", "openai", "work"]).ok();

    let mut outputs = String::new();
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["inspect", "openai"],
        &["inspect", "openai", "--json"],
        &["get", "openai", "-c", "default"],
        &["get", "openai", "-c", "default", "--json"],
        &["get", "openai", "-c", "default", "--field", "api_key"],
        &["whoami"],
        &["doctor"],
        &["doctor", "--json"],
        &["provider", "show", "openai"],
    ] {
        let r = u.run(args);
        outputs.push_str(&r.stdout);
        outputs.push_str(&r.stderr);
        // And with all the debug output there is.
        let r = u.run(&[&["-vv"][..], args].concat());
        assert!(r.stderr.contains("DEBUG"), "{args:?}: {}", r.stderr);
        outputs.push_str(&r.stdout);
        outputs.push_str(&r.stderr);
    }
    for args in [
        &["-vv", "login", "openai", "-c", "again", "--stdin"][..],
        &[
            "-vv", "login", "openai", "-c", "again", "--stdin", "--force",
        ],
    ] {
        let r = u.run_stdin(args, &canary).ok();
        assert!(r.stderr.contains("committed"), "{}", r.stderr);
        outputs.push_str(&r.stdout);
        outputs.push_str(&r.stderr);
    }
    assert!(!outputs.contains(&canary), "a command printed the secret");
    assert!(
        u.run(&[
            "get",
            "openai",
            "-c",
            "default",
            "--field",
            "api_key",
            "--show-secret"
        ])
        .ok()
        .stdout
        .contains(&canary)
    );
    assert!(
        u.run(&["export", "openai", "-c", "default"])
            .ok()
            .stdout
            .contains(&canary)
    );

    // Nowhere in the work tree, the git objects (decompressed), or the temp dir.
    let mut files = Vec::new();
    collect(&u.store(), &mut files);
    collect(&u.tmp(), &mut files);
    collect(&u.home().join(".config"), &mut files);
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(
            !contains(&bytes, canary.as_bytes()),
            "{} holds the secret",
            f.display()
        );
    }
    let objects = Command::new("git")
        .arg("-C")
        .arg(u.store())
        .args(["cat-file", "--batch-all-objects", "--batch"])
        .output()
        .unwrap();
    assert!(objects.status.success());
    assert!(
        objects.stdout.len() > 1000,
        "git cat-file printed the objects"
    );
    assert!(
        !contains(&objects.stdout, canary.as_bytes()),
        "a git object holds the secret"
    );
}

fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
