//! The command line: the global options, the command enum and the dispatch. Each command's
//! arguments and handler live in `commands/`, one file per command.

mod commands;
pub mod complete;
mod examples;
mod mcp;
pub mod output;
mod pager;
pub mod terminal;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use authsome::context::{Context, Options};
use authsome::model::names::VaultName;
use output::Output;

use authsome::error::Result;

/// Credentials for developers and AI agents, kept in a git repository.
#[derive(Debug, Parser)]
#[command(
    name = "authsome",
    version = concat!(
        env!("CARGO_PKG_VERSION"),
        " (",
        env!("AUTHSOME_COMMIT"),
        " ",
        env!("AUTHSOME_COMMIT_DATE"),
        ")"
    ),
    about,
    propagate_version = true,
    disable_help_subcommand = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The command line as clap sees it: [`Cli`] with each command's examples.
pub fn command() -> clap::Command {
    examples::with_examples(<Cli as clap::CommandFactory>::command())
}

/// Options every command takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The store to use (default: the one a `.authsome.yaml` in this folder or above names, else
    /// $AUTHSOME_HOME, else ~/.authsome).
    #[arg(long, global = true, env = "AUTHSOME_STORE", value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// The age or SSH identity to decrypt with (default:
    /// $XDG_CONFIG_HOME/authsome/identity.txt, with ~/.config when XDG_CONFIG_HOME is unset).
    #[arg(long, global = true, env = "AUTHSOME_IDENTITY", value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// The vault to use (default: the project's, else "default").
    #[arg(add = crate::cli::complete::vaults(), long, global = true, env = "AUTHSOME_VAULT", value_name = "NAME")]
    pub vault: Option<VaultName>,
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Say what authsome does on stderr: -v the commits it makes, -vv also how it resolved the
    /// store, each OAuth request (endpoint and status) and each proxy routing decision; never a
    /// secret. AUTHSOME_LOG (a tracing filter, such as `debug`) overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print only what was asked for (values, errors).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// When to colour the output: auto (a terminal, unless NO_COLOR is set or CLICOLOR_FORCE
    /// asks), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value = "auto"
    )]
    pub color: output::ColorWhen,
    /// Do not send long output (log, diff, show) through a pager.
    #[arg(long, global = true)]
    pub no_pager: bool,
    /// Never colour the output (--color never).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// First use of a sealed store: trust only these owner signing keys
    /// (`SHA256:...[,SHA256:...][,min-seq=N]`, as `ssh-keygen -l` prints them).
    #[arg(
        long,
        global = true,
        env = "AUTHSOME_TRUST_ROOT",
        value_name = "FPR,..."
    )]
    pub trust_root: Option<String>,
    /// Let a read use a state older than this machine verified, with a warning (writes never).
    #[arg(long, global = true)]
    pub allow_rollback: bool,
    /// Let `list` and `inspect` show a state that does not verify, with a warning (never `get
    /// --show-secret`, `export` or `run`); `AUTHSOME_TRUST=warn` does the same.
    #[arg(long, global = true)]
    pub allow_unverified: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the store and an identity, where they do not exist yet.
    Init(commands::init::Args),
    /// Log in to a provider and store the credential as a connection.
    Login(commands::login::Args),
    /// Show a connection, or one field of it.
    Get(commands::get::Args),
    /// Print a connection's credentials as environment variables.
    Export(commands::export::Args),
    /// Run a command whose HTTPS requests get credentials from a local proxy (`--env`: real
    /// values in its environment instead).
    Run(commands::run::Args),
    /// Start your shell (or CMD) under the proxy of `run`, for as long as it lives.
    Shell(commands::shell::Args),
    /// Show the proxy's log: which connection was used for which host and path, and refusals.
    Audit(commands::audit::Args),
    /// List providers that have connections.
    List(commands::list::Args),
    /// Show a provider and every one of its connections.
    Inspect(commands::inspect::Args),
    /// Make a connection the provider's default.
    #[command(visible_alias = "set-default")]
    Default(commands::default::Args),
    /// Remove a connection from the store (the provider is not contacted).
    Logout(commands::logout::Args),
    /// Show or set a setting of this clone (`signing.commits`), kept in its git config.
    Config(commands::config::Args),
    /// Refresh an OAuth connection's tokens now, committing a rotated refresh token (one parked
    /// on this machine when its commit was refused).
    Refresh(commands::refresh::Args),
    /// Revoke tokens at the provider, then remove them (every connection, or one).
    Revoke(commands::revoke::Args),
    /// List, show, add and remove provider definitions.
    #[command(subcommand)]
    Provider(commands::provider::Command),
    /// Show the store's history: who changed what, when.
    Log(commands::log::Args),
    /// Bring a provider or connection back as it was at a revision, in a new commit.
    Restore(commands::restore::Args),
    /// Show what changed between two revisions (default: the last commit), secrets redacted.
    Diff(commands::diff::Args),
    /// Show one commit and what it changed, secrets redacted.
    Show(commands::show::Args),
    /// Print a secret file as a redacted summary (git's textconv driver calls this).
    #[command(hide = true)]
    Textconv(commands::textconv::Args),
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
    /// Add, list, show and remove principals: the people, agents and CI jobs vaults are shared
    /// with.
    #[command(subcommand)]
    Principal(commands::principal::Command),
    /// Create, list, show and delete vaults.
    #[command(subcommand)]
    Vault(commands::vault::Command),
    /// Give a principal a role in a vault (reader by default); readers get every secret
    /// re-encrypted to them.
    Grant(commands::grant::Args),
    /// Take every role in a vault from a principal; the vault is rekeyed and its credentials
    /// marked for rotation.
    RevokeAccess(commands::revoke_access::Args),
    /// Re-encrypt stale secrets to their vault's current readers.
    Rekey(commands::rekey::Args),
    /// List credentials to rotate since someone lost access, or say one was rotated.
    #[command(subcommand)]
    Rotation(commands::rotation::Command),
    /// Create an identity for an AI agent or CI job that reads one vault only.
    #[command(subcommand)]
    Agent(commands::agent::Command),
    /// Which requests the vault's credentials may make through the proxy (policy.yaml).
    #[command(subcommand)]
    Policy(commands::policy::Command),
    /// Vouch for what scopes hold now: a new seal each, signed with your signing key.
    Seal(commands::seal::Args),
    /// Check every scope's seal: signed by someone allowed, naming the tree that is there.
    Verify(commands::verify::Args),
    /// The store's signers, for stock tools.
    #[command(subcommand)]
    Trust(commands::trust::Command),
    /// Print a signed request to join this store, for an owner to add you.
    JoinRequest(commands::join_request::Args),
    /// Migrate the store to the current format (3: sealed; from 1 or 2), in one commit.
    Upgrade,
    /// Print the script that makes your shell complete authsome's commands and names.
    Completions(commands::completions::Args),
    /// Print authsome's man page, or write one per command into a folder.
    Man(commands::man::Args),
    /// Print the help of a command, or a topic: exit-codes, environment.
    Help(commands::help::Args),
    /// Print (or write) a SKILL.md that teaches an agent harness to use authsome safely.
    Skill(commands::skill::Args),
    /// Serve the Model Context Protocol on stdio: list connections, status, requests through
    /// the proxy, the audit log; never a secret.
    Mcp,
}

/// Runs a parsed command line.
pub fn run(cli: Cli, out: &Output) -> Result<()> {
    // These describe the command line itself and need no store.
    match cli.command {
        Command::Completions(a) => return commands::completions::exec(out, a),
        Command::Skill(a) => return commands::skill::exec(out, a),
        Command::Help(a) => return commands::help::exec(out, a, command()),
        Command::Man(a) => {
            return commands::man::exec(out, a, command());
        }
        _ => {}
    }
    let ctx = Context::resolve(Options {
        store: cli.global.store,
        identity: cli.global.identity,
        vault: cli.global.vault,
        signing_key: None,
        trust: authsome::trust::Settings {
            root: cli
                .global
                .trust_root
                .as_deref()
                .filter(|r| !r.trim().is_empty())
                .map(str::parse)
                .transpose()?,
            allow_rollback: cli.global.allow_rollback,
            allow_unverified: cli.global.allow_unverified
                || std::env::var("AUTHSOME_TRUST").is_ok_and(|v| v == "warn"),
        },
    })?;
    if !matches!(cli.command, Command::Run(_) | Command::Shell(_)) {
        // `run` and `shell` pass signals to their child and must outlive them.
        authsome::store::interrupts::hold_during_writes();
    }
    // Long output goes through a pager on a terminal; it ends when this does.
    let _pager = match cli.command {
        Command::Log(_) | Command::Diff(_) | Command::Show(_) => {
            pager::start(!cli.global.no_pager && !out.json)
        }
        _ => None,
    };
    use commands::*;
    match cli.command {
        Command::Init(a) => init::exec(&ctx, out, a),
        Command::Login(a) => login::exec(&ctx, out, a),
        Command::Get(a) => get::exec(&ctx, out, a),
        Command::Export(a) => export::exec(&ctx, out, a),
        Command::Run(a) => run::exec(&ctx, out, a),
        Command::Mcp => mcp::exec(ctx, out),
        Command::Shell(a) => shell::exec(&ctx, out, a),
        Command::Audit(a) => audit::exec(out, a),
        Command::List(a) => list::exec(&ctx, out, a),
        Command::Inspect(a) => inspect::exec(&ctx, out, a),
        Command::Default(a) => default::exec(&ctx, out, a),
        Command::Logout(a) => logout::exec(&ctx, out, a),
        Command::Refresh(a) => refresh::exec(&ctx, out, a),
        Command::Config(a) => config::exec(&ctx, out, a),
        Command::Revoke(a) => revoke::exec(&ctx, out, a),
        Command::Provider(c) => provider::exec(&ctx, out, c),
        Command::Log(a) => log::exec(&ctx, out, a),
        Command::Restore(a) => restore::exec(&ctx, out, a),
        Command::Diff(a) => diff::exec(&ctx, out, a),
        Command::Show(a) => show::exec(&ctx, out, a),
        Command::Textconv(a) => textconv::exec(&ctx, out, a),
        Command::GitSetup => git_setup::exec(&ctx, out),
        Command::Sync => sync::exec(&ctx, out),
        Command::Status => status::exec(&ctx, out),
        Command::Whoami => whoami::exec(&ctx, out),
        Command::Doctor => doctor::exec(&ctx, out),
        Command::Principal(c) => principal::exec(&ctx, out, c),
        Command::Vault(c) => vault::exec(&ctx, out, c),
        Command::Grant(a) => grant::exec(&ctx, out, a),
        Command::RevokeAccess(a) => revoke_access::exec(&ctx, out, a),
        Command::Rekey(a) => rekey::exec(&ctx, out, a),
        Command::Rotation(c) => rotation::exec(&ctx, out, c),
        Command::Agent(c) => agent::exec(&ctx, out, c),
        Command::Policy(c) => policy::exec(&ctx, out, c),
        Command::Upgrade => upgrade::exec(&ctx, out),
        Command::Completions(_) | Command::Man(_) | Command::Help(_) | Command::Skill(_) => {
            unreachable!("answered above")
        }
        Command::JoinRequest(a) => join_request::exec(&ctx, out, a),
        Command::Seal(a) => seal::exec(&ctx, out, a),
        Command::Verify(a) => verify::exec(&ctx, out, a),
        Command::Trust(c) => trust::exec(&ctx, out, c),
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
