//! `agent create`: a principal of kind agent with a fresh X25519 identity, reader of one vault
//! only, in one commit `agent create NAME (vault V, reader[, expires T])`. The identity is handed
//! out once and never stored in the repository: other vaults have no stanza for it, so it cannot
//! decrypt them, with authsome or with stock `age`.

use age::secrecy::SecretString;
use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::layout;
use crate::model::names::{self, VaultName};
use crate::model::state::{Added, Principal, PrincipalKind, Role};
use crate::model::time::Stamp;
use crate::store::Edit;
use crate::vault;

use super::access::{self, Rekeyed};

/// What `agent create` did. The identity itself is not part of the report.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// Always `created`.
    pub status: &'static str,
    /// The agent's principal.
    pub principal: String,
    /// The vault it reads.
    pub vault: VaultName,
    /// Its recipient.
    pub recipient: String,
    /// When it expires.
    pub expires: Option<Stamp>,
    /// The vault's rekey.
    pub rekeyed: Rekeyed,
    /// The commit made.
    pub commit: Option<String>,
    /// The new identity (`AGE-SECRET-KEY-1...`), for the caller to hand out once.
    #[serde(skip)]
    pub identity: SecretString,
    /// With `writer`: the new signing key (OpenSSH private key text), to hand out once.
    #[serde(skip)]
    pub signing_key: Option<zeroize::Zeroizing<String>>,
    /// With `writer`: its public key.
    pub signer: Option<String>,
}

/// What `agent create --json` prints when the identity goes to stdout: the report with the
/// identity inside, which the caller must keep (it is shown once).
#[derive(Serialize, schemars::JsonSchema)]
pub struct Created<'a> {
    /// The agent.
    #[serde(flatten)]
    pub report: &'a Report,
    /// The agent's age identity (`AGE-SECRET-KEY-1...`).
    #[serde(serialize_with = "expose")]
    #[schemars(with = "String")]
    pub identity: &'a SecretString,
}

fn expose<S: serde::Serializer>(
    secret: &&SecretString,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use age::secrecy::ExposeSecret;
    s.serialize_str(secret.expose_secret())
}

/// Creates an agent that reads `vault` only (and with `writer`, writes it). Only owners can: an
/// agent is a new principal.
pub fn create(
    cx: &Context,
    name: &str,
    vault_name: &VaultName,
    writer: bool,
    expires: Option<Stamp>,
) -> Result<Report> {
    names::validate("principal", name)?;
    let actor = access::actor(cx)?;
    let (store, identity, me) = (&actor.store, &actor.identity, &actor.me);
    let key = age::x25519::Identity::generate();
    let recipient = key.to_public().to_string();
    let secret = key.to_string();
    let signing = if writer {
        Some(crate::crypto::signing::generate_text()?)
    } else {
        None
    };
    let signer = signing.as_ref().map(|(_, public)| public.clone());
    let outcome = store.transact(|txn| {
        let meta = txn.base().meta()?;
        let mut vm = vault::vault_meta(txn, vault_name)?;
        // An agent is a new principal, and principals are the owners' to add.
        access::require_owner(&meta, me, "create agents")?;
        if txn.read(&layout::principal(name))?.is_some() {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("a principal named {name:?} already exists; pick another name"),
            ));
        }
        let principal = Principal {
            kind: PrincipalKind::Agent,
            recipients: vec![recipient.clone()],
            signers: signer.iter().cloned().collect(),
            expires,
            added: Some(Added {
                by: me.clone(),
                at: Stamp::now(),
            }),
        };
        vault::write_yaml(txn, layout::principal(name), &principal)?;
        let roles: &[Role] = if writer {
            &[Role::Reader, Role::Writer]
        } else {
            &[Role::Reader]
        };
        for role in roles {
            vm.members_mut(*role).push(name.to_owned());
            vm.members_mut(*role).sort();
        }
        vault::write_yaml(txn, layout::vault_meta(vault_name), &vm)?;
        let r = access::rekey(txn, &meta.id, vault_name, identity, false, false)?;
        let until = expires
            .map(|e| format!(", expires {e}"))
            .unwrap_or_default();
        Ok(Edit::new(
            format!(
                "agent create {name} (vault {vault_name}, {}{until})",
                if writer { "reader, writer" } else { "reader" }
            ),
            r,
        ))
    })?;
    let commit = outcome.commit().map(|c| c.to_string());
    actor.tidy();
    Ok(Report {
        status: "created",
        principal: name.to_owned(),
        vault: vault_name.clone(),
        recipient,
        expires,
        rekeyed: outcome.into_value(),
        commit,
        identity: secret,
        signing_key: signing.map(|(text, _)| text),
        signer,
    })
}
