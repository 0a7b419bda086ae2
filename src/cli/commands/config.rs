//! `authsome config KEY [true|false]`: show or set a setting of this clone (not state; kept in
//! the repository's own git config).

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::{Error, Result};
use authsome::ops::config::{self, Key};

/// Arguments of `config`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The setting: `signing.commits` (authsome's commits carry an SSH signature that `git
    /// verify-commit` and forges check).
    pub key: String,
    /// `true` or `false`; without it, the current value is shown.
    pub value: Option<String>,
}

/// Runs `config`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let key: Key = args.key.parse()?;
    let report = match args.value.as_deref() {
        None => config::get(cx, key)?,
        Some("true") => config::set(cx, key, true)?,
        Some("false") => config::set(cx, key, false)?,
        Some(other) => {
            return Err(Error::usage(format!(
                "{} takes true or false, not {other:?}",
                key.name()
            )));
        }
    };
    if out.json {
        out.json(&report);
    } else {
        out.data(&format!("{} {}", report.key, report.value));
    }
    Ok(())
}
