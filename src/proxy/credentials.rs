//! Which credential a request gets, read from the committed state and following new commits.
//!
//! The proxy checks `HEAD` on every request (`head.rs`: one read of an inotify queue, or two
//! `stat` calls when something changed): a commit made by another process (a switched default,
//! a login, a logout) applies to the very next request, with no watcher whose events could
//! arrive after that request. Anything slower (opening the repository, decrypting, refreshing a
//! token) runs on the blocking pool, and only when the commit changed or a credential is not
//! cached.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use age::secrecy::{ExposeSecret, SecretString};

use super::routes::Table;
use crate::crypto::identity::Identity;
use crate::error::{Error, ErrorKind, Result};
use crate::model::names::VaultName;
use crate::model::provider::{AuthType, ProviderDef};
use crate::model::secret::SecretField;
use crate::ops::refresh::{self, Want};
use crate::providers::Catalog;
use crate::store::Store;
use crate::store::StoreLocation;
use crate::ui::Ui;
use crate::vault::{self, Reader};

/// How long an OAuth2 access token is used before asking the refresh logic again (which
/// refreshes it when it expires within the refresh window).
const TOKEN_RECHECK: Duration = Duration::from_secs(30);

/// What the proxy was started with.
pub struct Settings {
    /// Where the store is.
    pub location: StoreLocation,
    /// The vault.
    pub vault: VaultName,
    /// The identity that decrypts.
    pub identity: Identity,
    /// `--connection PROVIDER=NAME` for this run; beats the project's pins.
    pub overrides: BTreeMap<String, String>,
    /// The project's pinned connections.
    pub pins: BTreeMap<String, String>,
    /// Where warnings go while the child runs.
    pub ui: Arc<dyn Ui>,
    /// The signing key that seals a refresh's commit in a sealed store.
    pub signing_key: PathBuf,
    /// The trust checks' settings.
    pub trust: crate::trust::Settings,
}

impl Settings {
    fn open(&self) -> Result<Store> {
        let mut store = Store::open_at(&self.location)?;
        store.set_sealer(Arc::new(crate::trust::sealer::Sealer::new(
            self.signing_key.clone(),
            self.trust.clone(),
        )));
        Ok(store)
    }
}

/// A provider that has connections, as of one commit.
#[derive(Debug, Clone)]
pub struct ProviderView {
    /// The definition.
    pub def: Arc<ProviderDef>,
    /// Its connections.
    pub connections: Vec<String>,
    /// The connection used when a request names none: `--connection`, else the project's pin,
    /// else the committed default.
    pub selected: Option<String>,
    /// The provider's base URL, when it has one (not a secret; the child gets it as is).
    pub base_url: Option<String>,
}

/// The committed state the proxy routes by.
#[derive(Debug, Clone)]
pub struct View {
    /// `HEAD` and the ref it points to, as read from disk.
    fingerprint: Vec<u8>,
    /// The store id.
    store_id: String,
    /// The routes.
    pub table: Table,
    /// Providers with connections.
    pub providers: HashMap<String, ProviderView>,
    /// The vault's request policy, or why it could not be read (then every credentialed
    /// request is refused rather than sent without it).
    pub policy: std::result::Result<Arc<crate::policy::Policy>, String>,
    /// The principal the proxy's identity is, for rules that name principals.
    pub principal: Option<String>,
}

/// A credential ready to inject.
pub struct Credential {
    /// The provider.
    pub provider: String,
    /// The connection.
    pub connection: String,
    /// The header it goes in.
    pub header: hyper::header::HeaderName,
    /// The header value (marked sensitive).
    pub value: hyper::header::HeaderValue,
    /// The secret as it appears in the header (the key, the token, or their Basic encoding).
    pub secret: SecretString,
    /// Every form of the secret a response must not echo to the child: `secret`, and the raw
    /// key when the header carries an encoding of it.
    pub redact: Vec<SecretString>,
    /// Whether it is an OAuth2 access token (so a 401 is worth one refresh).
    pub oauth: bool,
}

struct Cached {
    credential: Arc<Credential>,
    fetched: Instant,
    /// The commit it was read at: a read that started before a commit and ended after it must
    /// not pass for the new state.
    fingerprint: Vec<u8>,
}

/// Resolves credentials for the proxy.
pub struct Resolver {
    settings: Arc<Settings>,
    head: super::head::Head,
    view: Mutex<Arc<View>>,
    cache: Mutex<HashMap<(String, String), Cached>>,
    /// The tokens each connection's upstream refused: a committed token that is still "valid"
    /// by its expiry must not come back after it was refused and replaced.
    rejected: Mutex<HashMap<(String, String), Vec<SecretString>>>,
    /// When each connection was last refreshed after a 401: a token the upstream keeps refusing
    /// is not refreshed again on every request.
    refreshed: Mutex<HashMap<(String, String), Instant>>,
    /// Where a refused state is recorded.
    audit: Option<Arc<super::audit::Log>>,
}

impl Resolver {
    /// Where warnings go while the child runs.
    pub fn ui(&self) -> &dyn Ui {
        &*self.settings.ui
    }

    /// Opens the store and reads the current state.
    pub fn new(settings: Settings, audit: Option<Arc<super::audit::Log>>) -> Result<Self> {
        let store = settings.open()?;
        let head = super::head::Head::new(
            store.repo().git_dir().join("HEAD"),
            store.repo().common_dir().to_owned(),
            super::workers::count(),
        );
        let view = load_view(&settings, &store, head.fingerprint(0))?;
        Ok(Resolver {
            settings: Arc::new(settings),
            head,
            view: Mutex::new(Arc::new(view)),
            cache: Mutex::new(HashMap::new()),
            rejected: Mutex::new(HashMap::new()),
            refreshed: Mutex::new(HashMap::new()),
            audit,
        })
    }

    /// The state as last read.
    pub fn current(&self) -> Arc<View> {
        self.view.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The state as of the current commit.
    pub async fn view(&self) -> Result<Arc<View>> {
        let now = self.head.fingerprint(super::workers::index());
        {
            let view = self.view.lock().unwrap_or_else(|e| e.into_inner());
            if view.fingerprint == now {
                return Ok(view.clone());
            }
        }
        let settings = self.settings.clone();
        let at = now.clone();
        let fresh = blocking(move || {
            let store = settings.open()?;
            // A new HEAD is used only once it verifies; until then the last verified state
            // serves (its hosts, its connections).
            crate::trust::gate_vault(
                &store.snapshot()?,
                &settings.vault,
                &settings.trust,
                settings.ui.as_ref(),
            )?;
            load_view(&settings, &store, at)
        })
        .await;
        let fresh = match fresh {
            Ok(v) => Arc::new(v),
            Err(e) if e.kind() == crate::error::ErrorKind::Trust => {
                let mut view = self.view.lock().unwrap_or_else(|e| e.into_inner());
                // Said once per refused state: the same HEAD is not checked again.
                let kept = Arc::new(View {
                    fingerprint: now,
                    ..(**view).clone()
                });
                self.settings.ui.message(&format!(
                    "authsome: the store changed to a state that does not verify ({}); the proxy keeps serving the last verified one",
                    e.message()
                ));
                if let Some(log) = &self.audit {
                    log.record(super::audit::Entry {
                        time: String::new(),
                        action: super::audit::Action::StateRefused,
                        provider: None,
                        connection: None,
                        method: String::new(),
                        host: String::new(),
                        path: String::new(),
                        status: 0,
                        reason: Some(e.message().to_owned()),
                        rule: None,
                        retried: false,
                    });
                }
                *view = kept.clone();
                return Ok(kept);
            }
            Err(e) => return Err(e),
        };
        *self.view.lock().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
        // Credentials read at another commit may be gone or replaced.
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
        Ok(fresh)
    }

    /// The credential for `provider`, from the connection the request named, else the
    /// provider's selected one.
    pub async fn credential(
        &self,
        view: &View,
        provider: &str,
        named: Option<&str>,
    ) -> Result<Arc<Credential>> {
        let p = view.providers.get(provider).ok_or_else(|| {
            Error::new(
                ErrorKind::ConnectionNotFound,
                format!("{provider} has no connections; log in with `authsome login {provider}`"),
            )
        })?;
        let conn = match named.or(p.selected.as_deref()) {
            Some(c) => c.to_owned(),
            None => {
                return Err(Error::new(
                    ErrorKind::ConnectionNotFound,
                    format!(
                        "{provider} has no default connection; set one with `authsome default {provider} NAME` or send X-Authsome-Connection ({})",
                        p.connections.join(", ")
                    ),
                ));
            }
        };
        if !p.connections.contains(&conn) {
            return Err(Error::new(
                ErrorKind::ConnectionNotFound,
                format!(
                    "{provider} has no connection {conn:?}; it has {}",
                    p.connections.join(", ")
                ),
            ));
        }
        let key = (provider.to_owned(), conn.clone());
        if let Some(c) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .filter(|c| c.fingerprint == view.fingerprint)
            .filter(|c| !c.credential.oauth || c.fetched.elapsed() < TOKEN_RECHECK)
        {
            return Ok(c.credential.clone());
        }
        let settings = self.settings.clone();
        let (def, store_id) = (p.def.clone(), view.store_id.clone());
        let rejected = self
            .rejected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned()
            .unwrap_or_default();
        let credential =
            Arc::new(blocking(move || fetch(&settings, &store_id, &def, &conn, &rejected)).await?);
        self.remember(key, credential.clone(), view);
        Ok(credential)
    }

    /// After the upstream answered 401 to `stale`: a newer token (refreshed now, or by
    /// someone else meanwhile).
    pub async fn after_rejection(
        &self,
        view: &View,
        stale: &Credential,
    ) -> Result<Arc<Credential>> {
        let p = view
            .providers
            .get(&stale.provider)
            .ok_or_else(|| Error::internal("the provider of a used credential is gone"))?;
        let settings = self.settings.clone();
        let (def, store_id) = (p.def.clone(), view.store_id.clone());
        let conn = stale.connection.clone();
        let key = (stale.provider.clone(), stale.connection.clone());
        // A token already refused was handled by an earlier 401 (requests in flight with it at
        // once all come back 401): those get what that refresh produced, with no new refresh.
        // Checked and recorded in one step: requests in flight with the same token at once all
        // come back 401, and all but the first must wait for that first refresh, not fail.
        let (known, rejected) = {
            let mut all = self.rejected.lock().unwrap_or_else(|e| e.into_inner());
            let list = all.entry(key.clone()).or_default();
            let known = list
                .iter()
                .any(|r| r.expose_secret() == stale.secret.expose_secret());
            if !known {
                list.push(stale.secret.clone());
            }
            (known, list.clone())
        };
        if !known {
            let mut refreshed = self.refreshed.lock().unwrap_or_else(|e| e.into_inner());
            if refreshed
                .get(&key)
                .is_some_and(|at| at.elapsed() < TOKEN_RECHECK)
            {
                return Err(Error::new(
                    ErrorKind::AuthFailed,
                    format!(
                        "{}/{} was refreshed less than {} seconds ago and is still refused; check its scopes, or log in again",
                        stale.provider,
                        stale.connection,
                        TOKEN_RECHECK.as_secs()
                    ),
                ));
            }
            refreshed.insert(key.clone(), Instant::now());
        }
        let credential =
            Arc::new(blocking(move || fetch(&settings, &store_id, &def, &conn, &rejected)).await?);
        self.remember(key, credential.clone(), view);
        Ok(credential)
    }

    fn remember(&self, key: (String, String), credential: Arc<Credential>, view: &View) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(
            key,
            Cached {
                credential,
                fetched: Instant::now(),
                fingerprint: view.fingerprint.clone(),
            },
        );
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("a proxy task failed: {e}")))?
}

fn load_view(settings: &Settings, store: &Store, fingerprint: Vec<u8>) -> Result<View> {
    let snap = store.snapshot()?;
    let meta = store.meta(&snap)?;
    let catalog = Catalog::new(&snap);
    let mut table = Table::default();
    let mut providers = HashMap::new();
    for name in vault::providers(&snap, &settings.vault)? {
        let connections = vault::connections(&snap, &settings.vault, &name)?;
        if connections.is_empty() {
            continue;
        }
        // A provider whose definition went away cannot be routed; the others still can.
        let Ok(provider) = catalog.get(&name) else {
            continue;
        };
        let state = vault::provider_state(&snap, &settings.vault, &name)?;
        table.add(&provider.def, state.base_url.as_deref());
        let base_url = state.base_url.clone().or_else(|| {
            provider
                .def
                .oauth2
                .as_ref()
                .and_then(|o| o.base_url.clone())
        });
        let selected = settings
            .overrides
            .get(&name)
            .or_else(|| settings.pins.get(&name))
            .cloned()
            .or(state.default);
        providers.insert(
            name,
            ProviderView {
                def: Arc::new(provider.def),
                connections,
                selected,
                base_url,
            },
        );
    }
    let policy_file = crate::layout::vault_policy(&settings.vault);
    let policy = match snap.read_file(&policy_file) {
        Ok(None) => Ok(Arc::new(crate::policy::Policy::default())),
        Ok(Some(bytes)) => crate::policy::Policy::parse(&policy_file, &bytes)
            .map(Arc::new)
            .map_err(|e| e.message().to_owned()),
        Err(e) => Err(e.message().to_owned()),
    };
    let principal = vault::principal_of(&snap, settings.identity.recipient())?;
    Ok(View {
        fingerprint,
        store_id: meta.id,
        table,
        providers,
        policy,
        principal,
    })
}

/// Reads (and refreshes, for OAuth2) a connection's credential. With `rejected`, the token the
/// upstream refused is not handed out again.
fn fetch(
    settings: &Settings,
    store_id: &str,
    def: &ProviderDef,
    conn: &str,
    rejected: &[SecretString],
) -> Result<Credential> {
    let store = settings.open()?;
    let want = Want {
        store: &store,
        store_id,
        vault: &settings.vault,
        def,
        conn,
        identity: &settings.identity,
    };
    let warn = |m: &str| settings.ui.message(&format!("authsome: warning: {m}"));
    if def.auth_type == AuthType::Oauth2 {
        let token = if rejected.is_empty() {
            refresh::access_token(&want, &warn)?
        } else {
            refresh::access_token_replacing(&want, rejected, &warn)?
        };
        // A personal token goes as its provider says (Linear's personal keys without `Bearer`).
        let personal = match &def.personal_token {
            Some(spec) if spec.header_prefix.is_some() => {
                let snap = store.snapshot()?;
                crate::vault::record(&snap, &settings.vault, &def.name, conn)?
                    .filter(|r| r.auth_type == AuthType::PersonalToken)
                    .map(|_| spec)
            }
            _ => None,
        };
        let value = match personal {
            Some(spec) => spec.header_value(token.expose_secret()),
            None => format!("Bearer {}", token.expose_secret()),
        };
        return credential(def, conn, "authorization", value, token, None, true);
    }
    let key = refresh::read_field(&want, SecretField::ApiKey.as_str(), &warn)?;
    let spec = def.api_key.as_ref().ok_or_else(|| {
        Error::usage(format!(
            "{} has no api_key section, so authsome does not know which header carries the key",
            def.name
        ))
    })?;
    let (value, token) = spec.header_value(key.expose_secret());
    let name = spec.header_name.to_ascii_lowercase();
    let raw = (token != key.expose_secret()).then_some(key);
    credential(
        def,
        conn,
        &name,
        value,
        SecretString::from(token),
        raw,
        false,
    )
}

fn credential(
    def: &ProviderDef,
    conn: &str,
    header: &str,
    value: String,
    secret: SecretString,
    raw: Option<SecretString>,
    oauth: bool,
) -> Result<Credential> {
    let value = zeroize::Zeroizing::new(value);
    let header = hyper::header::HeaderName::from_bytes(header.as_bytes()).map_err(|_| {
        Error::usage(format!(
            "{}'s header name {header:?} is not a valid HTTP header name; fix the provider definition",
            def.name
        ))
    })?;
    let mut value = hyper::header::HeaderValue::from_str(&value).map_err(|_| {
        Error::new(
            ErrorKind::CredentialMissing,
            format!(
                "the credential of {}/{conn} cannot go in an HTTP header (it has control characters); log in again with `authsome login {} --connection {conn} --force`",
                def.name, def.name
            ),
        )
    })?;
    value.set_sensitive(true);
    Ok(Credential {
        provider: def.name.clone(),
        connection: conn.to_owned(),
        header,
        value,
        redact: std::iter::once(secret.clone()).chain(raw).collect(),
        secret,
        oauth,
    })
}
