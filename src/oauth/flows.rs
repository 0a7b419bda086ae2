//! The OAuth2 flows: authorization code with PKCE and a loopback callback, device
//! authorization (RFC 8628), client credentials, dynamic client registration (RFC 7591),
//! revocation (RFC 7009), and asking who the account is.

use std::time::{Duration, Instant};

use age::secrecy::{ExposeSecret, SecretString};
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    Endpoints, ErrorCode, OAuthClient, TokenSet, explain, post_form, token_set, unreachable,
};
use crate::error::{Error, ErrorKind, Result};
use crate::loopback::{Response, Server};
use crate::model::state::Account;
use crate::ui::Ui;

/// How long a user has to finish a browser step.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

/// What every flow needs to know.
pub struct FlowContext<'a> {
    /// The provider name, for messages.
    pub provider: &'a str,
    /// Resolved endpoints.
    pub endpoints: &'a Endpoints,
    /// The HTTP client.
    pub http: &'a reqwest::blocking::Client,
    /// Scopes to request.
    pub scopes: &'a [String],
    /// How scopes are joined (space unless the provider says otherwise).
    pub scope_separator: &'a str,
    /// Where to register an app, said when a client is refused.
    pub register_hint: &'a str,
    /// Whether to try to open a browser.
    pub open_browser: bool,
    /// The user, for what to open and what is awaited.
    pub ui: &'a dyn Ui,
}

impl FlowContext<'_> {
    fn scope(&self) -> String {
        self.scopes.join(self.scope_separator)
    }
}

/// The redirect URI a provider's OAuth app must allow for `port` (0 for "any port").
pub fn redirect_uri(port: u16) -> String {
    if port == 0 {
        "http://127.0.0.1/callback".to_owned()
    } else {
        format!("http://127.0.0.1:{port}/callback")
    }
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce_pair() -> (SecretString, String) {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the operating system's random generator works");
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (SecretString::from(verifier), challenge)
}

/// Authorization code with PKCE: opens the authorization page, waits for the loopback callback,
/// checks `state`, and exchanges the code.
pub fn authorization_code(
    cx: &FlowContext<'_>,
    client: &OAuthClient,
    server: &Server,
    pkce: bool,
    extra: &std::collections::BTreeMap<String, String>,
) -> Result<TokenSet> {
    let redirect = redirect_uri(server.port());
    let state = crate::random_hex(16);
    let (verifier, challenge) = pkce_pair();
    let mut url = cx.endpoints.authorization.clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &client.id)
            .append_pair("redirect_uri", &redirect)
            .append_pair("state", &state);
        if !cx.scopes.is_empty() {
            q.append_pair("scope", &cx.scope());
        }
        if pkce {
            q.append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256");
        }
        for (k, v) in extra {
            q.append_pair(k, v);
        }
    }
    let browser = cx.open_browser && cx.ui.can_open_browser();
    let port = server.port();
    cx.ui.message(&if browser {
        format!("Opening the page to authorize {} in your browser; if it does not open, open this URL:\n  {url}", cx.provider)
    } else {
        format!(
            "Open this page to authorize {}:\n  {url}\nThe page sends your browser back to 127.0.0.1:{port} on this machine; from another machine, forward that port first (ssh -L {port}:127.0.0.1:{port} THIS-HOST).",
            cx.provider
        )
    });
    cx.ui.awaiting(&crate::ui::Awaiting::Page {
        url: url.to_string(),
        expires_at: expiry(BROWSER_TIMEOUT.as_secs()),
    });
    let launch = if browser {
        cx.ui.open_url(url.as_str())
    } else {
        crate::ui::Launch::unwatched()
    };
    let poll = |left: u64| {
        cx.ui.waiting("the authorization in the browser", left);
        if let Some(reason) = launch.failure() {
            cx.ui.warn(&format!(
                "could not open a browser ({reason}); open the URL above"
            ));
        }
        None
    };
    let outcome = server.serve_polling(BROWSER_TIMEOUT, "the authorization callback", poll, |req| {
        if req.path != "/callback" {
            return (Response::error("404 Not Found", "Not found."), None);
        }
        if req.query("state").as_deref() != Some(state.as_str()) {
            // A callback we did not ask for: stop rather than risk a forged login.
            return (
                Response::error("400 Bad Request", "This authorization does not match the one authsome started; it was refused."),
                Some(Err(Error::new(
                    ErrorKind::AuthFailed,
                    "the authorization callback carried the wrong state, so it was refused and nothing was saved; run the login again",
                ))),
            );
        }
        if let Some(code) = req.query("error") {
            let e = super::OAuthError { code: ErrorCode::parse(&code), description: req.query("error_description") };
            return (
                Response::error("400 Bad Request", "The authorization did not complete; see the terminal."),
                Some(Err(explain(cx.provider, &e, cx.register_hint))),
            );
        }
        match req.query("code") {
            Some(code) => (Response::ok(done_page(cx.provider)), Some(Ok(SecretString::from(code)))),
            None => (Response::error("400 Bad Request", "The callback had no code."), None),
        }
    });
    cx.ui.waited(outcome.is_ok());
    let outcome = outcome?;
    let code = outcome?;
    let mut params = vec![
        ("grant_type", "authorization_code"),
        ("code", code.expose_secret()),
        ("redirect_uri", redirect.as_str()),
    ];
    if pkce {
        params.push(("code_verifier", verifier.expose_secret()));
    }
    match post_form(cx.http, &cx.endpoints.token, client, &params, false)? {
        Ok(v) => token_set(&v, cx.scopes),
        Err(e) => Err(explain(cx.provider, &e, cx.register_hint)),
    }
}

/// The page the browser lands on after the callback.
fn done_page(provider: &str) -> String {
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>authsome: authorized</title>{}</head><body><main>\
<h1 class=ok>&#10003; Authorized</h1><p>authsome received the authorization for {}; the login finishes in your terminal.</p><p>Return to your terminal. You can close this tab.</p></main></body></html>",
        crate::loopback::PAGE_STYLE,
        crate::loopback::escape(provider)
    )
}

/// Device authorization (RFC 8628): shows a code, then polls until it is approved.
pub fn device_code(
    cx: &FlowContext<'_>,
    client: &OAuthClient,
    json_poll: bool,
) -> Result<TokenSet> {
    let device_url = cx.endpoints.device.as_ref().ok_or_else(|| {
        Error::usage(format!(
            "{} has no device authorization endpoint; use another --flow",
            cx.provider
        ))
    })?;
    let scope = cx.scope();
    let mut params = Vec::new();
    if !scope.is_empty() {
        params.push(("scope", scope.as_str()));
    }
    let start = match post_form(cx.http, device_url, client, &params, false)? {
        Ok(v) => v,
        Err(e) => return Err(explain(cx.provider, &e, cx.register_hint)),
    };
    let text = |k: &str| start.get(k).and_then(Value::as_str).map(str::to_owned);
    let num = |k: &str| match start.get(k) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let device_code = SecretString::from(text("device_code").ok_or_else(|| {
        Error::new(
            ErrorKind::Endpoint,
            format!(
                "{} answered the device request without a device_code",
                cx.provider
            ),
        )
    })?);
    let user_code = text("user_code").unwrap_or_default();
    // Google says verification_url; the RFC says verification_uri.
    let verify = text("verification_uri")
        .or_else(|| text("verification_url"))
        .unwrap_or_default();
    let complete = text("verification_uri_complete");
    // A server's interval and lifetime are bounded so a wrong value cannot hang the login.
    let mut interval = Duration::from_secs(num("interval").unwrap_or(5).clamp(1, 60));
    // Never longer than 15 minutes: a login left waiting (`--no-wait`) must end by itself.
    let lifetime = num("expires_in").filter(|s| *s > 0).unwrap_or(900).min(900);
    let deadline = Instant::now() + Duration::from_secs(lifetime);
    cx.ui.awaiting(&crate::ui::Awaiting::Device {
        verification_uri: verify.clone(),
        verification_uri_complete: complete.clone(),
        user_code: user_code.clone(),
        expires_at: expiry(lifetime),
    });

    cx.ui.message(&format!(
        "To authorize {}, open {verify} and enter the code\n\n    {user_code}\n\n(the code expires in {} minutes)",
        cx.provider,
        lifetime.div_ceil(60)
    ));
    let page = complete.as_deref().unwrap_or(&verify);
    // Only a well-formed https (or loopback) URL goes to the browser.
    if cx.open_browser
        && cx.ui.can_open_browser()
        && super::checked_url(cx.provider, "verification_uri", page).is_ok()
    {
        // As gh does: the code is read first, then the page opened when the user is ready.
        if cx.ui.can_ask() {
            match cx
                .ui
                .ask("Press Enter to open the page in your browser... ", false)
            {
                crate::ui::Answer::Cancelled => return Err(crate::input::cancelled()),
                crate::ui::Answer::Text(_) | crate::ui::Answer::NoTerminal => {}
            }
        }
        let launch = cx.ui.open_url(page);
        if let Some(reason) = launch.failure() {
            cx.ui.warn(&format!(
                "could not open a browser ({reason}); open the page above"
            ));
        }
    }
    loop {
        cx.ui.waiting(
            "approval of the code",
            deadline.saturating_duration_since(Instant::now()).as_secs(),
        );
        if Instant::now() >= deadline {
            cx.ui.waited(false);
            return Err(Error::new(
                ErrorKind::AuthFailed,
                "the device code expired before it was approved; run the login again",
            ));
        }
        // The RFC asks clients to wait `interval` between polls, the first one included.
        std::thread::sleep(interval.min(deadline.saturating_duration_since(Instant::now())));
        let grant = "urn:ietf:params:oauth:grant-type:device_code";
        let params = [
            ("grant_type", grant),
            ("device_code", device_code.expose_secret()),
        ];
        match post_form(cx.http, &cx.endpoints.token, client, &params, json_poll)? {
            Ok(v) => {
                cx.ui.waited(true);
                return token_set(&v, cx.scopes);
            }
            Err(e) if e.code == ErrorCode::AuthorizationPending => {}
            Err(e) if e.code == ErrorCode::SlowDown => {
                interval = (interval + Duration::from_secs(5)).min(Duration::from_secs(60))
            }
            Err(e) => return Err(explain(cx.provider, &e, cx.register_hint)),
        }
    }
}

/// Client credentials: tokens for the client itself.
pub fn client_credentials(cx: &FlowContext<'_>, client: &OAuthClient) -> Result<TokenSet> {
    let scope = cx.scope();
    let mut params = vec![("grant_type", "client_credentials")];
    if !scope.is_empty() {
        params.push(("scope", scope.as_str()));
    }
    match post_form(cx.http, &cx.endpoints.token, client, &params, false)? {
        Ok(v) => token_set(&v, cx.scopes),
        Err(e) => Err(explain(cx.provider, &e, cx.register_hint)),
    }
}

/// Refreshes tokens with a refresh token.
pub fn refresh(
    http: &reqwest::blocking::Client,
    endpoints: &Endpoints,
    client: &OAuthClient,
    refresh_token: &SecretString,
    scopes: &[String],
) -> Result<std::result::Result<TokenSet, super::OAuthError>> {
    let params = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose_secret()),
    ];
    Ok(
        match post_form(http, &endpoints.token, client, &params, false)? {
            Ok(v) => Ok(token_set(&v, scopes)?),
            Err(e) => Err(e),
        },
    )
}

/// Registers a public client (RFC 7591) for the loopback redirect, returning its id and secret.
pub fn register(cx: &FlowContext<'_>, redirect: &str) -> Result<(String, Option<SecretString>)> {
    let url = cx.endpoints.registration.as_ref().ok_or_else(|| {
        Error::usage(format!("{} has no registration endpoint for dynamic client registration; use --flow pkce with your own client", cx.provider))
    })?;
    let body = serde_json::json!({
        "client_name": "authsome",
        "redirect_uris": [redirect],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
    });
    let response = cx
        .http
        .post(url.clone())
        .header("Accept", "application/json")
        .json(&body)
        .send()
        .map_err(|e| unreachable(url, &e))?;
    let status = response.status();
    let v: Value = serde_json::from_slice(&super::read_body(response, url)?).map_err(|_| {
        Error::new(ErrorKind::Endpoint, format!("{}'s registration endpoint did not answer with JSON ({status}); check registration_url", cx.provider))
    })?;
    let id = v
        .get("client_id")
        .and_then(Value::as_str)
        .filter(|_| status.is_success());
    match id {
        Some(id) => Ok((
            id.to_owned(),
            v.get("client_secret")
                .and_then(Value::as_str)
                .map(|s| SecretString::from(s.to_owned())),
        )),
        None => Err(Error::new(
            ErrorKind::AuthFailed,
            format!(
                "{} refused to register a client ({status}{}); register one yourself and pass --client-id",
                cx.provider,
                v.get("error_description")
                    .and_then(Value::as_str)
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ),
        )),
    }
}

/// Revokes one token (RFC 7009). The answer is `Ok(())` when the server accepted it.
pub fn revoke(
    http: &reqwest::blocking::Client,
    url: &url::Url,
    client: &OAuthClient,
    token: &SecretString,
    hint: &str,
) -> Result<()> {
    let params = [("token", token.expose_secret()), ("token_type_hint", hint)];
    let mut form: Vec<(&str, &str)> = params.to_vec();
    let request = super::authenticate(http.post(url.clone()), &mut form, client);
    let response = request
        .form(&form)
        .send()
        .map_err(|e| unreachable(url, &e))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Endpoint,
            format!("the revocation endpoint answered {}", response.status()),
        ))
    }
}

/// Asks who the account is; `None` when the provider has no way to ask or the call fails.
pub fn account(
    http: &reqwest::blocking::Client,
    endpoints: &Endpoints,
    token: &SecretString,
) -> Option<Account> {
    let url = endpoints.userinfo.as_ref()?;
    let response = http
        .get(url.clone())
        .bearer_auth(token.expose_secret())
        .header("Accept", "application/json")
        .send()
        .ok()
        .filter(|r| r.status().is_success())?;
    let v: Value = serde_json::from_slice(&super::read_body(response, url).ok()?).ok()?;
    let field = |names: &[&str]| {
        names.iter().find_map(|n| match v.get(*n) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    };
    let account = Account {
        id: field(&["id", "sub"]),
        login: field(&["login", "preferred_username", "email", "username", "name"]),
    };
    (account.id.is_some() || account.login.is_some()).then_some(account)
}

/// `seconds` from now, as RFC 3339.
fn expiry(seconds: u64) -> String {
    crate::model::time::Stamp::in_seconds(seconds).to_string()
}
