//! `authsome whoami`: which store, identity and vaults are in use.

use authsome::model::report::{VaultAccess, WhoamiReport};

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::layout;
use authsome::model::state::Principal;
use authsome::vault;

/// Runs `whoami`.
pub fn exec(ctx: &Context, out: &Output) -> Result<()> {
    let store = ctx.store()?;
    let snap = store.snapshot()?;
    let meta = snap.meta()?;
    let identity = ctx.identity()?;
    let me = identity.recipient();

    let mut principal = None;
    for e in snap.list(layout::PRINCIPALS)? {
        let Some(name) = e.name.strip_suffix(layout::YAML_EXT) else {
            continue;
        };
        let p: Option<Principal> = vault::read_yaml(&snap, &layout::principal(name))?;
        if p.is_some_and(|p| p.recipients.iter().any(|r| r == me)) {
            principal = Some(name.to_owned());
        }
    }
    let mut vaults = Vec::new();
    for e in snap.list(layout::VAULTS)?.into_iter().filter(|e| e.is_dir) {
        let readable = vault::vault_recipients(&snap, &e.name)
            .map(|r| r.iter().any(|x| x == me))
            .unwrap_or(false);
        let mut count = 0;
        for p in vault::providers(&snap, &e.name)? {
            count += vault::connections(&snap, &e.name, &p)?.len();
        }
        vaults.push((e.name, readable, count));
    }
    let head = snap.commit().map(|c| c.to_string());

    if out.json {
        out.json(&WhoamiReport {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            store: store.root().to_owned(),
            store_id: meta.id.clone(),
            head: head.clone(),
            identity: identity.path().to_owned(),
            recipient: me.to_string(),
            principal: principal.clone(),
            vault: ctx.vault.to_string(),
            vaults: vaults
                .iter()
                .map(|(name, readable, connections)| VaultAccess {
                    name: name.clone(),
                    readable: *readable,
                    connections: *connections,
                })
                .collect(),
        });
        return Ok(());
    }
    out.data(&format!(
        "store:     {} (id {})",
        store.root().display(),
        meta.id
    ));
    out.data(&format!("head:      {}", head.as_deref().unwrap_or("none")));
    out.data(&format!("identity:  {}", identity.path().display()));
    out.data(&format!("recipient: {me}"));
    out.data(&format!(
        "principal: {}",
        principal
            .as_deref()
            .unwrap_or("none (not listed in principals/)")
    ));
    for (name, readable, count) in &vaults {
        let active = if name.as_str() == ctx.vault.as_str() {
            " (in use)"
        } else {
            ""
        };
        let access = if *readable {
            "readable"
        } else {
            "not readable with this identity"
        };
        out.data(&format!(
            "vault:     {name}{active}: {count} connections, {access}"
        ));
    }
    Ok(())
}
