//! `authsome diff [REV[..REV]]`: what changed (default: the last commit), secrets redacted.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::model::report::DiffReport;
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
    let (from, to) = match args.range.as_deref() {
        // The last commit's own change (against nothing, for the very first commit).
        None => {
            let head = store.resolve("HEAD")?;
            let parent = store
                .repo()
                .find_commit(head)
                .ok()
                .and_then(|c| c.parent_ids().next().map(|p| p.detach()));
            (parent, head)
        }
        Some(spec) => {
            let (from, to) = match spec.split_once("..") {
                Some((a, b)) => (a, if b.is_empty() { "HEAD" } else { b }),
                None => (spec, "HEAD"),
            };
            (Some(store.resolve(from)?), store.resolve(to)?)
        }
    };
    let text = review::render(&store, from, to, identity.as_ref())?;
    if out.json {
        // Each end as `log` shows it, with the change it made itself.
        let commit = |id| -> Result<_> {
            let info = store.commit_info(id)?;
            Ok(info.report(&store.changes(info.parent_tree, info.tree)?))
        };
        out.json(&DiffReport {
            from: from.map(commit).transpose()?,
            to: commit(to)?,
            diff: text,
        });
    } else {
        out.diff_text(&text);
    }
    Ok(())
}
