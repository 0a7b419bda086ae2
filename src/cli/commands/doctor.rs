//! `authsome doctor`: check the store, the identity and every secret, and say what to fix.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::{Error, Result};
use authsome::model::report::{DoctorCheck, DoctorReport, Finding};
use authsome::providers::Catalog;
use authsome::vault;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warn,
    Fail,
}

struct Check {
    name: &'static str,
    level: Level,
    detail: String,
}

/// Runs `doctor`.
pub fn exec(ctx: &Context, out: &Output) -> Result<()> {
    let mut checks = Vec::new();
    let mut push = |name, level, detail: String| {
        checks.push(Check {
            name,
            level,
            detail,
        })
    };

    let identity = match ctx.identity() {
        Ok(id) => {
            push(
                "identity",
                Level::Ok,
                format!("{} ({})", id.path().display(), id.recipient()),
            );
            Some(id)
        }
        Err(e) => {
            push("identity", Level::Fail, e.message().to_owned());
            None
        }
    };

    match ctx.store().and_then(|s| {
        let snap = s.snapshot()?;
        let meta = s.meta(&snap)?;
        Ok((s, meta))
    }) {
        Err(e) => push("store", Level::Fail, e.message().to_owned()),
        Ok((store, meta)) => {
            let snap = store.snapshot()?;
            push(
                "store",
                Level::Ok,
                format!("{} (id {})", store.root().display(), meta.id),
            );
            store_permissions(&store.dir(), &mut push);

            let dirty = store.uncommitted(&snap)?;
            if dirty.is_empty() {
                push("work tree", Level::Ok, "matches HEAD".into());
            } else {
                push(
                    "work tree",
                    Level::Warn,
                    format!(
                        "uncommitted edits in {} are ignored by reads; commit them or discard them with `git -C {} checkout HEAD -- .` (this folder only)",
                        dirty.join(", "),
                        store.dir().display()
                    ),
                );
            }

            let catalog = Catalog::new(&snap);
            for name in catalog.custom_names()? {
                if let Err(e) = catalog.custom(&name) {
                    push("providers", Level::Fail, e.message().to_owned());
                }
            }

            // A policy the proxy cannot read makes it refuse every credentialed request.
            let policy = authsome::layout::vault_policy(&ctx.vault);
            match authsome::vault::Reader::read_file(&snap, &policy) {
                Ok(Some(bytes)) => match authsome::policy::Policy::parse(&policy, &bytes) {
                    Ok(_) => push("policy", Level::Ok, format!("{policy} compiles")),
                    Err(e) => push(
                        "policy",
                        Level::Fail,
                        format!(
                            "{}; the proxy refuses every request with this vault's credentials until it is fixed",
                            e.message()
                        ),
                    ),
                },
                Ok(None) => {}
                Err(e) => push("policy", Level::Fail, e.message().to_owned()),
            }

            let recipients = match vault::vault_recipients(&snap, &ctx.vault) {
                Ok(r) => r,
                Err(e) => {
                    push("vault", Level::Fail, e.message().to_owned());
                    Vec::new()
                }
            };
            if let Some(id) = &identity {
                if recipients.iter().any(|r| r == id.recipient()) {
                    push(
                        "vault",
                        Level::Ok,
                        format!("{:?}: this identity is a recipient", ctx.vault),
                    );
                } else if !recipients.is_empty() {
                    push(
                        "vault",
                        Level::Fail,
                        format!(
                            "this identity is not a recipient of vault {:?}; ask a member to add {} to a principal of it",
                            ctx.vault,
                            id.recipient()
                        ),
                    );
                }
            }
            let fingerprint =
                authsome::crypto::recipients::fingerprint(recipients.iter().map(String::as_str));

            let (mut total, mut bad, mut stale) = (0, Vec::new(), Vec::new());
            for (provider, (_, conns)) in vault::all_records(&snap, &ctx.vault, None)? {
                if catalog.get(&provider).is_err() {
                    push(
                        "providers",
                        Level::Warn,
                        format!(
                            "connections exist for unknown provider {provider}; add its definition or log them out"
                        ),
                    );
                }
                for (conn, record) in conns {
                    for (field, info) in &record.secrets {
                        total += 1;
                        if info.recipients != fingerprint && !recipients.is_empty() {
                            stale.push(format!("{provider}/{conn}/{field}"));
                        }
                        if let Some(id) = &identity
                            && let Err(e) = vault::read_secret(
                                &snap, &meta.id, &ctx.vault, &provider, &conn, field, id,
                            )
                        {
                            bad.push(e.message().to_owned());
                        }
                    }
                }
            }
            // Headers, without decrypting: one stanza per reader key, no stranger's SSH key.
            bad.extend(authsome::trust::headers::check_vault(&snap, &ctx.vault)?);
            if bad.is_empty() {
                push(
                    "secrets",
                    Level::Ok,
                    format!("{total} secrets decrypt and sit in their place"),
                );
            } else {
                for b in bad {
                    push("secrets", Level::Fail, b);
                }
            }
            if !stale.is_empty() {
                push(
                    "recipients",
                    Level::Warn,
                    format!(
                        "{} encrypted to an older recipient set; log in again with --force to re-encrypt",
                        stale.join(", ")
                    ),
                );
            }
        }
    }

    match authsome::proxy::check_ca() {
        Ok(Some(dir)) => push(
            "proxy CA",
            Level::Ok,
            format!("{} (key mode 0600)", dir.display()),
        ),
        Ok(None) => push(
            "proxy CA",
            Level::Ok,
            "not made yet; the first `authsome run` makes it".into(),
        ),
        Err(e) => push("proxy CA", Level::Fail, e.message().to_owned()),
    }

    let failed = checks.iter().any(|c| c.level == Level::Fail);
    if out.json {
        let list: Vec<_> = checks
            .iter()
            .map(|c| DoctorCheck {
                check: c.name.to_owned(),
                status: match c.level {
                    Level::Ok => "ok",
                    Level::Warn => "warn",
                    Level::Fail => "fail",
                }
                .to_owned(),
                detail: c.detail.clone(),
            })
            .collect();
        // What needs action, in the shape `status` prints too.
        let findings: Vec<Finding> = checks
            .iter()
            .filter(|c| c.level != Level::Ok)
            .map(|c| Finding {
                kind: c.name.replace(' ', "_"),
                subject: c.name.to_owned(),
                what_to_do: c.detail.clone(),
            })
            .collect();
        out.json(&DoctorReport {
            status: if failed { "problems" } else { "ready" }.to_owned(),
            checks: list,
            findings,
        });
    } else {
        for c in &checks {
            let tag = match c.level {
                Level::Ok => out.green("ok  "),
                Level::Warn => out.yellow("warn"),
                Level::Fail => out.red("FAIL"),
            };
            out.data(&format!("{tag}  {:<10} {}", c.name, c.detail));
        }
    }
    if failed {
        let err = Error::internal("doctor found problems; fix the lines marked FAIL above");
        return Err(if out.json { err.reported() } else { err });
    }
    Ok(())
}

#[cfg(unix)]
fn store_permissions(root: &std::path::Path, push: &mut impl FnMut(&'static str, Level, String)) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(root) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o007 != 0 {
            push(
                "permissions",
                Level::Warn,
                format!(
                    "{} is open to other users (mode {mode:o}); run `chmod 700 {}`",
                    root.display(),
                    root.display()
                ),
            );
        }
    }
}

#[cfg(not(unix))]
fn store_permissions(_: &std::path::Path, _: &mut impl FnMut(&'static str, Level, String)) {}
