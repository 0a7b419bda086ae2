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
#[derive(Debug, Serialize)]
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
