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
    /// Add your signature to the store change waiting for owners' co-signatures
    /// (`owner_threshold` above 1); the last one needed lands it on the branch.
    #[arg(long)]
    pub cosign: bool,
}

/// Runs `seal`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let scopes = args
        .scopes
        .iter()
        .map(|s| Scope::parse(s))
        .collect::<Result<Vec<_>>>()?;
    if args.cosign {
        if scopes.iter().any(|s| *s != Scope::Store) {
            return Err(authsome::error::Error::usage(
                "--cosign is for the store scope: `authsome seal store --cosign`",
            ));
        }
        let report = seal::cosign(cx)?;
        if out.json {
            out.json(&report);
        } else if report.status == "landed" {
            out.info(&format!(
                "Cosigned and landed \"{}\" ({} of {} owners: {})",
                report.change,
                report.signed_by.len(),
                report.threshold,
                report.signed_by.join(", ")
            ));
        } else {
            out.info(&format!(
                "Cosigned \"{}\"; it has {} of the {} owners' signatures it needs ({}) and still waits",
                report.change,
                report.signed_by.len(),
                report.threshold,
                report.signed_by.join(", ")
            ));
        }
        return Ok(());
    }
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
