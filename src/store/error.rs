//! The store's typed errors: the cases a caller decides on (a lock another process holds, a
//! branch that moved under a compare-and-swap) kept apart from the git engine's other failures.

use std::path::PathBuf;

/// What went wrong in the store.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Another process holds one of git's lock files (`HEAD.lock`, `refs/heads/main.lock`).
    LockHeld {
        /// The lock file, when git named it.
        lock: Option<PathBuf>,
        /// The git engine's error.
        source: gix::Error,
    },
    /// The branch no longer pointed at the commit the transaction started from.
    BranchMoved {
        /// The git engine's error.
        source: gix::Error,
    },
    /// Another operation of the git engine failed.
    Git {
        /// What authsome was doing ("committing").
        what: &'static str,
        /// The git engine's error.
        source: gix::Error,
    },
    /// Other writers kept moving the branch; every attempt lost the race.
    Contended {
        /// How many times the edit was applied.
        attempts: usize,
    },
}

impl Error {
    /// Classifies a failed reference update: a lock held elsewhere, a moved branch, or other.
    pub fn from_ref_update(what: &'static str, source: gix::Error) -> Self {
        use gix::refs::file::transaction::prepare::{MustNotExist, ReferenceOutOfDate};
        if source.downcast_any_ref::<ReferenceOutOfDate>().is_some()
            || source.downcast_any_ref::<MustNotExist>().is_some()
        {
            return Error::BranchMoved { source };
        }
        let lock_exists = source
            .iter_errors()
            .filter_map(|e| e.downcast_ref::<std::io::Error>())
            .any(|e| e.kind() == std::io::ErrorKind::AlreadyExists);
        if lock_exists {
            return Error::LockHeld { lock: None, source };
        }
        Error::Git { what, source }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::LockHeld { lock: Some(l), .. } => {
                write!(f, "another git process holds the lock {}", l.display())
            }
            Error::LockHeld { lock: None, source } => {
                write!(f, "another git process holds a lock of the store: {source}")
            }
            Error::BranchMoved { .. } => f.write_str("the store's branch moved during the write"),
            Error::Git { what, source } => {
                let source: &(dyn std::error::Error + 'static) = source;
                write!(
                    f,
                    "git operation failed while {what}: {}",
                    crate::error::chain(source)
                )
            }
            Error::Contended { .. } => {
                f.write_str("the store kept changing while authsome tried to write to it")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::LockHeld { source, .. }
            | Error::BranchMoved { source }
            | Error::Git { source, .. } => Some(source),
            Error::Contended { .. } => None,
        }
    }
}

impl From<Error> for crate::error::Error {
    fn from(e: Error) -> Self {
        let hint = match &e {
            Error::LockHeld { lock: Some(l), .. } => format!(
                "wait for the other writer to finish, or delete {} if no git or authsome process runs",
                l.display()
            ),
            Error::LockHeld { lock: None, .. } | Error::Contended { .. } => {
                "wait for other writers to finish and try again".to_owned()
            }
            Error::BranchMoved { .. } => "try again".to_owned(),
            Error::Git { .. } => "check the repository with `git fsck`".to_owned(),
        };
        crate::error::Error::new(crate::error::ErrorKind::Store, e.to_string())
            .with_hint(hint)
            .with_source(e)
    }
}
