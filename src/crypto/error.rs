//! The typed errors of opening a secret file: the cases a caller (or a reader of `--json`)
//! tells apart.

/// Why a secret file could not be opened.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// This identity is not among the file's recipients.
    NotARecipient {
        /// The file, store-relative.
        path: String,
        /// The identity file.
        identity: std::path::PathBuf,
        /// The identity's recipient, shortened.
        recipient: String,
        /// The vault the file belongs to.
        vault: String,
    },
    /// The file is not a well-formed age file, or fails its authentication.
    Damaged {
        /// The file, store-relative.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// The file decrypts, but holds the secret of another place (it was copied or moved).
    Misplaced {
        /// The file, store-relative.
        path: String,
        /// The place its header names.
        found: String,
        /// The place it sits in.
        expected: String,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NotARecipient {
                path,
                identity,
                recipient,
                vault,
            } => write!(
                f,
                "your identity {} ({recipient}) is not a recipient of {path}; ask a member of vault {vault:?} to add your recipient and re-encrypt",
                identity.display()
            ),
            Error::Damaged { path, why } => write!(
                f,
                "{path} is damaged or was altered ({why}); restore it from git history (`authsome` never rewrites history) or log in again with --force"
            ),
            Error::Misplaced {
                path,
                found,
                expected,
            } => write!(
                f,
                "{path} holds the secret of {found}, not of {expected}; it was copied or moved, so it is refused: log in to this connection again"
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for crate::error::Error {
    fn from(e: Error) -> Self {
        crate::error::Error::new(crate::error::ErrorKind::Crypto, e.to_string()).with_source(e)
    }
}
