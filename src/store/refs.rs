//! References other than the branch: commits that wait beside it (a store change waiting for
//! co-signatures on `refs/authsome/pending/store`).

use gix::ObjectId;
use gix::refs::transaction::{PreviousValue, RefEdit};

use super::{Error as StoreError, Store};
use crate::error::{Error, Result};

impl Store {
    /// The commit `name` (a full reference name) points at, if it exists.
    pub fn read_ref(&self, name: &str) -> Result<Option<ObjectId>> {
        let found = self
            .repo
            .try_find_reference(name)
            .map_err(|e| Error::git("reading a reference", e))?;
        Ok(found.and_then(|r| r.target().try_id().map(|id| id.to_owned())))
    }

    /// Commits `tree` with `parent` as `message` to the reference `name`, which must point at
    /// `expected` (must not exist when `None`): a compare-and-swap, never the branch.
    pub fn commit_to_ref(
        &self,
        name: &str,
        message: &str,
        tree: ObjectId,
        parent: Option<ObjectId>,
        expected: Option<ObjectId>,
    ) -> Result<ObjectId> {
        let commit = self.new_commit(message, tree, parent)?;
        let id = self
            .repo
            .write_object(&commit)
            .map_err(|e| StoreError::from_ref_update("writing a commit", e))?
            .detach();
        self.set_ref(name, Some(id), expected, &commit.committer, message)?;
        Ok(id)
    }

    /// Deletes the reference `name` if it still points at `expected`.
    pub fn delete_ref(&self, name: &str, expected: ObjectId) -> Result<()> {
        let who = self.who()?;
        self.set_ref(name, None, Some(expected), &who, "delete")
    }

    fn set_ref(
        &self,
        name: &str,
        new: Option<ObjectId>,
        expected: Option<ObjectId>,
        who: &gix::actor::Signature,
        message: &str,
    ) -> Result<()> {
        let full: gix::refs::FullName = name
            .try_into()
            .map_err(|e| Error::git("naming a reference", e))?;
        let expected = match expected {
            Some(id) => PreviousValue::MustExistAndMatch(gix::refs::Target::Object(id)),
            None => PreviousValue::MustNotExist,
        };
        let edit = match new {
            Some(id) => RefEdit::update(full, id, expected, message),
            None => RefEdit::delete(full, expected),
        };
        let mut time = gix::date::parse::TimeBuf::default();
        self.repo
            .edit_references_as(Some(edit), Some(who.to_ref(&mut time)))
            .map_err(|e| StoreError::from_ref_update("updating a reference", e))?;
        Ok(())
    }
}
