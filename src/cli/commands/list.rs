//! `authsome list [--all]`: providers with connections, the default marked `*`.

use serde_json::{Value, json};

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
        let providers: Vec<Value> = rows
            .iter()
            .map(|(name, p, entry)| {
                let default = entry.and_then(|e| e.0.default.clone());
                let conns: Vec<Value> = entry
                    .map(|e| &e.1[..])
                    .unwrap_or_default()
                    .iter()
                    .map(|(c, r)| connection_json(c, r, default.as_deref() == Some(c.as_str())))
                    .collect();
                json!({
                    "name": name,
                    "display_name": p.as_ref().map(|p| p.def.display_name.clone()),
                    "source": p.as_ref().map(|p| p.source.as_str()),
                    "auth_type": p.as_ref().map(|p| p.def.auth_type),
                    "default": default,
                    "connections": conns,
                })
            })
            .collect();
        out.json(&json!({ "vault": ctx.vault, "providers": providers }));
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

fn connection_json(name: &str, r: &ConnectionRecord, is_default: bool) -> Value {
    json!({
        "name": name,
        "status": r.status.as_str(),
        "default": is_default,
        "expires_at": r.expires_at,
        "scopes": r.scopes,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    })
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
