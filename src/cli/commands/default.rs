//! `authsome default PROVIDER CONNECTION`: switch the default connection (a one-line diff).

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::model::names::ConnectionName;
use authsome::ops::default;

/// Arguments of `default`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The provider.
    #[arg(add = crate::cli::complete::providers())]
    pub provider: String,
    /// The connection to make the default.
    #[arg(add = crate::cli::complete::connections())]
    pub connection: ConnectionName,
}

/// Runs `default`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let report = default::set_default(cx, &args.provider, &args.connection)?;
    if out.json {
        out.json(&report);
    } else if report.commit.is_some() {
        out.info(&format!(
            "{}: default connection is now {}",
            report.provider, report.default
        ));
    } else {
        out.info(&format!(
            "{}: {} is already the default connection",
            report.provider, report.default
        ));
    }
    Ok(())
}
