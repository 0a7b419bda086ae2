//! The store's non-secret state files: `store.yaml`, principals, vaults, provider state and
//! connection records.

use std::collections::BTreeMap;

use schemars::JsonSchema;

use crate::model::time::Stamp;
use serde::{Deserialize, Serialize};

/// The current format version of the store: 3, sealed (format 2: vaults with roles and owners
/// of the store; format 1: vaults with principals).
pub const STORE_FORMAT: u32 = 3;

/// The first format whose every scope is sealed: a store of this format without seals has had
/// them removed.
pub const SEALED_FORMAT: u32 = 3;

/// `store.yaml`: identifies a store, and (format 2) names its owners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreMeta {
    /// Format version of the store layout.
    pub format: u32,
    /// Random identifier, bound into every secret so secrets cannot be moved between stores.
    pub id: String,
    /// Principals who may add or remove principals, create or delete vaults and change
    /// providers; they hold every role of every vault.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
    /// How many owners must sign a change of the store's scope (seals; 1 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_threshold: Option<u32>,
}

/// What a principal is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A person.
    #[default]
    Person,
    /// An AI agent or other program acting for people.
    Agent,
    /// A CI job.
    Ci,
}

impl PrincipalKind {
    /// The lowercase name used in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Person => "person",
            PrincipalKind::Agent => "agent",
            PrincipalKind::Ci => "ci",
        }
    }
}

/// Who added a principal, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Added {
    /// The principal who added it.
    pub by: String,
    /// When.
    pub at: Stamp,
}

/// `principals/<name>.yaml`: a holder of one or more age recipients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Principal {
    /// A person, an agent or a CI job.
    #[serde(default)]
    pub kind: PrincipalKind,
    /// Age recipients (`age1...`) or SSH public keys (`ssh-ed25519 ...`).
    pub recipients: Vec<String>,
    /// SSH public keys (`ssh-ed25519 ...`) whose signatures count as this principal's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<String>,
    /// After this time the principal is dropped from its vaults by the next admin's write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Stamp>,
    /// Who added it, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<Added>,
}

/// A role in a vault.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Every secret of the vault is encrypted to the reader's recipients.
    Reader,
    /// May change the vault's connections.
    Writer,
    /// May change the vault's membership.
    Admin,
}

impl Role {
    /// Every role, weakest first.
    pub const ALL: [Role; 3] = [Role::Reader, Role::Writer, Role::Admin];

    /// The lowercase name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Admin => "admin",
        }
    }
}

/// `vaults/<vault>/vault.yaml`: who may read, write and administer a vault.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VaultMeta {
    /// Principals whose recipients every secret in this vault is encrypted to (format 1 called
    /// them `principals`, still read as readers).
    #[serde(alias = "principals")]
    pub readers: Vec<String>,
    /// Principals who may change the vault's connections.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writers: Vec<String>,
    /// Principals who may change the vault's membership.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admins: Vec<String>,
    /// The recipients the vault's fingerprint key is encrypted to, so a rekey finds it stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint_key: Option<SecretInfo>,
}

impl VaultMeta {
    /// The members holding `role`.
    pub fn members(&self, role: Role) -> &Vec<String> {
        match role {
            Role::Reader => &self.readers,
            Role::Writer => &self.writers,
            Role::Admin => &self.admins,
        }
    }

    /// The members holding `role`, to change.
    pub fn members_mut(&mut self, role: Role) -> &mut Vec<String> {
        match role {
            Role::Reader => &mut self.readers,
            Role::Writer => &mut self.writers,
            Role::Admin => &mut self.admins,
        }
    }

    /// The roles `principal` holds here, weakest first.
    pub fn roles_of(&self, principal: &str) -> Vec<Role> {
        Role::ALL
            .into_iter()
            .filter(|r| self.members(*r).iter().any(|m| m == principal))
            .collect()
    }
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
    /// The provider-level secrets (the OAuth client secret), each stored as `<field>.age` beside
    /// this file, as `ConnectionRecord::secrets` records a connection's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, SecretInfo>,
    /// Set when a reader left the vault while the client secret was readable by them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<Rotation>,
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
    /// When the file was last re-encrypted to a new recipient set (its value unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rekeyed_at: Option<Stamp>,
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
    /// Set when a reader left the vault: the credential was readable by them, so it should be
    /// rotated at the provider. Cleared by a new login or `rotation done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<Rotation>,
}

/// A credential that someone who lost access could read, and so should be rotated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// Always true while the mark stands.
    pub needed: bool,
    /// Why (`bob lost access to prod`).
    pub reason: String,
    /// Since when.
    pub since: Stamp,
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
            rotation: None,
        }
    }
}
