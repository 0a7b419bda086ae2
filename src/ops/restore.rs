//! `restore`: bring a provider or connection back exactly as it was at a revision (its secret
//! files byte for byte), in one new commit `restore TARGET to SHORT`; history is never
//! rewritten.

use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::layout;
use crate::model::names;
use crate::model::state::{ConnectionRecord, ProviderState};
use crate::store::{Edit, Snapshot};

/// What `restore` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// `restored`, or `unchanged` when it already was as at the revision.
    pub status: &'static str,
    /// `PROVIDER` or `PROVIDER/CONNECTION`.
    pub target: String,
    /// The full revision restored from.
    pub to: String,
    /// The commit made, if any.
    pub commit: Option<String>,
}

/// `PROVIDER` or `PROVIDER/CONNECTION`, as the store folder it names and its label.
pub fn target_dir(vault: &str, target: &str) -> Result<(String, String)> {
    let (provider, conn) = match target.split_once('/') {
        Some((p, c)) => (p, Some(c)),
        None => (target, None),
    };
    names::validate("provider", provider)?;
    match conn {
        Some(c) => {
            names::validate("connection", c)?;
            Ok((
                layout::connection(vault, provider, c),
                format!("{provider}/{c}"),
            ))
        }
        None => Ok((layout::provider(vault, provider), provider.to_owned())),
    }
}

/// A restored record or provider state keeps the rotation mark it has now: restoring an old
/// value does not make a credential someone lost access to safe again.
fn keep_rotation_mark(txn: &mut crate::store::Txn<'_>, path: &str) -> Result<()> {
    let Some(name) = path.rsplit('/').next() else {
        return Ok(());
    };
    let now = txn.base().read(path)?;
    let then = txn.read(path)?;
    let (Some(now), Some(then)) = (now, then) else {
        return Ok(());
    };
    if name == crate::layout::CONNECTION_FILE {
        let now: ConnectionRecord = crate::model::yaml::parse(path, &now)?;
        let mut then: ConnectionRecord = crate::model::yaml::parse(path, &then)?;
        if now.rotation.is_some() && then.rotation.is_none() {
            then.rotation = now.rotation;
            crate::vault::write_yaml(txn, path.to_owned(), &then)?;
        }
    } else if name == crate::layout::PROVIDER_FILE {
        let now: ProviderState = crate::model::yaml::parse(path, &now)?;
        let mut then: ProviderState = crate::model::yaml::parse(path, &then)?;
        if now.rotation.is_some() && then.rotation.is_none() {
            then.rotation = now.rotation;
            crate::vault::write_yaml(txn, path.to_owned(), &then)?;
        }
    }
    Ok(())
}

/// Restores `target` as it was at `rev`.
pub fn restore(cx: &Context, target: &str, rev: &str) -> Result<Report> {
    let store = cx.store()?;
    let (dir, label) = target_dir(&cx.vault, target)?;
    let id = store.resolve(rev)?;
    let short = id.to_string()[..8].to_owned();
    super::access::require_writer(&store.snapshot()?, cx.identity().ok().as_ref(), &cx.vault)?;
    let then = Snapshot::at_commit(&store, id)?;
    let files = then.files_under(&dir)?;
    if files.is_empty() {
        return Err(Error::usage(format!(
            "{label} did not exist at {rev}; pick a revision where it did (see `authsome log {label}`), or use `authsome logout` to remove it"
        )));
    }
    let mut contents = Vec::new();
    for f in &files {
        contents.push((f.clone(), then.read(f)?.unwrap_or_default()));
    }
    let identity = cx.identity()?;
    let outcome = store.transact(|txn| {
        let store_id = txn.base().meta()?.id;
        txn.delete_dir(&dir)?;
        for (path, bytes) in &contents {
            txn.write(path.clone(), bytes.clone());
            keep_rotation_mark(txn, path)?;
        }
        // The restored secrets were encrypted to the readers of then: re-encrypt them to the
        // readers of now (all or nothing), so a restore neither drops a reader nor brings back
        // one who left.
        super::access::rekey(txn, &store_id, &cx.vault, &identity, false, false)?;
        Ok(Edit::new(format!("restore {label} to {short}"), ()))
    })?;
    let commit = outcome.commit().map(|c| c.to_string());
    Ok(Report {
        status: if commit.is_some() {
            "restored"
        } else {
            "unchanged"
        },
        target: label,
        to: id.to_string(),
        commit,
    })
}
