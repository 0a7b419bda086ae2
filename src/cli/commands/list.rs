//! `authsome list [--all]`: providers with connections, the default marked `*`.

use authsome::model::report::{ListReport, ListedConnection, ListedProvider};

use crate::cli::output::{Output, pad};
use authsome::context::Context;
use authsome::error::Result;
use authsome::model::state::ConnectionRecord;
use authsome::providers::Catalog;
use authsome::vault;

/// Arguments of `list`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Include providers without connections.
    #[arg(long)]
    pub all: bool,
}

/// Runs `list`.
pub fn exec(ctx: &Context, out: &Output, args: Args) -> Result<()> {
    let store = ctx.store()?;
    let snap = store.snapshot()?;
    crate::cli::output::gate_reveals_nothing(out, ctx, &snap)?;
    let catalog = Catalog::new(&snap);
    let cache = store
        .meta(&snap)
        .ok()
        .and_then(|m| vault::records_cache(&m.id, &ctx.vault));
    let records = vault::all_records(&snap, &ctx.vault, cache.as_deref())?;

    let mut rows = Vec::new();
    if args.all {
        for p in catalog.all()? {
            let entry = records.get(&p.def.name);
            rows.push((p.def.name.clone(), Some(p), entry));
        }
    } else {
        for (name, entry) in &records {
            if entry.1.is_empty() {
                continue;
            }
            rows.push((name.clone(), catalog.get(name).ok(), Some(entry)));
        }
    }

    if out.json {
        let providers = rows
            .iter()
            .map(|(name, p, entry)| {
                let default = entry.and_then(|e| e.0.default.clone());
                let connections = entry
                    .map(|e| &e.1[..])
                    .unwrap_or_default()
                    .iter()
                    .map(|(c, r)| {
                        ListedConnection::of(c, r, default.as_deref() == Some(c.as_str()))
                    })
                    .collect();
                ListedProvider {
                    name: name.clone(),
                    display_name: p.as_ref().map(|p| p.def.display_name.clone()),
                    source: p.as_ref().map(|p| p.source.as_str().to_owned()),
                    auth_type: p.as_ref().map(|p| p.def.auth_type),
                    default,
                    connections,
                }
            })
            .collect();
        out.json(&ListReport {
            vault: ctx.vault.to_string(),
            providers,
        });
        return Ok(());
    }

    // The seed's output stays as it was for the default vault; another vault is named first.
    if ctx.vault.as_str() != authsome::vault::DEFAULT_VAULT {
        out.info(&format!("vault {}", ctx.vault));
    }
    if rows.is_empty() {
        out.info("No connections yet; log in with `authsome login PROVIDER` (see `authsome provider list`).");
        return Ok(());
    }
    let width = rows
        .iter()
        .map(|(n, _, _)| n.len())
        .max()
        .unwrap_or(8)
        .max(8);
    for (name, p, entry) in &rows {
        let display = p
            .as_ref()
            .map(|p| p.def.display_name.as_str())
            .unwrap_or("unknown provider");
        let conns = entry.map(|e| &e.1[..]).unwrap_or_default();
        if conns.is_empty() {
            out.data(&format!("{}  {}", pad(name, width), out.dim(display)));
            continue;
        }
        let default = entry.and_then(|e| e.0.default.as_deref());
        for (i, (c, r)) in conns.iter().enumerate() {
            let first = if i == 0 {
                pad(name, width)
            } else {
                " ".repeat(width)
            };
            let mark = if default == Some(c.as_str()) {
                out.green("*")
            } else {
                " ".to_owned()
            };
            out.data(&format!(
                "{}  {mark} {}  {}",
                out.bold(&first),
                pad(c, 16),
                status(out, r)
            ));
        }
    }
    Ok(())
}

/// A connection's status, coloured.
pub(super) fn status(out: &Output, r: &ConnectionRecord) -> String {
    let s = r.status.as_str();
    if s == "connected" {
        out.green(s)
    } else {
        out.yellow(s)
    }
}
