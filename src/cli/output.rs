//! Printing results: human text by default, JSON with `--json`, colour only on a terminal.

use std::io::{IsTerminal, Write};

use serde_json::Value;

use authsome::error::Error;

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

    /// Prints a JSON document (in `--json` mode).
    pub fn json(&self, value: &Value) {
        let mut text = serde_json::to_string_pretty(value).expect("JSON values serialize");
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
