//! `seal`: vouches for what scopes hold now, signing a new seal for each (`seq` one higher, `prev`
//! naming the last), in one commit `seal store #3, vaults/prod #15`.

use serde::Serialize;

use crate::context::Context;
use crate::crypto::signing::SigningKey;
use crate::error::{Error, ErrorKind, Result};
use crate::store::Edit;
use crate::trust::{self, seal::Scope};
use crate::vault;

/// What `seal` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// `sealed`, or `unchanged` when every scope named was sealed as it is.
    pub status: &'static str,
    /// Each new seal: scope and seq.
    pub sealed: Vec<(String, u64)>,
    /// The commit made, if any.
    pub commit: Option<String>,
}

/// Seals `scopes` (every scope that is unsealed or changed, when empty) with this machine's
/// signing key. The signer must be allowed to vouch for each scope by the policy at HEAD.
pub fn seal(cx: &Context, scopes: &[Scope]) -> Result<Report> {
    let store = cx.store()?;
    let identity = cx.identity()?;
    let key = SigningKey::load(&cx.signing_key_path)?;
    let outcome = store.transact(|txn| {
        let snap = txn.base();
        let pin = trust::pin::load(&snap.meta()?.id)?;
        let me = vault::principal_of(snap, identity.recipient())?.ok_or_else(|| {
            Error::new(
                ErrorKind::Trust,
                "your identity is not a principal of this store, so it cannot seal",
            )
        })?;
        let chosen = if scopes.is_empty() {
            let mut out = Vec::new();
            for s in trust::scopes(snap)? {
                if !trust::check(snap, &s)?.ok() {
                    out.push(s);
                }
            }
            out
        } else {
            scopes.to_vec()
        };
        let mut sealed = Vec::new();
        for scope in &chosen {
            // Against the pinned policy, a change to a vault's vault.yaml or policy.yaml is
            // its admins' to seal; anything else, whoever HEAD allows.
            let pinned = pin
                .scopes
                .get(&scope.name())
                .and_then(|p| p.policy.as_ref());
            let governing = match (scope, pinned) {
                (Scope::Vault(_), Some(p)) => {
                    let required = p.required(snap, scope)?;
                    required.governing.then(|| required.signers.clone())
                }
                _ => None,
            };
            let allowed = match &governing {
                Some(signers) => signers.clone(),
                None => trust::authorised(snap, scope)?.0,
            };
            let mine = allowed
                .iter()
                .find(|(n, _)| *n == me)
                .is_some_and(|(_, keys)| keys.contains(&key.public()));
            if !mine {
                return Err(Error::new(
                    ErrorKind::Trust,
                    format!(
                        "{me} (with the signing key {}) may not seal {}; {}",
                        key.path().display(),
                        scope.name(),
                        match scope {
                            Scope::Vault(v) if governing.is_some() => format!(
                                "its vault.yaml or policy.yaml changed since this machine verified it, which needs an admin of {v} or an owner"
                            ),
                            Scope::Store => "only owners seal the store scope".to_owned(),
                            Scope::Vault(v) =>
                                format!("only writers, admins and owners of {v} seal it"),
                        }
                    ),
                ));
            }
            let previous = trust::read_seal(snap, scope).ok().flatten();
            let seal = trust::sealer::sign(snap, scope, previous.as_ref(), &key, &me)?
                .ok_or_else(|| Error::usage(format!("there is no {} to seal", scope.name())))?;
            sealed.push((scope.name(), seal.statement.seq, scope.seal_path(), seal));
        }
        // The threshold this machine verified: a change that raises it is sealed under the old.
        // A change that raises the threshold needs as many owners as it asks for.
        let threshold = trust::authorised(snap, &Scope::Store)?.1.max(
            pin.scopes
                .get(&Scope::Store.name())
                .and_then(|p| p.policy.as_ref())
                .map_or(1, |p| p.threshold),
        );
        for (_, _, path, s) in &sealed {
            txn.write(path.clone(), s.render());
        }
        let list: Vec<(String, u64)> = sealed.iter().map(|(n, q, _, _)| (n.clone(), *q)).collect();
        let message = format!(
            "seal {}",
            list.iter()
                .map(|(n, q)| format!("{n} #{q}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        // A store seal that needs more owners than this one waits for their co-signatures.
        if threshold > 1 && chosen.contains(&Scope::Store) {
            return Err(trust::sealer::divert_to_pending(txn, &message, threshold));
        }
        Ok(Edit::new(message, list))
    })?;
    // The store's sealer pins what this commit sealed: this machine vouched for it.
    let commit = outcome.commit().map(|c| c.to_string());
    Ok(Report {
        status: if commit.is_some() {
            "sealed"
        } else {
            "unchanged"
        },
        sealed: outcome.into_value(),
        commit,
    })
}

/// What `seal store --cosign` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CosignReport {
    /// `landed` (the threshold is met and the branch has the change) or `waiting`.
    pub status: &'static str,
    /// The change's commit message.
    pub change: String,
    /// The owners who signed it so far.
    pub signed_by: Vec<String>,
    /// How many must.
    pub threshold: usize,
    /// The commit made on the branch, once landed.
    pub commit: Option<String>,
}

/// Adds this owner's signature to the store change waiting on the pending reference; when
/// `owner_threshold` owners have signed, the change lands on the branch in one commit.
pub fn cosign(cx: &Context) -> Result<CosignReport> {
    use crate::trust::sealer::PENDING_STORE;
    let store = cx.store()?;
    let key = SigningKey::load(&cx.signing_key_path)?;
    let head = store.snapshot()?;
    // The change is judged by the store seal and policy this machine verified, brought up to
    // HEAD's store seal first (HEAD may hold the hand edit the pending seal vouches for, so its
    // seal is verified where it was made).
    if let Some(sealed_at) = where_sealed(&store, &head)? {
        trust::gate(
            &sealed_at,
            &[Scope::Store],
            &cx.trust.strict(),
            &crate::ui::Silent,
        )?;
    }
    let pin = trust::pin::load(&head.meta()?.id)?;
    let pinned = pin.scopes.get(&Scope::Store.name()).ok_or_else(|| {
        Error::new(
            ErrorKind::Trust,
            "this machine has not trusted this store yet, so it cannot cosign its changes",
        )
        .with_hint("check the owners with `authsome trust show`, then `authsome trust accept`")
    })?;
    let pending = store.read_ref(PENDING_STORE)?.ok_or_else(|| {
        Error::usage(format!(
            "no store change waits for co-signatures ({PENDING_STORE} does not exist)"
        ))
    })?;
    let info = store.commit_info(pending)?;
    let parent = store
        .repo()
        .find_commit(pending)
        .map_err(|e| Error::git("reading the pending change", e))?
        .parent_ids()
        .next()
        .map(|id| id.detach());
    if parent != head.commit() {
        return Err(Error::new(
            ErrorKind::Trust,
            format!(
                "the pending store change \"{}\" was made on another commit than HEAD, so its seal no longer follows HEAD's",
                info.summary
            ),
        )
        .with_hint(format!(
            "drop it (`git update-ref -d {PENDING_STORE}`) and have its author make it again"
        )));
    }
    let waiting = crate::store::Snapshot::at_commit(&store, pending)?;
    let mut seal = trust::read_seal(&waiting, &Scope::Store)?.ok_or_else(|| {
        Error::new(
            ErrorKind::Trust,
            "the pending store change has no store seal",
        )
    })?;
    let follows = seal.statement.prev.as_deref() == Some(pinned.seal.as_str())
        && seal.statement.seq == pinned.seq + 1
        && Scope::Store.tree(&waiting)?.as_deref() == Some(seal.statement.tree.as_str())
        && seal.statement.vaults.as_ref() == Some(&vault::vaults(&waiting)?)
        && seal.statement.store == head.meta()?.id;
    if !follows {
        return Err(Error::new(
            ErrorKind::Trust,
            "the pending store change's seal does not follow the store seal this machine verified; it cannot be cosigned",
        )
        .with_hint(format!("drop it with `git update-ref -d {PENDING_STORE}`")));
    }
    let policy = pinned
        .policy
        .clone()
        .map_or_else(|| trust::policy::Policy::of(&head, &Scope::Store), Ok)?;
    let owners = policy.signers;
    let threshold = policy
        .threshold
        .max(waiting.meta()?.owner_threshold.unwrap_or(1) as usize);
    let me = trust::sealer::signer_of(&owners, &key).ok_or_else(|| {
        Error::new(
            ErrorKind::Trust,
            format!(
                "the signing key {} is no owner's, so it cannot cosign a store change",
                key.path().display()
            ),
        )
    })?;
    let before: Vec<String> = seal
        .signed_by(&owners)
        .into_iter()
        .map(str::to_owned)
        .collect();
    if before.contains(&me) {
        return Err(Error::usage(format!(
            "{me} signed this change already; it waits for {} more owner(s)",
            threshold.saturating_sub(before.len())
        )));
    }
    seal.signatures
        .push(key.sign(trust::seal::NAMESPACE, seal.text.as_bytes())?);
    let signed_by: Vec<String> = seal
        .signed_by(&owners)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let seal_path = Scope::Store.seal_path();
    if signed_by.len() < threshold {
        let mut edits = std::collections::BTreeMap::new();
        edits.insert(seal_path, Some(seal.render().into_bytes()));
        let tree = store.tree_with(waiting.tree_id(), &edits)?;
        store.commit_to_ref(PENDING_STORE, &info.summary, tree, parent, Some(pending))?;
        return Ok(CosignReport {
            status: "waiting",
            change: info.summary,
            signed_by,
            threshold,
            commit: None,
        });
    }
    // Enough owners: the branch gets the change, as its author wrote it, with every signature.
    let changes = store.changes(Some(head.tree_id()), waiting.tree_id())?;
    let message = info.summary.clone();
    let landed = store.transact(|txn| {
        if txn.base().commit() != head.commit() {
            return Err(Error::new(
                ErrorKind::Trust,
                "the branch moved while the change was being cosigned; run `authsome seal store --cosign` again",
            ));
        }
        for c in &changes {
            match c.new {
                Some(id) => txn.write(c.path.clone(), waiting.read_blob(id)?),
                None => txn.delete(c.path.clone()),
            }
        }
        txn.write(seal_path.clone(), seal.render());
        Ok(Edit::new(message.clone(), ()))
    })?;
    let commit = landed.commit().map(|c| c.to_string());
    store.delete_ref(PENDING_STORE, pending)?;
    Ok(CosignReport {
        status: "landed",
        change: info.summary,
        signed_by,
        threshold,
        commit,
    })
}

/// The newest commit on HEAD's first-parent history whose store scope is the tree HEAD's store
/// seal names: where that seal was made.
fn where_sealed<'s>(
    store: &'s crate::store::Store,
    head: &crate::store::Snapshot<'s>,
) -> Result<Option<crate::store::Snapshot<'s>>> {
    /// How far back a hand edit under the seal may go.
    const DEPTH: usize = 100;
    let (Some(tip), Some(seal)) = (head.commit(), trust::read_seal(head, &Scope::Store)?) else {
        return Ok(None);
    };
    for commit in store.walk(tip)?.into_iter().take(DEPTH) {
        let then = crate::store::Snapshot::at_commit(store, commit)?;
        if Scope::Store.tree(&then)?.as_deref() == Some(seal.statement.tree.as_str()) {
            return Ok(Some(then));
        }
    }
    Ok(None)
}
