//! `config`: this clone's settings that are not state. They live in the repository's own git
//! config (`.git/config`), never in a commit, so each clone chooses for itself.

use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, Result};

/// A setting `authsome config` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `signing.commits`: authsome's commits carry an SSH signature (`gpgsig`) that `git
    /// verify-commit` and forges check; never a source of trust (seals are).
    SigningCommits,
}

impl std::str::FromStr for Key {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "signing.commits" => Ok(Key::SigningCommits),
            _ => Err(Error::usage(format!(
                "{text:?} is not a setting authsome knows; the one there is: signing.commits"
            ))),
        }
    }
}

impl Key {
    /// The name users type.
    pub fn name(self) -> &'static str {
        match self {
            Key::SigningCommits => "signing.commits",
        }
    }

    fn git_key(self) -> &'static str {
        match self {
            Key::SigningCommits => crate::trust::SIGN_COMMITS,
        }
    }
}

/// A setting and its value.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// The setting.
    pub key: &'static str,
    /// Its value now.
    pub value: bool,
}

/// Reads a setting (`false` when unset).
pub fn get(cx: &Context, key: Key) -> Result<Report> {
    let store = cx.store()?;
    let value = match key {
        Key::SigningCommits => crate::trust::signs_commits(&store),
    };
    Ok(Report {
        key: key.name(),
        value,
    })
}

/// Sets a setting in the store repository's own git config.
pub fn set(cx: &Context, key: Key, value: bool) -> Result<Report> {
    let store = cx.store()?;
    if value && key == Key::SigningCommits {
        // Refused now rather than at the next write: a signed commit needs the key.
        crate::crypto::signing::SigningKey::load(&cx.signing_key_path)?;
    }
    let root = store.root();
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "config",
            "--local",
            key.git_key(),
            if value { "true" } else { "false" },
        ])
        .output()
        .map_err(|e| {
            Error::store(format!(
                "could not run git ({e}); `authsome config` needs the git command installed"
            ))
        })?;
    if !out.status.success() {
        return Err(Error::store(format!(
            "git config failed in {}: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(Report {
        key: key.name(),
        value,
    })
}
