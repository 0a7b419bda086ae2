//! `grant` and `revoke-access`: a principal's roles in one vault, each change one commit; readers
//! joining or leaving rekey the vault's stale secrets in the same commit, and a reader leaving
//! marks the vault's credentials for rotation.

use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::layout;
use crate::model::names::VaultName;
use crate::model::state::Role;
use crate::store::Edit;
use crate::vault;

use super::access::{self, Rekeyed};

/// What `grant` or `revoke-access` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// `granted`, `revoked`, or `unchanged` when the principal had that role already.
    pub status: &'static str,
    /// The principal.
    pub principal: String,
    /// The vault.
    pub vault: VaultName,
    /// The roles granted or taken away.
    pub roles: Vec<Role>,
    /// The vault's rekey, when its readers changed.
    pub rekeyed: Option<Rekeyed>,
    /// Connections marked for rotation.
    pub rotation_needed: usize,
    /// The commit made, if any.
    pub commit: Option<String>,
}

/// Gives `principal` `role` in `vault`. Only the vault's admins and the store's owners can.
pub fn grant(cx: &Context, principal: &str, name: &VaultName, role: Role) -> Result<Report> {
    let actor = access::actor(cx)?;
    let (store, identity, me) = (&actor.store, &actor.identity, &actor.me);
    let outcome = store.transact(|txn| {
        let meta = txn.base().meta()?;
        let mut vm = vault::vault_meta(txn, name)?;
        access::require_admin(&meta, &vm, name, me)?;
        vault::principal(txn, principal)?;
        let message = format!("grant {principal} {name} ({})", role.as_str());
        if vm.members(role).iter().any(|m| m == principal) {
            return Ok(Edit::new(message, None));
        }
        vm.members_mut(role).push(principal.to_owned());
        vm.members_mut(role).sort();
        vault::write_yaml(txn, layout::vault_meta(name), &vm)?;
        if role != Role::Reader {
            return Ok(Edit::new(message, Some(None)));
        }
        let r = access::rekey(txn, &meta.id, name, identity, false, false)?;
        Ok(Edit::new(
            format!("{message}: {} secrets re-encrypted", r.rewritten),
            Some(Some(r)),
        ))
    })?;
    let commit = outcome.commit().map(|c| c.to_string());
    let value = outcome.into_value();
    actor.tidy();
    Ok(Report {
        status: if value.is_some() {
            "granted"
        } else {
            "unchanged"
        },
        principal: principal.to_owned(),
        vault: name.clone(),
        roles: vec![role],
        rekeyed: value.flatten(),
        rotation_needed: 0,
        commit,
    })
}

/// Takes every role in `vault` from `principal`; when it was a reader, the vault is rekeyed and
/// its credentials marked for rotation.
pub fn revoke_access(cx: &Context, principal: &str, name: &VaultName) -> Result<Report> {
    let actor = access::actor(cx)?;
    let (store, identity, me) = (&actor.store, &actor.identity, &actor.me);
    let outcome = store.transact(|txn| {
        let meta = txn.base().meta()?;
        let mut vm = vault::vault_meta(txn, name)?;
        access::require_admin(&meta, &vm, name, me)?;
        vault::principal(txn, principal)?;
        let roles = vm.roles_of(principal);
        if roles.is_empty() {
            return Err(Error::usage(format!(
                "{principal} has no role in vault {name:?}; see `authsome vault show {name}`"
            )));
        }
        for role in &roles {
            vm.members_mut(*role).retain(|m| m != principal);
        }
        access::keep_a_reader(&vm, name)?;
        vault::write_yaml(txn, layout::vault_meta(name), &vm)?;
        let mut message = format!("revoke-access {principal} {name}");
        let mut rekeyed = None;
        let mut marked = 0;
        if roles.contains(&Role::Reader) {
            let r = access::rekey(txn, &meta.id, name, identity, false, false)?;
            marked = access::mark_for_rotation(
                txn,
                name,
                &format!("{principal} lost access to {name}"),
            )?;
            message = format!(
                "{message}: {} secrets re-encrypted, {marked} connections need rotation",
                r.rewritten
            );
            rekeyed = Some(r);
        }
        Ok(Edit::new(message, (roles, rekeyed, marked)))
    })?;
    let commit = outcome.commit().map(|c| c.to_string());
    let (roles, rekeyed, rotation_needed) = outcome.into_value();
    actor.tidy();
    Ok(Report {
        status: "revoked",
        principal: principal.to_owned(),
        vault: name.clone(),
        roles,
        rekeyed,
        rotation_needed,
        commit,
    })
}
