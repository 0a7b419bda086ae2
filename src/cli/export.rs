//! `authsome export`: credentials as environment variables.

use std::collections::BTreeMap;

use age::secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use super::{Context, ExportArgs, ExportFormat, Output};
use authsome::error::Result;
use authsome::model::provider::EnvSource;
use authsome::oauth::refresh::{self, Want};
use authsome::providers::Catalog;
use authsome::store::Snapshot;
use authsome::vault;

pub fn run(ctx: &Context, out: &Output, args: ExportArgs) -> Result<()> {
    let store = ctx.store()?;
    let snap = store.snapshot()?;
    let meta = store.meta(&snap)?;
    let identity = ctx.identity()?;
    let catalog = Catalog::new(&snap);

    let vars: Vec<(String, SecretString)> = match &args.provider {
        Some(p) => {
            let def = catalog.get(p)?.def;
            let named = ctx.connection(&def.name, args.connection.as_deref());
            let (conn, _) = vault::resolve_connection(&snap, &ctx.vault, &def.name, named)?;
            let want = Want {
                store: &store,
                store_id: &meta.id,
                vault: &ctx.vault,
                def: &def,
                conn: &conn,
                identity: &identity,
            };
            variables(&want, &snap, out)?
        }
        None => every_default(
            ctx,
            out,
            &store,
            &snap,
            &meta.id,
            &identity,
            &BTreeMap::new(),
        )?,
    };

    match args.format {
        ExportFormat::Json => {
            let map: Map<String, Value> = vars
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.expose_secret().to_owned())))
                .collect();
            out.json(&Value::Object(map));
        }
        ExportFormat::Env => {
            for (k, v) in &vars {
                out.data(&format!("{k}={}", quote_if_needed(v.expose_secret())));
            }
        }
        ExportFormat::Shell => {
            for (k, v) in &vars {
                out.data(&format!("export {k}={}", quote(v.expose_secret())));
            }
        }
    }
    Ok(())
}

/// The variables of every provider that has a connection: the one `overrides` names, else
/// the project's pin, else the provider's default. A variable two providers share keeps the
/// first (by provider name); the other gets a `_<PROVIDER>` suffix, reported on stderr.
pub(super) fn every_default(
    ctx: &Context,
    out: &Output,
    store: &authsome::store::Store,
    snap: &Snapshot<'_>,
    store_id: &str,
    identity: &authsome::crypto::identity::Identity,
    overrides: &BTreeMap<String, String>,
) -> Result<Vec<(String, SecretString)>> {
    let catalog = Catalog::new(snap);
    let mut vars = Vec::new();
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    for name in vault::providers(snap, &ctx.vault)? {
        let default = vault::provider_state(snap, &ctx.vault, &name)?.default;
        let chosen = overrides
            .get(&name)
            .or_else(|| ctx.pins.get(&name))
            .cloned();
        let Some(conn) = chosen.or(default) else {
            continue;
        };
        let def = match catalog.get(&name) {
            Ok(p) => p.def,
            Err(e) => {
                out.warn(&format!("skipping {name}: {}", e.message()));
                continue;
            }
        };
        if vault::record(snap, &ctx.vault, &name, &conn)?.is_none() {
            out.warn(&format!(
                "skipping {name}: its connection {conn:?} does not exist; set one with `authsome default {name} NAME`"
            ));
            continue;
        }
        let want = Want {
            store,
            store_id,
            vault: &ctx.vault,
            def: &def,
            conn: &conn,
            identity,
        };
        for (var, value) in variables(&want, snap, out)? {
            let var = match taken.get(&var) {
                None => var,
                Some(owner) => {
                    let base = format!("{var}_{}", authsome::model::provider::env_word(&def.name));
                    let mut renamed = base.clone();
                    let mut n = 2;
                    while taken.contains_key(&renamed) {
                        renamed = format!("{base}_{n}");
                        n += 1;
                    }
                    out.warn(&format!(
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
fn variables(
    w: &Want<'_>,
    snap: &Snapshot<'_>,
    output: &Output,
) -> Result<Vec<(String, SecretString)>> {
    let (vault_name, def, conn) = (w.vault, w.def, w.conn);
    let record = vault::record(snap, vault_name, &def.name, conn)?
        .ok_or_else(|| authsome::error::Error::internal("a resolved connection has no record"))?;
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
            let v = refresh::read_field(w, field, &|m| output.warn(m))?;
            cache.insert(field, v);
        }
        out.push((var, cache[field].clone()));
    }
    Ok(out)
}

/// Characters that never need quoting in a shell word.
fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c)
}

/// Single-quotes a value for POSIX shells.
pub fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

fn quote_if_needed(v: &str) -> String {
    if !v.is_empty() && v.chars().all(is_plain) {
        v.to_owned()
    } else {
        quote(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_for_eval() {
        assert_eq!(quote_if_needed("sk-test_1"), "sk-test_1");
        assert_eq!(quote_if_needed("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote_if_needed(""), "''");
    }
}
