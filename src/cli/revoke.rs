//! `authsome revoke PROVIDER [--connection NAME]`: revoke tokens at the provider (RFC 7009),
//! then remove them from the store in one commit.

use serde_json::json;

use super::{Context, LogoutArgs, Output};
use authsome::error::Result;
use authsome::oauth::{self, ACCESS_TOKEN, CLIENT_SECRET, REFRESH_TOKEN};
use authsome::providers::Catalog;
use authsome::vault::{self, paths};

pub fn run(ctx: &Context, out: &Output, args: LogoutArgs) -> Result<()> {
    let store = ctx.store()?;
    let snap = store.snapshot()?;
    let meta = store.meta(&snap)?;
    let def = Catalog::new(&snap).get(&args.provider)?.def;
    let name = def.name.clone();
    let targets: Vec<String> = match &args.connection {
        Some(c) => vec![vault::resolve_connection(&snap, &ctx.vault, &name, Some(c))?.0],
        None => vault::connections(&snap, &ctx.vault, &name)?,
    };

    // Revoke at the provider first; a failure is reported but does not keep the local copy,
    // which the user asked to be rid of.
    let mut revoked = Vec::new();
    let mut warnings = Vec::new();
    if def.oauth2.is_some() && !targets.is_empty() {
        revoke_at_provider(
            ctx,
            &snap,
            &meta.id,
            &def,
            &targets,
            &mut revoked,
            &mut warnings,
        );
    }

    let whole = args.connection.is_none();
    let outcome = store.transact(|txn| {
        for conn in &targets {
            txn.delete_dir(&paths::connection(&ctx.vault, &name, conn))?;
        }
        let mut state = vault::provider_state(txn, &ctx.vault, &name)?;
        if whole {
            txn.delete(paths::provider_secret(&ctx.vault, &name, CLIENT_SECRET));
            state = Default::default();
        } else if state.default.as_ref().is_some_and(|d| targets.contains(d)) {
            state.default = vault::heir(txn, &ctx.vault, &name, &targets)?;
        }
        vault::write_provider_state(txn, &ctx.vault, &name, &state)?;
        txn.set_message(match &args.connection {
            Some(_) => format!("revoke {name}/{}", targets.join(",")),
            None => format!("revoke {name}"),
        });
        Ok(())
    })?;
    for w in &warnings {
        out.warn(w);
    }
    if out.json {
        out.json(&json!({
            "status": "revoked",
            "provider": name,
            "connections": targets,
            "revoked_at_provider": revoked,
            "warnings": warnings,
            "commit": outcome.commit().map(|c| c.to_string()),
        }));
    } else if targets.is_empty() && outcome.commit().is_none() {
        out.info(&format!("{name} has nothing to revoke"));
    } else {
        out.info(&format!(
            "Revoked {name}{}: removed {} and {} at the provider",
            args.connection
                .as_deref()
                .map(|c| format!("/{c}"))
                .unwrap_or_default(),
            if whole {
                "every connection and the client secret".to_owned()
            } else {
                "the connection".to_owned()
            },
            if revoked.is_empty() {
                "nothing was revoked".to_owned()
            } else {
                format!("{} tokens were revoked", revoked.len())
            }
        ));
    }
    Ok(())
}

/// Sends every token of `targets` (committed ones and refreshed ones from the cache) to the
/// provider's revocation endpoint. Problems become warnings: the local copy goes regardless.
fn revoke_at_provider(
    ctx: &Context,
    snap: &authsome::store::Snapshot<'_>,
    store_id: &str,
    def: &authsome::model::provider::ProviderDef,
    targets: &[String],
    revoked: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let name = &def.name;
    let identity = match ctx.identity() {
        Ok(id) => id,
        Err(e) => {
            warnings.push(format!(
                "nothing was revoked at {name} ({}); revoke the tokens in its settings",
                e.message()
            ));
            return;
        }
    };
    let (client, endpoints) =
        match oauth::refresh::client_and_endpoints(snap, store_id, &ctx.vault, def, &identity) {
            Ok(c) => c,
            Err(e) => {
                warnings.push(format!(
                    "nothing was revoked at {name} ({}); revoke the tokens in its settings",
                    e.message()
                ));
                return;
            }
        };
    let Some(url) = &endpoints.revocation else {
        warnings.push(format!(
            "{name} has no revocation endpoint; revoke the tokens in {}'s settings too",
            def.display_name
        ));
        return;
    };
    let http = match oauth::http_client() {
        Ok(h) => h,
        Err(e) => {
            warnings.push(e.message().to_owned());
            return;
        }
    };
    for conn in targets {
        let mut tokens = Vec::new();
        for (field, hint) in [
            (REFRESH_TOKEN, "refresh_token"),
            (ACCESS_TOKEN, "access_token"),
        ] {
            let record = vault::record(snap, &ctx.vault, name, conn).ok().flatten();
            if !record.is_some_and(|r| r.secrets.contains_key(field)) {
                continue;
            }
            match vault::read_secret(snap, store_id, &ctx.vault, name, conn, field, &identity) {
                Ok(t) => tokens.push((field, hint, t)),
                Err(e) => warnings.push(format!(
                    "could not read {name}/{conn} {field} to revoke it: {}",
                    e.message()
                )),
            }
        }
        // Refreshed access tokens live only in the cache; they are live too.
        for t in oauth::refresh::forget(store_id, &ctx.vault, name, conn, Some(&identity)) {
            tokens.push((ACCESS_TOKEN, "access_token", t));
        }
        for (field, hint, token) in tokens {
            match oauth::flows::revoke(&http, url, &client, &token, hint) {
                Ok(()) => revoked.push(format!("{conn}/{field}")),
                Err(e) => warnings.push(format!(
                    "could not revoke {name}/{conn} {field}: {}",
                    e.message()
                )),
            }
        }
    }
}
