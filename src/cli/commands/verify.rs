//! `authsome verify`: check every scope's seal: signed by someone its policy allows, naming the
//! tree that is there. Exit 12 when one fails.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::{Error, ErrorKind, Result};
use authsome::trust;

/// Arguments of `verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Say for each scope who signed it.
    #[arg(long)]
    pub explain: bool,
}

/// Runs `verify`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    let mut checks = Vec::new();
    for scope in trust::scopes(&snap)? {
        let mut c = trust::check(&snap, &scope)?;
        // What this machine verified before decides too: the pinned policy, rollbacks, forks.
        if c.ok()
            && let Err(e) =
                trust::gate(&snap, std::slice::from_ref(&scope), &cx.trust.strict(), out)
        {
            c.status = "unverified";
            c.detail = Some(e.message().to_owned());
        }
        checks.push(c);
    }
    // Every secret's header: one stanza per reader key, no SSH key of a stranger.
    for v in authsome::vault::vaults(&snap)? {
        for detail in trust::headers::check_vault(&snap, &v)? {
            checks.push(trust::ScopeCheck {
                scope: authsome::layout::vault(&v),
                status: "headers",
                seq: None,
                signed_by: Vec::new(),
                detail: Some(detail),
            });
        }
    }
    let failed: Vec<_> = checks.iter().filter(|c| !c.ok()).collect();
    if out.json {
        out.json(&authsome::trust::VerifyReport {
            status: if failed.is_empty() {
                "verified"
            } else {
                "unverified"
            },
            scopes: checks.clone(),
        });
    } else {
        for c in &checks {
            let seq = c.seq.map(|s| format!(" #{s}")).unwrap_or_default();
            if c.ok() {
                let who = if args.explain {
                    format!(" (signed by {})", c.signed_by.join(", "))
                } else {
                    String::new()
                };
                out.info(&format!("{}  {}{seq}{who}", out.green("ok"), c.scope));
            } else {
                out.data(&format!(
                    "FAIL  {}{seq}: {}",
                    c.scope,
                    c.detail.as_deref().unwrap_or(c.status)
                ));
            }
        }
    }
    if let Some(first) = failed.first() {
        let err = Error::new(
            ErrorKind::Trust,
            format!(
                "{} of {} scopes did not verify: {}",
                failed.len(),
                checks.len(),
                first.detail.as_deref().unwrap_or(first.status)
            ),
        );
        return Err(if out.json { err.reported() } else { err });
    }
    Ok(())
}
