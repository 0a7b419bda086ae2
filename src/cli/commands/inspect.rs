//! `authsome inspect PROVIDER`: the provider and every connection: status, expiry, scopes.

use super::list::status;
use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::model::report::{ConnectionFacts, InspectReport, InspectedConnection};
use authsome::providers::{Catalog, Provider};
use authsome::vault;

/// Arguments of `inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The provider.
    #[arg(add = crate::cli::complete::providers())]
    pub provider: String,
}

/// Runs `inspect`.
pub fn exec(ctx: &Context, out: &Output, args: Args) -> Result<()> {
    let store = ctx.store()?;
    let snap = store.snapshot()?;
    crate::cli::output::gate_reveals_nothing(out, ctx, &snap)?;
    let Provider { def, source } = Catalog::new(&snap).get(&args.provider)?;
    let state = vault::provider_state(&snap, &ctx.vault, &def.name)?;
    let mut conns = Vec::new();
    for c in vault::connections(&snap, &ctx.vault, &def.name)? {
        if let Some(r) = vault::record(&snap, &ctx.vault, &def.name, &c)? {
            conns.push((c, r));
        }
    }
    if out.json {
        let connections = conns
            .iter()
            .map(|(c, r)| InspectedConnection {
                facts: ConnectionFacts::of(
                    &def.name,
                    c,
                    &ctx.vault,
                    state.default.as_deref() == Some(c.as_str()),
                    r,
                ),
                secrets: r.secrets.clone(),
            })
            .collect();
        out.json(&InspectReport {
            vault: ctx.vault.to_string(),
            name: def.name.clone(),
            source: source.as_str().to_owned(),
            default: state.default.clone(),
            definition: def,
            connections,
        });
        return Ok(());
    }
    out.data(&format!(
        "{} ({}, {}) in vault {}",
        out.bold(&def.display_name),
        def.name,
        source.as_str(),
        ctx.vault
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
        // Marked as `list` marks it: "default (default)" said one word twice.
        let mark = if is_default {
            out.green("*")
        } else {
            " ".to_owned()
        };
        out.data(&format!("  {mark} {}", out.bold(c)));
        out.data(&format!("    status:  {}", status(out, r)));
        out.data(&format!(
            "    expires: {}",
            r.expires_at
                .map_or_else(|| "never".to_owned(), |e| e.to_string())
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
