//! What every command needs: where the store is, which identity and vault to use, and the
//! project configuration (`.authsome.yaml`) when there is one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::GlobalArgs;
use crate::crypto::identity::{self, Identity};
use crate::error::{Error, Result};
use crate::model::names;
use crate::model::project::{PROJECT_FILE, ProjectConfig};
use crate::store::Store;

/// Where the store is.
#[derive(Debug, Clone)]
pub enum StoreLocation {
    /// A store that is a whole repository.
    Home(PathBuf),
    /// A store in a folder of a project repository.
    Project {
        /// The repository's work tree.
        repo: PathBuf,
        /// The store's folder, relative to `repo`.
        folder: String,
    },
}

/// Resolved global options.
#[derive(Debug)]
pub struct Context {
    /// Where the store is.
    pub location: StoreLocation,
    /// The store folder on disk.
    pub store_path: PathBuf,
    /// The identity file.
    pub identity_path: PathBuf,
    /// Whether the identity path was chosen explicitly (flag or environment).
    pub identity_explicit: bool,
    /// The vault.
    pub vault: String,
    /// Connections pinned per provider by the project.
    pub pins: BTreeMap<String, String>,
    /// The project file in use, if any.
    pub project_file: Option<PathBuf>,
}

impl Context {
    /// Resolves the global options. The store is `--store`, else `AUTHSOME_STORE`, else the
    /// one a `.authsome.yaml` above the current directory names, else `AUTHSOME_HOME`, else
    /// `~/.authsome`.
    pub fn new(global: GlobalArgs) -> Result<Self> {
        let project = match &global.store {
            Some(_) => None,
            None => find_project()?,
        };
        let (location, pins, project_vault, project_file) = match (&global.store, &project) {
            (Some(p), _) => (StoreLocation::Home(p.clone()), BTreeMap::new(), None, None),
            (None, Some((file, config))) => {
                let location = project_location(file, &config.store)?;
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
                StoreLocation::Home(crate::paths::default_store()?),
                BTreeMap::new(),
                None,
                None,
            ),
        };
        let vault = global
            .vault
            .or(project_vault)
            .unwrap_or_else(|| crate::vault::DEFAULT_VAULT.to_owned());
        names::validate("vault", &vault)?;
        let store_path = match &location {
            StoreLocation::Home(p) => p.clone(),
            StoreLocation::Project { repo, folder } => repo.join(folder),
        };
        let identity_explicit = global.identity.is_some();
        let identity_path = match global.identity {
            Some(p) => p,
            None => identity::default_path()?,
        };
        Ok(Context {
            location,
            store_path,
            identity_path,
            identity_explicit,
            vault,
            pins,
            project_file,
        })
    }

    /// Opens the store.
    pub fn store(&self) -> Result<Store> {
        match &self.location {
            StoreLocation::Home(p) => Store::open(p),
            StoreLocation::Project { repo, folder } => Store::open_in(repo, folder),
        }
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

/// Walks up from the current directory for `.authsome.yaml`.
fn find_project() -> Result<Option<(PathBuf, ProjectConfig)>> {
    let Ok(mut dir) = std::env::current_dir() else {
        return Ok(None);
    };
    loop {
        let file = dir.join(PROJECT_FILE);
        if file.is_file() {
            let bytes = std::fs::read(&file).map_err(|e| Error::io("read", &file, e))?;
            let config: ProjectConfig =
                crate::model::yaml::parse(&file.display().to_string(), &bytes)?;
            return Ok(Some((file, config)));
        }
        if !dir.pop() {
            return Ok(None);
        }
    }
}

/// Where a project's `store:` points: a folder inside the project's repository, or a store
/// elsewhere (`~/.authsome`, an absolute path).
fn project_location(file: &Path, store: &str) -> Result<StoreLocation> {
    let base = file.parent().unwrap_or(Path::new("."));
    let path = if let Some(rest) = store.strip_prefix("~/") {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(rest)
    } else if Path::new(store).is_absolute() {
        PathBuf::from(store)
    } else {
        base.join(store)
    };
    // Inside the project's repository: a project store on the current branch.
    if let Ok(repo) = gix::discover(base)
        && let Some(root) = repo.workdir().map(Path::to_path_buf)
    {
        let root = root.canonicalize().unwrap_or(root);
        let full = normalize(
            &base
                .canonicalize()
                .unwrap_or(base.to_path_buf())
                .join(store),
        );
        // A folder that is a repository of its own (ignored, a submodule) is its own store.
        if !store.starts_with('~')
            && !Path::new(store).is_absolute()
            && !full.join(".git").exists()
            && let Ok(rel) = full.strip_prefix(&root)
        {
            let folder = rel.to_string_lossy().trim_end_matches('/').to_owned();
            if folder.is_empty()
                || folder
                    .split('/')
                    .any(|c| c.is_empty() || c == "." || c == ".." || c == ".git")
            {
                return Err(Error::store(format!(
                    "{} names the store {store:?}, which is not a folder inside the repository; use a folder such as .authsome",
                    file.display()
                )));
            }
            return Ok(StoreLocation::Project { repo: root, folder });
        }
    }
    Ok(StoreLocation::Home(path))
}

/// Removes `.` and `..` components without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
