//! `git-setup`: for stores made before it existed, commit the vault's fingerprint key and
//! `*.age diff=authsome` (one commit `git-setup: readable diffs of secret files`), and register
//! `authsome textconv` as the repository's diff driver. `init` does this from the start.

use serde::Serialize;

use crate::context::Context;
use crate::error::Result;
use crate::review;
use crate::store::Edit;

/// What `git-setup` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// `configured`, or `unchanged` when the committed half was there already.
    pub status: &'static str,
}

/// Makes the store's history readable in `git diff` and `git log -p`.
pub fn git_setup(cx: &Context) -> Result<Report> {
    let store = cx.store()?;
    let outcome = store.transact(|txn| {
        let meta = txn.base().meta()?;
        review::stage_setup(txn, &meta.id, &cx.vault)?;
        Ok(Edit::new("git-setup: readable diffs of secret files", ()))
    })?;
    review::register(&store)?;
    Ok(Report {
        status: if outcome.commit().is_some() {
            "configured"
        } else {
            "unchanged"
        },
    })
}
