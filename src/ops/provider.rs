//! `provider add` and `provider remove`: custom provider definitions committed to the store,
//! each in one commit (`provider add NAME`, `provider remove NAME`).

use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::layout;
use crate::model::provider::ProviderDef;
use crate::providers;
use crate::store::Edit;
use crate::vault;

/// What `provider add` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AddReport {
    /// `added`, or `unchanged` when the store held this definition already.
    pub status: &'static str,
    /// The provider.
    pub provider: String,
    /// Whether the definition overrides a bundled one.
    pub overrides_bundled: bool,
    /// Hosts the definition sends credentials to that the definition it replaces (bundled or
    /// custom) did not: what a reviewer must look at.
    pub added_hosts: Vec<String>,
    /// The commit made, if any.
    pub commit: Option<String>,
}

/// What `provider remove` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RemoveReport {
    /// Always `removed`.
    pub status: &'static str,
    /// The provider.
    pub provider: String,
    /// The commit made.
    pub commit: Option<String>,
}

/// Opens the store for a change of the store scope: in a store with owners, only they may
/// (a provider's hosts decide where credentials are sent).
fn owner_store(cx: &Context, what: &str) -> Result<crate::store::Store> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    let meta = snap.meta()?;
    if meta.format >= crate::model::state::STORE_FORMAT {
        let me = super::access::acting_principal(&snap, &cx.identity()?)?;
        super::access::require_owner(&meta, &me, what)?;
    }
    Ok(store)
}

/// Commits `def` as a custom provider; replacing a custom one or overriding a bundled one
/// needs `force`.
pub fn add(cx: &Context, def: &ProviderDef, force: bool) -> Result<AddReport> {
    let name = def.name.clone();
    let store = owner_store(cx, "change providers")?;
    let overrides_bundled = providers::bundled(&name).is_some();
    let mut added_hosts = Vec::new();
    let outcome = store.transact(|txn| {
        let path = layout::custom_provider(&name);
        let exists = txn.read(&path)?.is_some();
        if !force && (exists || overrides_bundled) {
            let what = if exists {
                "a custom provider"
            } else {
                "a bundled provider"
            };
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("{what} named {name:?} already exists; pass --force to replace it"),
            ));
        }
        // What it replaces: the committed custom definition, else the bundled one.
        let before: Option<ProviderDef> = match txn.read(&path)? {
            Some(bytes) => crate::model::yaml::parse(&path, &bytes).ok(),
            None => providers::bundled(&name).and_then(|d| d.ok()),
        };
        let shown = |h: &crate::model::provider::HostRule| match h.port {
            Some(p) => format!("{}:{p}", h.host),
            None => h.host.clone(),
        };
        let old: Vec<String> = before
            .map(|b| b.hosts.iter().map(shown).collect())
            .unwrap_or_default();
        added_hosts = def
            .hosts
            .iter()
            .map(shown)
            .filter(|h| (exists || overrides_bundled) && !old.contains(h))
            .collect();
        vault::write_yaml(txn, path, def)?;
        Ok(Edit::new(format!("provider add {name}"), ()))
    })?;
    let commit = outcome.commit().map(|c| c.to_string());
    Ok(AddReport {
        status: if commit.is_some() {
            "added"
        } else {
            "unchanged"
        },
        provider: name,
        overrides_bundled,
        added_hosts,
        commit,
    })
}

/// Removes the custom provider `name`, which must have no connections in any vault.
pub fn remove(cx: &Context, name: &str) -> Result<RemoveReport> {
    let store = owner_store(cx, "change providers")?;
    let outcome = store.transact(|txn| {
        let path = layout::custom_provider(name);
        if txn.read(&path)?.is_none() {
            let msg = if providers::bundled(name).is_some() {
                format!("{name} is a bundled provider, which cannot be removed; only custom providers added with `authsome provider add` can")
            } else {
                format!("the store has no custom provider named {name:?}; see `authsome provider list`")
            };
            return Err(Error::new(ErrorKind::ProviderNotFound, msg));
        }
        if providers::bundled(name).is_none() {
            let mut in_use = Vec::new();
            for v in vault::vaults(txn.base())? {
                for c in vault::connections(txn.base(), &v, name)? {
                    in_use.push(format!("{v}/{c}"));
                }
            }
            if !in_use.is_empty() {
                return Err(Error::usage(format!(
                    "{name} still has connections (vault/connection: {}); log them out first with `authsome logout {name} --connection NAME`",
                    in_use.join(", ")
                )));
            }
        }
        txn.delete(path);
        Ok(Edit::new(format!("provider remove {name}"), ()))
    })?;
    Ok(RemoveReport {
        status: "removed",
        provider: name.to_owned(),
        commit: outcome.commit().map(|c| c.to_string()),
    })
}
