//! `authsome policy allow|deny|remove|check|show`: which requests the vault's credentials may
//! make through the proxy, kept in `vaults/<vault>/policy.yaml`.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::{Error, Result};
use authsome::model::policy::PolicyFile;
use authsome::ops::policy::{self as ops, Change};
use authsome::vault::Reader;

/// `policy` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Let a provider's credential make requests matching `METHOD PATH` (one commit).
    Allow(ChangeArgs),
    /// Refuse requests matching `METHOD PATH`, even where an allow matches (one commit).
    Deny(ChangeArgs),
    /// Take a pattern out of a rule (one commit).
    Remove(ChangeArgs),
    /// Say what the committed policy does with a request (exit 0 allowed, 1 refused).
    Check {
        /// The provider.
        #[arg(add = crate::cli::complete::providers())]
        provider: String,
        /// The method (GET, POST, ...).
        method: String,
        /// The path (`/repos/acme/web/issues`).
        path: String,
        /// Judge it as this principal (default: the one your identity is).
        #[arg(long = "as", value_name = "PRINCIPAL")]
        principal: Option<String>,
        /// With this connection (default: the provider's default).
        #[arg(long, short)]
        connection: Option<String>,
    },
    /// Print the vault's policy, a sentence per pattern.
    Show,
}

/// A change to one rule.
#[derive(Debug, clap::Args)]
pub struct ChangeArgs {
    /// The provider.
    #[arg(add = crate::cli::complete::providers())]
    pub provider: String,
    /// `METHOD PATH`: a method or `*`, then a path where `*` is (part of) one segment and `**`
    /// any number of segments, as in 'GET /repos/acme/**'.
    #[arg(value_name = "METHOD PATH")]
    pub pattern: String,
    /// The rule is for this principal only (repeatable; default: everyone).
    #[arg(long = "as", value_name = "PRINCIPAL")]
    pub principals: Vec<String>,
    /// The rule is for this connection only (repeatable; default: every connection).
    #[arg(long, short)]
    pub connection: Vec<String>,
    /// At most this many requests under the rule: N/sec, N/min or N/hour.
    #[arg(long, value_name = "N/min")]
    pub rate: Option<String>,
}

/// Runs a `policy` subcommand.
pub fn exec(cx: &Context, out: &Output, cmd: Command) -> Result<()> {
    let (change, args) = match cmd {
        Command::Allow(a) => (Change::Allow, a),
        Command::Deny(a) => (Change::Deny, a),
        Command::Remove(a) => (Change::Remove, a),
        Command::Check {
            provider,
            method,
            path,
            principal,
            connection,
        } => return check(cx, out, &provider, &method, &path, principal, connection),
        Command::Show => return show(cx, out),
    };
    let report = ops::change(
        cx,
        &ops::Request {
            change,
            provider: args.provider,
            pattern: args.pattern,
            principals: args.principals,
            connections: args.connection,
            rate: args.rate,
        },
    )?;
    if out.json {
        out.json(&report);
    } else if report.commit.is_some() {
        out.info(&format!(
            "Policy of vault {}: {}",
            report.vault, report.summary
        ));
    } else {
        out.info(&format!(
            "The policy of vault {} already says so; nothing changed",
            report.vault
        ));
    }
    Ok(())
}

fn check(
    cx: &Context,
    out: &Output,
    provider: &str,
    method: &str,
    path: &str,
    principal: Option<String>,
    connection: Option<String>,
) -> Result<()> {
    let report = ops::check(
        cx,
        provider,
        method,
        path,
        principal.as_deref(),
        connection.as_deref(),
    )?;
    if out.json {
        out.json(&report);
    } else {
        let line = match report.decision {
            "allowed" => format!(
                "{} by rule {}: {}",
                out.green("allowed"),
                report.rule.unwrap_or_default(),
                report.detail
            ),
            "unbound" => format!("{} ({})", out.green("allowed"), report.detail),
            _ => format!("{}: {}", out.red("refused"), report.detail),
        };
        out.data(&line);
    }
    if !report.allowed {
        // The decision is the output; the exit code says it for scripts.
        return Err(Error::internal("the policy refuses this request").reported());
    }
    Ok(())
}

fn show(cx: &Context, out: &Output) -> Result<()> {
    let store = cx.store()?;
    let snap = store.snapshot()?;
    crate::cli::output::gate_reveals_nothing(out, cx, &snap)?;
    let path = authsome::layout::vault_policy(&cx.vault);
    let file: PolicyFile = match snap.read_file(&path)? {
        Some(bytes) => authsome::model::yaml::parse(&path, &bytes)?,
        None => PolicyFile::default(),
    };
    if out.json {
        out.json(&file);
        return Ok(());
    }
    if file.rules.is_empty() {
        out.info(&format!(
            "Vault {} has no policy: credentials may make any request to their provider's hosts.",
            cx.vault
        ));
        return Ok(());
    }
    for line in authsome::policy::Policy::describe(&file) {
        out.data(&line);
    }
    Ok(())
}
