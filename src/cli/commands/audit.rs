//! `authsome audit [PROVIDER] [--since WHEN] [-n N]`: the proxy's log of injections and
//! refusals, oldest first.

use jiff::{Span, Timestamp, tz::TimeZone};
use serde_json::json;

use crate::cli::output::Output;
use authsome::error::{Error, Result};
use authsome::proxy::audit::{self, Action};

/// Arguments of `audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only entries of this provider.
    #[arg(add = crate::cli::complete::providers())]
    pub provider: Option<String>,
    /// Only entries since this time: RFC 3339 (`2026-11-27T10:00:00Z`) or an age (`1h`, `2 days`).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Show at most the last N entries.
    #[arg(short = 'n', long = "max-count", value_name = "N")]
    pub limit: Option<usize>,
}

/// Runs `audit`.
pub fn exec(out: &Output, args: Args) -> Result<()> {
    let since = args.since.as_deref().map(since).transpose()?;
    let path = audit::path()?;
    let mut entries: Vec<_> = audit::read(&path)?
        .into_iter()
        .filter(|e| {
            args.provider
                .as_deref()
                .is_none_or(|p| e.provider.as_deref() == Some(p))
        })
        .filter(|e| match (&since, e.time.parse::<Timestamp>()) {
            (Some(s), Ok(t)) => t >= *s,
            (Some(_), Err(_)) => false,
            (None, _) => true,
        })
        .collect();
    if let Some(n) = args.limit {
        let skip = entries.len().saturating_sub(n);
        entries.drain(..skip);
    }
    if out.json {
        out.json(&json!({ "log": path.display().to_string(), "entries": entries }));
        return Ok(());
    }
    if entries.is_empty() {
        out.info(&format!("no entries in {}", path.display()));
        return Ok(());
    }
    for e in entries {
        let used = match (&e.provider, &e.connection) {
            (Some(p), Some(c)) => format!("{p}/{c}"),
            (Some(p), None) => p.clone(),
            _ => "-".to_owned(),
        };
        let action = match e.action {
            Action::Injected => out.green("injected"),
            Action::Refused | Action::Challenged => out.yellow("refused "),
            Action::StateRefused => out.yellow("state refused"),
        };
        let mut line = format!(
            "{}  {action}  {used}  {} {}{}  {}",
            e.time, e.method, e.host, e.path, e.status
        );
        if let Some(r) = &e.reason {
            line.push_str(&format!("  ({r})"));
        }
        out.data(&line);
    }
    Ok(())
}

/// `--since`: a timestamp, or an age counted back from now.
fn since(text: &str) -> Result<Timestamp> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    let span: Span = text.parse().map_err(|_| {
        Error::usage(format!(
            "--since takes a time like 2026-11-27T10:00:00Z or an age like 1h or \"2 days\", not {text:?}"
        ))
    })?;
    Timestamp::now()
        .to_zoned(TimeZone::UTC)
        .checked_sub(span)
        .map(|z| z.timestamp())
        .map_err(|e| Error::usage(format!("--since {text:?}: {e}")))
}
