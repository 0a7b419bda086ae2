//! Who may vouch for a scope: the store's owners for the store scope (with `owner_threshold`
//! distinct signatures), a vault's writers, admins and owners for the vault, and only its admins
//! and owners for a change to the files that govern it (`vault.yaml`, `policy.yaml`): a writer
//! cannot make themselves a reader or widen a policy.

use serde::{Deserialize, Serialize};

use super::seal::Scope;
use crate::error::Result;
use crate::store::Snapshot;
use crate::vault;

/// Principals with their signer keys.
pub type Signers = Vec<(String, Vec<String>)>;

/// The principals whose signatures count for a change to `scope`, with their signer keys, and
/// how many distinct ones must sign.
pub fn authorised(snap: &Snapshot<'_>, scope: &Scope) -> Result<(Signers, usize)> {
    let meta = snap.meta()?;
    let mut names: Vec<String> = meta.owners.clone();
    let threshold = match scope {
        Scope::Store => meta.owner_threshold.unwrap_or(1).max(1) as usize,
        Scope::Vault(v) => {
            // A vault that does not exist yet is the owners' to create.
            if let Ok(vm) = vault::vault_meta(snap, v) {
                names.extend(vm.writers);
                names.extend(vm.admins);
            }
            1
        }
    };
    Ok((signers_of(snap, names)?, threshold))
}

/// `names` (sorted, once each) with their signer keys; a name that is no principal is left out.
fn signers_of(snap: &Snapshot<'_>, mut names: Vec<String>) -> Result<Signers> {
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for n in names {
        if let Ok(p) = vault::principal(snap, &n) {
            let keys = p
                .signers
                .iter()
                .map(|k| crate::crypto::recipients::canonical(k))
                .collect();
            out.push((n, keys));
        }
    }
    Ok(out)
}

/// The principals whose signatures count for a scope, with their keys, and how many must sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Principal names and their signer keys.
    pub signers: Vec<(String, Vec<String>)>,
    /// How many distinct principals must sign.
    pub threshold: usize,
    /// A vault's admins and owners: who may change the files that govern it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admins: Vec<(String, Vec<String>)>,
    /// The blob ids of a vault's governing files as of this policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governing: Option<String>,
}

impl Policy {
    /// The policy a verified snapshot establishes for `scope`.
    pub fn of(snap: &Snapshot<'_>, scope: &Scope) -> Result<Self> {
        let (signers, threshold) = authorised(snap, scope)?;
        let (admins, governing) = match scope {
            Scope::Store => (Vec::new(), None),
            Scope::Vault(v) => (admins(snap, v)?, Some(governing(snap, v)?)),
        };
        Ok(Policy {
            signers,
            threshold,
            admins,
            governing,
        })
    }

    /// Who must sign `snap`'s seal of `scope` under this policy: the admins when a vault's
    /// governing files differ from this policy's.
    pub fn required(&self, snap: &Snapshot<'_>, scope: &Scope) -> Result<Required<'_>> {
        if let Scope::Vault(v) = scope
            && let Some(then) = &self.governing
            && *then != governing(snap, v)?
        {
            return Ok(Required {
                signers: &self.admins,
                threshold: 1,
                who: format!(
                    "admins or owners of {v}: its vault.yaml or policy.yaml changed, which needs an admin of {v}"
                ),
                governing: true,
            });
        }
        Ok(Required {
            signers: &self.signers,
            threshold: self.threshold,
            who: match scope {
                Scope::Store => "owners".to_owned(),
                Scope::Vault(v) => format!("writers, admins or owners of {v}"),
            },
            governing: false,
        })
    }
}

/// Who must sign a seal, as [`Policy::required`] decides.
#[derive(Debug)]
pub struct Required<'p> {
    /// The principals whose signatures count.
    pub signers: &'p Signers,
    /// How many distinct ones must sign.
    pub threshold: usize,
    /// Who they are, in words.
    pub who: String,
    /// Whether the change touches a vault's governing files (so only admins count).
    pub governing: bool,
}

/// The store's owners and `vault`'s admins, with their signer keys.
pub fn admins(snap: &Snapshot<'_>, vault: &str) -> Result<Signers> {
    let mut names = snap.meta()?.owners;
    if let Ok(vm) = vault::vault_meta(snap, vault) {
        names.extend(vm.admins);
    }
    signers_of(snap, names)
}

/// The blob ids of `vault`'s governing files (`vault.yaml`, `policy.yaml`), one string.
pub fn governing(snap: &Snapshot<'_>, vault: &str) -> Result<String> {
    let id = |path: String| -> Result<String> {
        Ok(snap
            .entry_id(&path)?
            .map_or_else(|| "-".to_owned(), |(id, _)| id.to_string()))
    };
    Ok(format!(
        "{} {}",
        id(crate::layout::vault_meta(vault))?,
        id(crate::layout::vault_policy(vault))?
    ))
}
