//! Parsing recipient strings and fingerprinting recipient sets.

use age::Recipient;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A recipient, parsed from its text form.
pub type BoxedRecipient = Box<dyn Recipient + Send + Sync>;

/// Parses one recipient: an age X25519 key (`age1...`) or an SSH public key.
pub fn parse(text: &str, source: &str) -> Result<BoxedRecipient> {
    let text = text.trim();
    // The HRP of post-quantum recipients is `age1pq`, so they start `age1pq1` (bech32 data never holds a `1`).
    if text.starts_with("age1pq1") {
        return Err(Error::crypto(format!(
            "{source} lists a post-quantum age recipient, which this build cannot encrypt to yet; use an X25519 (age1...) or ssh-ed25519 recipient"
        )));
    }
    if text.starts_with("age1") {
        return text
            .parse::<age::x25519::Recipient>()
            .map(|r| Box::new(r) as BoxedRecipient)
            .map_err(|e| {
                Error::crypto(format!(
                    "{source} lists an invalid age recipient ({e}); fix the recipient"
                ))
            });
    }
    if text.starts_with("ssh-") {
        return text
            .parse::<age::ssh::Recipient>()
            .map(|r| Box::new(r) as BoxedRecipient)
            .map_err(|_| Error::crypto(format!("{source} lists an SSH key authsome cannot encrypt to; use ssh-ed25519 or ssh-rsa keys")));
    }
    Err(Error::crypto(format!(
        "{source} lists {:?}, which is not an age (age1...) or SSH (ssh-ed25519 ...) recipient; fix the recipient",
        text.chars().take(20).collect::<String>()
    )))
}

/// A recipient as authsome compares and stores it: an SSH key without its comment
/// (`ssh-ed25519 AAAA...`), anything else trimmed. The same key with another comment is the
/// same recipient.
pub fn canonical(text: &str) -> String {
    let text = text.trim();
    if text.starts_with("ssh-") {
        text.split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        text.to_owned()
    }
}

/// A key as a person compares it: `age1qx…7z`, or `ssh SHA256:…` for an SSH key.
pub fn key_fingerprint(key: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let key = key.trim();
    if key.starts_with("ssh-")
        && let Some(blob) = key.split_whitespace().nth(1)
        && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(blob)
    {
        let digest = sha2::Sha256::digest(&bytes);
        return format!(
            "ssh SHA256:{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
        );
    }
    let chars: Vec<char> = key.chars().collect();
    if chars.len() > 12 {
        let head: String = chars[..8].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}…{tail}")
    } else {
        key.to_owned()
    }
}

/// A short fingerprint of a set of recipients, independent of order and duplicates.
pub fn fingerprint<'a>(recipients: impl IntoIterator<Item = &'a str>) -> String {
    let mut all: Vec<&str> = recipients.into_iter().map(str::trim).collect();
    all.sort_unstable();
    all.dedup();
    let mut hasher = Sha256::new();
    for r in all {
        hasher.update(r.as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_order_and_duplicates() {
        assert_eq!(fingerprint(["b", "a"]), fingerprint(["a", "b", "a"]));
        assert_ne!(fingerprint(["a"]), fingerprint(["a", "b"]));
        assert_eq!(fingerprint(["a"]).len(), 16);
    }

    #[test]
    fn refuses_unknown_recipients() {
        assert!(parse("age1pq1xyz", "x").is_err());
        assert!(parse("hello", "x").is_err());
        let id = age::x25519::Identity::generate();
        parse(&id.to_public().to_string(), "x").unwrap();
    }
}
