//! `authsome textconv`, `git-setup`, `diff` and `show`: credential changes as diffs people can
//! read, in authsome and in plain `git diff` / `git log -p`.

use serde_json::json;

use super::{Context, DiffArgs, Output};
use authsome::error::{Error, Result};
use authsome::review;
use authsome::store::Store;

pub fn git_setup(ctx: &Context, out: &Output) -> Result<()> {
    let store = ctx.store()?;
    let changed = review::setup(&store, &ctx.vault)?;
    if out.json {
        out.json(&json!({"status": if changed { "configured" } else { "unchanged" }}));
    } else {
        out.info("git diff and git log -p now show secret files as redacted summaries");
    }
    Ok(())
}

/// `authsome textconv FILE`: what git shows for a secret file.
pub fn textconv(ctx: &Context, out: &Output, file: &std::path::Path) -> Result<()> {
    let bytes = std::fs::read(file).map_err(|e| Error::io("read", file, e))?;
    // git runs textconv at the repository's top level; prefer that store.
    let store = Store::open(&std::env::current_dir().unwrap_or_default())
        .ok()
        .filter(|s| s.root().join(authsome::store::STORE_FILE).exists())
        .map_or_else(|| ctx.store(), Ok)
        .ok();
    let snap = store.as_ref().and_then(|s| s.snapshot().ok());
    let identity = ctx.identity().ok();
    out.raw_text(&review::summarize(&bytes, snap.as_ref(), identity.as_ref()));
    Ok(())
}

pub fn diff(ctx: &Context, out: &Output, args: DiffArgs) -> Result<()> {
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

pub fn show(ctx: &Context, out: &Output, rev: &str) -> Result<()> {
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
        out.json(&json!({"commit": id.to_string(), "author": info.author, "summary": info.summary, "diff": text}));
    } else {
        out.data(&format!(
            "commit {id}\nAuthor: {} <{}>\n\n    {}\n",
            info.author, info.email, info.summary
        ));
        out.raw_text(&text);
    }
    Ok(())
}
