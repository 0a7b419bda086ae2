//! `authsome principal add|list|show|remove`: who may be given access to vaults.

use authsome::model::report::{
    KeyView, ListedPrincipal, PrincipalListReport, PrincipalShowReport, VaultRoles,
};

use crate::cli::output::{Output, pad};
use authsome::context::Context;
use authsome::error::{Error, Result};
use authsome::model::state::PrincipalKind;
use authsome::model::time::Stamp;
use authsome::ops::principal::{self as ops, AddRequest, fingerprint};
use authsome::vault;

/// `principal` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a principal: a person, an agent or a CI job, by its public keys.
    Add {
        /// The principal's name.
        name: String,
        /// An age recipient (`age1...`) or SSH public key to encrypt to (repeatable).
        #[arg(long = "recipient", value_name = "KEY")]
        recipients: Vec<String>,
        /// An ssh-ed25519 public key whose signatures count as the principal's (repeatable).
        #[arg(long = "signer", value_name = "KEY")]
        signers: Vec<String>,
        /// What the principal is.
        #[arg(long, value_enum, default_value = "person")]
        kind: KindArg,
        /// When it stops being valid: RFC 3339, a date (2027-03-01) or an age from now (30d).
        #[arg(long, value_name = "WHEN")]
        expires: Option<String>,
        /// Take the keys from a join request (`authsome join-request`), after checking its
        /// signature and that it is for this store.
        #[arg(long, value_name = "TOKEN", conflicts_with_all = ["recipients", "signers"])]
        from_request: Option<String>,
    },
    /// List the principals, their kind and their vaults.
    List,
    /// Show a principal's keys, fingerprints, vaults and roles.
    Show {
        /// The principal.
        name: String,
    },
    /// Replace a principal's keys; the vaults it reads are rekeyed to the new ones.
    RotateKey {
        /// The principal.
        name: String,
        /// The new recipient (repeatable; replaces all the old ones).
        #[arg(long = "recipient", value_name = "KEY")]
        recipients: Vec<String>,
        /// The new signer (repeatable; replaces all the old ones).
        #[arg(long = "signer", value_name = "KEY")]
        signers: Vec<String>,
        /// The old key leaked: also mark the credentials it could read for rotation.
        #[arg(long)]
        compromised: bool,
    },
    /// Offboard a principal: out of every vault, its vaults rekeyed, their credentials marked
    /// for rotation.
    Remove {
        /// The principal.
        name: String,
    },
}

/// Kinds of principal, as `--kind` spells them.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum KindArg {
    /// A person.
    Person,
    /// An AI agent.
    Agent,
    /// A CI job.
    Ci,
}

impl From<KindArg> for PrincipalKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Person => PrincipalKind::Person,
            KindArg::Agent => PrincipalKind::Agent,
            KindArg::Ci => PrincipalKind::Ci,
        }
    }
}

/// Reads `--expires`: RFC 3339, a date, or an age from now; a time already past is refused.
pub fn expiry(text: &str) -> Result<Stamp> {
    let at = parse_expiry(text)?;
    if at <= Stamp::now() {
        return Err(Error::usage(format!(
            "--expires {text} is already past; give a time to come"
        )));
    }
    Ok(at)
}

fn parse_expiry(text: &str) -> Result<Stamp> {
    if let Ok(s) = text.parse::<Stamp>() {
        return Ok(s);
    }
    if let Ok(d) = text.parse::<jiff::civil::Date>()
        && let Ok(z) = d.to_zoned(jiff::tz::TimeZone::UTC)
    {
        return Ok(Stamp::from(z.timestamp()));
    }
    let span: jiff::Span = text.parse().map_err(|_| {
        Error::usage(format!(
            "--expires takes a time (2027-03-01 or 2027-03-01T00:00:00Z) or an age (30d), not {text:?}"
        ))
    })?;
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .checked_add(span)
        .map(|z| Stamp::from(z.timestamp()))
        .map_err(|e| Error::usage(format!("--expires {text:?}: {e}")))
}

/// Runs a `principal` subcommand.
pub fn exec(cx: &Context, out: &Output, cmd: Command) -> Result<()> {
    match cmd {
        Command::Add {
            name,
            recipients,
            signers,
            kind,
            expires,
            from_request,
        } => {
            let expires = expires.as_deref().map(expiry).transpose()?;
            let report = match from_request {
                Some(token) => {
                    ops::add_from_request(cx, Some(&name), &token, kind.into(), expires)?
                }
                None => ops::add(
                    cx,
                    &AddRequest {
                        name,
                        recipients,
                        signers,
                        kind: kind.into(),
                        expires,
                    },
                )?,
            };
            if out.json {
                out.json(&report);
            } else {
                out.info(&format!(
                    "Added {} {}; compare these fingerprints with them over another channel:",
                    report.kind.as_str(),
                    report.principal
                ));
                for f in &report.fingerprints {
                    out.data(&format!("  {f}"));
                }
            }
            Ok(())
        }
        Command::RotateKey {
            name,
            recipients,
            signers,
            compromised,
        } => {
            let report = ops::rotate_key(cx, &name, &recipients, &signers, compromised)?;
            if out.json {
                out.json(&report);
            } else {
                let secrets: usize = report.rekeyed.iter().map(|r| r.rewritten).sum();
                out.info(&format!(
                    "New keys for {} ({}); {} vaults, {secrets} secrets re-encrypted{}",
                    report.principal,
                    report.fingerprints.join(", "),
                    report.rekeyed.len(),
                    if compromised {
                        format!(
                            "; {} connections need rotation (see `authsome rotation list`)",
                            report.rotation_needed
                        )
                    } else {
                        String::new()
                    }
                ));
            }
            Ok(())
        }
        Command::List => list(cx, out),
        Command::Show { name } => show(cx, out, &name),
        Command::Remove { name } => {
            let report = ops::remove(cx, &name)?;
            if out.json {
                out.json(&report);
            } else {
                let secrets: usize = report.rekeyed.iter().map(|r| r.rewritten).sum();
                out.info(&format!(
                    "Removed {}{}",
                    report.principal,
                    if report.vaults.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " from {}; {secrets} secrets re-encrypted; {} connections need rotation (see `authsome rotation list`)",
                            report.vaults.join(", "),
                            report.rotation_needed
                        )
                    }
                ));
            }
            Ok(())
        }
    }
}

/// The vaults and roles of each principal.
fn roles(snap: &authsome::store::Snapshot<'_>, name: &str) -> Result<Vec<(String, Vec<String>)>> {
    let mut out = Vec::new();
    for v in vault::vaults(snap)? {
        let meta = vault::vault_meta(snap, &v)?;
        let roles: Vec<String> = meta
            .roles_of(name)
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect();
        if !roles.is_empty() {
            out.push((v, roles));
        }
    }
    Ok(out)
}

fn list(cx: &Context, out: &Output) -> Result<()> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    let meta = snap.meta()?;
    let mut rows = Vec::new();
    for name in vault::principals(&snap)? {
        let p = vault::principal(&snap, &name)?;
        let owner = meta.owners.contains(&name);
        rows.push((name.clone(), p, owner, roles(&snap, &name)?));
    }
    if out.json {
        let principals = rows
            .iter()
            .map(|(n, p, owner, roles)| ListedPrincipal {
                name: n.clone(),
                kind: p.kind,
                owner: *owner,
                expires: p.expires,
                vaults: vault_roles(roles),
            })
            .collect();
        out.json(&PrincipalListReport { principals });
        return Ok(());
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(8);
    for (n, p, owner, roles) in &rows {
        let vaults: Vec<String> = roles
            .iter()
            .map(|(v, r)| format!("{v} ({})", r.join(", ")))
            .collect();
        out.data(&format!(
            "{}  {:<6} {}{}",
            out.bold(&pad(n, width)),
            p.kind.as_str(),
            if *owner { "owner; " } else { "" },
            if vaults.is_empty() {
                "no vaults".to_owned()
            } else {
                vaults.join(", ")
            }
        ));
    }
    Ok(())
}

fn show(cx: &Context, out: &Output, name: &str) -> Result<()> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    let meta = snap.meta()?;
    let p = vault::principal(&snap, name)?;
    let roles = roles(&snap, name)?;
    if out.json {
        let keys = |keys: &[String]| {
            keys.iter()
                .map(|k| KeyView {
                    key: k.clone(),
                    fingerprint: fingerprint(k),
                })
                .collect()
        };
        out.json(&PrincipalShowReport {
            name: name.to_owned(),
            kind: p.kind,
            owner: meta.owners.iter().any(|o| o == name),
            recipients: keys(&p.recipients),
            signers: keys(&p.signers),
            expires: p.expires,
            added: p.added.clone(),
            vaults: vault_roles(&roles),
        });
        return Ok(());
    }
    out.data(&format!("{} ({})", out.bold(name), p.kind.as_str()));
    if meta.owners.iter().any(|o| o == name) {
        out.data("  owner of the store");
    }
    for r in &p.recipients {
        out.data(&format!("  recipient {}  {r}", fingerprint(r)));
    }
    for s in &p.signers {
        out.data(&format!("  signer    {}  {s}", fingerprint(s)));
    }
    if let Some(e) = p.expires {
        out.data(&format!("  expires   {e}"));
    }
    for (v, r) in &roles {
        out.data(&format!("  vault     {v}: {}", r.join(", ")));
    }
    Ok(())
}

fn vault_roles(roles: &[(String, Vec<String>)]) -> Vec<VaultRoles> {
    roles
        .iter()
        .map(|(vault, roles)| VaultRoles {
            vault: vault.clone(),
            roles: roles.clone(),
        })
        .collect()
}
