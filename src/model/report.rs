//! The JSON that `status` and `doctor` print for scripts and agents: one shape for a finding,
//! whichever command found it (`schema/status.schema.json`).

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
