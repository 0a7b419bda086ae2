//! The store's non-secret state files: `store.yaml`, principals, vaults, provider state and
//! connection records.

use std::collections::BTreeMap;

use schemars::JsonSchema;

use crate::model::time::Stamp;
use serde::{Deserialize, Serialize};

/// The current format version of the store.
pub const STORE_FORMAT: u32 = 1;

/// `store.yaml`: identifies a store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreMeta {
    /// Format version of the store layout.
    pub format: u32,
    /// Random identifier, bound into every secret so secrets cannot be moved between stores.
    pub id: String,
}

/// `principals/<name>.yaml`: a holder of one or more age recipients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Principal {
    /// Age recipients (`age1...`) or SSH public keys (`ssh-ed25519 ...`).
    pub recipients: Vec<String>,
}

/// `vaults/<vault>/vault.yaml`: who may decrypt a vault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VaultMeta {
    /// Names of the principals whose recipients every secret in this vault is encrypted to.
    pub principals: Vec<String>,
}

/// `vaults/<vault>/<provider>/provider.yaml`: a provider's state in a vault.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderState {
    /// The connection used when none is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// OAuth2 client id, configured once per provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `{base_url}` for this provider, when it is not the definition's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

/// Whether a connection can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Usable.
    Connected,
    /// The access token expired and could not be refreshed.
    Expired,
    /// The last refresh failed.
    RefreshFailed,
    /// Revoked at the provider.
    Revoked,
}

impl ConnectionStatus {
    /// The lowercase name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Connected => "connected",
            ConnectionStatus::Expired => "expired",
            ConnectionStatus::RefreshFailed => "refresh_failed",
            ConnectionStatus::Revoked => "revoked",
        }
    }
}

/// The account a connection belongs to, where the provider says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The provider's stable id for the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A login name or email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
}

/// What is known about one secret file without decrypting it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretInfo {
    /// Fingerprint of the recipient set the file is encrypted to; it changes when a vault's
    /// principals or their keys change, so stale files can be found without decrypting them.
    pub recipients: String,
    /// When the value last changed (RFC 3339).
    pub updated_at: Stamp,
}

/// `vaults/<vault>/<provider>/<connection>/connection.yaml`: a connection record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionRecord {
    /// Format version of this record.
    pub schema_version: u32,
    /// How the credential was obtained.
    pub auth_type: crate::model::provider::AuthType,
    /// Whether the connection can be used.
    pub status: ConnectionStatus,
    /// When the connection was first created (RFC 3339).
    pub created_at: Stamp,
    /// When the connection was last logged in (RFC 3339).
    pub updated_at: Stamp,
    /// When the access token expires (RFC 3339); absent for keys that do not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Stamp>,
    /// Granted scopes, as the server returned them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// OAuth2 token type (`bearer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// The account, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
    /// The secret fields of this connection, each stored as `<field>.age` beside this file.
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretInfo>,
}

/// The version of [`ConnectionRecord`] written by this build.
pub const CONNECTION_SCHEMA: u32 = 1;

impl ConnectionRecord {
    /// A connected record with no expiry, scopes or secrets yet; `created_at` is kept from an
    /// earlier record of the same connection when there is one.
    pub fn new(
        auth_type: crate::model::provider::AuthType,
        previous: Option<&ConnectionRecord>,
        now: Stamp,
    ) -> Self {
        ConnectionRecord {
            schema_version: CONNECTION_SCHEMA,
            auth_type,
            status: ConnectionStatus::Connected,
            created_at: previous.map_or(now, |p| p.created_at),
            updated_at: now,
            expires_at: None,
            scopes: Vec::new(),
            token_type: None,
            account: None,
            secrets: BTreeMap::new(),
        }
    }
}
