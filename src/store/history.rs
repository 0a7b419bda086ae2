//! History: resolving revisions, walking commits, and finding what a commit changed.

use gix::ObjectId;

use super::Store;
use crate::error::{Error, Result};

/// One file that differs between two trees.
#[derive(Debug, Clone)]
pub struct Change {
    /// The store-relative path.
    pub path: String,
    /// The blob before (`None`: added).
    pub old: Option<ObjectId>,
    /// The blob after (`None`: deleted).
    pub new: Option<ObjectId>,
}

/// A commit, as history shows it.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    /// The commit id.
    pub id: ObjectId,
    /// The author's name.
    pub author: String,
    /// The author's email.
    pub email: String,
    /// Seconds since the epoch.
    pub time: i64,
    /// The first line of the message.
    pub summary: String,
    /// The root tree.
    pub tree: ObjectId,
    /// The first parent's root tree (`None` for the first commit).
    pub parent_tree: Option<ObjectId>,
}

impl CommitInfo {
    /// This commit as `log`, `show` and `diff` print it, with the `changes` it made.
    pub fn report(&self, changes: &[Change]) -> crate::model::report::Commit {
        use crate::model::report::{ChangeStatus, FileChange};
        let id = self.id.to_string();
        crate::model::report::Commit {
            short: id[..12.min(id.len())].to_owned(),
            id,
            time: jiff::Timestamp::from_second(self.time)
                .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default(),
            author: self.author.clone(),
            email: self.email.clone(),
            message: self.summary.clone(),
            changes: changes
                .iter()
                .map(|c| FileChange {
                    path: c.path.clone(),
                    status: match (c.old, c.new) {
                        (None, _) => ChangeStatus::Added,
                        (_, None) => ChangeStatus::Deleted,
                        _ => ChangeStatus::Modified,
                    },
                })
                .collect(),
        }
    }
}

impl Store {
    /// Resolves a revision (`HEAD~2`, a commit id, a branch) to a commit.
    pub fn resolve(&self, rev: &str) -> Result<ObjectId> {
        let id = self.repo.rev_parse_single(rev).map_err(|_| {
            Error::usage(format!("{rev:?} is not a revision of the store; use a commit id, HEAD~N or a branch name (see `authsome log`)"))
        })?;
        let object = id
            .object()
            .map_err(|e| Error::git("reading a revision", e))?;
        object
            .peel_to_commit()
            .map(|c| c.id)
            .map_err(|_| Error::usage(format!("{rev:?} does not name a commit")))
    }

    /// Reads what history needs from a commit.
    pub fn commit_info(&self, id: ObjectId) -> Result<CommitInfo> {
        let fail = |e| Error::git("reading a commit", e);
        let commit = self.repo.find_commit(id).map_err(fail)?;
        let author = commit.author().map_err(fail)?;
        let time = author.time().map(|t| t.seconds).unwrap_or(0);
        let (name, email) = (author.name.to_string(), author.email.to_string());
        let summary = commit
            .message()
            .map(|m| m.summary().to_string())
            .unwrap_or_default();
        let tree = commit.tree_id().map_err(fail)?.detach();
        let parent_tree = match commit.parent_ids().next() {
            Some(p) => Some(
                self.repo
                    .find_commit(p)
                    .and_then(|c| c.tree_id())
                    .map_err(fail)?
                    .detach(),
            ),
            None => None,
        };
        Ok(CommitInfo {
            id,
            author: name,
            email,
            time,
            summary,
            tree,
            parent_tree,
        })
    }

    /// Commits reachable from `tip`, newest first.
    pub fn walk(&self, tip: ObjectId) -> Result<Vec<ObjectId>> {
        let walk = self
            .repo
            .rev_walk([tip])
            .sorting(gix::revision::walk::Sorting::ByCommitTime(
                Default::default(),
            ))
            .all()
            .map_err(|e| Error::git("walking history", e))?;
        let mut out = Vec::new();
        for info in walk {
            out.push(info.map_err(|e| Error::git("walking history", e))?.id);
        }
        Ok(out)
    }

    /// Files that differ between two root trees, below the store's folder, sorted by path.
    /// Only differing subtrees are read, so a small change in a large store is cheap to find.
    pub fn changes(&self, old: Option<ObjectId>, new: ObjectId) -> Result<Vec<Change>> {
        let mut out = Vec::new();
        let root = |tree: ObjectId| -> Result<Option<ObjectId>> {
            if self.prefix.is_empty() {
                return Ok(Some(tree));
            }
            let t = self
                .repo
                .find_tree(tree)
                .map_err(|e| Error::git("reading a tree", e))?;
            let entry = t
                .lookup_entry_by_path(self.prefix.trim_end_matches('/'))
                .map_err(|e| Error::git("reading a tree", e))?;
            Ok(entry.filter(|e| e.mode().is_tree()).map(|e| e.object_id()))
        };
        let old = match old {
            Some(t) => root(t)?,
            None => None,
        };
        self.diff_trees(old, root(new)?, "", &mut out)?;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn entries(&self, tree: Option<ObjectId>) -> Result<Vec<(String, bool, ObjectId)>> {
        let Some(tree) = tree else {
            return Ok(Vec::new());
        };
        let t = self
            .repo
            .find_tree(tree)
            .map_err(|e| Error::git("reading a tree", e))?;
        let decoded = t.decode().map_err(|e| Error::git("decoding a tree", e))?;
        Ok(decoded
            .entries
            .iter()
            .map(|e| (e.filename.to_string(), e.mode.is_tree(), e.oid.to_owned()))
            .collect())
    }

    fn diff_trees(
        &self,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        dir: &str,
        out: &mut Vec<Change>,
    ) -> Result<()> {
        if old == new {
            return Ok(());
        }
        let a = self.entries(old)?;
        let b = self.entries(new)?;
        let mut names: Vec<&String> = a
            .iter()
            .map(|e| &e.0)
            .chain(b.iter().map(|e| &e.0))
            .collect();
        names.sort();
        names.dedup();
        for name in names {
            let ea = a.iter().find(|e| &e.0 == name);
            let eb = b.iter().find(|e| &e.0 == name);
            let path = if dir.is_empty() {
                name.clone()
            } else {
                format!("{dir}/{name}")
            };
            let (a_dir, a_id) = (ea.map(|e| e.1), ea.map(|e| e.2));
            let (b_dir, b_id) = (eb.map(|e| e.1), eb.map(|e| e.2));
            if a_id == b_id && a_dir == b_dir {
                continue;
            }
            let subtree =
                |d: Option<bool>, id: Option<ObjectId>| if d == Some(true) { id } else { None };
            let file =
                |d: Option<bool>, id: Option<ObjectId>| if d == Some(false) { id } else { None };
            if a_dir == Some(true) || b_dir == Some(true) {
                self.diff_trees(subtree(a_dir, a_id), subtree(b_dir, b_id), &path, out)?;
            }
            let (fa, fb) = (file(a_dir, a_id), file(b_dir, b_id));
            if fa != fb {
                out.push(Change {
                    path,
                    old: fa,
                    new: fb,
                });
            }
        }
        Ok(())
    }
}
