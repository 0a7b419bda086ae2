//! Provider definitions: how to authenticate to a service and which hosts its credentials are for.
//!
//! The same type describes the bundled catalog (`src/providers/bundled/*.yaml`, compiled into the
//! binary) and custom providers committed to a store (`providers/<name>.yaml`). Its JSON Schema is
//! `schema/provider.schema.json`, kept in step with this type by a test.

use std::collections::BTreeMap;

use crate::model::secret::SecretField;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A provider definition, as written in YAML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderDef {
    /// Format version of this definition; always 1 for now.
    pub schema_version: u32,
    /// Machine name: lowercase letters, digits, `-` and `_`, starting with a letter or digit.
    pub name: String,
    /// Name shown to people.
    pub display_name: String,
    /// What kind of service this is.
    #[serde(default, rename = "type")]
    pub kind: ProviderKind,
    /// How credentials are obtained.
    pub auth_type: AuthType,
    /// The flow `login` runs when `--flow` is not given.
    pub flow: Flow,
    /// Where a user learns to create a key or an OAuth app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs_url: Option<String>,
    /// The hosts (and optional path prefixes) this provider's credentials are sent to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<HostRule>,
    /// How an API key is sent and checked (required when `auth_type` is `api_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<ApiKeySpec>,
    /// OAuth2 endpoints and behaviour (required when `auth_type` is `oauth2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2Spec>,
    /// A personal or bot token the provider's API also accepts in place of an OAuth2 access
    /// token (`login --with-token`); only for `oauth2` providers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_token: Option<PersonalTokenSpec>,
    /// Environment variables set by `export` (real values) and by `run` (placeholders), mapped to
    /// the connection field each one carries.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, EnvSource>,
}

/// The broad category of a provider, used for grouping in listings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// An application API (GitHub, Slack, Stripe ...).
    #[default]
    App,
    /// A large-language-model API.
    Llm,
    /// A remote MCP server.
    Mcp,
}

/// How a provider's credentials are obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthType {
    /// A long-lived key pasted by the user.
    ApiKey,
    /// Tokens obtained through an OAuth2 flow.
    Oauth2,
    /// A personal or bot token pasted for an OAuth2 provider (`login --with-token`); a
    /// connection's kind, never a provider's.
    PersonalToken,
}

/// A login flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Paste an API key.
    ApiKey,
    /// Authorization code with PKCE and a loopback callback.
    Pkce,
    /// Device authorization grant (RFC 8628).
    DeviceCode,
    /// Dynamic client registration (RFC 7591), then PKCE.
    DcrPkce,
    /// Client credentials grant.
    ClientCredentials,
}

/// One host a provider's credentials are for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostRule {
    /// A host name (`api.openai.com`), or a wildcard for its subdomains (`*.googleapis.com`).
    pub host: String,
    /// Only requests whose path starts with this prefix (`/gmail/v1`) match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// The port the API listens on; credentials go to no other port of the host. Default 443.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// A personal or bot token an OAuth2 provider's API accepts as it does an access token: stored
/// as the connection's access token, sent the same way, never refreshed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonalTokenSpec {
    /// What the provider calls it ("personal access token", "bot token").
    pub name: String,
    /// A regular expression the whole token must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pattern: Option<String>,
    /// What a valid token looks like, shown when one does not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pattern_hint: Option<String>,
    /// Where a user creates one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs_url: Option<String>,
    /// The text before the token in `Authorization` when it is not `Bearer` (empty sends the
    /// token alone, as Linear wants its personal API keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_prefix: Option<String>,
}

impl PersonalTokenSpec {
    /// The `Authorization` value that carries `token`.
    pub fn header_value(&self, token: &str) -> String {
        match self.header_prefix.as_deref().map(str::trim) {
            None => format!("Bearer {token}"),
            Some("") => token.to_owned(),
            Some(prefix) => format!("{prefix} {token}"),
        }
    }
}

/// How an API key is sent and validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySpec {
    /// The request header carrying the key.
    #[serde(default = "default_header_name")]
    pub header_name: String,
    /// Text put before the key, separated by one space (`Bearer`); empty sends the key alone.
    #[serde(default)]
    pub header_prefix: String,
    /// A regular expression the whole key must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pattern: Option<String>,
    /// What a valid key looks like, shown when a key does not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pattern_hint: Option<String>,
    /// Send the key by HTTP Basic authentication (`Authorization: Basic base64(user:password)`)
    /// instead of as the header's value; `header_prefix` must then be empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// The user name sent with `basic_auth: password` (default: empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_user: Option<String>,
}

/// Where the key goes in HTTP Basic authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BasicAuth {
    /// The key is the user name; the password is empty (`key:`).
    Username,
    /// The key is the password, after `basic_user` (`user:key`).
    Password,
}

impl ApiKeySpec {
    /// The header value that carries `key`, and the part of it that stands for the key (what an
    /// echo of the header would reveal).
    pub fn header_value(&self, key: &str) -> (String, String) {
        let (prefix, token) = match self.basic_auth {
            None => (self.header_prefix.trim(), key.to_owned()),
            Some(place) => {
                let basic = match place {
                    BasicAuth::Username => crate::basic_auth(key, ""),
                    BasicAuth::Password => {
                        crate::basic_auth(self.basic_user.as_deref().unwrap_or_default(), key)
                    }
                };
                ("Basic", basic.trim_start_matches("Basic ").to_owned())
            }
        };
        let value = match prefix {
            "" => token.clone(),
            prefix => format!("{prefix} {token}"),
        };
        (value, token)
    }
}

fn default_header_name() -> String {
    "Authorization".to_owned()
}

/// OAuth2 endpoints and options. URLs may contain `{base_url}`, filled from `--base-url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Spec {
    /// Authorization endpoint.
    pub authorization_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// RFC 7009 revocation endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_url: Option<String>,
    /// RFC 8628 device authorization endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_url: Option<String>,
    /// RFC 7591 registration endpoint, for dynamic client registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_url: Option<String>,
    /// Where to ask who the account is (GitHub's `/user`, OpenID Connect's userinfo), with the
    /// access token; `id`/`sub` and `login`/`preferred_username`/`email` are read from the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_url: Option<String>,
    /// Scopes requested when `--scopes` is not given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Separator between scopes in the request (most use a space; a few use a comma).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_separator: Option<String>,
    /// Whether PKCE (S256) is sent with authorization-code flows.
    #[serde(default = "default_true")]
    pub pkce: bool,
    /// Whether the provider supports the device authorization grant.
    #[serde(default)]
    pub supports_device_code: bool,
    /// Whether the provider supports dynamic client registration.
    #[serde(default)]
    pub supports_dcr: bool,
    /// Default for `{base_url}` (for example `https://github.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// How the client authenticates at the token endpoint.
    #[serde(default)]
    pub token_auth_method: TokenAuthMethod,
    /// Extra query parameters added to the authorization URL.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub authorize_params: BTreeMap<String, String>,
    /// A fixed loopback port for the callback, for providers that do not accept a random one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_port: Option<u16>,
    /// How the device token is polled.
    #[serde(default, skip_serializing_if = "is_default")]
    pub device_token_request: DeviceTokenRequest,
}

fn default_true() -> bool {
    true
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Client authentication at the token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethod {
    /// `client_id`/`client_secret` in the form body.
    #[default]
    ClientSecretPost,
    /// HTTP Basic authentication.
    ClientSecretBasic,
    /// Public client: `client_id` only.
    None,
}

/// Encoding of device-code token polls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceTokenRequest {
    /// Standard `application/x-www-form-urlencoded` (RFC 8628).
    #[default]
    Form,
    /// A JSON body holding the device code (Postiz).
    Json,
}

/// The connection field an environment variable carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnvSource {
    /// The API key.
    ApiKey,
    /// The OAuth2 access token.
    AccessToken,
    /// The OAuth2 refresh token (exported, never given to `run` children).
    RefreshToken,
    /// The provider's base URL.
    BaseUrl,
}

impl AuthType {
    /// The secret field that carries the credential of a connection of this kind.
    pub const fn credential_field(self) -> SecretField {
        match self {
            AuthType::ApiKey => SecretField::ApiKey,
            AuthType::Oauth2 | AuthType::PersonalToken => SecretField::AccessToken,
        }
    }
}

impl EnvSource {
    /// The connection field name this source reads.
    pub fn field(self) -> &'static str {
        match self {
            EnvSource::ApiKey => SecretField::ApiKey.as_str(),
            EnvSource::AccessToken => SecretField::AccessToken.as_str(),
            EnvSource::RefreshToken => SecretField::RefreshToken.as_str(),
            EnvSource::BaseUrl => "base_url",
        }
    }
}

impl ProviderDef {
    /// The variables a connection of this provider fills: the provider's `env` map (never its
    /// refresh token), else `<PROVIDER>_API_KEY` / `<PROVIDER>_ACCESS_TOKEN` for those of
    /// `fields` it has. `export` fills them with values, `run` with placeholders.
    pub fn env_mapping<'f>(
        &self,
        fields: impl IntoIterator<Item = &'f str>,
    ) -> Vec<(String, EnvSource)> {
        let declared: Vec<(String, EnvSource)> = self
            .env
            .iter()
            .filter(|(_, s)| !matches!(s, EnvSource::RefreshToken))
            .map(|(k, s)| (k.clone(), *s))
            .collect();
        if !declared.is_empty() {
            return declared;
        }
        let prefix = env_word(&self.name);
        fields
            .into_iter()
            .filter_map(|field| {
                let source = if field == SecretField::ApiKey.as_str() {
                    EnvSource::ApiKey
                } else if field == SecretField::AccessToken.as_str() {
                    EnvSource::AccessToken
                } else {
                    return None;
                };
                Some((format!("{prefix}_{}", field.to_uppercase()), source))
            })
            .collect()
    }
}

/// A provider name as part of an environment variable name: upper case, `_` for `-`, and never
/// starting with a digit (a shell would run `0X_API_KEY=...` as a command and print it).
pub fn env_word(name: &str) -> String {
    let word = name.to_uppercase().replace('-', "_");
    if word.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{word}")
    } else {
        word
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(prefix: &str, basic: Option<BasicAuth>, user: Option<&str>) -> ApiKeySpec {
        ApiKeySpec {
            header_name: "Authorization".into(),
            header_prefix: prefix.into(),
            key_pattern: None,
            key_pattern_hint: None,
            basic_auth: basic,
            basic_user: user.map(str::to_owned),
        }
    }

    #[test]
    fn personal_token_header_values() {
        let spec = |prefix: Option<&str>| PersonalTokenSpec {
            name: "token".into(),
            key_pattern: None,
            key_pattern_hint: None,
            docs_url: None,
            header_prefix: prefix.map(str::to_owned),
        };
        assert_eq!(spec(None).header_value("t"), "Bearer t");
        assert_eq!(spec(Some("")).header_value("t"), "t");
        assert_eq!(spec(Some("token")).header_value("t"), "token t");
    }

    #[test]
    fn header_values() {
        let (v, t) = spec("Bearer", None, None).header_value("sk-1");
        assert_eq!((v.as_str(), t.as_str()), ("Bearer sk-1", "sk-1"));
        let (v, t) = spec("", None, None).header_value("sk-1");
        assert_eq!((v.as_str(), t.as_str()), ("sk-1", "sk-1"));
        // base64("key:") and base64("anystring:key")
        let (v, t) = spec("", Some(BasicAuth::Username), None).header_value("key");
        assert_eq!((v.as_str(), t.as_str()), ("Basic a2V5Og==", "a2V5Og=="));
        let (v, _) = spec("", Some(BasicAuth::Password), Some("anystring")).header_value("key");
        assert_eq!(v, "Basic YW55c3RyaW5nOmtleQ==");
        let (v, _) = spec("", Some(BasicAuth::Password), None).header_value("key");
        assert_eq!(v, "Basic OmtleQ==");
    }
}
