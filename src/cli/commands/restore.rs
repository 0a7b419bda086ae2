//! `authsome restore PROVIDER[/CONNECTION] --to REV`: bring it back as it was, in a new commit.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::ops::restore;

/// Arguments of `restore`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to restore.
    #[arg(value_name = "PROVIDER[/CONNECTION]")]
    pub target: String,
    /// The revision to restore it from (a commit id, HEAD~N, ...).
    #[arg(long, value_name = "REV")]
    pub to: String,
}

/// Runs `restore`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let report = restore::restore(cx, &args.target, &args.to)?;
    let short = &report.to[..8];
    if out.json {
        out.json(&report);
    } else if report.commit.is_some() {
        out.info(&format!(
            "Restored {} as it was at {short} (a new commit; history is kept)",
            report.target
        ));
    } else {
        out.info(&format!(
            "{} is already as it was at {short}; nothing changed",
            report.target
        ));
    }
    Ok(())
}
