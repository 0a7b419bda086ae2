//! `default`: make a connection the provider's default, a one-line diff in one commit
//! `default PROVIDER: OLD -> NEW`.

use serde::Serialize;

use crate::context::Context;
use crate::error::Result;
use crate::model::names::ConnectionName;
use crate::providers::Catalog;
use crate::store::Edit;
use crate::vault;

/// What `default` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// `success`, or `unchanged` when it was the default already.
    pub status: &'static str,
    /// The provider.
    pub provider: String,
    /// The default connection now.
    pub default: ConnectionName,
    /// The default before.
    pub previous: Option<String>,
    /// The commit made, if any.
    pub commit: Option<String>,
}

/// Makes `connection` the default connection of `provider`.
pub fn set_default(cx: &Context, provider: &str, connection: &ConnectionName) -> Result<Report> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    let name = Catalog::new(&snap).get(provider)?.def.name;
    super::access::require_writer(&snap, cx.identity().ok().as_ref(), &cx.vault)?;
    let outcome = store.transact(|txn| {
        if vault::record(txn, &cx.vault, &name, connection)?.is_none() {
            return Err(vault::not_found(txn.base(), &cx.vault, &name, connection)?);
        }
        let mut state = vault::provider_state(txn, &cx.vault, &name)?;
        let previous = state.default.replace(connection.to_string());
        vault::write_provider_state(txn, &cx.vault, &name, &state)?;
        let message = format!(
            "default {name}: {} -> {connection}",
            previous.as_deref().unwrap_or("none")
        );
        Ok(Edit::new(message, previous))
    })?;
    let commit = outcome.commit().map(|c| c.to_string());
    Ok(Report {
        status: if commit.is_some() {
            "success"
        } else {
            "unchanged"
        },
        provider: name,
        default: connection.clone(),
        previous: outcome.into_value(),
        commit,
    })
}
