//! The store's layout on disk: every store-relative path and file name, in one place. The
//! README's "The store" section mirrors this file.
//!
//! ```text
//! store.yaml                                   format and store id
//! .gitattributes                               `* -text`, `*.age diff=authsome`
//! principals/<principal>.yaml                  a principal's recipients
//! providers/<provider>.yaml                    a custom provider definition
//! seal                                         the store scope's seal (trust)
//! vaults/<vault>/seal                          the vault's seal
//! vaults/<vault>/policy.yaml                   the vault's request policy (admins only)
//! vaults/<vault>/vault.yaml                    the vault's principals
//! vaults/<vault>/fingerprint_key.age           the key of redacted diff fingerprints
//! vaults/<vault>/<provider>/provider.yaml      default connection, OAuth client id, base URL
//! vaults/<vault>/<provider>/<field>.age        a provider-level secret (the OAuth client secret)
//! vaults/<vault>/<provider>/<conn>/connection.yaml   the connection's record
//! vaults/<vault>/<provider>/<conn>/<field>.age       one secret of the connection
//! ```
//!
//! Names are checked by [`crate::model::names`] before they become path components, so none of
//! these functions can be led outside the store.

/// The file that identifies a store: its format and id.
pub const STORE_FILE: &str = "store.yaml";
/// Git attributes: byte-exact files and the redacting diff driver.
pub const GITATTRIBUTES: &str = ".gitattributes";
/// The folder of principals.
pub const PRINCIPALS: &str = "principals";
/// The folder of custom provider definitions.
pub const PROVIDERS: &str = "providers";
/// The folder of vaults.
pub const VAULTS: &str = "vaults";
/// The folders that hold the store's files, besides the files at its root.
pub const FOLDERS: [&str; 3] = [PRINCIPALS, PROVIDERS, VAULTS];
/// A provider's state file, inside its folder.
pub const PROVIDER_FILE: &str = "provider.yaml";
/// A connection's record, inside its folder.
pub const CONNECTION_FILE: &str = "connection.yaml";
/// The extension of a secret file.
pub const SECRET_EXT: &str = ".age";
/// The extension of every YAML file.
pub const YAML_EXT: &str = ".yaml";
/// The field name of a vault's fingerprint key.
pub const FINGERPRINT_KEY: &str = "fingerprint_key";

/// The file name of a seal, in the folder of the scope it covers.
pub const SEAL: &str = "seal";

/// `seal`: the store scope's seal (store.yaml, principals/, providers/, the list of vaults).
pub fn store_seal() -> String {
    SEAL.to_owned()
}

/// `vaults/<vault>/seal`: a vault's seal (everything under its folder but the seal).
pub fn vault_seal(vault: &str) -> String {
    format!("{VAULTS}/{vault}/{SEAL}")
}

/// `principals/<name>.yaml`
pub fn principal(name: &str) -> String {
    format!("{PRINCIPALS}/{name}{YAML_EXT}")
}

/// `providers/<name>.yaml`: a custom provider definition.
pub fn custom_provider(name: &str) -> String {
    format!("{PROVIDERS}/{name}{YAML_EXT}")
}

/// `vaults/<vault>`
pub fn vault(vault: &str) -> String {
    format!("{VAULTS}/{vault}")
}

/// `vaults/<vault>/vault.yaml`
pub fn vault_meta(vault: &str) -> String {
    format!("{VAULTS}/{vault}/vault.yaml")
}

/// `vaults/<vault>/policy.yaml`: the vault's request policy.
pub fn vault_policy(vault: &str) -> String {
    format!("{VAULTS}/{vault}/policy.yaml")
}

/// `vaults/<vault>/fingerprint_key.age`
pub fn fingerprint_key(vault: &str) -> String {
    format!("{VAULTS}/{vault}/{FINGERPRINT_KEY}{SECRET_EXT}")
}

/// `vaults/<vault>/<provider>`
pub fn provider(vault: &str, provider: &str) -> String {
    format!("{VAULTS}/{vault}/{provider}")
}

/// `vaults/<vault>/<provider>/provider.yaml`
pub fn provider_state(vault: &str, provider: &str) -> String {
    format!("{VAULTS}/{vault}/{provider}/{PROVIDER_FILE}")
}

/// `vaults/<vault>/<provider>/<field>.age`: a provider-level secret (the OAuth client secret).
pub fn provider_secret(vault: &str, provider: &str, field: &str) -> String {
    format!("{VAULTS}/{vault}/{provider}/{field}{SECRET_EXT}")
}

/// `vaults/<vault>/<provider>/<connection>`
pub fn connection(vault: &str, provider: &str, connection: &str) -> String {
    format!("{VAULTS}/{vault}/{provider}/{connection}")
}

/// `vaults/<vault>/<provider>/<connection>/connection.yaml`
pub fn record(vault: &str, provider: &str, connection: &str) -> String {
    format!("{VAULTS}/{vault}/{provider}/{connection}/{CONNECTION_FILE}")
}

/// `vaults/<vault>/<provider>/<connection>/<field>.age`
pub fn secret(vault: &str, provider: &str, connection: &str, field: &str) -> String {
    format!("{VAULTS}/{vault}/{provider}/{connection}/{field}{SECRET_EXT}")
}

/// Whether a store-relative path is a secret file.
pub fn is_secret(path: &str) -> bool {
    path.ends_with(SECRET_EXT)
}
