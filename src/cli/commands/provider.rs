//! `authsome provider list|show|add|remove`: the catalog of provider definitions.

use std::path::PathBuf;

use authsome::model::report::{ListedProviderDef, ProviderListReport, ProviderShowReport};

use crate::cli::output::{Output, pad};
use authsome::context::Context;
use authsome::error::{Error, ErrorKind, Result};
use authsome::model::yaml;
use authsome::ops::provider as ops;
use authsome::providers::{self, BUNDLED, Catalog, Source};

/// `provider` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
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

/// Runs a `provider` subcommand.
pub fn exec(ctx: &Context, out: &Output, cmd: Command) -> Result<()> {
    match cmd {
        Command::List => list(ctx, out),
        Command::Show { name } => show(ctx, out, &name),
        Command::Add { file, force } => add(ctx, out, &file, force),
        Command::Remove { name } => remove(ctx, out, &name),
    }
}

/// Provider listing works without a store: it then shows the bundled catalog only.
fn list(ctx: &Context, out: &Output) -> Result<()> {
    let store = ctx.store().ok();
    let snap = match &store {
        Some(s) => Some(s.snapshot()?),
        None => None,
    };
    let all = match &snap {
        Some(snap) => Catalog::new(snap).all()?,
        None => BUNDLED
            .iter()
            .map(|(n, _)| {
                providers::bundled(n)
                    .expect("listed")
                    .map(|def| providers::Provider {
                        def,
                        source: Source::Bundled,
                    })
            })
            .collect::<Result<_>>()?,
    };
    if out.json {
        let providers = all
            .iter()
            .map(|p| ListedProviderDef {
                name: p.def.name.clone(),
                display_name: p.def.display_name.clone(),
                kind: p.def.kind,
                auth_type: p.def.auth_type,
                flow: p.def.flow,
                source: p.source.as_str().to_owned(),
            })
            .collect();
        out.json(&ProviderListReport { providers });
        return Ok(());
    }
    let width = all.iter().map(|p| p.def.name.len()).max().unwrap_or(8);
    for p in &all {
        let auth = serde_json::to_value(p.def.auth_type).unwrap_or_default();
        let source = if p.source == Source::Custom {
            out.yellow(" (custom)")
        } else {
            String::new()
        };
        out.data(&format!(
            "{}  {}  {}{source}",
            out.bold(&pad(&p.def.name, width)),
            pad(auth.as_str().unwrap_or(""), 7),
            p.def.display_name
        ));
    }
    out.info(&format!("{} providers", all.len()));
    Ok(())
}

fn show(ctx: &Context, out: &Output, name: &str) -> Result<()> {
    let store = ctx.store().ok();
    let provider = match &store {
        Some(s) => Catalog::new(&s.snapshot()?).get(name)?,
        None => match providers::bundled(name) {
            Some(def) => providers::Provider {
                def: def?,
                source: Source::Bundled,
            },
            None => {
                return Err(Error::new(
                    ErrorKind::ProviderNotFound,
                    format!("there is no provider named {name:?}; see `authsome provider list`"),
                ));
            }
        },
    };
    if out.json {
        out.json(&ProviderShowReport {
            source: provider.source.as_str().to_owned(),
            definition: provider.def,
        });
    } else {
        out.data(&format!("# {} provider", provider.source.as_str()));
        out.raw_text(&yaml::to_string(&provider.def)?);
    }
    Ok(())
}

fn add(ctx: &Context, out: &Output, file: &std::path::Path, force: bool) -> Result<()> {
    let bytes = std::fs::read(file).map_err(|e| {
        Error::usage(format!(
            "could not read {}: {e}; check the path",
            file.display()
        ))
    })?;
    let def = providers::parse_file(file, &bytes)?;
    let report = ops::add(ctx, &def, force)?;
    if out.json {
        out.json(&report);
    } else if report.commit.is_none() {
        out.info(&format!(
            "The store already holds this definition of {}; nothing changed",
            report.provider
        ));
    } else {
        let note = if report.overrides_bundled {
            " (it overrides the bundled definition)"
        } else {
            ""
        };
        out.info(&format!("Added provider {}{note}", report.provider));
        if !report.added_hosts.is_empty() {
            out.warn(&format!(
                "{}'s credentials now also go to {}, which the definition it replaces did not name",
                report.provider,
                report.added_hosts.join(", ")
            ));
        }
    }
    Ok(())
}

fn remove(ctx: &Context, out: &Output, name: &str) -> Result<()> {
    let report = ops::remove(ctx, name)?;
    if out.json {
        out.json(&report);
    } else {
        out.info(&format!("Removed custom provider {}", report.provider));
    }
    Ok(())
}
