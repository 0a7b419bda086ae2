//! Reading the committed tree.

use gix::ObjectId;

use super::Store;
use crate::error::{Error, Result};
use crate::layout;

/// The committed state of a store at one commit.
pub struct Snapshot<'s> {
    store: &'s Store,
    commit: Option<ObjectId>,
    tree: ObjectId,
}

/// One entry of a committed folder.
#[derive(Debug, Clone)]
pub struct DirEntry {
    /// The file or folder name.
    pub name: String,
    /// Whether this is a folder.
    pub is_dir: bool,
    /// The object id.
    pub id: ObjectId,
}

impl Store {
    /// Store files whose work-tree copy differs from HEAD, is missing, or is not committed at
    /// all, as store-relative paths. Reads never use them; `status` and `doctor` report them.
    pub fn uncommitted(&self, snap: &Snapshot<'_>) -> Result<Vec<String>> {
        let mut committed = vec![
            layout::STORE_FILE.to_owned(),
            layout::GITATTRIBUTES.to_owned(),
        ];
        if snap.read(&layout::store_seal())?.is_some() {
            committed.push(layout::store_seal());
        }
        for dir in layout::FOLDERS {
            committed.extend(snap.files_under(dir)?);
        }
        let mut dirty = Vec::new();
        for rel in &committed {
            let disk = std::fs::read(self.disk_path(rel)).ok();
            if snap.read(rel)? != disk {
                dirty.push(rel.clone());
            }
        }
        // Files someone put in the store's folders without committing them.
        let known: std::collections::HashSet<&String> = committed.iter().collect();
        let mut stack: Vec<String> = layout::FOLDERS.iter().map(|s| s.to_string()).collect();
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(self.disk_path(&dir)) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let rel = format!("{dir}/{name}");
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(rel);
                } else if !known.contains(&rel) {
                    // Hidden files too: a temporary file of an interrupted write is one.
                    dirty.push(rel);
                }
            }
        }
        dirty.sort();
        Ok(dirty)
    }
}

impl<'s> Snapshot<'s> {
    pub(super) fn at_head(store: &'s Store) -> Result<Self> {
        let repo = &store.repo;
        let head = repo.head().map_err(|e| Error::git("reading HEAD", e))?;
        // A detached HEAD (CI checkouts) is fine to read; `transact` refuses to write on one.
        match head.id() {
            None => Ok(Snapshot {
                store,
                commit: None,
                tree: ObjectId::empty_tree(repo.object_hash()),
            }),
            Some(id) => Self::at_commit(store, id.detach()),
        }
    }

    /// A snapshot of a tree that no commit names yet (a transaction's result).
    pub(super) fn of_tree(store: &'s Store, tree: ObjectId) -> Self {
        Snapshot {
            store,
            commit: None,
            tree,
        }
    }

    /// The store this snapshot reads.
    pub fn store(&self) -> &'s Store {
        self.store
    }

    /// The snapshot at `commit`.
    pub fn at_commit(store: &'s Store, commit: ObjectId) -> Result<Self> {
        let tree = store
            .repo
            .find_commit(commit)
            .and_then(|c| c.tree_id())
            .map_err(|e| Error::git("reading the HEAD commit", e))?
            .detach();
        Ok(Snapshot {
            store,
            commit: Some(commit),
            tree,
        })
    }

    /// The store's `store.yaml` as of this snapshot.
    pub fn meta(&self) -> Result<crate::model::state::StoreMeta> {
        self.store.meta(self)
    }

    /// The commit this snapshot reads, or `None` for an empty repository.
    pub fn commit(&self) -> Option<ObjectId> {
        self.commit
    }

    /// The root tree id of the whole repository at this commit.
    pub fn tree_id(&self) -> ObjectId {
        self.tree
    }

    /// The object id at a store-relative path, if any.
    pub fn entry_id(&self, rel: &str) -> Result<Option<(ObjectId, bool)>> {
        let repo = &self.store.repo;
        let tree = repo
            .find_tree(self.tree)
            .map_err(|e| Error::git("reading a tree", e))?;
        let path = self.store.repo_path(rel);
        let entry = tree
            .lookup_entry_by_path(&path)
            .map_err(|e| Error::git("looking up a path", e))?;
        Ok(entry.map(|e| (e.object_id(), e.mode().is_tree())))
    }

    /// The bytes of the committed file at a store-relative path, if it exists.
    pub fn read(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        match self.entry_id(rel)? {
            Some((id, false)) => self.read_blob(id).map(Some),
            _ => Ok(None),
        }
    }

    /// The bytes of a blob.
    pub fn read_blob(&self, id: ObjectId) -> Result<Vec<u8>> {
        let mut blob = self
            .store
            .repo
            .find_blob(id)
            .map_err(|e| Error::git("reading a file", e))?;
        Ok(blob.take_data())
    }

    /// The entries of the committed folder at a store-relative path (empty if it does not exist).
    pub fn list(&self, rel: &str) -> Result<Vec<DirEntry>> {
        match self.entry_id(rel)? {
            Some((id, true)) => self.list_tree(id),
            _ => Ok(Vec::new()),
        }
    }

    /// The entries of a tree object.
    pub fn list_tree(&self, id: ObjectId) -> Result<Vec<DirEntry>> {
        let tree = self
            .store
            .repo
            .find_tree(id)
            .map_err(|e| Error::git("reading a tree", e))?;
        let decoded = tree
            .decode()
            .map_err(|e| Error::git("decoding a tree", e))?;
        Ok(decoded
            .entries
            .iter()
            .map(|e| DirEntry {
                name: e.filename.to_string(),
                is_dir: e.mode.is_tree(),
                id: e.oid.to_owned(),
            })
            .collect())
    }

    /// The id of the store-relative folder `rel` (`""` is the store's own folder) as a tree
    /// without the entries named in `without`: what a seal covers. Computed, never written.
    /// `None` when the folder does not exist.
    pub fn tree_id_without(&self, rel: &str, without: &[&str]) -> Result<Option<ObjectId>> {
        let id = if rel.is_empty() && !self.store.is_project() {
            Some(self.tree)
        } else {
            let path = self.store.repo_path(rel);
            let tree = self
                .store
                .repo
                .find_tree(self.tree)
                .map_err(|e| Error::git("reading a tree", e))?;
            tree.lookup_entry_by_path(path.trim_end_matches('/'))
                .map_err(|e| Error::git("looking up a path", e))?
                .filter(|e| e.mode().is_tree())
                .map(|e| e.object_id())
        };
        let Some(id) = id else { return Ok(None) };
        let tree = self
            .store
            .repo
            .find_tree(id)
            .map_err(|e| Error::git("reading a tree", e))?;
        let mut decoded: gix::objs::Tree = tree
            .decode()
            .map_err(|e| Error::git("decoding a tree", e))?
            .into();
        decoded
            .entries
            .retain(|e| !without.iter().any(|w| e.filename == w.as_bytes()));
        let mut data = Vec::new();
        gix::objs::WriteTo::write_to(&decoded, &mut data)
            .map_err(|e| Error::internal(format!("encoding a tree: {e}")))?;
        gix::objs::compute_hash(self.store.repo.object_hash(), gix::objs::Kind::Tree, &data)
            .map(Some)
            .map_err(|e| Error::internal(format!("hashing a tree: {e}")))
    }

    /// Every file below a store-relative folder, as store-relative paths.
    pub fn files_under(&self, rel: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut stack = vec![rel.trim_end_matches('/').to_owned()];
        while let Some(dir) = stack.pop() {
            for e in self.list(&dir)? {
                let p = format!("{dir}/{}", e.name);
                if e.is_dir {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}
