//! `authsome list` and `authsome inspect`.

use serde_json::{Value, json};

use super::get::plain_fields;
use super::output::pad;
use super::{Context, InspectArgs, ListArgs, Output};
use authsome::error::Result;
use authsome::model::state::ConnectionRecord;
use authsome::providers::{Catalog, Provider};
use authsome::vault;

pub fn list(ctx: &Context, out: &Output, args: ListArgs) -> Result<()> {
    let store = ctx.store()?;
    let snap = store.snapshot()?;
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

pub fn inspect(ctx: &Context, out: &Output, args: InspectArgs) -> Result<()> {
    let store = ctx.store()?;
    let snap = store.snapshot()?;
    let Provider { def, source } = Catalog::new(&snap).get(&args.provider)?;
    let state = vault::provider_state(&snap, &ctx.vault, &def.name)?;
    let mut conns = Vec::new();
    for c in vault::connections(&snap, &ctx.vault, &def.name)? {
        if let Some(r) = vault::record(&snap, &ctx.vault, &def.name, &c)? {
            conns.push((c, r));
        }
    }
    if out.json {
        let list: Vec<Value> = conns
            .iter()
            .map(|(c, r)| {
                let mut v = plain_fields(
                    &def.name,
                    c,
                    &ctx.vault,
                    state.default.as_deref() == Some(c.as_str()),
                    r,
                );
                v.insert("secrets".into(), json!(r.secrets));
                Value::Object(v)
            })
            .collect();
        out.json(&json!({
            "name": def.name,
            "source": source.as_str(),
            "default": state.default,
            "definition": def,
            "connections": list,
        }));
        return Ok(());
    }
    out.data(&format!(
        "{} ({}, {})",
        out.bold(&def.display_name),
        def.name,
        source.as_str()
    ));
    let hosts: Vec<String> = def
        .hosts
        .iter()
        .map(|h| format!("{}{}", h.host, h.path_prefix.as_deref().unwrap_or("")))
        .collect();
    out.data(&format!(
        "  auth: {}   hosts: {}",
        auth_label(&def),
        hosts.join(", ")
    ));
    if conns.is_empty() {
        out.data(&format!(
            "  no connections; log in with `authsome login {}`",
            def.name
        ));
        return Ok(());
    }
    for (c, r) in &conns {
        let is_default = state.default.as_deref() == Some(c.as_str());
        let mark = if is_default {
            out.green(" (default)")
        } else {
            String::new()
        };
        out.data(&format!("  {}{mark}", out.bold(c)));
        out.data(&format!("    status:  {}", status(out, r)));
        out.data(&format!(
            "    expires: {}",
            r.expires_at.as_deref().unwrap_or("never")
        ));
        out.data(&format!(
            "    scopes:  {}",
            if r.scopes.is_empty() {
                "-".to_owned()
            } else {
                r.scopes.join(", ")
            }
        ));
        out.data(&format!(
            "    created: {}   updated: {}",
            r.created_at, r.updated_at
        ));
        let secrets: Vec<&str> = r.secrets.keys().map(String::as_str).collect();
        out.data(&format!("    secrets: {}", secrets.join(", ")));
    }
    Ok(())
}

fn auth_label(def: &authsome::model::provider::ProviderDef) -> String {
    serde_json::to_value(def.auth_type)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
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

fn status(out: &Output, r: &ConnectionRecord) -> String {
    let s = r.status.as_str();
    if s == "connected" {
        out.green(s)
    } else {
        out.yellow(s)
    }
}
