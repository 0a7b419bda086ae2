//! `authsome seal [SCOPE]...`: vouch for what scopes hold now, with your signing key.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::ops::seal;
use authsome::trust::seal::Scope;

/// Arguments of `seal`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// `store` or `vaults/NAME` (default: every scope that is unsealed or changed).
    pub scopes: Vec<String>,
    /// Seal without asking (authsome does not ask yet; accepted for scripts).
    #[arg(long)]
    pub yes: bool,
}

/// Runs `seal`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let scopes = args
        .scopes
        .iter()
        .map(|s| Scope::parse(s))
        .collect::<Result<Vec<_>>>()?;
    let report = seal::seal(cx, &scopes)?;
    if out.json {
        out.json(&report);
    } else if report.sealed.is_empty() {
        out.info("Every scope is sealed as it is; nothing to do");
    } else {
        for (scope, seq) in &report.sealed {
            out.info(&format!("Sealed {scope} #{seq}"));
        }
    }
    Ok(())
}
