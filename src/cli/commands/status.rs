//! `authsome status`: what needs attention in the store, each with what to do.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::{Error, Result};
use authsome::model::report::{Finding, StatusReport};
use authsome::model::state::ConnectionStatus;
use authsome::vault;

/// Seconds ahead within which an expiring connection is reported.
const SOON: i64 = 86_400;

/// Runs `status`.
pub fn exec(ctx: &Context, out: &Output) -> Result<()> {
    let store = ctx.store()?;
    let snap = store.snapshot()?;
    let meta = snap.meta()?;
    let mut findings = Vec::new();

    // A git lock nobody holds any more blocks every write until it is removed.
    for lock in store.stale_git_locks(std::time::Duration::from_secs(10)) {
        findings.push(Finding {
            kind: "stale_lock".into(),
            subject: lock.display().to_string(),
            what_to_do: format!(
                "it blocks every write; if no git command runs in {}, remove it (`rm {}`)",
                store.root().display(),
                lock.display()
            ),
        });
    }
    for rel in store.uncommitted(&snap)? {
        let path = store.repo_relative(&rel);
        findings.push(Finding {
            kind: "uncommitted".into(),
            subject: path.clone(),
            what_to_do: format!(
                "reads ignore it; commit it, or discard it with `git -C {} checkout HEAD -- {path}` (or delete it if untracked)",
                store.root().display()
            ),
        });
    }

    if meta.format < authsome::model::state::STORE_FORMAT {
        findings.push(Finding {
            kind: "old_format".into(),
            subject: format!("store format {}", meta.format),
            what_to_do: "authsome reads it but will not write to it; run `authsome upgrade`"
                .to_owned(),
        });
    }
    let recipients = vault::vault_recipients(&snap, &ctx.vault).unwrap_or_default();
    if let Ok(identity) = ctx.identity()
        && !recipients.iter().any(|r| r == identity.recipient())
    {
        let who =
            vault::principal_of(&snap, identity.recipient())?.unwrap_or_else(|| "YOU".to_owned());
        findings.push(Finding {
            kind: "unreadable".into(),
            subject: format!("vault {}", ctx.vault),
            what_to_do: format!(
                "this identity is not a reader of it, so its secrets cannot be used here; ask an admin of the vault to run `authsome grant {who} {}`",
                ctx.vault
            ),
        });
    }
    let catalog = authsome::providers::Catalog::new(&snap);
    let now_stamp = authsome::model::time::Stamp::now();
    for name in vault::principals(&snap)? {
        if let Some(at) = vault::principal(&snap, &name)?.expires
            && at < now_stamp
        {
            findings.push(Finding {
                kind: "expired_principal".into(),
                subject: format!("principal {name}"),
                what_to_do: format!(
                    "it expired {at} but can still decrypt its vaults; remove it with `authsome principal remove {name}`"
                ),
            });
        }
    }
    let fingerprint =
        authsome::crypto::recipients::fingerprint(recipients.iter().map(String::as_str));
    let now = jiff::Timestamp::now().as_second();
    for (provider, (state, conns)) in vault::all_records(&snap, &ctx.vault, None)? {
        if let Some(r) = &state.rotation {
            findings.push(Finding {
                kind: "rotation".into(),
                subject: format!("{provider} client secret"),
                what_to_do: format!(
                    "{}: {}",
                    r.reason,
                    super::rotation::what_to_do(&catalog, &ctx.vault, &provider, None)
                ),
            });
        }
        for (conn, record) in conns {
            if let Some(r) = &record.rotation {
                findings.push(Finding {
                    kind: "rotation".into(),
                    subject: format!("{provider}/{conn}"),
                    what_to_do: format!(
                        "{}: {}",
                        r.reason,
                        super::rotation::what_to_do(&catalog, &ctx.vault, &provider, Some(&conn))
                    ),
                });
            }
            let subject = format!("{provider}/{conn}");
            if authsome::ops::refresh::is_parked(&meta.id, &ctx.vault, &provider, &conn) {
                findings.push(Finding {
                    kind: "parked_refresh".into(),
                    subject: subject.clone(),
                    what_to_do: format!(
                        "a rotated refresh token is parked on this machine because its commit was refused; once the store verifies, run `authsome refresh {provider}/{conn}` (as a writer of {}) to commit it",
                        ctx.vault
                    ),
                });
            }
            let relogin = format!("`authsome login {provider} --connection {conn} --force`");
            if record.status != ConnectionStatus::Connected {
                findings.push(Finding {
                    kind: record.status.as_str().into(),
                    subject: subject.clone(),
                    what_to_do: format!("log in again with {relogin}"),
                });
            } else if let Some(at) = record.expires_at {
                let left = at.as_second() - now;
                let refreshable = record.secrets.contains_key(authsome::oauth::REFRESH_TOKEN);
                if left <= SOON && !refreshable {
                    findings.push(Finding {
                        kind: (if left <= 0 { "expired" } else { "expiring" }).into(),
                        subject: subject.clone(),
                        what_to_do: format!("it cannot be refreshed; log in again with {relogin}"),
                    });
                }
            }
            if !recipients.is_empty()
                && record.secrets.values().any(|s| s.recipients != fingerprint)
            {
                findings.push(Finding {
                    kind: "stale_recipients".into(),
                    subject,
                    what_to_do: format!(
                        "its secrets are encrypted to an older set of recipients; re-encrypt them with `authsome rekey {}`",
                        ctx.vault
                    ),
                });
            }
        }
    }

    // What this machine verified before (the pin) decides: rollbacks, forks, unsealed changes.
    if let Err(e) = authsome::trust::gate(
        &snap,
        &authsome::trust::scopes(&snap)?,
        &ctx.trust.strict(),
        &authsome::ui::Silent,
    ) {
        if e.kind() != authsome::error::ErrorKind::Trust {
            return Err(e);
        }
        findings.push(Finding {
            kind: "trust".into(),
            subject: "store".to_owned(),
            what_to_do: e.to_string(),
        });
    }

    let found = findings.len();
    if out.json {
        out.json(&StatusReport {
            clean: found == 0,
            findings,
        });
    } else if findings.is_empty() {
        out.info(
            "Nothing needs attention: the work tree matches HEAD and every connection is usable.",
        );
    } else {
        for f in &findings {
            out.data(&format!("{:<17} {}: {}", f.kind, f.subject, f.what_to_do));
        }
    }
    if found > 0 {
        // A gate for scripts, as `doctor` and `gh auth status` are: the findings are the message.
        return Err(
            Error::internal(format!("status found {found} thing(s) that need attention"))
                .reported(),
        );
    }
    Ok(())
}
