//! `authsome show [REV]`: one commit and what it changed, secrets redacted.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::model::report::ShowReport;
use authsome::review;

/// Arguments of `show`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The revision.
    #[arg(default_value = "HEAD")]
    pub rev: String,
}

/// Runs `show`.
pub fn exec(ctx: &Context, out: &Output, args: Args) -> Result<()> {
    let rev = args.rev.as_str();
    let store = ctx.store()?;
    let id = store.resolve(rev)?;
    let info = store.commit_info(id)?;
    let parent = store
        .repo()
        .find_commit(id)
        .ok()
        .and_then(|c| c.parent_ids().next().map(|p| p.detach()));
    let identity = ctx.identity().ok();
    let text = review::render(&store, parent, id, identity.as_ref())?;
    if out.json {
        let changes = store.changes(info.parent_tree, info.tree)?;
        out.json(&ShowReport {
            commit: info.report(&changes),
            diff: text,
        });
    } else {
        out.data(&format!(
            "commit {id}\nAuthor: {} <{}>\n\n    {}\n",
            info.author, info.email, info.summary
        ));
        out.diff_text(&text);
    }
    Ok(())
}
