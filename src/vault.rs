//! Providers and connections inside one vault: where their files live, reading them from a
//! snapshot, and staging changes in a transaction.

use std::collections::BTreeMap;

use age::secrecy::{ExposeSecret, SecretString};

use crate::crypto::envelope::{self, Place};
use crate::crypto::identity::Identity;
use crate::crypto::recipients::{self, BoxedRecipient};
use crate::error::{Error, ErrorKind, Result};
use crate::layout;
use crate::model::state::{ConnectionRecord, Principal, ProviderState, SecretInfo, VaultMeta};
use crate::model::time::Stamp;
use crate::model::{names, yaml};
use crate::store::{Snapshot, Txn};

pub use crate::model::names::DEFAULT_VAULT;

/// Anything committed state can be read from: a snapshot, or a transaction in progress.
pub trait Reader {
    /// The bytes of a store-relative file, if it exists.
    fn read_file(&self, rel: &str) -> Result<Option<Vec<u8>>>;
}

impl Reader for Snapshot<'_> {
    fn read_file(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        self.read(rel)
    }
}

impl Reader for Txn<'_> {
    fn read_file(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        self.read(rel)
    }
}

/// One vault of one store, seen as the places its files sit in: the handle that binds a secret
/// to its place, so no caller builds a [`Place`] by hand.
#[derive(Debug, Clone, Copy)]
pub struct VaultRef<'a> {
    store_id: &'a str,
    vault: &'a str,
}

impl<'a> VaultRef<'a> {
    /// The vault `vault` of the store whose id is `store_id`.
    pub fn new(store_id: &'a str, vault: &'a str) -> Self {
        VaultRef { store_id, vault }
    }

    /// A connection of a provider in this vault.
    pub fn connection(self, provider: &'a str, connection: &'a str) -> ConnectionRef<'a> {
        ConnectionRef {
            vault: self,
            provider,
            name: connection,
        }
    }

    /// The place of a provider-level secret (the OAuth client secret).
    pub fn provider_secret(self, provider: &str, field: &str) -> Place {
        Place {
            store: self.store_id.to_owned(),
            vault: self.vault.to_owned(),
            provider: provider.to_owned(),
            connection: None,
            field: field.to_owned(),
        }
    }

    /// The place of a vault-level secret (the fingerprint key), which belongs to no provider.
    pub fn vault_secret(self, field: &str) -> Place {
        self.provider_secret("", field)
    }
}

/// One connection of a provider in a vault: its files and the places of its secrets.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionRef<'a> {
    vault: VaultRef<'a>,
    provider: &'a str,
    name: &'a str,
}

impl ConnectionRef<'_> {
    /// The connection's folder.
    pub fn dir(&self) -> String {
        layout::connection(self.vault.vault, self.provider, self.name)
    }

    /// The connection's record.
    pub fn record_path(&self) -> String {
        layout::record(self.vault.vault, self.provider, self.name)
    }

    /// The file of one of its secrets.
    pub fn secret_path(&self, field: &str) -> String {
        layout::secret(self.vault.vault, self.provider, self.name, field)
    }

    /// The place one of its secrets is bound to.
    pub fn place(&self, field: &str) -> Place {
        Place {
            connection: Some(self.name.to_owned()),
            ..self.vault.provider_secret(self.provider, field)
        }
    }
}

/// Reads and parses a YAML file, if it exists.
pub fn read_yaml<T: serde::de::DeserializeOwned>(r: &impl Reader, rel: &str) -> Result<Option<T>> {
    match r.read_file(rel)? {
        Some(bytes) => yaml::parse(rel, &bytes).map(Some),
        None => Ok(None),
    }
}

/// A principal, or the error naming it as unknown.
pub fn principal(r: &impl Reader, name: &str) -> Result<Principal> {
    read_yaml(r, &layout::principal(name))?.ok_or_else(|| {
        Error::usage(format!(
            "the store has no principal named {name:?}; see `authsome principal list`"
        ))
    })
}

/// The names of the store's principals, sorted.
pub fn principals(snap: &Snapshot<'_>) -> Result<Vec<String>> {
    let mut names: Vec<String> = snap
        .list(layout::PRINCIPALS)?
        .into_iter()
        .filter(|e| !e.is_dir)
        .filter_map(|e| e.name.strip_suffix(layout::YAML_EXT).map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

/// The principal whose recipients include `recipient` (this identity's), if any.
pub fn principal_of(snap: &Snapshot<'_>, recipient: &str) -> Result<Option<String>> {
    let wanted = recipients::canonical(recipient);
    for name in principals(snap)? {
        if principal(snap, &name)?
            .recipients
            .iter()
            .any(|r| recipients::canonical(r) == wanted)
        {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// Reads a vault's metadata, or explains that the vault does not exist.
pub fn vault_meta(r: &impl Reader, vault: &str) -> Result<VaultMeta> {
    read_yaml(r, &layout::vault_meta(vault))?.ok_or_else(|| {
        Error::store(format!(
            "the store has no vault named {vault:?}; run `authsome whoami` to see its vaults"
        ))
    })
}

/// The recipient strings a vault's secrets are encrypted to.
pub fn vault_recipients(r: &impl Reader, vault: &str) -> Result<Vec<String>> {
    let meta = vault_meta(r, vault)?;
    let mut out = Vec::new();
    for name in &meta.readers {
        let path = layout::principal(name);
        let p: Principal = read_yaml(r, &path)?.ok_or_else(|| {
            Error::store(format!(
                "vault {vault:?} names principal {name:?}, but {path} does not exist; add the principal or remove it from {}",
                layout::vault_meta(vault)
            ))
        })?;
        out.extend(p.recipients.iter().map(|r| recipients::canonical(r)));
    }
    if out.is_empty() {
        return Err(Error::store(format!(
            "vault {vault:?} has no recipients, so nothing can be encrypted to it; add a principal to {}",
            layout::vault_meta(vault)
        )));
    }
    Ok(out)
}

/// Parsed recipients of a vault, with their fingerprint.
pub struct Recipients {
    /// The parsed recipients.
    pub parsed: Vec<BoxedRecipient>,
    /// Fingerprint of the set.
    pub fingerprint: String,
}

/// Loads and parses a vault's recipients.
pub fn load_recipients(r: &impl Reader, vault: &str) -> Result<Recipients> {
    let list = vault_recipients(r, vault)?;
    let source = layout::vault_meta(vault);
    let parsed = list
        .iter()
        .map(|s| recipients::parse(s, &source))
        .collect::<Result<Vec<_>>>()?;
    Ok(Recipients {
        fingerprint: recipients::fingerprint(list.iter().map(String::as_str)),
        parsed,
    })
}

/// Providers that have a folder (state or connections) in the vault.
pub fn providers(snap: &Snapshot<'_>, vault: &str) -> Result<Vec<String>> {
    Ok(snap
        .list(&layout::vault(vault))?
        .into_iter()
        .filter(|e| e.is_dir)
        .map(|e| e.name)
        .collect())
}

/// Connection names of a provider in the vault, sorted by name.
pub fn connections(snap: &Snapshot<'_>, vault: &str, provider: &str) -> Result<Vec<String>> {
    let folder = layout::provider(vault, provider);
    // A file where the folder belongs is damage, not "no connections".
    if let Some((_, false)) = snap.entry_id(&folder)? {
        return Err(Error::store(format!(
            "{folder} is a file where the folder of {provider}'s connections belongs"
        ))
        .with_hint(format!(
            "find the commit that made it with `authsome log`, and restore the folder (`authsome restore {provider} --to REV`, or git)"
        )));
    }
    let mut names: Vec<String> = snap
        .list(&folder)?
        .into_iter()
        .filter(|e| e.is_dir)
        .map(|e| e.name)
        .collect();
    names.sort();
    Ok(names)
}

/// The provider's state file (empty when missing).
pub fn provider_state(r: &impl Reader, vault: &str, provider: &str) -> Result<ProviderState> {
    Ok(read_yaml(r, &layout::provider_state(vault, provider))?.unwrap_or_default())
}

/// A connection record, if it exists.
pub fn record(
    r: &impl Reader,
    vault: &str,
    provider: &str,
    connection: &str,
) -> Result<Option<ConnectionRecord>> {
    read_yaml(r, &layout::record(vault, provider, connection))
}

/// Picks the connection a command means: the one named, else the provider's default.
pub fn resolve_connection(
    snap: &Snapshot<'_>,
    vault: &str,
    provider: &str,
    named: Option<&str>,
) -> Result<(String, ConnectionRecord)> {
    let name = match named {
        Some(n) => {
            names::validate("connection", n)?;
            n.to_owned()
        }
        None => match provider_state(snap, vault, provider)?.default {
            Some(d) => d,
            None => {
                let existing = connections(snap, vault, provider)?;
                let msg = if existing.is_empty() {
                    format!(
                        "{provider} has no connections; log in with `authsome login {provider}`"
                    )
                } else {
                    format!(
                        "{provider} has no default connection; name one with --connection ({}) or set it with `authsome default {provider} NAME`",
                        existing.join(", ")
                    )
                };
                return Err(Error::new(ErrorKind::ConnectionNotFound, msg));
            }
        },
    };
    match record(snap, vault, provider, &name)? {
        Some(r) => Ok((name, r)),
        None => Err(not_found(snap, vault, provider, &name)?),
    }
}

/// The connection that becomes the default when the default is removed along with `removed`:
/// the one named `default`, else the first by name, else none.
pub fn heir(
    txn: &Txn<'_>,
    vault: &str,
    provider: &str,
    removed: &[String],
) -> Result<Option<String>> {
    let mut rest = Vec::new();
    for c in connections(txn.base(), vault, provider)? {
        if !removed.contains(&c) && record(txn, vault, provider, &c)?.is_some() {
            rest.push(c);
        }
    }
    Ok(rest
        .iter()
        .find(|c| *c == names::DEFAULT_CONNECTION)
        .or(rest.first())
        .cloned())
}

/// The error for a missing connection, listing the ones that exist.
pub fn not_found(snap: &Snapshot<'_>, vault: &str, provider: &str, name: &str) -> Result<Error> {
    let existing = connections(snap, vault, provider)?;
    let msg = if existing.is_empty() {
        format!(
            "{provider} has no connection named {name:?} (it has none); log in with `authsome login {provider} --connection {name}`"
        )
    } else {
        format!(
            "{provider} has no connection named {name:?}; it has {}",
            existing.join(", ")
        )
    };
    Ok(Error::new(ErrorKind::ConnectionNotFound, msg))
}

/// Decrypts one secret of a connection from committed state.
pub fn read_secret(
    r: &impl Reader,
    store_id: &str,
    vault: &str,
    provider: &str,
    connection: &str,
    field: &str,
    identity: &Identity,
) -> Result<SecretString> {
    let path = layout::secret(vault, provider, connection, field);
    let bytes = r.read_file(&path)?.ok_or_else(|| {
        Error::new(
            ErrorKind::CredentialMissing,
            format!("{provider}/{connection} has no {field}; log in again with `authsome login {provider} --connection {connection} --force`"),
        )
    })?;
    let place = VaultRef::new(store_id, vault)
        .connection(provider, connection)
        .place(field);
    envelope::open(&place, &path, &bytes, identity)
}

/// Stages a secret in a transaction, keeping the committed file when its value and recipients
/// are unchanged (age output is randomized, so rewriting it would make a meaningless diff).
#[allow(clippy::too_many_arguments)]
pub fn put_secret(
    txn: &mut Txn<'_>,
    place: &Place,
    value: &SecretString,
    recipients: &Recipients,
    previous: Option<&SecretInfo>,
    identity: Option<&Identity>,
    now: Stamp,
) -> Result<SecretInfo> {
    let path = match place.connection.as_deref() {
        Some(c) => layout::secret(&place.vault, &place.provider, c, &place.field),
        None => layout::provider_secret(&place.vault, &place.provider, &place.field),
    };
    // Compare with the committed file: the transaction may have cleared the folder already.
    if let (Some(prev), Some(identity), Some(bytes)) = (previous, identity, txn.base().read(&path)?)
        && prev.recipients == recipients.fingerprint
        && let Ok(old) = envelope::open(place, &path, &bytes, identity)
        && old.expose_secret() == value.expose_secret()
    {
        txn.write(path, bytes);
        return Ok(prev.clone());
    }
    let sealed = envelope::seal(place, value, &recipients.parsed)?;
    txn.write(path, sealed);
    Ok(SecretInfo {
        recipients: recipients.fingerprint.clone(),
        updated_at: now,
        rekeyed_at: None,
    })
}

/// Writes a YAML file in a transaction.
pub fn write_yaml<T: serde::Serialize>(txn: &mut Txn<'_>, rel: String, value: &T) -> Result<()> {
    let text = yaml::to_string(value)?;
    txn.write(rel, text);
    Ok(())
}

/// Writes the provider state, deleting the file when it holds nothing.
pub fn write_provider_state(
    txn: &mut Txn<'_>,
    vault: &str,
    provider: &str,
    state: &ProviderState,
) -> Result<()> {
    let path = layout::provider_state(vault, provider);
    if *state == ProviderState::default() {
        txn.delete(path);
        Ok(())
    } else {
        write_yaml(txn, path, state)
    }
}

/// A provider's state and its connections with their records, sorted by connection name.
pub type ProviderRecords = (ProviderState, Vec<(String, ConnectionRecord)>);

/// Every connection of every provider in the vault, with its record.
///
/// This walks the vault's trees once, by id, instead of looking each file up from the root.
/// With a `cache` file, a provider whose tree id is unchanged since the last call is taken from
/// the cache instead of parsing its YAML again; keyed by content, the cache cannot go stale, and
/// after a login only that provider's records are read again. The cache holds no secrets.
pub fn all_records(
    snap: &Snapshot<'_>,
    vault: &str,
    cache: Option<&std::path::Path>,
) -> Result<BTreeMap<String, ProviderRecords>> {
    type Cached = BTreeMap<String, (String, ProviderRecords)>;
    let mut cached: Cached = cache
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let mut fresh: Cached = BTreeMap::new();
    let mut changed = false;
    for p in snap
        .list(&layout::vault(vault))?
        .into_iter()
        .filter(|e| e.is_dir)
    {
        let id = p.id.to_string();
        let records = match cached.remove(&p.name) {
            Some((cached_id, records)) if cached_id == id => records,
            _ => {
                changed = true;
                provider_records(snap, vault, &p.name, p.id)?
            }
        };
        fresh.insert(p.name, (id, records));
    }
    if let Some(path) = cache
        && (changed || !cached.is_empty())
        && let Ok(json) = serde_json::to_vec(&fresh)
    {
        // A cache that cannot be written only costs speed.
        let _ = crate::private_files::write_private(path, &json);
    }
    Ok(fresh
        .into_iter()
        .map(|(name, (_, records))| (name, records))
        .collect())
}

/// Reads one provider's state and connection records from its tree.
fn provider_records(
    snap: &Snapshot<'_>,
    vault: &str,
    provider: &str,
    tree: gix::ObjectId,
) -> Result<ProviderRecords> {
    let mut state = ProviderState::default();
    let mut conns = Vec::new();
    for e in snap.list_tree(tree)? {
        if !e.is_dir {
            if e.name == layout::PROVIDER_FILE {
                let path = layout::provider_state(vault, provider);
                state = yaml::parse(&path, &snap.read_blob(e.id)?)?;
            }
            continue;
        }
        let record_file = snap
            .list_tree(e.id)?
            .into_iter()
            .find(|f| !f.is_dir && f.name == layout::CONNECTION_FILE);
        if let Some(f) = record_file {
            let path = layout::record(vault, provider, &e.name);
            conns.push((e.name, yaml::parse(&path, &snap.read_blob(f.id)?)?));
        }
    }
    conns.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((state, conns))
}

/// The file [`all_records`] caches a vault's records in.
pub fn records_cache(store_id: &str, vault: &str) -> Option<std::path::PathBuf> {
    crate::dirs::cache_dir()
        .ok()
        .map(|d| d.join(format!("records-{store_id}-{vault}.json")))
}

/// Vault names in the store.
pub fn vaults(snap: &Snapshot<'_>) -> Result<Vec<String>> {
    Ok(snap
        .list(layout::VAULTS)?
        .into_iter()
        .filter(|e| e.is_dir)
        .map(|e| e.name)
        .collect())
}

/// The current time, to the second.
pub fn now() -> Stamp {
    Stamp::now()
}
