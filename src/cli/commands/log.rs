//! `authsome log [PROVIDER[/CONNECTION]] [-n N]`: the store's history, newest first.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::model::report::LogReport;
use authsome::ops::restore::target_dir;
use authsome::store::Change;

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
        out.json(&LogReport {
            commits: entries.iter().map(|(i, c)| i.report(c)).collect(),
        });
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
