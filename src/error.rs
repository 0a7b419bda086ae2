//! One error type for the whole tool: a kind (which decides the exit code) and one sentence that
//! says what went wrong and what to do.
//!
//! Messages never carry secret values: they are built from names, paths and counts only.

use std::fmt;

/// Broad classes of failure, each with a documented exit code (see the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Anything not classified below.
    Internal,
    /// Bad arguments or input: an invalid name, a key that fails the provider's pattern,
    /// cancelled input.
    Usage,
    /// The named connection does not exist.
    ConnectionNotFound,
    /// The named provider is neither bundled nor defined in the store.
    ProviderNotFound,
    /// A connection has no usable credential (missing field, expired token).
    CredentialMissing,
    /// A provider with that name is already defined in the store.
    AlreadyExists,
    /// The provider refused the login (a rejected client, a denied or expired authorization).
    AuthFailed,
    /// A provider endpoint could not be reached or answered nonsense.
    Endpoint,
    /// The store is missing, not a git repository, malformed, or in the way of a write.
    Store,
    /// The identity is missing, unreadable or not a recipient, or a secret file fails its checks.
    Crypto,
    /// A scope of the store is not sealed by someone its policy allows, or its seal does not
    /// cover what is there.
    Trust,
    /// The command given to `run` or `shell` could not be executed (a file that is not
    /// executable, or not a program): 126, as shells say it.
    NotExecutable,
    /// The command given to `run` or `shell` was not found: 127, as shells say it.
    CommandNotFound,
    /// The user cancelled an input (Ctrl-C, Ctrl-D at a prompt): 130, as for SIGINT.
    Cancelled,
}

impl ErrorKind {
    /// The process exit code for this kind.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Internal => 1,
            ErrorKind::Usage => 2,
            ErrorKind::ConnectionNotFound => 3,
            ErrorKind::ProviderNotFound => 4,
            ErrorKind::CredentialMissing => 5,
            ErrorKind::AlreadyExists => 7,
            ErrorKind::AuthFailed => 2,
            ErrorKind::Endpoint => 8,
            ErrorKind::Store => 10,
            ErrorKind::Crypto => 11,
            ErrorKind::Trust => 12,
            ErrorKind::NotExecutable => 126,
            ErrorKind::CommandNotFound => 127,
            ErrorKind::Cancelled => 130,
        }
    }

    /// A stable identifier for `--json` output.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Internal => "internal",
            ErrorKind::Usage => "usage",
            ErrorKind::ConnectionNotFound => "connection_not_found",
            ErrorKind::ProviderNotFound => "provider_not_found",
            ErrorKind::CredentialMissing => "credential_missing",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::AuthFailed => "auth_failed",
            ErrorKind::Endpoint => "endpoint_unreachable",
            ErrorKind::Store => "store",
            ErrorKind::Crypto => "crypto",
            ErrorKind::Trust => "trust",
            ErrorKind::NotExecutable => "not_executable",
            ErrorKind::CommandNotFound => "command_not_found",
            ErrorKind::Cancelled => "cancelled",
        }
    }
}

/// An error with a kind, a message meant for the user, and optionally a separate hint (what to
/// do) and the lower-level error it came from.
///
/// The typed errors of the layers below ([`crate::store::Error`], [`crate::crypto::Error`],
/// [`crate::oauth::OAuthError`]) convert into it with `From`, which chooses the kind, so every exit
/// code stays as documented. Nothing decides by reading an error's text.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    reported: bool,
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            source: None,
            reported: false,
        }
    }

    /// Adds what to do about the error, said after the message.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The same error said differently (with context the caller knows), keeping kind and hint.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Keeps the lower-level error this one came from, for [`std::error::Error::source`].
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What to do about the error, when it is said apart from the message.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// Marks the error as already shown to the user (for example inside a `--json` report), so
    /// only the exit code remains to be given.
    pub fn reported(mut self) -> Self {
        self.reported = true;
        self
    }

    /// Whether the error was already shown.
    pub fn is_reported(&self) -> bool {
        self.reported
    }

    /// Bad arguments or input.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    /// A command that could not be started: 127 when it is not found, 126 when it cannot be
    /// executed, as shells and `env` exit.
    pub fn spawn(name: &str, err: std::io::Error) -> Self {
        match err.kind() {
            std::io::ErrorKind::NotFound => Self::new(
                ErrorKind::CommandNotFound,
                format!("{name}: command not found; check the name and PATH"),
            ),
            _ => Self::new(
                ErrorKind::NotExecutable,
                format!(
                    "could not run {name}: {err}; check that it is a program and executable (chmod +x)"
                ),
            ),
        }
    }

    /// A problem with the store.
    pub fn store(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Store, message)
    }

    /// A problem with the identity or a secret file.
    pub fn crypto(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Crypto, message)
    }

    /// An unclassified failure.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// An I/O failure on `path` while doing `what`.
    pub fn io(what: &str, path: &std::path::Path, err: std::io::Error) -> Self {
        Self::internal(format!("could not {what} {}: {err}", path.display()))
    }

    /// An I/O failure on a file of the store (exit 10), with what to do about a full disk or a
    /// read-only file system.
    pub fn store_io(what: &str, path: &std::path::Path, err: std::io::Error) -> Self {
        let hint = io_hint(err.kind());
        let e = Self::store(format!("could not {what} {}: {err}", path.display()));
        match hint {
            Some(h) => e.with_hint(h),
            None => e,
        }
    }

    /// A failure inside the git engine while doing `what`, with every cause it carries (the
    /// "No space left on device" under "could not write loose object header").
    pub fn git(what: &str, err: impl std::error::Error + Send + Sync + 'static) -> Self {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        let mut hint = None;
        while let Some(e) = cause {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                hint = hint.or(io_hint(io.kind()));
            }
            cause = e.source();
        }
        let e = Self::store(format!(
            "git operation failed while {what}: {}",
            chain(&err)
        ));
        match hint {
            Some(h) => e.with_hint(h),
            None => e,
        }
        .with_source(err)
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// An error and its causes in one line: each cause that says something the text so far does
/// not, after a colon.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !said.is_empty() && !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = c.source();
    }
    text
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match &self.hint {
            Some(hint) => write!(f, "; {hint}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// What to do about a file-system failure of the store, by its kind.
fn io_hint(kind: std::io::ErrorKind) -> Option<&'static str> {
    match kind {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            Some("free some space on that disk and try again; nothing half-written is used")
        }
        std::io::ErrorKind::ReadOnlyFilesystem => {
            Some("the store is on a read-only file system; writes need it mounted read-write")
        }
        std::io::ErrorKind::PermissionDenied => {
            Some("check who owns the store's files (`ls -l`) and run authsome as that user")
        }
        _ => None,
    }
}

#[cfg(test)]
mod chain_tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("could not write loose object header")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_git_error_names_the_cause_under_it() {
        let full = std::io::Error::from_raw_os_error(28);
        let e = Error::git("committing", Outer(full));
        assert_eq!(e.kind(), ErrorKind::Store);
        assert!(
            e.message()
                .contains("could not write loose object header: No space left on device"),
            "{}",
            e.message()
        );
        let io = Error::store_io(
            "write",
            std::path::Path::new("/s/x"),
            std::io::Error::from_raw_os_error(28),
        );
        assert_eq!(io.kind(), ErrorKind::Store);
        assert!(
            io.message().contains("No space left on device"),
            "{}",
            io.message()
        );
        assert!(io.hint().unwrap().contains("free some space"));
    }
}
