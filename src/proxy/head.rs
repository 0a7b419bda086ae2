//! Following commits cheaply: the proxy checks `HEAD` and the ref it names on every request (so
//! a commit made by another process applies to the very next request, with no watcher whose
//! events could arrive after that request), by their file metadata: two `stat` calls. git
//! replaces these files by renaming a new one over them, so a change always brings a new inode
//! and times; `HEAD` is read again only when its own metadata changed.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// `HEAD` of one repository, followed by metadata.
pub struct Head {
    head_file: PathBuf,
    common: PathBuf,
    /// `HEAD`'s metadata when it was last read, and the ref file it named then (`None` when
    /// detached: the commit id is in `HEAD` itself).
    named: Mutex<(Vec<u8>, Option<PathBuf>)>,
}

impl Head {
    /// Follows `head_file`, whose refs live under `common` (the common git dir).
    pub fn new(head_file: PathBuf, common: PathBuf) -> Self {
        Head {
            head_file,
            common,
            named: Mutex::new((Vec::new(), None)),
        }
    }

    /// Bytes that change whenever `HEAD` or the ref it names changes.
    pub fn fingerprint(&self) -> Vec<u8> {
        let mut out = stamp(&self.head_file).unwrap_or_default();
        let ref_file = {
            let mut named = self.named.lock().unwrap_or_else(|e| e.into_inner());
            if named.0 != out || out.is_empty() {
                let text = std::fs::read(&self.head_file).unwrap_or_default();
                let target = std::str::from_utf8(&text)
                    .ok()
                    .and_then(|h| h.strip_prefix("ref: "))
                    .map(|r| self.common.join(r.trim()));
                *named = (out.clone(), target);
                // A detached HEAD's id is its content, which the metadata follows.
            }
            named.1.clone()
        };
        if let Some(r) = ref_file {
            // A packed ref has no file of its own: `packed-refs` then holds it.
            match stamp(&r) {
                Some(s) => out.extend(s),
                None => out.extend(stamp(&self.common.join("packed-refs")).unwrap_or_default()),
            }
        }
        out
    }
}

/// A file's identity and change times, as bytes; `None` when it cannot be read.
fn stamp(path: &Path) -> Option<Vec<u8>> {
    let m = std::fs::metadata(path).ok()?;
    let mut out = Vec::with_capacity(48);
    for n in [
        m.dev(),
        m.ino(),
        m.len(),
        m.mtime() as u64,
        m.mtime_nsec() as u64,
        m.ctime() as u64,
        m.ctime_nsec() as u64,
    ] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `path` as git does: a new file renamed over the old one.
    fn replace(path: &Path, text: &str) {
        let tmp = path.with_extension("lock");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, path).unwrap();
    }

    #[test]
    fn a_moved_branch_a_switched_branch_and_a_packed_ref_each_change_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path();
        std::fs::create_dir_all(git.join("refs/heads")).unwrap();
        replace(&git.join("HEAD"), "ref: refs/heads/main\n");
        replace(&git.join("refs/heads/main"), "1111\n");
        replace(&git.join("refs/heads/other"), "2222\n");
        let head = Head::new(git.join("HEAD"), git.to_owned());
        let first = head.fingerprint();
        assert_eq!(head.fingerprint(), first, "nothing changed");
        replace(&git.join("refs/heads/main"), "3333\n");
        let moved = head.fingerprint();
        assert_ne!(moved, first, "the branch moved");
        replace(&git.join("HEAD"), "ref: refs/heads/other\n");
        let switched = head.fingerprint();
        assert_ne!(switched, moved, "HEAD names another branch");
        replace(&git.join("refs/heads/main"), "4444\n");
        assert_eq!(head.fingerprint(), switched, "a branch HEAD does not name");
        std::fs::remove_file(git.join("refs/heads/other")).unwrap();
        replace(&git.join("packed-refs"), "2222 refs/heads/other\n");
        assert_ne!(head.fingerprint(), switched, "the ref was packed");
    }
}
