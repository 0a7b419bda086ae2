//! Crash safety: whatever an interrupted write leaves (git's locks, the journal, temporary files)
//! is finished or removed by the next command, a lock held by a git process is named and nothing
//! is written, and writers beside a `git commit` loop lose nothing.

use std::process::{Command, Stdio};
use std::time::Duration;

use authsome::error::ErrorKind;

use crate::common::User;

/// Every connection `logins` names decrypts to its key, the work tree is clean and git finds
/// nothing wrong.
fn assert_whole(u: &User, logins: &[(String, String)]) {
    for (conn, key) in logins {
        let got = u
            .run(&[
                "get",
                "openai",
                "-c",
                conn,
                "--field",
                "api_key",
                "--show-secret",
            ])
            .ok();
        assert_eq!(got.stdout.trim(), key, "{conn}");
    }
    u.assert_git_clean();
    u.git(&["fsck", "--strict", "--no-dangling"]);
    let git_dir = u.store().join(".git");
    for lock in ["index.lock", "HEAD.lock", "refs/heads/main.lock"] {
        assert!(!git_dir.join(lock).exists(), "{lock} left behind");
    }
}

/// The two connections the lock and leftover tests log in.
fn default_and_work() -> [(String, String); 2] {
    [
        ("default".into(), "sk-1".into()),
        ("work".into(), "sk-2".into()),
    ]
}

#[test]
fn a_git_lock_held_by_someone_else_is_named_and_nothing_is_written() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let head = u.git(&["rev-parse", "HEAD"]);
    let lock = u.store().join(".git/index.lock");
    std::fs::write(&lock, "").unwrap();
    let r = u
        .login("openai", "work", "sk-2")
        .fails(ErrorKind::Store, "index.lock is held by a git process");
    assert!(r.stderr.contains("rm "), "{}", r.stderr);
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head, "HEAD did not move");
    // Left there for minutes, it is a finding of `status`, with the command that clears it.
    let aged = Command::new("touch")
        .args(["-d", "2 minutes ago"])
        .arg(&lock)
        .status()
        .unwrap();
    assert!(aged.success());
    let status: serde_json::Value =
        serde_json::from_str(&u.run(&["--json", "status"]).flags().stdout).unwrap();
    let finding = status["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "stale_lock")
        .unwrap_or_else(|| panic!("{status}"));
    assert!(
        finding["what_to_do"].as_str().unwrap().contains("rm "),
        "{finding}"
    );
    std::fs::remove_file(&lock).unwrap();
    u.assert_git_clean();
    // A stale branch lock with no authsome write behind it is named too.
    let branch_lock = u.store().join(".git/refs/heads/main.lock");
    std::fs::write(&branch_lock, "").unwrap();
    u.login("openai", "work", "sk-2")
        .fails(ErrorKind::Store, "refs/heads/main.lock");
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head);
    std::fs::remove_file(&branch_lock).unwrap();
    u.login("openai", "work", "sk-2").ok();
    assert_whole(&u, &default_and_work());
}

#[test]
fn what_a_killed_writer_leaves_is_cleared_by_the_next_command() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    // A writer killed after it recorded its paths and took git's locks, mid-way through writing
    // a file: the journal, the locks and a temporary file are left.
    let git_dir = u.store().join(".git");
    std::fs::write(
        git_dir.join("authsome-sync"),
        "vaults/default/openai/provider.yaml\n",
    )
    .unwrap();
    for lock in ["index.lock", "HEAD.lock", "refs/heads/main.lock"] {
        std::fs::write(git_dir.join(lock), "").unwrap();
    }
    let temp = u
        .store()
        .join("vaults/default/openai/.provider.yaml.4242.tmp");
    std::fs::write(&temp, "half a fi").unwrap();
    // The next command, a read as much as a write, finishes what the writer left: no authsome
    // writer is alive (it takes authsome's own lock), so the journal's locks and files are its.
    let status = u.run(&["status"]).ok().stdout;
    assert!(status.contains("Nothing needs attention"), "{status}");
    assert!(!temp.exists());
    assert!(!git_dir.join("authsome-sync").exists());
    u.login("openai", "work", "sk-2").ok();
    assert_whole(&u, &default_and_work());
}

#[test]
fn writes_killed_at_random_moments_never_wedge_or_tear_the_store() {
    let u = User::initialized();
    u.login("openai", "default", "sk-0").ok();
    let mut kept = vec![("default".to_owned(), "sk-0".to_owned())];
    let mut interrupted = 0;
    let mut landed = 0;
    for i in 1..=24u64 {
        let key = format!("sk-{i}");
        let conn = format!("c{i}");
        let mut c = u.command();
        c.args(["login", "openai", "-c", &conn, "--stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(key.as_bytes()).unwrap();
        }
        // Kill it once it is inside its write (its journal exists), a little later each time
        // so the kills land on different steps: staging, the commit, the journal's end.
        let journal = u.store().join(".git/authsome-sync");
        while !journal.exists() && child.try_wait().unwrap().is_none() {
            std::hint::spin_loop();
        }
        std::thread::sleep(Duration::from_micros((i * 700) % 16_000));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if u.store().join(".git/authsome-sync").exists() {
            interrupted += 1;
        }
        // The next command succeeds, whatever the kill interrupted.
        let after = u.run(&["status"]);
        assert!(after.code == 0, "after kill {i}: {}", after.stderr);
        let listed = u.run(&["--json", "inspect", "openai"]).ok().stdout;
        if status.success() || listed.contains(&format!("\"{conn}\"")) {
            landed += 1;
            kept.push((conn, key));
        }
        assert_whole(&u, &kept);
    }
    eprintln!(
        "{interrupted} of 24 kills interrupted a write between its journal and its end; {landed} of the 24 writes landed"
    );
    // A write after all of it goes through.
    u.login("openai", "last", "sk-last").ok();
    kept.push(("last".into(), "sk-last".into()));
    assert_whole(&u, &kept);
}

#[test]
fn writers_beside_a_git_commit_loop_lose_nothing() {
    let u = User::initialized();
    let store = u.store();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let looping = {
        let stop = stop.clone();
        let store = store.clone();
        std::thread::spawn(move || {
            let mut commits = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let git = |args: &[&str]| {
                    Command::new("git")
                        .arg("-C")
                        .arg(&store)
                        .args(["-c", "user.name=loop", "-c", "user.email=loop@x"])
                        .args(args)
                        .env("GIT_CONFIG_NOSYSTEM", "1")
                        .env("GIT_CONFIG_GLOBAL", "/dev/null")
                        .output()
                        .unwrap()
                };
                git(&["add", "-A"]);
                if git(&["commit", "-qm", "loop"]).status.success() {
                    commits += 1;
                }
            }
            commits
        })
    };
    let writers: Vec<Vec<(String, String)>> = (0..4)
        .map(|w| {
            (0..6)
                .map(|i| (format!("w{w}-{i}"), format!("sk-{w}-{i}")))
                .collect()
        })
        .collect();
    let mut all = Vec::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = writers
            .into_iter()
            .map(|logins| {
                let u = &u;
                scope.spawn(move || {
                    for (conn, key) in &logins {
                        u.login("openai", conn, key).ok();
                    }
                    logins
                })
            })
            .collect();
        for h in handles {
            all.extend(h.join().unwrap());
        }
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let commits = looping.join().unwrap();
    // The loop may have committed a write's staged files itself (the write then found them
    // committed); it never committed an index from before a write over it.
    eprintln!("the git loop made {commits} commits");
    assert_whole(&u, &all);
    u.run(&["verify"]).ok();
}

/// Whether a `git commit` rewrote the index (git leaves it alone only when every folder's
/// cached tree is valid).
fn commit_rewrites_index(u: &User) -> bool {
    use std::os::unix::fs::MetadataExt;
    let index = u.store().join(".git/index");
    let before = std::fs::metadata(&index).unwrap().ino();
    u.git(&["commit", "-q", "--allow-empty", "-m", "probe"]);
    std::fs::metadata(&index).unwrap().ino() != before
}

#[test]
fn a_write_leaves_every_cached_tree_valid_even_after_git_invalidated_some() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    assert!(!commit_rewrites_index(&u), "after a plain write");
    // `git add` of a file it already had invalidates the cached trees on its way; git's next
    // commit would rewrite the index, and one that read it before an authsome write would put
    // back an index without that write's files.
    let path = "vaults/default/openai/default/connection.yaml";
    u.git(&["rm", "-q", "--cached", path]);
    u.git(&["add", path]);
    u.login("openai", "work", "sk-2").ok();
    assert!(
        !commit_rewrites_index(&u),
        "after a write over stale cached trees"
    );
    assert_whole(&u, &default_and_work());
}

#[test]
fn status_names_files_a_write_did_not_make_hidden_ones_too() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let stray = u.store().join("vaults/default/openai/.api_key.age.77.tmp");
    std::fs::write(&stray, "half").unwrap();
    let status = u.run(&["status"]).flags().stdout;
    assert!(
        status.contains("vaults/default/openai/.api_key.age.77.tmp"),
        "{status}"
    );
}

/// Every kind of write, stopped at every step (`--features fault-injection`): the next command
/// finds the store whole, HEAD is either where it was or the write's one commit, and the next
/// write goes through.
#[cfg(feature = "fault-injection")]
#[test]
fn every_write_stopped_at_every_step_leaves_a_whole_store() {
    const POINTS: [&str; 9] = [
        "objects",
        "journal",
        "index-lock",
        "tempfile",
        "workfile",
        "index",
        "mark",
        "ref",
        "end",
    ];
    type Write = (&'static str, Vec<&'static str>, Option<&'static str>);
    let writes = |def: &str| -> Vec<Write> {
        let def: &'static str = Box::leak(def.to_owned().into_boxed_str());
        vec![
            (
                "login",
                vec!["login", "openai", "-c", "new", "--stdin"],
                Some("sk-new"),
            ),
            (
                "login --force",
                vec!["login", "openai", "--force", "--stdin"],
                Some("sk-rot"),
            ),
            ("default", vec!["default", "openai", "work"], None),
            ("logout", vec!["logout", "openai", "-c", "work"], None),
            ("restore", vec!["restore", "openai", "--to", "HEAD~2"], None),
            ("provider add", vec!["provider", "add", def], None),
            ("grant", vec!["grant", "carol", "default"], None),
            ("vault create", vec!["vault", "create", "prod"], None),
        ]
    };
    let mut stopped = 0;
    for point in POINTS {
        for index in 0..8 {
            let u = User::initialized();
            u.login("openai", "default", "sk-1").ok();
            u.login("openai", "work", "sk-2").ok();
            let carol = crate::common::age_keygen(&u.home().join("carol.age"));
            u.run(&["principal", "add", "carol", "--recipient", &carol])
                .ok();
            let def = u.home().join("mine.yaml");
            std::fs::write(
                &def,
                "schema_version: 1\nname: mine\ndisplay_name: Mine\nauth_type: api_key\nflow: api_key\napi_key:\n  header_name: X-Key\nhosts:\n  - host: api.mine.example\n",
            )
            .unwrap();
            let (kind, args, stdin) = writes(def.to_str().unwrap()).swap_remove(index);
            let before = u.git(&["rev-parse", "HEAD"]);
            let mut c = u.command();
            c.env("AUTHSOME_CRASH_AT", point).args(&args);
            let r = crate::common::finish(c, stdin);
            let crashed = r.code == authsome::store::faults::CRASHED;
            assert!(crashed || r.code == 0, "{kind} at {point}: {}", r.stderr);
            stopped += usize::from(crashed);
            // The next command finishes what the crash left.
            let status = u.run(&["status"]);
            assert_eq!(status.code, 0, "{kind} at {point}: {}", status.stderr);
            let after = u.git(&["rev-parse", "HEAD"]);
            if after != before {
                assert_eq!(
                    u.git(&["rev-parse", "HEAD~1"]),
                    before,
                    "{kind} at {point}: one commit or none"
                );
            }
            u.assert_git_clean();
            u.git(&["fsck", "--strict", "--no-dangling"]);
            let stray = Command::new("find")
                .arg(u.store())
                .args([
                    "-name",
                    "*.tmp",
                    "-o",
                    "-name",
                    "*.lock",
                    "-o",
                    "-name",
                    "authsome-sync",
                ])
                .output()
                .unwrap();
            let stray = String::from_utf8_lossy(&stray.stdout);
            assert!(
                stray.lines().all(|l| l.ends_with("authsome.lock")),
                "{kind} at {point}: left {stray}"
            );
            u.run(&["verify"]).ok();
            u.run(&[
                "get",
                "openai",
                "-c",
                "default",
                "--field",
                "api_key",
                "--show-secret",
            ])
            .ok();
            u.login("openai", "after", "sk-after").ok();
        }
    }
    eprintln!(
        "{stopped} of {} writes stopped at their crash point",
        POINTS.len() * 8
    );
    assert!(
        stopped >= POINTS.len() * 6,
        "the crash points were reached ({stopped})"
    );
}

/// git's cached trees in the index (the `TREE` extension) after authsome writes: valid, so a
/// `git commit` racing a write finds nothing to recompute and never writes back the index it
/// read before the write (which the next `git commit` would commit over the write), and true,
/// so git builds from them exactly the tree the index holds.
#[test]
fn the_index_cached_trees_stay_valid_and_true_across_writes() {
    let u = User::initialized();
    let index = u.store().join(".git/index");
    // What `git write-tree` prints, and whether it had to rewrite the index to print it (it
    // does when a cached tree is missing or stale).
    let write_tree = || {
        let before = std::fs::read(&index).unwrap();
        let tree = u.git(&["write-tree"]).trim().to_owned();
        (tree, std::fs::read(&index).unwrap() != before)
    };
    let head_tree = || u.git(&["rev-parse", "HEAD^{tree}"]).trim().to_owned();
    u.login("openai", "default", "sk-1").ok();
    // git computes the cached trees once; from then on authsome keeps them.
    write_tree();
    let writes: [&[&str]; 4] = [
        &["login", "openai", "--connection", "work", "--stdin"],
        &["login", "anthropic", "--connection", "me", "--stdin"],
        &[
            "login",
            "openai",
            "--connection",
            "work",
            "--stdin",
            "--force",
        ],
        &["logout", "openai", "--connection", "work"],
    ];
    for args in writes {
        u.run_stdin(args, "sk-ant-new").ok();
        assert_eq!(write_tree(), (head_tree(), false), "after {args:?}");
    }
    // A file the user staged beside the store's is part of the index's tree, not hidden by a
    // cached tree that only knows HEAD's (git's own cached trees include it here).
    std::fs::write(u.store().join("NOTES"), "mine\n").unwrap();
    u.git(&["add", "NOTES"]);
    write_tree();
    u.login("openai", "other", "sk-2").ok();
    let (tree, _) = write_tree();
    assert_ne!(tree, head_tree());
    let listed = u.git(&["ls-tree", "--name-only", &tree]);
    assert!(listed.lines().any(|l| l == "NOTES"), "{listed}");
    assert_eq!(
        u.git(&["diff", "--cached", "--name-only", "HEAD"]).trim(),
        "NOTES"
    );
}

/// Ctrl-C, SIGTERM or SIGHUP in the middle of a write end the process only once the write is
/// whole: it commits, the work tree is clean and no journal or lock is left, before any other
/// authsome command has run to tidy up, and the process still ends by the signal it got.
#[test]
fn an_interrupt_during_a_write_ends_the_process_after_the_write() {
    use std::os::unix::process::ExitStatusExt;
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let points = ["journal", "workfile", "index", "mark"];
    let signals = [
        ("INT", libc::SIGINT),
        ("TERM", libc::SIGTERM),
        ("HUP", libc::SIGHUP),
    ];
    for (n, point) in points.iter().enumerate() {
        for (name, number) in signals {
            let conn = format!("c-{n}-{}", name.to_lowercase());
            let status = login_signalled(&u, &conn, &format!("{point}:{name}"));
            assert_eq!(status.signal(), Some(number), "{name} at {point}: {status}");
            let subject = u.git(&["log", "-1", "--format=%s"]);
            assert!(subject.contains(&conn), "{name} at {point}: {subject}");
            u.assert_git_clean();
            for left in [
                "authsome-sync",
                "index.lock",
                "HEAD.lock",
                "refs/heads/main.lock",
            ] {
                assert!(
                    !u.store().join(".git").join(left).exists(),
                    "{name} at {point} left {left}"
                );
            }
        }
    }
    u.run(&["verify"]).ok();
}

/// Once a write is done, a signal ends the process at once again, as its default action does:
/// holding signals during writes must not leave them ignored afterwards.
#[test]
fn a_signal_after_a_write_still_ends_the_process() {
    use std::os::unix::process::ExitStatusExt;
    let u = User::initialized();
    for (name, number) in [("TERM", libc::SIGTERM), ("INT", libc::SIGINT)] {
        let conn = format!("after-{}", name.to_lowercase());
        let status = login_signalled(&u, &conn, &format!("after-write:{name}"));
        assert_eq!(status.signal(), Some(number), "{name}: {status}");
        assert!(u.git(&["log", "-1", "--format=%s"]).contains(&conn));
    }
}

/// How `login openai -c CONN --stdin` ended when it sent itself a signal at `at` (the
/// `AUTHSOME_INTERRUPT_AT` of the fault-injection feature: `POINT:SIGNAL`).
fn login_signalled(u: &User, conn: &str, at: &str) -> std::process::ExitStatus {
    use std::io::Write;
    let mut child = u
        .command()
        .args(["login", "openai", "-c", conn, "--stdin"])
        .env("AUTHSOME_INTERRUPT_AT", at)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"sk-x").unwrap();
    child.wait().unwrap()
}
