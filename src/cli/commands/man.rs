//! `authsome man [--out DIR]`: man pages for authsome and each of its commands.

use std::path::PathBuf;

use crate::cli::output::Output;
use authsome::error::{Error, Result};

/// Arguments of `man`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write a page per command (authsome.1, authsome-login.1, ...) into this folder instead of
    /// printing the main page.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Runs `man` for the command line `cmd`.
pub fn exec(out: &Output, args: Args, cmd: clap::Command) -> Result<()> {
    out.refuse_json("man writes roff pages")?;
    match args.out {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut page)
                .map_err(|e| Error::internal(format!("could not render the man page: {e}")))?;
            out.data(String::from_utf8_lossy(&page).trim_end());
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
            clap_mangen::generate_to(cmd, &dir)
                .map_err(|e| Error::io("write man pages into", &dir, e))?;
            out.info(&format!("Wrote the man pages into {}.", dir.display()));
        }
    }
    Ok(())
}
