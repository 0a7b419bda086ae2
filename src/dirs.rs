//! Where things live outside the store: the user's config dir, the default store location.

use std::path::PathBuf;

use crate::error::{Error, Result};

fn home() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| Error::usage("HOME is not set; set it, or pass --store and --identity"))
}

/// authsome's config dir: `$XDG_CONFIG_HOME/authsome`, else `~/.config/authsome`.
pub fn config_dir() -> Result<PathBuf> {
    match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(x) => Ok(PathBuf::from(x).join("authsome")),
        None => Ok(home()?.join(".config").join("authsome")),
    }
}

/// authsome's cache dir, for data derived from the store: `$XDG_CACHE_HOME/authsome`, else
/// `~/.cache/authsome`.
pub fn cache_dir() -> Result<PathBuf> {
    match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(x) => Ok(PathBuf::from(x).join("authsome")),
        None => Ok(home()?.join(".cache").join("authsome")),
    }
}

/// The store used when neither `--store` nor `AUTHSOME_STORE` is given:
/// `$AUTHSOME_HOME`, else `~/.authsome`.
pub fn default_store() -> Result<PathBuf> {
    match std::env::var_os("AUTHSOME_HOME").filter(|v| !v.is_empty()) {
        Some(h) => Ok(PathBuf::from(h)),
        None => Ok(home()?.join(".authsome")),
    }
}

/// authsome's state dir, for records kept across runs that are not config: the proxy's audit
/// log. `$XDG_STATE_HOME/authsome`, else `~/.local/state/authsome`.
pub fn state_dir() -> Result<PathBuf> {
    match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(x) => Ok(PathBuf::from(x).join("authsome")),
        None => Ok(home()?.join(".local").join("state").join("authsome")),
    }
}
