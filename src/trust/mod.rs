//! Trust: seals, SSH-signed statements per scope kept in the tree, which say who vouched for
//! what a scope holds (design: `docs/` and the trust issue).
//!
//! This first step writes seals (`authsome seal`) and checks them (`authsome verify`) against the
//! policy at HEAD: the signer must be an owner (store scope) or a writer, admin or owner of the
//! vault, and the seal must name the tree that is there. The local pin of the last verified policy,
//! which stops someone with push access from adding themselves and signing, and the check on
//! every read, come next.

pub mod headers;
pub mod pin;
pub mod policy;
pub mod seal;
pub mod sealer;
pub mod settings;

use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::model::state::SEALED_FORMAT;
use crate::store::Snapshot;
use crate::ui::Ui;
use crate::vault;
pub use policy::{Signers, authorised};
use seal::{Scope, Seal};
pub use settings::{Settings, TrustRoot};

/// Every scope of the store: the store scope, then each vault.
pub fn scopes(snap: &Snapshot<'_>) -> Result<Vec<Scope>> {
    let mut all = vec![Scope::Store];
    all.extend(vault::vaults(snap)?.into_iter().map(Scope::Vault));
    Ok(all)
}

/// The committed seal of a scope, if it has one.
pub fn read_seal(snap: &Snapshot<'_>, scope: &Scope) -> Result<Option<Seal>> {
    let path = scope.seal_path();
    match snap.read(&path)? {
        Some(bytes) => Seal::parse(&path, &bytes).map(Some),
        None => Ok(None),
    }
}

/// How one scope stands.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ScopeCheck {
    /// `store` or `vaults/<name>`.
    pub scope: String,
    /// `verified`, `unsealed`, `changed` (the tree is not the one sealed), `unauthorised`,
    /// `unverified` (refused by what this machine verified before: the pinned policy, a
    /// rollback, a fork),
    /// `foreign` (another store's seal), `vaults` (the store seal lists other vaults),
    /// `headers` (a secret's age header does not match its vault's readers) or `malformed`.
    pub status: &'static str,
    /// The seal's sequence number.
    pub seq: Option<u64>,
    /// Who signed it, of those allowed.
    pub signed_by: Vec<String>,
    /// What is wrong, and what to do.
    pub detail: Option<String>,
}

/// What `verify --json` prints.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct VerifyReport {
    /// `verified`, or `unverified` when a scope did not (then `verify` exits 12).
    pub status: &'static str,
    /// Every scope checked.
    pub scopes: Vec<ScopeCheck>,
}

impl ScopeCheck {
    /// Whether the scope verified.
    pub fn ok(&self) -> bool {
        self.status == "verified"
    }
}

/// Checks one scope's seal against what HEAD holds and HEAD's policy.
pub fn check(snap: &Snapshot<'_>, scope: &Scope) -> Result<ScopeCheck> {
    check_with(snap, scope, None)
}

/// [`check`], authorising the signers of `policy` (the policy this machine last verified)
/// instead of the policy at `snap`, which whoever wrote the change could have edited.
pub fn check_with(
    snap: &Snapshot<'_>,
    scope: &Scope,
    policy: Option<&policy::Policy>,
) -> Result<ScopeCheck> {
    let name = scope.name();
    let mut out = ScopeCheck {
        scope: name.clone(),
        status: "verified",
        seq: None,
        signed_by: Vec::new(),
        detail: None,
    };
    let fail = |mut out: ScopeCheck, status, detail: String| {
        out.status = status;
        out.detail = Some(detail);
        Ok(out)
    };
    let seal = match read_seal(snap, scope) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return fail(
                out,
                "unsealed",
                format!(
                    "{name} has no seal; an authorised member reviews it and runs `authsome seal {name}`"
                ),
            );
        }
        Err(e) => return fail(out, "malformed", e.message().to_owned()),
    };
    out.seq = Some(seal.statement.seq);
    let meta = snap.meta()?;
    if seal.statement.store != meta.id || seal.statement.scope != *scope {
        return fail(
            out,
            "foreign",
            format!("the seal of {name} was made for another store or scope; it was copied here"),
        );
    }
    let tree = scope.tree(snap)?.unwrap_or_default();
    if seal.statement.tree != tree {
        return fail(
            out,
            "changed",
            format!(
                "{name} changed since its seal #{}{}; review it (`authsome log`), then `authsome seal {name}` if the change is right, or `authsome restore` it",
                seal.statement.seq,
                changed_since(snap, scope, &seal.statement.tree).unwrap_or_else(|_| format!(
                    " (tree {} is not the sealed {})",
                    short(&tree),
                    short(&seal.statement.tree)
                ))
            ),
        );
    }
    if let Scope::Store = scope {
        let vaults = vault::vaults(snap)?;
        if seal.statement.vaults.as_ref() != Some(&vaults) {
            return fail(
                out,
                "vaults",
                format!(
                    "the store seal lists the vaults {}, but the store has {}",
                    seal.statement.vaults.clone().unwrap_or_default().join(", "),
                    vaults.join(", ")
                ),
            );
        }
    }
    let owned;
    let policy = match policy {
        Some(p) => p,
        None => {
            owned = policy::Policy::of(snap, scope)?;
            &owned
        }
    };
    let required = policy.required(snap, scope)?;
    // A change that raises `owner_threshold` needs as many owners as it asks for.
    let threshold = match scope {
        Scope::Store => required
            .threshold
            .max(meta.owner_threshold.unwrap_or(1) as usize),
        Scope::Vault(_) => required.threshold,
    };
    let who = &required.who;
    let signed: Vec<String> = seal
        .signed_by(required.signers)
        .into_iter()
        .map(str::to_owned)
        .collect();
    out.signed_by = signed.clone();
    if signed.len() < threshold {
        return fail(
            out,
            "unauthorised",
            format!(
                "the seal of {name} #{} is not signed by {threshold} of its {who}; have one of them review it and run `authsome seal {name}`",
                seal.statement.seq
            ),
        );
    }
    Ok(out)
}

/// What changed in `scope` since the state whose tree is `sealed`, in words: the paths, and the
/// commits (with their authors) that changed them, found on the first-parent history.
fn changed_since(snap: &Snapshot<'_>, scope: &Scope, sealed: &str) -> Result<String> {
    /// How far back to look, and how much to name.
    const DEPTH: usize = 500;
    const NAMED: usize = 5;
    let store = snap.store();
    let Some(tip) = snap.commit() else {
        return Ok(String::new());
    };
    let mut commits = Vec::new();
    let mut newer: Option<(gix::ObjectId, Option<String>)> = None;
    let mut base = None;
    for commit in store.walk(tip)?.into_iter().take(DEPTH) {
        let then = Snapshot::at_commit(store, commit)?;
        let tree = scope.tree(&then)?;
        if let Some((id, newer_tree)) = &newer
            && *newer_tree != tree
        {
            commits.push(*id);
        }
        if tree.as_deref() == Some(sealed) {
            base = Some(then.tree_id());
            break;
        }
        newer = Some((commit, tree));
    }
    let Some(base) = base else {
        return Ok(format!(
            " (tree {} is not the sealed {}, which is not on this branch)",
            short(&scope.tree(snap)?.unwrap_or_default()),
            short(sealed)
        ));
    };
    let inside = |path: &str| match scope {
        Scope::Vault(v) => path.starts_with(&format!("{}/", crate::layout::vault(v))),
        Scope::Store => !path.starts_with(&format!("{}/", crate::layout::VAULTS)),
    };
    let paths: Vec<String> = store
        .changes(Some(base), snap.tree_id())?
        .into_iter()
        .filter(|c| inside(&c.path) && c.path.rsplit('/').next() != Some(crate::layout::SEAL))
        .map(|c| c.path)
        .collect();
    let mut by = Vec::new();
    for id in &commits {
        let info = store.commit_info(*id)?;
        by.push(format!(
            "{} \"{}\" ({} <{}>)",
            &id.to_string()[..8],
            info.summary,
            info.author,
            info.email
        ));
    }
    let list = |items: &[String]| {
        let mut text = items
            .iter()
            .take(NAMED)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if items.len() > NAMED {
            text.push_str(&format!(" and {} more", items.len() - NAMED));
        }
        text
    };
    Ok(format!(
        ": {} changed by {}",
        if paths.is_empty() {
            "its tree".to_owned()
        } else {
            list(&paths)
        },
        if by.is_empty() {
            "a commit not on this branch".to_owned()
        } else {
            list(&by)
        }
    ))
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// `name namespaces="authsome-seal,git" ssh-ed25519 AAAA...` for every signer of every principal,
/// as `ssh-keygen -Y verify -f` and `git verify-commit` (`gpg.ssh.allowedSignersFile`) read them.
pub fn allowed_signers(snap: &Snapshot<'_>) -> Result<String> {
    // The keys this machine verified, never whatever HEAD now says.
    let pin = pin::load(&snap.meta()?.id)?;
    if pin.scopes.is_empty() {
        return Err(Error::new(
            ErrorKind::Trust,
            "this machine has not trusted this store yet, so it has no signers to vouch for",
        )
        .with_hint("check the owners with `authsome trust show`, then `authsome trust accept`"));
    }
    let mut signers = std::collections::BTreeSet::new();
    for policy in pin.scopes.values().filter_map(|p| p.policy.as_ref()) {
        for (name, keys) in policy.signers.iter().chain(&policy.admins) {
            for key in keys {
                signers.insert((name.clone(), key.clone()));
            }
        }
    }
    Ok(signers
        .into_iter()
        .map(|(name, key)| format!("{name} namespaces=\"{},git\" {key}\n", seal::NAMESPACE))
        .collect())
}

/// The check on read: in a sealed store, each scope a command uses must verify, and must not go
/// back from what this machine verified before (the pin); what verifies is pinned. A format 2
/// store is not checked (`authsome upgrade` seals it). What `settings` let past (a rollback) is
/// said through `ui`.
pub fn gate(snap: &Snapshot<'_>, scopes: &[Scope], settings: &Settings, ui: &dyn Ui) -> Result<()> {
    gate_inner(snap, scopes, settings, ui)
}

/// [`gate`] for the scopes a command reading `vault` uses: the store scope (providers,
/// principals) and the vault.
pub fn gate_vault(
    snap: &Snapshot<'_>,
    vault: &str,
    settings: &Settings,
    ui: &dyn Ui,
) -> Result<()> {
    gate_inner(
        snap,
        &[Scope::Store, Scope::Vault(vault.to_owned())],
        settings,
        ui,
    )
}

fn gate_inner(
    snap: &Snapshot<'_>,
    scopes: &[Scope],
    settings: &Settings,
    ui: &dyn Ui,
) -> Result<()> {
    let meta = snap.meta()?;
    let sealed = snap.read(&crate::layout::store_seal())?.is_some();
    if meta.format < SEALED_FORMAT || !sealed {
        // A store this machine trusted before, now without seals or at a lower format, had
        // them taken away: the oldest way around a check is to remove it.
        if meta.format >= SEALED_FORMAT || pin::indexed(&meta.id)? {
            return Err(Error::new(
                ErrorKind::Trust,
                format!(
                    "the store {} is format {} {}, but {}: its seals were removed (a downgrade)",
                    meta.id,
                    meta.format,
                    if sealed { "with seals" } else { "without seals" },
                    if meta.format >= SEALED_FORMAT {
                        "a store of format 3 is sealed from its first commit"
                    } else {
                        "this machine verified it sealed before"
                    }
                ),
            )
            .with_hint(
                "check `authsome log` for the commit that removed them and restore it (`authsome restore`), or pull the sealed state",
            ));
        }
        // A format 2 store is not sealed; `authsome upgrade` seals it.
        return Ok(());
    }
    // A vault that is not there is a wrong name, not an unsealed vault. (One path lookup per
    // vault on the read path; the list of vaults only when one is missing.)
    for scope in scopes {
        if let Scope::Vault(v) = scope
            && snap.entry_id(&crate::layout::vault(v))?.is_none()
        {
            let vaults = vault::vaults(snap)?;
            return Err(Error::store(format!(
                "there is no vault named {v:?}; the store has {}",
                vaults.join(", ")
            ))
            .with_hint(format!(
                "pass --vault with one of those, or create it with `authsome vault create {v}`"
            )));
        }
    }
    let mut pin = pin::load(&meta.id)?;
    if !pin.scopes.contains_key(&Scope::Store.name()) {
        first_use(snap, &mut pin, settings.root.as_ref())?;
    }
    if let Some(root) = &settings.root {
        at_or_above(snap, root.min_seq)?;
    }
    if verify_against(snap, scopes, &mut pin, settings.allow_rollback, ui)? {
        pin::save(&meta.id, &pin)?;
    }
    Ok(())
}

/// A store seal below the trust root's `min-seq` is a remote rolled back below what CI knows.
fn at_or_above(snap: &Snapshot<'_>, min_seq: u64) -> Result<()> {
    let seq = read_seal(snap, &Scope::Store)?.map_or(0, |s| s.statement.seq);
    if seq < min_seq {
        return Err(Error::new(
            ErrorKind::Trust,
            format!(
                "the store is at store seal #{seq}, below the trust root's min-seq {min_seq}: it was rolled back"
            ),
        )
        .with_hint("check the remote's history; the newer state must come back before anything is used"));
    }
    Ok(())
}

/// Verifies `scopes` of `snap` against `pin` (what was verified before), moving each entry up
/// to what verifies; whether any entry moved.
fn verify_against(
    snap: &Snapshot<'_>,
    scopes: &[Scope],
    pin: &mut pin::Pin,
    allow_rollback: bool,
    ui: &dyn Ui,
) -> Result<bool> {
    let mut changed = false;
    for scope in scopes {
        let name = scope.name();
        let seal = read_seal(snap, scope)?;
        let mut policy = pin.scopes.get(&name).and_then(|p| p.policy.clone());
        if let Some(seal) = &seal {
            let digest = seal.statement.digest();
            let against = pin::compare(pin, &name, seal.statement.seq, &digest);
            match against {
                pin::Against::Older(pinned) if allow_rollback => {
                    // Looked at on purpose: it must still be signed by someone the pinned
                    // policy allows, and it is never pinned.
                    let result = check_with(snap, scope, policy.as_ref())?;
                    if !result.ok() {
                        return Err(Error::new(
                            ErrorKind::Trust,
                            result.detail.unwrap_or_default(),
                        ));
                    }
                    ui.warn(&format!(
                        "reading {name} at seal #{}, older than the #{pinned} this machine verified (--allow-rollback)",
                        seal.statement.seq
                    ));
                    continue;
                }
                pin::Against::Older(pinned) => {
                    return Err(pin::rollback(&name, seal.statement.seq, pinned));
                }
                pin::Against::Fork => return Err(pin::fork(&name, seal.statement.seq)),
                _ => {}
            }
            // The pinned seal itself, still naming the tree that is there: nothing to verify.
            if against == pin::Against::Same
                && scope.tree(snap)?.as_deref() == Some(seal.statement.tree.as_str())
                && match scope {
                    // The list of vaults is outside the store scope's tree: compare it too.
                    Scope::Store => seal.statement.vaults.as_ref() == Some(&vault::vaults(snap)?),
                    Scope::Vault(_) => true,
                }
            {
                continue;
            }
            // Seals between the pinned one and HEAD's are verified in order, each by the policy
            // the step before established (a member granted at one seal may sign the next).
            if against == pin::Against::Newer
                && let Some(pinned) = pin.scopes.get(&name)
            {
                for (commit, step) in replay(snap, scope, &pinned.seal, seal)? {
                    let then = Snapshot::at_commit(snap.store(), commit)?;
                    let result = check_with(&then, scope, policy.as_ref())?;
                    if !result.ok() {
                        return Err(Error::new(
                            ErrorKind::Trust,
                            format!(
                                "{name}'s seal #{} in commit {} does not verify: {}",
                                step.statement.seq,
                                &commit.to_string()[..8],
                                result.detail.unwrap_or_default()
                            ),
                        ));
                    }
                    policy = Some(policy::Policy::of(&then, scope)?);
                }
            }
        }
        let result = check_with(snap, scope, policy.as_ref())?;
        if !result.ok() {
            return Err(Error::new(
                ErrorKind::Trust,
                result
                    .detail
                    .unwrap_or_else(|| format!("{name} does not verify")),
            ));
        }
        if let Some(seal) = seal {
            pin.scopes.insert(
                name,
                pin::Pinned {
                    seq: seal.statement.seq,
                    seal: seal.statement.digest(),
                    policy: Some(policy::Policy::of(snap, scope)?),
                },
            );
            changed = true;
        }
    }
    Ok(changed)
}

/// Verifies a fetched remote tip (`incoming`) before anything of it is used: each scope's seal
/// must go forward from what this clone last saw of the remote (`seen`: its remote-tracking
/// branch, or the last commit both share), and be authorised by the policy this machine
/// verified. A remote that went back (a forced push of an older state) or forked is refused.
/// Nothing is pinned: the pin moves once the result of the sync verifies.
pub fn verify_incoming(
    incoming: &Snapshot<'_>,
    seen: Option<&Snapshot<'_>>,
    settings: &Settings,
) -> Result<()> {
    let meta = incoming.meta()?;
    if meta.format < SEALED_FORMAT && !pin::indexed(&meta.id)? {
        return Ok(());
    }
    if incoming.read(&crate::layout::store_seal())?.is_none() {
        return gate_inner(
            incoming,
            &[Scope::Store],
            &settings.strict(),
            &crate::ui::Silent,
        );
    }
    let mut pin = pin::load(&meta.id)?;
    if !pin.scopes.contains_key(&Scope::Store.name()) {
        first_use(incoming, &mut pin, settings.root.as_ref())?;
    }
    if let Some(root) = &settings.root {
        at_or_above(incoming, root.min_seq)?;
    }
    if let Some(seen) = seen
        && seen.read(&crate::layout::store_seal())?.is_some()
    {
        let mut from_seen = pin::Pin::default();
        for scope in scopes(seen)? {
            if let Some(seal) = read_seal(seen, &scope)? {
                let policy = match pin.scopes.get(&scope.name()) {
                    Some(p) => p.policy.clone(),
                    None => Some(policy::Policy::of(seen, &scope)?),
                };
                from_seen.scopes.insert(
                    scope.name(),
                    pin::Pinned {
                        seq: seal.statement.seq,
                        seal: seal.statement.digest(),
                        policy,
                    },
                );
            }
        }
        pin = from_seen;
    }
    verify_against(
        incoming,
        &scopes(incoming)?,
        &mut pin,
        false,
        &crate::ui::Silent,
    )
    .map(|_| ())
}

/// The repository setting that turns on signed commits (`authsome config signing.commits true`).
pub const SIGN_COMMITS: &str = "authsome.signCommits";

/// Whether this clone signs authsome's commits (`gpgsig`, SSHSIG in namespace `git`): for `git
/// verify-commit` and forges, never a source of trust (seals are).
pub fn signs_commits(store: &crate::store::Store) -> bool {
    store
        .repo()
        .config_snapshot()
        .boolean(SIGN_COMMITS)
        .unwrap_or(false)
}

/// Pins the seals a write of this machine just committed (`written` holds the paths it wrote):
/// it verified the state they build on and signed them, so they need no check on the next read.
pub fn pin_written(snap: &Snapshot<'_>, written: &[String]) -> Result<()> {
    let meta = snap.meta()?;
    let mut pin = pin::load_any(&meta.id)?;
    let mut changed = false;
    for path in written {
        let scope = match path.strip_suffix(crate::layout::SEAL) {
            Some("") => Scope::Store,
            Some(dir) => match dir
                .strip_prefix("vaults/")
                .and_then(|d| d.strip_suffix('/'))
            {
                Some(v) => Scope::Vault(v.to_owned()),
                None => continue,
            },
            None => continue,
        };
        let Some(seal) = read_seal(snap, &scope)? else {
            continue;
        };
        let newer = pin
            .scopes
            .get(&scope.name())
            .is_none_or(|p| p.seq < seal.statement.seq);
        if newer {
            pin.scopes.insert(
                scope.name(),
                pin::Pinned {
                    seq: seal.statement.seq,
                    seal: seal.statement.digest(),
                    policy: Some(policy::Policy::of(snap, &scope)?),
                },
            );
            changed = true;
        }
    }
    if changed {
        pin::save(&meta.id, &pin)?;
    }
    Ok(())
}

/// `SHA256:...` of an SSH public key, as `ssh-keygen -l` prints it.
pub fn key_fingerprint(key: &str) -> String {
    crate::crypto::recipients::key_fingerprint(key)
        .trim_start_matches("ssh ")
        .to_owned()
}

/// The store's owners with their signer fingerprints, as the store seal at `snap` names them.
pub fn owners(snap: &Snapshot<'_>) -> Result<Vec<(String, Vec<String>)>> {
    let (owners, _) = authorised(snap, &Scope::Store)?;
    Ok(owners
        .into_iter()
        .map(|(n, keys)| (n, keys.iter().map(|k| key_fingerprint(k)).collect()))
        .collect())
}

/// First use of a sealed store on this machine: nothing is trusted until the store scope is
/// accepted, by `authsome trust accept` or by a trust root naming an owner's key.
fn first_use(snap: &Snapshot<'_>, pin: &mut pin::Pin, root: Option<&TrustRoot>) -> Result<()> {
    let Some(root) = root else {
        return Err(Error::new(
            ErrorKind::Trust,
            "this machine has not trusted this sealed store yet, so nothing in it is used",
        )
        .with_hint(
            "check its owners with `authsome trust show`, compare their key fingerprints with them over another channel, then `authsome trust accept` (or set AUTHSOME_TRUST_ROOT=SHA256:...)",
        ));
    };
    accept_rooted(snap, pin, root)
}

/// Trusts the store as it is at `snap`: its store seal must verify against its own policy; then
/// every scope that verifies is pinned.
pub fn accept(snap: &Snapshot<'_>, pin: &mut pin::Pin) -> Result<()> {
    let store = check(snap, &Scope::Store)?;
    if !store.ok() {
        return Err(Error::new(
            ErrorKind::Trust,
            store
                .detail
                .unwrap_or_else(|| "the store scope does not verify".to_owned()),
        ));
    }
    pin_verified(snap, pin)?;
    pin::save(&snap.meta()?.id, pin)
}

/// Pins every scope of `snap` that verifies against its own policy.
fn pin_verified(snap: &Snapshot<'_>, pin: &mut pin::Pin) -> Result<()> {
    for scope in scopes(snap)? {
        if check(snap, &scope)?.ok()
            && let Some(seal) = read_seal(snap, &scope)?
        {
            pin.scopes.insert(
                scope.name(),
                pin::Pinned {
                    seq: seal.statement.seq,
                    seal: seal.statement.digest(),
                    policy: Some(policy::Policy::of(snap, &scope)?),
                },
            );
        }
    }
    Ok(())
}

/// Trusts the store from the newest store seal on `snap`'s first-parent history that a key of
/// `root` signed (at or above its `min-seq`): that commit's scopes are pinned, and every later
/// seal up to `snap` is replayed from there, each judged by the policy the step before set.
pub fn accept_rooted(snap: &Snapshot<'_>, pin: &mut pin::Pin, root: &TrustRoot) -> Result<()> {
    let store = snap.store();
    let tip = snap
        .commit()
        .ok_or_else(|| Error::store("the store has no commit to trust"))?;
    let mut last_digest = None;
    let mut base = None;
    for commit in store.walk(tip)? {
        let then = Snapshot::at_commit(store, commit)?;
        let Some(seal) = read_seal(&then, &Scope::Store).ok().flatten() else {
            continue;
        };
        if seal.statement.seq < root.min_seq {
            break;
        }
        // Each seal is looked at once, in the newest commit that holds it.
        let digest = seal.statement.digest();
        if last_digest.as_ref() == Some(&digest) {
            continue;
        }
        last_digest = Some(digest);
        let (owners, _) = authorised(&then, &Scope::Store)?;
        let rooted: Signers = owners
            .into_iter()
            .map(|(n, keys)| {
                let keys = keys
                    .into_iter()
                    .filter(|k| root.keys.contains(&key_fingerprint(k)))
                    .collect();
                (n, keys)
            })
            .collect();
        if !seal.signed_by(&rooted).is_empty() && check(&then, &Scope::Store)?.ok() {
            base = Some(then);
            break;
        }
    }
    let Some(base) = base else {
        return Err(Error::new(
            ErrorKind::Trust,
            format!(
                "no store seal{} on this branch is signed by a key of the trust root ({})",
                if root.min_seq > 0 {
                    format!(" at or above seq {}", root.min_seq)
                } else {
                    String::new()
                },
                root.keys.join(", ")
            ),
        )
        .with_hint("check the fingerprint you were given, and `authsome trust show`"));
    };
    let mut from = pin::Pin::default();
    pin_verified(&base, &mut from)?;
    verify_against(snap, &scopes(snap)?, &mut from, false, &crate::ui::Silent)?;
    *pin = from;
    pin::save(&snap.meta()?.id, pin)
}

/// The seals of `scope` after the one whose digest is `pinned` and before `head`, oldest first,
/// each with a commit that holds it, found by following `prev` back from `head` through the
/// history. Empty when the chain is not in history (a squash merge collapsed it): then `head` is
/// judged by the pinned policy alone.
fn replay(
    snap: &Snapshot<'_>,
    scope: &Scope,
    pinned: &str,
    head: &Seal,
) -> Result<Vec<(gix::ObjectId, Seal)>> {
    /// A jump of more than this many seals is refused rather than replayed.
    const MAX_JUMP: u64 = 10_000;
    let Some(tip) = snap.commit() else {
        return Ok(Vec::new());
    };
    let store = snap.store();
    let mut by_digest: std::collections::HashMap<String, (gix::ObjectId, Seal)> =
        std::collections::HashMap::new();
    let mut chain = Vec::new();
    let mut want = head.statement.prev.clone();
    for commit in store.walk(tip)? {
        match want.as_deref() {
            None => break,
            Some(d) if d == pinned => break,
            Some(_) => {}
        }
        let then = Snapshot::at_commit(store, commit)?;
        if let Ok(Some(seal)) = read_seal(&then, scope) {
            if head.statement.seq.saturating_sub(seal.statement.seq) > MAX_JUMP {
                break;
            }
            by_digest.insert(seal.statement.digest(), (commit, seal));
        }
        // Follow `prev` as far as the seals found so far reach.
        while let Some(d) = want.clone() {
            if d == pinned {
                break;
            }
            match by_digest.remove(&d) {
                Some(found) => {
                    want = found.1.statement.prev.clone();
                    chain.push(found);
                }
                None => break,
            }
        }
    }
    if want.as_deref() == Some(pinned) {
        chain.reverse();
        return Ok(chain);
    }
    Ok(Vec::new())
}
