//! `authsome provider list|show|add|remove`.

use serde_json::json;

use super::output::pad;
use super::{Context, Output, ProviderCommand};
use authsome::error::{Error, ErrorKind, Result};
use authsome::model::yaml;
use authsome::providers::{self, BUNDLED, Catalog, Source};
use authsome::store::Outcome;
use authsome::vault;

pub fn run(ctx: &Context, out: &Output, cmd: ProviderCommand) -> Result<()> {
    match cmd {
        ProviderCommand::List => list(ctx, out),
        ProviderCommand::Show { name } => show(ctx, out, &name),
        ProviderCommand::Add { file, force } => add(ctx, out, &file, force),
        ProviderCommand::Remove { name } => remove(ctx, out, &name),
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
        let list: Vec<_> = all
            .iter()
            .map(|p| {
                json!({
                    "name": p.def.name,
                    "display_name": p.def.display_name,
                    "type": p.def.kind,
                    "auth_type": p.def.auth_type,
                    "flow": p.def.flow,
                    "source": p.source.as_str(),
                })
            })
            .collect();
        out.json(&json!({ "providers": list }));
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
        out.json(&json!({ "source": provider.source.as_str(), "definition": provider.def }));
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
    let name = def.name.clone();
    let store = ctx.store()?;
    let overrides_bundled = providers::bundled(&name).is_some();
    let outcome = store.transact(|txn| {
        let path = providers::custom_path(&name);
        let exists = txn.read(&path)?.is_some();
        if !force && (exists || overrides_bundled) {
            let what = if exists {
                "a custom provider"
            } else {
                "a bundled provider"
            };
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("{what} named {name:?} already exists; pass --force to replace it"),
            ));
        }
        vault::write_yaml(txn, path, &def)?;
        txn.set_message(format!("provider add {name}"));
        Ok(())
    })?;
    let status = if matches!(outcome, Outcome::Committed { .. }) {
        "added"
    } else {
        "unchanged"
    };
    if out.json {
        out.json(&json!({
            "status": status,
            "provider": name,
            "overrides_bundled": overrides_bundled,
            "commit": outcome.commit().map(|c| c.to_string()),
        }));
    } else if status == "unchanged" {
        out.info(&format!(
            "The store already holds this definition of {name}; nothing changed"
        ));
    } else {
        let note = if overrides_bundled {
            " (it overrides the bundled definition)"
        } else {
            ""
        };
        out.info(&format!("Added provider {name}{note}"));
    }
    Ok(())
}

fn remove(ctx: &Context, out: &Output, name: &str) -> Result<()> {
    let store = ctx.store()?;
    let outcome = store.transact(|txn| {
        let path = providers::custom_path(name);
        if txn.read(&path)?.is_none() {
            let msg = if providers::bundled(name).is_some() {
                format!("{name} is a bundled provider, which cannot be removed; only custom providers added with `authsome provider add` can")
            } else {
                format!("the store has no custom provider named {name:?}; see `authsome provider list`")
            };
            return Err(Error::new(ErrorKind::ProviderNotFound, msg));
        }
        if providers::bundled(name).is_none() {
            let mut in_use = Vec::new();
            for v in vault::vaults(txn.base())? {
                for c in vault::connections(txn.base(), &v, name)? {
                    in_use.push(format!("{v}/{c}"));
                }
            }
            if !in_use.is_empty() {
                return Err(Error::usage(format!(
                    "{name} still has connections (vault/connection: {}); log them out first with `authsome logout {name} --connection NAME`",
                    in_use.join(", ")
                )));
            }
        }
        txn.delete(path);
        txn.set_message(format!("provider remove {name}"));
        Ok(())
    })?;
    if out.json {
        out.json(&json!({
            "status": "removed",
            "provider": name,
            "commit": outcome.commit().map(|c| c.to_string()),
        }));
    } else {
        out.info(&format!("Removed custom provider {name}"));
    }
    Ok(())
}
