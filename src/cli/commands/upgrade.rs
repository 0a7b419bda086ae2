//! `authsome upgrade`: migrate the store to the current format, in one commit.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::ops::upgrade;

/// Runs `upgrade`.
pub fn exec(cx: &Context, out: &Output) -> Result<()> {
    let report = upgrade::upgrade(cx)?;
    if out.json {
        out.json(&report);
    } else if report.commit.is_none() {
        out.info(&format!(
            "The store is already format {}; nothing to do",
            report.to
        ));
    } else {
        out.info(&format!(
            "Upgraded the store from format {} to {}; owners: {}",
            report.from,
            report.to,
            report.owners.join(", ")
        ));
    }
    Ok(())
}
