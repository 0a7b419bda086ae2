//! A store on a read-only or a full file system, made for real in a private mount namespace
//! (`unshare -m`, then a read-only bind mount or a small tmpfs): writes fail with the store's
//! exit code and the cause named, nothing half-written is left, and what needs no disk works.

use std::process::Output;

use crate::common::User;

/// Runs `script` with `sh` in a mount namespace of its own after `setup` (commands that change
/// the mounts of `$STORE`), with the user's environment and `$A` the authsome binary.
fn in_namespace(u: &User, setup: &str, script: &str) -> Output {
    let mut c = u.command_of("unshare");
    c.args([
        "-m",
        "sh",
        "-c",
        &format!("set -e\n{setup}\nset +e\n{script}"),
    ]);
    c.env("STORE", u.store())
        .env("A", env!("CARGO_BIN_EXE_authsome"));
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_read_only_store_takes_writes_that_change_nothing_and_refuses_the_rest_with_exit_10() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let commits = u.log().len();
    let out = in_namespace(
        &u,
        r#"mount --bind -o ro "$STORE" "$STORE""#,
        r#"
printf sk-1 | "$A" login openai -c default --stdin >/dev/null; echo "same key: $?"
"$A" default openai default >/dev/null; echo "same default: $?"
printf sk-2 | "$A" login openai -c work --stdin; echo "new connection: $?"
echo "get: $("$A" get openai --field api_key --show-secret)"
"#,
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("same key: 0"), "{stdout}");
    assert!(stdout.contains("same default: 0"), "{stdout}");
    assert!(stdout.contains("new connection: 10"), "{stdout}");
    assert!(stdout.contains("get: sk-1"), "{stdout}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("is on a read-only file system"), "{stderr}");
    assert!(stderr.contains("mount it read-write"), "{stderr}");
    assert_eq!(u.log().len(), commits);
}

#[test]
fn a_full_disk_fails_a_write_with_its_cause_and_the_next_one_lands() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    // The store moves onto a 4 MiB tmpfs, which a file in .git/ (outside the work tree) fills.
    let out = in_namespace(
        &u,
        r#"
copy=$(mktemp -d)
cp -a "$STORE/." "$copy"
mount -t tmpfs -o size=4m tmpfs "$STORE"
cp -a "$copy/." "$STORE"
"#,
        r#"
dd if=/dev/zero of="$STORE/.git/fill" bs=4k 2>/dev/null
printf sk-2 | "$A" login openai -c work --stdin; echo "full: $?"
git -C "$STORE" status --porcelain --untracked-files=all | sed 's/^/status: /'
git -C "$STORE" fsck --strict --no-dangling 2>&1 | sed 's/^/fsck: /'
ls -a "$STORE/.git" | grep -E 'lock$|sync$|tmp$' | grep -v authsome.lock | sed 's/^/left: /'
rm "$STORE/.git/fill"
printf sk-2 | "$A" login openai -c work --stdin >/dev/null; echo "freed: $?"
echo "get: $("$A" get openai -c work --field api_key --show-secret)"
"#,
    );
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(stdout.contains("full: 10"), "{stdout}{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(stderr.contains("free some space"), "{stderr}");
    assert!(!stdout.contains("status: "), "{stdout}");
    assert!(!stdout.contains("fsck: "), "{stdout}");
    assert!(!stdout.contains("left: "), "{stdout}");
    assert!(stdout.contains("freed: 0"), "{stdout}{stderr}");
    assert!(stdout.contains("get: sk-2"), "{stdout}");
}
