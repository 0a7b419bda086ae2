//! `logout`: remove one connection, in one commit `logout PROVIDER/CONNECTION`. The provider is
//! not contacted.

use serde::Serialize;

use crate::context::Context;
use crate::error::Result;
use crate::layout;
use crate::model::names::ConnectionName;
use crate::providers::Catalog;
use crate::store::Edit;
use crate::vault;

/// What `logout` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// Always `logged_out`.
    pub status: &'static str,
    /// The provider.
    pub provider: String,
    /// The connection removed.
    pub connection: String,
    /// The connection that became the default, when the removed one was it.
    pub default: Option<String>,
    /// The commit made.
    pub commit: Option<String>,
}

/// Removes `connection` (default: the provider's default) of `provider`. When it was the
/// default, `default` (else the first by name) takes over.
pub fn logout(cx: &Context, provider: &str, connection: Option<&ConnectionName>) -> Result<Report> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    // A custom provider whose definition was removed can still be logged out of.
    let name = match Catalog::new(&snap).get(provider) {
        Ok(p) => p.def.name,
        Err(e)
            if vault::connections(&snap, &cx.vault, provider)
                .unwrap_or_default()
                .is_empty() =>
        {
            return Err(e);
        }
        Err(_) => provider.to_owned(),
    };
    let (conn, _) =
        vault::resolve_connection(&snap, &cx.vault, &name, connection.map(|c| c.as_str()))?;
    super::access::require_writer(&snap, cx.identity().ok().as_ref(), &cx.vault)?;
    let outcome = store.transact(|txn| {
        if vault::record(txn, &cx.vault, &name, &conn)?.is_none() {
            return Err(vault::not_found(txn.base(), &cx.vault, &name, &conn)?);
        }
        txn.delete_dir(&layout::connection(&cx.vault, &name, &conn))?;
        let mut state = vault::provider_state(txn, &cx.vault, &name)?;
        let mut new_default = None;
        if state.default.as_deref() == Some(conn.as_str()) {
            state.default = vault::heir(txn, &cx.vault, &name, std::slice::from_ref(&conn))?;
            new_default = state.default.clone();
        }
        vault::write_provider_state(txn, &cx.vault, &name, &state)?;
        Ok(Edit::new(format!("logout {name}/{conn}"), new_default))
    })?;
    // Refreshed tokens cached for this connection go with it.
    if let Ok(meta) = snap.meta() {
        super::refresh::forget(&meta.id, &cx.vault, &name, &conn, None);
    }
    let commit = outcome.commit().map(|c| c.to_string());
    Ok(Report {
        status: "logged_out",
        provider: name,
        connection: conn,
        default: outcome.into_value(),
        commit,
    })
}
