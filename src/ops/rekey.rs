//! `rekey`: re-encrypts the stale secrets of vaults (every secret with `--all`) to their
//! current readers, in one commit `rekey prod: 3 of 12 secrets re-encrypted (recipients a -> b)`.
//! With `--dry-run`, only counts.

use serde::Serialize;

use crate::context::Context;
use crate::error::Result;
use crate::model::names::VaultName;
use crate::store::Edit;
use crate::vault;

use super::access::{self, Rekeyed};

/// What `rekey` did (or, in a dry run, would do).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// `rekeyed`, `unchanged` (nothing stale), or `dry_run`.
    pub status: &'static str,
    /// Each vault's count.
    pub vaults: Vec<Rekeyed>,
    /// The commit made, if any.
    pub commit: Option<String>,
}

/// Rekeys `vaults` (every vault when empty). All or nothing: if one stale file of any of them
/// cannot be decrypted, nothing is written.
pub fn rekey(cx: &Context, vaults: &[VaultName], force: bool, dry_run: bool) -> Result<Report> {
    let store = cx.store()?;
    let identity = cx.identity()?;
    let names: Vec<String> = if vaults.is_empty() {
        vault::vaults(&store.snapshot()?)?
    } else {
        vaults.iter().map(|v| v.to_string()).collect()
    };
    let outcome = store.transact(|txn| {
        let meta = txn.base().meta()?;
        let mut done = Vec::new();
        for name in &names {
            vault::vault_meta(txn, name)?;
            done.push(access::rekey(
                txn, &meta.id, name, &identity, force, dry_run,
            )?);
        }
        let touched: Vec<&Rekeyed> = done.iter().filter(|r| r.rewritten > 0).collect();
        let message = format!(
            "rekey {}: {} of {} secrets re-encrypted{}",
            touched
                .iter()
                .map(|r| r.vault.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            touched.iter().map(|r| r.rewritten).sum::<usize>(),
            touched.iter().map(|r| r.total).sum::<usize>(),
            match touched.as_slice() {
                [one] => format!(
                    " (recipients {} -> {})",
                    one.from.as_deref().unwrap_or("none"),
                    one.to
                ),
                _ => String::new(),
            }
        );
        Ok(Edit::new(message, done))
    })?;
    let commit = outcome.commit().map(|c| c.to_string());
    if !dry_run && let Some(me) = vault::principal_of(&store.snapshot()?, identity.recipient())? {
        let _ = access::drop_expired(&store, &identity, &me);
    }
    Ok(Report {
        status: if dry_run {
            "dry_run"
        } else if commit.is_some() {
            "rekeyed"
        } else {
            "unchanged"
        },
        vaults: outcome.into_value(),
        commit,
    })
}
