//! `authsome completions SHELL`: the script that makes a shell complete authsome's commands,
//! options and the store's provider, connection and vault names.

use crate::cli::complete::VAR;
use crate::cli::output::Output;
use authsome::error::{Error, Result};

/// Arguments of `completions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_parser = ["bash", "zsh", "fish", "powershell", "elvish"])]
    pub shell: String,
}

/// Runs `completions`.
pub fn exec(out: &Output, args: Args) -> Result<()> {
    out.refuse_json("completions prints a shell script")?;
    let shells = clap_complete::env::Shells::builtins();
    let shell = shells
        .completer(&args.shell)
        .ok_or_else(|| Error::usage(format!("authsome cannot complete for {}", args.shell)))?;
    let mut script = Vec::new();
    // The script calls `authsome` from PATH at each completion, so it outlives an upgrade.
    shell
        .write_registration(VAR, "authsome", "authsome", "authsome", &mut script)
        .map_err(|e| Error::internal(format!("could not write the script: {e}")))?;
    out.data(String::from_utf8_lossy(&script).trim_end());
    Ok(())
}
