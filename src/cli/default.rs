//! `authsome default PROVIDER CONNECTION`: switch the default connection in one-line commit.

use serde_json::json;

use super::{Context, DefaultArgs, Output};
use authsome::error::Result;
use authsome::model::names;
use authsome::providers::Catalog;
use authsome::vault;

pub fn run(ctx: &Context, out: &Output, args: DefaultArgs) -> Result<()> {
    names::validate("connection", &args.connection)?;
    let store = ctx.store()?;
    let snap = store.snapshot()?;
    let name = Catalog::new(&snap).get(&args.provider)?.def.name;
    let conn = args.connection;
    let outcome = store.transact(|txn| {
        if vault::record(txn, &ctx.vault, &name, &conn)?.is_none() {
            return Err(vault::not_found(txn.base(), &ctx.vault, &name, &conn)?);
        }
        let mut state = vault::provider_state(txn, &ctx.vault, &name)?;
        let previous = state.default.replace(conn.clone());
        vault::write_provider_state(txn, &ctx.vault, &name, &state)?;
        txn.set_message(format!(
            "default {name}: {} -> {conn}",
            previous.as_deref().unwrap_or("none")
        ));
        Ok(previous)
    })?;
    let changed = outcome.commit().is_some();
    if out.json {
        out.json(&json!({
            "status": if changed { "success" } else { "unchanged" },
            "provider": name,
            "default": conn,
            "previous": outcome.value(),
            "commit": outcome.commit().map(|c| c.to_string()),
        }));
    } else if changed {
        out.info(&format!("{name}: default connection is now {conn}"));
    } else {
        out.info(&format!("{name}: {conn} is already the default connection"));
    }
    Ok(())
}
