//! `authsome agent create NAME --vault V [--expires WHEN] [--out FILE]`: an identity for an AI
//! agent or a CI job that reads one vault only.

use std::path::PathBuf;

use age::secrecy::ExposeSecret;

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::{Error, Result};
use authsome::model::names::VaultName;
use authsome::ops::agent;

/// `agent` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create an agent that reads one vault: a new age identity, printed once (or written to
    /// --out, mode 0600), and a principal of kind agent.
    Create {
        /// The agent's principal name.
        name: String,
        /// The one vault it reads.
        #[arg(long)]
        vault: VaultName,
        /// Let it write the vault too: it also gets a signing key, written to FILE.signing
        /// (give it as AUTHSOME_SIGNING_KEY).
        #[arg(long)]
        writer: bool,
        /// When it stops being valid: RFC 3339, a date, or an age from now (30d).
        #[arg(long, value_name = "WHEN")]
        expires: Option<String>,
        /// Write the identity to this file (mode 0600) instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// Runs an `agent` subcommand.
pub fn exec(cx: &Context, out: &Output, cmd: Command) -> Result<()> {
    let Command::Create {
        name,
        vault,
        writer,
        expires,
        out: file,
    } = cmd;
    if writer && file.is_none() {
        return Err(Error::usage(
            "an agent that writes gets two keys (an identity and a signing key); name the file with --out, and the signing key goes to FILE.signing",
        ));
    }
    let expires = expires
        .as_deref()
        .map(super::principal::expiry)
        .transpose()?;
    // Both key files are made (empty, 0600, never over an existing file) before anything is
    // committed, so a commit never stands without its keys.
    let signing_file = file.as_ref().filter(|_| writer).map(|f| {
        let mut p = f.as_os_str().to_owned();
        p.push(".signing");
        std::path::PathBuf::from(p)
    });
    let reserved: Vec<&std::path::Path> = file
        .iter()
        .chain(&signing_file)
        .map(|p| p.as_path())
        .collect();
    for (i, f) in reserved.iter().enumerate() {
        if let Err(e) = authsome::private_files::open_private_new(f) {
            for made in &reserved[..i] {
                let _ = std::fs::remove_file(made);
            }
            return Err(Error::usage(format!(
                "{} cannot be made ({}); choose another --out, so no key is overwritten",
                f.display(),
                e.message()
            )));
        }
    }
    let report = match agent::create(cx, &name, &vault, writer, expires) {
        Ok(r) => r,
        Err(e) => {
            for f in &reserved {
                let _ = std::fs::remove_file(f);
            }
            return Err(e);
        }
    };
    let key = format!(
        "# authsome agent {} (vault {})\n# public key: {}\n{}\n",
        report.principal,
        report.vault,
        report.recipient,
        report.identity.expose_secret()
    );
    match &file {
        Some(f) => authsome::private_files::write_private(f, key.as_bytes())?,
        // Under --json the identity travels inside the JSON; else it is the output.
        None if out.json => {
            out.json(&authsome::ops::agent::Created {
                report: &report,
                identity: &report.identity,
            });
            return Ok(());
        }
        None => out.raw_text(&key),
    }
    if let (Some(f), Some(signing)) = (&signing_file, &report.signing_key) {
        authsome::private_files::write_private(f, signing.as_bytes())?;
    }
    if out.json && file.is_some() {
        out.json(&report);
    } else if file.is_some() {
        out.info(&format!(
            "Created agent {} (reader of vault {}); its identity is in {} (mode 0600): give it as AUTHSOME_IDENTITY",
            report.principal,
            report.vault,
            file.as_ref().map(|f| f.display().to_string()).unwrap_or_default()
        ));
    }
    Ok(())
}
