//! OAuth2: endpoints, the HTTP client for token calls, and token responses.
//!
//! The protocol is implemented directly on a blocking HTTP client rather than through a
//! typestate OAuth2 library: providers differ in small ways (GitHub answers "pending" with
//! status 200, Postiz polls with JSON, Slack joins scopes with commas) that are simplest to
//! handle where the requests are made.

pub mod flows;

use std::time::Duration;

use age::secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::model::provider::{OAuth2Spec, TokenAuthMethod};
use crate::model::secret::SecretField;
use crate::model::time::Stamp;

/// The secret fields an OAuth2 connection stores.
pub const ACCESS_TOKEN: &str = SecretField::AccessToken.as_str();
/// See [`ACCESS_TOKEN`].
pub const REFRESH_TOKEN: &str = SecretField::RefreshToken.as_str();
/// The provider-level secret field of the OAuth client.
pub const CLIENT_SECRET: &str = SecretField::ClientSecret.as_str();

/// A provider's endpoints with `{base_url}` filled in and checked.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Authorization endpoint.
    pub authorization: url::Url,
    /// Token endpoint.
    pub token: url::Url,
    /// Revocation endpoint.
    pub revocation: Option<url::Url>,
    /// Device authorization endpoint.
    pub device: Option<url::Url>,
    /// Registration endpoint.
    pub registration: Option<url::Url>,
    /// Where the account is asked for.
    pub userinfo: Option<url::Url>,
}

impl Endpoints {
    /// Resolves the endpoints of `spec`, filling `{base_url}`.
    pub fn resolve(provider: &str, spec: &OAuth2Spec, base_url: Option<&str>) -> Result<Self> {
        let base = base_url.or(spec.base_url.as_deref());
        let one = |what: &str, template: &str| -> Result<url::Url> {
            let text = if template.contains("{base_url}") {
                let base = base.ok_or_else(|| {
                    Error::usage(format!(
                        "{provider}'s {what} needs a base URL; pass --base-url https://your.host"
                    ))
                })?;
                template.replace("{base_url}", base.trim_end_matches('/'))
            } else {
                template.to_owned()
            };
            checked_url(provider, what, &text)
        };
        let opt = |what: &str, t: &Option<String>| t.as_deref().map(|t| one(what, t)).transpose();
        Ok(Endpoints {
            authorization: one("authorization_url", &spec.authorization_url)?,
            token: one("token_url", &spec.token_url)?,
            revocation: opt("revocation_url", &spec.revocation_url)?,
            device: opt("device_authorization_url", &spec.device_authorization_url)?,
            registration: opt("registration_url", &spec.registration_url)?,
            userinfo: opt("userinfo_url", &spec.userinfo_url)?,
        })
    }
}

/// Parses an endpoint URL and insists on HTTPS, except for loopback hosts (local servers).
pub fn checked_url(provider: &str, what: &str, text: &str) -> Result<url::Url> {
    let url = url::Url::parse(text).map_err(|e| {
        Error::usage(format!(
            "{provider}'s {what} {text:?} is not a valid URL ({e}); fix the provider definition"
        ))
    })?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(Error::usage(format!(
            "{provider}'s {what} {text:?} is not HTTPS; tokens are only sent over HTTPS (or to a loopback test server)"
        ))),
    }
}

/// The OAuth client a provider's connections share.
pub struct OAuthClient {
    /// The client id.
    pub id: String,
    /// The client secret, for confidential clients.
    pub secret: Option<SecretString>,
    /// How the client authenticates at the token endpoint.
    pub auth: TokenAuthMethod,
}

/// Tokens from a token endpoint.
pub struct TokenSet {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, if one was issued.
    pub refresh_token: Option<SecretString>,
    /// The token type (`bearer`).
    pub token_type: Option<String>,
    /// Absolute expiry, when the server gave `expires_in`.
    pub expires_at: Option<Stamp>,
    /// Granted scopes, as the server returned them (else as requested).
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("token_type", &self.token_type)
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// The blocking HTTP client for OAuth2 calls: no redirects (a token endpoint that redirects is
/// refused, not followed), bounded time-outs.
pub fn http_client() -> Result<reqwest::blocking::Client> {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("authsome/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::internal(format!("could not set up the HTTP client: {e}")))
}

/// The `error` codes of RFC 6749 (section 5.2) and RFC 8628 (section 3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`
    InvalidClient,
    /// `invalid_grant`: the code or refresh token is invalid, expired or revoked.
    InvalidGrant,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `invalid_scope`
    InvalidScope,
    /// `access_denied`: the user said no.
    AccessDenied,
    /// `authorization_pending`: the device code is not approved yet.
    AuthorizationPending,
    /// `slow_down`: poll less often.
    SlowDown,
    /// `expired_token`: the device code expired.
    ExpiredToken,
    /// Any other code, as the server sent it.
    Other(String),
}

impl ErrorCode {
    /// Reads a code as the server sent it.
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => ErrorCode::InvalidRequest,
            "invalid_client" => ErrorCode::InvalidClient,
            "invalid_grant" => ErrorCode::InvalidGrant,
            "unauthorized_client" => ErrorCode::UnauthorizedClient,
            "unsupported_grant_type" => ErrorCode::UnsupportedGrantType,
            "invalid_scope" => ErrorCode::InvalidScope,
            "access_denied" => ErrorCode::AccessDenied,
            "authorization_pending" => ErrorCode::AuthorizationPending,
            "slow_down" => ErrorCode::SlowDown,
            "expired_token" => ErrorCode::ExpiredToken,
            other => ErrorCode::Other(other.to_owned()),
        }
    }

    /// The code as the protocol spells it.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::Other(code) => code,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answer from a token or device endpoint.
#[derive(Debug, Clone)]
pub struct OAuthError {
    /// The `error` code.
    pub code: ErrorCode,
    /// The `error_description`, when given.
    pub description: Option<String>,
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code)?;
        match &self.description {
            Some(d) => write!(f, ": {}", printable(d)),
            None => Ok(()),
        }
    }
}

impl std::error::Error for OAuthError {}

/// Posts a form to an OAuth2 endpoint with the client's authentication, and returns the JSON
/// answer, or the OAuth2 error it carries (whatever the status: GitHub sends errors with 200).
pub fn post_form(
    http: &reqwest::blocking::Client,
    url: &url::Url,
    client: &OAuthClient,
    params: &[(&str, &str)],
    json_body: bool,
) -> Result<std::result::Result<Value, OAuthError>> {
    let mut form: Vec<(&str, &str)> = params.to_vec();
    let request = http.post(url.clone()).header("Accept", "application/json");
    let mut request = authenticate(request, &mut form, client);
    request = if json_body {
        let map: serde_json::Map<String, Value> = form
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        request.json(&map)
    } else {
        request.form(&form)
    };
    tracing::debug!(endpoint = %endpoint_of(url), "POST to the provider");
    let response = request.send().map_err(|e| unreachable(url, &e))?;
    let status = response.status();
    tracing::debug!(endpoint = %endpoint_of(url), status = status.as_u16(), "the provider answered");
    if status.is_redirection() {
        return Err(Error::new(
            ErrorKind::Endpoint,
            format!(
                "{} answered with a redirect, which authsome does not follow for token calls; check the provider's URLs",
                host(url)
            ),
        ));
    }
    let body = read_body(response, url)?;
    // JSON as the RFC says; some providers still answer form-encoded (GitHub without Accept).
    let parsed: Option<Value> = serde_json::from_slice(&body).ok().or_else(|| {
        let pairs: serde_json::Map<String, Value> = url::form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        (pairs.contains_key("access_token") || pairs.contains_key("error"))
            .then_some(Value::Object(pairs))
    });
    if let Some(err) = parsed
        .as_ref()
        .and_then(|v| v.get("error"))
        .and_then(Value::as_str)
    {
        let description = parsed
            .as_ref()
            .and_then(|v| v.get("error_description"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        return Ok(Err(OAuthError {
            code: ErrorCode::parse(err),
            description,
        }));
    }
    if !status.is_success() {
        return Err(Error::new(
            ErrorKind::Endpoint,
            format!(
                "{} answered {status}; try again later, or check the provider's status page",
                host(url)
            ),
        ));
    }
    match parsed {
        Some(v @ Value::Object(_)) => Ok(Ok(v)),
        _ => Err(Error::new(
            ErrorKind::Endpoint,
            format!(
                "{} did not answer with JSON; check the provider's endpoints",
                host(url)
            ),
        )),
    }
}

/// The longest answer read from a provider endpoint.
pub const MAX_BODY: u64 = 1024 * 1024;

/// Reads a response body, refusing more than [`MAX_BODY`] (a hostile server cannot fill memory).
pub fn read_body(response: reqwest::blocking::Response, url: &url::Url) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut body = Vec::new();
    response
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|_| {
            Error::new(
                ErrorKind::Endpoint,
                format!("{} broke off its answer; try again", host(url)),
            )
        })?;
    if body.len() as u64 > MAX_BODY {
        return Err(Error::new(
            ErrorKind::Endpoint,
            format!(
                "{} sent an answer over 1 MiB; check the provider's URLs",
                host(url)
            ),
        ));
    }
    Ok(body)
}

/// Adds the client's authentication to a token-endpoint request: HTTP Basic (with the RFC 6749
/// §2.3.1 form encoding), or `client_id`/`client_secret` in the form.
pub fn authenticate<'a>(
    request: reqwest::blocking::RequestBuilder,
    form: &mut Vec<(&'a str, &'a str)>,
    client: &'a OAuthClient,
) -> reqwest::blocking::RequestBuilder {
    match (&client.secret, client.auth) {
        (Some(secret), TokenAuthMethod::ClientSecretBasic) => request.basic_auth(
            form_encode(&client.id),
            Some(form_encode(secret.expose_secret())),
        ),
        (Some(secret), TokenAuthMethod::ClientSecretPost) => {
            form.push(("client_id", &client.id));
            form.push(("client_secret", secret.expose_secret()));
            request
        }
        _ => {
            form.push(("client_id", &client.id));
            request
        }
    }
}

/// `application/x-www-form-urlencoded` encoding, which RFC 6749 §2.3.1 asks for in Basic auth.
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The error for an endpoint that could not be reached.
pub fn unreachable(url: &url::Url, e: &reqwest::Error) -> Error {
    let why = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "refused the connection or could not be reached".to_owned()
    } else {
        // The URL is named separately; the error's own text may repeat it with its query.
        let mut text = e.to_string();
        if let Some(u) = e.url() {
            text = text.replace(u.as_str(), "");
        }
        format!("failed ({})", text.trim())
    };
    Error::new(
        ErrorKind::Endpoint,
        format!("{} {why}; check your network and try again", host(url)),
    )
}

fn host(url: &url::Url) -> String {
    match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or("the server")),
        None => url.host_str().unwrap_or("the server").to_owned(),
    }
}

/// Turns a successful token response into a [`TokenSet`].
pub fn token_set(v: &Value, requested_scopes: &[String]) -> Result<TokenSet> {
    let access = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::new(ErrorKind::Endpoint, "the token endpoint answered without an access_token; check the provider definition"))?;
    let expires_in = match v.get("expires_in") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    // 0 is read as "no expiry" (some providers send it for long-lived tokens); a negative
    // value is a token that has already expired.
    let expires_at = expires_in.filter(|s| *s != 0).map(|s| {
        Stamp::from_second(Stamp::now().as_second() + s.clamp(-86_400, 10 * 365 * 86_400))
    });
    let scopes = match v.get("scope") {
        Some(Value::String(s)) => s
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => requested_scopes.to_vec(),
    };
    Ok(TokenSet {
        access_token: SecretString::from(access.to_owned()),
        refresh_token: v
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|s| SecretString::from(s.to_owned())),
        token_type: v
            .get("token_type")
            .and_then(Value::as_str)
            .map(str::to_owned),
        expires_at,
        scopes,
    })
}

/// Server-supplied text made safe to print: no control characters, at most 200 characters.
pub fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// A message for an OAuth2 error, with what to do about the common ones.
pub fn explain(provider: &str, e: &OAuthError, register_hint: &str) -> Error {
    let detail = e
        .description
        .as_deref()
        .map(|d| format!(" ({})", printable(d)))
        .unwrap_or_default();
    let error = match &e.code {
        ErrorCode::InvalidClient | ErrorCode::UnauthorizedClient => Error::new(
            ErrorKind::AuthFailed,
            format!("{provider} rejected the OAuth client{detail}; {register_hint}"),
        ),
        ErrorCode::AccessDenied => Error::new(
            ErrorKind::AuthFailed,
            format!(
                "the authorization was denied at {provider}{detail}; run the login again and approve it"
            ),
        ),
        ErrorCode::ExpiredToken => Error::new(
            ErrorKind::AuthFailed,
            format!("the code expired before it was approved{detail}; run the login again"),
        ),
        ErrorCode::InvalidGrant => Error::new(
            ErrorKind::CredentialMissing,
            format!("{provider} refused the grant{detail}; log in again with --force"),
        ),
        ErrorCode::InvalidScope => Error::new(
            ErrorKind::Usage,
            format!("{provider} refused the requested scopes{detail}; check --scopes"),
        ),
        other => Error::new(
            ErrorKind::AuthFailed,
            format!("{provider} answered {other}{detail}"),
        ),
    };
    error.with_source(e.clone())
}

/// An endpoint as logged: scheme, host and path, never the query (which can carry a code).
fn endpoint_of(url: &url::Url) -> String {
    format!("{}://{}{}", url.scheme(), host(url), url.path())
}
