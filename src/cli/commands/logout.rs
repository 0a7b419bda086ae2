//! `authsome logout PROVIDER [-c NAME]`: remove one connection; the provider is not contacted.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::model::names::ConnectionName;
use authsome::ops::logout;

/// Arguments of `logout`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The provider.
    #[arg(add = crate::cli::complete::providers())]
    pub provider: String,
    /// The connection (default: the provider's default connection).
    #[arg(add = crate::cli::complete::connections(), long, short)]
    pub connection: Option<ConnectionName>,
}

/// Runs `logout`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let report = logout::logout(cx, &args.provider, args.connection.as_ref())?;
    if out.json {
        out.json(&report);
        return Ok(());
    }
    out.info(&format!(
        "Logged out of {}/{} (removed locally; the provider was not contacted)",
        report.provider, report.connection
    ));
    if let Some(d) = &report.default {
        out.info(&format!(
            "{}: default connection is now {d}",
            report.provider
        ));
    }
    Ok(())
}
