//! `authsome git-setup`: make `git diff` and `git log -p` show secret files as redacted
//! summaries.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::ops::git_setup;

/// Runs `git-setup`.
pub fn exec(cx: &Context, out: &Output) -> Result<()> {
    let report = git_setup::git_setup(cx)?;
    if out.json {
        out.json(&report);
    } else {
        out.info("git diff and git log -p now show secret files as redacted summaries");
    }
    Ok(())
}
