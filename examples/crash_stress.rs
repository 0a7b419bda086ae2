//! Crash and concurrency stress against the release binary, at the sizes the reliability issue
//! names: a store of 300 connections, writes killed with SIGKILL, SIGINT and SIGTERM at moments
//! spread over their run, and writers beside a `git add -A && git commit` loop.
//!
//! ```text
//! cargo run --release --example crash_stress              # 200 SIGKILL, 60 SIGINT, 60 SIGTERM
//! cargo run --release --example crash_stress -- 20 6 6    # fewer
//! STRESS_KEEP=1 cargo run --release --example crash_stress # keep the store to look at
//! ```
//!
//! After every kill the next command must succeed, `git status` must be clean, `git fsck
//! --strict` must pass, no git lock, temporary file or journal may be left, and every connection
//! that landed must decrypt to its key. It prints what it found and exits non-zero on a failure.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("counts of kills"))
        .collect();
    let (kills, ints, terms) = match args.as_slice() {
        [k, i, t] => (*k, *i, *t),
        _ => (200, 60, 60),
    };
    let bin = release_binary();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_owned();
    let home = home.as_path();
    if std::env::var_os("STRESS_KEEP").is_some() {
        eprintln!("keeping the store: HOME={}", home.display());
        std::mem::forget(dir);
    }
    run(&bin, home, &["init"], None);
    let start = Instant::now();
    for i in 0..300 {
        run(
            &bin,
            home,
            &["login", "openai", "-c", &format!("base{i}"), "--stdin"],
            Some(&format!("sk-base-{i}")),
        );
    }
    eprintln!("a store of 300 connections in {:.1?}", start.elapsed());
    let mut landed: Vec<(String, String)> = Vec::new();
    let mut interrupted = 0;
    let signals = std::iter::repeat_n("KILL", kills)
        .chain(std::iter::repeat_n("INT", ints))
        .chain(std::iter::repeat_n("TERM", terms));
    for (n, signal) in signals.enumerate() {
        let conn = format!("k{n}");
        let key = format!("sk-k-{n}");
        let mut child = command(&bin, home, &["login", "openai", "-c", &conn, "--stdin"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(key.as_bytes())
            .unwrap();
        let journal = home.join(".authsome/.git/authsome-sync");
        while !journal.exists() && child.try_wait().unwrap().is_none() {
            std::hint::spin_loop();
        }
        std::thread::sleep(Duration::from_micros((n as u64 * 397) % 9_000));
        let _ = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status();
        let status = child.wait().unwrap();
        if journal.exists() {
            interrupted += 1;
        }
        // The next command finishes what the kill left.
        run(&bin, home, &["status"], None);
        let shown = output(&bin, home, &["--json", "inspect", "openai"]);
        if status.success() || shown.contains(&format!("\"{conn}\"")) {
            landed.push((conn, key));
        }
        check_whole(&bin, home, &landed);
    }
    eprintln!(
        "{} kills ({kills} SIGKILL, {ints} SIGINT, {terms} SIGTERM): {interrupted} cut a write short, {} writes landed; 0 wedged, 0 torn",
        kills + ints + terms,
        landed.len()
    );

    // 8 writers x 10 logins beside a git add && git commit loop.
    let store = home.join(".authsome");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let looping = {
        let (stop, store) = (stop.clone(), store.clone());
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
                commits += usize::from(git(&["commit", "-qm", "loop"]).status.success());
            }
            commits
        })
    };
    let mut written = Vec::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|w| {
                let bin = &bin;
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    for i in 0..10 {
                        let conn = format!("w{w}x{i}");
                        let key = format!("sk-w-{w}-{i}");
                        run(
                            bin,
                            home,
                            &["login", "openai", "-c", &conn, "--stdin"],
                            Some(&key),
                        );
                        mine.push((conn, key));
                    }
                    mine
                })
            })
            .collect();
        for h in handles {
            written.extend(h.join().unwrap());
        }
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let commits = looping.join().unwrap();
    landed.extend(written);
    check_whole(&bin, home, &landed);
    eprintln!(
        "8 writers x 10 logins beside a git commit loop ({commits} loop commits): 0 lost; {} connections decrypt",
        landed.len()
    );
}

fn check_whole(bin: &Path, home: &Path, landed: &[(String, String)]) {
    let store = home.join(".authsome");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(&store)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(
        git(&["status", "--porcelain"]),
        "",
        "the work tree is clean"
    );
    git(&["fsck", "--strict", "--no-dangling"]);
    for leftover in [
        "index.lock",
        "HEAD.lock",
        "refs/heads/main.lock",
        "authsome-sync",
    ] {
        assert!(
            !store.join(".git").join(leftover).exists(),
            "{leftover} left"
        );
    }
    // Every scope's seal still names its tree: no commit undid a write behind authsome's back.
    run(bin, home, &["verify"], None);
    let exported = output(bin, home, &["--json", "list"]);
    for (conn, _) in landed {
        assert!(exported.contains(conn.as_str()), "{conn} is listed");
    }
    // Decrypting every landed key one by one is slow; a sample and the newest prove the files.
    for (conn, key) in landed.iter().rev().take(3).chain(landed.iter().step_by(37)) {
        let got = output(
            bin,
            home,
            &[
                "get",
                "openai",
                "-c",
                conn,
                "--field",
                "api_key",
                "--show-secret",
            ],
        );
        assert_eq!(got.trim(), key, "{conn}");
    }
}

fn release_binary() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--bin", "authsome"])
        .status()
        .unwrap();
    assert!(status.success());
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/authsome")
}

fn command(bin: &Path, home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.args(args)
        .env("HOME", home)
        .env("USER", "me")
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env_remove("AUTHSOME_HOME")
        .env_remove("AUTHSOME_STORE")
        .env_remove("AUTHSOME_IDENTITY")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

fn run(bin: &Path, home: &Path, args: &[&str], stdin: Option<&str>) {
    let mut child = command(bin, home, args)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn output(bin: &Path, home: &Path, args: &[&str]) -> String {
    let out = command(bin, home, args)
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
