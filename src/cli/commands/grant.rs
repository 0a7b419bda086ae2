//! `authsome grant PRINCIPAL VAULT [--role R]`: give a principal a role in a vault.

use clap::ValueEnum;

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::model::names::VaultName;
use authsome::model::state::Role;
use authsome::ops::grant;

/// Arguments of `grant`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The principal.
    pub principal: String,
    /// The vault.
    #[arg(add = crate::cli::complete::vaults())]
    pub vault: VaultName,
    /// The role: a reader gets every secret encrypted to them; a writer may change connections;
    /// an admin may change who may use the vault.
    #[arg(long, value_enum, default_value = "reader")]
    pub role: RoleArg,
}

/// Roles, as `--role` spells them.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Reads the vault's secrets.
    Reader,
    /// Changes the vault's connections.
    Writer,
    /// Changes who may use the vault.
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Reader => Role::Reader,
            RoleArg::Writer => Role::Writer,
            RoleArg::Admin => Role::Admin,
        }
    }
}

/// Runs `grant`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let role = Role::from(args.role);
    let report = grant::grant(cx, &args.principal, &args.vault, role)?;
    if out.json {
        out.json(&report);
    } else if report.commit.is_none() {
        out.info(&format!(
            "{} is already a {} of vault {}; nothing changed",
            report.principal,
            role.as_str(),
            report.vault
        ));
    } else {
        out.info(&format!(
            "{} is now a {} of vault {}{}",
            report.principal,
            role.as_str(),
            report.vault,
            report
                .rekeyed
                .as_ref()
                .map(|r| format!("; {} secrets re-encrypted", r.rewritten))
                .unwrap_or_default()
        ));
    }
    Ok(())
}
