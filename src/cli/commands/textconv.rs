//! `authsome textconv FILE`: a secret file as a redacted summary; git's textconv driver calls
//! this for `git diff` and `git log -p`.

use std::path::PathBuf;

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::{Error, Result};
use authsome::review;
use authsome::store::Store;

/// Arguments of `textconv`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file.
    pub file: PathBuf,
}

/// Runs `textconv`.
pub fn exec(ctx: &Context, out: &Output, args: Args) -> Result<()> {
    out.refuse_json("textconv prints text for git diff")?;
    let file = args.file.as_path();
    let bytes = std::fs::read(file).map_err(|e| Error::io("read", file, e))?;
    // git runs textconv at the repository's top level; prefer that store.
    let store = Store::open(&std::env::current_dir().unwrap_or_default())
        .ok()
        .filter(|s| s.root().join(authsome::layout::STORE_FILE).exists())
        .map_or_else(|| ctx.store(), Ok)
        .ok();
    let snap = store.as_ref().and_then(|s| s.snapshot().ok());
    let identity = ctx.identity().ok();
    out.raw_text(&review::summarize(&bytes, snap.as_ref(), identity.as_ref()));
    Ok(())
}
