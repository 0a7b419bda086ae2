//! `authsome log` and `authsome restore`: reading history and bringing a connection back.

use serde_json::json;

use super::{Context, LogArgs, Output, RestoreArgs};
use authsome::error::{Error, Result};
use authsome::model::names;
use authsome::store::{Change, Snapshot};
use authsome::vault::paths;

/// `PROVIDER` or `PROVIDER/CONNECTION`, as the store folder it names.
fn target_dir(vault: &str, target: &str) -> Result<(String, String)> {
    let (provider, conn) = match target.split_once('/') {
        Some((p, c)) => (p, Some(c)),
        None => (target, None),
    };
    names::validate("provider", provider)?;
    match conn {
        Some(c) => {
            names::validate("connection", c)?;
            Ok((
                paths::connection(vault, provider, c),
                format!("{provider}/{c}"),
            ))
        }
        None => Ok((paths::provider(vault, provider), provider.to_owned())),
    }
}

fn status(c: &Change) -> &'static str {
    match (c.old, c.new) {
        (None, _) => "added",
        (_, None) => "deleted",
        _ => "modified",
    }
}

fn when(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

pub fn log(ctx: &Context, out: &Output, args: LogArgs) -> Result<()> {
    let store = ctx.store()?;
    let Some(head) = store.snapshot()?.commit() else {
        out.info("The store has no commits yet.");
        return Ok(());
    };
    let filter = match &args.target {
        Some(t) => Some(format!("{}/", target_dir(&ctx.vault, t)?.0)),
        None => None,
    };
    let mut entries = Vec::new();
    for id in store.walk(head)? {
        if args.limit.is_some_and(|n| entries.len() >= n) {
            break;
        }
        let info = store.commit_info(id)?;
        let mut changes = store.changes(info.parent_tree, info.tree)?;
        if let Some(prefix) = &filter {
            changes.retain(|c| c.path.starts_with(prefix.as_str()));
        }
        // In a project, most commits are code: only those touching the store are history here.
        if changes.is_empty() && (filter.is_some() || store.is_project()) {
            continue;
        }
        entries.push((info, changes));
    }
    if out.json {
        let list: Vec<_> = entries
            .iter()
            .map(|(i, changes)| {
                json!({
                    "commit": i.id.to_string(),
                    "author": i.author,
                    "email": i.email,
                    "time": when(i.time),
                    "summary": i.summary,
                    "changes": changes.iter().map(|c| json!({"path": c.path, "status": status(c)})).collect::<Vec<_>>(),
                })
            })
            .collect();
        out.json(&json!({ "commits": list }));
        return Ok(());
    }
    if entries.is_empty() {
        out.info("No commits touch that.");
    }
    for (i, changes) in &entries {
        let short = &i.id.to_string()[..8];
        out.data(&format!(
            "{}  {}  {}  {}",
            out.yellow(short),
            when(i.time),
            i.author,
            out.bold(&i.summary)
        ));
        for c in changes {
            let mark = match status(c) {
                "added" => out.green("A"),
                "deleted" => "D".to_owned(),
                _ => "M".to_owned(),
            };
            out.data(&format!("    {mark} {}", c.path));
        }
    }
    Ok(())
}

pub fn restore(ctx: &Context, out: &Output, args: RestoreArgs) -> Result<()> {
    let store = ctx.store()?;
    let (dir, label) = target_dir(&ctx.vault, &args.target)?;
    let rev = store.resolve(&args.to)?;
    let short = rev.to_string()[..8].to_owned();
    let then = Snapshot::at_commit(&store, rev)?;
    let files = then.files_under(&dir)?;
    if files.is_empty() {
        return Err(Error::usage(format!(
            "{label} did not exist at {}; pick a revision where it did (see `authsome log {label}`), or use `authsome logout` to remove it",
            args.to
        )));
    }
    let mut contents = Vec::new();
    for f in &files {
        contents.push((f.clone(), then.read(f)?.unwrap_or_default()));
    }
    let outcome = store.transact(|txn| {
        txn.delete_dir(&dir)?;
        for (path, bytes) in &contents {
            txn.write(path.clone(), bytes.clone());
        }
        txn.set_message(format!("restore {label} to {short}"));
        Ok(())
    })?;
    if out.json {
        out.json(&json!({
            "status": if outcome.commit().is_some() { "restored" } else { "unchanged" },
            "target": label,
            "to": rev.to_string(),
            "commit": outcome.commit().map(|c| c.to_string()),
        }));
    } else if outcome.commit().is_some() {
        out.info(&format!(
            "Restored {label} as it was at {short} (a new commit; history is kept)"
        ));
    } else {
        out.info(&format!(
            "{label} is already as it was at {short}; nothing changed"
        ));
    }
    Ok(())
}
