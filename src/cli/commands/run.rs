//! `authsome run [-c PROVIDER=NAME]... -- CMD`: a command under the injecting proxy, whose
//! environment holds only placeholders; and `run --env`, real values in the environment for
//! tools that ignore proxies.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

use age::secrecy::ExposeSecret;

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::{Error, ErrorKind, Result};
use authsome::model::names;
use authsome::proxy::{self, child, credentials::Settings};

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Put the real values in the command's environment instead of using the proxy.
    #[arg(long)]
    pub env: bool,
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// The command and its arguments, after `--`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "CMD"
    )]
    pub command: Vec<OsString>,
}

/// Options of the proxy that `run` and `shell` start.
#[derive(Debug, clap::Args)]
pub struct ProxyArgs {
    /// Use this connection for a provider (repeatable).
    #[arg(long, short, value_name = "PROVIDER=NAME")]
    pub connection: Vec<String>,
    /// Also trust these CA certificates (PEM) for upstream servers, e.g. a corporate proxy's.
    #[arg(long, value_name = "FILE", env = "AUTHSOME_UPSTREAM_CA")]
    pub upstream_ca: Option<PathBuf>,
    /// Let credentials make only GET, HEAD and OPTIONS requests, to every provider.
    #[arg(long)]
    pub read_only: bool,
    /// Let a provider's credential make only these requests (repeatable; narrows the vault's
    /// policy, never widens it; a provider no --allow names gets none).
    #[arg(long, value_name = "PROVIDER:METHOD PATH")]
    pub allow: Vec<String>,
    /// Stop after this many credentialed requests (later ones get 429).
    #[arg(long, value_name = "N")]
    pub max_requests: Option<u64>,
    /// `tunnel` passes connections to other hosts through untouched; `providers-only` refuses
    /// them (for clients that honour the proxy variables: not a sandbox).
    #[arg(long, value_enum, default_value = "tunnel")]
    pub egress: Egress,
    /// With --egress providers-only: let this host through too (repeatable; `*.example.com`).
    #[arg(long, value_name = "HOST")]
    pub allow_host: Vec<String>,
}

/// Where the child's other connections may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Egress {
    /// Tunnel them untouched (the default).
    Tunnel,
    /// Refuse every host no provider covers, but those `--allow-host` names.
    ProvidersOnly,
}

impl ProxyArgs {
    /// The run's limits: these options, and the project's `.authsome.yaml` `run:` section.
    fn narrowing(&self, ctx: &Context) -> Result<proxy::guard::Narrowing> {
        let project = &ctx.run_limits;
        let mut allow = Vec::new();
        for a in self.allow.iter().chain(&project.allow) {
            allow.push(proxy::guard::Narrowing::parse_allow(a)?);
        }
        let max_requests = match (self.max_requests, project.max_requests) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(proxy::guard::Narrowing {
            read_only: self.read_only || project.read_only,
            allow,
            max_requests,
            providers_only: self.egress == Egress::ProvidersOnly || project.providers_only,
            allow_hosts: self
                .allow_host
                .iter()
                .chain(&project.allow_hosts)
                .cloned()
                .collect(),
        })
    }
}

/// Runs `run`.
pub fn exec(ctx: &Context, out: &Output, args: Args) -> Result<()> {
    out.refuse_json("run prints what the command prints")?;
    if args.env {
        let overrides = overrides(&args.proxy.connection)?;
        return with_env(ctx, out, &overrides, &args.command);
    }
    under_proxy(ctx, out, &args.proxy, &args.command, Vec::new())?.propagate()
}

/// Starts the proxy, runs the command under it, and returns how the command ended.
pub(super) fn under_proxy(
    ctx: &Context,
    out: &Output,
    args: &ProxyArgs,
    command: &[OsString],
    extra_env: Vec<(String, String)>,
) -> Result<child::Exit> {
    let overrides = overrides(&args.connection)?;
    {
        let store = ctx.store()?;
        let snap = store.snapshot()?;
        authsome::trust::gate_vault(&snap, &ctx.vault, &ctx.trust, out)?;
        check_overrides(ctx, &snap, &overrides)?;
        warn_rotation(ctx, out, &snap, &overrides)?;
    }
    let settings = Settings {
        location: ctx.location.clone(),
        vault: ctx.vault.clone(),
        identity: ctx.identity()?,
        overrides,
        pins: ctx.pins.clone(),
        ui: Arc::new(out.clone()),
        signing_key: ctx.signing_key_path.clone(),
        trust: ctx.trust.clone(),
    };
    let mut running = proxy::start(
        settings,
        proxy::Options {
            upstream_ca: args.upstream_ca.as_deref(),
            narrowing: args.narrowing(ctx)?,
        },
    )?;
    let mut env = std::mem::take(&mut running.env);
    env.extend(extra_env);
    let exit = child::run(command, &env, &running.unset, &running.runtime);
    running.stop();
    exit
}

/// `--connection PROVIDER=NAME`, repeated.
fn overrides(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        let (provider, conn) = pair.split_once('=').ok_or_else(|| {
            Error::usage(format!("--connection takes PROVIDER=NAME, not {pair:?}"))
        })?;
        names::validate("provider", provider)?;
        names::validate("connection", conn)?;
        out.insert(provider.to_owned(), conn.to_owned());
    }
    Ok(out)
}

/// Every `--connection` must name a connection that exists.
fn check_overrides(
    ctx: &Context,
    snap: &authsome::store::Snapshot<'_>,
    overrides: &BTreeMap<String, String>,
) -> Result<()> {
    let catalog = authsome::providers::Catalog::new(snap);
    for (provider, conn) in overrides {
        // An unknown provider gets the catalog's "did you mean", as `get` does.
        catalog.get(provider)?;
        if authsome::vault::connections(snap, &ctx.vault, provider)?.is_empty() {
            return Err(Error::new(
                ErrorKind::ConnectionNotFound,
                format!("{provider} has no connections; log in with `authsome login {provider}`"),
            ));
        }
        if authsome::vault::record(snap, &ctx.vault, provider, conn)?.is_none() {
            return Err(authsome::vault::not_found(
                snap, &ctx.vault, provider, conn,
            )?);
        }
    }
    Ok(())
}

/// Says once, before the command starts, which of the connections it may use should be rotated.
fn warn_rotation(
    ctx: &Context,
    out: &Output,
    snap: &authsome::store::Snapshot<'_>,
    overrides: &BTreeMap<String, String>,
) -> Result<()> {
    for (provider, (state, conns)) in authsome::vault::all_records(snap, &ctx.vault, None)? {
        let chosen = overrides
            .get(&provider)
            .or_else(|| ctx.pins.get(&provider))
            .or(state.default.as_ref());
        for (conn, record) in conns {
            if Some(&conn) == chosen
                && let Some(r) = &record.rotation
            {
                out.warn(&format!(
                    "{provider}/{conn} should be rotated ({}); see `authsome rotation list`",
                    r.reason
                ));
            }
        }
    }
    Ok(())
}

/// `run --env`: the real values in the command's environment, and no proxy.
fn with_env(
    ctx: &Context,
    out: &Output,
    overrides: &BTreeMap<String, String>,
    command: &[OsString],
) -> Result<()> {
    let store = ctx.store()?;
    let snap = store.snapshot()?;
    let meta = snap.meta()?;
    let identity = ctx.identity()?;
    authsome::trust::gate_vault(&snap, &ctx.vault, &ctx.trust, out)?;
    check_overrides(ctx, &snap, overrides)?;
    warn_rotation(ctx, out, &snap, overrides)?;
    let vars = authsome::ops::export::every_default(
        ctx, out, &store, &snap, &meta.id, &identity, overrides,
    )?;
    // Said once, always: these values are readable by anything running as this user.
    eprintln!(
        "warning: --env puts {} real credential{} in the environment of {:?}, where processes of the same user can read them",
        vars.len(),
        if vars.len() == 1 { "" } else { "s" },
        command[0].to_string_lossy()
    );
    let mut cmd = std::process::Command::new(&command[0]);
    cmd.args(&command[1..]);
    for (k, v) in &vars {
        cmd.env(k, v.expose_secret());
    }
    replace_process(cmd, &command[0].to_string_lossy())
}

/// Replaces this process with the command, so its exit code and signals are the command's own.
#[cfg(unix)]
fn replace_process(mut command: std::process::Command, name: &str) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let err = command.exec();
    Err(Error::spawn(name, err))
}

#[cfg(not(unix))]
fn replace_process(mut command: std::process::Command, name: &str) -> Result<()> {
    let status = command.status().map_err(|e| Error::spawn(name, e))?;
    std::process::exit(status.code().unwrap_or(1));
}
