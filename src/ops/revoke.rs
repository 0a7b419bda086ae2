//! `revoke`: revoke tokens at the provider's RFC 7009 endpoint, then remove them, in one commit
//! `revoke PROVIDER` (every connection and the client secret) or `revoke PROVIDER/CONNECTION`.

use serde::Serialize;

use crate::context::Context;
use crate::error::Result;
use crate::layout;
use crate::model::names::ConnectionName;
use crate::model::provider::ProviderDef;
use crate::oauth::{self, ACCESS_TOKEN, CLIENT_SECRET, REFRESH_TOKEN};
use crate::providers::Catalog;
use crate::store::{Edit, Snapshot};
use crate::vault;

/// What `revoke` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// Always `revoked`.
    pub status: &'static str,
    /// The provider.
    pub provider: String,
    /// The connections removed.
    pub connections: Vec<String>,
    /// `CONNECTION/FIELD` of each token the provider revoked.
    pub revoked_at_provider: Vec<String>,
    /// What could not be revoked at the provider, and why.
    pub warnings: Vec<String>,
    /// The commit made, if anything was removed.
    pub commit: Option<String>,
    /// Whether the whole provider was revoked (every connection and the client secret).
    #[serde(skip)]
    pub whole: bool,
    /// When the provider revoked nothing (an API key, no revocation endpoint): the credential
    /// still works there, and this is where to revoke it (the provider's page, if known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoke_yourself: Option<String>,
}

/// Revokes `connection` of `provider`, or every connection and the client secret.
pub fn revoke(cx: &Context, provider: &str, connection: Option<&ConnectionName>) -> Result<Report> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    let meta = snap.meta()?;
    let def = Catalog::new(&snap).get(provider)?.def;
    super::access::require_writer(&snap, cx.identity().ok().as_ref(), &cx.vault)?;
    let name = def.name.clone();
    let targets: Vec<String> = match connection {
        Some(c) => vec![vault::resolve_connection(&snap, &cx.vault, &name, Some(c))?.0],
        None => vault::connections(&snap, &cx.vault, &name)?,
    };

    // Revoke at the provider first; a failure is reported but does not keep the local copy,
    // which the user asked to be rid of.
    let mut revoked = Vec::new();
    let mut warnings = Vec::new();
    if def.oauth2.is_some() && !targets.is_empty() {
        revoke_at_provider(
            cx,
            &snap,
            &meta.id,
            &def,
            &targets,
            &mut revoked,
            &mut warnings,
        );
    }

    let whole = connection.is_none();
    let outcome = store.transact(|txn| {
        for conn in &targets {
            txn.delete_dir(&layout::connection(&cx.vault, &name, conn))?;
        }
        let mut state = vault::provider_state(txn, &cx.vault, &name)?;
        if whole {
            txn.delete(layout::provider_secret(&cx.vault, &name, CLIENT_SECRET));
            state = Default::default();
        } else if state.default.as_ref().is_some_and(|d| targets.contains(d)) {
            state.default = vault::heir(txn, &cx.vault, &name, &targets)?;
        }
        vault::write_provider_state(txn, &cx.vault, &name, &state)?;
        let message = if whole {
            format!("revoke {name}")
        } else {
            format!("revoke {name}/{}", targets.join(","))
        };
        Ok(Edit::new(message, ()))
    })?;
    let revoke_yourself = (revoked.is_empty() && !targets.is_empty()).then(|| {
        def.docs_url
            .clone()
            .unwrap_or_else(|| format!("{}'s site", def.display_name))
    });
    Ok(Report {
        status: "revoked",
        provider: name,
        connections: targets,
        revoked_at_provider: revoked,
        warnings,
        commit: outcome.commit().map(|c| c.to_string()),
        whole,
        revoke_yourself,
    })
}

/// Sends every token of `targets` (committed ones and refreshed ones from the cache) to the
/// provider's revocation endpoint. Problems become warnings: the local copy goes regardless.
fn revoke_at_provider(
    cx: &Context,
    snap: &Snapshot<'_>,
    store_id: &str,
    def: &ProviderDef,
    targets: &[String],
    revoked: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let name = &def.name;
    let identity = match cx.identity() {
        Ok(id) => id,
        Err(e) => {
            warnings.push(format!(
                "nothing was revoked at {name} ({}); revoke the tokens in its settings",
                e.message()
            ));
            return;
        }
    };
    let (client, endpoints) =
        match super::refresh::client_and_endpoints(snap, store_id, &cx.vault, def, &identity) {
            Ok(c) => c,
            Err(e) => {
                warnings.push(format!(
                    "nothing was revoked at {name} ({}); revoke the tokens in its settings",
                    e.message()
                ));
                return;
            }
        };
    let Some(url) = &endpoints.revocation else {
        warnings.push(format!(
            "{name} has no revocation endpoint; revoke the tokens in {}'s settings too",
            def.display_name
        ));
        return;
    };
    let http = match oauth::http_client() {
        Ok(h) => h,
        Err(e) => {
            warnings.push(e.message().to_owned());
            return;
        }
    };
    for conn in targets {
        let mut tokens = Vec::new();
        for (field, hint) in [
            (REFRESH_TOKEN, "refresh_token"),
            (ACCESS_TOKEN, "access_token"),
        ] {
            let record = vault::record(snap, &cx.vault, name, conn).ok().flatten();
            if !record.is_some_and(|r| r.secrets.contains_key(field)) {
                continue;
            }
            match vault::read_secret(snap, store_id, &cx.vault, name, conn, field, &identity) {
                Ok(t) => tokens.push((field, hint, t)),
                Err(e) => warnings.push(format!(
                    "could not read {name}/{conn} {field} to revoke it: {}",
                    e.message()
                )),
            }
        }
        // Refreshed access tokens live only in the cache; they are live too.
        for t in super::refresh::forget(store_id, &cx.vault, name, conn, Some(&identity)) {
            tokens.push((ACCESS_TOKEN, "access_token", t));
        }
        for (field, hint, token) in tokens {
            match oauth::flows::revoke(&http, url, &client, &token, hint) {
                Ok(()) => revoked.push(format!("{conn}/{field}")),
                Err(e) => warnings.push(format!(
                    "could not revoke {name}/{conn} {field}: {}",
                    e.message()
                )),
            }
        }
    }
}
