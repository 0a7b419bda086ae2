//! `authsome revoke PROVIDER [--connection NAME]`: revoke tokens at the provider (RFC 7009),
//! then remove them from the store in one commit.

use serde_json::json;

use super::{Context, LogoutArgs, Output};
use crate::error::Result;
use crate::model::names::DEFAULT_CONNECTION;
use crate::oauth::{self, ACCESS_TOKEN, CLIENT_SECRET, REFRESH_TOKEN};
use crate::providers::Catalog;
use crate::vault::{self, paths};

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
        let identity = ctx.identity()?;
        let (client, endpoints) =
            oauth::refresh::client_and_endpoints(&snap, &meta.id, &ctx.vault, &def, &identity)?;
        match &endpoints.revocation {
            None => warnings.push(format!(
                "{name} has no revocation endpoint; revoke the tokens in {}'s settings too",
                def.display_name
            )),
            Some(url) => {
                let http = oauth::http_client()?;
                for conn in &targets {
                    for (field, hint) in [
                        (REFRESH_TOKEN, "refresh_token"),
                        (ACCESS_TOKEN, "access_token"),
                    ] {
                        let Ok(token) = vault::read_secret(
                            &snap, &meta.id, &ctx.vault, &name, conn, field, &identity,
                        ) else {
                            continue;
                        };
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
        }
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
            let mut rest = Vec::new();
            for c in vault::connections(txn.base(), &ctx.vault, &name)? {
                if !targets.contains(&c) && vault::record(txn, &ctx.vault, &name, &c)?.is_some() {
                    rest.push(c);
                }
            }
            state.default = rest
                .iter()
                .find(|c| *c == DEFAULT_CONNECTION)
                .or(rest.first())
                .cloned();
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
