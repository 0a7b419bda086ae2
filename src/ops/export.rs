//! The read side of `export` and `run --env`: a connection's credentials as environment
//! variables, access tokens refreshed first when they are about to expire. Reads make no
//! commit of their own (a rotated refresh token is committed by [`super::refresh`]).

use std::collections::BTreeMap;

use age::secrecy::SecretString;

use crate::context::Context;
use crate::crypto::identity::Identity;
use crate::error::{Error, Result};
use crate::model::names::ConnectionName;
use crate::model::provider::{EnvSource, env_word};
use crate::providers::Catalog;
use crate::store::{Snapshot, Store};
use crate::ui::Ui;
use crate::vault;

use super::refresh::{self, Want};

/// Environment variables and their values, in the order they are printed.
pub type Variables = Vec<(String, SecretString)>;

/// The variables of one provider's connection (the one named, else the project's pin, else the
/// default), or with no provider those of every provider's default connection.
pub fn export(
    cx: &Context,
    ui: &dyn Ui,
    provider: Option<&str>,
    connection: Option<&ConnectionName>,
) -> Result<Variables> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    crate::trust::gate_vault(&snap, &cx.vault, &cx.trust, ui)?;
    let meta = snap.meta()?;
    let identity = cx.identity()?;
    let Some(provider) = provider else {
        return every_default(cx, ui, &store, &snap, &meta.id, &identity, &BTreeMap::new());
    };
    let def = Catalog::new(&snap).get(provider)?.def;
    let named = cx.connection(&def.name, connection.map(|c| c.as_str()));
    let (conn, _) = vault::resolve_connection(&snap, &cx.vault, &def.name, named)?;
    let want = Want {
        store: &store,
        store_id: &meta.id,
        vault: &cx.vault,
        def: &def,
        conn: &conn,
        identity: &identity,
    };
    variables(&want, &snap, ui)
}

/// The variables of every provider that has a connection: the one `overrides` names, else
/// the project's pin, else the provider's default. A variable two providers share keeps the
/// first (by provider name); the other gets a `_<PROVIDER>` suffix, with a warning.
pub fn every_default(
    cx: &Context,
    ui: &dyn Ui,
    store: &Store,
    snap: &Snapshot<'_>,
    store_id: &str,
    identity: &Identity,
    overrides: &BTreeMap<String, String>,
) -> Result<Variables> {
    let catalog = Catalog::new(snap);
    let mut vars = Vec::new();
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    for name in vault::providers(snap, &cx.vault)? {
        let default = vault::provider_state(snap, &cx.vault, &name)?.default;
        let chosen = overrides.get(&name).or_else(|| cx.pins.get(&name)).cloned();
        let Some(conn) = chosen.or(default) else {
            continue;
        };
        let def = match catalog.get(&name) {
            Ok(p) => p.def,
            Err(e) => {
                ui.warn(&format!("skipping {name}: {}", e.message()));
                continue;
            }
        };
        if vault::record(snap, &cx.vault, &name, &conn)?.is_none() {
            ui.warn(&format!(
                "skipping {name}: its connection {conn:?} does not exist; set one with `authsome default {name} NAME`"
            ));
            continue;
        }
        let want = Want {
            store,
            store_id,
            vault: &cx.vault,
            def: &def,
            conn: &conn,
            identity,
        };
        for (var, value) in variables(&want, snap, ui)? {
            let var = match taken.get(&var) {
                None => var,
                Some(owner) => {
                    let base = format!("{var}_{}", env_word(&def.name));
                    let mut renamed = base.clone();
                    let mut n = 2;
                    while taken.contains_key(&renamed) {
                        renamed = format!("{base}_{n}");
                        n += 1;
                    }
                    ui.warn(&format!(
                        "{var} is already exported for {owner}; {}'s value is exported as {renamed}",
                        def.name
                    ));
                    renamed
                }
            };
            taken.insert(var.clone(), def.name.clone());
            vars.push((var, value));
        }
    }
    Ok(vars)
}

/// The variables a connection exports: the provider's `env` map, or `<PROVIDER>_API_KEY`.
fn variables(w: &Want<'_>, snap: &Snapshot<'_>, ui: &dyn Ui) -> Result<Variables> {
    let (vault_name, def, conn) = (w.vault, w.def, w.conn);
    let record = vault::record(snap, vault_name, &def.name, conn)?
        .ok_or_else(|| Error::internal("a resolved connection has no record"))?;
    let mapping = def.env_mapping(record.secrets.keys().map(String::as_str));
    let mut out = Vec::new();
    let mut cache: BTreeMap<&str, SecretString> = BTreeMap::new();
    for (var, source) in mapping {
        let field = source.field();
        if source == EnvSource::BaseUrl {
            let state = vault::provider_state(snap, vault_name, &def.name)?;
            let base = state
                .base_url
                .or_else(|| def.oauth2.as_ref().and_then(|o| o.base_url.clone()));
            if let Some(b) = base {
                out.push((var, SecretString::from(b)));
            }
            continue;
        }
        if !record.secrets.contains_key(field) {
            continue;
        }
        if !cache.contains_key(field) {
            let v = refresh::read_field(w, field, &|m| ui.warn(m))?;
            cache.insert(field, v);
        }
        out.push((var, cache[field].clone()));
    }
    Ok(out)
}
