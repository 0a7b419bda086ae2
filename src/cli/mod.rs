//! The command line: argument definitions and one handler per command.

mod audit;
mod default;
mod doctor;
pub(crate) mod export;
mod get;
mod history;
mod init;
mod list;
mod login;
mod login_oauth;
mod logout;
pub mod output;
mod provider;
mod review;
mod revoke;
mod run;
mod status;
mod sync;
mod whoami;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use authsome::context::{Context, Options};
use output::Output;

use authsome::error::Result;

/// Credentials for developers and AI agents, kept in a git repository.
#[derive(Debug, Parser)]
#[command(
    name = "authsome",
    version,
    about,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The store to use (default: $AUTHSOME_HOME, else ~/.authsome).
    #[arg(long, global = true, env = "AUTHSOME_STORE", value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// The age or SSH identity to decrypt with (default: ~/.config/authsome/identity.txt).
    #[arg(long, global = true, env = "AUTHSOME_IDENTITY", value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// The vault to use (default: the project's, else "default").
    #[arg(long, global = true, env = "AUTHSOME_VAULT", value_name = "NAME")]
    pub vault: Option<String>,
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print only what was asked for (values, errors).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Never colour the output.
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the store and an identity, where they do not exist yet.
    Init {
        /// Create the store in this project's repository (`.authsome/`, named by `.authsome.yaml`).
        #[arg(long)]
        project: bool,
    },
    /// Log in to a provider and store the credential as a connection.
    Login(LoginArgs),
    /// Show a connection, or one field of it.
    Get(GetArgs),
    /// Print a connection's credentials as environment variables.
    Export(ExportArgs),
    /// Run a command whose HTTPS requests get credentials from a local proxy (`--env`: real
    /// values in its environment instead).
    Run(RunArgs),
    /// Start your shell (or CMD) under the proxy of `run`, for as long as it lives.
    Shell(ShellArgs),
    /// Show the proxy's log: which connection was used for which host and path, and refusals.
    Audit(AuditArgs),
    /// List providers that have connections.
    List(ListArgs),
    /// Show a provider and every one of its connections.
    Inspect(InspectArgs),
    /// Make a connection the provider's default.
    #[command(visible_alias = "set-default")]
    Default(DefaultArgs),
    /// Remove a connection from the store (the provider is not contacted).
    Logout(LogoutArgs),
    /// Revoke tokens at the provider, then remove them (every connection, or one).
    Revoke(LogoutArgs),
    /// List, show, add and remove provider definitions.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Show the store's history: who changed what, when.
    Log(LogArgs),
    /// Bring a provider or connection back as it was at a revision, in a new commit.
    Restore(RestoreArgs),
    /// Show what changed between two revisions (default: the last commit), secrets redacted.
    Diff(DiffArgs),
    /// Show one commit and what it changed, secrets redacted.
    Show {
        /// The revision.
        #[arg(default_value = "HEAD")]
        rev: String,
    },
    /// Print a secret file as a redacted summary (git's textconv driver calls this).
    #[command(hide = true)]
    Textconv {
        /// The file.
        file: PathBuf,
    },
    /// Make `git diff` and `git log -p` show secret files as redacted summaries.
    GitSetup,
    /// Pull (rebase) and push the store's branch with git.
    Sync,
    /// What needs attention: uncommitted edits, expiring connections, stale recipients, rollbacks.
    Status,
    /// Show the store, the identity and the vaults in use.
    Whoami,
    /// Check the store, the identity and the secrets, and say what to fix.
    Doctor,
}

/// Arguments of `login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The provider to log in to.
    pub provider: String,
    /// The connection name.
    #[arg(long, short, default_value = "default")]
    pub connection: String,
    /// Replace an existing connection, and make it the default.
    #[arg(long, short)]
    pub force: bool,
    /// Read the API key from standard input.
    #[arg(long)]
    pub stdin: bool,
    /// Do not open a browser: ask at the terminal, or print the URL to open elsewhere.
    #[arg(long)]
    pub no_browser: bool,
    /// The OAuth2 flow to run (default: the provider's).
    #[arg(long, value_enum)]
    pub flow: Option<FlowArg>,
    /// Scopes to request, comma-separated (default: the provider's).
    #[arg(long, value_name = "A,B")]
    pub scopes: Option<String>,
    /// Fills {base_url} in the provider's URLs (GitHub Enterprise, self-hosted GitLab).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// The OAuth client id (a client secret is never taken as an argument).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Read the OAuth client secret from standard input.
    #[arg(long, conflicts_with = "stdin")]
    pub client_secret_stdin: bool,
}

/// Login flows, as `--flow` spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum FlowArg {
    /// Authorization code with PKCE and a loopback callback.
    Pkce,
    /// Device authorization: a code to enter on another device.
    DeviceCode,
    /// Dynamic client registration, then PKCE.
    DcrPkce,
    /// Client credentials (no user).
    ClientCredentials,
    /// Paste an API key.
    ApiKey,
}

impl From<FlowArg> for authsome::model::provider::Flow {
    fn from(f: FlowArg) -> Self {
        use authsome::model::provider::Flow;
        match f {
            FlowArg::Pkce => Flow::Pkce,
            FlowArg::DeviceCode => Flow::DeviceCode,
            FlowArg::DcrPkce => Flow::DcrPkce,
            FlowArg::ClientCredentials => Flow::ClientCredentials,
            FlowArg::ApiKey => Flow::ApiKey,
        }
    }
}

/// Arguments of `get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The provider.
    pub provider: String,
    /// The connection (default: the provider's default connection).
    #[arg(long, short)]
    pub connection: Option<String>,
    /// Print only this field (status, api_key, expires_at, ...).
    #[arg(long)]
    pub field: Option<String>,
    /// Show secret values instead of ***REDACTED***.
    #[arg(long)]
    pub show_secret: bool,
}

/// Output formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// `NAME=value` lines (quoted where needed, so `eval` works).
    Env,
    /// `export NAME='value'` lines.
    Shell,
    /// One JSON object.
    Json,
}

/// Arguments of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The provider (default: every provider's default connection).
    pub provider: Option<String>,
    /// The connection (default: the provider's default connection).
    #[arg(long, short, requires = "provider")]
    pub connection: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "env")]
    pub format: ExportFormat,
}

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
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
    pub command: Vec<std::ffi::OsString>,
}

/// Options of the proxy that `run` and `shell` start.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Use this connection for a provider (repeatable).
    #[arg(long, short, value_name = "PROVIDER=NAME")]
    pub connection: Vec<String>,
    /// Also trust these CA certificates (PEM) for upstream servers, e.g. a corporate proxy's.
    #[arg(long, value_name = "FILE", env = "AUTHSOME_UPSTREAM_CA")]
    pub upstream_ca: Option<PathBuf>,
}

/// Arguments of `shell`.
#[derive(Debug, Args)]
pub struct ShellArgs {
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// A command to run instead of $SHELL, after `--`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<std::ffi::OsString>,
}

/// Arguments of `audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only entries of this provider.
    pub provider: Option<String>,
    /// Only entries since this time: RFC 3339 (`2026-11-27T10:00:00Z`) or an age (`1h`, `2 days`).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Show at most the last N entries.
    #[arg(short = 'n', long = "max-count", value_name = "N")]
    pub limit: Option<usize>,
}

/// Arguments of `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Include providers without connections.
    #[arg(long)]
    pub all: bool,
}

/// Arguments of `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The provider.
    pub provider: String,
}

/// Arguments of `default`.
#[derive(Debug, Args)]
pub struct DefaultArgs {
    /// The provider.
    pub provider: String,
    /// The connection to make the default.
    pub connection: String,
}

/// Arguments of `logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The provider.
    pub provider: String,
    /// The connection (default: the provider's default connection).
    #[arg(long, short)]
    pub connection: Option<String>,
}

/// Arguments of `log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Only commits touching PROVIDER or PROVIDER/CONNECTION.
    #[arg(value_name = "PROVIDER[/CONNECTION]")]
    pub target: Option<String>,
    /// Show at most N commits.
    #[arg(short = 'n', long = "max-count", value_name = "N")]
    pub limit: Option<usize>,
}

/// Arguments of `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// `REV` (from REV to HEAD) or `REV..REV`.
    #[arg(value_name = "REV[..REV]")]
    pub range: Option<String>,
}

/// Arguments of `restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// What to restore.
    #[arg(value_name = "PROVIDER[/CONNECTION]")]
    pub target: String,
    /// The revision to restore it from (a commit id, HEAD~N, ...).
    #[arg(long, value_name = "REV")]
    pub to: String,
}

/// `provider` subcommands.
#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// List every known provider.
    List,
    /// Show a provider's definition.
    Show {
        /// The provider.
        name: String,
    },
    /// Add a custom provider definition (YAML) to the store.
    Add {
        /// The definition file.
        file: PathBuf,
        /// Replace an existing custom definition, or override a bundled one.
        #[arg(long, short)]
        force: bool,
    },
    /// Remove a custom provider definition from the store.
    Remove {
        /// The provider.
        name: String,
    },
}

/// Runs a parsed command line.
pub fn run(cli: Cli, out: &Output) -> Result<()> {
    let ctx = Context::resolve(Options {
        store: cli.global.store,
        identity: cli.global.identity,
        vault: cli.global.vault,
    })?;
    match cli.command {
        Command::Init { project } => init::run(&ctx, out, project),
        Command::Login(a) => login::run(&ctx, out, a),
        Command::Get(a) => get::run(&ctx, out, a),
        Command::Export(a) => export::run(&ctx, out, a),
        Command::List(a) => list::list(&ctx, out, a),
        Command::Inspect(a) => list::inspect(&ctx, out, a),
        Command::Default(a) => default::run(&ctx, out, a),
        Command::Logout(a) => logout::run(&ctx, out, a),
        Command::Revoke(a) => revoke::run(&ctx, out, a),
        Command::Provider(c) => provider::run(&ctx, out, c),
        Command::Log(a) => history::log(&ctx, out, a),
        Command::Restore(a) => history::restore(&ctx, out, a),
        Command::Diff(a) => review::diff(&ctx, out, a),
        Command::Show { rev } => review::show(&ctx, out, &rev),
        Command::Textconv { file } => review::textconv(&ctx, out, &file),
        Command::GitSetup => review::git_setup(&ctx, out),
        Command::Status => status::run(&ctx, out),
        Command::Run(a) => run::run(&ctx, out, a),
        Command::Shell(a) => run::shell(&ctx, out, a),
        Command::Audit(a) => audit::run(out, a),
        Command::Sync => sync::run(&ctx, out),
        Command::Whoami => whoami::run(&ctx, out),
        Command::Doctor => doctor::run(&ctx, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
