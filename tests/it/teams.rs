//! Teams: principals, vaults with roles, grant and revoke-access with selective rekey, rotation
//! marks, agents that read one vault only, and the format upgrade. Three principals with keys of
//! their own (made by the real `age-keygen`), checked with the real `age` and `git`.

use std::path::{Path, PathBuf};

use authsome::error::ErrorKind;

use crate::common::{User, tool};

/// A teammate's age identity file and recipient, made by `age-keygen`.
struct Key {
    file: PathBuf,
    recipient: String,
}

fn keygen(u: &User, name: &str) -> Key {
    let file = u.home().join(format!("{name}.key"));
    let recipient = crate::common::age_keygen(&file);
    Key { file, recipient }
}

/// Decrypts a secret file with stock `age`; the value is the envelope's last line.
fn age_decrypt(key: &Path, file: &[u8]) -> Result<String, String> {
    let mut c = std::process::Command::new("age");
    c.args(["-d", "-i", key.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("age is installed (scripts/test)");
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(file).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        let text = String::from_utf8(out.stdout).unwrap();
        Ok(text.lines().last().unwrap_or_default().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Every secret file under `dir` of the store, as committed at HEAD.
fn secrets_under(u: &User, dir: &str) -> Vec<String> {
    u.git(&["ls-files", dir])
        .lines()
        .filter(|p| p.ends_with(".age") && !p.ends_with("fingerprint_key.age"))
        .map(str::to_owned)
        .collect()
}

/// alice's store with carol and bob as principals, vaults `prod` and `dev`, a connection in each.
fn team() -> (User, Key, Key) {
    let u = User::initialized();
    let carol = keygen(&u, "carol");
    let bob = keygen(&u, "bob");
    u.run(&["principal", "add", "carol", "--recipient", &carol.recipient])
        .ok();
    u.run(&["principal", "add", "bob", "--recipient", &bob.recipient])
        .ok();
    for v in ["prod", "dev"] {
        u.run(&["vault", "create", v]).ok();
        u.run_with(
            &["--vault", v, "login", "openai", "--stdin"],
            Some(&format!("sk-{v}-1")),
        )
        .ok();
        u.run_with(
            &["--vault", v, "login", "anthropic", "--stdin"],
            Some(&format!("sk-ant-{v}-1")),
        )
        .ok();
    }
    (u, carol, bob)
}

#[test]
fn grant_rekeys_only_the_vault_granted() {
    let (u, carol, _) = team();
    let prod_before = u.git(&["ls-tree", "-r", "HEAD", "vaults/prod"]);
    u.run(&["grant", "carol", "dev"]).ok();
    assert_eq!(
        u.log()[0],
        "grant carol dev (reader): 3 secrets re-encrypted",
        "two connections and the fingerprint key"
    );
    assert_eq!(
        u.git(&["ls-tree", "-r", "HEAD", "vaults/prod"]),
        prod_before,
        "no blob of prod changed"
    );
    let changed = u.git(&["diff", "--name-only", "HEAD~1", "HEAD"]);
    assert!(
        changed.lines().all(|p| p.starts_with("vaults/dev/")),
        "{changed}"
    );
    for f in secrets_under(&u, "vaults/dev") {
        let bytes = std::fs::read(u.store().join(&f)).unwrap();
        let value = age_decrypt(&carol.file, &bytes).expect("carol reads dev");
        assert!(value.ends_with("-dev-1"), "{f}: {value}");
    }
    for f in secrets_under(&u, "vaults/prod") {
        let bytes = std::fs::read(u.store().join(&f)).unwrap();
        assert!(age_decrypt(&carol.file, &bytes).is_err(), "carol reads {f}");
    }
    let dry = u.run(&["--json", "rekey", "--dry-run"]).ok();
    let dry: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    let stale: u64 = dry["vaults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rewritten"].as_u64().unwrap())
        .sum();
    assert_eq!(stale, 0, "{dry}");
    // Granting again changes nothing.
    let head = u.git(&["rev-parse", "HEAD"]);
    u.run(&["grant", "carol", "dev"]).ok();
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);
    u.assert_git_clean();
}

#[test]
fn revoke_access_rekeys_and_marks_credentials_for_rotation() {
    let (u, _, bob) = team();
    u.run(&["grant", "bob", "prod"]).ok();
    let file = "vaults/prod/openai/default/api_key.age";
    let before = std::fs::read(u.store().join(file)).unwrap();
    assert_eq!(age_decrypt(&bob.file, &before).unwrap(), "sk-prod-1");

    u.run(&["revoke-access", "bob", "prod"]).ok();
    assert_eq!(
        u.log()[0],
        "revoke-access bob prod: 3 secrets re-encrypted, 2 connections need rotation"
    );
    for f in secrets_under(&u, "vaults/prod") {
        let bytes = std::fs::read(u.store().join(&f)).unwrap();
        assert!(
            age_decrypt(&bob.file, &bytes).is_err(),
            "bob still reads {f}"
        );
    }
    // What bob could read stays readable in history: rotation is the cure.
    let old = tool(
        "git",
        &[
            "-C",
            u.store().to_str().unwrap(),
            "show",
            &format!("HEAD~1:{file}"),
        ],
        None,
    );
    assert_eq!(age_decrypt(&bob.file, &old).unwrap(), "sk-prod-1");

    let status = u.run(&["--vault", "prod", "--json", "status"]).flags();
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let rotation: Vec<&str> = status["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "rotation")
        .map(|f| f["subject"].as_str().unwrap())
        .collect();
    assert_eq!(rotation, ["anthropic/default", "openai/default"]);
    let warned = u.run(&["--vault", "prod", "get", "openai"]).ok();
    assert!(
        warned
            .stderr
            .contains("should be rotated (bob lost access to prod)"),
        "{}",
        warned.stderr
    );

    // A new key clears the mark; `rotation done` clears another.
    u.run_with(
        &["--vault", "prod", "login", "openai", "--force", "--stdin"],
        Some("sk-prod-2"),
    )
    .ok();
    u.run(&[
        "--vault",
        "prod",
        "rotation",
        "done",
        "anthropic/default",
        "--note",
        "rotated in dashboard",
    ])
    .ok();
    assert_eq!(
        u.log()[0],
        "rotation done anthropic/default (\"rotated in dashboard\")"
    );
    let list = u.run(&["rotation", "list"]).ok();
    assert!(list.stdout.contains("Nothing to rotate"), "{}", list.stdout);
    u.assert_git_clean();
}

#[test]
fn a_rekey_that_cannot_decrypt_every_stale_file_writes_nothing() {
    let (u, carol, _) = team();
    // alice leaves vault `dev` to carol; then a teammate's commit adds bob as a reader.
    u.run(&["grant", "carol", "dev"]).ok();
    u.run(&["revoke-access", "tester", "dev"]).ok();
    let secret = std::fs::read(u.store().join("vaults/dev/openai/default/api_key.age")).unwrap();
    assert!(age_decrypt(&carol.file, &secret).is_ok());
    let meta = u.store().join("vaults/dev/vault.yaml");
    let text = std::fs::read_to_string(&meta).unwrap();
    std::fs::write(&meta, text.replace("- carol", "- bob\n- carol")).unwrap();
    u.git(&["commit", "-qam", "add bob to dev by hand"]);
    let head = u.git(&["rev-parse", "HEAD"]);
    let r = u.run(&["rekey", "dev"]).fails(
        ErrorKind::Crypto,
        "cannot decrypt 3 stale secrets of vault \"dev\"",
    );
    assert!(
        r.stderr.contains("vaults/dev/openai/default/api_key.age"),
        "{}",
        r.stderr
    );
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);
    u.assert_git_clean();
    // Writing into a vault this identity cannot read is refused, naming the fix.
    u.run_with(
        &["--vault", "dev", "login", "groq", "--stdin"],
        Some("gsk_x"),
    )
    .fails(ErrorKind::Crypto, "authsome grant tester dev");
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);
}

#[test]
fn an_agent_reads_its_one_vault_and_nothing_else() {
    let (u, _, _) = team();
    let key = u.home().join("bot.key");
    u.run(&[
        "agent",
        "create",
        "deploy-bot",
        "--vault",
        "dev",
        "--expires",
        "30d",
        "--out",
        key.to_str().unwrap(),
    ])
    .ok();
    assert!(
        u.log()[0].starts_with("agent create deploy-bot (vault dev, reader, expires "),
        "{}",
        u.log()[0]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let as_agent = |args: &[&str]| u.run_as(&key, args, None);
    let got = as_agent(&[
        "--vault",
        "dev",
        "get",
        "openai",
        "--field",
        "api_key",
        "--show-secret",
    ])
    .ok();
    assert_eq!(got.stdout.trim(), "sk-dev-1");
    as_agent(&[
        "--vault",
        "prod",
        "get",
        "openai",
        "--field",
        "api_key",
        "--show-secret",
    ])
    .fails(ErrorKind::Crypto, "not a recipient");
    as_agent(&["--vault", "prod", "export", "openai"]).fails(ErrorKind::Crypto, "not a recipient");
    for f in secrets_under(&u, "vaults/prod") {
        let bytes = std::fs::read(u.store().join(&f)).unwrap();
        assert!(age_decrypt(&key, &bytes).is_err(), "the agent reads {f}");
    }
    // An agent is no admin: it cannot widen its own access.
    as_agent(&["grant", "deploy-bot", "prod"])
        .fails(ErrorKind::Crypto, "not an admin of vault \"prod\"");
}

#[test]
fn principal_remove_takes_every_role_in_one_commit() {
    let (u, carol, bob) = team();
    u.run(&["grant", "bob", "prod"]).ok();
    u.run(&["grant", "bob", "dev", "--role", "writer"]).ok();
    u.run(&["grant", "carol", "dev"]).ok();
    let commits = u.log().len();
    u.run(&["principal", "remove", "bob"]).ok();
    assert_eq!(u.log().len(), commits + 1, "one commit");
    assert_eq!(
        u.log()[0],
        "principal remove bob: dev, prod; 3 secrets re-encrypted; 2 connections need rotation"
    );
    assert!(!u.store().join("principals/bob.yaml").exists());
    for v in ["prod", "dev"] {
        let meta =
            std::fs::read_to_string(u.store().join(format!("vaults/{v}/vault.yaml"))).unwrap();
        assert!(!meta.contains("bob"), "{v}: {meta}");
    }
    for f in secrets_under(&u, "vaults/prod") {
        let bytes = std::fs::read(u.store().join(&f)).unwrap();
        assert!(age_decrypt(&bob.file, &bytes).is_err());
    }
    // Only prod, which bob read, was rekeyed and marked: dev kept carol's access and its blobs.
    let dev = secrets_under(&u, "vaults/dev");
    let bytes = std::fs::read(u.store().join(&dev[0])).unwrap();
    assert!(age_decrypt(&carol.file, &bytes).is_ok());
    u.assert_git_clean();
}

#[test]
fn bad_membership_input_changes_nothing() {
    let (u, _, _) = team();
    let head = u.git(&["rev-parse", "HEAD"]);
    u.run(&["grant", "nobody", "dev"])
        .fails(ErrorKind::Usage, "no principal named \"nobody\"");
    u.run(&["grant", "carol", "nope"])
        .fails(ErrorKind::Store, "no vault named \"nope\"");
    u.run(&["principal", "add", "carol", "--recipient", "age1x"])
        .fails(ErrorKind::AlreadyExists, "already exists");
    u.run(&["principal", "add", "dave"])
        .fails(ErrorKind::Usage, "at least one recipient");
    u.run(&["principal", "add", "dave", "--recipient", "age1notakey"])
        .fails(ErrorKind::Usage, "invalid age recipient");
    u.run(&["vault", "create", "seal"])
        .fails(ErrorKind::Usage, "reserved");
    u.run(&["vault", "create", "dev"])
        .fails(ErrorKind::AlreadyExists, "already exists");
    u.run(&["revoke-access", "tester", "default"])
        .fails(ErrorKind::Usage, "without a reader");
    u.run(&["principal", "remove", "tester"])
        .fails(ErrorKind::Usage, "last owner");
    u.run(&["revoke-access", "bob", "dev"])
        .fails(ErrorKind::Usage, "bob has no role");
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);
    u.assert_git_clean();
}

#[test]
fn a_format_1_store_is_upgraded_in_one_commit_before_any_write() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    // Write the store back as format 1 had it.
    let store_file = u.store().join("store.yaml");
    let id = u.store_id();
    std::fs::write(&store_file, format!("format: 1\nid: {id}\n")).unwrap();
    std::fs::write(
        u.store().join("vaults/default/vault.yaml"),
        "principals:\n- tester\n",
    )
    .unwrap();
    u.git(&["rm", "-q", "seal", "vaults/default/seal"]);
    u.git(&["commit", "-qam", "as format 1 wrote it"]);
    // This machine trusted the sealed store: seals gone and an older format is a downgrade.
    u.run(&["get", "openai"])
        .fails(ErrorKind::Trust, "its seals were removed (a downgrade)");
    // A store an older authsome wrote, on a machine that never saw it sealed.
    std::fs::remove_dir_all(u.home().join(".local/state/authsome/trust")).unwrap();
    let head = u.git(&["rev-parse", "HEAD"]);
    // Reads work; writes say what to do.
    u.run(&["get", "openai"]).ok();
    let r = u.run_with(&["login", "openai", "-c", "work", "--stdin"], Some("sk-2"));
    r.fails(ErrorKind::Store, "run `authsome upgrade`");
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);

    u.run(&["upgrade"]).ok();
    assert_eq!(u.log()[0], "upgrade: format 3; owners tester");
    // Format 3 is sealed from the upgrade on, by the owner who ran it, and pinned here.
    u.run(&["verify"]).ok();
    assert!(u.store().join("seal").exists() && u.store().join("vaults/default/seal").exists());
    let meta = std::fs::read_to_string(u.store().join("vaults/default/vault.yaml")).unwrap();
    assert!(
        meta.contains("readers:") && meta.contains("admins:"),
        "{meta}"
    );
    assert!(!meta.contains("principals:"), "{meta}");
    u.login("openai", "work", "sk-2").ok();
    u.run(&["upgrade"]).ok();
    assert_eq!(
        u.log()[0],
        "login openai/work",
        "a second upgrade changes nothing"
    );
    u.assert_git_clean();
}

#[test]
fn a_grant_synced_to_a_second_clone_is_read_with_the_new_members_identity() {
    let (u, carol, _) = team();
    let clone = crate::history::second_machine(&u);
    u.run(&["grant", "carol", "dev"]).ok();
    u.run(&["sync"]).ok();
    tool(
        "git",
        &["-C", clone.to_str().unwrap(), "pull", "-q", "--rebase"],
        None,
    );
    let mut c = u.command();
    c.env("AUTHSOME_IDENTITY", &carol.file)
        .env("AUTHSOME_STORE", &clone)
        .args(["--vault", "dev", "export", "openai"]);
    let r = crate::common::finish(c, None).ok();
    assert_eq!(r.stdout.trim(), "OPENAI_API_KEY=sk-dev-1");
}

#[test]
fn onboarding_by_a_signed_join_request() {
    let alice = User::initialized();
    let signing =
        std::fs::read_to_string(alice.home().join(".config/authsome/signing_key")).unwrap();
    assert!(
        signing.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"),
        "init makes a signing key"
    );
    let principal = std::fs::read_to_string(alice.store().join("principals/tester.yaml")).unwrap();
    assert!(
        principal.contains("signers:\n- ssh-ed25519 "),
        "{principal}"
    );

    // carol: her own home, identity and signing key, and a clone of the store.
    let carol = User::new();
    let clone = carol.home().join("clone");
    tool(
        "git",
        &[
            "clone",
            "-q",
            alice.store().to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
        None,
    );
    let in_clone = |args: &[&str]| {
        let mut c = carol.command();
        c.env("AUTHSOME_STORE", &clone).args(args);
        crate::common::finish(c, None)
    };
    let init = in_clone(&["init"]);
    init.fails(ErrorKind::Crypto, "not a recipient of vault \"default\"");
    let token = in_clone(&["join-request", "--name", "carol"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    assert!(
        token.starts_with(&format!("authsome-join:1:{}:carol:age1", alice.store_id())),
        "{token}"
    );

    // The signature is a standard SSHSIG: stock ssh-keygen verifies it.
    let (body, sig) = token.rsplit_once(':').unwrap();
    let signer = body.rsplit(':').next().unwrap();
    use base64::Engine;
    let pem = base64::engine::general_purpose::STANDARD
        .decode(sig)
        .unwrap();
    let sig_file = carol.home().join("join.sig");
    std::fs::write(&sig_file, pem).unwrap();
    let allowed = carol.home().join("allowed_signers");
    std::fs::write(&allowed, format!("carol {signer}\n")).unwrap();
    tool(
        "ssh-keygen",
        &[
            "-Y",
            "verify",
            "-f",
            allowed.to_str().unwrap(),
            "-I",
            "carol",
            "-n",
            "authsome-join",
            "-s",
            sig_file.to_str().unwrap(),
        ],
        Some(body.as_bytes()),
    );

    // alice: a token changed in one character is refused; the real one adds carol.
    let head = alice.git(&["rev-parse", "HEAD"]);
    let tampered = token.replacen(":carol:", ":carlo:", 1);
    alice
        .run(&["principal", "add", "carlo", "--from-request", &tampered])
        .fails(ErrorKind::Usage, "signature does not match");
    assert_eq!(alice.git(&["rev-parse", "HEAD"]), head);
    let added = alice
        .run(&["principal", "add", "carol", "--from-request", &token])
        .ok();
    assert!(added.stdout.contains("ssh SHA256:"), "{}", added.stdout);
    alice.run(&["grant", "carol", "default"]).ok();
    alice.login("openai", "default", "sk-shared").ok();

    // carol reads it from her clone with her own identity.
    tool(
        "git",
        &["-C", clone.to_str().unwrap(), "pull", "-q", "--rebase"],
        None,
    );
    // Her first use of the clone: nothing is used until she trusts it, by alice's signing key
    // fingerprint, which alice gave her over another channel.
    in_clone(&["get", "openai"]).fails(ErrorKind::Trust, "not trusted this sealed store yet");
    let shown: serde_json::Value =
        serde_json::from_str(&alice.run(&["--json", "trust", "show"]).ok().stdout).unwrap();
    let root = shown["owners"][0]["signers"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(root.starts_with("SHA256:"), "{shown}");
    in_clone(&["trust", "accept", "--root", &root]).ok();
    let got = in_clone(&["get", "openai", "--field", "api_key", "--show-secret"]).ok();
    assert_eq!(got.stdout.trim(), "sk-shared");
}

#[test]
fn a_join_request_for_another_store_is_refused() {
    let alice = User::initialized();
    let other = User::initialized();
    let token = other.run(&["join-request"]).ok().stdout.trim().to_owned();
    alice
        .run(&["principal", "add", "someone", "--from-request", &token])
        .fails(ErrorKind::Usage, "is for another store");
}

#[test]
fn a_writer_agent_gets_a_signing_key_of_its_own() {
    let (u, _, _) = team();
    let key = u.home().join("ci.key");
    u.run(&["agent", "create", "ci", "--vault", "dev", "--writer"])
        .fails(ErrorKind::Usage, "--out");
    u.run(&[
        "agent",
        "create",
        "ci",
        "--vault",
        "dev",
        "--writer",
        "--out",
        key.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(u.log()[0], "agent create ci (vault dev, reader, writer)");
    let signing = key.with_extension("key.signing");
    for f in [&key, &signing] {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", f.display());
        }
    }
    // The signing key is a real OpenSSH key, and the principal lists its public half.
    let public = String::from_utf8(tool(
        "ssh-keygen",
        &["-y", "-f", signing.to_str().unwrap()],
        None,
    ))
    .unwrap();
    let principal = std::fs::read_to_string(u.store().join("principals/ci.yaml")).unwrap();
    assert!(
        principal.contains(public.split_whitespace().nth(1).unwrap()),
        "{principal}"
    );
    let meta = std::fs::read_to_string(u.store().join("vaults/dev/vault.yaml")).unwrap();
    assert!(meta.contains("writers:\n- ci\n"), "{meta}");
}

#[test]
fn rotate_key_moves_a_principal_to_new_keys() {
    let (u, carol, _) = team();
    u.run(&["grant", "carol", "dev"]).ok();
    let new = keygen(&u, "carol-new");
    u.run(&[
        "principal",
        "rotate-key",
        "carol",
        "--recipient",
        &new.recipient,
        "--compromised",
    ])
    .ok();
    let message = &u.log()[0];
    assert!(
        message.starts_with("principal rotate-key carol (age1")
            && message
                .ends_with("): 1 vaults, 3 secrets re-encrypted; 2 connections need rotation"),
        "{message}"
    );
    for f in secrets_under(&u, "vaults/dev") {
        let bytes = std::fs::read(u.store().join(&f)).unwrap();
        assert!(age_decrypt(&new.file, &bytes).is_ok(), "{f}");
        assert!(age_decrypt(&carol.file, &bytes).is_err(), "{f}");
    }
    let list = u.run(&["--json", "rotation", "list"]).ok();
    let list: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(list["rotation"].as_array().unwrap().len(), 2, "{list}");
    u.assert_git_clean();
}

#[test]
fn an_expired_agent_is_flagged_then_dropped_by_the_next_admin_write() {
    let (u, _, _) = team();
    let key = u.home().join("old.key");
    let create = |expires: &str| {
        u.run(&[
            "agent",
            "create",
            "old-bot",
            "--vault",
            "dev",
            "--expires",
            expires,
            "--out",
            key.to_str().unwrap(),
        ])
    };
    create("2020-01-01").fails(ErrorKind::Usage, "already past");
    create("30d").ok();
    // Time passes: its expiry is behind us now.
    let file = u.store().join("principals/old-bot.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let expires = text
        .lines()
        .find(|l| l.starts_with("expires:"))
        .unwrap()
        .to_owned();
    std::fs::write(
        &file,
        text.replace(&expires, "expires: \"2020-01-01T00:00:00Z\""),
    )
    .unwrap();
    u.git(&["commit", "-qam", "time passes"]);
    u.run(&["seal"]).ok();
    let status = u.run(&["--json", "status"]).flags();
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert!(
        status["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "expired_principal" && f["subject"] == "principal old-bot"),
        "{status}"
    );
    u.run(&["grant", "carol", "dev"]).ok();
    let log = u.log();
    assert_eq!(log[1], "grant carol dev (reader): 3 secrets re-encrypted");
    assert_eq!(
        log[0], "expire agent old-bot from dev",
        "a commit of its own, after the admin's change"
    );
    let meta = std::fs::read_to_string(u.store().join("vaults/dev/vault.yaml")).unwrap();
    assert!(!meta.contains("old-bot"), "{meta}");
    for f in secrets_under(&u, "vaults/dev") {
        let bytes = std::fs::read(u.store().join(&f)).unwrap();
        assert!(
            age_decrypt(&key, &bytes).is_err(),
            "the expired agent reads {f}"
        );
    }
}

#[test]
fn only_writers_change_a_vaults_connections() {
    let (u, _, _) = team();
    let key = u.home().join("reader.key");
    u.run(&[
        "agent",
        "create",
        "reader-bot",
        "--vault",
        "dev",
        "--out",
        key.to_str().unwrap(),
    ])
    .ok();
    let head = u.git(&["rev-parse", "HEAD"]);
    let as_agent = |args: &[&str], stdin: Option<&str>| u.run_as(&key, args, stdin);
    as_agent(
        &["--vault", "dev", "login", "groq", "--stdin"],
        Some("gsk_x"),
    )
    .fails(ErrorKind::Crypto, "--writer");
    as_agent(&["--vault", "dev", "logout", "openai"], None)
        .fails(ErrorKind::Crypto, "not a writer of vault \"dev\"");
    as_agent(&["--vault", "dev", "default", "openai", "default"], None)
        .fails(ErrorKind::Crypto, "not a writer");
    as_agent(
        &["--vault", "dev", "rotation", "done", "openai/default"],
        None,
    )
    .fails(ErrorKind::Crypto, "not a writer");
    // A provider's hosts decide where credentials go: only owners change them.
    let def = u.home().join("evil.yaml");
    std::fs::write(&def, "schema_version: 1\nname: openai\ndisplay_name: Evil\nauth_type: api_key\nflow: api_key\nhosts:\n  - host: attacker.example\napi_key:\n  header_name: Authorization\n  header_prefix: Bearer\n").unwrap();
    as_agent(&["provider", "add", "--force", def.to_str().unwrap()], None)
        .fails(ErrorKind::Crypto, "only owners can change providers");
    // No identity, or one that is no principal, is refused too: the check fails closed.
    u.run_as(
        &u.home().join("missing.key"),
        &["--vault", "dev", "logout", "openai"],
        None,
    )
    .fails(ErrorKind::Crypto, "needs your identity");
    let stranger = keygen(&u, "stranger");
    u.run_as(
        &stranger.file,
        &["--vault", "dev", "default", "openai", "default"],
        None,
    )
    .fails(ErrorKind::Crypto, "is not a principal of this store");
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);
}

#[test]
fn restore_and_relogin_keep_what_membership_requires() {
    let (u, carol, bob) = team();
    u.run(&["grant", "bob", "prod"]).ok();
    u.run(&["revoke-access", "bob", "prod"]).ok();
    // The same key again is no rotation: the mark stays.
    u.run_with(
        &["--vault", "prod", "login", "openai", "--force", "--stdin"],
        Some("sk-prod-1"),
    )
    .ok();
    let marked = |u: &User| {
        std::fs::read_to_string(u.store().join("vaults/prod/openai/default/connection.yaml"))
            .unwrap()
            .contains("rotation:")
    };
    assert!(marked(&u), "the same key cleared the mark");
    // Restoring the connection as it was before bob left keeps the mark, and does not bring
    // bob back as a recipient.
    let before_grant = u.git(&["rev-list", "-n", "1", "HEAD~3"]);
    u.run(&[
        "--vault",
        "prod",
        "restore",
        "openai/default",
        "--to",
        before_grant.trim(),
    ])
    .ok();
    assert!(marked(&u), "restore erased the mark");
    let file = std::fs::read(u.store().join("vaults/prod/openai/default/api_key.age")).unwrap();
    assert!(
        age_decrypt(&bob.file, &file).is_err(),
        "restore gave bob the key back"
    );
    // Restoring after a grant re-encrypts to the new reader too.
    u.run(&["grant", "carol", "prod"]).ok();
    let before = u.git(&["rev-list", "-n", "1", "HEAD~1"]);
    u.run(&[
        "--vault",
        "prod",
        "restore",
        "anthropic/default",
        "--to",
        before.trim(),
    ])
    .ok();
    let file = std::fs::read(u.store().join("vaults/prod/anthropic/default/api_key.age")).unwrap();
    assert_eq!(age_decrypt(&carol.file, &file).unwrap(), "sk-ant-prod-1");
    u.assert_git_clean();
}

#[test]
fn an_ssh_key_is_the_same_recipient_whatever_its_comment() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let key = u.home().join("dave_ed25519");
    let public = crate::common::ssh_keygen(&key, "dave@laptop");
    assert!(public.trim().ends_with("dave@laptop"));
    u.run(&["principal", "add", "dave", "--recipient", public.trim()])
        .ok();
    u.run(&["grant", "dave", "default"]).ok();
    let got = u.run_as(
        &key,
        &["get", "openai", "--field", "api_key", "--show-secret"],
        None,
    );
    assert_eq!(got.ok().stdout.trim(), "sk-1");
    let other_comment = public.trim().replace("dave@laptop", "someone@else");
    u.run(&["principal", "add", "eve", "--recipient", &other_comment])
        .fails(ErrorKind::Usage, "already belongs to principal \"dave\"");
}

#[test]
fn agents_are_the_owners_to_create_and_cannot_give_themselves_signers() {
    let (u, _, _) = team();
    let head = u.git(&["rev-parse", "HEAD"]);
    // A key file already there is never overwritten, and nothing is committed.
    let key = u.home().join("ci.key");
    std::fs::write(u.home().join("ci.key.signing"), "keep me").unwrap();
    u.run(&[
        "agent",
        "create",
        "ci",
        "--vault",
        "dev",
        "--writer",
        "--out",
        key.to_str().unwrap(),
    ])
    .fails(ErrorKind::Usage, "cannot be made");
    assert_eq!(
        std::fs::read_to_string(u.home().join("ci.key.signing")).unwrap(),
        "keep me"
    );
    assert!(!key.exists(), "the reserved identity file was left behind");
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);

    let bot = u.home().join("bot.key");
    u.run(&[
        "agent",
        "create",
        "bot",
        "--vault",
        "dev",
        "--out",
        bot.to_str().unwrap(),
    ])
    .ok();
    let signer = String::from_utf8(tool(
        "ssh-keygen",
        &[
            "-y",
            "-f",
            u.home()
                .join(".config/authsome/signing_key")
                .to_str()
                .unwrap(),
        ],
        None,
    ))
    .unwrap();
    u.run_as(
        &bot,
        &["principal", "rotate-key", "bot", "--signer", signer.trim()],
        None,
    )
    .fails(ErrorKind::Crypto, "only an owner can give it a signer");
    u.run_as(
        &bot,
        &[
            "agent",
            "create",
            "bot2",
            "--vault",
            "dev",
            "--out",
            u.home().join("bot2.key").to_str().unwrap(),
        ],
        None,
    )
    .fails(ErrorKind::Crypto, "only owners can create agents");
}
