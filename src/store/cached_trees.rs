//! git's cached trees (the index's `TREE` extension: a tree id and an entry count per folder)
//! kept true across a write.
//!
//! Why it matters: `git commit` reads the index before it takes `index.lock`, and when its
//! cached trees are incomplete it recomputes them and writes that copy back. A commit that read
//! the index just before an authsome write and locked it just after thus puts back the index
//! from before the write (HEAD has the new files, the index does not), and the next `git
//! commit` commits that index over them. With every folder's cached tree valid, git has nothing
//! to recompute and leaves the index as authsome wrote it. Folders whose cached tree cannot be
//! proven right are marked stale, as git itself does, so git recomputes them: never a wrong id.

use gix::ObjectId;
use gix::index::extension::Tree;
use gix::objs::TreeRefIter;

/// After a write that set the index entries of `touched` (repository-relative file paths, each
/// with whether the new tree has it) to what `new` (a root tree) holds, makes the cached tree of
/// each folder on their way describe `new`, where that is known: a folder whose cached tree was
/// `base`'s (so the index held exactly `base`'s entries there) now holds exactly `new`'s. Any
/// other folder on the way is marked stale.
pub(super) fn advance(
    repo: &gix::Repository,
    root: &mut Tree,
    base: ObjectId,
    new: ObjectId,
    touched: &[(&str, bool)],
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let valid = root.num_entries.is_some() && root.id == base;
    folder(repo, root, valid, Some(base), Some(new), touched)?;
    Ok(())
}

/// One folder: `node` is its cached tree, `valid` whether that matched the index before the
/// write, `base` and `new` its tree ids before and after (`None` where it does not exist),
/// `touched` the written paths below it. Returns how many entries the folder gained (`None`
/// when that cannot be told, which makes every folder above it stale too).
fn folder(
    repo: &gix::Repository,
    node: &mut Tree,
    valid: bool,
    base: Option<ObjectId>,
    new: Option<ObjectId>,
    touched: &[(&str, bool)],
) -> Result<Option<i64>, Box<dyn std::error::Error + Send + Sync>> {
    let base_data = match base {
        Some(id) => Some(repo.find_object(id)?.detach().data),
        None => None,
    };
    let new_data = match new {
        Some(id) => Some(repo.find_object(id)?.detach().data),
        None => None,
    };
    let hash = repo.object_hash();
    let mut delta = Some(0i64);
    let mut below: std::collections::BTreeMap<&str, Vec<(&str, bool)>> = Default::default();
    for &(path, present) in touched {
        match path.split_once('/') {
            None => {
                let before = match entry(hash, base_data.as_deref(), path)? {
                    None => Some(0),
                    Some((false, _)) => Some(1),
                    // A folder became a file: left for git to work out.
                    Some((true, _)) => None,
                };
                delta = delta.zip(before).map(|(d, b)| d + i64::from(present) - b);
            }
            Some((dir, rest)) => below.entry(dir).or_default().push((rest, present)),
        }
    }
    for (name, rest) in below {
        let child_base =
            entry(hash, base_data.as_deref(), name)?.and_then(|(t, id)| t.then_some(id));
        let child_new = entry(hash, new_data.as_deref(), name)?.and_then(|(t, id)| t.then_some(id));
        let (at, child_valid) = match node
            .children
            .iter()
            .position(|c| c.name.as_slice() == name.as_bytes())
        {
            Some(at) => {
                let c = &node.children[at];
                (at, c.num_entries.is_some() && Some(c.id) == child_base)
            }
            None => {
                node.children.push(Tree {
                    name: name.as_bytes().into(),
                    id: ObjectId::null(repo.object_hash()),
                    num_entries: None,
                    children: Vec::new(),
                });
                // A folder the index had nothing in, if its parent matched the base and the
                // base has no such folder.
                (node.children.len() - 1, valid && child_base.is_none())
            }
        };
        let gained = folder(
            repo,
            &mut node.children[at],
            child_valid,
            child_base,
            child_new,
            &rest,
        )?;
        delta = delta.zip(gained).map(|(d, g)| d + g);
        if child_new.is_none() {
            node.children.remove(at);
        }
    }
    if let Some(id) = new {
        node.id = id;
        node.num_entries = match (valid, delta) {
            (true, Some(d)) => u32::try_from(i64::from(node.num_entries.unwrap_or(0)) + d).ok(),
            _ => None,
        };
    }
    Ok(delta)
}

/// Whether every folder's cached tree is valid: git then has nothing to recompute, and a
/// `git commit` that read the index before a write leaves the index as the write made it.
pub(super) fn fully_valid(node: &Tree) -> bool {
    node.num_entries.is_some() && node.children.iter().all(fully_valid)
}

/// Whether `index` holds exactly the files of `tree` (a root tree): the same paths, ids and
/// modes, nothing staged in a conflict.
pub(super) fn index_is_tree(
    repo: &gix::Repository,
    index: &gix::index::State,
    tree: ObjectId,
) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
    let listed = gix::index::State::from_tree(&tree, &repo.objects, Default::default())?;
    if listed.entries().len() != index.entries().len() {
        return Ok(false);
    }
    Ok(listed
        .entries()
        .iter()
        .zip(index.entries())
        .all(|(want, have)| {
            have.stage_raw() == 0
                && want.id == have.id
                && want.mode == have.mode
                && want.path(&listed) == have.path(index)
        }))
}

/// The cached trees of an index that holds exactly the files of `id` (a root tree): every
/// folder valid, as `git write-tree` leaves them.
pub(super) fn of_tree(
    repo: &gix::Repository,
    id: ObjectId,
) -> Result<Tree, Box<dyn std::error::Error + Send + Sync>> {
    build(repo, id, &[])
}

fn build(
    repo: &gix::Repository,
    id: ObjectId,
    name: &[u8],
) -> Result<Tree, Box<dyn std::error::Error + Send + Sync>> {
    let data = repo.find_object(id)?.detach().data;
    let mut children = Vec::new();
    let mut count = 0u32;
    for e in TreeRefIter::from_bytes(&data, repo.object_hash()) {
        let e = e?;
        if e.mode.is_tree() {
            let child = build(repo, e.oid.to_owned(), e.filename)?;
            count += child.num_entries.unwrap_or(0);
            children.push(child);
        } else {
            count += 1;
        }
    }
    Ok(Tree {
        name: name.into(),
        id,
        num_entries: Some(count),
        children,
    })
}

/// The entry `name` of a tree object's data: whether it is a folder, and its id.
fn entry(
    hash: gix::hash::Kind,
    tree: Option<&[u8]>,
    name: &str,
) -> Result<Option<(bool, ObjectId)>, Box<dyn std::error::Error + Send + Sync>> {
    let Some(data) = tree else {
        return Ok(None);
    };
    for e in TreeRefIter::from_bytes(data, hash) {
        let e = e?;
        if e.filename == name.as_bytes() {
            return Ok(Some((e.mode.is_tree(), e.oid.to_owned())));
        }
    }
    Ok(None)
}
