//! `refresh`: refresh on read. an access token about to expire is refreshed before it is handed out.
//!
//! A refreshed access token is short-lived noise, so it goes to a cache outside git (encrypted to
//! the local identity, mode 0600) keyed by the committed connection state; reads make no
//! commits. When the server rotates the refresh token, the old one is dead, so the new one is
//! state: it is committed (`refresh github/work`). A per-connection lock keeps two processes from
//! spending a rotating refresh token twice.

use std::fs::File;

use age::secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::crypto::envelope::{self, Place};
use crate::crypto::identity::Identity;
use crate::crypto::recipients;
use crate::error::{Error, ErrorKind, Result};
use crate::layout;
use crate::model::provider::ProviderDef;
use crate::model::state::{ConnectionRecord, ConnectionStatus};
use crate::model::time::Stamp;
use crate::oauth::{self, ACCESS_TOKEN, CLIENT_SECRET, Endpoints, OAuthClient, REFRESH_TOKEN};
use crate::store::{Edit, Snapshot, Store};
use crate::vault::{self, ConnectionRef, VaultRef};

/// Seconds before expiry at which a token is refreshed (`AUTHSOME_REFRESH_WINDOW` overrides).
pub const DEFAULT_WINDOW: i64 = 300;

fn window() -> i64 {
    std::env::var("AUTHSOME_REFRESH_WINDOW")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_WINDOW)
}

/// One connection whose access token is wanted.
pub struct Want<'a> {
    /// The store.
    pub store: &'a Store,
    /// The store id.
    pub store_id: &'a str,
    /// The vault.
    pub vault: &'a str,
    /// The provider definition.
    pub def: &'a ProviderDef,
    /// The connection name.
    pub conn: &'a str,
    /// The identity that decrypts.
    pub identity: &'a Identity,
}

impl<'a> Want<'a> {
    /// The connection's files and secret places.
    pub fn connection(&self) -> ConnectionRef<'a> {
        VaultRef::new(self.store_id, self.vault).connection(&self.def.name, self.conn)
    }
}

/// One secret field of a connection as a reader should see it: the access token refreshed when
/// it is about to expire, any other field as committed.
pub fn read_field(w: &Want<'_>, field: &str, warn: &dyn Fn(&str)) -> Result<SecretString> {
    if field == ACCESS_TOKEN && w.def.oauth2.is_some() {
        return access_token(w, warn);
    }
    let snap = w.store.snapshot()?;
    read(w, &snap, field)
}

/// Seconds from now until `at` (negative when past); `None` when there is no expiry.
fn remaining(at: Option<Stamp>) -> Option<i64> {
    at.map(Stamp::seconds_from_now)
}

/// The access token of a connection, refreshed first when it expires within the window.
/// `warn` receives a message when a failed refresh falls back to a still-valid token.
pub fn access_token(w: &Want<'_>, warn: &dyn Fn(&str)) -> Result<SecretString> {
    let snap = w.store.snapshot()?;
    let record = committed_record(w, &snap)?;
    if let Some(t) = fresh_committed(w, &snap, &record)? {
        return Ok(t);
    }
    if let Some(t) = fresh_cached(w, &snap)? {
        return Ok(t);
    }
    // Only one refresh per connection at a time; whoever waited re-reads what the first did.
    let _lock = lock(w)?;
    let snap = w.store.snapshot()?;
    let record = committed_record(w, &snap)?;
    if let Some(t) = fresh_committed(w, &snap, &record)? {
        return Ok(t);
    }
    if let Some(t) = fresh_cached(w, &snap)? {
        return Ok(t);
    }
    refresh_now(w, &snap, &record, warn).map(|r| r.token)
}

/// What a refresh did.
struct Refreshed {
    /// The access token to use.
    token: SecretString,
    /// Why the rotated refresh token could not be committed (it is parked), if it could not.
    not_committed: Option<Error>,
}

/// Whether a rotated refresh token of this connection is parked on this machine, waiting for a
/// commit.
pub fn is_parked(store_id: &str, vault: &str, provider: &str, conn: &str) -> bool {
    crate::dirs::cache_dir().is_ok_and(|d| {
        d.join("tokens")
            .join(format!(
                "{}-parked.age",
                connection_key(store_id, vault, provider, conn)
            ))
            .exists()
    })
}

/// `authsome refresh P/C`: refreshes the connection's tokens now, and commits a rotated refresh
/// token (the one parked on this machine when an earlier commit was refused). An error when the
/// commit is refused again.
pub fn refresh(w: &Want<'_>, warn: &dyn Fn(&str)) -> Result<bool> {
    if w.def.oauth2.is_none() {
        return Err(Error::usage(format!(
            "{} uses an API key, which has nothing to refresh",
            w.def.name
        )));
    }
    let _lock = lock(w)?;
    let snap = w.store.snapshot()?;
    let record = committed_record(w, &snap)?;
    let was_parked = is_parked(w.store_id, w.vault, &w.def.name, w.conn);
    let done = refresh_now(w, &snap, &record, warn)?;
    if let Some(e) = done.not_committed {
        return Err(e);
    }
    Ok(was_parked)
}

/// The access token to use after the provider refused the `rejected` ones although they had not
/// expired: one another process stored meanwhile, else a refreshed one.
pub fn access_token_replacing(
    w: &Want<'_>,
    rejected: &[SecretString],
    warn: &dyn Fn(&str),
) -> Result<SecretString> {
    let _lock = lock(w)?;
    let snap = w.store.snapshot()?;
    let record = committed_record(w, &snap)?;
    let known = [fresh_committed(w, &snap, &record)?, fresh_cached(w, &snap)?];
    if let Some(t) = known.into_iter().flatten().find(|t| {
        !rejected
            .iter()
            .any(|r| r.expose_secret() == t.expose_secret())
    }) {
        return Ok(t);
    }
    refresh_now(w, &snap, &record, warn).map(|r| r.token)
}

fn committed_record(w: &Want<'_>, snap: &Snapshot<'_>) -> Result<ConnectionRecord> {
    match vault::record(snap, w.vault, &w.def.name, w.conn)? {
        Some(r) => Ok(r),
        None => Err(vault::not_found(snap, w.vault, &w.def.name, w.conn)?),
    }
}

fn fresh_committed(
    w: &Want<'_>,
    snap: &Snapshot<'_>,
    record: &ConnectionRecord,
) -> Result<Option<SecretString>> {
    match remaining(record.expires_at) {
        Some(left) if left <= window() => Ok(None),
        _ => read(w, snap, ACCESS_TOKEN).map(Some),
    }
}

fn read(w: &Want<'_>, snap: &Snapshot<'_>, field: &str) -> Result<SecretString> {
    vault::read_secret(
        snap,
        w.store_id,
        w.vault,
        &w.def.name,
        w.conn,
        field,
        w.identity,
    )
}

/// What the cache file holds (encrypted).
#[derive(Serialize, Deserialize)]
struct Cached {
    access_token: String,
    expires_at: Option<Stamp>,
}

/// The cache file: named for the connection, then for the committed state it was refreshed
/// from (the record and the refresh token), so any new login, rotation or edit misses the cache.
fn cache_path(w: &Want<'_>, snap: &Snapshot<'_>) -> Result<Option<std::path::PathBuf>> {
    let refresh = snap.entry_id(&layout::secret(w.vault, &w.def.name, w.conn, REFRESH_TOKEN))?;
    let record = snap.entry_id(&layout::record(w.vault, &w.def.name, w.conn))?;
    let (Some((refresh, _)), Some((record, _))) = (refresh, record) else {
        return Ok(None);
    };
    let state = digest(&[&refresh.to_string(), &record.to_string()]);
    let dir = crate::dirs::cache_dir()?.join("tokens");
    Ok(Some(dir.join(format!(
        "{}-{state}.age",
        connection_key(w.store_id, w.vault, &w.def.name, w.conn)
    ))))
}

fn connection_key(store_id: &str, vault: &str, provider: &str, conn: &str) -> String {
    digest(&[store_id, vault, provider, conn])
}

fn parked_place(w: &Want<'_>) -> Place {
    w.connection().place("parked_refresh_token")
}

/// Where a rotated refresh token waits when its commit failed.
fn parked_path(w: &Want<'_>) -> Option<std::path::PathBuf> {
    let dir = crate::dirs::cache_dir().ok()?.join("tokens");
    Some(dir.join(format!(
        "{}-parked.age",
        connection_key(w.store_id, w.vault, &w.def.name, w.conn)
    )))
}

fn read_parked(w: &Want<'_>, path: &std::path::Path) -> Option<SecretString> {
    let bytes = std::fs::read(path).ok()?;
    envelope::open(&parked_place(w), "parked refresh token", &bytes, w.identity).ok()
}

fn park(w: &Want<'_>, path: &std::path::Path, token: &SecretString) -> Result<()> {
    let recipient = recipients::parse(w.identity.recipient(), "the identity")?;
    let sealed = envelope::seal(&parked_place(w), token, &[recipient])?;
    crate::private_files::write_private(path, &sealed)
}

/// Deletes every cached access token of a connection (after logout or revoke), returning the
/// live ones so they can be revoked too.
pub fn forget(
    store_id: &str,
    vault: &str,
    provider: &str,
    conn: &str,
    identity: Option<&Identity>,
) -> Vec<SecretString> {
    let Ok(dir) = crate::dirs::cache_dir().map(|d| d.join("tokens")) else {
        return Vec::new();
    };
    let prefix = format!("{}-", connection_key(store_id, vault, provider, conn));
    let place = VaultRef::new(store_id, vault)
        .connection(provider, conn)
        .place(CACHED_ACCESS_TOKEN);
    let mut live = Vec::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if !entry.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        if let (Some(id), Ok(bytes)) = (identity, std::fs::read(&path))
            && let Ok(v) = envelope::open(&place, "cache", &bytes, id)
            && let Ok(c) = serde_json::from_str::<Cached>(v.expose_secret())
        {
            live.push(SecretString::from(c.access_token));
        }
        let _ = std::fs::remove_file(&path);
    }
    live
}

fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The place a cached access token is bound to (a field no committed file has).
const CACHED_ACCESS_TOKEN: &str = "cached_access_token";

fn cache_place(w: &Want<'_>) -> Place {
    w.connection().place(CACHED_ACCESS_TOKEN)
}

fn fresh_cached(w: &Want<'_>, snap: &Snapshot<'_>) -> Result<Option<SecretString>> {
    let Some(path) = cache_path(w, snap)? else {
        return Ok(None);
    };
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(None);
    };
    // A cache entry that does not decrypt or parse is ignored, never trusted.
    let Ok(value) = envelope::open(
        &cache_place(w),
        &path.display().to_string(),
        &bytes,
        w.identity,
    ) else {
        return Ok(None);
    };
    let Ok(cached) = serde_json::from_str::<Cached>(value.expose_secret()) else {
        return Ok(None);
    };
    let token = SecretString::from(cached.access_token);
    match remaining(cached.expires_at) {
        Some(left) if left <= window() => Ok(None),
        _ => Ok(Some(token)),
    }
}

fn write_cache(
    w: &Want<'_>,
    snap: &Snapshot<'_>,
    token: &SecretString,
    expires_at: Option<Stamp>,
) -> Result<()> {
    let Some(path) = cache_path(w, snap)? else {
        return Ok(());
    };
    let json = Zeroizing::new(
        serde_json::to_string(&Cached {
            access_token: token.expose_secret().to_owned(),
            expires_at,
        })
        .map_err(|e| Error::internal(e.to_string()))?,
    );
    let recipient = recipients::parse(w.identity.recipient(), "the identity")?;
    let sealed = envelope::seal(
        &cache_place(w),
        &SecretString::from(json.to_string()),
        &[recipient],
    )?;
    crate::private_files::write_private(&path, &sealed)
}

fn lock(w: &Want<'_>) -> Result<File> {
    let dir = crate::dirs::cache_dir()?.join("locks");
    crate::private_files::create_private_dir(&dir)?;
    let path = dir.join(format!(
        "{}.lock",
        digest(&[w.store_id, w.vault, &w.def.name, w.conn])
    ));
    // A refresh takes a second or two; a minute means the other process is stuck.
    let holder = format!("refreshing {}/{}", w.def.name, w.conn);
    crate::private_files::lock(&path, std::time::Duration::from_secs(60), &holder)
}

/// The OAuth client and endpoints of a provider, from committed state.
pub fn client_and_endpoints(
    snap: &Snapshot<'_>,
    store_id: &str,
    vault_name: &str,
    def: &ProviderDef,
    identity: &Identity,
) -> Result<(OAuthClient, Endpoints)> {
    let spec = def
        .oauth2
        .as_ref()
        .ok_or_else(|| Error::usage(format!("{} is not an OAuth2 provider", def.name)))?;
    let state = vault::provider_state(snap, vault_name, &def.name)?;
    let endpoints = Endpoints::resolve(&def.name, spec, state.base_url.as_deref())?;
    let id = state.client_id.clone().ok_or_else(|| {
        Error::new(
            ErrorKind::CredentialMissing,
            format!(
                "{} has no OAuth client configured; log in again with `authsome login {} --force`",
                def.name, def.name
            ),
        )
    })?;
    let secret_path = layout::provider_secret(vault_name, &def.name, CLIENT_SECRET);
    let secret = match snap.read(&secret_path)? {
        Some(bytes) => {
            let place =
                VaultRef::new(store_id, vault_name).provider_secret(&def.name, CLIENT_SECRET);
            Some(envelope::open(&place, &secret_path, &bytes, identity)?)
        }
        None => None,
    };
    Ok((
        OAuthClient {
            id,
            secret,
            auth: spec.token_auth_method,
        },
        endpoints,
    ))
}

fn refresh_now(
    w: &Want<'_>,
    snap: &Snapshot<'_>,
    record: &ConnectionRecord,
    warn: &dyn Fn(&str),
) -> Result<Refreshed> {
    let name = &w.def.name;
    let conn = w.conn;
    let left = remaining(record.expires_at).unwrap_or(i64::MAX);
    let current = || {
        read(w, snap, ACCESS_TOKEN).map(|token| Refreshed {
            token,
            not_committed: None,
        })
    };
    let relogin = format!("log in again with `authsome login {name} --connection {conn} --force`");
    if !record.secrets.contains_key(REFRESH_TOKEN) {
        if left > 0 {
            return current();
        }
        return Err(Error::new(
            ErrorKind::CredentialMissing,
            format!(
                "the access token of {name}/{conn} expired and there is no refresh token; {relogin}"
            ),
        ));
    }
    // A rotated refresh token that could not be committed last time is the live one.
    let parked = parked_path(w);
    let parked_token = parked.as_deref().and_then(|p| read_parked(w, p));
    let from_parked = parked_token.is_some();
    let refresh_token = match parked_token {
        Some(t) => t,
        None => read(w, snap, REFRESH_TOKEN)?,
    };
    let (client, endpoints) = client_and_endpoints(snap, w.store_id, w.vault, w.def, w.identity)?;
    let http = oauth::http_client()?;
    let refreshed =
        oauth::flows::refresh(&http, &endpoints, &client, &refresh_token, &record.scopes);
    let (why, dead) = match refreshed {
        Ok(Ok(mut tokens)) => {
            if from_parked && tokens.refresh_token.is_none() {
                tokens.refresh_token = Some(refresh_token.clone());
            }
            let rotated = from_parked
                || tokens
                    .refresh_token
                    .as_ref()
                    .is_some_and(|new| new.expose_secret() != refresh_token.expose_secret());
            let mut not_committed = None;
            if rotated || record.status != ConnectionStatus::Connected {
                // A rotated refresh token is state (the old one is dead); so is recovering
                // from an earlier failure.
                match commit_refresh(w, &tokens, rotated) {
                    Ok(()) => {
                        if let Some(p) = &parked {
                            let _ = std::fs::remove_file(p);
                        }
                    }
                    Err(e) => {
                        // The server has already spent the old token: losing the new one would
                        // log the user out. Park it (encrypted) until a commit succeeds.
                        if let (true, Some(p), Some(new)) =
                            (rotated, &parked, &tokens.refresh_token)
                        {
                            park(w, p, new)?;
                        }
                        warn(&format!(
                            "could not commit the refreshed tokens of {}/{} ({}); the new refresh token is kept encrypted in the cache until the next refresh commits it (`authsome refresh {}/{}`)",
                            w.def.name,
                            w.conn,
                            e.message(),
                            w.def.name,
                            w.conn
                        ));
                        not_committed = Some(e);
                    }
                }
            } else {
                // A cache that cannot be written costs a refresh next time, nothing more.
                let _ = write_cache(w, snap, &tokens.access_token, tokens.expires_at);
            }
            return Ok(Refreshed {
                token: tokens.access_token,
                not_committed,
            });
        }
        Ok(Err(e)) => {
            let why = format!(
                "{}{}",
                e.code,
                e.description
                    .map(|d| format!(": {}", oauth::printable(&d)))
                    .unwrap_or_default()
            );
            (why, e.code == oauth::ErrorCode::InvalidGrant)
        }
        Err(e) => (e.message().to_owned(), false),
    };
    if left > 0 {
        warn(&format!(
            "could not refresh {name}/{conn} ({why}); using the current token, which expires in {left} seconds"
        ));
        return current();
    }
    // Only a refused grant is a fact about the connection; a network failure is not.
    if dead && let Err(e) = mark_failed(w) {
        warn(&format!(
            "could not record the failed refresh: {}",
            e.message()
        ));
    }
    Err(Error::new(
        ErrorKind::CredentialMissing,
        format!(
            "the access token of {name}/{conn} expired and could not be refreshed ({why}); {relogin}"
        ),
    ))
}

/// Commits refreshed tokens: a rotated refresh token (the old one no longer works) with its
/// access token, or the connection's return to `connected`.
fn commit_refresh(w: &Want<'_>, tokens: &oauth::TokenSet, rotated: bool) -> Result<()> {
    let name = &w.def.name;
    // A reader (an agent without --writer) does not commit: the rotated token waits, parked in
    // its local encrypted cache, for a writer.
    super::access::require_writer(&w.store.snapshot()?, Some(w.identity), w.vault)?;
    w.store.transact(|txn| {
        let message = if rotated {
            format!("refresh {name}/{}", w.conn)
        } else {
            format!("status {name}/{}: connected", w.conn)
        };
        let Some(mut record) = vault::record(txn, w.vault, name, w.conn)? else {
            return Ok(Edit::new(message, ()));
        };
        let recipients = vault::load_recipients(txn, w.vault)?;
        let now = vault::now();
        for (field, value) in [
            (ACCESS_TOKEN, Some(&tokens.access_token)),
            (REFRESH_TOKEN, tokens.refresh_token.as_ref()),
        ] {
            let Some(value) = value else { continue };
            let place = w.connection().place(field);
            let previous = record.secrets.get(field).cloned();
            let info = vault::put_secret(
                txn,
                &place,
                value,
                &recipients,
                previous.as_ref(),
                Some(w.identity),
                now,
            )?;
            record.secrets.insert(field.to_owned(), info);
        }
        record.expires_at = tokens.expires_at;
        record.scopes = tokens.scopes.clone();
        record.status = ConnectionStatus::Connected;
        record.updated_at = now;
        vault::write_yaml(txn, layout::record(w.vault, name, w.conn), &record)?;
        Ok(Edit::new(message, ()))
    })?;
    Ok(())
}

/// Records that the connection can no longer be refreshed.
fn mark_failed(w: &Want<'_>) -> Result<()> {
    let name = &w.def.name;
    super::access::require_writer(&w.store.snapshot()?, Some(w.identity), w.vault)?;
    w.store.transact(|txn| {
        let message = format!("status {name}/{}: refresh_failed", w.conn);
        let Some(mut record) = vault::record(txn, w.vault, name, w.conn)? else {
            return Ok(Edit::new(message, ()));
        };
        record.status = ConnectionStatus::RefreshFailed;
        vault::write_yaml(txn, layout::record(w.vault, name, w.conn), &record)?;
        Ok(Edit::new(message, ()))
    })?;
    Ok(())
}

/// What `authsome refresh` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// The provider.
    pub provider: String,
    /// The connection refreshed.
    pub connection: String,
    /// Whether a parked refresh token was committed.
    pub was_parked: bool,
    /// HEAD after the refresh.
    pub head: Option<String>,
}

/// Refreshes a connection's tokens now and commits a rotated refresh token, parked or new.
pub fn refresh_connection(
    cx: &crate::context::Context,
    provider: &str,
    connection: Option<&str>,
    ui: &dyn crate::ui::Ui,
) -> Result<Report> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    crate::trust::gate_vault(&snap, &cx.vault, &cx.trust.strict(), ui)?;
    let def = crate::providers::Catalog::new(&snap).get(provider)?.def;
    let (conn, _) = vault::resolve_connection(
        &snap,
        &cx.vault,
        &def.name,
        cx.connection(&def.name, connection),
    )?;
    let meta = snap.meta()?;
    let identity = cx.identity()?;
    let want = Want {
        store: &store,
        store_id: &meta.id,
        vault: &cx.vault,
        def: &def,
        conn: &conn,
        identity: &identity,
    };
    let was_parked = refresh(&want, &|m| ui.warn(m))?;
    Ok(Report {
        provider: def.name.clone(),
        connection: conn.to_string(),
        was_parked,
        head: store.snapshot()?.commit().map(|c| c.to_string()),
    })
}
