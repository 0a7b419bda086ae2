//! `authsome vault create|list|show|delete`: the store's vaults and who may use them.

use authsome::model::report::{ListedVault, VaultListReport, VaultShowReport};

use crate::cli::output::{Output, pad};
use authsome::context::Context;
use authsome::error::Result;
use authsome::model::names::VaultName;
use authsome::model::state::Role;
use authsome::ops::vault::{self as ops, Members};
use authsome::vault;

/// `vault` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a vault (without members named: you are its admin, writer and reader).
    Create {
        /// The vault.
        name: VaultName,
        /// An admin: may change who may use the vault (repeatable).
        #[arg(long = "admin", value_name = "PRINCIPAL")]
        admins: Vec<String>,
        /// A writer: may change its connections (repeatable).
        #[arg(long = "writer", value_name = "PRINCIPAL")]
        writers: Vec<String>,
        /// A reader: every secret is encrypted to them (repeatable; default: the admins and
        /// writers).
        #[arg(long = "reader", value_name = "PRINCIPAL")]
        readers: Vec<String>,
    },
    /// List the vaults, their members and whether this identity can read them.
    List,
    /// Show a vault's members, stale secrets and credentials to rotate.
    Show {
        /// The vault.
        name: VaultName,
    },
    /// Delete a vault and everything in it (history keeps it).
    Delete {
        /// The vault.
        name: VaultName,
    },
}

/// Runs a `vault` subcommand.
pub fn exec(cx: &Context, out: &Output, cmd: Command) -> Result<()> {
    match cmd {
        Command::Create {
            name,
            admins,
            writers,
            readers,
        } => {
            let report = ops::create(
                cx,
                &name,
                Members {
                    admins,
                    writers,
                    readers,
                },
            )?;
            if out.json {
                out.json(&report);
            } else {
                out.info(&format!(
                    "Created vault {} (admins: {}; writers: {}; readers: {}); use it with `--vault {}`",
                    report.vault,
                    report.admins.join(", "),
                    report.writers.join(", "),
                    report.readers.join(", "),
                    report.vault
                ));
            }
            Ok(())
        }
        Command::List => list(cx, out),
        Command::Show { name } => show(cx, out, &name),
        Command::Delete { name } => {
            let report = ops::delete(cx, &name)?;
            if out.json {
                out.json(&report);
            } else {
                out.info(&format!(
                    "Deleted vault {} and its {} connections (git history keeps them)",
                    report.vault, report.connections
                ));
            }
            Ok(())
        }
    }
}

fn list(cx: &Context, out: &Output) -> Result<()> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    let me = cx.identity().ok().map(|i| i.recipient().to_owned());
    let mut rows = Vec::new();
    for name in vault::vaults(&snap)? {
        let meta = vault::vault_meta(&snap, &name)?;
        let readable = match &me {
            Some(r) => vault::vault_recipients(&snap, &name)
                .map(|all| all.contains(r))
                .unwrap_or(false),
            None => false,
        };
        rows.push((name, meta, readable));
    }
    if out.json {
        let vaults = rows
            .iter()
            .map(|(n, m, readable)| ListedVault {
                name: n.to_string(),
                readers: m.readers.clone(),
                writers: m.writers.clone(),
                admins: m.admins.clone(),
                readable: *readable,
                in_use: *n == cx.vault.as_str(),
            })
            .collect();
        out.json(&VaultListReport { vaults });
        return Ok(());
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(8);
    for (n, m, readable) in &rows {
        out.data(&format!(
            "{}{}  readers: {}  {}",
            out.bold(&pad(n, width)),
            if *n == cx.vault.as_str() { " *" } else { "  " },
            m.readers.join(", "),
            if *readable {
                "readable".to_owned()
            } else {
                out.yellow("not readable with this identity")
            }
        ));
    }
    Ok(())
}

fn show(cx: &Context, out: &Output, name: &VaultName) -> Result<()> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    let meta = vault::vault_meta(&snap, name)?;
    let current = vault::vault_recipients(&snap, name).unwrap_or_default();
    let fingerprint = authsome::crypto::recipients::fingerprint(current.iter().map(String::as_str));
    let (mut connections, mut stale, mut rotation) = (0, 0, Vec::new());
    for (provider, (state, conns)) in vault::all_records(&snap, name, None)? {
        stale += state
            .secrets
            .values()
            .filter(|i| i.recipients != fingerprint)
            .count();
        if state.rotation.is_some() {
            rotation.push(format!("{provider} (client secret)"));
        }
        for (c, r) in conns {
            connections += 1;
            stale += r
                .secrets
                .values()
                .filter(|i| i.recipients != fingerprint)
                .count();
            if r.rotation.is_some() {
                rotation.push(format!("{provider}/{c}"));
            }
        }
    }
    if out.json {
        out.json(&VaultShowReport {
            name: name.to_string(),
            readers: meta.readers,
            writers: meta.writers,
            admins: meta.admins,
            recipients: fingerprint,
            connections,
            stale,
            rotation_needed: rotation,
        });
        return Ok(());
    }
    out.data(&out.bold(name));
    for role in Role::ALL.into_iter().rev() {
        out.data(&format!(
            "  {:<8} {}",
            format!("{}s:", role.as_str()),
            meta.members(role).join(", ")
        ));
    }
    out.data(&format!(
        "  {connections} connections; {stale} stale secrets{}",
        if stale > 0 {
            " (run `authsome rekey`)"
        } else {
            ""
        }
    ));
    if !rotation.is_empty() {
        out.data(&format!("  to rotate: {}", rotation.join(", ")));
    }
    Ok(())
}
