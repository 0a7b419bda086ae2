//! Reviewing changes: secret files rendered as redacted summaries (for `git diff` through a
//! textconv driver, and for `authsome diff`), and unified diffs of the YAML around them.
//!
//! A summary names the secret's place and a short keyed fingerprint of its value: an HMAC under
//! the vault's fingerprint key (`vaults/<vault>/fingerprint_key.age`, readable only by the vault's
//! recipients), never a bare hash, which would let anyone test guesses of a short key.

mod render;
mod setup;
mod summary;

pub use render::render;
pub use setup::{register, stage_setup};
pub use summary::{fingerprint, fingerprint_key, fingerprint_key_place, summarize, unified};
