//! `vaults/<vault>/policy.yaml`: which requests the proxy lets a vault's credentials make.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A vault's request policy: rules per provider, optionally per connection and principal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// The rules, in the order they were written (the first matching `allow` is named in
    /// decisions).
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// One rule. It binds the requests to its provider's hosts made with the connections it names
/// (every connection when none) by the principals it names (everyone when none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The provider whose requests it covers.
    pub provider: String,
    /// The connections it covers (all when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<String>,
    /// The principals it covers (everyone when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<String>,
    /// Requests allowed: `METHOD PATH`, where METHOD is a method or `*`, and PATH a pattern in
    /// which `*` is one path segment (or part of one) and `**` any number of segments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Requests refused even when an `allow` matches (deny wins).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
    /// At most this many requests: `N/sec`, `N/min` or `N/hour`; beyond it the proxy answers
    /// 429.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
}
