//! `upgrade`: migrates a store to the current format, in one commit, never silently.
//!
//! Format 1 -> 2: `store.yaml` names the store's owners (the principal running the upgrade), and
//! each vault's `principals:` become `readers:`, with every person among them also a writer and an
//! admin, so nobody loses what they could do.
//!
//! Format 2 -> 3: every scope gets its first seal, signed by the owner running the upgrade (the
//! store's sealer writes them in the same commit), and this machine pins them.

use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::layout;
use crate::model::state::{PrincipalKind, STORE_FORMAT};
use crate::store::Edit;
use crate::vault;

use super::access;

/// What `upgrade` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// `upgraded`, or `unchanged` when the store was current.
    pub status: &'static str,
    /// The format before.
    pub from: u32,
    /// The format now.
    pub to: u32,
    /// The store's owners now.
    pub owners: Vec<String>,
    /// The commit made, if any.
    pub commit: Option<String>,
}

/// Migrates the store to [`STORE_FORMAT`].
pub fn upgrade(cx: &Context) -> Result<Report> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    let before = snap.meta()?;
    if before.format >= STORE_FORMAT {
        return Ok(Report {
            status: "unchanged",
            from: before.format,
            to: before.format,
            owners: before.owners,
            commit: None,
        });
    }
    let identity = cx.identity()?;
    let me = access::acting_principal(&snap, &identity)?;
    let outcome = store.transact_any_format(|txn| {
        let mut meta = txn.base().meta()?;
        if meta.format >= STORE_FORMAT {
            return Err(Error::store(
                "another process upgraded the store meanwhile; nothing to do",
            ));
        }
        let from = meta.format;
        meta.format = STORE_FORMAT;
        if meta.owners.is_empty() {
            meta.owners = vec![me.clone()];
        }
        // The first seals are an owner's: who else could vouch for the whole store?
        if !meta.owners.contains(&me) {
            return Err(Error::new(
                ErrorKind::Trust,
                format!(
                    "{me} is not an owner of this store, and format {STORE_FORMAT} starts with seals by an owner"
                ),
            )
            .with_hint(format!(
                "ask an owner ({}) to run `authsome upgrade`",
                meta.owners.join(", ")
            )));
        }
        vault::write_yaml(txn, layout::STORE_FILE.to_owned(), &meta)?;
        if from >= 2 {
            return Ok(Edit::new(
                format!("upgrade: format {STORE_FORMAT}; sealed by {me}"),
                meta.owners,
            ));
        }
        for name in vault::vaults(txn.base())? {
            let mut v = vault::vault_meta(txn, &name)?;
            for reader in v.readers.clone() {
                let person =
                    vault::principal(txn, &reader).is_ok_and(|p| p.kind == PrincipalKind::Person);
                if person {
                    for list in [&mut v.writers, &mut v.admins] {
                        if !list.contains(&reader) {
                            list.push(reader.clone());
                        }
                    }
                }
            }
            vault::write_yaml(txn, layout::vault_meta(&name), &v)?;
        }
        Ok(Edit::new(
            format!(
                "upgrade: format {STORE_FORMAT}; owners {}",
                meta.owners.join(", ")
            ),
            meta.owners,
        ))
    })?;
    let commit = outcome.commit().map(|c| c.to_string());
    Ok(Report {
        status: "upgraded",
        from: before.format,
        to: STORE_FORMAT,
        owners: outcome.into_value(),
        commit,
    })
}
