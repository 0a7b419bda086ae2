//! The JSON that commands print for scripts and agents, with a schema each under `schema/`: one
//! shape for a finding, whichever of `status` and `doctor` found it, and one for a commit,
//! whichever of `log`, `show` and `diff` prints it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::provider::{AuthType, ProviderDef};
use crate::model::state::{Account, ConnectionRecord, PrincipalKind, SecretInfo};
use crate::model::time::Stamp;

/// Something that needs action, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// What was found: `uncommitted`, `stale_lock`, `rotation`, `expired`, `unreadable`,
    /// `trust`, ... for `status`; the failing or warning check (`identity`, `store`, ...) for
    /// `doctor`.
    pub kind: String,
    /// What it is about: a path, `provider/connection`, a vault, the store.
    pub subject: String,
    /// What to do about it.
    pub what_to_do: String,
}

/// What `status --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusReport {
    /// Nothing needs attention (then `status` exits 0; otherwise 1).
    pub clean: bool,
    /// What needs attention.
    pub findings: Vec<Finding>,
}

/// A commit, in the one shape `log`, `show` and `diff` print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Commit {
    /// The full commit id.
    pub id: String,
    /// Its first 12 hex digits.
    pub short: String,
    /// The author's time, RFC 3339 in UTC.
    pub time: String,
    /// The author's name.
    pub author: String,
    /// The author's email.
    pub email: String,
    /// The first line of the message.
    pub message: String,
    /// The store's files it changed (against its first parent).
    pub changes: Vec<FileChange>,
}

/// A file a commit changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileChange {
    /// The store-relative path.
    pub path: String,
    /// `added`, `modified` or `deleted`.
    pub status: ChangeStatus,
}

/// How a commit changed a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// The file is new.
    Added,
    /// The file's content changed.
    Modified,
    /// The file is gone.
    Deleted,
}

/// What `log --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogReport {
    /// Newest first.
    pub commits: Vec<Commit>,
}

/// What `show --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowReport {
    /// The commit.
    pub commit: Commit,
    /// What it changed, as `show` prints it (secrets redacted).
    pub diff: String,
}

/// What `diff --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiffReport {
    /// The commit compared from (`None` before the first commit).
    pub from: Option<Commit>,
    /// The commit compared to.
    pub to: Commit,
    /// The difference, as `diff` prints it (secrets redacted).
    pub diff: String,
}

/// What every command prints under `--json` when it fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorReport {
    /// What went wrong.
    pub error: ErrorBody,
}

/// The error itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// A stable name for the kind of error (`usage`, `not_found`, ...).
    pub code: String,
    /// The process's exit code.
    pub exit_code: i32,
    /// One sentence: what went wrong.
    pub message: String,
    /// What to do about it, when there is more to say.
    pub hint: Option<String>,
}

/// The facts of a connection that are not secret, as `get` and `inspect` print them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConnectionFacts {
    /// The provider's name.
    pub provider: String,
    /// The connection's name.
    pub connection: String,
    /// The vault it is in.
    pub vault: String,
    /// Whether it is the provider's default connection.
    pub default: bool,
    /// How the credential was obtained.
    pub auth_type: AuthType,
    /// `connected`, `expired`, `refresh_failed` or `revoked`.
    pub status: String,
    /// When it was first created.
    pub created_at: Stamp,
    /// When it was last logged in.
    pub updated_at: Stamp,
    /// When the access token expires (`null` for keys that do not).
    pub expires_at: Option<Stamp>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The OAuth2 token type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// The account, where the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
}

impl ConnectionFacts {
    /// The facts of `record`.
    pub fn of(
        provider: &str,
        connection: &str,
        vault: &str,
        default: bool,
        record: &ConnectionRecord,
    ) -> Self {
        ConnectionFacts {
            provider: provider.to_owned(),
            connection: connection.to_owned(),
            vault: vault.to_owned(),
            default,
            auth_type: record.auth_type,
            status: record.status.as_str().to_owned(),
            created_at: record.created_at,
            updated_at: record.updated_at,
            expires_at: record.expires_at,
            scopes: record.scopes.clone(),
            token_type: record.token_type.clone(),
            account: record.account.clone(),
        }
    }
}

/// What `get --json` prints: the connection's facts and each secret field, its value under
/// `--show-secret` and `***REDACTED***` otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GetReport {
    /// The facts.
    #[serde(flatten)]
    pub facts: ConnectionFacts,
    /// The secret fields (`api_key`, `access_token`, ...).
    #[serde(flatten)]
    pub secrets: BTreeMap<String, String>,
}

/// What `get --field NAME --json` prints: `{NAME: value}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct FieldReport(pub BTreeMap<String, serde_json::Value>);

/// What `export --json` prints: each variable and its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ExportReport(pub serde_json::Map<String, serde_json::Value>);

/// A connection in `list --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListedConnection {
    /// Its name.
    pub name: String,
    /// `connected`, `expired`, `refresh_failed` or `revoked`.
    pub status: String,
    /// Whether it is the default.
    pub default: bool,
    /// When the access token expires.
    pub expires_at: Option<Stamp>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// When it was first created.
    pub created_at: Stamp,
    /// When it was last logged in.
    pub updated_at: Stamp,
}

impl ListedConnection {
    /// The row for `record`.
    pub fn of(name: &str, record: &ConnectionRecord, default: bool) -> Self {
        ListedConnection {
            name: name.to_owned(),
            status: record.status.as_str().to_owned(),
            default,
            expires_at: record.expires_at,
            scopes: record.scopes.clone(),
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

/// A provider in `list --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListedProvider {
    /// Its name.
    pub name: String,
    /// Its display name (`null` when its definition is gone).
    pub display_name: Option<String>,
    /// `bundled` or `custom` (`null` when its definition is gone).
    pub source: Option<String>,
    /// How it authenticates.
    pub auth_type: Option<AuthType>,
    /// The default connection.
    pub default: Option<String>,
    /// Its connections.
    pub connections: Vec<ListedConnection>,
}

/// What `list --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListReport {
    /// The vault listed.
    pub vault: String,
    /// Its providers.
    pub providers: Vec<ListedProvider>,
}

/// A connection in `inspect --json`: its facts and what is known of its secret files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InspectedConnection {
    /// The facts.
    #[serde(flatten)]
    pub facts: ConnectionFacts,
    /// Each secret file, without its value.
    pub secrets: BTreeMap<String, SecretInfo>,
}

/// What `inspect --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectReport {
    /// The vault.
    pub vault: String,
    /// The provider's name.
    pub name: String,
    /// `bundled` or `custom`.
    pub source: String,
    /// The default connection.
    pub default: Option<String>,
    /// The provider's definition.
    pub definition: ProviderDef,
    /// Its connections.
    pub connections: Vec<InspectedConnection>,
}

/// A vault in `whoami --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VaultAccess {
    /// The vault's name.
    pub name: String,
    /// Whether this identity can read it.
    pub readable: bool,
    /// How many connections it holds.
    pub connections: usize,
}

/// What `whoami --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WhoamiReport {
    /// authsome's version.
    pub version: String,
    /// The store's folder.
    pub store: PathBuf,
    /// The store's id.
    pub store_id: String,
    /// The commit read (`null` before the first).
    pub head: Option<String>,
    /// The identity file.
    pub identity: PathBuf,
    /// Its age recipient.
    pub recipient: String,
    /// The principal it belongs to, when one lists it.
    pub principal: Option<String>,
    /// The vault in use.
    pub vault: String,
    /// Every vault.
    pub vaults: Vec<VaultAccess>,
}

/// One check of `doctor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DoctorCheck {
    /// What was checked (`identity`, `store`, `work tree`, ...).
    pub check: String,
    /// `ok`, `warn` or `fail`.
    pub status: String,
    /// What was found.
    pub detail: String,
}

/// What `doctor --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DoctorReport {
    /// `ready`, or `problems` when a check failed (then `doctor` exits 1).
    pub status: String,
    /// Every check.
    pub checks: Vec<DoctorCheck>,
    /// What needs action, in the shape `status` prints.
    pub findings: Vec<Finding>,
}

/// A vault and the roles a principal holds in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VaultRoles {
    /// The vault.
    pub vault: String,
    /// The roles, weakest first.
    pub roles: Vec<String>,
}

/// A principal in `principal list --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListedPrincipal {
    /// Its name.
    pub name: String,
    /// A person, an agent or a CI job.
    pub kind: PrincipalKind,
    /// Whether it owns the store.
    pub owner: bool,
    /// When it expires.
    pub expires: Option<Stamp>,
    /// Its vaults and roles.
    pub vaults: Vec<VaultRoles>,
}

/// What `principal list --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrincipalListReport {
    /// Every principal.
    pub principals: Vec<ListedPrincipal>,
}

/// A public key and its `ssh-keygen -l` style fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyView {
    /// The key as written in the principal's file.
    pub key: String,
    /// Its fingerprint.
    pub fingerprint: String,
}

/// What `principal show --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrincipalShowReport {
    /// Its name.
    pub name: String,
    /// A person, an agent or a CI job.
    pub kind: PrincipalKind,
    /// Whether it owns the store.
    pub owner: bool,
    /// The keys secrets are encrypted to.
    pub recipients: Vec<KeyView>,
    /// The keys whose signatures count as this principal's.
    pub signers: Vec<KeyView>,
    /// When it expires.
    pub expires: Option<Stamp>,
    /// Who added it, and when.
    pub added: Option<crate::model::state::Added>,
    /// Its vaults and roles.
    pub vaults: Vec<VaultRoles>,
}

/// A provider in `provider list --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListedProviderDef {
    /// Its name.
    pub name: String,
    /// Its display name.
    pub display_name: String,
    /// What kind of service it is.
    #[serde(rename = "type")]
    pub kind: crate::model::provider::ProviderKind,
    /// How it authenticates.
    pub auth_type: AuthType,
    /// How a login runs.
    pub flow: crate::model::provider::Flow,
    /// `bundled` or `custom`.
    pub source: String,
}

/// What `provider list --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderListReport {
    /// Every provider.
    pub providers: Vec<ListedProviderDef>,
}

/// What `provider show --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderShowReport {
    /// `bundled` or `custom`.
    pub source: String,
    /// The definition.
    pub definition: ProviderDef,
}

/// A credential in `rotation list --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationEntry {
    /// The vault.
    pub vault: String,
    /// The provider.
    pub provider: String,
    /// The connection (`null` for the provider's client secret).
    pub connection: Option<String>,
    /// Why it should be rotated.
    pub reason: String,
    /// Since when.
    pub since: Stamp,
    /// How to rotate it.
    pub what_to_do: String,
}

/// What `rotation list --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationListReport {
    /// What should be rotated.
    pub rotation: Vec<RotationEntry>,
}

/// A vault in `vault list --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListedVault {
    /// Its name.
    pub name: String,
    /// Its readers.
    pub readers: Vec<String>,
    /// Its writers.
    pub writers: Vec<String>,
    /// Its admins.
    pub admins: Vec<String>,
    /// Whether this identity can read it.
    pub readable: bool,
    /// Whether it is the vault in use.
    pub in_use: bool,
}

/// What `vault list --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VaultListReport {
    /// Every vault.
    pub vaults: Vec<ListedVault>,
}

/// What `vault show --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VaultShowReport {
    /// Its name.
    pub name: String,
    /// Its readers.
    pub readers: Vec<String>,
    /// Its writers.
    pub writers: Vec<String>,
    /// Its admins.
    pub admins: Vec<String>,
    /// The fingerprint of its readers' recipients.
    pub recipients: String,
    /// How many connections it holds.
    pub connections: usize,
    /// How many secret files are encrypted to an older set of readers.
    pub stale: usize,
    /// The credentials that should be rotated.
    pub rotation_needed: Vec<String>,
}

/// An owner in `trust show --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnerKeys {
    /// The owner's principal name.
    pub name: String,
    /// Its signing keys' fingerprints.
    pub signers: Vec<String>,
}

/// A scope this machine has pinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PinnedScope {
    /// `store` or `vaults/<name>`.
    pub scope: String,
    /// The seal's sequence number.
    pub seq: u64,
    /// The seal's digest.
    pub seal: String,
}

/// What `trust show --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustShowReport {
    /// The store's id.
    pub store: String,
    /// Its owners.
    pub owners: Vec<OwnerKeys>,
    /// What this machine pinned.
    pub pinned: Vec<PinnedScope>,
}

/// What `trust accept --json` and `trust reset --json` print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustReport {
    /// `accepted` or `reset`.
    pub status: String,
    /// The store's id.
    pub store: String,
    /// How many scopes are pinned now.
    pub pinned: usize,
}

/// What `join-request --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequestReport {
    /// The token to send to an admin of the vault.
    pub token: String,
}

/// A value a command prints under `--json`: a serde type whose JSON Schema is committed as
/// `schema/<SCHEMA>.schema.json` (a test keeps the files true to the types). The command line
/// prints JSON only through this trait, so no command prints an untyped value.
pub trait JsonReport: Serialize + JsonSchema {
    /// The schema's file name under `schema/`, without `.schema.json`.
    const SCHEMA: &'static str;
}

/// What `login --no-wait --json` prints: the device flow's code, or the page to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginPendingReport {
    /// Where to enter the code (the device flow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_uri: Option<String>,
    /// The same page with the code filled in, when the provider gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_uri_complete: Option<String>,
    /// The code to enter (the device flow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_code: Option<String>,
    /// The page to open (the local form or the authorization page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When the wait ends (RFC 3339).
    pub expires_at: String,
}

/// What `login --status --json` prints: how a login started with `--no-wait` stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginStatusReport {
    /// `pending`, `connected`, `expired`, `denied` or `failed`.
    pub status: String,
    /// What happened, or what is awaited.
    pub detail: String,
    /// When the status last changed.
    pub updated_at: Stamp,
}
