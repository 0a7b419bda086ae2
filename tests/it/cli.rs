//! The command line's conventions: exit codes scripts gate on, shell completion through a real
//! bash, man pages through a real `man`.

use std::process::Command;

use authsome::error::ErrorKind;

use crate::common::User;

/// What bash's completion function for authsome offers for `words` (the last one being
/// completed), with the script `authsome completions bash` printed, as a user's shell runs it.
fn bash_completes(u: &User, words: &[&str]) -> Vec<String> {
    let script = u.run(&["completions", "bash"]).ok().stdout;
    let dir = u.home().join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("authsome");
    if !link.exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_authsome"), &link).unwrap();
    }
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let program = format!(
        "{script}\nCOMP_WORDS=({words}); COMP_CWORD={cword}\n_clap_complete_authsome authsome '{cur}' '{prev}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = quoted.join(" "),
        cur = words[cword],
        prev = words[cword - 1],
    );
    let mut c = u.command_of("bash");
    c.args(["--norc", "-c", &program]);
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap());
    let out = c.env("PATH", path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    got.sort();
    got
}

#[test]
fn bash_completes_commands_and_the_stores_names() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    u.login("openai", "work", "sk-2").ok();
    u.run_stdin(&["login", "anthropic", "-c", "lab", "--stdin"], "sk-ant-1")
        .ok();
    assert_eq!(bash_completes(&u, &["authsome", "logo"]), ["logout"]);
    assert_eq!(
        bash_completes(&u, &["authsome", "get", "op"]),
        ["openai", "openrouter", "optimizely"]
    );
    // The connections of the provider typed, not of every provider.
    assert_eq!(
        bash_completes(&u, &["authsome", "get", "openai", "-c", ""]),
        ["default", "work"]
    );
    assert_eq!(
        bash_completes(&u, &["authsome", "get", "anthropic", "--connection", ""]),
        ["lab"]
    );
    assert_eq!(
        bash_completes(&u, &["authsome", "--vault", "d"]),
        ["default"]
    );
    // Outside any store there is nothing to offer, and no error either.
    let nowhere = User::new();
    assert!(bash_completes(&nowhere, &["authsome", "get", "openai", "-c", ""]).is_empty());
}

#[test]
fn every_shell_gets_a_script_and_json_is_refused() {
    let u = User::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = u.run(&["completions", shell]).ok().stdout;
        assert!(script.contains("AUTHSOME_COMPLETE"), "{shell}: {script}");
    }
    u.run(&["completions", "tcsh"])
        .fails(ErrorKind::Usage, "invalid value 'tcsh'");
    let r = u.run(&["--json", "completions", "bash"]);
    assert_eq!(r.code, 2);
    let error: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no JSON form"),
        "{error}"
    );
}

#[test]
fn man_pages_render_with_man_without_warnings() {
    let u = User::new();
    let dir = u.home().join("man");
    u.run(&["man", "--out", dir.to_str().unwrap()]).ok();
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for page in [
        "authsome.1",
        "authsome-login.1",
        "authsome-run.1",
        "authsome-completions.1",
    ] {
        assert!(pages.iter().any(|p| p == page), "{page} in {pages:?}");
    }
    for page in ["authsome.1", "authsome-login.1", "authsome-trust-accept.1"] {
        let out = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(dir.join(page))
            .env("MANWIDTH", "80")
            .env("MAN_KEEP_STDERR", "1")
            .output()
            .unwrap();
        let (text, warnings) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{page}: {warnings}");
        assert!(warnings.trim().is_empty(), "{page}: {warnings}");
        assert!(text.contains("authsome"), "{page}: {text}");
    }
    // The main page on stdout is the same page.
    let printed = u.run(&["man"]).ok().stdout;
    assert!(
        printed.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &printed[..80.min(printed.len())]
    );
}

#[test]
fn version_names_the_commit_and_its_date() {
    let out = User::new().run(&["--version"]).ok().stdout;
    // authsome 0.1.0 (0123456789ab 2026-12-02)
    let inner = out
        .trim()
        .strip_prefix(&format!("authsome {} (", env!("CARGO_PKG_VERSION")))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{out}"));
    let (commit, date) = inner.split_once(' ').unwrap();
    assert!(
        commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit()),
        "{out}"
    );
    assert!(
        date.len() == 10 && date.chars().filter(|c| *c == '-').count() == 2,
        "{out}"
    );
}

#[test]
fn colour_follows_the_flag_no_color_and_clicolor_force_on_every_colouring_command() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    // A FAIL line in doctor: the identity made world-readable.
    let identity = u.home().join(".config/authsome/identity.txt");
    let escape = '\x1b';
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = u.command();
        // The harness sets NO_COLOR for every other test.
        c.env_remove("NO_COLOR").args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    for args in [
        &["list"][..],
        &["log"],
        &["diff"],
        &["show"],
        &["doctor"],
        &["no-such-command"],
    ] {
        let always = [&["--color", "always"][..], args].concat();
        assert!(
            run(&always, &[]).contains(escape),
            "--color always {args:?}"
        );
        let never = [&["--color", "never"][..], args].concat();
        assert!(
            !run(&never, &[("CLICOLOR_FORCE", "1")]).contains(escape),
            "{args:?}"
        );
        assert!(!run(args, &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]).contains(escape));
        assert!(
            run(args, &[("CLICOLOR_FORCE", "1")]).contains(escape),
            "{args:?}"
        );
        // Into a pipe, by default: none.
        assert!(!run(args, &[]).contains(escape), "{args:?}");
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o644)).unwrap();
    let doctor = run(&["--color", "always", "doctor"], &[]);
    assert!(doctor.contains("\x1b[31mFAIL"), "{doctor}");
    // diff as git colours it: added lines green, hunk headers cyan.
    let diff = run(&["--color", "always", "diff"], &[]);
    assert!(
        diff.contains("\x1b[32m+") && diff.contains("\x1b[36m@@"),
        "{diff}"
    );
    // JSON is never coloured.
    assert!(!run(&["--color", "always", "--json", "list"], &[]).contains(escape));
}

#[test]
fn revoking_an_api_key_says_it_still_works_and_where_to_revoke_it() {
    let u = User::initialized();
    u.login("openai", "work", "sk-1").ok();
    let r = u.run(&["revoke", "openai", "-c", "work"]).ok();
    assert!(
        r.stdout.contains("Removed openai/work from the store only")
            && r.stdout.contains("still works")
            && r.stdout.contains("https://platform.openai.com/api-keys"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("Revoked"), "{}", r.stdout);
}

#[test]
fn log_goes_through_the_pager_on_a_terminal_only() {
    let u = User::initialized();
    u.login("openai", "default", "sk-1").ok();
    let mark = u.home().join("paged");
    let pager = format!("touch '{}'; cat", mark.display());
    // `script` gives the command a pseudo-terminal for stdout, as a user's shell has.
    let on_terminal = |line: &str| {
        let out = u
            .command_of("script")
            .args(["-qec", line, "/dev/null"])
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    std::path::Path::new(env!("CARGO_BIN_EXE_authsome"))
                        .parent()
                        .unwrap()
                        .display(),
                    std::env::var("PATH").unwrap()
                ),
            )
            .env("PAGER", &pager)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = on_terminal("authsome log");
    assert!(mark.exists(), "the pager ran");
    assert!(shown.contains("login openai/default"), "{shown}");
    std::fs::remove_file(&mark).unwrap();
    let shown = on_terminal("authsome --no-pager log");
    assert!(
        !mark.exists() && shown.contains("login openai/default"),
        "{shown}"
    );
    let shown = on_terminal("AUTHSOME_PAGER=cat authsome diff");
    assert!(!mark.exists(), "cat is no pager: {shown}");
    // Into a pipe: no pager.
    let mut c = u.command();
    let piped = c.args(["log"]).env("PAGER", &pager).output().unwrap();
    assert!(String::from_utf8_lossy(&piped.stdout).contains("login openai/default"));
    assert!(!mark.exists());
}

#[test]
fn help_topics_list_every_exit_code_and_every_variable_authsome_reads() {
    let u = User::new();
    let codes = u.run(&["help", "exit-codes"]).ok().stdout;
    for kind in [
        ErrorKind::Internal,
        ErrorKind::Usage,
        ErrorKind::ConnectionNotFound,
        ErrorKind::ProviderNotFound,
        ErrorKind::CredentialMissing,
        ErrorKind::AlreadyExists,
        ErrorKind::AuthFailed,
        ErrorKind::Endpoint,
        ErrorKind::Store,
        ErrorKind::Crypto,
        ErrorKind::Trust,
    ] {
        let code = format!("{:>3}  ", kind.exit_code());
        assert!(
            codes.lines().any(|l| l.starts_with(&code)),
            "{kind:?}: {codes}"
        );
    }
    // Every variable the source reads (but the test-only fault injection and what authsome
    // sets for git itself) is in `help environment`.
    let environment = u.run(&["help", "environment"]).ok().stdout;
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(std::fs::read_to_string(path).unwrap());
            }
        }
    }
    let mut read = std::collections::BTreeSet::new();
    for text in &files {
        for pattern in ["env::var(\"", "env::var_os(\"", "env = \""] {
            for (at, _) in text.match_indices(pattern) {
                let rest = &text[at + pattern.len()..];
                let name: String = rest.chars().take_while(|c| *c != '"').collect();
                read.insert(name);
            }
        }
    }
    assert!(
        read.contains("AUTHSOME_STORE") && read.len() > 15,
        "{read:?}"
    );
    for name in read {
        if [
            "AUTHSOME_CRASH_AT",
            "AUTHSOME_INTERRUPT_AT",
            "AUTHSOME_AUDIT_DELAY_MS",
            "GIT_COMMITTER_EMAIL",
        ]
        .contains(&name.as_str())
        {
            continue;
        }
        assert!(
            environment.contains(&name),
            "{name} is not in `help environment`"
        );
    }
    u.run(&["help", "nope"])
        .fails(ErrorKind::Usage, "no command or help topic");
    assert!(
        u.run(&["help", "provider", "add"])
            .ok()
            .stdout
            .contains("Usage: authsome provider add")
    );
}

#[test]
fn skill_writes_the_file_an_agent_harness_reads() {
    let u = User::new();
    let printed = u.run(&["skill"]).ok().stdout;
    assert!(printed.starts_with("---\nname: authsome\n"), "{printed}");
    assert!(printed.contains("Never print, log, echo or paste a secret"));
    let dir = u.home().join(".claude/skills/authsome");
    u.run(&["skill", "--out", dir.to_str().unwrap()]).ok();
    assert_eq!(
        std::fs::read_to_string(dir.join("SKILL.md")).unwrap(),
        printed
    );
}
