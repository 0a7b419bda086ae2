//! A throwaway user for end-to-end tests: a temporary HOME, the built binary, and the real `git`
//! and `age` command-line tools to check what authsome wrote.

pub mod servers;
pub mod upstream;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use authsome::error::ErrorKind;
use tempfile::TempDir;

/// A temporary user with its own HOME, store and identity.
pub struct User {
    pub dir: TempDir,
}

/// The result of one command.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with both streams unless the command succeeded.
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "command failed\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts that `status` (or `doctor`) listed something that needs attention: exit code 1.
    pub fn flags(self) -> Self {
        assert_eq!(
            self.code, 1,
            "expected findings (exit 1)\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts the exit code of `kind` and that stderr contains `needle`.
    pub fn fails(self, kind: ErrorKind, needle: &str) -> Self {
        assert_eq!(
            self.code,
            kind.exit_code(),
            "wrong exit code\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\nstderr: {}",
            self.stderr
        );
        self
    }
}

impl User {
    pub fn new() -> Self {
        User {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A user with an initialized store.
    pub fn initialized() -> Self {
        let u = Self::new();
        u.run(&["init"]).ok();
        u
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn store(&self) -> PathBuf {
        self.home().join(".authsome")
    }

    pub fn identity(&self) -> PathBuf {
        self.home().join(".config/authsome/identity.txt")
    }

    pub fn tmp(&self) -> PathBuf {
        let t = self.home().join("tmp");
        std::fs::create_dir_all(&t).unwrap();
        t
    }

    /// The command with a clean environment pointing at this user.
    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_authsome"));
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().to_string();
            if k.starts_with("AUTHSOME_")
                || k.starts_with("XDG_")
                || k.starts_with("GIT_")
                || k == "BROWSER"
                || k.to_ascii_lowercase().ends_with("_proxy")
            {
                c.env_remove(&k);
            }
        }
        c.env("HOME", self.home())
            .env("TMPDIR", self.tmp())
            .env("NO_COLOR", "1")
            .env("USER", "tester")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home().join(".gitconfig"));
        c
    }

    /// `program` (a shell, `unshare`) with the environment [`User::command`] gives authsome, so
    /// the authsome it runs is this user's.
    pub fn command_of(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        for (k, v) in self.command().get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c
    }

    /// Runs authsome as someone else: with `identity` as `AUTHSOME_IDENTITY`.
    pub fn run_as(&self, identity: &Path, args: &[&str], stdin: Option<&str>) -> Run {
        let mut c = self.command();
        c.env("AUTHSOME_IDENTITY", identity).args(args);
        finish(c, stdin)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None)
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.run_with(args, Some(stdin))
    }

    pub fn run_with(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut c = self.command();
        c.args(args);
        finish(c, stdin)
    }

    /// `login PROVIDER --connection CONN --stdin` with `key`.
    pub fn login(&self, provider: &str, conn: &str, key: &str) -> Run {
        self.run_stdin(&["login", provider, "--connection", conn, "--stdin"], key)
    }

    /// The stored API key of `provider/conn`, as `get --field api_key --show-secret` prints it.
    pub fn api_key(&self, provider: &str, conn: &str) -> String {
        let r = self
            .run(&[
                "get",
                provider,
                "-c",
                conn,
                "--field",
                "api_key",
                "--show-secret",
            ])
            .ok();
        r.stdout.trim().to_owned()
    }

    /// Runs the real git CLI in the store.
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.store())
            .args(args)
            .env("HOME", self.home())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Someone Else")
            .env("GIT_AUTHOR_EMAIL", "else@example.com")
            .env("GIT_COMMITTER_NAME", "Someone Else")
            .env("GIT_COMMITTER_EMAIL", "else@example.com")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Commit subjects, newest first.
    pub fn log(&self) -> Vec<String> {
        self.git(&["log", "--format=%s"])
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Asserts that `git status` is clean and `git fsck` finds nothing.
    pub fn assert_git_clean(&self) {
        assert_eq!(
            self.git(&["status", "--porcelain", "--untracked-files=all"]),
            "",
            "git status is not clean"
        );
        let fsck = Command::new("git")
            .arg("-C")
            .arg(self.store())
            .args(["fsck", "--strict", "--no-dangling"])
            .output()
            .unwrap();
        assert!(
            fsck.status.success(),
            "git fsck failed: {}",
            String::from_utf8_lossy(&fsck.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&fsck.stdout),
            "",
            "git fsck reported problems"
        );
    }

    /// The recipient of this user's identity.
    pub fn recipient(&self) -> String {
        let id = std::fs::read_to_string(self.identity()).unwrap();
        id.lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .unwrap()
            .to_owned()
    }

    /// The store id from store.yaml.
    pub fn store_id(&self) -> String {
        let meta = std::fs::read_to_string(self.store().join("store.yaml")).unwrap();
        meta.lines()
            .find_map(|l| l.strip_prefix("id: "))
            .unwrap()
            .trim_matches('"')
            .to_owned()
    }
}

pub fn finish(mut c: Command, stdin: Option<&str>) -> Run {
    c.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        let mut s = child.stdin.take().unwrap();
        // The command may refuse before reading its input; a closed pipe is fine then.
        let _ = s.write_all(input.as_bytes());
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

/// Makes an age identity at `path` with the real `age-keygen`; returns its recipient.
pub fn age_keygen(path: &Path) -> String {
    tool("age-keygen", &["-o", path.to_str().unwrap()], None);
    let recipient = tool("age-keygen", &["-y", path.to_str().unwrap()], None);
    String::from_utf8(recipient).unwrap().trim().to_owned()
}

/// Makes an unencrypted ssh-ed25519 key at `path` with the real `ssh-keygen`; returns the
/// public key line (with `comment`).
pub fn ssh_keygen(path: &Path, comment: &str) -> String {
    let key = path.to_str().unwrap();
    tool(
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key],
        None,
    );
    std::fs::read_to_string(format!("{key}.pub"))
        .unwrap()
        .trim()
        .to_owned()
}

/// Runs a command-line tool and returns its stdout, panicking on failure.
pub fn tool(program: &str, args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
    let mut c = Command::new(program);
    c.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c
        .spawn()
        .unwrap_or_else(|e| panic!("{program} is not installed ({e}); run scripts/test"));
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
