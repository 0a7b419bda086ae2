//! Following commits cheaply: the proxy checks `HEAD` and the ref it names on every request (so
//! a commit made by another process applies to the very next request, with no watcher whose
//! events could arrive after that request). git replaces these files by renaming a new one over
//! them, so a change always brings a new inode and times: their metadata (two `stat` calls) is
//! the fingerprint. On Linux an inotify descriptor watching their folders answers first: the
//! kernel queues an event before the rename returns, so a read that finds none (one syscall, no
//! path lookups) proves the last fingerprint still holds; any event, relevant or not, brings the
//! `stat` calls back once.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// `HEAD` of one repository, followed by metadata.
pub struct Head {
    head_file: PathBuf,
    common: PathBuf,
    /// One look (and one watch) per caller slot, so callers on different threads never wait
    /// on each other's syscalls: each proxy worker has its own.
    slots: Vec<Mutex<State>>,
}

/// What the last look found.
struct State {
    /// `HEAD`'s metadata when it was last read.
    head_stamp: Vec<u8>,
    /// The ref file `HEAD` named then (`None` when detached: the commit id is in `HEAD`).
    ref_file: Option<PathBuf>,
    /// The last fingerprint, valid while the watch has seen nothing.
    last: Vec<u8>,
    /// The watch on the folders of `HEAD`, `packed-refs` and the ref file, where it works.
    watch: Option<watch::Watch>,
}

impl Head {
    /// Follows `head_file`, whose refs live under `common` (the common git dir), for `slots`
    /// callers (at least one).
    pub fn new(head_file: PathBuf, common: PathBuf, slots: usize) -> Self {
        let slots = (0..slots.max(1))
            .map(|_| {
                Mutex::new(State {
                    head_stamp: Vec::new(),
                    ref_file: None,
                    last: Vec::new(),
                    watch: head_file
                        .parent()
                        .and_then(|dir| watch::Watch::new(&[dir, &common])),
                })
            })
            .collect();
        Head {
            head_file,
            common,
            slots,
        }
    }

    /// Bytes that change whenever `HEAD` or the ref it names changes, as caller `slot` sees
    /// them (any slot gives the same bytes; a slot past the last shares the last).
    pub fn fingerprint(&self, slot: usize) -> Vec<u8> {
        let mut guard = self.slots[slot.min(self.slots.len() - 1)]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let state = &mut *guard;
        let quiet = match &mut state.watch {
            Some(w) => w.quiet(),
            None => false,
        };
        if quiet && !state.last.is_empty() {
            return state.last.clone();
        }
        let mut out = self.look(state);
        // A ref in a folder not watched yet: watched from now on, and looked at again, so a
        // change between the first look and the watch is not missed.
        let unwatched = match (&mut state.watch, &state.ref_file) {
            (Some(w), Some(r)) => r.parent().is_some_and(|dir| w.add(dir)),
            _ => false,
        };
        if unwatched {
            out = self.look(state);
        }
        state.last.clone_from(&out);
        out
    }

    /// The fingerprint from the files' metadata.
    fn look(&self, state: &mut State) -> Vec<u8> {
        let mut out = stamp(&self.head_file).unwrap_or_default();
        if state.head_stamp != out || out.is_empty() {
            let text = std::fs::read(&self.head_file).unwrap_or_default();
            state.ref_file = std::str::from_utf8(&text)
                .ok()
                .and_then(|h| h.strip_prefix("ref: "))
                .map(|r| self.common.join(r.trim()));
            // A detached HEAD's id is its content, which the metadata follows.
            state.head_stamp.clone_from(&out);
        }
        if let Some(r) = &state.ref_file {
            // A packed ref has no file of its own: `packed-refs` then holds it.
            match stamp(r) {
                Some(s) => out.extend(s),
                None => out.extend(stamp(&self.common.join("packed-refs")).unwrap_or_default()),
            }
        }
        out
    }
}

/// inotify through libc: three calls, each with its safety argument.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod watch {
    use std::collections::HashSet;
    use std::ffi::CString;
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};

    /// Every change to a folder's entries: files created, written, renamed in or out, removed,
    /// and the folder itself going away.
    const MASK: u32 = libc::IN_CREATE
        | libc::IN_MODIFY
        | libc::IN_ATTRIB
        | libc::IN_CLOSE_WRITE
        | libc::IN_MOVED_FROM
        | libc::IN_MOVED_TO
        | libc::IN_DELETE
        | libc::IN_DELETE_SELF
        | libc::IN_MOVE_SELF;

    /// An inotify descriptor (non-blocking) and the folders it watches.
    pub struct Watch {
        fd: std::fs::File,
        folders: HashSet<PathBuf>,
        /// Set when the queue overflowed or a folder went: from then on, never trusted.
        broken: bool,
    }

    impl Watch {
        /// Watches `folders`; `None` when inotify is not available (too many watches, say).
        pub fn new(folders: &[&Path]) -> Option<Watch> {
            // SAFETY: inotify_init1 takes flags only and returns a new descriptor or -1.
            let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
            if fd < 0 {
                return None;
            }
            // SAFETY: `fd` is a descriptor just returned to us, owned by nothing else.
            let fd = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
            let mut watch = Watch {
                fd,
                folders: HashSet::new(),
                broken: false,
            };
            for folder in folders {
                watch.add(folder);
            }
            (!watch.broken).then_some(watch)
        }

        /// Watches `folder` too; true when it was not watched before.
        pub fn add(&mut self, folder: &Path) -> bool {
            if self.folders.contains(folder) {
                return false;
            }
            let Ok(path) = CString::new(folder.as_os_str().as_bytes()) else {
                self.broken = true;
                return true;
            };
            // SAFETY: a valid descriptor and a NUL-terminated path that outlives the call.
            let wd = unsafe { libc::inotify_add_watch(self.fd_raw(), path.as_ptr(), MASK) };
            if wd < 0 {
                self.broken = true;
            }
            self.folders.insert(folder.to_owned());
            true
        }

        fn fd_raw(&self) -> i32 {
            use std::os::fd::AsRawFd;
            self.fd.as_raw_fd()
        }

        /// True when nothing happened in the watched folders since the last call (the queue is
        /// empty); false, with the queue drained, when something may have.
        pub fn quiet(&mut self) -> bool {
            let mut buf = [0u8; 4096];
            let mut quiet = true;
            loop {
                match self.fd.read(&mut buf) {
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Ok(n) if n > 0 => {
                        quiet = false;
                        if events(&buf[..n])
                            .any(|mask| mask & (libc::IN_Q_OVERFLOW | libc::IN_IGNORED) != 0)
                        {
                            self.broken = true;
                        }
                    }
                    _ => {
                        self.broken = true;
                        break;
                    }
                }
            }
            quiet && !self.broken
        }
    }

    /// The masks of the events in `buf` (each a fixed header, then a name of `len` bytes).
    fn events(buf: &[u8]) -> impl Iterator<Item = u32> + '_ {
        const HEADER: usize = std::mem::size_of::<libc::inotify_event>();
        let mut at = 0;
        std::iter::from_fn(move || {
            let header = buf.get(at..at + HEADER)?;
            let mask = u32::from_ne_bytes(header[4..8].try_into().ok()?);
            let len = u32::from_ne_bytes(header[12..16].try_into().ok()?) as usize;
            at += HEADER + len;
            Some(mask)
        })
    }
}

#[cfg(not(target_os = "linux"))]
mod watch {
    use std::path::Path;

    /// No watch here: every look reads the metadata.
    pub struct Watch;

    impl Watch {
        pub fn new(_: &[&Path]) -> Option<Watch> {
            None
        }
        pub fn add(&mut self, _: &Path) -> bool {
            false
        }
        pub fn quiet(&mut self) -> bool {
            false
        }
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
        let head = Head::new(git.join("HEAD"), git.to_owned(), 1);
        // The fast path is what is under test where it exists.
        #[cfg(target_os = "linux")]
        assert!(
            head.slots[0].lock().unwrap().watch.is_some(),
            "inotify watches"
        );
        let first = head.fingerprint(0);
        assert_eq!(head.fingerprint(0), first, "nothing changed");
        replace(&git.join("refs/heads/main"), "3333\n");
        let moved = head.fingerprint(0);
        assert_ne!(moved, first, "the branch moved");
        replace(&git.join("HEAD"), "ref: refs/heads/other\n");
        let switched = head.fingerprint(0);
        assert_ne!(switched, moved, "HEAD names another branch");
        replace(&git.join("refs/heads/main"), "4444\n");
        assert_eq!(head.fingerprint(0), switched, "a branch HEAD does not name");
        std::fs::remove_file(git.join("refs/heads/other")).unwrap();
        replace(&git.join("packed-refs"), "2222 refs/heads/other\n");
        assert_ne!(head.fingerprint(0), switched, "the ref was packed");
    }

    #[test]
    fn a_branch_in_a_folder_of_its_own_is_followed_from_the_first_look() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path();
        std::fs::create_dir_all(git.join("refs/heads/team")).unwrap();
        replace(&git.join("HEAD"), "ref: refs/heads/team/main\n");
        replace(&git.join("refs/heads/team/main"), "1111\n");
        let head = Head::new(git.join("HEAD"), git.to_owned(), 1);
        let first = head.fingerprint(0);
        assert_eq!(head.fingerprint(0), first, "nothing changed");
        replace(&git.join("refs/heads/team/main"), "2222\n");
        let moved = head.fingerprint(0);
        assert_ne!(
            moved, first,
            "the branch moved in a folder the first look added"
        );
        // Written in place rather than renamed over: still seen.
        std::fs::write(git.join("refs/heads/team/main"), "3333\n").unwrap();
        assert_ne!(head.fingerprint(0), moved, "the ref file was rewritten");
        #[cfg(target_os = "linux")]
        assert!(
            head.slots[0]
                .lock()
                .unwrap()
                .watch
                .as_mut()
                .unwrap()
                .quiet(),
            "the watch holds"
        );
    }
}
