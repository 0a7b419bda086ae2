//! `login --no-wait` and `login --status`: logins that do not block an agent. The command
//! starts itself again in the background (`--detached`), relays the one line that says what a
//! person must do (the device code, or the page to open), and returns; the background half
//! waits for the flow's own end (15 minutes at most), commits the connection, and records how
//! it ended in a status file that `login --status` reads.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::{Error, ErrorKind, Result};
use authsome::model::names::ConnectionName;
use authsome::model::report::{LoginPendingReport, LoginStatusReport};
use authsome::ops::login;
use authsome::ui::{Answer, Awaiting, Launch, Ui};

/// What the background half says on its stdout: what to do, or how it ended at once.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    // First: untagged variants are tried in order, and any object is a `Value`.
    Ended { status: String, detail: String },
    Awaiting(serde_json::Value),
}

/// Starts the login in the background and prints what a person must do.
pub fn start(cx: &Context, out: &Output, provider: &str, conn: &ConnectionName) -> Result<()> {
    // An unknown provider or a missing store fails here, not in the background.
    status_file(cx, provider, conn)?;
    let exe = std::env::current_exe()
        .map_err(|e| Error::internal(format!("could not find authsome's own binary: {e}")))?;
    // The same command line, minus --no-wait, plus --detached.
    let args: Vec<std::ffi::OsString> = std::env::args_os()
        .skip(1)
        .filter(|a| a != "--no-wait")
        .chain(["--detached".into()])
        .collect();
    let mut command = Command::new(exe);
    command
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| Error::internal(format!("could not start the background login: {e}")))?;
    let stdout = child.stdout.take().expect("piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| Error::internal(format!("the background login said nothing: {e}")))?;
    // The background half goes on by itself; this process does not wait for it.
    drop(child);
    let parsed: Line = serde_json::from_str(line.trim()).map_err(|_| {
        Error::internal(format!(
            "the background login ended without saying what to do; run `authsome login {provider} -c {conn}` in a terminal"
        ))
    })?;
    match parsed {
        Line::Ended { status, detail } if status != "connected" => Err(Error::usage(detail)),
        Line::Ended { detail, .. } => {
            out.info(&detail);
            Ok(())
        }
        Line::Awaiting(value) => {
            if out.json {
                let awaiting: LoginPendingReport =
                    serde_json::from_value(value).map_err(|e| Error::internal(e.to_string()))?;
                out.json(&awaiting);
            } else {
                let text = match (value.get("user_code"), value.get("url")) {
                    (Some(code), _) => format!(
                        "Open {} and enter the code {} (before {}).",
                        value["verification_uri"].as_str().unwrap_or_default(),
                        code.as_str().unwrap_or_default(),
                        value["expires_at"].as_str().unwrap_or_default()
                    ),
                    (None, Some(url)) => format!(
                        "Open {} (before {}).",
                        url.as_str().unwrap_or_default(),
                        value["expires_at"].as_str().unwrap_or_default()
                    ),
                    _ => value.to_string(),
                };
                out.data(&text);
                out.info(&format!(
                    "The login goes on in the background; `authsome login {provider} -c {conn} --status` says when it is done."
                ));
            }
            Ok(())
        }
    }
}

/// The background half: runs the login with a user who is not there, says what a person must
/// do on stdout once, and records how it ended.
pub fn run_detached(cx: &Context, request: &login::Request) -> Result<()> {
    let file = status_file(cx, &request.provider, &request.connection)?;
    write_status(
        &file,
        "pending",
        "waiting for a person to complete the login",
    )?;
    let ui = Detached {
        stdout: Mutex::new(Some(std::io::stdout())),
        said: AtomicBool::new(false),
    };
    let result = login::login(cx, &ui, request);
    let (status, detail) = match &result {
        Ok(_) => (
            "connected",
            format!("{}/{} is connected", request.provider, request.connection),
        ),
        Err(e) if e.kind() == ErrorKind::AuthFailed && e.message().contains("expired") => {
            ("expired", e.message().to_owned())
        }
        Err(e) if e.message().contains("gave up waiting") => ("expired", e.message().to_owned()),
        Err(e) if e.kind() == ErrorKind::AuthFailed => ("denied", e.message().to_owned()),
        Err(e) => ("failed", e.message().to_owned()),
    };
    write_status(&file, status, &detail)?;
    if !ui.said.load(Ordering::SeqCst) {
        ui.say(&serde_json::json!({ "status": status, "detail": detail }).to_string());
    }
    result.map(|_| ())
}

/// `login --status`: how the background login of a connection stands.
pub fn status(
    cx: &Context,
    out: &Output,
    provider: &str,
    conn: &ConnectionName,
    wait: bool,
) -> Result<()> {
    let file = status_file(cx, provider, conn)?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(16 * 60);
    let report = loop {
        let report: LoginStatusReport = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Error::internal(format!("{} is damaged: {e}", file.display())))?,
            Err(_) => {
                return Err(Error::new(
                    ErrorKind::ConnectionNotFound,
                    format!(
                        "no login of {provider}/{conn} was started with --no-wait on this machine; start one with `authsome login {provider} -c {conn} --no-wait`"
                    ),
                ));
            }
        };
        if !wait || report.status != "pending" || std::time::Instant::now() > deadline {
            break report;
        }
        // The background login writes the file when it ends; this checks a few times a second.
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    if out.json {
        out.json(&report);
    } else {
        out.data(&format!("{}: {}", report.status, report.detail));
    }
    Ok(())
}

fn status_file(cx: &Context, provider: &str, conn: &ConnectionName) -> Result<PathBuf> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    let meta = store.meta(&snap)?;
    let provider = authsome::providers::Catalog::new(&snap)
        .get(provider)?
        .def
        .name;
    Ok(authsome::dirs::state_dir()?
        .join("logins")
        .join(format!("{}.{}.{provider}.{conn}.json", meta.id, cx.vault)))
}

fn write_status(file: &std::path::Path, status: &str, detail: &str) -> Result<()> {
    let report = LoginStatusReport {
        status: status.to_owned(),
        detail: detail.to_owned(),
        updated_at: authsome::model::time::Stamp::now(),
    };
    let text = serde_json::to_vec(&report).map_err(|e| Error::internal(e.to_string()))?;
    authsome::private_files::write_private(file, &text)
}

/// The user of a background login: nobody at a terminal; what a person must do goes, once, to
/// the process that started it.
struct Detached {
    stdout: Mutex<Option<std::io::Stdout>>,
    said: AtomicBool,
}

impl Detached {
    fn say(&self, line: &str) {
        self.said.store(true, Ordering::SeqCst);
        if let Ok(mut slot) = self.stdout.lock()
            && let Some(mut out) = slot.take()
        {
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}

impl Ui for Detached {
    fn message(&self, _: &str) {}
    fn warn(&self, _: &str) {}
    fn can_open_browser(&self) -> bool {
        // The person opens the page themselves; the form is what they get.
        true
    }
    fn open_url(&self, _: &str) -> Launch {
        Launch::unwatched()
    }
    fn can_ask(&self) -> bool {
        false
    }
    fn ask(&self, _: &str, _: bool) -> Answer {
        Answer::NoTerminal
    }
    fn awaiting(&self, what: &Awaiting) {
        if let Ok(line) = serde_json::to_string(what) {
            self.say(&line);
        }
    }
}
