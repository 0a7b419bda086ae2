//! Getting a secret from the user: standard input, a masked terminal prompt, or a one-shot local
//! web form. A secret is never accepted as a command-line argument.

mod form;

use std::io::Read;

use age::secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

pub use form::{Field, FormRequest, close_forms, collect_via_form};

use crate::error::{Error, ErrorKind, Result};
use crate::ui::{Answer, Ui};

/// Where a person enters a secret that is not piped in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// The one-shot local web form, opened in a browser.
    Form,
    /// The prompt at the terminal.
    Prompt,
}

/// Picks where a person can enter a secret: the local form when a browser can be opened (and
/// `browser` allows one), else the prompt when there is a terminal. With neither, it fails at
/// once (exit 2) saying what to do `instead`, rather than wait for input that cannot arrive.
pub fn entry(ui: &dyn Ui, browser: bool, instead: &str) -> Result<Entry> {
    if browser && ui.can_open_browser() {
        Ok(Entry::Form)
    } else if ui.can_ask() {
        Ok(Entry::Prompt)
    } else if browser {
        Err(Error::usage(format!(
            "no browser can be opened here (no display, or an SSH session) and there is no terminal to ask at; {instead}"
        )))
    } else {
        Err(Error::usage(format!(
            "there is no terminal to ask at; {instead}"
        )))
    }
}

/// The error for input the user cancelled (exit 130).
pub fn cancelled() -> Error {
    Error::new(ErrorKind::Cancelled, "cancelled; nothing was saved")
}

/// Asks at the terminal until a usable value arrives: an empty answer asks again, and one that
/// `check` refuses is explained and asked again; Ctrl-C or Ctrl-D cancel (exit 130).
pub fn prompt(
    ui: &dyn Ui,
    what: &str,
    prompt: &str,
    masked: bool,
    instead: &str,
    check: &dyn Fn(&SecretString) -> Result<()>,
) -> Result<SecretString> {
    loop {
        let text = match ui.ask(prompt, masked) {
            Answer::Text(t) => t,
            Answer::Cancelled => return Err(cancelled()),
            Answer::NoTerminal => {
                return Err(Error::usage(format!(
                    "there is no terminal to ask for the {what}; {instead}"
                )));
            }
        };
        if text.trim().is_empty() {
            ui.message(&format!(
                "Nothing was entered; paste the {what}, or press Ctrl-C to cancel."
            ));
            continue;
        }
        match finish(what, &text).and_then(|v| check(&v).map(|()| v)) {
            Ok(v) => return Ok(v),
            Err(e) => ui.warn(e.message()),
        }
    }
}

/// The longest secret accepted, in bytes.
pub const MAX_SECRET_LEN: usize = 16 * 1024;

/// Reads a secret from standard input, trimming surrounding whitespace. When standard input is a
/// terminal, the secret is read masked (with a note), not echoed as it is typed.
pub fn from_stdin(
    ui: &dyn Ui,
    what: &str,
    check: &dyn Fn(&SecretString) -> Result<()>,
) -> Result<SecretString> {
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) && ui.can_ask() {
        ui.message(&format!(
            "Reading the {what} from the terminal (--stdin); it is not shown as you type."
        ));
        return prompt(
            ui,
            what,
            &format!("{}: ", capitalized(what)),
            true,
            "pipe it to --stdin",
            check,
        );
    }
    let value = read_stdin(what)?;
    check(&value)?;
    Ok(value)
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn read_stdin(what: &str) -> Result<SecretString> {
    let mut buf = Zeroizing::new(Vec::new());
    std::io::stdin()
        .lock()
        .take(MAX_SECRET_LEN as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| {
            Error::usage(format!(
                "could not read the {what} from standard input: {e}"
            ))
        })?;
    let text = std::str::from_utf8(&buf).map_err(|_| {
        Error::usage(format!(
            "the {what} on standard input is not UTF-8 text; pipe the key itself"
        ))
    })?;
    finish(what, text)
}

/// Trims a secret and checks it is one non-empty line of sane length.
pub fn finish(what: &str, text: &str) -> Result<SecretString> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::usage(format!(
            "the {what} is empty; provide the key and try again"
        )));
    }
    if trimmed.len() > MAX_SECRET_LEN {
        return Err(Error::usage(format!(
            "the {what} is longer than {MAX_SECRET_LEN} bytes; check what you are passing"
        )));
    }
    if trimmed.chars().any(|c| c.is_control()) {
        return Err(Error::usage(format!(
            "the {what} contains a line break or control character; provide a single-line key"
        )));
    }
    Ok(SecretString::from(trimmed.to_owned()))
}

/// Checks a key against a provider's pattern without ever echoing the key.
pub fn check_pattern(
    key: &SecretString,
    pattern: Option<&str>,
    hint: Option<&str>,
    provider: &str,
) -> Result<()> {
    let Some(pattern) = pattern else {
        return Ok(());
    };
    let re = regex_lite::Regex::new(pattern)
        .map_err(|e| Error::usage(format!("{provider}'s key_pattern does not compile: {e}")))?;
    let value = key.expose_secret();
    let full = re
        .find(value)
        .is_some_and(|m| m.start() == 0 && m.end() == value.len());
    if full {
        return Ok(());
    }
    let hint = hint.map(|h| format!(" ({h})")).unwrap_or_default();
    Err(Error::usage(format!(
        "that does not look like {} {provider} key{hint}; check you copied the whole key and try again",
        article(provider)
    )))
}

/// "a" or "an", as the name is said: "an OpenAI key", "a GitHub token".
pub fn article(name: &str) -> &'static str {
    match name.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}
