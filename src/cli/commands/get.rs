//! `authsome get PROVIDER [-c NAME] [--field F] [--show-secret]`: show a connection, or one
//! field of it.

use age::secrecy::ExposeSecret;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::cli::output::Output;
use authsome::context::Context;
use authsome::error::{Error, ErrorKind, Result};
use authsome::model::names::ConnectionName;
use authsome::model::report::{ConnectionFacts, FieldReport, GetReport};
use authsome::model::secret::SecretField;
use authsome::ops::refresh::{self, Want};
use authsome::providers::Catalog;
use authsome::vault;

/// Arguments of `get`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The provider.
    #[arg(add = crate::cli::complete::providers())]
    pub provider: String,
    /// The connection (default: the provider's default connection).
    #[arg(add = crate::cli::complete::connections(), long, short)]
    pub connection: Option<ConnectionName>,
    /// Print only this field (status, api_key, expires_at, ...).
    #[arg(long)]
    pub field: Option<String>,
    /// Show secret values instead of ***REDACTED***.
    #[arg(long)]
    pub show_secret: bool,
}

/// Shown in place of a secret value.
pub const REDACTED: &str = "***REDACTED***";

/// Runs `get`.
pub fn exec(ctx: &Context, out: &Output, args: Args) -> Result<()> {
    let store = ctx.store()?;
    let snap = store.snapshot()?;
    authsome::trust::gate_vault(&snap, &ctx.vault, &ctx.trust, out)?;
    let provider = Catalog::new(&snap).get(&args.provider)?.def;
    let name = &provider.name;
    let (conn, record) = vault::resolve_connection(
        &snap,
        &ctx.vault,
        name,
        ctx.connection(name, args.connection.as_deref()),
    )?;
    if let Some(r) = &record.rotation {
        out.warn(&format!(
            "{name}/{conn} should be rotated ({}); see `authsome rotation list`",
            r.reason
        ));
    }
    let state = vault::provider_state(&snap, &ctx.vault, name)?;
    let is_default = state.default.as_deref() == Some(conn.as_str());

    let facts = ConnectionFacts::of(name, &conn, &ctx.vault, is_default, &record);
    let fields = plain_fields(&facts);
    let secret_names: Vec<&String> = record.secrets.keys().collect();

    if let Some(field) = &args.field {
        // `token` names whichever secret carries the credential: the API key, the access
        // token, or a personal token stored as one.
        let field = match field.as_str() {
            "token" if !record.secrets.contains_key("token") => {
                record.auth_type.credential_field().as_str()
            }
            f => f,
        };
        if let Some(v) = fields.get(field) {
            print_field(out, field, v);
            return Ok(());
        }
        if record.secrets.contains_key(field) {
            if !args.show_secret {
                // Printing the placeholder would hand scripts a value that looks like a key.
                return Err(Error::usage(format!(
                    "{field} is a secret; add --show-secret to print it (or use `authsome export` or `authsome run`)"
                )));
            }
            let secret = reveal(
                ctx,
                out,
                &store,
                &snap,
                &provider,
                &conn,
                &[&field.to_owned()],
            )?
            .remove(0);
            let value = Value::String(secret.expose_secret().to_owned());
            print_field(out, field, &value);
            return Ok(());
        }
        if SecretField::OF_CONNECTIONS
            .iter()
            .any(|f| f.as_str() == field)
        {
            return Err(Error::new(
                ErrorKind::CredentialMissing,
                format!(
                    "{name}/{conn} has no {field}; its secrets are: {}",
                    join(&secret_names)
                ),
            ));
        }
        let mut known: Vec<&str> = fields.keys().map(String::as_str).collect();
        known.extend(secret_names.iter().map(|s| s.as_str()));
        return Err(Error::usage(format!(
            "{name}/{conn} has no field {field:?}; choose one of {}",
            known.join(", ")
        )));
    }

    let mut secrets = BTreeMap::new();
    if args.show_secret && !record.secrets.is_empty() {
        let names: Vec<&String> = record.secrets.keys().collect();
        let values = reveal(ctx, out, &store, &snap, &provider, &conn, &names)?;
        for (f, secret) in names.into_iter().zip(values) {
            secrets.insert(f.clone(), secret.expose_secret().to_owned());
        }
    } else {
        for f in record.secrets.keys() {
            secrets.insert(f.clone(), REDACTED.to_owned());
        }
    }

    if out.json {
        out.json(&GetReport { facts, secrets });
    } else {
        for (k, v) in &fields {
            out.data(&format!("{k}: {}", text(v)));
        }
        for (k, v) in &secrets {
            out.data(&format!("{k}: {v}"));
        }
    }
    Ok(())
}

/// Decrypts secret fields of a connection, refreshing an access token about to expire.
fn reveal(
    ctx: &Context,
    out: &Output,
    store: &authsome::store::Store,
    snap: &authsome::store::Snapshot<'_>,
    provider: &authsome::model::provider::ProviderDef,
    conn: &str,
    names: &[&String],
) -> Result<Vec<age::secrecy::SecretString>> {
    let meta = store.meta(snap)?;
    let identity = ctx.identity()?;
    let want = Want {
        store,
        store_id: &meta.id,
        vault: &ctx.vault,
        def: provider,
        conn,
        identity: &identity,
    };
    names
        .iter()
        .map(|f| refresh::read_field(&want, f, &|m| out.warn(m)))
        .collect()
}

/// The non-secret fields of a connection by name, in the order `get` prints them.
fn plain_fields(facts: &ConnectionFacts) -> Map<String, Value> {
    match serde_json::to_value(facts) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn print_field(out: &Output, field: &str, v: &Value) {
    if out.json {
        out.json(&FieldReport([(field.to_owned(), v.clone())].into()));
    } else {
        out.data(&text(v));
    }
}

/// A JSON value as plain text: strings bare, lists comma-separated, null empty.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn join(v: &[&String]) -> String {
    if v.is_empty() {
        "none".to_owned()
    } else {
        v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    }
}
