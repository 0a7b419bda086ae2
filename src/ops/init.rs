//! `init`: create the identity and the store, where they do not exist yet; the store's first
//! commit is `init store` (or `init project store`). Safe to run again.

use std::path::PathBuf;

use serde::Serialize;

use crate::context::Context;
use crate::crypto::identity::Identity;
use crate::crypto::signing::SigningKey;
use crate::error::{Error, Result};
use crate::layout;
use crate::layout::{GITATTRIBUTES, STORE_FILE};
use crate::model::names::VaultName;
use crate::model::project::{PROJECT_FILE, ProjectConfig};
use crate::model::state::{Principal, PrincipalKind, STORE_FORMAT, StoreMeta, VaultMeta};
use crate::store::{Edit, Store, StoreLocation};
use crate::vault::{self, DEFAULT_VAULT};

/// What `init` did.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// `initialized`, or `unchanged` when everything existed already.
    pub status: &'static str,
    /// What was created, in words (`identity PATH`, `store PATH with vault ...`).
    pub created: Vec<String>,
    /// The store's work tree.
    pub store: PathBuf,
    /// The identity file.
    pub identity: PathBuf,
    /// The identity's recipient.
    pub recipient: String,
    /// The vault in use.
    pub vault: VaultName,
    /// Whether the identity can read the vault; when not, a member must add it.
    pub identity_is_recipient: bool,
}

/// Creates what is missing: the identity, the store's repository, its first commit. With
/// `project` (or inside a project whose `.authsome.yaml` names a store folder), the store is a
/// folder of the repository around the current directory.
pub fn init(ctx: &Context, project: bool) -> Result<Report> {
    // Inside a project whose .authsome.yaml names a store folder, `init` means that store.
    let project = project || matches!(ctx.location, StoreLocation::Project { .. });
    refuse_identity_in_store(ctx, &ctx.store_path)?;
    let mut created = Vec::new();
    let identity = if ctx.identity_path.exists() {
        Identity::load(&ctx.identity_path)?
    } else {
        let id = Identity::generate(&ctx.identity_path)?;
        created.push(format!("identity {}", ctx.identity_path.display()));
        id
    };
    // The key that signs for this principal (age keys cannot sign).
    let signing_path = &ctx.signing_key_path;
    let signer = if signing_path.exists() {
        SigningKey::load(signing_path)?.public()
    } else {
        let key = SigningKey::generate(signing_path)?;
        created.push(format!("signing key {}", signing_path.display()));
        key.public()
    };

    // A project store is a folder of the repository around the current directory, named by
    // its .authsome.yaml (written in the same commit when it is new).
    let mut project_file = None;
    let store = if project {
        let (store, new_config) = open_project()?;
        // Anywhere in the project, a key file is one `git add .` away from a commit.
        refuse_identity_in_store(ctx, store.root())?;
        project_file = new_config;
        store
    } else if ctx.store_path.join(".git").exists() {
        Store::open(&ctx.store_path)?
    } else {
        let s = Store::create_repo(&ctx.store_path)?;
        created.push(format!("git repository {}", ctx.store_path.display()));
        s
    };

    // The first commit holds every scope's first seal, signed with the key above.
    let mut store = store;
    ctx.attach_sealer(&mut store);

    let principal = principal_name();
    let message = if project {
        "init project store"
    } else {
        "init store"
    };
    // An existing store of any format is left alone: `init` only writes where nothing is.
    let outcome = store.transact_any_format(|txn| {
        if txn.read(STORE_FILE)?.is_some() {
            return Ok(Edit::new(message, false));
        }
        let meta = StoreMeta {
            format: STORE_FORMAT,
            id: crate::random_hex(16),
            owners: vec![principal.clone()],
            owner_threshold: None,
        };
        vault::write_yaml(txn, STORE_FILE.to_owned(), &meta)?;
        // Byte-exact files: no end-of-line conversion, whatever core.autocrlf says.
        txn.write(GITATTRIBUTES, "* -text\n");
        vault::write_yaml(
            txn,
            layout::principal(&principal),
            &Principal {
                kind: PrincipalKind::Person,
                recipients: vec![identity.recipient().to_owned()],
                signers: vec![signer.clone()],
                expires: None,
                added: None,
            },
        )?;
        vault::write_yaml(
            txn,
            layout::vault_meta(DEFAULT_VAULT),
            &VaultMeta {
                readers: vec![principal.clone()],
                writers: vec![principal.clone()],
                admins: vec![principal.clone()],
                fingerprint_key: None,
            },
        )?;
        // Readable diffs of secret files from the first commit on.
        crate::review::stage_setup(txn, &meta.id, DEFAULT_VAULT)?;
        if let Some(text) = &project_file {
            txn.write(format!("/{PROJECT_FILE}"), text.clone());
        }
        Ok(Edit::new(message, true))
    })?;
    if *outcome.value() {
        created.push(format!(
            "store {} with vault {DEFAULT_VAULT:?} for principal {principal:?}",
            store.dir().display()
        ));
        if project_file.is_some() {
            created.push(format!("{PROJECT_FILE} in {}", store.root().display()));
        }
    }

    crate::review::register(&store)?;

    // An existing store this identity cannot read is worth saying out loud.
    let snap = store.snapshot()?;
    let readable = vault::vault_recipients(&snap, &ctx.vault)
        .map(|r| r.iter().any(|x| x == identity.recipient()))
        .unwrap_or(false);

    Ok(Report {
        status: if created.is_empty() {
            "unchanged"
        } else {
            "initialized"
        },
        created,
        store: store.root().to_path_buf(),
        identity: ctx.identity_path.clone(),
        recipient: identity.recipient().to_owned(),
        vault: ctx.vault.clone(),
        identity_is_recipient: readable,
    })
}

/// Finds the repository around the current directory and its store folder: the one its
/// `.authsome.yaml` names, or `.authsome` with a new `.authsome.yaml` (returned to be committed).
fn open_project() -> Result<(Store, Option<String>)> {
    let cwd = std::env::current_dir().map_err(|e| Error::internal(e.to_string()))?;
    let repo = gix::discover(&cwd).map_err(|_| {
        Error::store(format!(
            "{} is not inside a git repository; run `git init` first, or drop --project for your personal store",
            cwd.display()
        ))
    })?;
    let root = repo
        .workdir()
        .map(std::path::Path::to_path_buf)
        .ok_or_else(|| Error::store("the repository is bare; a project store needs a work tree"))?;
    let file = root.join(PROJECT_FILE);
    let (folder, new_config) = if file.is_file() {
        let bytes = std::fs::read(&file).map_err(|e| Error::io("read", &file, e))?;
        let config: ProjectConfig = crate::model::yaml::parse(&file.display().to_string(), &bytes)?;
        (config.store, None)
    } else {
        let config = ProjectConfig {
            store: ".authsome".to_owned(),
            vault: None,
            pins: Default::default(),
            run: Default::default(),
        };
        let text = format!(
            "# authsome project configuration: see .authsome.example.yaml in authsome's repository.\n{}",
            crate::model::yaml::to_string(&config)?
        );
        (config.store, Some(text))
    };
    let folder = folder.trim_end_matches('/').to_owned();
    if folder.starts_with('/')
        || folder.starts_with('~')
        || folder
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == ".." || c == ".git")
    {
        return Err(Error::usage(format!(
            "{PROJECT_FILE} names the store {folder:?}; `init --project` needs a folder inside the repository such as .authsome"
        )));
    }
    Ok((Store::open_in(&root, &folder)?, new_config))
}

/// A private key inside the store would be one `git add` away from being committed.
fn refuse_identity_in_store(ctx: &Context, guarded: &std::path::Path) -> Result<()> {
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
    if abs(&ctx.identity_path).starts_with(abs(guarded)) {
        return Err(Error::usage(format!(
            "the identity {} is inside the store {}, where it could be committed; keep it outside (the default is ~/.config/authsome/identity.txt)",
            ctx.identity_path.display(),
            guarded.display()
        )));
    }
    Ok(())
}

/// A principal name for this user, from `$USER`, made into a valid name.
pub fn principal_name() -> String {
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
