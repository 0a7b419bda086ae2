//! `login`: obtain a credential (an API key, or tokens from an OAuth2 flow) and store it as a
//! connection, in one commit `login PROVIDER/CONNECTION`.
//!
//! Every credential kind is stored by the same transaction under the same two rules: the
//! connection's folder is cleared before it is written (it is new, or `--force` replaces it
//! whole, so no stray secret survives), and the connection becomes the provider's default when
//! the provider has none or `force` is set (the founding document's way to switch).

use std::collections::BTreeMap;

use age::secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::context::Context;
use crate::crypto::identity::Identity;
use crate::error::{Error, Result};
use crate::input;
use crate::layout;
use crate::loopback::Server;
use crate::model::names::ConnectionName;
use crate::model::provider::{AuthType, DeviceTokenRequest, Flow, PersonalTokenSpec, ProviderDef};
use crate::model::secret::SecretField;
use crate::model::state::{Account, ConnectionRecord, ProviderState};
use crate::model::time::Stamp;
use crate::oauth::flows::{self, FlowContext};
use crate::oauth::{self, ACCESS_TOKEN, CLIENT_SECRET, Endpoints, OAuthClient, REFRESH_TOKEN};
use crate::providers::Catalog;
use crate::store::{Edit, Outcome, Snapshot};
use crate::ui::{Answer, Ui};
use crate::vault::{self, VaultRef};

/// The field an API key is stored in.
const API_KEY: &str = SecretField::ApiKey.as_str();

/// Where an API key (or an OAuth client, when one must be asked for) comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Standard input (`--stdin`).
    Stdin,
    /// A masked prompt at the terminal (`--no-browser`).
    Prompt,
    /// A one-shot form on 127.0.0.1, opened in the browser.
    Form,
}

/// What `login` was asked to do.
#[derive(Debug, Clone)]
pub struct Request {
    /// The provider.
    pub provider: String,
    /// The connection name.
    pub connection: ConnectionName,
    /// Replace an existing connection, and make it the default.
    pub force: bool,
    /// With `force`: replace the credential but leave the default where it is.
    pub keep_default: bool,
    /// Store the provider's personal or bot token instead of running its OAuth2 flow.
    pub with_token: bool,
    /// Where an API key comes from.
    pub source: Source,
    /// Whether a browser may be opened (`--no-browser` says no).
    pub open_browser: bool,
    /// The flow, when not the provider's.
    pub flow: Option<Flow>,
    /// Scopes, when not the provider's.
    pub scopes: Option<Vec<String>>,
    /// Fills `{base_url}` in the provider's URLs.
    pub base_url: Option<String>,
    /// The OAuth client id.
    pub client_id: Option<String>,
    /// Read the OAuth client secret from standard input.
    pub client_secret_stdin: bool,
}

/// What `login` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Report {
    /// The credential was stored in a new commit.
    Success(Stored),
    /// The same credential was already stored; no commit.
    Unchanged(Stored),
    /// The connection exists and `force` was not given; nothing was asked or stored.
    AlreadyConnected {
        /// The provider.
        provider: String,
        /// The connection.
        connection: ConnectionName,
    },
}

/// A stored connection.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Stored {
    /// The provider.
    pub provider: String,
    /// The provider's display name.
    #[serde(skip)]
    pub display_name: String,
    /// The connection.
    pub connection: ConnectionName,
    /// Whether it is the provider's default now.
    pub default: bool,
    /// The connection's status.
    pub record_status: &'static str,
    /// What an OAuth2 login adds.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthLogin>,
    /// The commit made, if any.
    pub commit: Option<String>,
}

/// What an OAuth2 login learned.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct OAuthLogin {
    /// The account's login or id, where the provider has a userinfo endpoint.
    pub account: Option<String>,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// When the access token expires.
    pub expires_at: Option<Stamp>,
}

/// A credential obtained, ready to be stored.
enum Obtained {
    ApiKey(SecretString),
    /// A personal or bot token, stored as the access token.
    Token(SecretString),
    OAuth {
        tokens: oauth::TokenSet,
        account: Option<Account>,
        client: ClientChoice,
    },
}

/// Where the OAuth client came from, which decides what is stored.
struct ClientChoice {
    client: OAuthClient,
    /// Store the secret (it is new or changed).
    store_secret: bool,
}

/// Logs in: checks the connection is free (or `force`), obtains the credential, stores it.
pub fn login(cx: &Context, ui: &dyn Ui, req: &Request) -> Result<Report> {
    first_run(cx, ui)?;
    let store = cx.store()?;
    let snap = store.snapshot()?;
    let def = Catalog::new(&snap).get(&req.provider)?.def;
    let readers = vault::vault_recipients(&snap, &cx.vault)?;
    let already = || Report::AlreadyConnected {
        provider: def.name.clone(),
        connection: req.connection.clone(),
    };
    if !req.force && vault::record(&snap, &cx.vault, &def.name, &req.connection)?.is_some() {
        return Ok(already());
    }
    // Used only to recognise an unchanged secret, so a missing identity is not an error here.
    let identity = cx.identity().ok();
    super::access::require_writer(&snap, identity.as_ref(), &cx.vault)?;
    // A login that this identity could not read back is refused before anything is asked.
    if let Some(id) = &identity
        && !readers.iter().any(|r| r == id.recipient())
    {
        let who = vault::principal_of(&snap, id.recipient())?;
        return Err(Error::crypto(format!(
            "your identity is not a reader of vault {:?}, so a secret stored there could not be read back by you",
            cx.vault.as_str()
        ))
        .with_hint(match who {
            Some(p) => format!(
                "ask an admin of the vault to run `authsome grant {p} {}`",
                cx.vault
            ),
            None => format!(
                "ask an owner to add you (`authsome principal add NAME --recipient {}`) and grant you the vault",
                id.recipient()
            ),
        }));
    }
    let obtained = match def.auth_type {
        _ if req.with_token => {
            let Some(spec) = &def.personal_token else {
                return Err(Error::usage(match def.auth_type {
                    AuthType::ApiKey => format!(
                        "{} takes an API key, not a token; log in without --with-token",
                        def.name
                    ),
                    _ => format!(
                        "{} declares no personal token; log in without --with-token to run its OAuth flow",
                        def.name
                    ),
                }));
            };
            if req.flow.is_some() {
                return Err(Error::usage("--with-token stores a token; drop --flow"));
            }
            Obtained::Token(read_token(cx, ui, &def, spec, req)?)
        }
        AuthType::PersonalToken => {
            return Err(Error::internal(format!(
                "{}'s definition has auth_type personal_token, which validation refuses",
                def.name
            )));
        }
        AuthType::ApiKey => {
            if req.flow.is_some_and(|f| f != Flow::ApiKey) {
                return Err(Error::usage(format!(
                    "{} takes an API key; drop --flow",
                    def.name
                )));
            }
            Obtained::ApiKey(read_key(cx, ui, &def, req)?)
        }
        AuthType::Oauth2 => oauth_tokens(cx, ui, req, &snap, &def, identity.as_ref())?,
    };

    let outcome = store.transact(|txn| {
        let message = format!("login {}/{}", def.name, req.connection);
        let stored = stage(cx, req, &def, &obtained, identity.as_ref(), txn)?;
        Ok(Edit::new(message, stored))
    })?;
    let commit = outcome.commit().map(|c| c.to_string());
    let committed = matches!(outcome, Outcome::Committed { .. });
    let Some(is_default) = outcome.into_value() else {
        // Another login created it since we looked; theirs is kept.
        return Ok(already());
    };
    let oauth = match &obtained {
        Obtained::ApiKey(_) | Obtained::Token(_) => None,
        Obtained::OAuth {
            tokens, account, ..
        } => Some(OAuthLogin {
            account: account
                .as_ref()
                .and_then(|a| a.login.clone().or(a.id.clone())),
            scopes: tokens.scopes.clone(),
            expires_at: tokens.expires_at,
        }),
    };
    let stored = Stored {
        provider: def.name.clone(),
        display_name: def.display_name.clone(),
        connection: req.connection.clone(),
        default: is_default,
        record_status: "connected",
        oauth,
        commit,
    };
    Ok(if committed {
        Report::Success(stored)
    } else {
        Report::Unchanged(stored)
    })
}

/// On first use (the user's own default store does not exist at all), makes the store and the
/// identity, as `init` would, and says what it made; a project's store or one named with
/// `--store` or `AUTHSOME_STORE` is never made implicitly.
fn first_run(cx: &Context, ui: &dyn Ui) -> Result<()> {
    let crate::store::location::StoreLocation::Home(path) = &cx.location else {
        return Ok(());
    };
    // Only the default store (`~/.authsome`, `AUTHSOME_HOME`): a mistyped `--store` must not
    // quietly become a new store.
    if path.exists() || cx.project_file.is_some() || *path != crate::dirs::default_store()? {
        return Ok(());
    }
    let report = super::init::init(cx, false)?;
    ui.message(&format!(
        "First run: created {}. Keep the identity safe (it is the only key to your secrets), and back it up.",
        report.created.join(" and ")
    ));
    Ok(())
}

/// Stages the connection in `txn`; `None` when it exists and `force` was not given.
fn stage(
    cx: &Context,
    req: &Request,
    def: &ProviderDef,
    obtained: &Obtained,
    identity: Option<&Identity>,
    txn: &mut crate::store::Txn<'_>,
) -> Result<Option<bool>> {
    let (name, conn) = (&def.name, &req.connection);
    let meta = txn.base().meta()?;
    let recipients = vault::load_recipients(txn, &cx.vault)?;
    let now = vault::now();
    let previous = vault::record(txn, &cx.vault, name, conn)?;
    if previous.is_some() && !req.force {
        return Ok(None);
    }
    let places = VaultRef::new(&meta.id, &cx.vault);
    let connection = places.connection(name, conn);
    txn.delete_dir(&connection.dir())?;

    let (mut record, secrets) = match obtained {
        Obtained::ApiKey(key) => (
            ConnectionRecord::new(AuthType::ApiKey, previous.as_ref(), now),
            vec![(API_KEY, key)],
        ),
        // Nothing to refresh and no expiry: the token is used as it is until it is replaced.
        Obtained::Token(token) => (
            ConnectionRecord::new(AuthType::PersonalToken, previous.as_ref(), now),
            vec![(ACCESS_TOKEN, token)],
        ),
        Obtained::OAuth {
            tokens, account, ..
        } => {
            let record = ConnectionRecord {
                expires_at: tokens.expires_at,
                scopes: tokens.scopes.clone(),
                token_type: tokens.token_type.clone(),
                account: account.clone(),
                ..ConnectionRecord::new(AuthType::Oauth2, previous.as_ref(), now)
            };
            let mut secrets = vec![(ACCESS_TOKEN, &tokens.access_token)];
            secrets.extend(tokens.refresh_token.as_ref().map(|t| (REFRESH_TOKEN, t)));
            (record, secrets)
        }
    };
    let mut new_value = false;
    for (field, value) in secrets {
        let prev = previous.as_ref().and_then(|p| p.secrets.get(field));
        let info = vault::put_secret(
            txn,
            &connection.place(field),
            value,
            &recipients,
            prev,
            identity,
            now,
        )?;
        // put_secret hands back the old info only when the value (and recipients) are the same.
        new_value |= prev != Some(&info);
        record.secrets.insert(field.to_owned(), info);
    }
    // Only a new value is the rotation a mark asks for; the same key again leaves the mark.
    if !new_value {
        record.rotation = previous.as_ref().and_then(|p| p.rotation.clone());
    }
    // A re-login that changes nothing keeps the old timestamp, so it makes no commit.
    if let Some(prev) = &previous {
        let mut same = record.clone();
        same.updated_at = prev.updated_at;
        if same == *prev {
            record = same;
        }
    }
    // A secret the new credential does not have (an OAuth refresh token replaced by a personal
    // token) goes with the old one.
    for field in previous.iter().flat_map(|p| p.secrets.keys()) {
        if !record.secrets.contains_key(field) {
            txn.delete(connection.secret_path(field));
        }
    }
    vault::write_yaml(txn, connection.record_path(), &record)?;

    let mut state: ProviderState = vault::provider_state(txn, &cx.vault, name)?;
    if let Obtained::OAuth { client, .. } = obtained {
        let client_changed = state.client_id.as_deref() != Some(client.client.id.as_str());
        state.client_id = Some(client.client.id.clone());
        if req.base_url.is_some() {
            state.base_url = req.base_url.clone();
        }
        let secret_path = layout::provider_secret(&cx.vault, name, CLIENT_SECRET);
        match (&client.client.secret, client.store_secret) {
            (Some(secret), true) => {
                let info = vault::put_secret(
                    txn,
                    &places.provider_secret(name, CLIENT_SECRET),
                    secret,
                    &recipients,
                    None,
                    None,
                    now,
                )?;
                state.secrets.insert(CLIENT_SECRET.to_owned(), info);
                // A new client secret is the rotation a mark asked for.
                state.rotation = None;
            }
            (None, _) if client_changed => {
                txn.delete(secret_path);
                state.secrets.remove(CLIENT_SECRET);
                state.rotation = None;
            }
            _ => {}
        }
    }
    if state.default.is_none() || (req.force && !req.keep_default) {
        state.default = Some(conn.to_string());
    }
    vault::write_provider_state(txn, &cx.vault, name, &state)?;
    Ok(Some(state.default.as_deref() == Some(conn.as_str())))
}

/// Reads an API key from where the request says, checked against the provider's pattern.
fn read_key(
    cx: &Context,
    ui: &dyn Ui,
    provider: &ProviderDef,
    req: &Request,
) -> Result<SecretString> {
    let spec = provider
        .api_key
        .as_ref()
        .expect("validated: api_key providers have a spec");
    let pattern = spec.key_pattern.as_deref();
    let hint = spec.key_pattern_hint.as_deref();
    let check = |k: &SecretString| input::check_pattern(k, pattern, hint, &provider.display_name);
    ask_credential(
        cx,
        ui,
        provider,
        req,
        &Asked {
            what: "API key",
            field: API_KEY,
            label: "API key",
            hint,
            check: &check,
        },
    )
}

/// Reads a personal or bot token, checked against the provider's declared pattern.
fn read_token(
    cx: &Context,
    ui: &dyn Ui,
    provider: &ProviderDef,
    spec: &PersonalTokenSpec,
    req: &Request,
) -> Result<SecretString> {
    let pattern = spec.key_pattern.as_deref();
    let hint = spec.key_pattern_hint.as_deref();
    let check = |k: &SecretString| {
        input::check_pattern(k, pattern, hint, &provider.display_name).map_err(|_| {
            Error::usage(format!(
                "that does not look like {} {} {}{}; check you copied the whole token and try again",
                input::article(&provider.display_name),
                provider.display_name,
                spec.name,
                hint.map(|h| format!(" ({h})")).unwrap_or_default()
            ))
        })
    };
    // The token's own page, where it is created, is the docs link here.
    let provider = ProviderDef {
        docs_url: spec.docs_url.clone().or_else(|| provider.docs_url.clone()),
        ..provider.clone()
    };
    ask_credential(
        cx,
        ui,
        &provider,
        req,
        &Asked {
            what: &spec.name,
            field: "token",
            label: "Token",
            hint,
            check: &check,
        },
    )
}

/// A credential a person pastes: what it is called, the field it is stored in, the note that
/// helps find it, and the check it must pass.
struct Asked<'a> {
    what: &'a str,
    field: &'a str,
    label: &'a str,
    hint: Option<&'a str>,
    check: &'a dyn Fn(&SecretString) -> Result<()>,
}

/// Reads a pasted credential from standard input, the local form or the terminal, whichever the
/// request and the machine allow (see [`input::entry`]).
fn ask_credential(
    cx: &Context,
    ui: &dyn Ui,
    provider: &ProviderDef,
    req: &Request,
    asked: &Asked<'_>,
) -> Result<SecretString> {
    let conn = &req.connection;
    let display = &provider.display_name;
    let flag = if asked.field == API_KEY {
        "--stdin"
    } else {
        "--with-token"
    };
    let instead = format!(
        "pipe it in: printf '%s' \"$KEY\" | authsome login {} -c {conn} {flag}{}",
        provider.name,
        if flag == "--stdin" { "" } else { " --stdin" },
    );
    if req.source == Source::Stdin {
        return input::from_stdin(ui, asked.what, asked.check);
    }
    match input::entry(ui, req.open_browser, &instead)? {
        input::Entry::Form => {
            let validate = |v: &BTreeMap<String, SecretString>| match v.get(asked.field) {
                Some(k) => (asked.check)(k),
                None => Err(Error::usage("enter a key")),
            };
            let store = &cx.store_path;
            let values = input::collect_via_form(
                ui,
                &input::FormRequest {
                    title: display,
                    intro: format!(
                        "Paste {} {display} {} for the connection \u{201c}{conn}\u{201d}. It is encrypted with age before it is written to your authsome store ({}); only that ciphertext is kept, and it goes wherever the store is pushed.",
                        input::article(display),
                        asked.what,
                        store.display()
                    ),
                    fields: vec![input::Field {
                        name: asked.field,
                        label: asked.label,
                        secret: true,
                        required: true,
                        hint: asked.hint,
                        read_only: None,
                    }],
                    docs_url: provider.docs_url.as_deref(),
                    validate: &validate,
                    saved: format!(
                        "Your {display} {} is saved as the connection \u{201c}{conn}\u{201d} in {}.",
                        asked.what,
                        store.display()
                    ),
                },
            )?;
            match values {
                Some(mut values) => {
                    let key = values
                        .remove(asked.field)
                        .ok_or_else(|| Error::usage("no key was entered"))?;
                    (asked.check)(&key)?;
                    Ok(key)
                }
                None => prompt_credential(ui, provider, req, asked, &instead),
            }
        }
        input::Entry::Prompt => prompt_credential(ui, provider, req, asked, &instead),
    }
}

/// The terminal prompt for a pasted credential, with the hint and the docs link, as gh asks.
fn prompt_credential(
    ui: &dyn Ui,
    provider: &ProviderDef,
    req: &Request,
    asked: &Asked<'_>,
    instead: &str,
) -> Result<SecretString> {
    let display = &provider.display_name;
    let mut about = Vec::new();
    if let Some(h) = asked.hint {
        about.push(format!("{display} {}s: {h}", asked.what));
    }
    if let Some(u) = &provider.docs_url {
        about.push(format!("get one at {u}"));
    }
    if !about.is_empty() {
        ui.message(&about.join("; "));
    }
    input::prompt(
        ui,
        asked.what,
        &format!(
            "? Paste {} {display} {} for \u{201c}{}\u{201d} (input hidden): ",
            input::article(display),
            asked.what,
            req.connection
        ),
        true,
        instead,
        asked.check,
    )
}

/// Runs the OAuth2 flow: finds the client, gets the tokens and the account.
fn oauth_tokens(
    cx: &Context,
    ui: &dyn Ui,
    req: &Request,
    snap: &Snapshot<'_>,
    def: &ProviderDef,
    identity: Option<&Identity>,
) -> Result<Obtained> {
    let name = &def.name;
    let spec = def
        .oauth2
        .as_ref()
        .expect("validated: oauth2 providers have a spec");
    let flow = match req.flow {
        Some(Flow::ApiKey) => {
            return Err(Error::usage(format!(
                "{name} is an OAuth2 provider; choose an OAuth2 --flow (pkce, device_code, dcr_pkce, client_credentials)"
            )));
        }
        Some(f) => f,
        // Without a browser here, a callback to 127.0.0.1 needs port forwarding; the device
        // flow needs nothing, so it is used when the provider has it.
        None if matches!(def.flow, Flow::Pkce | Flow::DcrPkce)
            && !(req.open_browser && ui.can_open_browser())
            && spec.device_authorization_url.is_some() =>
        {
            ui.message(&format!(
                "No browser can be opened here, so {} is authorized with a code entered on another device (--flow pkce to use the page instead).",
                def.display_name
            ));
            Flow::DeviceCode
        }
        None => def.flow,
    };
    if flow == Flow::DeviceCode && spec.device_authorization_url.is_none() {
        return Err(Error::usage(format!(
            "{name} does not support the device flow; use --flow pkce"
        )));
    }
    let state = vault::provider_state(snap, &cx.vault, name)?;
    let base_url = req.base_url.clone().or_else(|| state.base_url.clone());
    let endpoints = Endpoints::resolve(name, spec, base_url.as_deref())?;
    let scopes = req.scopes.clone().unwrap_or_else(|| spec.scopes.clone());
    let http = oauth::http_client()?;
    // Bound first, so the redirect URI (and its port) is known before anything is sent.
    let server = match flow {
        Flow::Pkce | Flow::DcrPkce => Some(Server::bind(spec.redirect_port.unwrap_or(0))?),
        _ => None,
    };
    let redirect = flows::redirect_uri(spec.redirect_port.unwrap_or(0));
    let register_hint = format!(
        "register an OAuth app{} with the redirect URI {redirect}{}, then log in again with --client-id ID (and --client-secret-stdin if it has a secret)",
        def.docs_url
            .as_deref()
            .map(|u| format!(" ({u})"))
            .unwrap_or_default(),
        if spec.redirect_port.is_none() {
            " (any port)"
        } else {
            ""
        },
    );
    let fcx = FlowContext {
        provider: name,
        endpoints: &endpoints,
        http: &http,
        scopes: &scopes,
        scope_separator: spec.scope_separator.as_deref().unwrap_or(" "),
        register_hint: &register_hint,
        open_browser: req.open_browser,
        ui,
    };
    let meta = snap.meta()?;
    let client = choose_client(
        cx,
        req,
        snap,
        &meta.id,
        def,
        &state,
        flow,
        &fcx,
        server.as_ref(),
        identity,
    )?;
    let tokens = match flow {
        Flow::Pkce | Flow::DcrPkce => flows::authorization_code(
            &fcx,
            &client.client,
            server.as_ref().expect("bound above"),
            spec.pkce,
            &spec.authorize_params,
        )?,
        Flow::DeviceCode => flows::device_code(
            &fcx,
            &client.client,
            spec.device_token_request == DeviceTokenRequest::Json,
        )?,
        Flow::ClientCredentials => flows::client_credentials(&fcx, &client.client)?,
        Flow::ApiKey => unreachable!("refused above"),
    };
    let account = flows::account(&http, &endpoints, &tokens.access_token);
    Ok(Obtained::OAuth {
        tokens,
        account,
        client,
    })
}

/// Finds the OAuth client: `--client-id`, else the provider's stored client, else dynamic
/// registration (for dcr_pkce), else asks the user.
#[allow(clippy::too_many_arguments)]
fn choose_client(
    cx: &Context,
    req: &Request,
    snap: &Snapshot<'_>,
    store_id: &str,
    def: &ProviderDef,
    state: &ProviderState,
    flow: Flow,
    fcx: &FlowContext<'_>,
    server: Option<&Server>,
    identity: Option<&Identity>,
) -> Result<ClientChoice> {
    let auth = def
        .oauth2
        .as_ref()
        .map(|s| s.token_auth_method)
        .unwrap_or_default();
    let given_secret = if req.client_secret_stdin {
        Some(input::from_stdin(fcx.ui, "client secret", &|_| Ok(()))?)
    } else {
        None
    };
    let stored_id = state.client_id.clone();
    let id = req.client_id.clone().or_else(|| stored_id.clone());
    if let Some(id) = id {
        let same_client = stored_id.as_deref() == Some(id.as_str());
        let (secret, store_secret) = match given_secret {
            Some(s) => (Some(s), true),
            None if same_client => (
                stored_secret(snap, store_id, &cx.vault, &def.name, identity)?,
                false,
            ),
            None => (None, false),
        };
        return Ok(ClientChoice {
            client: OAuthClient { id, secret, auth },
            store_secret,
        });
    }
    if flow == Flow::DcrPkce {
        let port = server.map(Server::port).unwrap_or(0);
        let (id, secret) = flows::register(fcx, &flows::redirect_uri(port))?;
        let store_secret = secret.is_some();
        return Ok(ClientChoice {
            client: OAuthClient { id, secret, auth },
            store_secret,
        });
    }
    let (id, secret) = ask_client(req, def, flow, fcx)?;
    let secret = given_secret.or(secret);
    let store_secret = secret.is_some();
    Ok(ClientChoice {
        client: OAuthClient { id, secret, auth },
        store_secret,
    })
}

fn stored_secret(
    snap: &Snapshot<'_>,
    store_id: &str,
    vault_name: &str,
    provider: &str,
    identity: Option<&Identity>,
) -> Result<Option<SecretString>> {
    let path = layout::provider_secret(vault_name, provider, CLIENT_SECRET);
    let Some(bytes) = snap.read(&path)? else {
        return Ok(None);
    };
    let identity = identity.ok_or_else(|| Error::crypto("the stored OAuth client secret needs your identity to decrypt; run `authsome init` or pass --identity"))?;
    let place = VaultRef::new(store_id, vault_name).provider_secret(provider, CLIENT_SECRET);
    crate::crypto::envelope::open(&place, &path, &bytes, identity).map(Some)
}

/// Asks for the client id and optional secret, in the local form or at the terminal, whichever
/// the request and the machine allow.
fn ask_client(
    req: &Request,
    def: &ProviderDef,
    flow: Flow,
    fcx: &FlowContext<'_>,
) -> Result<(String, Option<SecretString>)> {
    let ui = fcx.ui;
    ui.message(&format!(
        "{} needs an OAuth client: {}",
        def.display_name, fcx.register_hint
    ));
    let instead = format!(
        "pass the client: authsome login {} --client-id ID (and --client-secret-stdin for its secret)",
        def.name
    );
    let spec = def.oauth2.as_ref();
    // Only the flows with a browser callback need a redirect URI registered.
    let uses_redirect = matches!(flow, Flow::Pkce | Flow::DcrPkce);
    if input::entry(ui, req.open_browser, &instead)? == input::Entry::Form {
        let redirect = flows::redirect_uri(spec.and_then(|s| s.redirect_port).unwrap_or(0));
        let validate = |_: &BTreeMap<String, SecretString>| Ok(());
        let mut fields = Vec::new();
        if uses_redirect {
            fields.push(input::Field {
                name: "redirect",
                label: "Redirect URI",
                secret: false,
                required: false,
                hint: Some("Any port on 127.0.0.1 is used."),
                read_only: Some(&redirect),
            });
        }
        fields.push(input::Field {
            name: "client_id",
            label: "Client ID",
            secret: false,
            required: true,
            hint: None,
            read_only: None,
        });
        fields.push(input::Field {
            name: "client_secret",
            label: "Client secret",
            secret: true,
            required: false,
            hint: Some("Leave empty for a public client."),
            read_only: None,
        });
        let values = input::collect_via_form(
            ui,
            &input::FormRequest {
                title: &def.display_name,
                intro: format!(
                    "authsome needs the OAuth app you registered at {}{}; the client secret is optional for public clients.",
                    def.display_name,
                    if uses_redirect {
                        ", with the redirect URI below"
                    } else {
                        ""
                    }
                ),
                fields,
                docs_url: def.docs_url.as_deref(),
                validate: &validate,
                saved: format!(
                    "The {} OAuth client is set; the login goes on in your terminal.",
                    def.display_name
                ),
            },
        )?;
        if let Some(mut values) = values {
            let id = values
                .remove("client_id")
                .ok_or_else(|| Error::usage("no client id was entered"))?;
            return Ok((
                id.expose_secret().to_owned(),
                values.remove("client_secret"),
            ));
        }
    }
    // The client id is not a secret: it is shown as it is typed.
    let id = input::prompt(
        ui,
        "client id",
        &format!("? {} OAuth client id: ", def.display_name),
        false,
        &instead,
        &|_| Ok(()),
    )?;
    let secret = match ui.ask(
        "? OAuth client secret (input hidden; empty if none): ",
        true,
    ) {
        Answer::Text(t) => (!t.trim().is_empty()).then(|| SecretString::from(t.trim().to_owned())),
        Answer::Cancelled => return Err(input::cancelled()),
        Answer::NoTerminal => {
            return Err(Error::usage(format!(
                "there is no terminal to ask at; {instead}"
            )));
        }
    };
    Ok((id.expose_secret().to_owned(), secret))
}
