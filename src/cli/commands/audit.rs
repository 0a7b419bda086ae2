//! `authsome audit [PROVIDER] [--since WHEN] [-n N]`: the proxy's log of injections and
//! refusals, oldest first.

use jiff::{Span, Timestamp, tz::TimeZone};

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
        out.json(&audit::AuditReport { log: path, entries });
        return Ok(());
    }
    if entries.is_empty() {
        out.info(&format!("no entries in {}", path.display()));
        return Ok(());
    }
    // Fixed-width columns: the time to the second in UTC, the outcome, then the connection
    // padded to the widest shown.
    let used_of = |e: &audit::Entry| match (&e.provider, &e.connection) {
        (Some(p), Some(c)) => format!("{p}/{c}"),
        (Some(p), None) => p.clone(),
        _ => "-".to_owned(),
    };
    let width = entries.iter().map(|e| used_of(e).len()).max().unwrap_or(1);
    for e in &entries {
        let time = e.time.parse::<Timestamp>().map_or_else(
            |_| e.time.clone(),
            |t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
        let (word, paint): (&str, fn(&Output, &str) -> String) = match e.action {
            Action::Injected => ("injected", Output::green),
            Action::Refused | Action::Challenged => ("refused", Output::yellow),
            Action::StateRefused => ("state refused", Output::yellow),
            Action::Unreachable => ("unreachable", Output::yellow),
            Action::PolicyDenied => ("denied", Output::red),
            Action::McpCall => ("mcp call", Output::green),
        };
        let action = paint(out, &format!("{word:<13}"));
        let used = format!("{:<width$}", used_of(e));
        let mut line = format!(
            "{time}  {action}  {used}  {} {}{}  {}",
            e.method, e.host, e.path, e.status
        );
        if let Some(r) = &e.reason {
            line.push_str(&format!("  ({r})"));
        }
        out.data(&line);
    }
    Ok(())
}

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
