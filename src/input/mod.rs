//! Getting a secret from the user: standard input, a masked terminal prompt, or a one-shot local
//! web form. A secret is never accepted as a command-line argument.

mod form;

use std::io::Read;

use age::secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

pub use form::{Field, FormRequest, collect_via_form};

use crate::error::{Error, Result};
use crate::ui::Ui;

/// The longest secret accepted, in bytes.
pub const MAX_SECRET_LEN: usize = 16 * 1024;

/// Reads a secret from standard input, trimming surrounding whitespace.
pub fn from_stdin(what: &str) -> Result<SecretString> {
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

/// Asks for a secret at the terminal without echoing it.
pub fn from_prompt(ui: &dyn Ui, what: &str, label: &str) -> Result<SecretString> {
    let text = ui.ask_secret(&format!("{label}: ")).ok_or_else(|| {
        Error::usage(format!(
            "there is no terminal to ask for the {what}; pipe it with --stdin, or drop --no-browser to use the local form"
        ))
    })?;
    finish(what, &text)
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
        "that does not look like a {provider} key{hint}; check you copied the whole key and try again"
    )))
}
