//! `authsome trust show|accept|allowed-signers`: what this machine trusts of a sealed store.

use authsome::model::report::{OwnerKeys, PinnedScope, TrustReport, TrustShowReport};

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::trust::{self, pin};

/// `trust` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Show the store's owners and their key fingerprints, and what this machine pinned.
    Show,
    /// Trust the store as it is: pin every scope that verifies (first use of a clone).
    Accept {
        /// Accept only if the store seal is signed by this owner key (`SHA256:...`,
        /// repeatable), as given to you over another channel.
        #[arg(long = "root", value_name = "FPR")]
        roots: Vec<String>,
    },
    /// Forget what this machine pinned and trust the store as it is now (after a sole owner
    /// lost their key, or a history rewritten on purpose). Needs both flags.
    Reset {
        /// Trust the current state.
        #[arg(long, required = true)]
        to_current: bool,
        /// Say you checked the current state by other means.
        #[arg(long, required = true)]
        i_understand: bool,
    },
    /// Print an allowed_signers file of the store's signers (namespace authsome-seal), for
    /// `ssh-keygen -Y verify -n authsome-seal -f FILE`.
    AllowedSigners,
}

/// Runs a `trust` subcommand.
pub fn exec(cx: &Context, out: &Output, cmd: Command) -> Result<()> {
    let store = match cmd {
        Command::Reset { .. } => cx.store_unchecked()?,
        _ => cx.store()?,
    };
    let snap = store.snapshot()?;
    match cmd {
        Command::AllowedSigners => {
            out.refuse_json("allowed-signers prints a file for ssh-keygen")?;
            out.raw_text(&trust::allowed_signers(&snap)?);
        }
        Command::Show => {
            let meta = snap.meta()?;
            let owners = trust::owners(&snap)?;
            let pinned = pin::load_any(&meta.id)?;
            if out.json {
                out.json(&TrustShowReport {
                    store: meta.id.clone(),
                    owners: owners
                        .iter()
                        .map(|(name, signers)| OwnerKeys {
                            name: name.clone(),
                            signers: signers.clone(),
                        })
                        .collect(),
                    pinned: pinned
                        .scopes
                        .iter()
                        .map(|(scope, p)| PinnedScope {
                            scope: scope.to_string(),
                            seq: p.seq,
                            seal: p.seal.clone(),
                        })
                        .collect(),
                });
                return Ok(());
            }
            out.data(&format!("store {}", meta.id));
            for (name, keys) in &owners {
                out.data(&format!("owner {name}: {}", keys.join(", ")));
            }
            if pinned.scopes.is_empty() {
                out.data("this machine has not trusted this store yet (`authsome trust accept`)");
            }
            for (scope, p) in &pinned.scopes {
                out.data(&format!("pinned {scope} #{}", p.seq));
            }
        }
        Command::Reset { .. } => {
            let meta = snap.meta()?;
            let mut fresh = pin::Pin::default();
            trust::accept(&snap, &mut fresh)?;
            if let Some(file) = &cx.project_file {
                pin::set_project(file, &meta.id)?;
            }
            if out.json {
                out.json(&TrustReport {
                    status: "reset".to_owned(),
                    store: meta.id.clone(),
                    pinned: fresh.scopes.len(),
                });
            } else {
                out.info(&format!(
                    "Forgot the old pin; trusted the store as it is now ({} scopes pinned)",
                    fresh.scopes.len()
                ));
            }
        }
        Command::Accept { roots } => {
            let meta = snap.meta()?;
            let mut pinned = pin::load_any(&meta.id)?;
            // `--root` beats the trust root of the environment; neither trusts HEAD as it is.
            let root = if roots.is_empty() {
                cx.trust.root.clone()
            } else {
                Some(roots.join(",").parse::<trust::TrustRoot>()?)
            };
            match root {
                Some(root) => trust::accept_rooted(&snap, &mut pinned, &root)?,
                None => trust::accept(&snap, &mut pinned)?,
            }
            if out.json {
                out.json(&TrustReport {
                    status: "accepted".to_owned(),
                    store: meta.id.clone(),
                    pinned: pinned.scopes.len(),
                });
            } else {
                out.info(&format!(
                    "Trusted: {} scopes pinned on this machine",
                    pinned.scopes.len()
                ));
            }
        }
    }
    Ok(())
}
