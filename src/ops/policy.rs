//! `policy allow|deny|remove`: one change to the vault's `policy.yaml`, one commit (sealed,
//! and only an admin of the vault or an owner may seal it); `policy check`: what the committed
//! policy says of a request.

use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::layout;
use crate::model::policy::{PolicyFile, Rule};
use crate::policy::{Decision, Pattern, Policy};
use crate::store::{Edit, Snapshot};
use crate::vault::{self, Reader};

/// Which list a change edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Add the pattern to the rule's `allow`.
    Allow,
    /// Add the pattern to the rule's `deny`.
    Deny,
    /// Take the pattern out of the rule's `allow` and `deny`.
    Remove,
}

/// A change to the policy.
#[derive(Debug, Clone)]
pub struct Request {
    /// Allow, deny or remove.
    pub change: Change,
    /// The provider.
    pub provider: String,
    /// `METHOD PATH`.
    pub pattern: String,
    /// The principals the rule is for (everyone when empty).
    pub principals: Vec<String>,
    /// The connections the rule is for (all when empty).
    pub connections: Vec<String>,
    /// A rate limit for the rule (`120/min`).
    pub rate: Option<String>,
}

/// What a policy change did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// `changed`, or `unchanged` when the policy already said so.
    pub status: &'static str,
    /// The vault whose policy it is.
    pub vault: String,
    /// The change, as a sentence (`deploy-bot may now POST /repos/acme/*/issues on github`).
    pub summary: String,
    /// How many rules the policy has now.
    pub rules: usize,
    /// The commit made, if any.
    pub commit: Option<String>,
}

/// Makes one change to the current vault's policy, in one commit.
pub fn change(cx: &Context, req: &Request) -> Result<Report> {
    let pattern = Pattern::parse(&req.pattern)?.to_string();
    if let Some(r) = &req.rate {
        crate::policy::Rate::parse(r)?;
    }
    let store = cx.store()?;
    {
        let snap = store.snapshot()?;
        crate::providers::Catalog::new(&snap).get(&req.provider)?;
        for p in &req.principals {
            vault::principal(&snap, p)?;
        }
        require_admin(cx, &snap)?;
    }
    let who = if req.principals.is_empty() {
        "everyone".to_owned()
    } else {
        req.principals.join(", ")
    };
    let summary = match req.change {
        Change::Allow => format!("{who} may now {pattern} on {}", req.provider),
        Change::Deny => format!("{who} may never {pattern} on {}", req.provider),
        Change::Remove => format!("{who}: no rule for {pattern} on {} any more", req.provider),
    };
    let path = layout::vault_policy(&cx.vault);
    let outcome = store.transact(|txn| {
        let mut file: PolicyFile = vault::read_yaml(txn, &path)?.unwrap_or_default();
        let before = file.clone();
        apply(&mut file, req, &pattern)?;
        // The whole file must still compile: a change never leaves a policy the proxy refuses.
        Policy::compile(&path, &file)?;
        if file != before {
            if file.rules.is_empty() {
                txn.delete(path.clone());
            } else {
                vault::write_yaml(txn, path.clone(), &file)?;
            }
        }
        Ok(Edit::new(
            format!("policy {}: {summary}", cx.vault),
            file.rules.len(),
        ))
    })?;
    let commit = outcome.commit().map(|c| c.to_string());
    let rules = outcome.into_value();
    Ok(Report {
        status: if commit.is_some() {
            "changed"
        } else {
            "unchanged"
        },
        vault: cx.vault.to_string(),
        summary,
        rules,
        commit,
    })
}

/// Edits the rule for exactly these principals and connections (made when missing; dropped
/// when it ends up empty).
fn apply(file: &mut PolicyFile, req: &Request, pattern: &str) -> Result<()> {
    let same = |r: &Rule| {
        r.provider == req.provider
            && r.principals == req.principals
            && r.connections == req.connections
    };
    let at = match file.rules.iter().position(same) {
        Some(i) => i,
        None if req.change == Change::Remove => {
            return Err(Error::usage(format!(
                "the policy has no rule for {} with these principals and connections; see `authsome policy show`",
                req.provider
            )));
        }
        None => {
            file.rules.push(Rule {
                provider: req.provider.clone(),
                connections: req.connections.clone(),
                principals: req.principals.clone(),
                ..Rule::default()
            });
            file.rules.len() - 1
        }
    };
    let rule = &mut file.rules[at];
    let list = match req.change {
        Change::Allow => Some(&mut rule.allow),
        Change::Deny => Some(&mut rule.deny),
        Change::Remove => None,
    };
    match list {
        Some(list) => {
            if !list.iter().any(|p| p == pattern) {
                list.push(pattern.to_owned());
            }
        }
        None => {
            let had = rule.allow.len() + rule.deny.len();
            rule.allow.retain(|p| p != pattern);
            rule.deny.retain(|p| p != pattern);
            if had == rule.allow.len() + rule.deny.len() && req.rate.is_none() {
                return Err(Error::usage(format!(
                    "the rule for {} has no pattern {pattern:?}; see `authsome policy show`",
                    req.provider
                )));
            }
        }
    }
    if req.rate.is_some() {
        rule.rate = req.rate.clone();
    }
    if rule.allow.is_empty() && rule.deny.is_empty() {
        file.rules.remove(at);
    }
    Ok(())
}

fn require_admin(cx: &Context, snap: &Snapshot<'_>) -> Result<()> {
    let meta = snap.meta()?;
    if meta.format < crate::model::state::STORE_FORMAT {
        return Ok(());
    }
    let identity = cx.identity()?;
    let who = super::access::acting_principal(snap, &identity)?;
    let vault_meta = vault::vault_meta(snap, &cx.vault)?;
    super::access::require_admin(&meta, &vault_meta, &cx.vault, &who)
}

/// What `policy check` says.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CheckReport {
    /// Whether the request may go (then `policy check` exits 0; otherwise 1).
    pub allowed: bool,
    /// `allowed`, `refused`, or `unbound` (no rule covers the request, so none limits it).
    pub decision: &'static str,
    /// The rule that decided, numbered from 1.
    pub rule: Option<usize>,
    /// The pattern that allowed it, or why it was refused.
    pub detail: String,
    /// The principal the request was judged as.
    pub principal: Option<String>,
    /// The connection it was judged with.
    pub connection: String,
}

/// Judges `METHOD PATH` to `provider` by the committed policy of the current vault, as
/// `principal` (default: this identity's) with `connection` (default: the provider's).
pub fn check(
    cx: &Context,
    provider: &str,
    method: &str,
    path: &str,
    principal: Option<&str>,
    connection: Option<&str>,
) -> Result<CheckReport> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    let def = crate::providers::Catalog::new(&snap).get(provider)?.def;
    let principal = match principal {
        Some(p) => {
            vault::principal(&snap, p)?;
            Some(p.to_owned())
        }
        None => match cx.identity() {
            Ok(id) => vault::principal_of(&snap, id.recipient())?,
            Err(_) => None,
        },
    };
    let connection = match connection {
        Some(c) => c.to_owned(),
        None => vault::provider_state(&snap, &cx.vault, &def.name)?
            .default
            .unwrap_or_else(|| "default".to_owned()),
    };
    let path_file = layout::vault_policy(&cx.vault);
    let policy = match snap.read_file(&path_file)? {
        Some(bytes) => Policy::parse(&path_file, &bytes)?,
        None => Policy::default(),
    };
    let decision = policy.decide(&crate::policy::Request {
        provider: &def.name,
        connection: &connection,
        principal: principal.as_deref(),
        method,
        path,
    });
    let (allowed, word, rule, detail) = match decision {
        Decision::Unbound => (
            true,
            "unbound",
            None,
            format!("no rule of {path_file} covers it"),
        ),
        Decision::Allowed { rule, pattern, .. } => (true, "allowed", Some(rule), pattern),
        Decision::Denied { rule, message } => (false, "refused", rule, message),
    };
    Ok(CheckReport {
        allowed,
        decision: word,
        rule,
        detail,
        principal,
        connection,
    })
}
