//! `authsome login`: store a credential as a connection.

use age::secrecy::SecretString;
use serde_json::json;

use super::{Context, LoginArgs, Output};
use authsome::crypto::envelope::Place;
use authsome::error::{Error, Result};
use authsome::input;
use authsome::model::names;
use authsome::model::provider::{AuthType, ProviderDef};
use authsome::model::state::ConnectionRecord;
use authsome::providers::Catalog;
use authsome::store::Outcome;
use authsome::vault::{self, paths};

pub fn run(ctx: &Context, out: &Output, args: LoginArgs) -> Result<()> {
    names::validate("connection", &args.connection)?;
    let store = ctx.store()?;
    let snap = store.snapshot()?;
    let provider = Catalog::new(&snap).get(&args.provider)?.def;
    vault::vault_meta(&snap, &ctx.vault)?;
    let name = &provider.name;
    let conn = &args.connection;

    if !args.force && vault::record(&snap, &ctx.vault, name, conn)?.is_some() {
        return already_connected(out, name, conn);
    }

    let key = match provider.auth_type {
        AuthType::ApiKey => {
            if args.flow.is_some_and(|f| f != super::FlowArg::ApiKey) {
                return Err(Error::usage(format!(
                    "{name} takes an API key; drop --flow"
                )));
            }
            read_key(&provider, conn, &args)?
        }
        AuthType::Oauth2 => {
            return super::login_oauth::run(ctx, out, &args, &store, &snap, &provider);
        }
    };
    // Used only to recognise an unchanged key, so a missing identity is not an error here.
    let identity = ctx.identity().ok();

    let outcome = store.transact(|txn| {
        let meta = store.meta(txn.base())?;
        let recipients = vault::load_recipients(txn, &ctx.vault)?;
        let now = vault::now();
        let previous = vault::record(txn, &ctx.vault, name, conn)?;
        if previous.is_some() && !args.force {
            // Another login created it since we looked; keep theirs.
            return Ok(None);
        }
        if args.force {
            // A forced login replaces the whole connection, leaving no stray secret behind.
            txn.delete_dir(&paths::connection(&ctx.vault, name, conn))?;
        }
        let place = Place {
            store: meta.id.clone(),
            vault: ctx.vault.clone(),
            provider: name.clone(),
            connection: Some(conn.clone()),
            field: "api_key".to_owned(),
        };
        let prev_info = previous.as_ref().and_then(|p| p.secrets.get("api_key"));
        let info = vault::put_secret(
            txn,
            &place,
            &key,
            &recipients,
            prev_info,
            identity.as_ref(),
            &now,
        )?;
        let mut record = ConnectionRecord::new(AuthType::ApiKey, previous.as_ref(), &now);
        record.secrets.insert("api_key".to_owned(), info);
        // A re-login that changes nothing keeps the old timestamp, so it makes no commit.
        if let Some(prev) = &previous {
            let mut same = record.clone();
            same.updated_at = prev.updated_at.clone();
            if same == *prev {
                record = same;
            }
        }
        vault::write_yaml(txn, paths::record(&ctx.vault, name, conn), &record)?;

        let mut state = vault::provider_state(txn, &ctx.vault, name)?;
        let became_default = state.default.as_deref() != Some(conn.as_str())
            && (args.force || state.default.is_none());
        if became_default {
            state.default = Some(conn.clone());
        }
        vault::write_provider_state(txn, &ctx.vault, name, &state)?;
        txn.set_message(format!("login {name}/{conn}"));
        Ok(Some(state.default.as_deref() == Some(conn.as_str())))
    })?;

    let Some(is_default) = *outcome.value() else {
        return already_connected(out, name, conn);
    };
    let status = match outcome {
        Outcome::Committed { .. } => "success",
        Outcome::Unchanged(_) => "unchanged",
    };
    if out.json {
        out.json(&json!({
            "status": status,
            "provider": name,
            "connection": conn,
            "default": is_default,
            "record_status": "connected",
            "commit": outcome.commit().map(|c| c.to_string()),
        }));
    } else if status == "unchanged" {
        out.info(&format!(
            "{name}/{conn} already holds that key; nothing changed"
        ));
    } else {
        let suffix = if is_default { " (default)" } else { "" };
        out.info(&format!(
            "Logged in to {} as connection {conn}{suffix}",
            provider.display_name
        ));
    }
    Ok(())
}

/// Reports a login that found the connection already there.
pub(super) fn already_connected(out: &Output, name: &str, conn: &str) -> Result<()> {
    if out.json {
        out.json(&json!({"status": "already_connected", "provider": name, "connection": conn}));
    } else {
        out.info(&format!(
            "{name}/{conn} is already logged in; nothing changed (use --force to replace it)"
        ));
    }
    Ok(())
}

fn read_key(provider: &ProviderDef, conn: &str, args: &LoginArgs) -> Result<SecretString> {
    let spec = provider
        .api_key
        .as_ref()
        .expect("validated: api_key providers have a spec");
    let pattern = spec.key_pattern.as_deref();
    let hint = spec.key_pattern_hint.as_deref();
    let check = |k: &SecretString| input::check_pattern(k, pattern, hint, &provider.display_name);
    let key = if args.stdin {
        input::from_stdin("API key")?
    } else if args.no_browser {
        input::from_prompt(
            "API key",
            &format!("{} API key for {conn}", provider.display_name),
        )?
    } else {
        let validate = |v: &std::collections::BTreeMap<String, SecretString>| match v.get("api_key")
        {
            Some(k) => check(k),
            None => Err(Error::usage("enter a key")),
        };
        let mut values = input::collect_via_form(&input::FormRequest {
            title: &provider.display_name,
            intro: format!(
                "Paste the API key for connection {conn}. It is encrypted into your authsome store and never leaves this machine."
            ),
            fields: vec![input::Field {
                name: "api_key",
                label: "API key",
                secret: true,
                required: true,
                hint,
                read_only: None,
            }],
            docs_url: provider.docs_url.as_deref(),
            validate: &validate,
            open_browser: true,
        })?;
        values
            .remove("api_key")
            .ok_or_else(|| Error::usage("no key was entered"))?
    };
    check(&key)?;
    Ok(key)
}
