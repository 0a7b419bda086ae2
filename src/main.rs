//! The `authsome` binary: parse arguments, run the command, map errors to exit codes.

#![deny(unsafe_code)]

mod cli;

use clap::Parser;

use cli::{Cli, output::Output};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version on stdout with success; usage errors exit 2.
            e.exit();
        }
    };
    let out = Output::new(cli.global.json, cli.global.quiet, cli.global.no_color);
    if let Err(err) = cli::run(cli, &out) {
        if !err.is_reported() {
            out.error(&err);
        }
        std::process::exit(err.kind().exit_code());
    }
}
