//! `authsome rotation list|done`: credentials someone who lost access could read.

use authsome::model::report::{RotationEntry, RotationListReport};

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::{Error, Result};
use authsome::model::names::{ConnectionName, ProviderName};
use authsome::ops::rotation;
use authsome::providers::Catalog;
use authsome::vault;

/// `rotation` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the credentials to rotate, in every vault, with what to do.
    List,
    /// Say a credential was rotated at the provider (`login --force` says so by itself).
    Done {
        /// `PROVIDER/CONNECTION`.
        #[arg(value_name = "PROVIDER/CONNECTION")]
        target: String,
        /// What was done, for the commit message.
        #[arg(long)]
        note: Option<String>,
    },
}

/// Runs a `rotation` subcommand.
pub fn exec(cx: &Context, out: &Output, cmd: Command) -> Result<()> {
    match cmd {
        Command::List => list(cx, out),
        Command::Done { target, note } => {
            let (p, c) = target.split_once('/').ok_or_else(|| {
                Error::usage(format!(
                    "rotation done takes PROVIDER/CONNECTION, not {target:?}"
                ))
            })?;
            let provider: ProviderName = p.parse()?;
            let connection: ConnectionName = c.parse()?;
            let report = rotation::done(cx, &provider, &connection, note.as_deref())?;
            if out.json {
                out.json(&report);
            } else if report.commit.is_some() {
                out.info(&format!("{provider}/{connection} no longer needs rotation"));
            } else {
                out.info(&format!(
                    "{provider}/{connection} was not marked for rotation; nothing changed"
                ));
            }
            Ok(())
        }
    }
}

/// What to do about one marked connection.
pub(super) fn what_to_do(
    catalog: &Catalog<'_, '_>,
    vault: &str,
    provider: &str,
    conn: Option<&str>,
) -> String {
    // The commands name the vault unless it is the default one.
    let authsome = if vault == authsome::vault::DEFAULT_VAULT {
        "authsome".to_owned()
    } else {
        format!("authsome --vault {vault}")
    };
    let revocable = catalog
        .get(provider)
        .ok()
        .and_then(|p| p.def.oauth2)
        .is_some_and(|o| o.revocation_url.is_some());
    match (conn, revocable) {
        (Some(c), true) => format!(
            "`{authsome} revoke {provider} -c {c}`, then log in again; or rotate it at the provider and `{authsome} rotation done {provider}/{c}`"
        ),
        (Some(c), false) => format!(
            "rotate it in the provider's settings, then `{authsome} login {provider} -c {c} --force`"
        ),
        (None, _) => format!(
            "replace the OAuth client secret in the provider's settings, then `{authsome} login {provider} --client-secret-stdin --force`"
        ),
    }
}

fn list(cx: &Context, out: &Output) -> Result<()> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    let catalog = Catalog::new(&snap);
    let mut rows = Vec::new();
    for v in vault::vaults(&snap)? {
        for (provider, (state, conns)) in vault::all_records(&snap, &v, None)? {
            if let Some(r) = &state.rotation {
                rows.push((v.clone(), provider.clone(), None, r.clone()));
            }
            for (c, record) in conns {
                if let Some(r) = record.rotation {
                    rows.push((v.clone(), provider.clone(), Some(c), r));
                }
            }
        }
    }
    if out.json {
        let rotation = rows
            .iter()
            .map(|(v, p, c, r)| RotationEntry {
                vault: v.to_string(),
                provider: p.to_string(),
                connection: c.as_ref().map(ToString::to_string),
                reason: r.reason.clone(),
                since: r.since,
                what_to_do: what_to_do(&catalog, v, p, c.as_deref()),
            })
            .collect();
        out.json(&RotationListReport { rotation });
        return Ok(());
    }
    if rows.is_empty() {
        out.info("Nothing to rotate.");
        return Ok(());
    }
    for (v, p, c, r) in &rows {
        let what = c
            .as_deref()
            .map_or_else(|| format!("{p} client secret"), |c| format!("{p}/{c}"));
        out.data(&format!(
            "{v}: {what} ({}, since {}): {}",
            r.reason,
            r.since,
            what_to_do(&catalog, v, p, c.as_deref())
        ));
    }
    Ok(())
}
