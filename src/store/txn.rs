//! Transactions: one logical edit, one commit, compare-and-swap on the branch.

use std::collections::BTreeMap;
use std::fs::File;

use gix::ObjectId;
use gix::object::tree::EntryKind;

use super::error::Error as StoreError;
use super::{Snapshot, Store, worktree};
use crate::error::{Error, Result};

/// How many times a transaction re-applies its edit after losing a race on the branch.
const MAX_ATTEMPTS: usize = 8;

/// The pending edits of one transaction, on top of the HEAD it started from.
pub struct Txn<'s> {
    base: Snapshot<'s>,
    edits: BTreeMap<String, Option<Vec<u8>>>,
}

/// What an edit returns: the commit message describing what it staged, and its own value.
///
/// The message is part of the edit's result, so a transaction cannot change the store without
/// one.
#[derive(Debug)]
pub struct Edit<T> {
    message: String,
    value: T,
}

impl<T> Edit<T> {
    /// An edit described by `message` (the commit's message, when it changed anything).
    pub fn new(message: impl Into<String>, value: T) -> Self {
        Edit {
            message: message.into(),
            value,
        }
    }
}

/// What a transaction did.
#[derive(Debug)]
pub enum Outcome<T> {
    /// A commit was made.
    Committed {
        /// The new commit.
        commit: ObjectId,
        /// What the edit returned.
        value: T,
    },
    /// The edit changed nothing, so no commit was made.
    Unchanged(T),
}

impl<T> Outcome<T> {
    /// What the edit returned.
    pub fn value(&self) -> &T {
        match self {
            Outcome::Committed { value, .. } | Outcome::Unchanged(value) => value,
        }
    }

    /// What the edit returned, taken out.
    pub fn into_value(self) -> T {
        match self {
            Outcome::Committed { value, .. } | Outcome::Unchanged(value) => value,
        }
    }

    /// The commit made, if any.
    pub fn commit(&self) -> Option<ObjectId> {
        match self {
            Outcome::Committed { commit, .. } => Some(*commit),
            Outcome::Unchanged(_) => None,
        }
    }
}

impl<'s> Txn<'s> {
    /// The committed state this transaction started from.
    pub fn base(&self) -> &Snapshot<'s> {
        &self.base
    }

    /// Reads a store-relative file as this transaction would leave it.
    pub fn read(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        match self.edits.get(rel) {
            Some(edit) => Ok(edit.clone()),
            None => self.base.read(rel),
        }
    }

    /// Writes a store-relative file.
    pub fn write(&mut self, rel: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.edits.insert(rel.into(), Some(bytes.into()));
    }

    /// Deletes a store-relative file.
    pub fn delete(&mut self, rel: impl Into<String>) {
        self.edits.insert(rel.into(), None);
    }

    /// Deletes every committed file below a store-relative folder.
    pub fn delete_dir(&mut self, rel: &str) -> Result<()> {
        for path in self.base.files_under(rel)? {
            self.edits.insert(path, None);
        }
        let prefix = format!("{}/", rel.trim_end_matches('/'));
        for (path, edit) in self.edits.iter_mut() {
            if path.starts_with(&prefix) {
                *edit = None;
            }
        }
        Ok(())
    }

    /// The store-relative paths this transaction writes (adds or changes).
    pub fn written_paths(&self) -> impl Iterator<Item = &str> {
        self.edits
            .iter()
            .filter(|(_, e)| e.is_some())
            .map(|(p, _)| p.as_str())
    }

    /// The store-relative paths this transaction changes (added, changed or deleted).
    pub fn edited_paths(&self) -> impl Iterator<Item = &str> {
        self.edits.keys().map(String::as_str)
    }

    /// A snapshot of the tree this transaction would commit, to read its result as a whole
    /// (what a seal covers). Writes the pending objects once (the commit would write them anyway).
    pub fn result(&self) -> Result<Snapshot<'s>> {
        let store = self.base.store();
        Ok(Snapshot::of_tree(store, store.write_tree(self)?))
    }

    /// Drops edits that would leave a file as it is at the base.
    fn prune(&mut self) -> Result<()> {
        let mut unchanged = Vec::new();
        for (path, edit) in &self.edits {
            if self.base.read(path)? == *edit {
                unchanged.push(path.clone());
            }
        }
        for p in unchanged {
            self.edits.remove(&p);
        }
        Ok(())
    }
}

impl Store {
    /// Runs `edit` on top of HEAD and commits what it changed as one commit.
    ///
    /// Writers on this machine are serialized by a lock file so the work tree and index are
    /// updated in commit order. The branch update is still a compare-and-swap: if HEAD moved
    /// (a `git` command, a sync), `edit` runs again on the new HEAD, so no update is lost.
    /// `edit` must therefore be a pure function of what it reads through the [`Txn`].
    ///
    /// A store of an older format is not written to: `upgrade` migrates it first (through
    /// [`Store::transact_any_format`]), never silently.
    pub fn transact<T>(
        &self,
        edit: impl FnMut(&mut Txn<'_>) -> Result<Edit<T>>,
    ) -> Result<Outcome<T>> {
        let outcome = self.transact_inner(true, edit);
        // After the write, signals are no longer held (a test sends one here).
        super::faults::point("after-write");
        outcome
    }

    /// [`Store::transact`] for `upgrade`, which writes to a store of an older format.
    pub fn transact_any_format<T>(
        &self,
        edit: impl FnMut(&mut Txn<'_>) -> Result<Edit<T>>,
    ) -> Result<Outcome<T>> {
        self.transact_inner(false, edit)
    }

    fn transact_inner<T>(
        &self,
        current_format_only: bool,
        mut edit: impl FnMut(&mut Txn<'_>) -> Result<Edit<T>>,
    ) -> Result<Outcome<T>> {
        let Some(_lock) = self.lock_unless_read_only()? else {
            // A read-only store still takes a write that changes nothing (a login with the key
            // it holds, a default that already is): only a change needs the disk.
            let mut txn = Txn {
                base: self.snapshot()?,
                edits: BTreeMap::new(),
            };
            let Edit { value, .. } = edit(&mut txn)?;
            txn.prune()?;
            return match txn.edits.is_empty() {
                true => Ok(Outcome::Unchanged(value)),
                false => Err(self.read_only()),
            };
        };
        // An interrupt or termination signal now ends the process once the write is whole.
        let _held = super::interrupts::hold();
        self.refuse_unwritable_head()?;
        worktree::recover(self)?;
        let mut last = None;
        for attempt in 0..MAX_ATTEMPTS {
            let base = self.snapshot()?;
            if current_format_only {
                self.refuse_older_format(&base)?;
            }
            let base_commit = base.commit();
            let mut txn = Txn {
                base,
                edits: BTreeMap::new(),
            };
            let Edit { message, value } = edit(&mut txn)?;
            txn.prune()?;
            if txn.edits.is_empty() {
                tracing::debug!(%message, "nothing to change");
                return Ok(Outcome::Unchanged(value));
            }
            if let Some(sealer) = &self.sealer {
                sealer.seal(&mut txn, &message)?;
            }
            worktree::check_clean(self, &txn.base, txn.edits.keys())?;
            if self.is_project() {
                // In a project, a write refuses while any of the store's files has uncommitted
                // edits: the commit would otherwise sit beside changes nobody reviewed.
                let dirty = self.uncommitted(&txn.base)?;
                if !dirty.is_empty() {
                    let paths: Vec<String> = dirty.iter().map(|p| self.repo_path(p)).collect();
                    return Err(Error::store(format!(
                        "the store has uncommitted changes in {}; commit or discard them (`git checkout HEAD -- {}`) before authsome writes",
                        paths.join(", "),
                        paths.join(" ")
                    )));
                }
            }
            let tree = self.write_tree(&txn)?;
            super::faults::point("objects");
            worktree::begin(self, &txn.edits)?;
            super::faults::point("journal");
            // The work tree and the index get the commit's files before the branch moves. git
            // reads HEAD and the index without a lock, so whatever a racing `git add && git
            // commit` sees is HEAD with the new files staged (it may commit them itself; this
            // write then finds them committed), never HEAD with an index from before them, which
            // it would commit over them.
            let index = match worktree::lock_index(self) {
                Ok(lock) => lock,
                Err(e) => {
                    worktree::end(self); // nothing was written
                    return Err(e);
                }
            };
            super::faults::point("index-lock");
            if let Err(e) = worktree::apply(self, &txn.edits, index, (txn.base.tree_id(), tree)) {
                worktree::restore(self)?;
                return Err(e);
            }
            // The branch's locks are taken just after this, so a crash's leftovers are told from
            // a later git process's by the journal's time.
            worktree::mark(self)?;
            super::faults::point("mark");
            match self.commit(&message, tree, base_commit) {
                Ok(commit) => {
                    tracing::info!(%commit, %message, "committed");
                    super::faults::point("ref");
                    worktree::end(self);
                    super::faults::point("end");
                    if let Some(sealer) = &self.sealer {
                        let written: Vec<String> = txn.edits.keys().cloned().collect();
                        if let Ok(snap) = Snapshot::at_commit(self, commit) {
                            sealer.committed(&snap, &written);
                        }
                    }
                    return Ok(Outcome::Committed { commit, value });
                }
                Err(err) => {
                    // The touched paths go back to whatever HEAD now holds.
                    worktree::restore(self)?;
                    let moved = self.snapshot()?.commit() != base_commit;
                    match err {
                        // A git process holding the branch's lock is a race too, just not lost
                        // yet: wait a little and try again.
                        StoreError::LockHeld { .. } => {
                            std::thread::sleep(std::time::Duration::from_millis(
                                10 << attempt.min(6),
                            ));
                            last = Some(self.name_held_lock(err));
                        }
                        // Lost the race: HEAD moved under us. Re-read it and re-apply the edit.
                        StoreError::BranchMoved { .. } => {
                            tracing::debug!(attempt, "the branch moved; applying the edit again");
                        }
                        _ if moved => {}
                        other => return Err(other.into()),
                    }
                }
            }
        }
        Err(last
            .unwrap_or(StoreError::Contended {
                attempts: MAX_ATTEMPTS,
            })
            .into())
    }

    /// Names the lock file another process holds, of those a commit takes.
    fn name_held_lock(&self, err: StoreError) -> StoreError {
        let StoreError::LockHeld { lock: None, source } = err else {
            return err;
        };
        let git_dir = self.repo.git_dir();
        let mut candidates = vec![git_dir.join("HEAD.lock")];
        if let Ok(Some(name)) = self.repo.head_name() {
            candidates.push(git_dir.join(format!("{}.lock", name.as_bstr())));
        }
        let lock = candidates.into_iter().find(|p| p.exists());
        StoreError::LockHeld { lock, source }
    }

    /// A store of an older format is migrated by `upgrade`, in one commit, before any write.
    fn refuse_older_format(&self, base: &Snapshot<'_>) -> Result<()> {
        if base.read(super::STORE_FILE)?.is_none() {
            return Ok(());
        }
        let meta = self.meta(base)?;
        if meta.format < crate::model::state::STORE_FORMAT {
            return Err(Error::store(format!(
                "the store at {} uses format {}, which this authsome reads but does not write",
                self.root.display(),
                meta.format
            ))
            .with_hint(format!(
                "run `authsome upgrade` to move it to format {} (vaults with roles) in one commit, then try again",
                crate::model::state::STORE_FORMAT
            )));
        }
        Ok(())
    }

    /// Writes need a branch to move, and no rebase or merge half-way.
    fn refuse_unwritable_head(&self) -> Result<()> {
        let root = self.root.display();
        let git_dir = self.repo.git_dir();
        if git_dir.join("rebase-merge").exists() || git_dir.join("rebase-apply").exists() {
            return Err(Error::store(format!(
                "a rebase is in progress in {root}; finish it (`git -C {root} rebase --continue`) or abort it (`git -C {root} rebase --abort`), then try again"
            )));
        }
        if git_dir.join("MERGE_HEAD").exists() {
            return Err(Error::store(format!(
                "a merge is in progress in {root}; finish or abort it, then try again"
            )));
        }
        let head = self
            .repo
            .head()
            .map_err(|e| Error::git("reading HEAD", e))?;
        if head.is_detached() {
            return Err(Error::store(format!(
                "the repository at {root} has a detached HEAD, so there is no branch to commit to; check out a branch (`git -C {root} switch NAME`) and try again"
            )));
        }
        Ok(())
    }

    /// Finishes a write that a crash, a kill or an interrupt cut short (its journal is still
    /// there), unless a writer is alive: any command may, so what a killed writer left never
    /// outlives the next command. Cheap when there is nothing to do (one `stat`).
    pub fn recover_interrupted(&self) -> Result<()> {
        if !worktree::interrupted(self) {
            return Ok(());
        }
        let Ok(_lock) = crate::private_files::lock(
            &self.repo.git_dir().join("authsome.lock"),
            std::time::Duration::ZERO,
            "writing to the store",
        ) else {
            return Ok(()); // a live writer finishes its own work
        };
        worktree::recover(self)
    }

    /// Git lock files of the store (index, HEAD, the branch) that have been there for more than
    /// `older_than`: a git process that crashed, or one that has been stuck that long.
    pub fn stale_git_locks(&self, older_than: std::time::Duration) -> Vec<std::path::PathBuf> {
        worktree::git_locks(self)
            .into_iter()
            .filter(|p| {
                std::fs::metadata(p)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age >= older_than)
            })
            .collect()
    }

    /// Holds the writers' lock while `git` rewrites the branch during a sync.
    pub fn lock_for_sync(&self) -> Result<File> {
        self.lock()
    }

    fn lock(&self) -> Result<File> {
        self.lock_unless_read_only()?
            .ok_or_else(|| self.read_only())
    }

    /// The writers' lock, or `None` when the store is on a read-only file system.
    fn lock_unless_read_only(&self) -> Result<Option<File>> {
        let path = self.repo.git_dir().join("authsome.lock");
        let file = match crate::private_files::open_lock(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::ReadOnlyFilesystem => return Ok(None),
            Err(e) => return Err(Error::store_io("open the lock file", &path, e)),
        };
        // Transactions take milliseconds and a sync seconds; two minutes means something hangs.
        let timeout = std::time::Duration::from_secs(120);
        crate::private_files::hold(file, &path, timeout, "writing to the store").map(Some)
    }

    fn read_only(&self) -> Error {
        Error::store(format!(
            "the store at {} is on a read-only file system, so nothing was written",
            self.root.display()
        ))
        .with_hint("mount it read-write to change it; reads (get, export, run) work as it is")
    }

    fn write_tree(&self, txn: &Txn<'_>) -> Result<ObjectId> {
        self.tree_with(txn.base.tree_id(), &txn.edits)
    }

    /// The root tree `base` (a root tree id) becomes with store-relative `edits` (`None`
    /// deletes), written to the object database.
    pub fn tree_with(
        &self,
        base: ObjectId,
        edits: &BTreeMap<String, Option<Vec<u8>>>,
    ) -> Result<ObjectId> {
        let repo = &self.repo;
        let fail = |e| Error::git("writing the new tree", e);
        let mut editor = repo.edit_tree(base).map_err(fail)?;
        for (rel, edit) in edits {
            let path = self.repo_path(rel);
            match edit {
                Some(bytes) => {
                    let id = repo.write_blob(bytes).map_err(fail)?;
                    editor
                        .upsert(path.as_str(), EntryKind::Blob, id)
                        .map_err(fail)?;
                }
                None => {
                    editor.remove(path.as_str()).map_err(fail)?;
                }
            }
        }
        Ok(editor.write().map_err(fail)?.detach())
    }

    /// Commits `tree` on HEAD's branch if the branch still points at `parent`; a lock held by
    /// another process and a moved branch are told apart from other failures.
    fn commit(
        &self,
        message: &str,
        tree: ObjectId,
        parent: Option<ObjectId>,
    ) -> std::result::Result<ObjectId, StoreError> {
        let repo = &self.repo;
        if let Some(sealer) = self.sealer.as_ref().filter(|s| s.signs_commits(self)) {
            return self.commit_signed(sealer.as_ref(), message, tree, parent);
        }
        let id = match repo.committer() {
            Some(Ok(sig)) => repo.commit_as(sig, sig, "HEAD", message, tree, parent),
            _ => {
                let sig = gix::actor::Signature {
                    name: "authsome".into(),
                    email: "authsome@localhost".into(),
                    time: gix::date::Time::now_utc(),
                };
                let mut buf = gix::date::parse::TimeBuf::default();
                let sig = sig.to_ref(&mut buf);
                repo.commit_as(sig, sig, "HEAD", message, tree, parent)
            }
        };
        id.map(|id| id.detach())
            .map_err(|e| StoreError::from_ref_update("committing", e))
    }

    /// Who authsome's commits are by: git's committer, else `authsome <authsome@localhost>`.
    pub(super) fn who(&self) -> std::result::Result<gix::actor::Signature, StoreError> {
        match self.repo.committer() {
            Some(Ok(sig)) => sig.to_owned().map_err(|e| StoreError::Git {
                what: "reading the committer",
                source: gix::Error::from_error(e),
            }),
            _ => Ok(gix::actor::Signature {
                name: "authsome".into(),
                email: "authsome@localhost".into(),
                time: gix::date::Time::now_utc(),
            }),
        }
    }

    /// A commit object by [`Store::who`], not yet written.
    pub(super) fn new_commit(
        &self,
        message: &str,
        tree: ObjectId,
        parent: Option<ObjectId>,
    ) -> std::result::Result<gix::objs::Commit, StoreError> {
        let who = self.who()?;
        Ok(gix::objs::Commit {
            message: message.into(),
            tree,
            author: who.clone(),
            committer: who,
            encoding: None,
            parents: parent.into_iter().collect(),
            extra_headers: Vec::new(),
        })
    }

    /// [`Store::commit`] with a `gpgsig` header over the commit object, as `git commit -S` writes
    /// it, so `git verify-commit` and forges can check it; the branch moves by the same
    /// compare-and-swap.
    fn commit_signed(
        &self,
        sealer: &dyn super::Sealer,
        message: &str,
        tree: ObjectId,
        parent: Option<ObjectId>,
    ) -> std::result::Result<ObjectId, StoreError> {
        use gix::refs::transaction::{PreviousValue, RefEdit};
        let repo = &self.repo;
        let mut commit = self.new_commit(message, tree, parent)?;
        let mut payload = Vec::new();
        gix::objs::WriteTo::write_to(&commit, &mut payload).map_err(|e| StoreError::Git {
            what: "writing the commit",
            source: gix::Error::from_error(e),
        })?;
        let signature = sealer.sign_commit(&payload).map_err(|e| StoreError::Git {
            what: "signing the commit",
            source: gix::Error::from_error(e),
        })?;
        commit
            .extra_headers
            .push(("gpgsig".into(), signature.trim_end().into()));
        let id = repo
            .write_object(&commit)
            .map_err(|e| StoreError::from_ref_update("writing the commit", e))?
            .detach();
        let expected = match parent {
            Some(p) => PreviousValue::MustExistAndMatch(gix::refs::Target::Object(p)),
            None => PreviousValue::MustNotExist,
        };
        let name: gix::refs::FullName = "HEAD".try_into().map_err(|e| StoreError::Git {
            what: "naming HEAD",
            source: gix::Error::from_error(e),
        })?;
        // The reflog entry names the same committer as the commit (git may have none set).
        let mut time = gix::date::parse::TimeBuf::default();
        let reflog_who = commit.committer.to_ref(&mut time);
        repo.edit_references_as(
            Some(
                RefEdit::update(
                    name,
                    id,
                    expected,
                    gix::reference::log::message(
                        "commit",
                        message.as_bytes().into(),
                        commit.parents.len(),
                    ),
                )
                .with_deref(true),
            ),
            Some(reflog_who),
        )
        .map_err(|e| StoreError::from_ref_update("committing", e))?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_race_re_applies_the_edit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create_repo(&dir.path().join("s")).unwrap();
        store
            .transact(|t| {
                t.write("a.txt", "1\n");
                Ok(Edit::new("first", ()))
            })
            .unwrap();
        // A second handle plays an outside writer that commits between our read and our CAS.
        let other = Store::open(store.root()).unwrap();
        let mut runs = 0;
        let out = store
            .transact(|t| {
                runs += 1;
                if runs == 1 {
                    let snap = other.snapshot().unwrap();
                    let mut editor = other.repo.edit_tree(snap.tree_id()).unwrap();
                    let blob = other.repo.write_blob("outside\n").unwrap();
                    editor.upsert("b.txt", EntryKind::Blob, blob).unwrap();
                    let tree = editor.write().unwrap().detach();
                    other.commit("outside", tree, snap.commit()).unwrap();
                }
                let count = t.read("a.txt")?.map(|b| b.len()).unwrap_or(0);
                t.write("a.txt", format!("{count}\n2\n"));
                Ok(Edit::new("second", ()))
            })
            .unwrap();
        assert_eq!(runs, 2, "the edit ran again after losing the race");
        assert!(out.commit().is_some());
        let snap = store.snapshot().unwrap();
        assert_eq!(snap.read("b.txt").unwrap().unwrap(), b"outside\n");
        assert_eq!(snap.read("a.txt").unwrap().unwrap(), b"2\n2\n");
    }
}
