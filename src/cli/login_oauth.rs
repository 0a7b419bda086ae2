//! `authsome login` for OAuth2 providers: get the client, run the flow, store the tokens.

use std::collections::BTreeMap;

use age::secrecy::SecretString;
use serde_json::json;

use super::{Context, LoginArgs, Output};
use authsome::crypto::envelope::Place;
use authsome::error::{Error, Result};
use authsome::input;
use authsome::loopback::Server;
use authsome::model::provider::{AuthType, Flow, ProviderDef};
use authsome::model::state::{ConnectionRecord, ProviderState};
use authsome::oauth::flows::{self, FlowContext};
use authsome::oauth::{self, ACCESS_TOKEN, CLIENT_SECRET, Endpoints, OAuthClient, REFRESH_TOKEN};
use authsome::store::{Outcome, Snapshot, Store};
use authsome::vault::{self, paths};

/// Where the client came from, which decides what is stored.
struct ClientChoice {
    client: OAuthClient,
    /// Store the secret (it is new or changed).
    store_secret: bool,
}

pub fn run(
    ctx: &Context,
    out: &Output,
    args: &LoginArgs,
    store: &Store,
    snap: &Snapshot<'_>,
    def: &ProviderDef,
) -> Result<()> {
    let name = &def.name;
    let conn = &args.connection;
    let spec = def
        .oauth2
        .as_ref()
        .expect("validated: oauth2 providers have a spec");
    let flow = match args.flow.map(Flow::from) {
        Some(Flow::ApiKey) => {
            return Err(Error::usage(format!(
                "{name} is an OAuth2 provider; choose an OAuth2 --flow (pkce, device_code, dcr_pkce, client_credentials)"
            )));
        }
        Some(f) => f,
        None => def.flow,
    };
    if flow == Flow::DeviceCode && spec.device_authorization_url.is_none() {
        return Err(Error::usage(format!(
            "{name} does not support the device flow; use --flow pkce"
        )));
    }
    let state = vault::provider_state(snap, &ctx.vault, name)?;
    let base_url = args.base_url.clone().or_else(|| state.base_url.clone());
    let endpoints = Endpoints::resolve(name, spec, base_url.as_deref())?;
    let scopes: Vec<String> = match &args.scopes {
        Some(s) => s
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        None => spec.scopes.clone(),
    };
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
    let cx = FlowContext {
        provider: name,
        endpoints: &endpoints,
        http: &http,
        scopes: &scopes,
        scope_separator: spec.scope_separator.as_deref().unwrap_or(" "),
        register_hint: &register_hint,
        open_browser: !args.no_browser,
    };

    let meta = store.meta(snap)?;
    let identity = ctx.identity().ok();
    let choice = choose_client(
        ctx,
        args,
        snap,
        &meta.id,
        def,
        &state,
        flow,
        &cx,
        server.as_ref(),
        identity.as_ref(),
    )?;
    let tokens = match flow {
        Flow::Pkce | Flow::DcrPkce => flows::authorization_code(
            &cx,
            &choice.client,
            server.as_ref().expect("bound above"),
            spec.pkce,
            &spec.authorize_params,
        )?,
        Flow::DeviceCode => flows::device_code(
            &cx,
            &choice.client,
            spec.device_token_request == authsome::model::provider::DeviceTokenRequest::Json,
        )?,
        Flow::ClientCredentials => flows::client_credentials(&cx, &choice.client)?,
        Flow::ApiKey => unreachable!("refused above"),
    };
    let account = flows::account(&http, &endpoints, &tokens.access_token);

    let outcome = store.transact(|txn| {
        let meta = store.meta(txn.base())?;
        let recipients = vault::load_recipients(txn, &ctx.vault)?;
        let now = vault::now();
        let previous = vault::record(txn, &ctx.vault, name, conn)?;
        if previous.is_some() && !args.force {
            return Ok(None);
        }
        txn.delete_dir(&paths::connection(&ctx.vault, name, conn))?;
        let place = |field: &str, connection: Option<&str>| Place {
            store: meta.id.clone(),
            vault: ctx.vault.clone(),
            provider: name.clone(),
            connection: connection.map(str::to_owned),
            field: field.to_owned(),
        };
        let mut record = ConnectionRecord {
            expires_at: tokens.expires_at.clone(),
            scopes: tokens.scopes.clone(),
            token_type: tokens.token_type.clone(),
            account: account.clone(),
            ..ConnectionRecord::new(AuthType::Oauth2, previous.as_ref(), &now)
        };
        for (field, value) in [
            (ACCESS_TOKEN, Some(&tokens.access_token)),
            (REFRESH_TOKEN, tokens.refresh_token.as_ref()),
        ] {
            if let Some(value) = value {
                let prev = previous.as_ref().and_then(|p| p.secrets.get(field));
                let info = vault::put_secret(
                    txn,
                    &place(field, Some(conn)),
                    value,
                    &recipients,
                    prev,
                    identity.as_ref(),
                    &now,
                )?;
                record.secrets.insert(field.to_owned(), info);
            }
        }
        vault::write_yaml(txn, paths::record(&ctx.vault, name, conn), &record)?;

        let mut state: ProviderState = vault::provider_state(txn, &ctx.vault, name)?;
        let client_changed = state.client_id.as_deref() != Some(choice.client.id.as_str());
        state.client_id = Some(choice.client.id.clone());
        if args.base_url.is_some() {
            state.base_url = args.base_url.clone();
        }
        let secret_path = paths::provider_secret(&ctx.vault, name, CLIENT_SECRET);
        match (&choice.client.secret, choice.store_secret) {
            (Some(secret), true) => {
                vault::put_secret(
                    txn,
                    &place(CLIENT_SECRET, None),
                    secret,
                    &recipients,
                    None,
                    None,
                    &now,
                )?;
            }
            (None, _) if client_changed => txn.delete(secret_path),
            _ => {}
        }
        if state.default.is_none() || args.force {
            state.default = Some(conn.clone());
        }
        vault::write_provider_state(txn, &ctx.vault, name, &state)?;
        txn.set_message(format!("login {name}/{conn}"));
        Ok(Some(state.default.as_deref() == Some(conn.as_str())))
    })?;
    let Some(is_default) = *outcome.value() else {
        return super::login::already_connected(out, name, conn);
    };
    let who = account
        .as_ref()
        .and_then(|a| a.login.clone().or(a.id.clone()));
    if out.json {
        out.json(&json!({
            "status": if matches!(outcome, Outcome::Committed { .. }) { "success" } else { "unchanged" },
            "provider": name,
            "connection": conn,
            "default": is_default,
            "record_status": "connected",
            "account": who,
            "scopes": tokens.scopes,
            "expires_at": tokens.expires_at,
            "commit": outcome.commit().map(|c| c.to_string()),
        }));
    } else {
        let suffix = if is_default { " (default)" } else { "" };
        let who = who.map(|w| format!(" as {w}")).unwrap_or_default();
        out.info(&format!(
            "Logged in to {} ({conn}{suffix}){who}",
            def.display_name
        ));
    }
    Ok(())
}

/// Finds the OAuth client: `--client-id`, else the provider's stored client, else dynamic
/// registration (for dcr_pkce), else asks the user.
#[allow(clippy::too_many_arguments)]
fn choose_client(
    ctx: &Context,
    args: &LoginArgs,
    snap: &Snapshot<'_>,
    store_id: &str,
    def: &ProviderDef,
    state: &ProviderState,
    flow: Flow,
    cx: &FlowContext<'_>,
    server: Option<&Server>,
    identity: Option<&authsome::crypto::identity::Identity>,
) -> Result<ClientChoice> {
    let auth = def
        .oauth2
        .as_ref()
        .map(|s| s.token_auth_method)
        .unwrap_or_default();
    let given_secret = if args.client_secret_stdin {
        Some(input::from_stdin("client secret")?)
    } else {
        None
    };
    let stored_id = state.client_id.clone();
    let id = match (&args.client_id, &stored_id) {
        (Some(id), _) => Some(id.clone()),
        (None, Some(id)) => Some(id.clone()),
        (None, None) => None,
    };
    if let Some(id) = id {
        let same_client = stored_id.as_deref() == Some(id.as_str());
        let (secret, store_secret) = match given_secret {
            Some(s) => (Some(s), true),
            None if same_client => (
                stored_secret(snap, store_id, &ctx.vault, &def.name, identity)?,
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
        let (id, secret) = flows::register(cx, &flows::redirect_uri(port))?;
        let store_secret = secret.is_some();
        return Ok(ClientChoice {
            client: OAuthClient { id, secret, auth },
            store_secret,
        });
    }
    let (id, secret) = ask_client(args, def, cx)?;
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
    identity: Option<&authsome::crypto::identity::Identity>,
) -> Result<Option<SecretString>> {
    let path = paths::provider_secret(vault_name, provider, CLIENT_SECRET);
    let Some(bytes) = snap.read(&path)? else {
        return Ok(None);
    };
    let identity = identity.ok_or_else(|| Error::crypto("the stored OAuth client secret needs your identity to decrypt; run `authsome init` or pass --identity"))?;
    let place = Place {
        store: store_id.to_owned(),
        vault: vault_name.to_owned(),
        provider: provider.to_owned(),
        connection: None,
        field: CLIENT_SECRET.to_owned(),
    };
    authsome::crypto::envelope::open(&place, &path, &bytes, identity).map(Some)
}

/// Asks for the client id and optional secret, in the local form or at the terminal.
fn ask_client(
    args: &LoginArgs,
    def: &ProviderDef,
    cx: &FlowContext<'_>,
) -> Result<(String, Option<SecretString>)> {
    use age::secrecy::ExposeSecret;
    eprintln!(
        "{} needs an OAuth client: {}",
        def.display_name, cx.register_hint
    );
    if args.no_browser {
        let id = input::from_prompt("client id", "OAuth client id")?;
        let secret = rpassword::prompt_password("OAuth client secret (empty if none): ")
            .map_err(|_| Error::usage("there is no terminal to ask for the client secret; pass --client-id and --client-secret-stdin"))?;
        let secret = zeroize::Zeroizing::new(secret);
        let secret =
            (!secret.trim().is_empty()).then(|| SecretString::from(secret.trim().to_owned()));
        return Ok((id.expose_secret().to_owned(), secret));
    }
    let redirect = flows::redirect_uri(
        def.oauth2
            .as_ref()
            .and_then(|s| s.redirect_port)
            .unwrap_or(0),
    );
    let validate = |_: &BTreeMap<String, SecretString>| Ok(());
    let mut values = input::collect_via_form(&input::FormRequest {
        title: &def.display_name,
        intro: format!(
            "authsome needs the OAuth app you registered at {}. Its redirect URI must be the one below; the client secret is optional for public clients.",
            def.display_name
        ),
        fields: vec![
            input::Field {
                name: "redirect",
                label: "Redirect URI",
                secret: false,
                required: false,
                hint: Some("Any port on 127.0.0.1 is used."),
                read_only: Some(&redirect),
            },
            input::Field {
                name: "client_id",
                label: "Client ID",
                secret: false,
                required: true,
                hint: None,
                read_only: None,
            },
            input::Field {
                name: "client_secret",
                label: "Client secret",
                secret: true,
                required: false,
                hint: None,
                read_only: None,
            },
        ],
        docs_url: def.docs_url.as_deref(),
        validate: &validate,
        open_browser: cx.open_browser,
    })?;
    let id = values
        .remove("client_id")
        .ok_or_else(|| Error::usage("no client id was entered"))?;
    Ok((
        id.expose_secret().to_owned(),
        values.remove("client_secret"),
    ))
}
