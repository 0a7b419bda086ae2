//! `authsome sync`: pull (rebase) and push the store's branch with git.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::ops::sync;

/// Runs `sync`.
pub fn exec(cx: &Context, out: &Output) -> Result<()> {
    let report = sync::sync(cx)?;
    if out.json {
        out.json(&report);
    } else {
        out.info(&format!(
            "Synced {} with {}/{}{}",
            report.branch,
            report.remote,
            report.remote_branch,
            if report.pulled {
                " (pulled new commits)"
            } else {
                ""
            }
        ));
        if !report.resealed.is_empty() {
            out.info(&format!(
                "Sealed your changes on top of the remote's: {}",
                report.resealed.join(", ")
            ));
        }
    }
    Ok(())
}
