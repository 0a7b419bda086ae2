//! `authsome logout`: remove one connection from the store. The provider is not contacted.

use serde_json::json;

use super::{Context, LogoutArgs, Output};
use authsome::error::Result;
use authsome::providers::Catalog;
use authsome::vault::{self, paths};

pub fn run(ctx: &Context, out: &Output, args: LogoutArgs) -> Result<()> {
    let store = ctx.store()?;
    let snap = store.snapshot()?;
    // A custom provider whose definition was removed can still be logged out of.
    let name = match Catalog::new(&snap).get(&args.provider) {
        Ok(p) => p.def.name,
        Err(e)
            if vault::connections(&snap, &ctx.vault, &args.provider)
                .unwrap_or_default()
                .is_empty() =>
        {
            return Err(e);
        }
        Err(_) => args.provider.clone(),
    };
    let (conn, _) =
        vault::resolve_connection(&snap, &ctx.vault, &name, args.connection.as_deref())?;
    let outcome = store.transact(|txn| {
        if vault::record(txn, &ctx.vault, &name, &conn)?.is_none() {
            return Err(vault::not_found(txn.base(), &ctx.vault, &name, &conn)?);
        }
        txn.delete_dir(&paths::connection(&ctx.vault, &name, &conn))?;
        let mut state = vault::provider_state(txn, &ctx.vault, &name)?;
        let mut new_default = None;
        if state.default.as_deref() == Some(conn.as_str()) {
            state.default = vault::heir(txn, &ctx.vault, &name, std::slice::from_ref(&conn))?;
            new_default = state.default.clone();
        }
        vault::write_provider_state(txn, &ctx.vault, &name, &state)?;
        txn.set_message(format!("logout {name}/{conn}"));
        Ok(new_default)
    })?;
    let new_default = outcome.value().clone();
    // Refreshed tokens cached for this connection go with it.
    if let Ok(meta) = store.meta(&snap) {
        authsome::oauth::refresh::forget(&meta.id, &ctx.vault, &name, &conn, None);
    }
    if out.json {
        out.json(&json!({
            "status": "logged_out",
            "provider": name,
            "connection": conn,
            "default": new_default,
            "commit": outcome.commit().map(|c| c.to_string()),
        }));
    } else {
        out.info(&format!(
            "Logged out of {name}/{conn} (removed locally; the provider was not contacted)"
        ));
        if let Some(d) = new_default {
            out.info(&format!("{name}: default connection is now {d}"));
        }
    }
    Ok(())
}
