//! `authsome init [--project]`: create the store and an identity, where they do not exist yet.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::{Error, Result};
use authsome::ops::init;

/// Arguments of `init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Create the store in this project's repository (`.authsome/`, named by `.authsome.yaml`).
    #[arg(long)]
    pub project: bool,
}

/// Runs `init`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let report = init::init(cx, args.project)?;
    if out.json {
        out.json(&report);
    } else {
        if report.created.is_empty() {
            out.info(&format!(
                "Nothing to do: the store {} and the identity {} already exist.",
                report.store.display(),
                report.identity.display()
            ));
        }
        for c in &report.created {
            out.info(&format!("Created {c}"));
        }
        out.info(&format!("Your recipient: {}", report.recipient));
        if !report.created.is_empty() {
            out.info("Next: log in to a provider, for example `authsome login openai` (`authsome provider list` shows them all).");
        }
    }
    if !report.identity_is_recipient {
        let err = Error::crypto(format!(
            "your identity is not a recipient of vault {:?} in {}; ask a member to add `{}` to a principal of that vault",
            report.vault,
            report.store.display(),
            report.recipient
        ));
        return Err(if out.json { err.reported() } else { err });
    }
    Ok(())
}
