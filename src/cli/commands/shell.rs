//! `authsome shell [-c PROVIDER=NAME]... [-- CMD]`: `$SHELL` (or CMD) under the proxy of `run`
//! for as long as it lives, marked with `AUTHSOME_SHELL` so a prompt can show it.

use std::ffi::OsString;

use super::run::{ProxyArgs, under_proxy};
use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;

/// Arguments of `shell`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// A command to run instead of $SHELL, after `--`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<OsString>,
}

/// Runs `shell`.
pub fn exec(ctx: &Context, out: &Output, args: Args) -> Result<()> {
    out.refuse_json("shell starts an interactive shell")?;
    if std::env::var_os("AUTHSOME_SHELL").is_some() {
        out.warn("this shell already runs under authsome; the new one gets its own proxy");
    }
    let command = if args.command.is_empty() {
        vec![
            std::env::var_os("SHELL")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| OsString::from("/bin/sh")),
        ]
    } else {
        args.command
    };
    let marker = ctx.store_path.display().to_string();
    under_proxy(
        ctx,
        out,
        &args.proxy,
        &command,
        vec![("AUTHSOME_SHELL".to_owned(), marker)],
    )?
    .propagate()
}
