//! Reading and writing the store's YAML files.
//!
//! The tool owns the formatting: every file is written whole from its Rust type, with struct
//! fields in declaration order and maps sorted (`BTreeMap`), so an unchanged value never produces
//! a diff. Parse errors name the file and the line.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Parses `bytes` read from `path` (a store-relative path, used in messages).
pub fn parse<T: DeserializeOwned>(path: &str, bytes: &[u8]) -> Result<T> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::store(format!("{path} is not UTF-8 text; {}", fix_hint(path))))?;
    let mut options = serde_saphyr::options::Options::default();
    options.emit_comments = false;
    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let line = e
            .location()
            .map(|l| format!(" at line {}", l.line()))
            .unwrap_or_default();
        let detail = first_line(&e.without_snippet().to_string());
        Error::store(format!(
            "{path} could not be read{line} ({detail}); {}",
            fix_hint(path)
        ))
    })
}

/// Serializes `value` deterministically.
pub fn to_string<T: Serialize>(value: &T) -> Result<String> {
    serde_saphyr::to_string(value)
        .map_err(|e| Error::internal(format!("could not write YAML: {e}")))
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_owned()
}

fn fix_hint(path: &str) -> String {
    format!(
        "fix the file and commit it, or restore the last good version with `git checkout HEAD~1 -- {path}` and commit"
    )
}
