//! authsome: credentials for developers and AI agents, kept in a git repository of plain YAML
//! with one age-encrypted file per secret.
//!
//! The `authsome` binary is a thin layer over this library: it parses arguments, calls one
//! operation, and prints the report. Operations read committed state through
//! [`store::Snapshot`] or change it through one [`store::Store::transact`] call. See
//! `docs/ARCHITECTURE.md` for the map.

#![warn(missing_docs)]
// The child-process plumbing (`proxy::child`) is the one place allowed unsafe code, each block
// with a `// SAFETY:` comment.
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod context;
pub mod crypto;
pub mod dirs;
pub mod error;
pub mod http_path;
pub mod input;
pub mod layout;
pub mod loopback;
pub mod model;
pub mod oauth;
pub mod ops;
pub mod policy;
pub mod private_files;
#[cfg(test)]
mod props;
pub mod providers;
pub mod proxy;
pub mod reports;
pub mod review;
pub mod store;
pub mod trust;
pub mod ui;
pub mod vault;

/// `n` random bytes as lowercase hex, from the operating system's generator.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::getrandom(&mut buf).expect("the operating system's random generator works");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// An HTTP Basic credential, `Basic base64(user:password)`, wiped from memory when dropped.
pub fn basic_auth(user: &str, password: &str) -> zeroize::Zeroizing<String> {
    use base64::Engine;
    let pair = zeroize::Zeroizing::new(format!("{user}:{password}"));
    zeroize::Zeroizing::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair.as_bytes())
    ))
}
