//! The local key form, driven the way a browser would: `$BROWSER` names a script that fetches the
//! page and submits it with curl, so the whole loop (print URL, open browser, serve, validate,
//! store) runs for real.

use crate::common::User;
use authsome::error::ErrorKind;

#[test]
fn a_key_entered_in_the_local_form_is_stored() {
    let u = User::initialized();
    let log = u.home().join("browser.log");
    let script = u.home().join("browser.sh");
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
url="$1"
log="{log}"
# The page is served only at its secret path and only to the loopback Host.
curl -s -o /dev/null -w "wrong-path %{{http_code}}\n" "${{url%/*}}/guess" >>"$log"
curl -s -o /dev/null -w "wrong-host %{{http_code}}\n" -H "Host: evil.example" "$url" >>"$log"
curl -s "$url" | grep -c 'type=password' | sed 's/^/masked-fields /' >>"$log"
curl -s -d "api_key=not-a-key" "$url" | grep -o "does not look like an OpenAI key" | sed 's/^/rejected /' >>"$log"
curl -s --data-urlencode "api_key=sk-from-the-form" "$url" | grep -o "You can close this tab" | sed 's/^/saved /' >>"$log"
"#,
            log = log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut c = u.command();
    c.env("BROWSER", &script)
        .args(["login", "openai", "--connection", "form"]);
    let r = crate::common::finish(c, None).ok();
    assert!(
        r.stderr.contains("http://127.0.0.1:"),
        "the URL is always printed: {}",
        r.stderr
    );
    // stderr is no terminal here: no spinner, no escape codes.
    assert!(!r.stderr.contains("Waiting for"), "{}", r.stderr);
    assert!(!r.stderr.contains('\x1b'), "{}", r.stderr);
    assert!(
        r.stdout.contains("Logged in to OpenAI as connection form"),
        "{}",
        r.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "wrong-path 404\nwrong-host 404\nmasked-fields 1\nrejected does not look like an OpenAI key\nsaved You can close this tab\n"
    );
    assert_eq!(
        u.run(&[
            "get",
            "openai",
            "-c",
            "form",
            "--field",
            "api_key",
            "--show-secret"
        ])
        .ok()
        .stdout,
        "sk-from-the-form\n"
    );
}

#[test]
fn no_browser_without_a_terminal_says_to_use_stdin() {
    let u = User::initialized();
    let mut c = u.command();
    c.args(["login", "openai", "--no-browser"])
        .env_remove("DISPLAY");
    // Detach from any controlling terminal so the prompt has nowhere to ask.
    use std::os::unix::process::CommandExt;
    unsafe {
        c.pre_exec(|| {
            let _ = libc_setsid();
            Ok(())
        });
    }
    crate::common::finish(c, None).fails(ErrorKind::Usage, "--stdin");
}

fn libc_setsid() -> i32 {
    unsafe extern "C" {
        fn setsid() -> i32;
    }
    unsafe { setsid() }
}
