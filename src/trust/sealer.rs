//! Sealing inside every write: once a store is sealed (it has a store seal), each transaction
//! re-seals the scopes it changes, signed by the writer's key, in the same commit. A write on top
//! of a scope whose current seal does not verify is refused, so nobody seals someone else's
//! unvouched change by accident.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::seal::{NAMESPACE, Scope, Seal, Statement};
use crate::crypto::signing::SigningKey;
use crate::error::{Error, ErrorKind, Result};
use crate::layout;
use crate::model::time::Stamp;
use crate::store::Txn;
use crate::vault;

/// Seals transactions with the signing key at `key_path`.
#[derive(Debug, Clone)]
pub struct Sealer {
    key_path: PathBuf,
}

impl Sealer {
    /// A sealer signing with the key at `key_path` (loaded when a sealed store is written).
    pub fn new(key_path: PathBuf) -> Self {
        Sealer { key_path }
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

impl crate::store::Sealer for Sealer {
    fn seal(&self, txn: &mut Txn<'_>) -> Result<()> {
        let base = txn.base();
        // Only a sealed store is sealed on write; `authsome seal` writes its seals itself.
        if base.read(&layout::store_seal())?.is_none()
            || txn
                .written_paths()
                .any(|p| p.rsplit('/').next() == Some(layout::SEAL))
        {
            return Ok(());
        }
        let mut scopes: BTreeSet<Scope> = txn.edited_paths().filter_map(scope_of).collect();
        let result = txn.result()?;
        let vaults_now = vault::vaults(&result)?;
        // A vault created or deleted changes the store seal's list of vaults.
        if vaults_now != vault::vaults(base)? {
            scopes.insert(Scope::Store);
        }
        if scopes.is_empty() {
            return Ok(());
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
        let public = key.public();
        let meta = base.meta()?;
        let pin = super::pin::load(&meta.id)?;
        let mut seals = Vec::new();
        for scope in scopes {
            let Some(tree) = scope.tree(&result)? else {
                continue; // the scope is deleted with this write
            };
            let previous = super::read_seal(base, &scope).ok().flatten();
            // A write never builds on a state older than this machine verified.
            if let Some(p) = &previous {
                super::pin::compare(&pin, &scope.name(), p.statement.seq, &p.statement.digest())?;
            }
            if previous.is_some() {
                let check = super::check(base, &scope)?;
                if !check.ok() {
                    return Err(Error::new(
                        ErrorKind::Trust,
                        format!(
                            "{} does not verify, and writing on top of it would vouch for it: {}",
                            scope.name(),
                            check.detail.unwrap_or_default()
                        ),
                    ));
                }
            }
            let (allowed, _) = super::authorised(base, &scope)?;
            let signer = allowed
                .iter()
                .find(|(_, keys)| keys.contains(&public))
                .map(|(name, _)| name.clone())
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Trust,
                        format!(
                            "the signing key {} is no key of someone who may change {}, so this write cannot be sealed",
                            key.path().display(),
                            scope.name()
                        ),
                    )
                })?;
            let statement = Statement {
                store: meta.id.clone(),
                scope: scope.clone(),
                seq: previous.as_ref().map_or(1, |p| p.statement.seq + 1),
                tree: tree.to_string(),
                prev: previous.as_ref().map(|p| p.statement.digest()),
                vaults: matches!(scope, Scope::Store).then(|| vaults_now.clone()),
                signer,
                date: Stamp::now(),
            };
            let text = statement.render();
            let signature = key.sign(NAMESPACE, text.as_bytes())?;
            seals.push((
                scope.seal_path(),
                Seal {
                    statement,
                    text,
                    signatures: vec![signature],
                },
            ));
        }
        for (path, seal) in seals {
            txn.write(path, seal.render());
        }
        Ok(())
    }
}
