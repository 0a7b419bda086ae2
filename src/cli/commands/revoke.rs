//! `authsome revoke PROVIDER [-c NAME]`: revoke tokens at the provider (RFC 7009), then remove
//! them from the store.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::ops::revoke;

/// Arguments of `revoke`: those of `logout` (a provider, optionally one connection).
pub use super::logout::Args;

/// Runs `revoke`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let report = revoke::revoke(cx, &args.provider, args.connection.as_ref())?;
    for w in &report.warnings {
        out.warn(w);
    }
    if out.json {
        out.json(&report);
    } else if report.connections.is_empty() && report.commit.is_none() {
        out.info(&format!("{} has nothing to revoke", report.provider));
    } else if let Some(at) = &report.revoke_yourself {
        out.info(&format!(
            "Removed {} from the store only: {} revoked nothing, so the credential still works until you revoke it there ({at})",
            report.connections.iter().map(|c| format!("{}/{c}", report.provider)).collect::<Vec<_>>().join(", "),
            report.provider,
        ));
    } else {
        out.info(&format!(
            "Revoked {}{}: removed {} and {} at the provider",
            report.provider,
            args.connection
                .as_deref()
                .map(|c| format!("/{c}"))
                .unwrap_or_default(),
            if report.whole {
                "every connection and the client secret".to_owned()
            } else {
                "the connection".to_owned()
            },
            if report.revoked_at_provider.is_empty() {
                "nothing was revoked".to_owned()
            } else {
                format!("{} tokens were revoked", report.revoked_at_provider.len())
            }
        ));
    }
    Ok(())
}
