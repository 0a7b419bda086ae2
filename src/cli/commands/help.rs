//! `authsome help [COMMAND...|exit-codes|environment]`: a command's help, or one of the topics
//! that belong to no command.

use crate::cli::output::Output;
use authsome::error::{Error, Result};

/// Arguments of `help`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A command (`login`, `provider add`, ...), or a topic: `exit-codes`, `environment`.
    pub topic: Vec<String>,
}

/// What each exit code means.
pub const EXIT_CODES: &str = "\
Exit codes (`status` and `doctor` exit 1 when they list something; `run` and `shell` exit with
their command's own code once it has started):

  0  success, including \"already logged in; nothing changed\"
  1  an unclassified error; `status` listed something that needs attention; `doctor` found a problem;
     `policy check` found the request refused
  2  usage: bad arguments, an invalid or reserved name, a key that fails the provider's pattern,
     the provider refused the login
  3  no such connection (the message lists the existing ones)
  4  no such provider (the message suggests the nearest names)
  5  the connection has no such credential, or its token expired and could not be refreshed
  7  a provider, principal or vault by that name already exists
  8  a provider endpoint could not be reached, timed out, or answered with an error
 10  the store: missing, not a git repository, malformed, read-only or full, a lock held, a write
     in the way of uncommitted edits
 11  the identity or a secret: missing or world-readable identity, not a recipient, a damaged
     secret file; your principal lacks the role a change needs
 12  trust: a seal missing, not naming the tree that is there, or signed by someone the pinned
     policy does not allow; a rollback, a fork, a store not yet trusted on this machine
126  `run`/`shell`: the command cannot be executed (not a program, no execute permission)
127  `run`/`shell`: the command was not found
130  cancelled: Ctrl-C or Ctrl-D at a prompt

With --json an error is {\"error\": {\"code\", \"exit_code\", \"message\", \"hint\"}} on stdout.";

/// Every environment variable authsome reads.
pub const ENVIRONMENT: &str = "\
Environment variables authsome reads:

  AUTHSOME_STORE         the store (as --store)
  AUTHSOME_HOME          the store when neither --store, AUTHSOME_STORE nor a project names one
  AUTHSOME_IDENTITY      the age or SSH identity (as --identity)
  AUTHSOME_SIGNING_KEY   the SSH signing key for seals and signed commits
  AUTHSOME_VAULT         the vault (as --vault)
  AUTHSOME_TRUST_ROOT    owner keys to trust on first use (as --trust-root)
  AUTHSOME_TRUST=warn    let list and inspect show a state that does not verify
  AUTHSOME_UPSTREAM_CA   extra CA certificates for the proxy's upstreams (as run --upstream-ca)
  AUTHSOME_REFRESH_WINDOW  seconds before expiry within which a read refreshes a token (300)
  AUTHSOME_LOG           a tracing filter for debug output on stderr (as -v/-vv)
  AUTHSOME_PAGER, PAGER  the pager of log, diff and show on a terminal (default: less -FRX)
  LESS                   less's options for that pager (FRX when unset)
  AUTHSOME_COMPLETE      set by the completion scripts: answer a completion request
  AUTHSOME_SHELL         set inside `authsome shell`, so a nested one is refused
  NO_COLOR, CLICOLOR_FORCE  no colour / colour even into a pipe (below --color)
  BROWSER                the command that opens the login page (else xdg-open, on a display)
  DISPLAY, WAYLAND_DISPLAY  whether a browser can be opened at all
  SSH_CONNECTION         on a Mac reached over SSH, no browser is opened (the login page
                         is printed, or the device flow used)
  XDG_CONFIG_HOME        where the identity and signing key live (~/.config)
  XDG_STATE_HOME         where trust pins live (~/.local/state)
  XDG_CACHE_HOME         where token and record caches live (~/.cache)
  HOME, USER, USERNAME   the default store and principal name
  SHELL                  what `authsome shell` starts";

/// Runs `help` over the command line `root`.
pub fn exec(out: &Output, args: Args, mut root: clap::Command) -> Result<()> {
    out.refuse_json("help prints text for people")?;
    match args.topic.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["exit-codes"] => out.data(EXIT_CODES),
        ["environment"] => out.data(ENVIRONMENT),
        _ => {
            root.build();
            let mut cmd = &mut root;
            for name in &args.topic {
                cmd = cmd.find_subcommand_mut(name).ok_or_else(|| {
                    Error::usage(format!(
                        "there is no command or help topic {name:?}; see `authsome help`, `authsome help exit-codes` or `authsome help environment`"
                    ))
                })?;
            }
            out.data(cmd.render_long_help().to_string().trim_end());
        }
    }
    Ok(())
}
