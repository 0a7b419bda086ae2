//! What the membership operations share: who is acting, whether they may, re-encrypting a vault's
//! stale secrets (selective rekey), and marking its credentials for rotation.
//!
//! Roles are checked here against the committed state this identity reads; the seals of the trust
//! issue make them binding for everyone else too.

use std::collections::BTreeMap;

use age::secrecy::SecretString;

use crate::crypto::envelope;
use crate::crypto::identity::Identity;
use crate::error::{Error, ErrorKind, Result};
use crate::layout;
use crate::model::state::{ProviderState, Role, Rotation, SecretInfo, StoreMeta, VaultMeta};
use crate::model::time::Stamp;
use crate::store::{Snapshot, Txn};
use crate::vault::{self, Recipients, VaultRef};

/// The principal this identity is, from the committed state.
pub fn acting_principal(snap: &Snapshot<'_>, identity: &Identity) -> Result<String> {
    vault::principal_of(snap, identity.recipient())?.ok_or_else(|| {
        Error::crypto(format!(
            "your identity {} is not a principal of this store, so it cannot change membership",
            identity.path().display()
        ))
        .with_hint(format!(
            "ask an owner to run `authsome principal add NAME --recipient {}`",
            identity.recipient()
        ))
    })
}

/// The principal making a membership change, with the store and identity it acts through.
pub struct Actor {
    /// The store.
    pub store: crate::store::Store,
    /// The identity that decrypts (for the rekey).
    pub identity: Identity,
    /// The principal this identity is.
    pub me: String,
}

/// Opens the store as the principal this identity is.
pub fn actor(cx: &crate::context::Context) -> Result<Actor> {
    let store = cx.store()?;
    let identity = cx.identity()?;
    let me = acting_principal(&store.snapshot()?, &identity)?;
    Ok(Actor {
        store,
        identity,
        me,
    })
}

impl Actor {
    /// After the actor's own change went through: drops expired principals from the vaults it
    /// administers (see [`drop_expired`]). Best effort: a vault it cannot rekey keeps them, and
    /// `status` still flags them; the actor's command does not fail for it.
    pub fn tidy(&self) {
        let _ = drop_expired(&self.store, &self.identity, &self.me);
    }
}

/// Whether this identity may change the vault's connections (see [`require_writer`]).
pub fn is_writer(snap: &Snapshot<'_>, identity: &Identity, name: &str) -> bool {
    require_writer(snap, Some(identity), name).is_ok()
}

/// Refuses unless `who` is an owner of the store.
pub fn require_owner(meta: &StoreMeta, who: &str, what: &str) -> Result<()> {
    if meta.owners.iter().any(|o| o == who) {
        return Ok(());
    }
    Err(Error::crypto(format!(
        "{who} is not an owner of this store, and only owners can {what}"
    ))
    .with_hint(format!(
        "ask an owner ({}) to do it",
        meta.owners.join(", ")
    )))
}

/// Refuses unless `who` is an owner of the store or an admin of `vault`.
pub fn require_admin(meta: &StoreMeta, vault: &VaultMeta, name: &str, who: &str) -> Result<()> {
    if meta.owners.iter().any(|o| o == who) || vault.admins.iter().any(|a| a == who) {
        return Ok(());
    }
    Err(Error::crypto(format!(
        "{who} is not an admin of vault {name:?}, and only its admins and the store's owners can change who may use it"
    ))
    .with_hint(format!(
        "ask an admin ({}) to do it",
        vault.admins.join(", ")
    )))
}

/// Refuses a vault left without a reader: nothing could be encrypted to it.
pub fn keep_a_reader(vault: &VaultMeta, name: &str) -> Result<()> {
    if vault.members(Role::Reader).is_empty() {
        return Err(Error::usage(format!(
            "that would leave vault {name:?} without a reader, and nothing could be encrypted to it; grant another reader first, or delete the vault"
        )));
    }
    Ok(())
}

/// What a rekey of one vault did (or would do).
#[derive(Debug, Clone, Default, serde::Serialize, schemars::JsonSchema)]
pub struct Rekeyed {
    /// The vault.
    pub vault: String,
    /// Secret files re-encrypted (or, in a dry run, stale).
    pub rewritten: usize,
    /// Secret files in the vault.
    pub total: usize,
    /// The recipient fingerprint before (of the first stale file), when any was stale.
    pub from: Option<String>,
    /// The vault's recipient fingerprint now.
    pub to: String,
}

/// One secret file of a vault, with its recorded recipients.
struct SecretFile {
    path: String,
    place: envelope::Place,
    recorded: Option<String>,
}

/// Every secret file of `vault` as the transaction sees it: connections' secrets, provider-level
/// secrets, and the fingerprint key.
fn secret_files(txn: &Txn<'_>, store_id: &str, name: &str) -> Result<Vec<SecretFile>> {
    let refs = VaultRef::new(store_id, name);
    let meta = vault::vault_meta(txn, name)?;
    let mut files = Vec::new();
    if txn.read(&layout::fingerprint_key(name))?.is_some() {
        files.push(SecretFile {
            path: layout::fingerprint_key(name),
            place: refs.vault_secret(layout::FINGERPRINT_KEY),
            recorded: meta.fingerprint_key.map(|i| i.recipients),
        });
    }
    for provider in vault::providers(txn.base(), name)? {
        let state = vault::provider_state(txn, name, &provider)?;
        for (field, info) in &state.secrets {
            files.push(SecretFile {
                path: layout::provider_secret(name, &provider, field),
                place: refs.provider_secret(&provider, field),
                recorded: Some(info.recipients.clone()),
            });
        }
        // A client secret written before provider.yaml recorded its recipients counts as stale.
        let client = crate::oauth::CLIENT_SECRET;
        if !state.secrets.contains_key(client)
            && txn
                .read(&layout::provider_secret(name, &provider, client))?
                .is_some()
        {
            files.push(SecretFile {
                path: layout::provider_secret(name, &provider, client),
                place: refs.provider_secret(&provider, client),
                recorded: None,
            });
        }
        for conn in vault::connections(txn.base(), name, &provider)? {
            let Some(record) = vault::record(txn, name, &provider, &conn)? else {
                continue;
            };
            let c = refs.connection(&provider, &conn);
            for (field, info) in &record.secrets {
                files.push(SecretFile {
                    path: c.secret_path(field),
                    place: c.place(field),
                    recorded: Some(info.recipients.clone()),
                });
            }
        }
    }
    Ok(files)
}

/// Re-encrypts the stale secrets of `vault` (all of them with `force`) to its current readers,
/// as the transaction leaves them. Values, binding headers and `updated_at` are kept; every other
/// file keeps its blob. Every stale file is decrypted before anything is staged: if one cannot
/// be, nothing is, and the error lists them all. With `dry_run`, only counts.
pub fn rekey(
    txn: &mut Txn<'_>,
    store_id: &str,
    name: &str,
    identity: &Identity,
    force: bool,
    dry_run: bool,
) -> Result<Rekeyed> {
    let recipients = vault::load_recipients(txn, name)?;
    let files = secret_files(txn, store_id, name)?;
    let total = files.len();
    let stale: Vec<&SecretFile> = files
        .iter()
        .filter(|f| force || f.recorded.as_deref() != Some(recipients.fingerprint.as_str()))
        .collect();
    let mut report = Rekeyed {
        vault: name.to_owned(),
        rewritten: stale.len(),
        total,
        from: stale.iter().find_map(|f| f.recorded.clone()),
        to: recipients.fingerprint.clone(),
    };
    if dry_run || stale.is_empty() {
        report.rewritten = stale.len();
        return Ok(report);
    }
    let mut inputs = Vec::with_capacity(stale.len());
    for f in &stale {
        inputs.push((*f, txn.read(&f.path)?.unwrap_or_default()));
    }
    // Decrypting and re-encrypting is all the work: spread it over the cores, then stage.
    let results = reencrypt_all(&inputs, identity, &recipients);
    let unreadable: Vec<String> = results
        .iter()
        .zip(&inputs)
        .filter(|(r, _)| r.is_err())
        .map(|(_, (f, _))| f.path.clone())
        .collect();
    if !unreadable.is_empty() {
        return Err(Error::new(
            ErrorKind::Crypto,
            format!(
                "this identity cannot decrypt {} stale secret{} of vault {name:?} ({}), so nothing was re-encrypted",
                unreadable.len(),
                if unreadable.len() == 1 { "" } else { "s" },
                unreadable.join(", ")
            ),
        )
        .with_hint("run the command as a reader of the vault who can read them"));
    }
    let now = Stamp::now();
    let mut written = Vec::with_capacity(inputs.len());
    for ((f, _), sealed) in inputs.iter().zip(results) {
        txn.write(f.path.clone(), sealed?);
        written.push(*f);
    }
    record_new_recipients(txn, name, &written, &recipients.fingerprint, now)?;
    Ok(report)
}

/// Opens each file with `identity` and seals its value again to `recipients`, in parallel.
fn reencrypt_all(
    inputs: &[(&SecretFile, Vec<u8>)],
    identity: &Identity,
    recipients: &Recipients,
) -> Vec<Result<Vec<u8>>> {
    let one = |(f, bytes): &(&SecretFile, Vec<u8>)| -> Result<Vec<u8>> {
        let value: SecretString = envelope::open(&f.place, &f.path, bytes, identity)?;
        envelope::seal(&f.place, &value, &recipients.parsed)
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if threads < 2 || inputs.len() < 16 {
        return inputs.iter().map(one).collect();
    }
    let chunk = inputs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = inputs
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a rekey thread does not panic"))
            .collect()
    })
}

/// Records the new recipient fingerprint of every re-encrypted file where its info lives (the
/// connection's record, the provider's state, the vault's metadata), each file written once.
/// Values did not change, so `updated_at` is kept and `rekeyed_at` set.
fn record_new_recipients(
    txn: &mut Txn<'_>,
    name: &str,
    files: &[&SecretFile],
    fingerprint: &str,
    now: Stamp,
) -> Result<()> {
    let renew = |old: Option<&SecretInfo>| SecretInfo {
        recipients: fingerprint.to_owned(),
        updated_at: old.map_or(now, |i| i.updated_at),
        rekeyed_at: Some(now),
    };
    let mut records: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut providers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut key = false;
    for f in files {
        let field = f.place.field.clone();
        match (&f.place.connection, f.place.provider.is_empty()) {
            (Some(conn), _) => records
                .entry((f.place.provider.clone(), conn.clone()))
                .or_default()
                .push(field),
            (None, true) => key = true,
            (None, false) => providers
                .entry(f.place.provider.clone())
                .or_default()
                .push(field),
        }
    }
    for ((provider, conn), fields) in records {
        if let Some(mut record) = vault::record(txn, name, &provider, &conn)? {
            for field in fields {
                let info = renew(record.secrets.get(&field));
                record.secrets.insert(field, info);
            }
            vault::write_yaml(txn, layout::record(name, &provider, &conn), &record)?;
        }
    }
    for (provider, fields) in providers {
        let mut state: ProviderState = vault::provider_state(txn, name, &provider)?;
        for field in fields {
            let info = renew(state.secrets.get(&field));
            state.secrets.insert(field, info);
        }
        vault::write_provider_state(txn, name, &provider, &state)?;
    }
    if key {
        let mut meta = vault::vault_meta(txn, name)?;
        meta.fingerprint_key = Some(renew(meta.fingerprint_key.as_ref()));
        vault::write_yaml(txn, layout::vault_meta(name), &meta)?;
    }
    Ok(())
}

/// Marks every connection of `vault` and every provider-level secret for rotation, because
/// someone who could read them lost access. Returns how many connections were marked.
pub fn mark_for_rotation(txn: &mut Txn<'_>, name: &str, reason: &str) -> Result<usize> {
    let mark = Rotation {
        needed: true,
        reason: reason.to_owned(),
        since: Stamp::now(),
    };
    let mut marked = 0;
    for provider in vault::providers(txn.base(), name)? {
        let mut state = vault::provider_state(txn, name, &provider)?;
        if txn
            .read(&layout::provider_secret(
                name,
                &provider,
                crate::oauth::CLIENT_SECRET,
            ))?
            .is_some()
            && state.rotation.is_none()
        {
            state.rotation = Some(mark.clone());
            vault::write_provider_state(txn, name, &provider, &state)?;
        }
        for conn in vault::connections(txn.base(), name, &provider)? {
            let Some(mut record) = vault::record(txn, name, &provider, &conn)? else {
                continue;
            };
            if record.secrets.is_empty() {
                continue;
            }
            if record.rotation.is_none() {
                record.rotation = Some(mark.clone());
                vault::write_yaml(txn, layout::record(name, &provider, &conn), &record)?;
            }
            marked += 1;
        }
    }
    Ok(marked)
}

/// Drops principals whose `expires` has passed from the vaults `me` administers (every vault
/// for an owner), each in a commit of its own (`expire agent ci-deploy from ci`) with the vault
/// rekeyed, before `me`'s own change. A vault the drop would leave without a reader keeps it
/// (`status` still flags it). Returns what was dropped, as `principal/vault`.
pub fn drop_expired(
    store: &crate::store::Store,
    identity: &Identity,
    me: &str,
) -> Result<Vec<String>> {
    let snap = store.snapshot()?;
    let meta = snap.meta()?;
    let now = Stamp::now();
    let mut expired = Vec::new();
    for name in vault::principals(&snap)? {
        let p = vault::principal(&snap, &name)?;
        if p.expires.is_some_and(|at| at < now) {
            expired.push((name, p.kind));
        }
    }
    let mut dropped = Vec::new();
    if expired.is_empty() {
        return Ok(dropped);
    }
    let owner = meta.owners.iter().any(|o| o == me);
    for v in vault::vaults(&snap)? {
        let vm = vault::vault_meta(&snap, &v)?;
        if !owner && !vm.admins.iter().any(|a| a == me) {
            continue;
        }
        for (name, kind) in &expired {
            let roles = vm.roles_of(name);
            let keeps_a_reader = vm.readers.iter().any(|r| r != name);
            if roles.is_empty() || !keeps_a_reader {
                continue;
            }
            // A vault this identity cannot rekey keeps the principal (the rekey refuses whole).
            let done = store.transact(|txn| {
                let mut vm = vault::vault_meta(txn, &v)?;
                for role in vm.roles_of(name) {
                    vm.members_mut(role).retain(|m| m != name);
                }
                vault::write_yaml(txn, layout::vault_meta(&v), &vm)?;
                rekey(txn, &meta.id, &v, identity, false, false)?;
                Ok(crate::store::Edit::new(
                    format!("expire {} {name} from {v}", kind.as_str()),
                    (),
                ))
            });
            if done.is_ok() {
                dropped.push(format!("{name}/{v}"));
            }
        }
    }
    Ok(dropped)
}

/// Refuses a change to a vault's connections unless this identity is a principal who is one of
/// its writers, or an owner. Fails closed: no identity, or one that is no principal, is refused.
pub fn require_writer(snap: &Snapshot<'_>, identity: Option<&Identity>, name: &str) -> Result<()> {
    let meta = snap.meta()?;
    // Format 1 has no roles; its writes are refused anyway until `upgrade`.
    if meta.format < crate::model::state::STORE_FORMAT {
        return Ok(());
    }
    let identity = identity.ok_or_else(|| {
        Error::crypto(format!(
            "changing vault {name:?} needs your identity, to know you are one of its writers; run `authsome init`, or pass --identity"
        ))
    })?;
    let me = acting_principal(snap, identity)?;
    let vm = vault::vault_meta(snap, name)?;
    if meta.owners.contains(&me) || vm.writers.contains(&me) {
        return Ok(());
    }
    let kind = vault::principal(snap, &me)?.kind;
    let hint = if kind == crate::model::state::PrincipalKind::Person {
        format!("ask an admin of the vault to run `authsome grant {me} {name} --role writer`")
    } else {
        format!(
            "an agent writes only when an owner creates it with `authsome agent create NAME --vault {name} --writer`"
        )
    };
    Err(Error::crypto(format!(
        "{me} is not a writer of vault {name:?}, so it cannot change its connections"
    ))
    .with_hint(hint))
}
