//! `rotation done`: acknowledges that a credential someone lost access to was rotated at the
//! provider out of band, clearing its mark in one commit. (`login --force` clears it too.)

use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::layout;
use crate::model::names::{ConnectionName, ProviderName};
use crate::store::Edit;
use crate::vault;

/// What `rotation done` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// `done`, or `unchanged` when the connection had no mark.
    pub status: &'static str,
    /// The provider.
    pub provider: ProviderName,
    /// The connection.
    pub connection: ConnectionName,
    /// The commit made, if any.
    pub commit: Option<String>,
}

/// Clears the rotation mark of a connection of the current vault.
pub fn done(
    cx: &Context,
    provider: &ProviderName,
    connection: &ConnectionName,
    note: Option<&str>,
) -> Result<Report> {
    if note.is_some_and(|n| n.contains('\n')) {
        return Err(Error::usage("--note takes one line"));
    }
    let store = cx.store()?;
    super::access::require_writer(&store.snapshot()?, cx.identity().ok().as_ref(), &cx.vault)?;
    let outcome = store.transact(|txn| {
        let Some(mut record) = vault::record(txn, &cx.vault, provider, connection)? else {
            return Err(vault::not_found(
                txn.base(),
                &cx.vault,
                provider,
                connection,
            )?);
        };
        let message = match note {
            Some(n) => format!("rotation done {provider}/{connection} ({n:?})"),
            None => format!("rotation done {provider}/{connection}"),
        };
        if record.rotation.take().is_none() {
            return Ok(Edit::new(message, ()));
        }
        vault::write_yaml(
            txn,
            layout::record(&cx.vault, provider, connection),
            &record,
        )?;
        Ok(Edit::new(message, ()))
    })?;
    let commit = outcome.commit().map(|c| c.to_string());
    Ok(Report {
        status: if commit.is_some() {
            "done"
        } else {
            "unchanged"
        },
        provider: provider.clone(),
        connection: connection.clone(),
        commit,
    })
}
