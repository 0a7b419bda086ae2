//! Sealing inside every write: in a sealed store (format 3), each transaction re-seals the scopes
//! it changes, signed by the writer's key, in the same commit; the write that creates a store, or
//! upgrades it to format 3, writes every scope's first seal. A write on top of a state that does
//! not verify against this machine's pin is refused, so nobody seals someone else's unvouched
//! change by accident.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::seal::{NAMESPACE, Scope, Seal, Statement};
use crate::crypto::signing::SigningKey;
use crate::error::{Error, ErrorKind, Result};
use crate::layout;
use crate::model::state::{SEALED_FORMAT, StoreMeta};
use crate::model::time::Stamp;
use crate::store::{Snapshot, Txn};
use crate::vault;

/// Seals transactions with the signing key at `key_path`.
#[derive(Debug, Clone)]
pub struct Sealer {
    key_path: PathBuf,
    settings: super::Settings,
}

impl Sealer {
    /// A sealer signing with the key at `key_path` (loaded when a sealed store is written);
    /// `settings` name the trust root a first use needs (no leniency applies to writes).
    pub fn new(key_path: PathBuf, settings: super::Settings) -> Self {
        Sealer {
            key_path,
            settings: settings.strict(),
        }
    }
}

/// The scope a store-relative path belongs to; `None` for files outside the store's scopes (a
/// project's `.authsome.yaml`) and for seals themselves.
fn scope_of(path: &str) -> Option<Scope> {
    if path.starts_with('/') {
        return None;
    }
    match path.strip_prefix("vaults/") {
        Some(rest) => {
            let (vault, inner) = rest.split_once('/')?;
            (inner != layout::SEAL).then(|| Scope::Vault(vault.to_owned()))
        }
        None => (path != layout::SEAL).then_some(Scope::Store),
    }
}

/// Signs a new seal of `scope` as `result` holds it: `seq` one above `previous`, `prev` naming
/// it. `signer` is the principal whose key `key` is.
pub fn sign(
    result: &Snapshot<'_>,
    scope: &Scope,
    previous: Option<&Seal>,
    key: &SigningKey,
    signer: &str,
) -> Result<Option<Seal>> {
    let Some(tree) = scope.tree(result)? else {
        return Ok(None); // the scope is deleted with this write
    };
    let statement = Statement {
        store: result.meta()?.id,
        scope: scope.clone(),
        seq: previous.map_or(1, |p| p.statement.seq + 1),
        tree,
        prev: previous.map(|p| p.statement.digest()),
        vaults: match scope {
            Scope::Store => Some(vault::vaults(result)?),
            Scope::Vault(_) => None,
        },
        signer: signer.to_owned(),
        date: Stamp::now(),
    };
    let text = statement.render();
    let signature = key.sign(NAMESPACE, text.as_bytes())?;
    Ok(Some(Seal {
        statement,
        text,
        signatures: vec![signature],
    }))
}

/// The principal among `allowed` whose signer `key` is.
pub fn signer_of(allowed: &super::Signers, key: &SigningKey) -> Option<String> {
    let public = key.public();
    allowed
        .iter()
        .find(|(_, keys)| keys.contains(&public))
        .map(|(name, _)| name.clone())
}

/// How a write stands towards sealing.
enum Kind {
    /// A format 2 store (or no store): not sealed.
    Unsealed,
    /// The store is created or upgraded to format 3 by this write: every scope gets its first
    /// seal, authorised by the result (whoever creates the store owns it).
    First,
    /// A sealed store: the scopes the write changes are re-sealed, authorised by HEAD, which
    /// must verify.
    Next,
}

fn kind(txn: &Txn<'_>) -> Result<Kind> {
    let format = |bytes: Option<Vec<u8>>| -> Result<Option<u32>> {
        bytes
            .map(|b| {
                crate::model::yaml::parse::<StoreMeta>(layout::STORE_FILE, &b).map(|m| m.format)
            })
            .transpose()
    };
    let after = format(txn.read(layout::STORE_FILE)?)?;
    let before = format(txn.base().read(layout::STORE_FILE)?)?;
    Ok(match (before, after) {
        (_, None) => Kind::Unsealed,
        (_, Some(a)) if a < SEALED_FORMAT => Kind::Unsealed,
        (Some(b), Some(_)) if b >= SEALED_FORMAT => Kind::Next,
        _ => Kind::First,
    })
}

/// Where a store-scope change waits for its co-signatures (`owner_threshold` above 1).
pub const PENDING_STORE: &str = "refs/authsome/pending/store";

/// With `owner_threshold` above one signature, a store-scope change does not land on the branch:
/// `txn`'s result (its seals written) is committed as `message` to [`PENDING_STORE`], where
/// further owners add their signatures (`authsome seal store --cosign`). The error says so.
pub fn divert_to_pending(txn: &Txn<'_>, message: &str, threshold: usize) -> Error {
    let pending = || -> Result<Error> {
        let store = txn.base().store();
        if let Some(waiting) = store.read_ref(PENDING_STORE)? {
            return Ok(Error::new(
                ErrorKind::Trust,
                format!(
                    "another store change ({}) already waits for co-signatures on {PENDING_STORE}, so this one was not made",
                    &waiting.to_string()[..8]
                ),
            )
            .with_hint(format!(
                "have the owners cosign it (`authsome seal store --cosign`) or drop it (`git update-ref -d {PENDING_STORE}`), then try again"
            )));
        }
        let result = txn.result()?;
        store.commit_to_ref(
            PENDING_STORE,
            message,
            result.tree_id(),
            txn.base().commit(),
            None,
        )?;
        Ok(Error::new(
            ErrorKind::Trust,
            format!(
                "this change to the store scope needs the signatures of {threshold} owners; it has yours and waits on {PENDING_STORE}, not on the branch"
            ),
        )
        .with_hint(
            "each other owner reviews it (`git show refs/authsome/pending/store`) and runs `authsome seal store --cosign`; the last one lands it",
        ))
    };
    pending().unwrap_or_else(|e| e)
}

impl crate::store::Sealer for Sealer {
    fn seal(&self, txn: &mut Txn<'_>, message: &str) -> Result<()> {
        // `authsome seal` writes its seals itself.
        if txn
            .written_paths()
            .any(|p| p.rsplit('/').next() == Some(layout::SEAL))
        {
            return Ok(());
        }
        let kind = kind(txn)?;
        if let Kind::Unsealed = kind {
            return Ok(());
        }
        let base = txn.base();
        let result = txn.result()?;
        let vaults_now = vault::vaults(&result)?;
        let scopes: BTreeSet<Scope> = match kind {
            Kind::First => super::scopes(&result)?.into_iter().collect(),
            _ => {
                let mut scopes: BTreeSet<Scope> = txn.edited_paths().filter_map(scope_of).collect();
                // A vault created or deleted changes the store seal's list of vaults.
                if vaults_now != vault::vaults(base)? {
                    scopes.insert(Scope::Store);
                }
                scopes
            }
        };
        if scopes.is_empty() {
            return Ok(());
        }
        if let Kind::Next = kind {
            // A write builds only on a state this machine verifies, never older than the pin:
            // writing on top of an unvouched change would vouch for it.
            let existing = vault::vaults(base)?;
            let checked: Vec<Scope> = std::iter::once(Scope::Store)
                .chain(scopes.iter().filter_map(|s| match s {
                    Scope::Vault(v) if existing.contains(v) => Some(s.clone()),
                    _ => None,
                }))
                .collect();
            super::gate(base, &checked, &self.settings, &crate::ui::Silent).map_err(|e| {
                let message = format!(
                    "this write would build on a state this machine does not trust: {}",
                    e.message()
                );
                e.with_message(message)
            })?;
        }
        let key = SigningKey::load(&self.key_path).map_err(|e| {
            Error::new(
                ErrorKind::Trust,
                format!(
                    "this store is sealed, so every write is signed, but {}",
                    e.message()
                ),
            )
        })?;
        let mut seals = Vec::new();
        for scope in scopes {
            let previous = match kind {
                Kind::First => None,
                _ => super::read_seal(base, &scope)?,
            };
            let policy_snap = match kind {
                Kind::First => &result,
                _ => base,
            };
            // Changing the files that govern a vault is its admins' (and owners') alone.
            let governs = |v: &str| {
                txn.edited_paths()
                    .any(|p| p == layout::vault_meta(v) || p == layout::vault_policy(v))
            };
            let allowed = match &scope {
                Scope::Vault(v) if governs(v) => super::policy::admins(policy_snap, v)?,
                _ => super::authorised(policy_snap, &scope)?.0,
            };
            let signer = signer_of(&allowed, &key).ok_or_else(|| {
                Error::new(
                    ErrorKind::Trust,
                    format!(
                        "the signing key {} is no key of someone who may change {}, so this write cannot be sealed",
                        key.path().display(),
                        scope.name()
                    ),
                )
            })?;
            if let Some(seal) = sign(&result, &scope, previous.as_ref(), &key, &signer)? {
                seals.push((scope.seal_path(), seal));
            }
        }
        for (path, seal) in seals {
            txn.write(path, seal.render());
        }
        if let Kind::Next = kind {
            // A change that raises the threshold needs as many owners as it asks for.
            let threshold = super::authorised(txn.base(), &Scope::Store)?
                .1
                .max(super::authorised(&result, &Scope::Store)?.1);
            let store_changed = txn.written_paths().any(|p| p == layout::store_seal());
            if store_changed && threshold > 1 {
                return Err(divert_to_pending(txn, message, threshold));
            }
        }
        Ok(())
    }

    fn signs_commits(&self, store: &crate::store::Store) -> bool {
        super::signs_commits(store)
    }

    fn sign_commit(&self, payload: &[u8]) -> Result<String> {
        SigningKey::load(&self.key_path)?.sign("git", payload)
    }

    fn committed(&self, snap: &Snapshot<'_>, written: &[String]) {
        // This machine verified the base and signed the successor: it trusts what it wrote.
        // Best effort: the commit stands either way, and the next read verifies it.
        let _ = super::pin_written(snap, written);
    }
}
