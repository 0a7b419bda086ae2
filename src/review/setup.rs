//! Readable diffs of secret files in plain `git diff` / `git log -p`: a fingerprint key per vault
//! and the attributes line (both committed), and the diff driver in the repository's config.

use age::secrecy::SecretString;

use crate::error::{Error, Result};
use crate::layout;
use crate::store::{Store, Txn};
use crate::vault;

/// The `.gitattributes` lines that route secret files and request policies through the
/// textconv driver (a policy reads as sentences: "deploy-bot may POST ... on github").
const ATTRIBUTES: [&str; 2] = ["*.age diff=authsome", "policy.yaml diff=authsome"];

/// Stages the committed half of the set-up in a transaction (`git-setup` and `init` commit it).
pub fn stage_setup(txn: &mut Txn<'_>, store_id: &str, vault_name: &str) -> Result<()> {
    let mut attributes =
        String::from_utf8(txn.read(layout::GITATTRIBUTES)?.unwrap_or_default()).unwrap_or_default();
    let before = attributes.clone();
    for line in ATTRIBUTES {
        if !attributes.lines().any(|l| l.trim() == line) {
            if !attributes.is_empty() && !attributes.ends_with('\n') {
                attributes.push('\n');
            }
            attributes.push_str(line);
            attributes.push('\n');
        }
    }
    if attributes != before {
        txn.write(layout::GITATTRIBUTES, attributes);
    }
    if txn.read(&layout::fingerprint_key(vault_name))?.is_none() {
        let recipients = vault::load_recipients(txn, vault_name)?;
        let key = SecretString::from(crate::random_hex(32));
        let place = super::summary::fingerprint_key_place(store_id, vault_name);
        txn.write(
            layout::fingerprint_key(vault_name),
            crate::crypto::envelope::seal(&place, &key, &recipients.parsed)?,
        );
        // Recorded like any secret's, so a rekey knows when the key is stale.
        let mut meta = vault::vault_meta(txn, vault_name)?;
        meta.fingerprint_key = Some(crate::model::state::SecretInfo {
            recipients: recipients.fingerprint.clone(),
            updated_at: crate::model::time::Stamp::now(),
            rekeyed_at: None,
        });
        vault::write_yaml(txn, layout::vault_meta(vault_name), &meta)?;
    }
    Ok(())
}

/// Registers the diff driver in the repository's config (not committed: config is local).
pub fn register(store: &Store) -> Result<()> {
    register_driver(store)
}

/// Adds `[diff "authsome"] textconv = authsome textconv` to the repository's config.
fn register_driver(store: &Store) -> Result<()> {
    // The shared config: in a linked worktree git_dir() has none of its own.
    let config = store.repo().common_dir().join("config");
    let text = std::fs::read_to_string(&config).map_err(|e| Error::io("read", &config, e))?;
    if text.contains("[diff \"authsome\"]") {
        return Ok(());
    }
    let mut text = text;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("[diff \"authsome\"]\n\ttextconv = authsome textconv\n");
    std::fs::write(&config, text).map_err(|e| Error::io("write", &config, e))
}
