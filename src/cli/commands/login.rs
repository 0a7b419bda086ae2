//! `authsome login PROVIDER`: store a credential as a connection.

use clap::ValueEnum;

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::Result;
use authsome::model::names::ConnectionName;
use authsome::model::provider::Flow;
use authsome::ops::login::{self, Report, Source};

/// Arguments of `login`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The provider to log in to.
    #[arg(add = crate::cli::complete::providers())]
    pub provider: String,
    /// The connection name.
    #[arg(add = crate::cli::complete::connections(), long, short, default_value = "default")]
    pub connection: ConnectionName,
    /// Replace an existing connection, and make it the default (as switching accounts does).
    #[arg(long, short)]
    pub force: bool,
    /// With --force: replace the credential but keep the current default connection.
    #[arg(long, requires = "force")]
    pub keep_default: bool,
    /// Read the API key (or, with --with-token, the token) from standard input.
    #[arg(long)]
    pub stdin: bool,
    /// Store the provider's personal or bot token (a GitHub PAT, a Slack bot token, ...)
    /// instead of running its OAuth flow; read from standard input when it is piped.
    #[arg(long, conflicts_with_all = ["flow", "client_id", "client_secret_stdin", "scopes"])]
    pub with_token: bool,
    /// Do not open a browser: ask at the terminal, or print the URL to open elsewhere.
    #[arg(long)]
    pub no_browser: bool,
    /// Print what a person must do (the device code, or the page to open) and return at once;
    /// the login goes on in the background until it completes or expires (15 minutes at most).
    #[arg(long, conflicts_with_all = ["stdin", "status"])]
    pub no_wait: bool,
    /// Say whether a login started with --no-wait is pending, connected, expired or denied.
    #[arg(long)]
    pub status: bool,
    /// With --status: wait until it is no longer pending.
    #[arg(long, requires = "status")]
    pub wait: bool,
    /// The background half of --no-wait (internal).
    #[arg(long, hide = true)]
    pub detached: bool,
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

impl From<FlowArg> for Flow {
    fn from(f: FlowArg) -> Self {
        match f {
            FlowArg::Pkce => Flow::Pkce,
            FlowArg::DeviceCode => Flow::DeviceCode,
            FlowArg::DcrPkce => Flow::DcrPkce,
            FlowArg::ClientCredentials => Flow::ClientCredentials,
            FlowArg::ApiKey => Flow::ApiKey,
        }
    }
}

/// Runs `login`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    if args.status {
        return super::login_wait::status(cx, out, &args.provider, &args.connection, args.wait);
    }
    if args.no_wait {
        return super::login_wait::start(cx, out, &args.provider, &args.connection);
    }
    let detached = args.detached;
    let request = login::Request {
        // As `gh auth login --with-token`: a piped token is read from standard input.
        source: if args.stdin
            || (args.with_token && !std::io::IsTerminal::is_terminal(&std::io::stdin()))
        {
            Source::Stdin
        } else if args.no_browser {
            Source::Prompt
        } else {
            Source::Form
        },
        open_browser: !args.no_browser,
        flow: args.flow.map(Flow::from),
        scopes: args.scopes.map(|s| {
            s.split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        }),
        provider: args.provider,
        connection: args.connection,
        force: args.force,
        keep_default: args.keep_default,
        with_token: args.with_token,
        base_url: args.base_url,
        client_id: args.client_id,
        client_secret_stdin: args.client_secret_stdin,
    };
    // A page that took the key keeps answering "this link is closed" for a moment after the
    // result is printed.
    struct CloseForms;
    impl Drop for CloseForms {
        fn drop(&mut self) {
            authsome::input::close_forms();
        }
    }
    let _close = CloseForms;
    if detached {
        return super::login_wait::run_detached(cx, &request);
    }
    let report = login::login(cx, out, &request)?;
    if out.json {
        out.json(&report);
        return Ok(());
    }
    match &report {
        Report::AlreadyConnected {
            provider,
            connection,
        } => out.info(&format!(
            "{provider}/{connection} is already logged in; nothing changed (use --force to replace it)"
        )),
        Report::Unchanged(s) if s.oauth.is_none() => out.info(&format!(
            "{}/{} already holds that key; nothing changed",
            s.provider, s.connection
        )),
        Report::Success(s) | Report::Unchanged(s) => {
            let suffix = if s.default {
                " (used when no connection is named)"
            } else {
                ""
            };
            match &s.oauth {
                None => out.info(&format!(
                    "Logged in to {} as connection {}{suffix}",
                    s.display_name, s.connection
                )),
                Some(o) => {
                    let who = o
                        .account
                        .as_ref()
                        .map(|w| format!(" as {w}"))
                        .unwrap_or_default();
                    out.info(&format!(
                        "Logged in to {}{who}, connection {}{suffix}",
                        s.display_name, s.connection
                    ));
                }
            }
        }
    }
    Ok(())
}
