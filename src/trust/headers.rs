//! Ciphertext header checks, without decrypting: a secret file's age header must hold one stanza
//! per recipient of its vault (X25519 stanzas are anonymous, so only their count is proven), and
//! each `ssh-ed25519` stanza's tag must belong to a reader. This catches a writer who encrypted to
//! an extra outsider, or dropped a member, while keeping the recorded recipient fingerprint.

use base64::Engine;
use sha2::{Digest, Sha256};

/// What a secret file's header says of its recipients.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stanzas {
    /// Recipient stanzas (X25519 and SSH), grease stanzas not counted.
    pub count: usize,
    /// The tags of its `ssh-ed25519` stanzas.
    pub ssh_tags: Vec<String>,
}

/// Reads the recipient stanzas of an ASCII-armored (or binary) age file; `None` when it is not
/// one.
pub fn stanzas(file: &[u8]) -> Option<Stanzas> {
    let text = std::str::from_utf8(file).ok()?;
    let binary = if text
        .trim_start()
        .starts_with("-----BEGIN AGE ENCRYPTED FILE-----")
    {
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::trim)
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .ok()?
    } else {
        file.to_vec()
    };
    // The header is text up to the `---` MAC line.
    let end = binary.windows(4).position(|w| w == b"\n---")?;
    let header = std::str::from_utf8(&binary[..end]).ok()?;
    let mut out = Stanzas::default();
    for line in header.lines().filter_map(|l| l.strip_prefix("-> ")) {
        let mut words = line.split(' ');
        match words.next() {
            Some("X25519") | Some("ssh-rsa") => out.count += 1,
            Some("ssh-ed25519") => {
                out.count += 1;
                out.ssh_tags.extend(words.next().map(str::to_owned));
            }
            // Grease and anything else are not recipients of ours.
            _ => {}
        }
    }
    Some(out)
}

/// The tag age gives an `ssh-ed25519` recipient's stanza: base64 of the first 4 bytes of the
/// SHA-256 of its wire-format key.
pub fn ssh_tag(recipient: &str) -> Option<String> {
    let blob = recipient.split_whitespace().nth(1)?;
    let wire = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .ok()?;
    let hash = Sha256::digest(&wire);
    Some(base64::engine::general_purpose::STANDARD_NO_PAD.encode(&hash[..4]))
}

/// Problems with one file's header given its vault's reader recipients.
pub fn check(file: &[u8], readers: &[String]) -> Option<String> {
    let Some(found) = stanzas(file) else {
        return Some("is not an age file".to_owned());
    };
    if found.count != readers.len() {
        return Some(format!(
            "is encrypted to {} recipients, but its vault has {} readers' keys",
            found.count,
            readers.len()
        ));
    }
    let tags: Vec<String> = readers
        .iter()
        .filter(|r| r.starts_with("ssh-ed25519 "))
        .filter_map(|r| ssh_tag(r))
        .collect();
    if let Some(stranger) = found.ssh_tags.iter().find(|t| !tags.contains(t)) {
        return Some(format!(
            "is encrypted to an ssh-ed25519 key (tag {stranger}) that no reader of its vault has"
        ));
    }
    None
}

/// Every secret file of `vault` whose header does not match the vault's readers, with what is
/// wrong and what to do.
pub fn check_vault(
    snap: &crate::store::Snapshot<'_>,
    vault: &str,
) -> crate::error::Result<Vec<String>> {
    let readers = crate::vault::vault_recipients(snap, vault).unwrap_or_default();
    let mut problems = Vec::new();
    for path in snap.files_under(&crate::layout::vault(vault))? {
        if !crate::layout::is_secret(&path) {
            continue;
        }
        let bytes = snap.read(&path)?.unwrap_or_default();
        if let Some(problem) = check(&bytes, &readers) {
            problems.push(format!(
                "{path} {problem}; re-encrypt it with `authsome rekey {vault} --all`"
            ));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::envelope::{self, Place};
    use crate::crypto::recipients;

    #[test]
    fn counts_stanzas_and_knows_ssh_tags() {
        let (_, ssh) = crate::crypto::signing::generate_text().unwrap();
        let age_key = age::x25519::Identity::generate().to_public().to_string();
        let readers = vec![age_key.clone(), ssh.clone()];
        let parsed: Vec<_> = readers
            .iter()
            .map(|r| recipients::parse(r, "test").unwrap())
            .collect();
        let place = Place {
            store: "s".into(),
            vault: "v".into(),
            provider: "p".into(),
            connection: Some("c".into()),
            field: "api_key".into(),
        };
        let file = envelope::seal(&place, &"sk-1".to_owned().into(), &parsed).unwrap();
        let found = stanzas(&file).unwrap();
        assert_eq!(found.count, 2, "grease is not counted");
        assert_eq!(found.ssh_tags, vec![ssh_tag(&ssh).unwrap()]);
        assert_eq!(check(&file, &readers), None);
        // One reader fewer than the file has stanzas: flagged.
        assert!(
            check(&file, &readers[..1])
                .unwrap()
                .contains("2 recipients")
        );
        // The same count with a stranger's SSH key in place of the reader's: flagged.
        let (_, other) = crate::crypto::signing::generate_text().unwrap();
        let swapped = vec![age_key, other];
        assert!(
            check(&file, &swapped)
                .unwrap()
                .contains("no reader of its vault has")
        );
    }
}
