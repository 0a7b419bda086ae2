//! `authsome status`: what needs attention in the store, each with what to do.

use serde_json::json;

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::model::state::ConnectionStatus;
use authsome::store::Store;
use authsome::vault;

/// Seconds ahead within which an expiring connection is reported.
const SOON: i64 = 86_400;

struct Finding {
    kind: &'static str,
    subject: String,
    what_to_do: String,
}

/// Runs `status`.
pub fn exec(ctx: &Context, out: &Output) -> Result<()> {
    let store = ctx.store()?;
    let snap = store.snapshot()?;
    let meta = snap.meta()?;
    let mut findings = Vec::new();

    for rel in store.uncommitted(&snap)? {
        let path = store.repo_relative(&rel);
        findings.push(Finding {
            kind: "uncommitted",
            subject: path.clone(),
            what_to_do: format!(
                "reads ignore it; commit it, or discard it with `git -C {} checkout HEAD -- {path}` (or delete it if untracked)",
                store.root().display()
            ),
        });
    }

    if meta.format < authsome::model::state::STORE_FORMAT {
        findings.push(Finding {
            kind: "old_format",
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
            kind: "unreadable",
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
                kind: "expired_principal",
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
                kind: "rotation",
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
                    kind: "rotation",
                    subject: format!("{provider}/{conn}"),
                    what_to_do: format!(
                        "{}: {}",
                        r.reason,
                        super::rotation::what_to_do(&catalog, &ctx.vault, &provider, Some(&conn))
                    ),
                });
            }
            let subject = format!("{provider}/{conn}");
            let relogin = format!("`authsome login {provider} --connection {conn} --force`");
            if record.status != ConnectionStatus::Connected {
                findings.push(Finding {
                    kind: record.status.as_str(),
                    subject: subject.clone(),
                    what_to_do: format!("log in again with {relogin}"),
                });
            } else if let Some(at) = record.expires_at {
                let left = at.as_second() - now;
                let refreshable = record.secrets.contains_key(authsome::oauth::REFRESH_TOKEN);
                if left <= SOON && !refreshable {
                    findings.push(Finding {
                        kind: if left <= 0 { "expired" } else { "expiring" },
                        subject: subject.clone(),
                        what_to_do: format!("it cannot be refreshed; log in again with {relogin}"),
                    });
                }
            }
            if !recipients.is_empty()
                && record.secrets.values().any(|s| s.recipients != fingerprint)
            {
                findings.push(Finding {
                    kind: "stale_recipients",
                    subject,
                    what_to_do: format!(
                        "its secrets are encrypted to an older set of recipients; re-encrypt them with `authsome rekey {}`",
                        ctx.vault
                    ),
                });
            }
        }
    }

    if let Some(finding) = rollback(&store, &meta.id, snap.commit())? {
        findings.push(finding);
    }

    if out.json {
        let list: Vec<_> = findings
            .iter()
            .map(|f| json!({"kind": f.kind, "subject": f.subject, "what_to_do": f.what_to_do}))
            .collect();
        out.json(&json!({"clean": findings.is_empty(), "findings": list}));
    } else if findings.is_empty() {
        out.info(
            "Nothing needs attention: the work tree matches HEAD and every connection is usable.",
        );
    } else {
        for f in &findings {
            out.data(&format!("{:<17} {}: {}", f.kind, f.subject, f.what_to_do));
        }
    }
    Ok(())
}

/// Compares HEAD with the HEAD this machine saw last time, and remembers the current one.
/// A HEAD that is an ancestor of the last one seen means the store was rolled back (an old
/// copy restored, a forced reset); a HEAD unrelated to it means history was rewritten.
fn rollback(store: &Store, store_id: &str, head: Option<gix::ObjectId>) -> Result<Option<Finding>> {
    let Some(head) = head else { return Ok(None) };
    let Ok(dir) = authsome::dirs::cache_dir() else {
        return Ok(None);
    };
    // One record per clone and branch: switching branches or clones is not a rollback.
    let branch = store
        .repo()
        .head_name()
        .ok()
        .flatten()
        .map(|n| n.as_bstr().to_string())
        .unwrap_or_default();
    let place = format!("{}\0{branch}", store.root().display());
    let key: String = {
        use sha2::Digest;
        sha2::Sha256::digest(place.as_bytes())[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let seen_path = dir.join(format!("seen-{store_id}-{key}"));
    let seen = std::fs::read_to_string(&seen_path)
        .ok()
        .and_then(|s| gix::ObjectId::from_hex(s.trim().as_bytes()).ok());
    let mut finding = None;
    if let Some(seen) = seen.filter(|s| *s != head) {
        let ahead = store.walk(head)?;
        if !ahead.contains(&seen) {
            let short = |id: gix::ObjectId| id.to_string()[..8].to_owned();
            let rolled_back =
                store.repo().find_commit(seen).is_ok() && store.walk(seen)?.contains(&head);
            finding = Some(Finding {
                kind: if rolled_back { "rollback" } else { "rewritten" },
                subject: format!("HEAD {} (last seen here: {})", short(head), short(seen)),
                what_to_do: if rolled_back {
                    "the store moved back to an older commit since this machine last read it; if you did not do that, someone may be replaying old credentials: check `authsome log` and restore the newer commit".to_owned()
                } else {
                    "the store's history was rewritten since this machine last read it; check `authsome log` before trusting it".to_owned()
                },
            });
        }
    }
    let _ = authsome::private_files::write_private(&seen_path, head.to_string().as_bytes());
    Ok(finding)
}
