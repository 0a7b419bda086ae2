//! Logging in as people and scripts do it: the prompt on a real pseudo-terminal (masked, asking
//! again, Ctrl-C and Ctrl-D cancelling with 130), a headless machine failing at once instead of
//! waiting, a browser that does not start, replacing a key without switching the default, and
//! `run`'s exit codes for commands that cannot start.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use crate::common::User;
use authsome::error::ErrorKind;

/// authsome on a pseudo-terminal (`script` gives it one), typed at through `script`'s stdin.
struct Pty {
    child: Child,
    stdin: ChildStdin,
    output: Receiver<Vec<u8>>,
    seen: String,
}

impl Pty {
    fn spawn(u: &User, line: &str, env: &[(&str, &str)]) -> Pty {
        let bin = std::path::Path::new(env!("CARGO_BIN_EXE_authsome"))
            .parent()
            .unwrap()
            .to_owned();
        let mut c = u.command_of("script");
        c.args(["-qfec", line, "/dev/null"])
            .env(
                "PATH",
                format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
            )
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Pty {
            child,
            stdin,
            output: rx,
            seen: String::new(),
        }
    }

    /// Waits until the terminal has shown `needle` (since the last `expect`), and returns what
    /// it showed up to there.
    fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(at) = self.seen.find(needle) {
                let shown: String = self.seen.drain(..at + needle.len()).collect();
                return shown;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(bytes) => self.seen.push_str(&String::from_utf8_lossy(&bytes)),
                Err(_) => panic!(
                    "the terminal never showed {needle:?}; it showed {:?}",
                    self.seen
                ),
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    /// The exit code, and everything shown since the last `expect`.
    fn finish(mut self) -> (i32, String) {
        let status = self.child.wait().unwrap();
        while let Ok(bytes) = self.output.recv_timeout(Duration::from_secs(5)) {
            self.seen.push_str(&String::from_utf8_lossy(&bytes));
        }
        (status.code().unwrap_or(-1), self.seen)
    }
}

const PROMPT: &str = "(input hidden): ";

#[test]
fn the_masked_prompt_echoes_nothing_and_asks_again_when_empty() {
    let u = User::initialized();
    let mut t = Pty::spawn(&u, "authsome login openai -c typed --no-browser", &[]);
    let before = t.expect(PROMPT);
    assert!(
        before.contains("Paste an OpenAI API key for \u{201c}typed\u{201d}"),
        "{before}"
    );
    assert!(
        before.contains("https://platform.openai.com/api-keys"),
        "the prompt links the docs: {before}"
    );
    t.send(b"\r");
    t.expect("Nothing was entered");
    t.expect(PROMPT);
    t.send(b"not-a-key\r");
    t.expect("does not look like an OpenAI key");
    t.expect(PROMPT);
    t.send(b"sk-typed-secret-value\r");
    let (code, shown) = t.finish();
    assert_eq!(code, 0, "{shown}");
    assert!(!shown.contains("sk-typed"), "the key was echoed: {shown}");
    assert!(
        !shown.contains("not-a-key"),
        "the bad key was echoed: {shown}"
    );
    assert!(shown.contains("Logged in to OpenAI"), "{shown}");
    assert_eq!(u.api_key("openai", "typed"), "sk-typed-secret-value");
}

#[test]
fn ctrl_d_and_ctrl_c_at_the_prompt_cancel_with_130_and_leave_the_terminal_as_it_was() {
    let u = User::initialized();
    let head = u.git(&["rev-parse", "HEAD"]);
    for key in [b"\x04", b"\x03"] {
        // `stty -a` after the prompt shows the terminal's echo is back on.
        let mut t = Pty::spawn(
            &u,
            "authsome login openai -c gone --no-browser; code=$?; stty -a | grep -o -- '-*echo ' | head -1; exit $code",
            &[],
        );
        t.expect(PROMPT);
        t.send(key);
        let (code, shown) = t.finish();
        assert_eq!(code, 130, "{key:?}: {shown}");
        assert!(
            shown.contains("\nerror: cancelled; nothing was saved"),
            "{shown}"
        );
        assert!(shown.contains("echo "), "{shown}");
        assert!(!shown.contains("-echo "), "echo left off: {shown}");
    }
    assert_eq!(u.git(&["rev-parse", "HEAD"]), head, "nothing was committed");
}

#[test]
fn without_a_display_the_terminal_is_asked_and_a_failing_browser_is_warned_about() {
    let u = User::initialized();
    // No display, no $BROWSER: the prompt, not a form nobody can open.
    let mut t = Pty::spawn(&u, "authsome login openai -c headless", &[]);
    t.expect(PROMPT);
    t.send(b"sk-headless\r");
    let (code, shown) = t.finish();
    assert_eq!(code, 0, "{shown}");
    assert!(!shown.contains("http://127.0.0.1"), "{shown}");

    // A $BROWSER that fails: a warning, then the prompt.
    let mut t = Pty::spawn(
        &u,
        "authsome login openai -c fallback",
        &[("BROWSER", "false")],
    );
    let shown = t.expect(PROMPT);
    assert!(
        shown.contains("could not open a browser (false exited with exit status: 1)"),
        "{shown}"
    );
    t.send(b"sk-fallback\r");
    let (code, shown) = t.finish();
    assert_eq!(code, 0, "{shown}");
    assert_eq!(u.api_key("openai", "fallback"), "sk-fallback");
}

#[test]
fn a_headless_machine_without_a_terminal_fails_at_once_naming_the_flag() {
    let u = User::initialized();
    let started = Instant::now();
    let mut c = u.command();
    c.env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .args(["login", "openai", "-c", "ci"]);
    let r = crate::common::finish(c, None).fails(
        ErrorKind::Usage,
        "no browser can be opened here (no display, or an SSH session) and there is no terminal to ask at; pipe it in: printf '%s' \"$KEY\" | authsome login openai -c ci --stdin",
    );
    // Well under the five minutes a form would wait.
    assert!(started.elapsed() < Duration::from_secs(10), "{r:?}");
    u.run(&["login", "openai", "--no-browser"])
        .fails(ErrorKind::Usage, "there is no terminal to ask at");
}

#[test]
fn force_keep_default_replaces_a_key_without_switching_accounts() {
    let u = User::initialized();
    u.login("openai", "personal", "sk-personal").ok();
    u.login("openai", "work", "sk-work").ok();
    let default = || {
        u.run(&["get", "openai", "--field", "connection"])
            .ok()
            .stdout
            .trim()
            .to_owned()
    };
    assert_eq!(default(), "personal");
    u.run_stdin(
        &[
            "login",
            "openai",
            "-c",
            "work",
            "--stdin",
            "--force",
            "--keep-default",
        ],
        "sk-work-2",
    )
    .ok();
    assert_eq!(default(), "personal", "--keep-default kept the default");
    assert_eq!(u.api_key("openai", "work"), "sk-work-2");
    // --force alone still switches, as the founding document says.
    u.run_stdin(
        &["login", "openai", "-c", "work", "--stdin", "--force"],
        "sk-work-3",
    )
    .ok();
    assert_eq!(default(), "work");
    u.run(&["login", "openai", "--keep-default", "--stdin"])
        .fails(ErrorKind::Usage, "--force");
}

#[test]
fn run_exits_127_for_a_missing_command_and_126_for_one_that_cannot_run() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let r = u.run(&["run", "--", "no-such-command-here"]);
    assert_eq!(r.code, 127, "{r:?}");
    assert!(
        r.stderr.contains("no-such-command-here: command not found"),
        "{}",
        r.stderr
    );
    let file = u.home().join("not-executable");
    std::fs::write(&file, "echo hi\n").unwrap();
    let r = u.run(&["run", "--", file.to_str().unwrap()]);
    assert_eq!(r.code, 126, "{r:?}");
    assert!(r.stderr.contains("chmod +x"), "{}", r.stderr);
    let r = u.run(&["run", "--env", "--", "no-such-command-here"]);
    assert_eq!(r.code, 127, "{r:?}");
    u.run(&["run", "-c", "opnai=work", "--", "true"])
        .fails(ErrorKind::ProviderNotFound, "did you mean openai?");
}

#[test]
fn the_first_login_makes_the_store_and_identity_and_says_so() {
    let u = User::new();
    assert!(!u.store().exists());
    let r = u
        .run_stdin(&["login", "openai", "--stdin"], "sk-first")
        .ok();
    assert!(r.stderr.contains("First run: created"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&u.identity().display().to_string()),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("Logged in to OpenAI"), "{}", r.stdout);
    assert_eq!(u.api_key("openai", "default"), "sk-first");
    assert_eq!(u.log(), ["login openai/default", "init store"]);
    u.assert_git_clean();

    // A store named explicitly is never made by a login.
    let elsewhere = u.home().join("typo");
    u.run_stdin(
        &[
            "--store",
            elsewhere.to_str().unwrap(),
            "login",
            "openai",
            "--stdin",
        ],
        "sk-x",
    )
    .fails(ErrorKind::Store, "there is no store at");
    assert!(!elsewhere.exists());

    // `init` ends with what to do next.
    let fresh = User::new();
    let r = fresh.run(&["init"]).ok();
    assert!(
        r.stdout.contains("Next: log in to a provider"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_wait_shows_a_spinner_with_the_time_left_on_a_terminal() {
    let u = User::initialized();
    // `true` as the browser opens nothing, so the form waits; the terminal shows how long.
    let mut t = Pty::spawn(&u, "authsome login openai -c spin", &[("BROWSER", "true")]);
    t.expect("http://127.0.0.1:");
    t.expect("Waiting for the form to be submitted in the browser (4:");
    t.expect("left; Ctrl-C to cancel)");
    // Ctrl-C on the terminal interrupts the wait; nothing was written.
    t.send(b"\x03");
    let (code, _) = t.finish();
    assert_ne!(code, 0);
    assert_eq!(u.log().len(), 1, "only `init store`");
}

#[test]
fn a_login_without_waiting_that_ends_at_once_says_how() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    // Nothing to wait for: the connection exists.
    let r = u.run(&["login", "openai", "--no-wait"]).ok();
    assert!(
        r.stdout.contains("openai/default is connected"),
        "{}",
        r.stdout
    );
    // A refusal in the background half comes back as this command's error.
    u.run(&["login", "openai", "-c", "x", "--flow", "pkce", "--no-wait"])
        .fails(ErrorKind::Usage, "takes an API key; drop --flow");
    let status = u.run(&["login", "openai", "-c", "x", "--status"]).ok();
    assert!(status.stdout.starts_with("failed: "), "{}", status.stdout);
}
