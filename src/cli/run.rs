//! `authsome run --env -- CMD`: run a command with real credentials in its environment.
//!
//! This is the mode for tools that ignore proxies. The injecting proxy (the default mode, where
//! the child only ever sees placeholders) is not built yet; until it is, `run` without `--env`
//! says so rather than silently handing out secrets.

use std::collections::BTreeMap;

use age::secrecy::ExposeSecret;

use super::{Context, Output, RunArgs};
use crate::error::{Error, Result};
use crate::model::names;

pub fn run(ctx: &Context, out: &Output, args: RunArgs) -> Result<()> {
    if !args.env {
        return Err(Error::usage(
            "the injecting proxy of `authsome run` is not available in this version; use `authsome run --env -- CMD` (real values in CMD's environment) or `authsome export`",
        ));
    }
    let mut overrides = BTreeMap::new();
    for pair in &args.connection {
        let (provider, conn) = pair.split_once('=').ok_or_else(|| {
            Error::usage(format!("--connection takes PROVIDER=NAME, not {pair:?}"))
        })?;
        names::validate("provider", provider)?;
        names::validate("connection", conn)?;
        overrides.insert(provider.to_owned(), conn.to_owned());
    }
    let store = ctx.store()?;
    let snap = store.snapshot()?;
    let meta = store.meta(&snap)?;
    let identity = ctx.identity()?;
    for (provider, conn) in &overrides {
        if crate::vault::connections(&snap, &ctx.vault, provider)?.is_empty() {
            return Err(Error::new(
                crate::error::ErrorKind::ConnectionNotFound,
                format!("{provider} has no connections; log in with `authsome login {provider}`"),
            ));
        }
        if crate::vault::record(&snap, &ctx.vault, provider, conn)?.is_none() {
            return Err(crate::vault::not_found(&snap, &ctx.vault, provider, conn)?);
        }
    }
    let vars =
        super::export::every_default(ctx, out, &store, &snap, &meta.id, &identity, &overrides)?;
    // Said once, always: these values are readable by anything running as this user.
    eprintln!(
        "warning: --env puts {} real credential{} in the environment of {:?}, where processes of the same user can read them",
        vars.len(),
        if vars.len() == 1 { "" } else { "s" },
        args.command[0].to_string_lossy()
    );
    let mut command = std::process::Command::new(&args.command[0]);
    command.args(&args.command[1..]);
    for (k, v) in &vars {
        command.env(k, v.expose_secret());
    }
    exec(command, &args.command[0].to_string_lossy())
}

/// Replaces this process with the command, so its exit code and signals are the command's own.
#[cfg(unix)]
fn exec(mut command: std::process::Command, name: &str) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let err = command.exec();
    Err(Error::usage(format!("could not run {name}: {err}")))
}

#[cfg(not(unix))]
fn exec(mut command: std::process::Command, name: &str) -> Result<()> {
    let status = command
        .status()
        .map_err(|e| Error::usage(format!("could not run {name}: {e}")))?;
    std::process::exit(status.code().unwrap_or(1));
}
