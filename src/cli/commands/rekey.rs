//! `authsome rekey [VAULT...] [--all] [--dry-run]`: re-encrypt stale secrets to their vault's
//! current readers.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::model::names::VaultName;
use authsome::ops::rekey;

/// Arguments of `rekey`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The vaults (default: every vault).
    #[arg(add = crate::cli::complete::vaults())]
    pub vaults: Vec<VaultName>,
    /// Re-encrypt every secret, not only the stale ones (after an identity file leaked).
    #[arg(long)]
    pub all: bool,
    /// Count the stale secrets; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs `rekey`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let report = rekey::rekey(cx, &args.vaults, args.all, args.dry_run)?;
    if out.json {
        out.json(&report);
        return Ok(());
    }
    for v in &report.vaults {
        let verb = if args.dry_run {
            "stale"
        } else {
            "re-encrypted"
        };
        out.data(&format!(
            "{}: {} of {} secrets {verb}",
            v.vault, v.rewritten, v.total
        ));
    }
    Ok(())
}
