//! `authsome init`: create the identity and the store, where they do not exist yet.

use serde_json::json;

use super::{Context, Output};
use crate::crypto::identity::Identity;
use crate::error::{Error, Result};
use crate::model::state::{Principal, STORE_FORMAT, StoreMeta, VaultMeta};
use crate::store::{STORE_FILE, Store};
use crate::vault::{self, DEFAULT_VAULT, paths};

pub fn run(ctx: &Context, out: &Output) -> Result<()> {
    refuse_identity_in_store(ctx)?;
    let mut created = Vec::new();
    let identity = if ctx.identity_path.exists() {
        Identity::load(&ctx.identity_path)?
    } else {
        let id = Identity::generate(&ctx.identity_path)?;
        created.push(format!("identity {}", ctx.identity_path.display()));
        id
    };

    let store = if ctx.store_path.join(".git").exists() {
        Store::open(&ctx.store_path)?
    } else {
        let s = Store::create_repo(&ctx.store_path)?;
        created.push(format!("git repository {}", ctx.store_path.display()));
        s
    };

    let principal = principal_name();
    let outcome = store.transact(|txn| {
        if txn.read(STORE_FILE)?.is_some() {
            return Ok(false);
        }
        let meta = StoreMeta {
            format: STORE_FORMAT,
            id: crate::random_hex(16),
        };
        vault::write_yaml(txn, STORE_FILE.to_owned(), &meta)?;
        // Byte-exact files: no end-of-line conversion, whatever core.autocrlf says.
        txn.write(".gitattributes", "* -text\n");
        vault::write_yaml(
            txn,
            paths::principal(&principal),
            &Principal {
                recipients: vec![identity.recipient().to_owned()],
            },
        )?;
        vault::write_yaml(
            txn,
            paths::vault_meta(DEFAULT_VAULT),
            &VaultMeta {
                principals: vec![principal.clone()],
            },
        )?;
        // Readable diffs of secret files from the first commit on.
        super::review::stage_setup(txn, &meta.id, DEFAULT_VAULT)?;
        txn.set_message("init store");
        Ok(true)
    })?;
    if *outcome.value() {
        created.push(format!(
            "store {} with vault {DEFAULT_VAULT:?} for principal {principal:?}",
            store.root().display()
        ));
    }

    super::review::register(&store)?;

    // An existing store this identity cannot read is worth saying out loud.
    let snap = store.snapshot()?;
    let readable = vault::vault_recipients(&snap, &ctx.vault)
        .map(|r| r.iter().any(|x| x == identity.recipient()))
        .unwrap_or(false);

    if out.json {
        out.json(&json!({
            "status": if created.is_empty() { "unchanged" } else { "initialized" },
            "created": created,
            "store": store.root(),
            "identity": ctx.identity_path,
            "recipient": identity.recipient(),
            "vault": ctx.vault,
            "identity_is_recipient": readable,
        }));
    } else {
        if created.is_empty() {
            out.info(&format!(
                "Nothing to do: the store {} and the identity {} already exist.",
                store.root().display(),
                ctx.identity_path.display()
            ));
        }
        for c in &created {
            out.info(&format!("Created {c}"));
        }
        out.info(&format!("Your recipient: {}", identity.recipient()));
    }
    if !readable {
        let reported = out.json;
        let err = Error::crypto(format!(
            "your identity is not a recipient of vault {:?} in {}; ask a member to add `{}` to a principal of that vault",
            ctx.vault,
            store.root().display(),
            identity.recipient()
        ));
        return Err(if reported { err.reported() } else { err });
    }
    Ok(())
}

/// A private key inside the store would be one `git add` away from being committed.
fn refuse_identity_in_store(ctx: &Context) -> Result<()> {
    let abs = |p: &std::path::Path| -> std::path::PathBuf {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        // Resolve what exists (symlinks, `..`) and keep the rest as written.
        let mut existing = p.clone();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (
                existing.file_name().map(|n| n.to_owned()),
                existing.parent(),
            ) {
                (Some(n), Some(parent)) => {
                    rest.push(n);
                    existing = parent.to_path_buf();
                }
                _ => break,
            }
        }
        let mut out = existing.canonicalize().unwrap_or(existing);
        for n in rest.into_iter().rev() {
            out.push(n);
        }
        out
    };
    if abs(&ctx.identity_path).starts_with(abs(&ctx.store_path)) {
        return Err(Error::usage(format!(
            "the identity {} is inside the store {}, where it could be committed; keep it outside (the default is ~/.config/authsome/identity.txt)",
            ctx.identity_path.display(),
            ctx.store_path.display()
        )));
    }
    Ok(())
}

/// A principal name for this user, from `$USER`, made into a valid name.
fn principal_name() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_default();
    let mut name: String = user
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(crate::model::names::MAX_NAME_LEN)
        .collect();
    name = name.trim_start_matches(['-', '_']).to_owned();
    if name.is_empty() {
        "me".to_owned()
    } else {
        name
    }
}
