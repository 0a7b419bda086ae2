//! `.authsome.yaml`: a project's configuration, committed at the root of its repository.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The file name looked for, walking up from the current directory.
pub const PROJECT_FILE: &str = ".authsome.yaml";

/// A project's authsome configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// The store: a folder relative to this file (`.authsome`, inside the repository), or an
    /// absolute path or `~/...` for a store outside it.
    pub store: String,
    /// The vault this project uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
    /// The connection used for a provider when no `--connection` is given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pins: BTreeMap<String, String>,
    /// Limits on what `authsome run` and `shell` let credentials do in this project; they add
    /// to the command line's, and only narrow.
    #[serde(default, skip_serializing_if = "RunLimits::is_empty")]
    pub run: RunLimits,
}

/// The `run:` section of `.authsome.yaml`, as `run --read-only`, `--allow`, `--max-requests`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunLimits {
    /// Only GET, HEAD and OPTIONS.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// `PROVIDER:METHOD PATH` patterns a request must match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// At most this many credentialed requests per run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_requests: Option<u64>,
    /// As `--egress providers-only`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub providers_only: bool,
    /// As `--allow-host`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_hosts: Vec<String>,
}

impl RunLimits {
    /// Whether nothing is limited.
    pub fn is_empty(&self) -> bool {
        *self == RunLimits::default()
    }
}
