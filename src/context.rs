//! What every operation needs: where the store is, which identity and vault to use, and the
//! project configuration (`.authsome.yaml`) when there is one.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::crypto::identity::{self, Identity};
use crate::error::{Error, Result};
use crate::model::names::{self, VaultName};
use crate::store::Store;
use crate::store::location::{self, StoreLocation};

/// The choices a caller makes before anything is resolved (the command line's global options).
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// The store, when named (`--store`, `AUTHSOME_STORE`).
    pub store: Option<PathBuf>,
    /// The identity file, when named (`--identity`, `AUTHSOME_IDENTITY`).
    pub identity: Option<PathBuf>,
    /// The vault, when named (`--vault`, `AUTHSOME_VAULT`).
    pub vault: Option<VaultName>,
    /// The signing key, when named (else `AUTHSOME_SIGNING_KEY`, else the default).
    pub signing_key: Option<PathBuf>,
    /// The trust checks' settings (`--trust-root`, `--allow-rollback`, `--allow-unverified`).
    pub trust: crate::trust::Settings,
}

/// Resolved options: the store, identity and vault an operation works on.
#[derive(Debug, Clone)]
pub struct Context {
    /// Where the store is.
    pub location: StoreLocation,
    /// The store folder on disk.
    pub store_path: PathBuf,
    /// The identity file.
    pub identity_path: PathBuf,
    /// Whether the identity path was chosen explicitly (flag or environment).
    pub identity_explicit: bool,
    /// The signing key file.
    pub signing_key_path: PathBuf,
    /// The vault.
    pub vault: VaultName,
    /// Connections pinned per provider by the project.
    pub pins: BTreeMap<String, String>,
    /// The project file in use, if any.
    pub project_file: Option<PathBuf>,
    /// The project's limits on `run` and `shell` (none outside a project).
    pub run_limits: crate::model::project::RunLimits,
    /// The trust checks' settings.
    pub trust: crate::trust::Settings,
}

impl Context {
    /// Resolves the options. The store is `--store`, else `AUTHSOME_STORE`, else the one a
    /// `.authsome.yaml` above the current directory names, else `AUTHSOME_HOME`, else
    /// `~/.authsome`.
    pub fn resolve(options: Options) -> Result<Self> {
        let project = match &options.store {
            Some(_) => None,
            None => location::find_project()?,
        };
        let (location, pins, project_vault, project_file) = match (&options.store, &project) {
            (Some(p), _) => (StoreLocation::Home(p.clone()), BTreeMap::new(), None, None),
            (None, Some((file, config))) => {
                let location = location::project_location(file, &config.store)?;
                for (provider, conn) in &config.pins {
                    names::validate("provider", provider)
                        .and_then(|_| names::validate("connection", conn))
                        .map_err(|e| {
                            Error::usage(format!(
                                "{} pins {provider}: {conn}: {}",
                                file.display(),
                                e.message()
                            ))
                        })?;
                }
                (
                    location,
                    config.pins.clone(),
                    config.vault.clone(),
                    Some(file.clone()),
                )
            }
            (None, None) => (
                StoreLocation::Home(crate::dirs::default_store()?),
                BTreeMap::new(),
                None,
                None,
            ),
        };
        let vault = match (options.vault, project_vault) {
            (Some(v), _) => v,
            (None, Some(v)) => v.parse()?,
            (None, None) => VaultName::default_name(),
        };
        let store_path = location.path();
        let identity_explicit = options.identity.is_some();
        let identity_path = match options.identity {
            Some(p) => p,
            None => identity::default_path()?,
        };
        let signing_key_path = match options.signing_key {
            Some(p) => p,
            None => crate::crypto::signing::path()?,
        };
        tracing::debug!(
            store = %store_path.display(),
            vault = %vault,
            project = ?project_file,
            identity = %identity_path.display(),
            "resolved the store"
        );
        Ok(Context {
            location,
            store_path,
            identity_path,
            identity_explicit,
            signing_key_path,
            vault,
            pins,
            project_file,
            run_limits: project.map(|(_, c)| c.run).unwrap_or_default(),
            trust: options.trust,
        })
    }

    /// Opens the store; its writes are sealed with this context's signing key (a store of
    /// format 3 is sealed).
    pub fn store(&self) -> Result<Store> {
        let store = self.store_unchecked()?;
        // A project must keep leading to the store this machine first used through it.
        if let Some(file) = &self.project_file
            && let Ok(meta) = store.snapshot().and_then(|s| s.meta())
        {
            crate::trust::pin::check_project(file, &meta.id)?;
        }
        Ok(store)
    }

    /// [`Context::store`] without the check that a project still leads to the same store (for
    /// `trust reset`, which records the store it leads to now).
    pub fn store_unchecked(&self) -> Result<Store> {
        let mut store = Store::open_at(&self.location)?;
        // What a killed writer left never outlives the next command, read or write.
        store.recover_interrupted()?;
        self.attach_sealer(&mut store);
        Ok(store)
    }

    /// Seals `store`'s writes with this context's signing key.
    pub fn attach_sealer(&self, store: &mut Store) {
        store.set_sealer(std::sync::Arc::new(crate::trust::sealer::Sealer::new(
            self.signing_key_path.clone(),
            self.trust.strict(),
        )));
    }

    /// Loads the identity.
    pub fn identity(&self) -> Result<Identity> {
        Identity::load(&self.identity_path)
    }

    /// The connection a command means for `provider`: the one named, else the project's pin.
    pub fn connection<'a>(&'a self, provider: &str, named: Option<&'a str>) -> Option<&'a str> {
        named.or_else(|| self.pins.get(provider).map(String::as_str))
    }
}
