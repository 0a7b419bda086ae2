//! `authsome whoami`: which store, identity and vaults are in use.

use serde_json::json;

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
        out.json(&json!({
            "version": env!("CARGO_PKG_VERSION"),
            "store": store.root(),
            "store_id": meta.id,
            "head": head,
            "identity": identity.path(),
            "recipient": me,
            "principal": principal,
            "vault": ctx.vault,
            "vaults": vaults.iter().map(|(n, r, c)| json!({"name": n, "readable": r, "connections": c})).collect::<Vec<_>>(),
        }));
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
