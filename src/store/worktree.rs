//! Keeping the work tree and index in line with HEAD for the paths a transaction touched.
//!
//! Only touched paths are written, and only their index entries are replaced, so `git status`
//! stays clean and fast, and paths outside the store (in a project repository) keep whatever the
//! user had staged or modified.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use gix::index::entry::{Flags, Mode, Stat};

use super::{Snapshot, Store};
use crate::error::{Error, Result};

/// Refuses to write when a touched path has uncommitted changes in the work tree, so a user's
/// hand edit is never silently overwritten.
pub(super) fn check_clean<'a>(
    store: &Store,
    base: &Snapshot<'_>,
    paths: impl Iterator<Item = &'a String>,
) -> Result<()> {
    let mut dirty = Vec::new();
    for rel in paths {
        let path = store.disk_path(rel);
        // Checked before the commit, so a refusal leaves HEAD where it was.
        refuse_symlinks(&store.root, &path)?;
        let on_disk = match fs::read(&path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::store_io("read", &path, e)),
        };
        if on_disk != base.read(rel)? {
            dirty.push(store.repo_path(rel));
        }
    }
    if dirty.is_empty() {
        return Ok(());
    }
    Err(Error::store(format!(
        "{} in {} {} uncommitted changes that this command would overwrite; commit them, or discard them with `git -C {} checkout HEAD -- {}`, and try again",
        dirty.join(", "),
        store.root.display(),
        if dirty.len() == 1 { "has" } else { "have" },
        store.root.display(),
        dirty.join(" ")
    )))
}

/// Records which paths a transaction is about to commit, so a crash between the commit and the
/// work-tree update can be finished by the next writer (see [`recover`]).
pub(super) fn begin(store: &Store, edits: &BTreeMap<String, Option<Vec<u8>>>) -> Result<()> {
    let list: String = edits.keys().map(|rel| format!("{rel}\n")).collect();
    // Whole or absent, never empty: a kill in the middle of writing it must not leave a journal
    // that lists nothing while the work tree holds what it should undo.
    let path = journal(store);
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, list)
        .and_then(|_| fs::rename(&tmp, &path))
        .map_err(|e| Error::store_io("write", &path, e))
}

/// Records again, just before the branch's locks are taken: [`recover`] counts a lock made
/// within moments of the journal's last write as the crashed writer's own.
pub(super) fn mark(store: &Store) -> Result<()> {
    let path = journal(store);
    fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(std::time::SystemTime::now()))
        .map_err(|e| Error::store_io("mark", &path, e))
}

/// Marks the work-tree update as done.
pub(super) fn end(store: &Store) {
    let _ = fs::remove_file(journal(store));
}

/// Finishes an interrupted write (a crash, a kill, an interrupt between [`begin`] and [`end`]):
/// runs under authsome's own lock, so no authsome writer is alive and what the journal's writer
/// left is its own: the git locks it took (those made just after the journal; a lock made later
/// is a live git process's and is left alone), the temporary files beside the paths it wrote, and
/// the work tree and index of those paths, brought in line with HEAD, whatever state the crash
/// left them in. HEAD itself is whatever the branch says: the commit landed or it did not.
pub(super) fn recover(store: &Store) -> Result<()> {
    let path = journal(store);
    let Some(list) = read_journal(&path)? else {
        return Ok(());
    };
    let written = fs::metadata(&path).and_then(|m| m.modified()).ok();
    for lock in git_locks(store) {
        let made = fs::metadata(&lock).and_then(|m| m.modified()).ok();
        let ours = match (written, made) {
            (Some(j), Some(l)) => l
                .duration_since(j)
                .map_or(true, |after| after <= OWN_LOCK_WINDOW),
            _ => false,
        };
        if ours {
            let _ = fs::remove_file(&lock);
        }
    }
    for rel in &list {
        remove_temp_files(&store.disk_path(rel));
    }
    restore(store)
}

/// Brings the paths in the journal in line with `head` (work tree and index) and ends the
/// journal: after a write that did not commit, and after an interrupted one.
///
/// HEAD is read only once the index's lock is held: a `git commit` holds that lock until its
/// branch update is done, so one that took this write's staged files has landed by then, and the
/// paths get its content rather than the content from before it.
pub(super) fn restore(store: &Store) -> Result<()> {
    let Some(list) = read_journal(&journal(store))? else {
        return Ok(());
    };
    let lock = lock_index(store)?;
    let head = store.snapshot()?;
    let mut edits = BTreeMap::new();
    for rel in list {
        let content = head.read(&rel)?;
        edits.insert(rel, content);
    }
    // The touched paths get HEAD's content: cached trees that matched HEAD still do.
    let tree = head.tree_id();
    apply(store, &edits, lock, (tree, tree))?;
    end(store);
    Ok(())
}

/// The store-relative paths a journal lists (`None` when there is no journal).
fn read_journal(path: &Path) -> Result<Option<Vec<String>>> {
    let list = match fs::read_to_string(path) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::store_io("read", path, e)),
    };
    Ok(Some(
        list.lines()
            .filter(|l| !l.is_empty() && !l.split('/').any(|c| c == ".." || c == ".git"))
            .map(str::to_owned)
            .collect(),
    ))
}

/// Whether a write was cut short: its journal is still there.
pub(super) fn interrupted(store: &Store) -> bool {
    journal(store).exists()
}

/// How long after the journal's last write a crashed writer's branch locks were made
/// (milliseconds, in practice); a lock made later belongs to a git process that started later.
const OWN_LOCK_WINDOW: std::time::Duration = std::time::Duration::from_secs(2);

/// The lock files a commit takes: the index's, HEAD's and the branch's.
pub(super) fn git_locks(store: &Store) -> Vec<std::path::PathBuf> {
    let git_dir = store.repo.git_dir();
    let mut locks = vec![git_dir.join("index.lock"), git_dir.join("HEAD.lock")];
    if let Ok(Some(name)) = store.repo.head_name() {
        locks.push(git_dir.join(format!("{}.lock", name.as_bstr())));
    }
    locks.into_iter().filter(|p| p.exists()).collect()
}

/// Removes `.<name>.<pid>.tmp` files beside `path`: what [`write_atomic`] leaves when killed.
fn remove_temp_files(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        if file.starts_with(&prefix) && file.ends_with(".tmp") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Takes the index's lock (`index.lock`), waiting a little for a git process that holds it.
pub(super) fn lock_index(store: &Store) -> Result<gix::lock::File> {
    let index_path = store.repo.index_path();
    gix::lock::File::acquire_to_update_resource(
        &index_path,
        gix::lock::acquire::Fail::AfterDurationWithBackoff(std::time::Duration::from_secs(2)),
        None,
        0,
    )
    .map_err(|_| {
        let lock = index_path.with_extension("lock");
        Error::store(format!(
            "{} is held by a git process (a `git commit` waiting for its editor, say), so nothing was written",
            lock.display()
        ))
        .with_hint(format!(
            "let it finish and try again; if no git command runs in {}, remove it (`rm {}`)",
            store.root.display(),
            lock.display()
        ))
    })
}

fn journal(store: &Store) -> std::path::PathBuf {
    store.repo.git_dir().join("authsome-sync")
}

/// Threads writing a large commit's files to the work tree.
const WRITERS: usize = 8;

/// Writes the touched files to the work tree and updates their index entries, holding `index`
/// (the index's lock) until the index is replaced. `trees` is the root tree before and after
/// the edits: git's cached trees that matched the first match the second (see
/// [`super::cached_trees`]).
pub(super) fn apply(
    store: &Store,
    edits: &BTreeMap<String, Option<Vec<u8>>>,
    index: gix::lock::File,
    trees: (gix::ObjectId, gix::ObjectId),
) -> Result<()> {
    let failed = |e: Error| {
        let paths: Vec<String> = edits.keys().map(|rel| store.repo_path(rel)).collect();
        Error::store(format!(
            "the work tree at {} could not be updated ({}); the next authsome command puts it back in line with HEAD, or run `git -C {} checkout HEAD -- {}`",
            store.root.display(),
            e.message(),
            store.root.display(),
            paths.join(" ")
        ))
    };
    let mut writes = Vec::new();
    for (rel, edit) in edits {
        let path = store.disk_path(rel);
        refuse_symlinks(&store.root, &path).map_err(failed)?;
        match edit {
            Some(bytes) => writes.push((store.repo_path(rel), path, bytes)),
            None => remove_file(&store.disk_path(""), &path).map_err(failed)?,
        }
    }
    // Each write waits on the disk (temp file, fsync, rename); a rekey writes thousands, so
    // they go out from several threads and the device can merge their flushes.
    let write_one = |(repo_path, path, bytes): &(String, std::path::PathBuf, &Vec<u8>)| {
        write_atomic(path, bytes)?;
        super::faults::point("workfile");
        let meta = gix::index::fs::Metadata::from_path_no_follow(path)
            .map_err(|e| Error::store_io("stat", path, e))?;
        Ok((repo_path.clone(), Stat::from_fs(&meta).unwrap_or_default()))
    };
    let results: Vec<Result<(String, Stat)>> = if writes.len() < 64 {
        writes.iter().map(write_one).collect()
    } else {
        let chunk = writes.len().div_ceil(WRITERS);
        std::thread::scope(|scope| {
            let handles: Vec<_> = writes
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().map(write_one).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a work-tree writer does not panic"))
                .collect()
        })
    };
    let mut stats = BTreeMap::new();
    for r in results {
        let (path, stat) = r.map_err(failed)?;
        stats.insert(path, stat);
    }
    update_index(store, edits, &stats, index, trees).map_err(failed)
}

/// Replaces the touched paths' index entries. `lock` (index.lock) is held while reading and
/// writing, so a concurrent `git add` is neither lost nor overwritten.
fn update_index(
    store: &Store,
    edits: &BTreeMap<String, Option<Vec<u8>>>,
    stats: &BTreeMap<String, Stat>,
    lock: gix::lock::File,
    trees: (gix::ObjectId, gix::ObjectId),
) -> Result<()> {
    let repo = &store.repo;
    let fail = |e| Error::git("updating the index", e);
    let index_path = repo.index_path();
    let mut index =
        gix::index::File::at_or_default(&index_path, repo.object_hash(), false, Default::default())
            .map_err(fail)?;
    // Each touched path as the index names it, and whether the new tree has it.
    let written: BTreeMap<String, bool> = edits
        .iter()
        .map(|(rel, edit)| (store.repo_path(rel), edit.is_some()))
        .collect();
    // Looked up without an allocation per entry: the index holds every file of the store.
    index.remove_entries(|_, path, _| {
        std::str::from_utf8(path).is_ok_and(|p| written.contains_key(p))
    });
    for (rel, edit) in edits {
        if let Some(bytes) = edit {
            let id = gix::objs::compute_hash(repo.object_hash(), gix::object::Kind::Blob, bytes)
                .map_err(fail)?;
            let path = store.repo_path(rel);
            let stat = stats.get(&path).copied().unwrap_or_default();
            index.dangerously_push_entry(
                stat,
                id,
                Flags::empty(),
                Mode::FILE,
                path.as_str().into(),
            );
        }
    }
    index.sort_entries();
    let (base, new) = trees;
    let written: Vec<(&str, bool)> = written.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    let advanced = index.remove_tree().and_then(|mut root| {
        // Half-updated cached trees could name wrong ids: dropped, git rebuilds them.
        super::cached_trees::advance(repo, &mut root, base, new, &written)
            .is_ok()
            .then_some(root)
    });
    // A stale folder is not harmless: every `git commit` then rewrites the index, and one that
    // read it before the next write puts back an index without that write's files. When some
    // folder could not be proven right from the index before the write (there were no cached
    // trees yet, or git had invalidated some), and the index now holds exactly the commit's
    // tree, every folder's cached tree is known.
    let tree = match advanced {
        Some(root) if super::cached_trees::fully_valid(&root) => Some(root),
        partial => match super::cached_trees::index_is_tree(repo, &index, new) {
            Ok(true) => super::cached_trees::of_tree(repo, new).ok().or(partial),
            _ => partial,
        },
    };
    // gix keeps a cached-tree extension only when the index it read had one, so the file is
    // put together here: entries, the cached trees, and the checksum of both.
    let mut bytes = Vec::new();
    gix::index::State::write_to(
        &index,
        &mut bytes,
        gix::index::write::Options {
            extensions: gix::index::write::Extensions::None,
            skip_hash: true,
        },
    )
    .map_err(fail)?;
    if let Some(tree) = &tree {
        tree.write_to(&mut bytes)
            .map_err(|e| Error::store_io("write", &index_path, e))?;
    }
    let mut hasher = gix::hash::hasher(repo.object_hash());
    hasher.update(&bytes);
    let checksum = hasher.try_finalize().map_err(fail)?;
    bytes.extend_from_slice(checksum.as_slice());
    let mut lock = lock;
    lock.write_all(&bytes)
        .map_err(|e| Error::store_io("write", &index_path, e))?;
    super::faults::point("index");
    lock.commit()
        .map_err(|e| Error::store_io("replace", &index_path, e.error))?;
    Ok(())
}

/// Refuses a path that passes through a symbolic link below the work tree's root: a cloned store
/// could otherwise point a folder elsewhere and have authsome write or delete there.
fn refuse_symlinks(root: &Path, path: &Path) -> Result<()> {
    let mut current = path;
    while let Some(parent) = current.parent() {
        if let Ok(meta) = fs::symlink_metadata(current)
            && meta.file_type().is_symlink()
        {
            return Err(Error::store(format!(
                "{} is a symbolic link; authsome does not write through links in a store, replace it with a plain folder or file",
                current.display()
            )));
        }
        if parent == root || !parent.starts_with(root) {
            break;
        }
        current = parent;
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().expect("store paths have a parent");
    fs::create_dir_all(dir).map_err(|e| Error::store_io("create", dir, e))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))
        .and_then(|_| {
            super::faults::point("tempfile");
            fs::rename(&tmp, path)
        });
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::store_io("write", path, e));
    }
    Ok(())
}

/// Removes a file and then any folders it leaves empty, up to the store root.
fn remove_file(root: &Path, path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::store_io("remove", path, e)),
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == root || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}
