//! The git engine: finding and opening the store, reading committed state, and transactions
//! that each make exactly one commit.
//!
//! The object database and the branch ref are the only source of truth. Reads go through a
//! [`Snapshot`] of HEAD's tree; writes go through [`Store::transact`], which builds a new tree
//! from HEAD, commits it with a compare-and-swap on the branch, and then brings the work tree and
//! index in line for the paths it touched.

mod cached_trees;
mod error;
pub mod faults;
mod history;
pub mod interrupts;
pub mod location;
mod refs;
mod snapshot;
mod txn;
mod worktree;

use std::path::{Path, PathBuf};

pub use error::Error;
pub use history::{Change, CommitInfo};
pub use location::StoreLocation;
pub use snapshot::{DirEntry, Snapshot};
pub use txn::{Edit, Outcome, Txn};

use crate::error::{Error as AnyError, Result};
use crate::model::state::{STORE_FORMAT, StoreMeta};
use crate::model::yaml;

/// Something that vouches for a transaction's result before it is committed: it sees the
/// pending edits and may add its own (trust's seals, written in the same commit). It runs on
/// every attempt, so a retry after a lost race vouches for the new result.
pub trait Sealer: Send + Sync {
    /// Adds what vouches for `txn`'s result (to be committed as `message`), or refuses the
    /// transaction.
    fn seal(&self, txn: &mut Txn<'_>, message: &str) -> Result<()>;

    /// Told after the commit at `snap` landed, with the paths it wrote; cannot fail the write.
    fn committed(&self, _snap: &Snapshot<'_>, _written: &[String]) {}

    /// Whether `store`'s commits carry a signature (a `gpgsig` header) for interoperability.
    fn signs_commits(&self, _store: &Store) -> bool {
        false
    }

    /// The armored signature of a commit object's `payload` (without its `gpgsig` header).
    fn sign_commit(&self, _payload: &[u8]) -> Result<String> {
        Err(AnyError::internal("this store does not sign its commits"))
    }
}

/// An opened store: a git repository, and the folder inside it that holds authsome's files.
pub struct Store {
    repo: gix::Repository,
    root: PathBuf,
    /// Repository-relative folder of the store, with a trailing `/`; empty when the store is the
    /// whole repository (project stores named by `.authsome.yaml` use a sub-folder).
    prefix: String,
    /// What vouches for each transaction's result before it is committed (trust's seals).
    sealer: Option<std::sync::Arc<dyn Sealer>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("root", &self.root).finish()
    }
}

pub use crate::layout::STORE_FILE;

impl Store {
    /// Opens the store at `path`, which must be the work tree of an initialized store.
    pub fn open(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(AnyError::store(format!(
                "there is no store at {}; run `authsome init` to create it, or point --store (or AUTHSOME_STORE) at an existing one",
                path.display()
            )));
        }
        if !path.join(".git").exists() {
            return Err(AnyError::store(format!(
                "{} is not a git repository, so it is not an authsome store; run `authsome init --store DIR` with an empty or new folder",
                path.display()
            )));
        }
        let mut repo = gix::open(path).map_err(|e| {
            AnyError::store(format!(
                "{} could not be opened as a git repository ({e}); check the folder, or restore it from a backup",
                path.display()
            ))
        })?;
        // Every read walks from the root tree; caching decoded trees saves re-inflating them.
        repo.object_cache_size_if_unset(4 * 1024 * 1024);
        let root = repo.workdir().map(Path::to_path_buf).ok_or_else(|| {
            AnyError::store(format!(
                "{} is a bare repository; authsome needs a work tree",
                path.display()
            ))
        })?;
        Ok(Store {
            repo,
            root,
            prefix: String::new(),
            sealer: None,
        })
    }

    /// Opens a store kept in `folder` of the project repository at `repo`: its commits go on
    /// the current branch and touch only that folder.
    pub fn open_in(repo: &Path, folder: &str) -> Result<Self> {
        let mut store = Self::open(repo)?;
        store.prefix = format!("{}/", folder.trim_end_matches('/'));
        Ok(store)
    }

    /// Opens the store at `location`.
    pub fn open_at(location: &StoreLocation) -> Result<Self> {
        match location {
            StoreLocation::Home(p) => Self::open(p),
            StoreLocation::Project { repo, folder } => Self::open_in(repo, folder),
        }
    }

    /// Has every transaction of this handle vouched for by `sealer` before it commits.
    pub fn set_sealer(&mut self, sealer: std::sync::Arc<dyn Sealer>) {
        self.sealer = Some(sealer);
    }

    /// Whether this store is a folder of a project repository.
    pub fn is_project(&self) -> bool {
        !self.prefix.is_empty()
    }

    /// The store's folder on disk.
    pub fn dir(&self) -> PathBuf {
        self.disk_path("")
    }

    /// Creates a new git repository at `path` for a store (the folder must be missing or empty).
    pub fn create_repo(path: &Path) -> Result<Self> {
        if path.exists() {
            let mut entries =
                std::fs::read_dir(path).map_err(|e| AnyError::store_io("read", path, e))?;
            if entries.next().is_some() {
                return Err(AnyError::store(format!(
                    "{} exists, is not empty and is not a git repository; move it away (it may hold an older tool's data) or choose another --store",
                    path.display()
                )));
            }
        }
        crate::private_files::create_private_dir(path)?;
        gix::init(path).map_err(|e| AnyError::git("creating the repository", e))?;
        Self::open(path)
    }

    /// The work-tree folder of the store.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The git repository.
    pub fn repo(&self) -> &gix::Repository {
        &self.repo
    }

    /// The repository path of a store-relative path. A path starting with `/` is already
    /// repository-relative: that is how a transaction writes a project's `.authsome.yaml`
    /// beside the store's folder, in the same commit.
    fn repo_path(&self, rel: &str) -> String {
        match rel.strip_prefix('/') {
            Some(repo_relative) => repo_relative.to_owned(),
            None => format!("{}{rel}", self.prefix),
        }
    }

    /// The repository-relative path of a store-relative path, for messages and git commands
    /// run at the repository's root.
    pub fn repo_relative(&self, rel: &str) -> String {
        self.repo_path(rel)
    }

    /// The work-tree path of a store-relative path.
    fn disk_path(&self, rel: &str) -> PathBuf {
        self.root.join(self.repo_path(rel))
    }

    /// A snapshot of the committed state at HEAD.
    pub fn snapshot(&self) -> Result<Snapshot<'_>> {
        Snapshot::at_head(self)
    }

    /// Reads `store.yaml` from HEAD.
    pub fn meta(&self, snap: &Snapshot<'_>) -> Result<StoreMeta> {
        let bytes = snap.read(STORE_FILE)?.ok_or_else(|| {
            AnyError::store(format!(
                "{} has no committed {STORE_FILE}, so it is not an initialized store; run `authsome init`",
                self.root.display()
            ))
        })?;
        let meta: StoreMeta = yaml::parse(STORE_FILE, &bytes)?;
        if meta.format > STORE_FORMAT {
            return Err(AnyError::store(format!(
                "this store uses format {} but this authsome understands format {STORE_FORMAT}; upgrade authsome",
                meta.format
            )));
        }
        Ok(meta)
    }
}
