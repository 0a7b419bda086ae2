//! What every command needs: where the store is, which identity and vault to use.

use std::path::PathBuf;

use super::GlobalArgs;
use crate::crypto::identity::{self, Identity};
use crate::error::Result;
use crate::model::names;
use crate::store::Store;

/// Resolved global options.
#[derive(Debug)]
pub struct Context {
    /// The store folder.
    pub store_path: PathBuf,
    /// The identity file.
    pub identity_path: PathBuf,
    /// Whether the identity path was chosen explicitly (flag or environment).
    pub identity_explicit: bool,
    /// The vault.
    pub vault: String,
}

impl Context {
    /// Resolves the global options.
    pub fn new(global: GlobalArgs) -> Result<Self> {
        names::validate("vault", &global.vault)?;
        // Project stores found through `.authsome.yaml` will slot in here, after the flag and
        // the environment and before the home store.
        let store_path = match global.store {
            Some(p) => p,
            None => crate::paths::default_store()?,
        };
        let identity_explicit = global.identity.is_some();
        let identity_path = match global.identity {
            Some(p) => p,
            None => identity::default_path()?,
        };
        Ok(Context {
            store_path,
            identity_path,
            identity_explicit,
            vault: global.vault,
        })
    }

    /// Opens the store.
    pub fn store(&self) -> Result<Store> {
        Store::open(&self.store_path)
    }

    /// Loads the identity.
    pub fn identity(&self) -> Result<Identity> {
        Identity::load(&self.identity_path)
    }
}
