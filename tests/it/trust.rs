//! Seals: written by `authsome seal`, checked by `authsome verify` and by stock `ssh-keygen` and
//! `git mktree`; a change nobody allowed vouched for fails with exit code 12.

use authsome::error::ErrorKind;

use crate::common::{User, tool};

/// The statement and the signature of a seal file, split as the README says.
fn split(seal: &str) -> (String, String) {
    let at = seal.find("-----BEGIN SSH SIGNATURE-----").unwrap();
    (seal[..at].to_owned(), seal[at..].to_owned())
}

#[test]
fn a_seal_is_checked_by_stock_ssh_keygen_and_git_mktree() {
    let u = User::initialized();
    // A store is sealed from its first commit, by the key `init` made.
    assert_eq!(
        u.git(&["show", "--format=", "--name-only", "HEAD"])
            .lines()
            .filter(|l| l.ends_with("seal"))
            .collect::<Vec<_>>(),
        ["seal", "vaults/default/seal"]
    );
    u.run(&["verify"]).ok();
    u.login("openai", "default", "sk-1").ok();
    u.run(&["seal"]).ok(); // nothing to do: the login sealed its own change
    assert_eq!(u.log()[0], "login openai/default");
    u.run(&["verify"]).ok();

    let seal = std::fs::read_to_string(u.store().join("vaults/default/seal")).unwrap();
    let (msg, sig) = split(&seal);
    let dir = u.home();
    std::fs::write(dir.join("msg"), &msg).unwrap();
    std::fs::write(dir.join("sig"), &sig).unwrap();
    let allowed = u.run(&["trust", "allowed-signers"]).ok().stdout;
    std::fs::write(dir.join("allowed"), &allowed).unwrap();
    let verify = |namespace: &str| {
        std::process::Command::new("ssh-keygen")
            .args([
                "-Y",
                "verify",
                "-f",
                dir.join("allowed").to_str().unwrap(),
                "-I",
                "tester",
                "-n",
                namespace,
                "-s",
                dir.join("sig").to_str().unwrap(),
            ])
            .stdin(std::fs::File::open(dir.join("msg")).unwrap())
            .output()
            .expect("ssh-keygen is installed (scripts/test)")
    };
    let good = verify("authsome-seal");
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(
        !verify("git").status.success(),
        "another namespace must not verify"
    );

    // The sealed tree is the vault's tree without its seal, as git computes it.
    let listing = u.git(&["ls-tree", "HEAD:vaults/default"]);
    let without: String = listing
        .lines()
        .filter(|l| !l.ends_with("\tseal"))
        .map(|l| format!("{l}\n"))
        .collect();
    let tree = String::from_utf8(tool(
        "git",
        &["-C", u.store().to_str().unwrap(), "mktree"],
        Some(without.as_bytes()),
    ))
    .unwrap();
    assert!(
        msg.contains(&format!("tree: {}\n", tree.trim())),
        "{msg}\n{tree}"
    );
    u.assert_git_clean();
}

/// A sealed store with a connection, then a provider's state edited with plain git by someone
/// with push access: a change nobody vouched for.
fn sealed_then_edited_by_hand() -> User {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let file = u.store().join("vaults/default/openai/provider.yaml");
    std::fs::write(&file, "default: elsewhere\n").unwrap();
    u.git(&["commit", "-qam", "by hand"]);
    u
}

#[test]
fn a_change_nobody_sealed_fails_verify_until_an_allowed_member_seals_it() {
    let u = sealed_then_edited_by_hand();
    let r = u
        .run(&["verify"])
        .fails(ErrorKind::Trust, "vaults/default changed since its seal #2");
    assert!(r.stdout.contains("ok  store #1"), "{}", r.stdout);
    let json = u.run(&["--json", "verify"]);
    assert_eq!(json.code, ErrorKind::Trust.exit_code());
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["scopes"][1]["status"], "changed", "{json}");
    // An allowed member reviews it and vouches for it: a new seal, one higher, naming the last.
    u.run(&["seal", "vaults/default"]).ok();
    assert_eq!(u.log()[0], "seal vaults/default #3");
    let seal = std::fs::read_to_string(u.store().join("vaults/default/seal")).unwrap();
    assert!(
        seal.contains("seq: 3\n") && seal.contains("prev: sha256:"),
        "{seal}"
    );
    u.run(&["verify"]).ok();
}

#[test]
fn a_seal_signed_by_an_outsiders_key_is_refused() {
    let u = User::initialized();
    u.run(&["seal"]).ok();
    // mallory: a signing key of her own, not any principal's signer, and a seal made with it.
    let mallory = User::new();
    mallory.run(&["init"]).ok();
    let key = mallory.home().join(".config/authsome/signing_key");
    let seal_file = u.store().join("vaults/default/seal");
    let seal = std::fs::read_to_string(&seal_file).unwrap();
    let (msg, _) = split(&seal);
    let msg_file = mallory.home().join("msg");
    std::fs::write(&msg_file, &msg).unwrap();
    tool(
        "ssh-keygen",
        &[
            "-Y",
            "sign",
            "-f",
            key.to_str().unwrap(),
            "-n",
            "authsome-seal",
            msg_file.to_str().unwrap(),
        ],
        None,
    );
    let forged = std::fs::read_to_string(mallory.home().join("msg.sig")).unwrap();
    std::fs::write(&seal_file, format!("{msg}{forged}")).unwrap();
    u.git(&["commit", "-qam", "mallory's seal"]);
    u.run(&["verify"]).fails(
        ErrorKind::Trust,
        "is not signed by 1 of its writers, admins or owners of default",
    );
    // And a signing key that is no writer's cannot seal through authsome either.
    let mut c = u.command();
    c.env("AUTHSOME_SIGNING_KEY", &key)
        .args(["seal", "vaults/default"]);
    crate::common::finish(c, None).fails(ErrorKind::Trust, "may not seal vaults/default");
}

#[test]
fn every_write_to_a_sealed_store_is_sealed_in_the_same_commit() {
    let u = User::initialized();
    u.run(&["seal"]).ok();
    let carol = u.home().join("carol.key");
    tool("age-keygen", &["-o", carol.to_str().unwrap()], None);
    let recipient =
        String::from_utf8(tool("age-keygen", &["-y", carol.to_str().unwrap()], None)).unwrap();
    let steps: Vec<Vec<&str>> = vec![
        vec!["principal", "add", "carol", "--recipient", recipient.trim()],
        vec!["vault", "create", "prod"],
        vec!["grant", "carol", "prod"],
        vec!["default", "openai", "work"],
        vec!["logout", "openai", "--connection", "work"],
        vec!["revoke-access", "carol", "prod"],
        vec!["vault", "delete", "prod"],
    ];
    u.login("openai", "default", "sk-1").ok();
    u.run(&["verify"]).ok();
    u.login("openai", "work", "sk-2").ok();
    for args in steps {
        let head = u.git(&["rev-parse", "HEAD"]);
        u.run(&args).ok();
        // One commit, and it carries its own seals: the store verifies after every step.
        assert_eq!(
            u.git(&["rev-list", "--count", &format!("{}..HEAD", head.trim())])
                .trim(),
            "1",
            "{args:?}"
        );
        let v = u.run(&["verify"]);
        assert_eq!(v.code, 0, "{args:?}: {}{}", v.stdout, v.stderr);
    }
    let seal = std::fs::read_to_string(u.store().join("seal")).unwrap();
    assert!(
        seal.contains("vaults: default\n"),
        "the deleted vault left the list:\n{seal}"
    );
    u.assert_git_clean();
}

#[test]
fn a_write_on_top_of_an_unvouched_change_is_refused() {
    let u = sealed_then_edited_by_hand();
    let head = u.git(&["rev-parse", "HEAD"]);
    u.login("openai", "work", "sk-2").fails(
        ErrorKind::Trust,
        "does not trust: vaults/default changed since its seal",
    );
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);
    // A writer without a signing key cannot write a sealed store.
    let mut c = u.command();
    c.env("AUTHSOME_SIGNING_KEY", u.home().join("nowhere"))
        .args(["seal", "vaults/default"]);
    crate::common::finish(c, None).fails(ErrorKind::Crypto, "no signing key");
}

#[test]
fn reads_of_a_sealed_store_refuse_an_unvouched_change_and_a_rollback() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    u.run(&["seal"]).ok();
    u.run(&["get", "openai"]).ok(); // verified, and pinned
    let r = u.run_with(&["login", "openai", "--force", "--stdin"], Some("sk-2"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let export = u.run(&["export", "openai"]).ok();
    assert_eq!(export.stdout.trim(), "OPENAI_API_KEY=sk-2");

    // Someone with push access points the provider elsewhere with plain git: reads refuse.
    let file = u.store().join("vaults/default/openai/provider.yaml");
    let before = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, "default: other\n").unwrap();
    u.git(&["commit", "-qam", "by hand"]);
    for args in [
        &["get", "openai"][..],
        &["export", "openai"],
        &["list"],
        &["run", "--env", "--", "true"],
    ] {
        u.run(args)
            .fails(ErrorKind::Trust, "changed since its seal");
    }
    std::fs::write(&file, before).unwrap();
    u.git(&["commit", "-qam", "undo by hand"]);
    u.run(&["get", "openai"]).ok();

    // A rollback to the seal before the last login is refused, though that seal is valid.
    u.git(&["reset", "-q", "--hard", "HEAD~3"]);
    u.run(&["get", "openai"])
        .fails(ErrorKind::Trust, "rolled back");
    // Writes refuse on it too: they would seal the old state over the newer one.
    let head = u.git(&["rev-parse", "HEAD"]);
    u.login("openai", "work", "sk-3")
        .fails(ErrorKind::Trust, "rolled back");
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);
    // Looking at the old state on purpose is allowed, with a word; writing on it never is.
    let old = u
        .run(&[
            "--allow-rollback",
            "get",
            "openai",
            "--field",
            "api_key",
            "--show-secret",
        ])
        .ok();
    assert_eq!(old.stdout, "sk-1\n");
    assert!(
        old.stderr.contains("older than the #") && old.stderr.contains("--allow-rollback"),
        "{}",
        old.stderr
    );
    u.run_with(
        &["--allow-rollback", "login", "openai", "-c", "w", "--stdin"],
        Some("sk-3"),
    )
    .fails(ErrorKind::Trust, "rolled back");
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);
    // The pin did not move back: without the flag, still refused.
    u.run(&["get", "openai"])
        .fails(ErrorKind::Trust, "rolled back");
    // Showing what does not verify is allowed when asked for; using it never is.
    let mut c = u.command();
    c.env("AUTHSOME_TRUST", "warn").args(["list"]);
    let shown = crate::common::finish(c, None).ok();
    assert!(
        shown
            .stderr
            .contains("showing a state that does not verify"),
        "{}",
        shown.stderr
    );
    let mut c = u.command();
    c.env("AUTHSOME_TRUST", "warn").args(["get", "openai"]);
    crate::common::finish(c, None).fails(ErrorKind::Trust, "rolled back");
    // A deliberate reset trusts the state as it is now.
    u.run(&["trust", "reset"])
        .fails(ErrorKind::Usage, "--to-current");
    u.run(&["trust", "reset", "--to-current", "--i-understand"])
        .ok();
    u.run(&["get", "openai"]).ok();
}

/// A teammate's keys: an age identity and an ssh-ed25519 signing key, made by the real tools.
fn member(u: &User, name: &str) -> (std::path::PathBuf, String, std::path::PathBuf, String) {
    let age_key = u.home().join(format!("{name}.age"));
    let recipient = crate::common::age_keygen(&age_key);
    let ssh_key = u.home().join(format!("{name}.ssh"));
    let signer = crate::common::ssh_keygen(&ssh_key, name);
    (age_key, recipient, ssh_key, signer)
}

/// A teammate made with [`member`] and added by the owner as a principal with both keys.
fn added_member(u: &User, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let (age_key, recipient, ssh_key, signer) = member(u, name);
    u.run(&[
        "principal",
        "add",
        name,
        "--recipient",
        &recipient,
        "--signer",
        &signer,
    ])
    .ok();
    (age_key, ssh_key)
}

fn as_member(
    u: &User,
    age_key: &std::path::Path,
    ssh_key: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> crate::common::Run {
    let mut c = u.command();
    c.env("AUTHSOME_IDENTITY", age_key)
        .env("AUTHSOME_SIGNING_KEY", ssh_key)
        // Another person, another machine: a pin of their own.
        .env("XDG_STATE_HOME", age_key.with_extension("state"))
        .args(args);
    crate::common::finish(c, stdin)
}

#[test]
fn seals_are_judged_by_the_policy_this_machine_verified_not_by_the_new_one() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    u.run(&["seal"]).ok();
    u.run(&["get", "openai"]).ok(); // pinned
    // mallory, with push access, makes herself an owner and a writer by hand, then seals.
    let (m_age, m_recipient, m_ssh, m_signer) = member(&u, "mallory");
    std::fs::write(
        u.store().join("principals/mallory.yaml"),
        format!("kind: person\nrecipients:\n- {m_recipient}\nsigners:\n- {m_signer}\n"),
    )
    .unwrap();
    let store_yaml = u.store().join("store.yaml");
    let text = std::fs::read_to_string(&store_yaml).unwrap();
    std::fs::write(
        &store_yaml,
        text.replace("owners:\n- tester", "owners:\n- mallory\n- tester"),
    )
    .unwrap();
    let vault_yaml = u.store().join("vaults/default/vault.yaml");
    let text = std::fs::read_to_string(&vault_yaml).unwrap();
    std::fs::write(
        &vault_yaml,
        text.replace("writers:\n- tester", "writers:\n- mallory\n- tester"),
    )
    .unwrap();
    u.git(&["add", "-A"]);
    u.git(&["commit", "-qm", "mallory joins"]);
    as_member(&u, &m_age, &m_ssh, &["seal"], None).ok();
    // Her seals verify against the policy she wrote, but not against the one this machine
    // verified: verify and reads refuse.
    u.run(&["verify"])
        .fails(ErrorKind::Trust, "not signed by 1 of its owners");
    u.run(&["get", "openai"]).fails(ErrorKind::Trust, "store");
}

#[test]
fn a_member_granted_at_one_seal_may_sign_the_next() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    u.run(&["seal"]).ok();
    u.run(&["get", "openai"]).ok(); // pinned before carol exists
    let (c_age, c_ssh) = added_member(&u, "carol");
    u.run(&["grant", "carol", "default"]).ok();
    u.run(&["grant", "carol", "default", "--role", "writer"])
        .ok();
    // carol's machine trusts the store once, then writes to it.
    as_member(&u, &c_age, &c_ssh, &["trust", "accept"], None).ok();
    as_member(
        &u,
        &c_age,
        &c_ssh,
        &["login", "openai", "--connection", "carol", "--stdin"],
        Some("sk-carol"),
    )
    .ok();
    assert!(u.log()[0].starts_with("login openai/carol"));
    // This machine replays the seals in order: alice's grants, then carol's write.
    let got = u
        .run(&[
            "get",
            "openai",
            "--connection",
            "carol",
            "--field",
            "api_key",
            "--show-secret",
        ])
        .ok();
    assert_eq!(got.stdout.trim(), "sk-carol");
}

#[test]
fn first_use_of_a_sealed_store_needs_a_trust_root_or_an_accept() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    u.run(&["seal"]).ok();
    // Another machine (no pin yet) reading the same store.
    let elsewhere = u.home().join("other-state");
    let on_other = |args: &[&str], root: Option<&str>| {
        let mut c = u.command();
        c.env("XDG_STATE_HOME", &elsewhere).args(args);
        if let Some(r) = root {
            c.env("AUTHSOME_TRUST_ROOT", r);
        }
        crate::common::finish(c, None)
    };
    on_other(&["get", "openai"], None)
        .fails(ErrorKind::Trust, "has not trusted this sealed store yet");
    let show = on_other(&["--json", "trust", "show"], None).ok();
    let show: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    let fpr = show["owners"][0]["signers"][0].as_str().unwrap().to_owned();
    assert!(fpr.starts_with("SHA256:"), "{show}");
    // The fingerprint is the one ssh-keygen prints for the owner's key.
    let listed = String::from_utf8(tool(
        "ssh-keygen",
        &[
            "-l",
            "-f",
            u.home()
                .join(".config/authsome/signing_key")
                .to_str()
                .unwrap(),
        ],
        None,
    ))
    .unwrap();
    assert!(listed.contains(&fpr), "{listed} vs {fpr}");
    on_other(
        &["get", "openai"],
        Some("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    )
    .fails(ErrorKind::Trust, "is signed by a key of the trust root");
    on_other(&["get", "openai"], Some(&fpr)).ok();
    // Once trusted, the pin is used; accept pins another machine just the same.
    on_other(&["get", "openai"], None).ok();
    let third = u.home().join("third-state");
    let mut c = u.command();
    c.env("XDG_STATE_HOME", &third)
        .args(["trust", "accept", "--root", &fpr]);
    crate::common::finish(c, None).ok();
}

#[test]
fn verify_finds_a_secret_encrypted_to_an_extra_recipient() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    u.run(&["seal"]).ok();
    u.run(&["verify"]).ok();
    // A writer re-encrypts a secret with stock age to the reader and to an outsider, keeping
    // the recorded recipient fingerprint, and seals it.
    let file = u.store().join("vaults/default/openai/default/api_key.age");
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
    let outsider = u.home().join("outsider.key");
    tool("age-keygen", &["-o", outsider.to_str().unwrap()], None);
    let outsider_r = String::from_utf8(tool(
        "age-keygen",
        &["-y", outsider.to_str().unwrap()],
        None,
    ))
    .unwrap();
    let widened = tool(
        "age",
        &["-a", "-r", &u.recipient(), "-r", outsider_r.trim()],
        Some(&plain),
    );
    std::fs::write(&file, widened).unwrap();
    u.git(&["commit", "-qam", "widened by hand"]);
    u.run(&["seal", "vaults/default"]).ok();
    u.run(&["verify"]).fails(
        ErrorKind::Trust,
        "is encrypted to 2 recipients, but its vault has 1 readers' keys",
    );
    // doctor says it too, without decrypting.
    let d = u
        .run(&["doctor"])
        .fails(ErrorKind::Internal, "doctor found problems");
    assert!(
        d.stdout.contains("is encrypted to 2 recipients"),
        "{}",
        d.stdout
    );
}

#[test]
fn a_store_whose_seals_were_removed_is_refused_as_a_downgrade() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let head = u.git(&["rev-parse", "HEAD"]);
    // Seals deleted, format 3 kept: a format 3 store is sealed from its first commit, so even a
    // machine that never saw it refuses it.
    u.git(&["rm", "-q", "seal", "vaults/default/seal"]);
    u.git(&["commit", "-qm", "no more seals"]);
    u.run(&["get", "openai"])
        .fails(ErrorKind::Trust, "a downgrade");
    let mut c = u.command();
    c.env("XDG_STATE_HOME", u.home().join("fresh-state"))
        .args(["get", "openai"]);
    crate::common::finish(c, None).fails(ErrorKind::Trust, "a downgrade");
    // And `format: 2` written back too: this machine pinned the store, so still a downgrade,
    // for reads and writes alike.
    let store_yaml = u.store().join("store.yaml");
    let text = std::fs::read_to_string(&store_yaml).unwrap();
    std::fs::write(&store_yaml, text.replace("format: 3", "format: 2")).unwrap();
    u.git(&["commit", "-qam", "format 2 again"]);
    u.run(&["export", "openai"])
        .fails(ErrorKind::Trust, "this machine verified it sealed before");
    let r = u.run_with(&["login", "openai", "-c", "x", "--stdin"], Some("sk-x"));
    assert_ne!(r.code, 0, "{}", r.stdout);
    // Restoring the sealed state with git brings it back.
    u.git(&["reset", "-q", "--hard", head.trim()]);
    u.run(&["get", "openai"]).ok();
}

#[test]
fn a_lost_pin_is_refused_until_the_store_is_trusted_again() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let trust_dir = u.home().join(".local/state/authsome/trust");
    let index = std::fs::read_to_string(trust_dir.join("index")).unwrap();
    assert_eq!(index.trim(), u.store_id());
    let pin = trust_dir.join(format!("{}.yaml", u.store_id()));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&pin).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Deleting the pin (to get past a rollback refusal, say) is noticed, not taken for a first use.
    std::fs::remove_file(&pin).unwrap();
    u.run(&["get", "openai"]).fails(ErrorKind::Trust, "its pin");
    u.run(&["trust", "accept"]).ok();
    u.run(&["get", "openai"]).ok();
}

#[test]
fn sync_refuses_a_remote_that_does_not_verify_and_one_that_went_back() {
    let a = User::initialized();
    a.login("openai", "default", "sk-1").ok();
    let clone = crate::history::second_machine(&a);
    let on_b = crate::history::machine_b(&a, &clone);
    on_b(&["login", "openai", "-c", "b1", "--stdin"], Some("sk-b1")).ok();
    on_b(&["login", "openai", "-c", "b2", "--stdin"], Some("sk-b2")).ok();
    on_b(&["sync"], None).ok();
    a.run(&["sync"]).ok();
    let head = a.git(&["rev-parse", "HEAD"]);

    // mallory (push access) points the provider's state elsewhere with plain git and pushes.
    let file = clone.join("vaults/default/openai/provider.yaml");
    std::fs::write(&file, "default: b1\n").unwrap();
    let git_b = |args: &[&str]| {
        let mut all = vec!["-C", clone.to_str().unwrap()];
        all.extend_from_slice(args);
        crate::common::tool("git", &all, None)
    };
    git_b(&["commit", "-qam", "mallory was here"]);
    git_b(&["push", "-q", "origin", "HEAD:main"]);
    let r = a.run(&["sync"]).fails(
        ErrorKind::Trust,
        "does not verify, so nothing was rebased onto it",
    );
    assert!(r.stderr.contains("vaults/default"), "{}", r.stderr);
    assert_eq!(a.git(&["rev-parse", "HEAD"]), head, "HEAD did not move");
    a.run(&["get", "openai"]).ok();

    // The remote forced back to an older sealed state: a rollback, refused; HEAD and pin stay.
    git_b(&["reset", "-q", "--hard", "HEAD~3"]);
    git_b(&["push", "-q", "--force", "origin", "HEAD:main"]);
    let pin_file = a
        .home()
        .join(format!(".local/state/authsome/trust/{}.yaml", a.store_id()));
    let pin = std::fs::read_to_string(&pin_file).unwrap();
    a.run(&["sync"]).fails(ErrorKind::Trust, "rolled back");
    assert_eq!(a.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(std::fs::read_to_string(&pin_file).unwrap(), pin);
    a.run(&["get", "openai", "-c", "b2"]).ok();
}

#[test]
fn a_writer_cannot_seal_a_change_to_vault_yaml_but_an_admin_can() {
    let u = User::initialized(); // alice, the owner
    u.login("openai", "default", "sk-1").ok();
    let (b_age, b_ssh) = added_member(&u, "bob");
    u.run(&["grant", "bob", "default", "--role", "writer"]).ok();
    as_member(&u, &b_age, &b_ssh, &["trust", "accept"], None).ok();
    let head = u.git(&["rev-parse", "HEAD"]);
    // bob makes himself an admin by hand.
    let vault_yaml = u.store().join("vaults/default/vault.yaml");
    let text = std::fs::read_to_string(&vault_yaml).unwrap();
    std::fs::write(
        &vault_yaml,
        text.replace("admins:\n- tester", "admins:\n- bob\n- tester"),
    )
    .unwrap();
    u.git(&["commit", "-qam", "bob is an admin now"]);
    // His own machine, which verified the vault before, will not seal it for him.
    as_member(&u, &b_age, &b_ssh, &["seal", "vaults/default"], None)
        .fails(ErrorKind::Trust, "needs an admin of default or an owner");
    // A machine without a pin seals it (HEAD says bob is a writer), but nobody else accepts it.
    let mut c = u.command();
    c.env("AUTHSOME_IDENTITY", &b_age)
        .env("AUTHSOME_SIGNING_KEY", &b_ssh)
        .env("XDG_STATE_HOME", u.home().join("bob-fresh"))
        .args(["seal", "vaults/default"]);
    crate::common::finish(c, None).ok();
    u.run(&["verify"])
        .fails(ErrorKind::Trust, "needs an admin of default");
    u.run(&["get", "openai"])
        .fails(ErrorKind::Trust, "needs an admin of default");
    // The same change made by alice, an owner, through `grant`: it verifies everywhere.
    u.git(&["reset", "-q", "--hard", head.trim()]);
    u.run(&["grant", "bob", "default", "--role", "admin"]).ok();
    u.run(&["verify"]).ok();
    as_member(&u, &b_age, &b_ssh, &["verify"], None).ok();
    as_member(&u, &b_age, &b_ssh, &["get", "openai"], None).ok();
}

#[test]
fn a_trust_root_starts_at_the_owners_seal_and_replays_forward_above_min_seq() {
    let u = User::initialized(); // alice
    u.login("openai", "default", "sk-1").ok();
    let alice_fpr = {
        let shown: serde_json::Value =
            serde_json::from_str(&u.run(&["--json", "trust", "show"]).ok().stdout).unwrap();
        shown["owners"][0]["signers"][0]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // carol, granted by alice, is the last to write: HEAD's store seal is alice's, the vault's
    // carol's; a new machine rooted in alice's key replays carol's seal from alice's policy.
    let (c_age, c_ssh) = added_member(&u, "carol");
    u.run(&["grant", "carol", "default"]).ok();
    u.run(&["grant", "carol", "default", "--role", "writer"])
        .ok();
    as_member(
        &u,
        &c_age,
        &c_ssh,
        &["trust", "accept", "--root", &alice_fpr],
        None,
    )
    .ok();
    as_member(
        &u,
        &c_age,
        &c_ssh,
        &["login", "openai", "-c", "carol", "--stdin"],
        Some("sk-c"),
    )
    .ok();
    let store_seq: u64 = std::fs::read_to_string(u.store().join("seal"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("seq: "))
        .unwrap()
        .parse()
        .unwrap();
    let fresh = |name: &str, root: &str| {
        let mut c = u.command();
        c.env("XDG_STATE_HOME", u.home().join(name))
            .env("AUTHSOME_TRUST_ROOT", root)
            .args(["get", "openai", "-c", "carol"]);
        crate::common::finish(c, None)
    };
    fresh("ci-1", &alice_fpr).ok();
    fresh("ci-2", &format!("{alice_fpr},min-seq={store_seq}")).ok();
    // CI knows the store reached a higher seal than the remote shows: a rolled-back remote.
    fresh("ci-3", &format!("{alice_fpr},min-seq={}", store_seq + 1)).fails(
        ErrorKind::Trust,
        &format!("at or above seq {}", store_seq + 1),
    );
    // carol's key is no owner's: as a root, nothing it signed counts for the store scope.
    let carol_fpr = String::from_utf8(tool(
        "ssh-keygen",
        &["-l", "-f", c_ssh.to_str().unwrap()],
        None,
    ))
    .unwrap()
    .split_whitespace()
    .nth(1)
    .unwrap()
    .to_owned();
    fresh("ci-4", &carol_fpr).fails(ErrorKind::Trust, "trust root");
    fresh("ci-5", "not-a-fingerprint").fails(ErrorKind::Usage, "SHA256:");
}

#[test]
fn a_forged_store_sealed_only_by_mallory_is_refused_with_alices_root() {
    let alice = User::initialized();
    let alice_signer = std::fs::read_to_string(alice.store().join("principals/tester.yaml"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("- ssh-ed25519"))
        .unwrap()
        .trim_start_matches("- ")
        .to_owned();
    let alice_fpr = {
        let shown: serde_json::Value =
            serde_json::from_str(&alice.run(&["--json", "trust", "show"]).ok().stdout).unwrap();
        shown["owners"][0]["signers"][0]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // mallory's own store, naming alice as a co-owner, sealed by mallory alone.
    let mallory = User::initialized();
    std::fs::write(
        mallory.store().join("principals/alice.yaml"),
        format!(
            "kind: person\nrecipients:\n- {}\nsigners:\n- {alice_signer}\n",
            alice.recipient()
        ),
    )
    .unwrap();
    let store_yaml = mallory.store().join("store.yaml");
    let text = std::fs::read_to_string(&store_yaml).unwrap();
    std::fs::write(
        &store_yaml,
        text.replace("owners:\n- tester", "owners:\n- alice\n- tester"),
    )
    .unwrap();
    mallory.git(&["add", "-A"]);
    mallory.git(&["commit", "-qm", "alice is an owner too"]);
    mallory.run(&["seal"]).ok();
    mallory.run(&["verify"]).ok();
    let mut c = mallory.command();
    c.env("XDG_STATE_HOME", mallory.home().join("victim"))
        .env("AUTHSOME_TRUST_ROOT", &alice_fpr)
        .args(["list"]);
    crate::common::finish(c, None).fails(ErrorKind::Trust, "is signed by a key of the trust root");
}

#[test]
fn signed_commits_verify_with_git_and_the_printed_allowed_signers() {
    let u = User::initialized();
    assert_eq!(
        u.run(&["config", "signing.commits"]).ok().stdout,
        "signing.commits false\n"
    );
    u.run(&["config", "signing.commits", "maybe"])
        .fails(ErrorKind::Usage, "true or false");
    u.run(&["config", "signing.commits", "true"]).ok();
    u.login("openai", "default", "sk-1").ok();
    let allowed = u.home().join("allowed_signers");
    std::fs::write(&allowed, u.run(&["trust", "allowed-signers"]).ok().stdout).unwrap();
    let verify = |rev: &str| {
        std::process::Command::new("git")
            .args(["-C", u.store().to_str().unwrap()])
            .args(["-c", "gpg.format=ssh", "-c"])
            .arg(format!("gpg.ssh.allowedSignersFile={}", allowed.display()))
            .args(["verify-commit", rev])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap()
    };
    let good = verify("HEAD");
    let said = String::from_utf8_lossy(&good.stderr);
    assert!(
        good.status.success() && said.contains("Good \"git\" signature for tester"),
        "{said}"
    );
    // The commit before was made unsigned; git says so.
    assert!(!verify("HEAD~1").status.success());
    let fsck = tool(
        "git",
        &[
            "-C",
            u.store().to_str().unwrap(),
            "fsck",
            "--strict",
            "--no-dangling",
        ],
        None,
    );
    let fsck = String::from_utf8_lossy(&fsck);
    assert!(fsck.trim().is_empty(), "{fsck}");
    // A signature is never a source of trust: the seal still decides, and still verifies.
    u.run(&["verify"]).ok();
    u.run(&["config", "signing.commits", "false"]).ok();
    u.login("openai", "work", "sk-2").ok();
    assert!(!verify("HEAD").status.success());
}

#[test]
fn with_owner_threshold_two_a_store_change_waits_for_a_second_owners_cosign() {
    let u = User::initialized(); // alice
    let (b_age, b_ssh) = added_member(&u, "bob");
    as_member(&u, &b_age, &b_ssh, &["trust", "accept"], None).ok();
    // bob becomes an owner (alice alone may do that), then the store needs two owners from now
    // on: a change that raises the threshold needs as many owners as it asks for, so alice's
    // seal of it waits for bob's.
    let store_yaml = u.store().join("store.yaml");
    let text = std::fs::read_to_string(&store_yaml).unwrap();
    std::fs::write(
        &store_yaml,
        text.replace("owners:\n- tester", "owners:\n- bob\n- tester"),
    )
    .unwrap();
    u.git(&["commit", "-qam", "bob is an owner"]);
    u.run(&["seal", "store"]).ok();
    let text = std::fs::read_to_string(&store_yaml).unwrap();
    std::fs::write(
        &store_yaml,
        text.replace("- tester\n", "- tester\nowner_threshold: 2\n"),
    )
    .unwrap();
    u.git(&["commit", "-qam", "two owners, both needed"]);
    u.run(&["seal", "store"])
        .fails(ErrorKind::Trust, "needs the signatures of 2 owners");
    as_member(&u, &b_age, &b_ssh, &["seal", "store", "--cosign"], None).ok();
    u.run(&["verify"]).ok();

    // alice adds carol: the change waits on the pending ref, the branch does not move.
    let head = u.git(&["rev-parse", "HEAD"]);
    let carol = crate::common::age_keygen(&u.home().join("carol.age"));
    u.run(&["principal", "add", "carol", "--recipient", &carol])
        .fails(ErrorKind::Trust, "needs the signatures of 2 owners");
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);
    assert!(!u.store().join("principals/carol.yaml").exists());
    let pending = u.git(&["rev-parse", "refs/authsome/pending/store"]);
    assert_eq!(
        u.git(&["rev-parse", "refs/authsome/pending/store~1"]),
        head,
        "it waits on top of HEAD"
    );
    u.run(&["seal", "store", "--cosign"])
        .fails(ErrorKind::Usage, "signed this change already");
    // bob reviews it and cosigns: it lands, with both signatures, as alice's change.
    let landed = as_member(&u, &b_age, &b_ssh, &["seal", "store", "--cosign"], None).ok();
    assert!(landed.stdout.contains("landed"), "{}", landed.stdout);
    assert!(
        u.log()[0].starts_with("principal add carol"),
        "{:?}",
        u.log()
    );
    assert_eq!(u.git(&["rev-parse", "HEAD~1"]), head);
    assert_ne!(u.git(&["rev-parse", "HEAD"]), pending);
    let seal = std::fs::read_to_string(u.store().join("seal")).unwrap();
    assert_eq!(
        seal.matches("-----BEGIN SSH SIGNATURE-----").count(),
        2,
        "{seal}"
    );
    assert!(
        std::process::Command::new("git")
            .args([
                "-C",
                u.store().to_str().unwrap(),
                "rev-parse",
                "--verify",
                "-q"
            ])
            .arg("refs/authsome/pending/store")
            .output()
            .unwrap()
            .stdout
            .is_empty(),
        "the pending ref is gone"
    );
    u.run(&["verify"]).ok();
    as_member(&u, &b_age, &b_ssh, &["verify"], None).ok();
    u.assert_git_clean();
    // One owner's seal alone does not pass for the store scope now.
    let text = std::fs::read_to_string(u.store().join("principals/carol.yaml")).unwrap();
    std::fs::write(u.store().join("principals/carol.yaml"), text + "# edited\n").unwrap();
    u.git(&["commit", "-qam", "carol edited"]);
    as_member(&u, &b_age, &b_ssh, &["seal", "store"], None)
        .fails(ErrorKind::Trust, "needs the signatures of 2 owners");
}
