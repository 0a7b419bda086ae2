//! Printing results: human text by default, JSON with `--json`, colour only on a terminal.

use std::io::{IsTerminal, Write};

use authsome::error::Error;
use authsome::ui::Ui;
use zeroize::Zeroizing;

/// How to print.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Print JSON instead of text.
    pub json: bool,
    /// Print only requested values.
    pub quiet: bool,
    /// Use ANSI colour on stdout.
    pub color: bool,
}

impl Output {
    /// Decides colour from the flags, `NO_COLOR` and whether stdout is a terminal.
    pub fn new(json: bool, quiet: bool, no_color: bool) -> Self {
        let color = !no_color
            && !json
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stdout().is_terminal();
        Output { json, quiet, color }
    }

    /// Prints a JSON document (in `--json` mode): a report or a hand-built value.
    pub fn json(&self, value: &impl serde::Serialize) {
        let mut text = serde_json::to_string_pretty(value).expect("reports serialize");
        text.push('\n');
        self.raw(&text);
    }

    /// Prints a line of data (always, even with `--quiet`).
    pub fn data(&self, line: &str) {
        self.raw(&format!("{line}\n"));
    }

    /// Prints a line of human information (not with `--quiet`).
    pub fn info(&self, line: &str) {
        if !self.quiet {
            self.data(line);
        }
    }

    /// Prints a warning on stderr (not with `--quiet`).
    pub fn warn(&self, line: &str) {
        if !self.quiet {
            eprintln!("warning: {line}");
        }
    }

    fn raw(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        // A closed pipe (`authsome list | head`) is not an error worth reporting.
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }

    /// Bold text, when colour is on.
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }

    /// Green text, when colour is on.
    pub fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }

    /// Yellow text, when colour is on.
    pub fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }

    /// Dim text, when colour is on.
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    /// Prints an error: JSON on stdout with `--json`, else one line on stderr.
    pub fn error(&self, err: &Error) {
        if self.json {
            self.json(&serde_json::json!({
                "error": {
                    "code": err.kind().code(),
                    "exit_code": err.kind().exit_code(),
                    "message": err.message(),
                    "hint": err.hint(),
                }
            }));
        } else {
            let prefix = if std::io::stderr().is_terminal() && self.color {
                "\x1b[1;31merror:\x1b[0m"
            } else {
                "error:"
            };
            eprintln!("{prefix} {err}");
        }
    }
}

impl Ui for Output {
    fn message(&self, text: &str) {
        eprintln!("{text}");
    }

    fn warn(&self, text: &str) {
        Output::warn(self, text);
    }

    fn open_url(&self, url: &str) {
        open_browser(url);
    }

    fn ask_secret(&self, prompt: &str) -> Option<Zeroizing<String>> {
        rpassword::prompt_password(prompt).ok().map(Zeroizing::new)
    }
}

/// Opens `url` in the user's browser when there is one: `$BROWSER`, else the desktop's opener.
/// Failure is fine: the URL is always printed too.
fn open_browser(url: &str) {
    use std::process::{Command, Stdio};
    let command = match std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
    {
        Some(b) => b.split(':').next().unwrap_or_default().to_owned(),
        None if cfg!(target_os = "macos") => "open".to_owned(),
        None if std::env::var_os("DISPLAY").is_some()
            || std::env::var_os("WAYLAND_DISPLAY").is_some() =>
        {
            "xdg-open".to_owned()
        }
        None => return,
    };
    let mut words = command.split_whitespace();
    let Some(program) = words.next() else { return };
    let _ = Command::new(program)
        .args(words)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

/// The trust check for a command that reveals no secret (`list`, `inspect`): with
/// `--allow-unverified` (or `AUTHSOME_TRUST=warn`) a state that does not verify is shown with a
/// warning instead of refused. Commands that reveal or use secrets never take this path.
pub fn gate_reveals_nothing(
    out: &Output,
    ctx: &authsome::context::Context,
    snap: &authsome::store::Snapshot<'_>,
) -> authsome::error::Result<()> {
    match authsome::trust::gate_vault(snap, &ctx.vault, &ctx.trust, out) {
        Err(e) if e.kind() == authsome::error::ErrorKind::Trust && ctx.trust.allow_unverified => {
            out.warn(&format!("showing a state that does not verify: {e}"));
            Ok(())
        }
        other => other,
    }
}

/// Pads `s` to `width` characters.
pub fn pad(s: &str, width: usize) -> String {
    format!("{s:<width$}")
}

impl Output {
    /// Prints text as it is (always).
    pub fn raw_text(&self, text: &str) {
        self.raw(text);
    }
}
