//! `principal add` and `principal remove`: who may be given access, each change one commit that
//! names the principal and its keys.

use serde::Serialize;

use crate::context::Context;
use crate::crypto::recipients;
use crate::error::{Error, ErrorKind, Result};
use crate::layout;
use crate::model::names;
use crate::model::state::{Added, Principal, PrincipalKind, Role};
use crate::model::time::Stamp;
use crate::store::{Edit, Txn};
use crate::vault;

use super::access::{self, Rekeyed};

/// What `principal add` is given.
#[derive(Debug, Clone)]
pub struct AddRequest {
    /// The new principal's name.
    pub name: String,
    /// Its age or SSH recipients.
    pub recipients: Vec<String>,
    /// Its SSH signing keys.
    pub signers: Vec<String>,
    /// Person, agent or CI.
    pub kind: PrincipalKind,
    /// When it stops being valid.
    pub expires: Option<Stamp>,
}

/// What `principal add` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AddReport {
    /// Always `added`.
    pub status: &'static str,
    /// The principal.
    pub principal: String,
    /// Its kind.
    pub kind: PrincipalKind,
    /// The fingerprints to compare out of band: short recipients, SHA256 of SSH keys.
    pub fingerprints: Vec<String>,
    /// The commit made.
    pub commit: Option<String>,
}

pub use crate::crypto::recipients::key_fingerprint as fingerprint;

/// Checks the keys a principal is given: each parses, and none belongs to another principal.
fn check_keys(txn: &Txn<'_>, name: &str, req: &AddRequest) -> Result<()> {
    if req.recipients.is_empty() {
        return Err(Error::usage(format!(
            "principal {name:?} needs at least one recipient; pass --recipient age1... (or an ssh-ed25519 key)"
        )));
    }
    for r in &req.recipients {
        recipients::parse(r, "--recipient").map_err(|e| Error::usage(e.message()))?;
    }
    let wanted: Vec<String> = req
        .recipients
        .iter()
        .map(|r| recipients::canonical(r))
        .collect();
    for k in &req.signers {
        crate::crypto::signing::parse_signer(k)?;
    }
    // The principal's own old keys are being replaced, so only other principals' keys clash.
    for other in vault::principals(txn.base())? {
        if other == name {
            continue;
        }
        let p = vault::principal(txn, &other)?;
        if let Some(r) = wanted
            .iter()
            .find(|r| p.recipients.iter().any(|k| recipients::canonical(k) == **r))
        {
            return Err(Error::usage(format!(
                "the recipient {} already belongs to principal {other:?}; one key, one principal",
                fingerprint(r)
            )));
        }
    }
    Ok(())
}

/// Adds a principal. Only owners can.
pub fn add(cx: &Context, req: &AddRequest) -> Result<AddReport> {
    names::validate("principal", &req.name)?;
    let actor = access::actor(cx)?;
    let (store, _identity, me) = (&actor.store, &actor.identity, &actor.me);
    let name = req.name.clone();
    let fingerprints: Vec<String> = req
        .recipients
        .iter()
        .chain(&req.signers)
        .map(|k| fingerprint(k))
        .collect();
    let outcome = store.transact(|txn| {
        access::require_owner(&txn.base().meta()?, me, "add principals")?;
        if txn.read(&layout::principal(&name))?.is_some() {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("a principal named {name:?} already exists; pick another name, or `authsome principal rotate-key {name}`"),
            ));
        }
        check_keys(txn, &name, req)?;
        let principal = Principal {
            kind: req.kind,
            recipients: req.recipients.iter().map(|r| recipients::canonical(r)).collect(),
            signers: req.signers.iter().map(|k| recipients::canonical(k)).collect(),
            expires: req.expires,
            added: Some(Added {
                by: me.clone(),
                at: Stamp::now(),
            }),
        };
        vault::write_yaml(txn, layout::principal(&name), &principal)?;
        Ok(Edit::new(
            format!("principal add {name} ({})", fingerprints.join(", ")),
            (),
        ))
    })?;
    actor.tidy();
    Ok(AddReport {
        status: "added",
        principal: name,
        kind: req.kind,
        fingerprints,
        commit: outcome.commit().map(|c| c.to_string()),
    })
}

/// Adds the principal a join request describes, after checking its signature and that it is
/// for this store. The principal is named `name`, else as the request proposes.
pub fn add_from_request(
    cx: &Context,
    name: Option<&str>,
    token: &str,
    kind: PrincipalKind,
    expires: Option<Stamp>,
) -> Result<AddReport> {
    let request = crate::crypto::join::verify(token)?;
    let store_id = cx.store()?.snapshot()?.meta()?.id;
    if request.store_id != store_id {
        return Err(Error::usage(format!(
            "that join request is for another store ({}), not this one ({store_id}); ask for one made in a clone of this store",
            request.store_id
        )));
    }
    add(
        cx,
        &AddRequest {
            name: name.unwrap_or(&request.name).to_owned(),
            recipients: vec![request.recipient],
            signers: vec![request.signer],
            kind,
            expires,
        },
    )
}

/// What `principal remove` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RemoveReport {
    /// Always `removed`.
    pub status: &'static str,
    /// The principal.
    pub principal: String,
    /// The vaults it had a role in.
    pub vaults: Vec<String>,
    /// The rekey of each vault it could read.
    pub rekeyed: Vec<Rekeyed>,
    /// Connections marked for rotation.
    pub rotation_needed: usize,
    /// The commit made.
    pub commit: Option<String>,
}

/// Offboards a principal: out of every vault and role, its file deleted, the vaults it could
/// read rekeyed and their credentials marked for rotation. Only owners can.
pub fn remove(cx: &Context, name: &str) -> Result<RemoveReport> {
    let actor = access::actor(cx)?;
    let (store, identity, me) = (&actor.store, &actor.identity, &actor.me);
    let outcome = store.transact(|txn| {
        let mut meta = txn.base().meta()?;
        access::require_owner(&meta, me, "remove principals")?;
        vault::principal(txn, name)?;
        if meta.owners.iter().any(|o| o == name) {
            if meta.owners.len() == 1 {
                return Err(Error::usage(format!(
                    "{name} is the store's last owner; make another principal an owner first"
                )));
            }
            meta.owners.retain(|o| o != name);
            vault::write_yaml(txn, layout::STORE_FILE.to_owned(), &meta)?;
        }
        let store_id = meta.id.clone();
        let mut vaults = Vec::new();
        let mut read = Vec::new();
        for v in vault::vaults(txn.base())? {
            let mut vm = vault::vault_meta(txn, &v)?;
            let roles = vm.roles_of(name);
            if roles.is_empty() {
                continue;
            }
            for role in &roles {
                vm.members_mut(*role).retain(|m| m != name);
            }
            access::keep_a_reader(&vm, &v)?;
            vault::write_yaml(txn, layout::vault_meta(&v), &vm)?;
            if roles.contains(&Role::Reader) {
                read.push(v.clone());
            }
            vaults.push(v);
        }
        txn.delete(layout::principal(name));
        let mut rekeyed = Vec::new();
        let mut marked = 0;
        for v in &read {
            rekeyed.push(access::rekey(txn, &store_id, v, identity, false, false)?);
            marked += access::mark_for_rotation(txn, v, &format!("{name} was removed"))?;
        }
        let secrets: usize = rekeyed.iter().map(|r| r.rewritten).sum();
        let message = if vaults.is_empty() {
            format!("principal remove {name}")
        } else {
            format!(
                "principal remove {name}: {}; {secrets} secrets re-encrypted; {marked} connections need rotation",
                vaults.join(", ")
            )
        };
        Ok(Edit::new(message, (vaults, rekeyed, marked)))
    })?;
    let commit = outcome.commit().map(|c| c.to_string());
    let (vaults, rekeyed, rotation_needed) = outcome.into_value();
    actor.tidy();
    Ok(RemoveReport {
        status: "removed",
        principal: name.to_owned(),
        vaults,
        rekeyed,
        rotation_needed,
        commit,
    })
}

/// What `principal rotate-key` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RotateReport {
    /// Always `rotated`.
    pub status: &'static str,
    /// The principal.
    pub principal: String,
    /// The new keys' fingerprints.
    pub fingerprints: Vec<String>,
    /// The rekey of each vault it reads.
    pub rekeyed: Vec<Rekeyed>,
    /// Connections marked for rotation (with `compromised`).
    pub rotation_needed: usize,
    /// The commit made.
    pub commit: Option<String>,
}

/// Replaces a principal's recipients (and, when given, signers), rekeys the vaults it reads,
/// and with `compromised` marks their credentials for rotation. Owners can do it for anyone; a
/// principal can do it for itself.
pub fn rotate_key(
    cx: &Context,
    name: &str,
    new_recipients: &[String],
    new_signers: &[String],
    compromised: bool,
) -> Result<RotateReport> {
    let actor = access::actor(cx)?;
    let (store, identity, me) = (&actor.store, &actor.identity, &actor.me);
    if new_recipients.is_empty() && new_signers.is_empty() {
        return Err(Error::usage(
            "rotate-key needs the new keys: --recipient (and/or --signer)",
        ));
    }
    let fingerprints: Vec<String> = new_recipients
        .iter()
        .chain(new_signers)
        .map(|k| fingerprint(k))
        .collect();
    let outcome = store.transact(|txn| {
        let meta = txn.base().meta()?;
        let owner = meta.owners.iter().any(|o| o == me);
        if me != name {
            access::require_owner(&meta, me, "rotate other principals' keys")?;
        }
        let mut p = vault::principal(txn, name)?;
        if !owner && p.expires.is_some_and(|at| at < Stamp::now()) {
            return Err(Error::crypto(format!(
                "{name} expired {}; an owner can renew it",
                p.expires.map(|e| e.to_string()).unwrap_or_default()
            )));
        }
        // A principal that is no person gets a signer only from an owner (agents read unless
        // made writers), so it cannot give itself the power to vouch for changes.
        if !owner && p.kind != PrincipalKind::Person && !new_signers.is_empty() {
            return Err(Error::crypto(format!(
                "{name} is a{} {}; only an owner can give it a signer",
                if p.kind == PrincipalKind::Agent {
                    "n"
                } else {
                    ""
                },
                p.kind.as_str()
            )));
        }
        if !new_recipients.is_empty() {
            let check = AddRequest {
                name: name.to_owned(),
                recipients: new_recipients.to_vec(),
                signers: new_signers.to_vec(),
                kind: p.kind,
                expires: p.expires,
            };
            check_keys(txn, name, &check)?;
            p.recipients = new_recipients
                .iter()
                .map(|r| recipients::canonical(r))
                .collect();
        }
        if !new_signers.is_empty() {
            for k in new_signers {
                crate::crypto::signing::parse_signer(k)?;
            }
            p.signers = new_signers
                .iter()
                .map(|k| recipients::canonical(k))
                .collect();
        }
        vault::write_yaml(txn, layout::principal(name), &p)?;
        let mut rekeyed = Vec::new();
        let mut marked = 0;
        for v in vault::vaults(txn.base())? {
            if !vault::vault_meta(txn, &v)?
                .readers
                .iter()
                .any(|r| r == name)
            {
                continue;
            }
            rekeyed.push(access::rekey(txn, &meta.id, &v, identity, false, false)?);
            if compromised {
                marked +=
                    access::mark_for_rotation(txn, &v, &format!("{name}'s key was compromised"))?;
            }
        }
        let secrets: usize = rekeyed.iter().map(|r| r.rewritten).sum();
        let mut message = format!(
            "principal rotate-key {name} ({}): {} vaults, {secrets} secrets re-encrypted",
            fingerprints.join(", "),
            rekeyed.len()
        );
        if compromised {
            message.push_str(&format!("; {marked} connections need rotation"));
        }
        Ok(Edit::new(message, (rekeyed, marked)))
    })?;
    let commit = outcome.commit().map(|c| c.to_string());
    let (rekeyed, rotation_needed) = outcome.into_value();
    actor.tidy();
    Ok(RotateReport {
        status: "rotated",
        principal: name.to_owned(),
        fingerprints,
        rekeyed,
        rotation_needed,
        commit,
    })
}
