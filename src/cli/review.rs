//! `authsome textconv`, `git-setup`, `diff` and `show`: credential changes as diffs people can
//! read, in authsome and in plain `git diff` / `git log -p`.

use std::fmt::Write as _;

use age::secrecy::SecretString;
use serde_json::json;

use super::{Context, DiffArgs, Output};
use crate::error::{Error, Result};
use crate::review;
use crate::store::{Snapshot, Store};
use crate::vault;

/// The `.gitattributes` line that routes secret files through the textconv driver.
const ATTRIBUTES: &str = "*.age diff=authsome\n";

/// Makes the store's history readable in `git diff`: a fingerprint key for the vault, the
/// attributes line (both committed) and the diff driver in the repository's config.
pub fn setup(store: &Store, vault_name: &str) -> Result<bool> {
    let outcome = store.transact(|txn| {
        let meta = store.meta(txn.base())?;
        stage_setup(txn, &meta.id, vault_name)?;
        txn.set_message("git-setup: readable diffs of secret files");
        Ok(())
    })?;
    register_driver(store)?;
    Ok(outcome.commit().is_some())
}

/// Stages the committed half of [`setup`] in a transaction (so `init` makes one commit).
pub fn stage_setup(
    txn: &mut crate::store::Txn<'_>,
    store_id: &str,
    vault_name: &str,
) -> Result<()> {
    let mut attributes =
        String::from_utf8(txn.read(".gitattributes")?.unwrap_or_default()).unwrap_or_default();
    if !attributes.lines().any(|l| l.trim() == ATTRIBUTES.trim()) {
        attributes.push_str(ATTRIBUTES);
        txn.write(".gitattributes", attributes);
    }
    if txn
        .read(&review::fingerprint_key_path(vault_name))?
        .is_none()
    {
        let recipients = vault::load_recipients(txn, vault_name)?;
        let key = SecretString::from(crate::random_hex(32));
        let place = review::fingerprint_key_place(store_id, vault_name);
        txn.write(
            review::fingerprint_key_path(vault_name),
            crate::crypto::envelope::seal(&place, &key, &recipients.parsed)?,
        );
    }
    Ok(())
}

/// Registers the diff driver in the repository's config (not committed: config is local).
pub fn register(store: &Store) -> Result<()> {
    register_driver(store)
}

/// Adds `[diff "authsome"] textconv = authsome textconv` to the repository's config.
fn register_driver(store: &Store) -> Result<()> {
    // The shared config: in a linked worktree git_dir() has none of its own.
    let config = store.repo().common_dir().join("config");
    let text = std::fs::read_to_string(&config).map_err(|e| Error::io("read", &config, e))?;
    if text.contains("[diff \"authsome\"]") {
        return Ok(());
    }
    let mut text = text;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("[diff \"authsome\"]\n\ttextconv = authsome textconv\n");
    std::fs::write(&config, text).map_err(|e| Error::io("write", &config, e))
}

pub fn git_setup(ctx: &Context, out: &Output) -> Result<()> {
    let store = ctx.store()?;
    let changed = setup(&store, &ctx.vault)?;
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
        .filter(|s| s.root().join(crate::store::STORE_FILE).exists())
        .map_or_else(|| ctx.store(), Ok)
        .ok();
    let snap = store.as_ref().and_then(|s| s.snapshot().ok());
    let identity = ctx.identity().ok();
    out.raw_text(&review::summarize(&bytes, snap.as_ref(), identity.as_ref()));
    Ok(())
}

/// Renders the changes between two commits.
fn render(
    store: &Store,
    old: Option<gix::ObjectId>,
    new: gix::ObjectId,
    identity: Option<&crate::crypto::identity::Identity>,
) -> Result<String> {
    let new_snap = Snapshot::at_commit(store, new)?;
    let old_snap = match old {
        Some(o) => Some(Snapshot::at_commit(store, o)?),
        None => None,
    };
    let old_tree = old_snap.as_ref().map(|s| s.tree_id());
    let mut text = String::new();
    for c in store.changes(old_tree, new_snap.tree_id())? {
        let read = |snap: Option<&Snapshot<'_>>, id: Option<gix::ObjectId>| -> Result<Vec<u8>> {
            match (snap, id) {
                (Some(s), Some(id)) => s.read_blob(id),
                _ => Ok(Vec::new()),
            }
        };
        let before = read(old_snap.as_ref(), c.old)?;
        let after = read(Some(&new_snap), c.new)?;
        if c.path.ends_with(".age") {
            let fp = |bytes: &[u8], snap: Option<&Snapshot<'_>>| {
                review::summarize(bytes, snap, identity)
                    .lines()
                    .find_map(|l| l.strip_prefix("fingerprint: ").map(str::to_owned))
                    .unwrap_or_else(|| "unreadable".to_owned())
            };
            let line = match (c.old, c.new) {
                (None, _) => format!(
                    "secret {} added (fingerprint {})",
                    c.path,
                    fp(&after, Some(&new_snap))
                ),
                (_, None) => format!("secret {} deleted", c.path),
                _ => format!(
                    "secret {} changed (fingerprint {} -> {})",
                    c.path,
                    fp(&before, old_snap.as_ref()),
                    fp(&after, Some(&new_snap))
                ),
            };
            let _ = writeln!(text, "{line}");
        } else {
            let a = String::from_utf8_lossy(&before);
            let b = String::from_utf8_lossy(&after);
            text.push_str(&review::unified(&c.path, &a, &b));
        }
    }
    Ok(text)
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
                render(&store, parent, head, identity.as_ref())?,
            )
        }
        Some(spec) => {
            let (from, to) = match spec.split_once("..") {
                Some((a, b)) => (a, if b.is_empty() { "HEAD" } else { b }),
                None => (spec, "HEAD"),
            };
            let text = render(
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
    let text = render(&store, parent, id, identity.as_ref())?;
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
