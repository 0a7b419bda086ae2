//! Who may vouch for a scope: the store's owners for the store scope (with `owner_threshold`
//! distinct signatures), a vault's writers, admins and owners for the vault.

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
    Ok((out, threshold))
}

/// The principals whose signatures count for a scope, with their keys, and how many must sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Principal names and their signer keys.
    pub signers: Vec<(String, Vec<String>)>,
    /// How many distinct principals must sign.
    pub threshold: usize,
}

impl Policy {
    /// The policy a verified snapshot establishes for `scope`.
    pub fn of(snap: &crate::store::Snapshot<'_>, scope: &Scope) -> Result<Self> {
        let (signers, threshold) = authorised(snap, scope)?;
        Ok(Policy { signers, threshold })
    }
}
