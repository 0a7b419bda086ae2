//! `authsome diff [REV[..REV]]`: what changed (default: the last commit), secrets redacted.

use serde_json::json;

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::review;

/// Arguments of `diff`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// `REV` (from REV to HEAD) or `REV..REV`.
    #[arg(value_name = "REV[..REV]")]
    pub range: Option<String>,
}

/// Runs `diff`.
pub fn exec(ctx: &Context, out: &Output, args: Args) -> Result<()> {
    let store = ctx.store()?;
    let identity = ctx.identity().ok();
    let (from, to, text) = match args.range.as_deref() {
        // The last commit's own change (against nothing, for the very first commit).
        None => {
            let head = store.resolve("HEAD")?;
            let parent = store
                .repo()
                .find_commit(head)
                .ok()
                .and_then(|c| c.parent_ids().next().map(|p| p.detach()));
            (
                "HEAD~1",
                "HEAD",
                review::render(&store, parent, head, identity.as_ref())?,
            )
        }
        Some(spec) => {
            let (from, to) = match spec.split_once("..") {
                Some((a, b)) => (a, if b.is_empty() { "HEAD" } else { b }),
                None => (spec, "HEAD"),
            };
            let text = review::render(
                &store,
                Some(store.resolve(from)?),
                store.resolve(to)?,
                identity.as_ref(),
            )?;
            (from, to, text)
        }
    };
    if out.json {
        out.json(&json!({"from": from, "to": to, "diff": text}));
    } else {
        out.raw_text(&text);
    }
    Ok(())
}
