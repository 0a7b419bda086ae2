//! Secret files as redacted summaries: the place a file belongs to and a keyed fingerprint of
//! its value, never the value.

use age::secrecy::{ExposeSecret, SecretString};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::crypto::envelope::{self, Place};
use crate::crypto::identity::Identity;
use crate::store::Snapshot;

use crate::layout::{self, FINGERPRINT_KEY};

/// The place of a vault's fingerprint key.
pub fn fingerprint_key_place(store_id: &str, vault: &str) -> Place {
    crate::vault::VaultRef::new(store_id, vault).vault_secret(FINGERPRINT_KEY)
}

/// Reads a vault's fingerprint key, when it exists and this identity can read it.
pub fn fingerprint_key(
    snap: &Snapshot<'_>,
    store_id: &str,
    vault: &str,
    identity: &Identity,
) -> Option<SecretString> {
    let path = layout::fingerprint_key(vault);
    let bytes = snap.read(&path).ok()??;
    envelope::open(
        &fingerprint_key_place(store_id, vault),
        &path,
        &bytes,
        identity,
    )
    .ok()
}

/// A short keyed fingerprint of a value.
pub fn fingerprint(key: &SecretString, value: &SecretString) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose_secret().as_bytes())
        .expect("HMAC takes any key length");
    mac.update(value.expose_secret().as_bytes());
    mac.finalize().into_bytes()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A secret file as text a reviewer can read: its place and fingerprint, never its value.
pub fn summarize(file: &[u8], snap: Option<&Snapshot<'_>>, identity: Option<&Identity>) -> String {
    // A request policy reads as what it lets whom do.
    if !file.starts_with(b"-----BEGIN AGE")
        && let Ok(policy) =
            crate::model::yaml::parse::<crate::model::policy::PolicyFile>("policy.yaml", file)
    {
        let mut text = String::from("authsome request policy\n");
        for line in crate::policy::Policy::describe(&policy) {
            text.push_str(&line);
            text.push('\n');
        }
        return text;
    }
    let Some(identity) = identity else {
        return "authsome secret (no identity to read it with)\n".to_owned();
    };
    match envelope::open_unbound("secret", file, identity) {
        Err(_) => "authsome secret (not readable with this identity)\n".to_owned(),
        Ok((place, value)) => {
            let fp = snap
                .and_then(|s| fingerprint_key(s, &place.store, &place.vault, identity))
                .map(|k| fingerprint(&k, &value))
                .unwrap_or_else(|| "unavailable (run `authsome git-setup`)".to_owned());
            format!(
                "authsome secret {}\nstore: {}\nfingerprint: {fp}\n",
                place.describe(),
                place.store
            )
        }
    }
}

/// A unified diff of two texts, `git diff` style.
pub fn unified(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}
