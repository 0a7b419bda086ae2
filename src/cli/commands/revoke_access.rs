//! `authsome revoke-access PRINCIPAL VAULT`: take every role in a vault from a principal.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::model::names::VaultName;
use authsome::ops::grant;

/// Arguments of `revoke-access`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The principal.
    pub principal: String,
    /// The vault.
    #[arg(add = crate::cli::complete::vaults())]
    pub vault: VaultName,
}

/// Runs `revoke-access`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let report = grant::revoke_access(cx, &args.principal, &args.vault)?;
    if out.json {
        out.json(&report);
        return Ok(());
    }
    out.info(&format!(
        "{} has no role in vault {} any more{}",
        report.principal,
        report.vault,
        report
            .rekeyed
            .as_ref()
            .map(|r| format!(
                "; {} secrets re-encrypted; {} connections need rotation (see `authsome rotation list`): old versions in git history stay readable with their key",
                r.rewritten, report.rotation_needed
            ))
            .unwrap_or_default()
    ));
    Ok(())
}
