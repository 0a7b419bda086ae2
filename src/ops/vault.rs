//! `vault create` and `vault delete`: the store's vaults, each change one commit. Only owners
//! can.

use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::layout;
use crate::model::names::VaultName;
use crate::model::state::VaultMeta;
use crate::store::Edit;
use crate::vault;

use super::access;

/// Who a new vault's members are.
#[derive(Debug, Clone, Default)]
pub struct Members {
    /// Admins.
    pub admins: Vec<String>,
    /// Writers.
    pub writers: Vec<String>,
    /// Readers.
    pub readers: Vec<String>,
}

/// What `vault create` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CreateReport {
    /// Always `created`.
    pub status: &'static str,
    /// The vault.
    pub vault: VaultName,
    /// Its readers.
    pub readers: Vec<String>,
    /// Its writers.
    pub writers: Vec<String>,
    /// Its admins.
    pub admins: Vec<String>,
    /// The commit made.
    pub commit: Option<String>,
}

/// Creates a vault. Without members named, the principal running it is its admin, writer and
/// reader; without readers named, its admins and writers read it.
pub fn create(cx: &Context, name: &VaultName, members: Members) -> Result<CreateReport> {
    let actor = access::actor(cx)?;
    let (store, _identity, me) = (&actor.store, &actor.identity, &actor.me);
    let Members {
        mut admins,
        mut writers,
        mut readers,
    } = members;
    if admins.is_empty() && writers.is_empty() && readers.is_empty() {
        admins.push(me.clone());
        writers.push(me.clone());
    }
    if readers.is_empty() {
        readers = admins.iter().chain(&writers).cloned().collect();
    }
    for list in [&mut admins, &mut writers, &mut readers] {
        list.sort();
        list.dedup();
    }
    let outcome = store.transact(|txn| {
        let meta = txn.base().meta()?;
        access::require_owner(&meta, me, "create vaults")?;
        if txn.read(&layout::vault_meta(name))?.is_some() {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("a vault named {name:?} already exists; see `authsome vault list`"),
            ));
        }
        for p in admins.iter().chain(&writers).chain(&readers) {
            vault::principal(txn, p)?;
        }
        let vm = VaultMeta {
            readers: readers.clone(),
            writers: writers.clone(),
            admins: admins.clone(),
            fingerprint_key: None,
        };
        vault::write_yaml(txn, layout::vault_meta(name), &vm)?;
        crate::review::stage_setup(txn, &meta.id, name)?;
        Ok(Edit::new(
            format!("vault create {name} (admins: {})", admins.join(", ")),
            (),
        ))
    })?;
    actor.tidy();
    Ok(CreateReport {
        status: "created",
        vault: name.clone(),
        readers,
        writers,
        admins,
        commit: outcome.commit().map(|c| c.to_string()),
    })
}

/// What `vault delete` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DeleteReport {
    /// Always `deleted`.
    pub status: &'static str,
    /// The vault.
    pub vault: VaultName,
    /// How many connections went with it.
    pub connections: usize,
    /// The commit made.
    pub commit: Option<String>,
}

/// Deletes a vault and everything in it (history keeps it).
pub fn delete(cx: &Context, name: &VaultName) -> Result<DeleteReport> {
    let actor = access::actor(cx)?;
    let (store, _identity, me) = (&actor.store, &actor.identity, &actor.me);
    let outcome = store.transact(|txn| {
        access::require_owner(&txn.base().meta()?, me, "delete vaults")?;
        vault::vault_meta(txn, name)?;
        let mut connections = 0;
        for p in vault::providers(txn.base(), name)? {
            connections += vault::connections(txn.base(), name, &p)?.len();
        }
        txn.delete_dir(&layout::vault(name))?;
        Ok(Edit::new(format!("vault delete {name}"), connections))
    })?;
    let commit = outcome.commit().map(|c| c.to_string());
    actor.tidy();
    Ok(DeleteReport {
        status: "deleted",
        vault: name.clone(),
        connections: outcome.into_value(),
        commit,
    })
}
