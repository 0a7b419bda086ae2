//! `authsome refresh PROVIDER[/CONNECTION]`: refresh an OAuth connection's tokens now, and commit
//! a rotated refresh token (one parked on this machine when its commit was refused).

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::model::names::ConnectionName;

/// Arguments of `refresh`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// `PROVIDER` or `PROVIDER/CONNECTION` (default: the provider's default connection).
    #[arg(value_name = "PROVIDER[/CONNECTION]")]
    pub target: String,
}

/// Runs `refresh`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let (provider, connection) = match args.target.split_once('/') {
        Some((p, c)) => (p, Some(c.parse::<ConnectionName>()?)),
        None => (args.target.as_str(), None),
    };
    let report =
        authsome::ops::refresh::refresh_connection(cx, provider, connection.as_deref(), out)?;
    if out.json {
        out.json(&report);
    } else if report.was_parked {
        out.info(&format!(
            "Refreshed {}/{} and committed the refresh token that was parked on this machine",
            report.provider, report.connection
        ));
    } else {
        out.info(&format!(
            "Refreshed {}/{}",
            report.provider, report.connection
        ));
    }
    Ok(())
}
