//! `authsome export [PROVIDER] [-c NAME] [--format F]`: credentials as environment variables,
//! quoted so `eval "$(authsome export ...)"` works.

use age::secrecy::ExposeSecret;
use authsome::model::report::ExportReport;
use clap::ValueEnum;
use serde_json::{Map, Value};

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::{Error, Result};
use authsome::model::names::ConnectionName;
use authsome::ops::export;

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
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The provider (default: every provider's default connection).
    #[arg(add = crate::cli::complete::providers())]
    pub provider: Option<String>,
    /// The connection (default: the provider's default connection).
    #[arg(add = crate::cli::complete::connections(), long, short, requires = "provider")]
    pub connection: Option<ConnectionName>,
    /// Output format (default: env; json under --json).
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
}

/// Runs `export`.
pub fn exec(cx: &Context, out: &Output, args: Args) -> Result<()> {
    let format = match (out.json, args.format) {
        (false, f) => f.unwrap_or(ExportFormat::Env),
        (true, None | Some(ExportFormat::Json)) => ExportFormat::Json,
        (true, Some(_)) => {
            return Err(Error::usage(
                "--json prints the variables as one JSON object; drop --json to get --format env or shell",
            ));
        }
    };
    let vars = export::export(cx, out, args.provider.as_deref(), args.connection.as_ref())?;
    match format {
        ExportFormat::Json => {
            let map: Map<String, Value> = vars
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.expose_secret().to_owned())))
                .collect();
            out.json(&ExportReport(map));
        }
        ExportFormat::Env => {
            for (k, v) in &vars {
                out.data(&format!("{k}={}", quote_if_needed(v.expose_secret())));
            }
        }
        ExportFormat::Shell => {
            for (k, v) in &vars {
                out.data(&format!("export {k}={}", quote(v.expose_secret())));
            }
        }
    }
    Ok(())
}

/// Characters that never need quoting in a shell word.
fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c)
}

/// Single-quotes a value for POSIX shells.
pub fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

fn quote_if_needed(v: &str) -> String {
    if !v.is_empty() && v.chars().all(is_plain) {
        v.to_owned()
    } else {
        quote(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_for_eval() {
        assert_eq!(quote_if_needed("sk-test_1"), "sk-test_1");
        assert_eq!(quote_if_needed("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote_if_needed(""), "''");
    }
}
