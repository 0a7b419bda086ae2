//! The `authsome` binary: parse arguments, run the command, map errors to exit codes.

#![deny(unsafe_code)]

mod cli;

use authsome::error::Error;
use cli::Cli;
use cli::output::{ColorWhen, Output};

fn main() {
    // A shell asking for completions (`AUTHSOME_COMPLETE=bash authsome -- WORDS`) gets them here.
    cli::complete::answer_if_asked(cli::command);
    let color = ColorWhen::from_args();
    let parsed = cli::command()
        .color(color.clap())
        .try_get_matches()
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => usage_error(e),
    };
    log_to_stderr(cli.global.verbose, color);
    let out = Output::new(cli.global.json, cli.global.quiet, color);
    if let Err(err) = cli::run(cli, &out) {
        if !err.is_reported() {
            out.error(&err);
        }
        std::process::exit(err.kind().exit_code());
    }
}

/// clap prints help and version on stdout with success, and usage errors (an invalid name
/// included: the names' parsers validate them) on stderr with exit code 2; under `--json` a
/// usage error is a JSON error object like any other.
fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind as Clap;
    let json = std::env::args_os()
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    if !json || matches!(e.kind(), Clap::DisplayHelp | Clap::DisplayVersion) {
        e.exit();
    }
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    let message = first.strip_prefix("error: ").unwrap_or(first);
    let err = Error::usage(message).with_hint("see `authsome --help` for the usage");
    Output::new(true, false, ColorWhen::Never).error(&err);
    std::process::exit(err.kind().exit_code());
}

/// Debug output on stderr, as `-v`/`-vv` or `AUTHSOME_LOG` (a tracing filter) ask; nothing
/// otherwise.
fn log_to_stderr(verbose: u8, color: ColorWhen) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("AUTHSOME_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
        _ => match verbose {
            0 => return,
            1 => EnvFilter::new("authsome=info"),
            _ => EnvFilter::new("authsome=debug"),
        },
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(color.on(std::io::IsTerminal::is_terminal(&std::io::stderr())))
        .init();
}
