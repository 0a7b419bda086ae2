//! Shell completion: `authsome completions SHELL` prints a script that asks authsome itself for
//! candidates (clap_complete's dynamic completion, `AUTHSOME_COMPLETE=SHELL authsome -- WORDS`),
//! so provider, connection and vault names come from the store as it is now.
//!
//! Completion only reads: the store is opened without the recovery a command runs and without
//! the trust check (names are not secrets, and a suggestion is never used without the command
//! that follows checking everything), and any failure gives no candidates rather than an error.

use std::ffi::OsStr;

use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};

use authsome::context::{Context, Options};
use authsome::store::Store;

/// The variable that turns a run of authsome into a completion request.
pub const VAR: &str = "AUTHSOME_COMPLETE";

/// Answers a completion request for `command` and exits, when this run is one.
pub fn answer_if_asked(command: fn() -> clap::Command) {
    clap_complete::CompleteEnv::with_factory(command)
        .var(VAR)
        .complete();
}

/// Completes provider names: every provider the store knows (bundled and defined).
pub fn providers() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        candidates(current, |_, store| {
            let snap = store.snapshot().ok()?;
            authsome::providers::Catalog::new(&snap).names().ok()
        })
    })
}

/// Completes connection names: those of the provider named on the command line so far, or of
/// every provider when none is.
pub fn connections() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        candidates(current, |ctx, store| {
            let snap = store.snapshot().ok()?;
            let vault = ctx.vault.as_str();
            let providers = authsome::vault::providers(&snap, vault).ok()?;
            let words: Vec<String> = std::env::args().collect();
            let named: Vec<&String> = providers
                .iter()
                .filter(|p| words.iter().any(|w| w == *p))
                .collect();
            let from: Vec<&String> = if named.is_empty() {
                providers.iter().collect()
            } else {
                named
            };
            let mut names: Vec<String> = from
                .into_iter()
                .filter_map(|p| authsome::vault::connections(&snap, vault, p).ok())
                .flatten()
                .collect();
            names.sort();
            names.dedup();
            Some(names)
        })
    })
}

/// Completes vault names.
pub fn vaults() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        candidates(current, |_, store| {
            authsome::vault::vaults(&store.snapshot().ok()?).ok()
        })
    })
}

/// The names `list` gives for the store the command line points at, those starting with
/// `current`.
fn candidates(
    current: &OsStr,
    list: impl FnOnce(&Context, &Store) -> Option<Vec<String>>,
) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let names = context()
        .and_then(|ctx| {
            let store = Store::open_at(&ctx.location).ok()?;
            list(&ctx, &store)
        })
        .unwrap_or_default();
    names
        .into_iter()
        .filter(|n| n.starts_with(current.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}

/// The context of the command line being completed: its `--store` and `--vault` if typed
/// already, else the environment's.
fn context() -> Option<Context> {
    let words: Vec<String> = std::env::args().collect();
    let after = |flag: &str| {
        words
            .iter()
            .position(|w| w == flag)
            .and_then(|i| words.get(i + 1))
            .cloned()
    };
    let store = after("--store")
        .or_else(|| std::env::var("AUTHSOME_STORE").ok())
        .map(std::path::PathBuf::from);
    let vault = after("--vault")
        .or_else(|| std::env::var("AUTHSOME_VAULT").ok())
        .and_then(|v| v.parse().ok());
    Context::resolve(Options {
        store,
        identity: None,
        vault,
        signing_key: None,
        trust: Default::default(),
    })
    .ok()
}
