//! `authsome trust allowed-signers`: the store's signers for stock `ssh-keygen -Y verify`.

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;

/// `trust` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print an allowed_signers file of the store's signers (namespace authsome-seal), for
    /// `ssh-keygen -Y verify -n authsome-seal -f FILE`.
    AllowedSigners,
}

/// Runs a `trust` subcommand.
pub fn exec(cx: &Context, out: &Output, cmd: Command) -> Result<()> {
    match cmd {
        Command::AllowedSigners => {
            let store = cx.store()?;
            let snap = store.snapshot()?;
            out.raw_text(&authsome::trust::allowed_signers(&snap)?);
            Ok(())
        }
    }
}
