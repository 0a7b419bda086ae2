//! `authsome log [PROVIDER[/CONNECTION]] [-n N]`: the store's history, newest first.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::model::report::{ChangeStatus, LogReport};
use authsome::ops::restore::target_dir;

/// Arguments of `log`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only commits touching PROVIDER or PROVIDER/CONNECTION.
    #[arg(value_name = "PROVIDER[/CONNECTION]")]
    pub target: Option<String>,
    /// Show at most N commits.
    #[arg(short = 'n', long = "max-count", value_name = "N")]
    pub limit: Option<usize>,
}

/// Runs `log`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let store = cx.store()?;
    let Some(head) = store.snapshot()?.commit() else {
        out.info("The store has no commits yet.");
        return Ok(());
    };
    let filter = match &args.target {
        Some(t) => Some(format!("{}/", target_dir(&cx.vault, t)?.0)),
        None => None,
    };
    let mut commits = Vec::new();
    for id in store.walk(head)? {
        if args.limit.is_some_and(|n| commits.len() >= n) {
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
        commits.push(info.report(&changes));
    }
    // One shape for both: the text is the JSON's fields, laid out.
    if out.json {
        out.json(&LogReport { commits });
        return Ok(());
    }
    if commits.is_empty() {
        out.info("No commits touch that.");
    }
    for c in &commits {
        out.data(&format!(
            "{}  {}  {}  {}",
            out.yellow(&c.id[..8]),
            c.time,
            c.author,
            out.bold(&c.message)
        ));
        for change in &c.changes {
            let mark = match change.status {
                ChangeStatus::Added => out.green("A"),
                ChangeStatus::Deleted => out.red("D"),
                ChangeStatus::Modified => "M".to_owned(),
            };
            out.data(&format!("    {mark} {}", change.path));
        }
    }
    Ok(())
}
