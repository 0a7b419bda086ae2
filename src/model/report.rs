//! The JSON that commands print for scripts and agents, with a schema each under `schema/`: one
//! shape for a finding, whichever of `status` and `doctor` found it, and one for a commit,
//! whichever of `log`, `show` and `diff` prints it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Something that needs action, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// What was found: `uncommitted`, `stale_lock`, `rotation`, `expired`, `unreadable`,
    /// `trust`, ... for `status`; the failing or warning check (`identity`, `store`, ...) for
    /// `doctor`.
    pub kind: String,
    /// What it is about: a path, `provider/connection`, a vault, the store.
    pub subject: String,
    /// What to do about it.
    pub what_to_do: String,
}

/// What `status --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusReport {
    /// Nothing needs attention (then `status` exits 0; otherwise 1).
    pub clean: bool,
    /// What needs attention.
    pub findings: Vec<Finding>,
}

/// A commit, in the one shape `log`, `show` and `diff` print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Commit {
    /// The full commit id.
    pub id: String,
    /// Its first 12 hex digits.
    pub short: String,
    /// The author's time, RFC 3339 in UTC.
    pub time: String,
    /// The author's name.
    pub author: String,
    /// The author's email.
    pub email: String,
    /// The first line of the message.
    pub message: String,
    /// The store's files it changed (against its first parent).
    pub changes: Vec<FileChange>,
}

/// A file a commit changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileChange {
    /// The store-relative path.
    pub path: String,
    /// `added`, `modified` or `deleted`.
    pub status: ChangeStatus,
}

/// How a commit changed a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// The file is new.
    Added,
    /// The file's content changed.
    Modified,
    /// The file is gone.
    Deleted,
}

/// What `log --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogReport {
    /// Newest first.
    pub commits: Vec<Commit>,
}

/// What `show --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowReport {
    /// The commit.
    pub commit: Commit,
    /// What it changed, as `show` prints it (secrets redacted).
    pub diff: String,
}

/// What `diff --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiffReport {
    /// The commit compared from (`None` before the first commit).
    pub from: Option<Commit>,
    /// The commit compared to.
    pub to: Commit,
    /// The difference, as `diff` prints it (secrets redacted).
    pub diff: String,
}
