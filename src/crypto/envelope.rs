//! The secret envelope: a value bound to its place in the store, encrypted with age.
//!
//! The plaintext inside every `.age` file is a short header, a blank line, then the value:
//!
//! ```text
//! authsome-secret: 1
//! store: 3f9c2a...        (the store id from store.yaml)
//! vault: default
//! provider: openai
//! connection: work        (absent for provider-level secrets such as client_secret)
//! field: api_key
//!
//! sk-...                  (the value, exactly, with no trailing newline added)
//! ```
//!
//! On decrypt the header must name the place the file was read from; a file copied or moved
//! elsewhere is refused. The file is ASCII-armored age, so the stock `age -d` reads it.

use std::io::{Read, Write};

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use age::secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::crypto::identity::Identity;
use crate::crypto::recipients::BoxedRecipient;
use crate::error::{Error, Result};

const MAGIC: &str = "authsome-secret: 1";

/// Where a secret belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The store id.
    pub store: String,
    /// The vault name.
    pub vault: String,
    /// The provider name.
    pub provider: String,
    /// The connection name, or `None` for a provider-level secret.
    pub connection: Option<String>,
    /// The field name (`api_key`, `access_token`, ...).
    pub field: String,
}

impl Place {
    fn header(&self) -> String {
        let mut h = format!("{MAGIC}\nstore: {}\nvault: {}\n", self.store, self.vault);
        // Vault-level secrets (the fingerprint key) belong to no provider.
        if !self.provider.is_empty() {
            h.push_str(&format!("provider: {}\n", self.provider));
        }
        if let Some(c) = &self.connection {
            h.push_str(&format!("connection: {c}\n"));
        }
        h.push_str(&format!("field: {}\n\n", self.field));
        h
    }

    /// A short human form: `default/openai/work/api_key`.
    pub fn describe(&self) -> String {
        match &self.connection {
            Some(c) => format!("{}/{}/{}/{}", self.vault, self.provider, c, self.field),
            None if self.provider.is_empty() => format!("{}/{}", self.vault, self.field),
            None => format!("{}/{}/{}", self.vault, self.provider, self.field),
        }
    }
}

/// Encrypts `value` for `place` to every recipient, as ASCII-armored age.
pub fn seal(place: &Place, value: &SecretString, recipients: &[BoxedRecipient]) -> Result<Vec<u8>> {
    let mut plaintext = Zeroizing::new(place.header().into_bytes());
    plaintext.extend_from_slice(value.expose_secret().as_bytes());
    let encryptor = age::Encryptor::with_recipients(
        recipients.iter().map(|r| r.as_ref() as &dyn age::Recipient),
    )
    .map_err(|e| Error::crypto(format!("could not encrypt to the vault's recipients: {e}")))?;
    let mut out = Vec::with_capacity(plaintext.len() * 2 + 512);
    let fail = |e: std::io::Error| Error::internal(format!("could not encrypt a secret: {e}"));
    let armor = ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).map_err(fail)?;
    let mut writer = encryptor.wrap_output(armor).map_err(fail)?;
    writer.write_all(&plaintext).map_err(fail)?;
    writer.finish().and_then(|a| a.finish()).map_err(fail)?;
    Ok(out)
}

/// Decrypts a secret file read from `path` (for messages) and checks it belongs to `place`.
pub fn open(place: &Place, path: &str, file: &[u8], identity: &Identity) -> Result<SecretString> {
    open_typed(place, path, file, identity).map_err(Into::into)
}

/// [`open`], with its typed error.
pub fn open_typed(
    place: &Place,
    path: &str,
    file: &[u8],
    identity: &Identity,
) -> std::result::Result<SecretString, super::Error> {
    let damaged = |why: &str| super::Error::Damaged {
        path: path.to_owned(),
        why: why.to_owned(),
    };
    let decryptor =
        age::Decryptor::new_buffered(ArmoredReader::new(file)).map_err(|e| match e {
            age::DecryptError::Io(_) | age::DecryptError::InvalidHeader => {
                damaged("bad age header")
            }
            age::DecryptError::UnknownFormat => damaged("unknown age format"),
            other => damaged(&other.to_string()),
        })?;
    let mut reader = decryptor
        .decrypt(identity.age_identities())
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => super::Error::NotARecipient {
                path: path.to_owned(),
                identity: identity.path().to_path_buf(),
                recipient: short(identity.recipient()),
                vault: place.vault.clone(),
            },
            age::DecryptError::InvalidMac => damaged("header MAC mismatch"),
            other => damaged(&other.to_string()),
        })?;
    let mut plaintext = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut plaintext)
        .map_err(|_| damaged("truncated or corrupted payload"))?;
    let expected = place.header();
    if !plaintext.starts_with(expected.as_bytes()) {
        return Err(super::Error::Misplaced {
            path: path.to_owned(),
            found: describe_header(&plaintext),
            expected: place.describe(),
        });
    }
    let value = std::str::from_utf8(&plaintext[expected.len()..])
        .map_err(|_| damaged("value is not UTF-8"))?;
    Ok(SecretString::from(value.to_owned()))
}

/// Decrypts any authsome secret file without checking where it sits, returning the place its
/// header claims and the value. Only for showing a file whose place is unknown (git hands
/// `textconv` a temporary copy); everything that uses a value goes through [`open`].
pub fn open_unbound(path: &str, file: &[u8], identity: &Identity) -> Result<(Place, SecretString)> {
    let decryptor = age::Decryptor::new_buffered(ArmoredReader::new(file))
        .map_err(|_| Error::crypto(format!("{path} is not an age file")))?;
    let mut reader = decryptor
        .decrypt(identity.age_identities())
        .map_err(|_| Error::crypto(format!("{path} cannot be decrypted with this identity")))?;
    let mut plaintext = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut plaintext)
        .map_err(|_| Error::crypto(format!("{path} is damaged")))?;
    let end = plaintext
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or_else(|| Error::crypto(format!("{path} is not an authsome secret")))?;
    let header = std::str::from_utf8(&plaintext[..end])
        .map_err(|_| Error::crypto(format!("{path} is not an authsome secret")))?;
    if !header.starts_with(MAGIC) {
        return Err(Error::crypto(format!("{path} is not an authsome secret")));
    }
    let get = |k: &str| {
        header
            .lines()
            .find_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix(": ")))
            .map(str::to_owned)
    };
    let place = Place {
        store: get("store").unwrap_or_default(),
        vault: get("vault").unwrap_or_default(),
        provider: get("provider").unwrap_or_default(),
        connection: get("connection"),
        field: get("field").unwrap_or_default(),
    };
    let value = std::str::from_utf8(&plaintext[end + 2..])
        .map_err(|_| Error::crypto(format!("{path} holds a value that is not UTF-8")))?;
    Ok((place, SecretString::from(value.to_owned())))
}

/// Names the place a decrypted header claims, without revealing the value.
fn describe_header(plaintext: &[u8]) -> String {
    let end = plaintext.windows(2).position(|w| w == b"\n\n").unwrap_or(0);
    let header = String::from_utf8_lossy(&plaintext[..end]);
    if !header.starts_with(MAGIC) {
        return "something that is not an authsome secret".to_owned();
    }
    let get = |k: &str| {
        header
            .lines()
            .find_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix(": ")))
            .unwrap_or("?")
            .to_owned()
    };
    let store = get("store");
    let mut place = format!("{}/{}", get("vault"), get("provider"));
    if header.lines().any(|l| l.starts_with("connection: ")) {
        place.push('/');
        place.push_str(&get("connection"));
    }
    place.push('/');
    place.push_str(&get("field"));
    format!("{place} (store {})", short(&store))
}

fn short(s: &str) -> String {
    if s.chars().count() > 20 {
        format!("{}...", s.chars().take(16).collect::<String>())
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(conn: &str) -> Place {
        Place {
            store: "s1".into(),
            vault: "default".into(),
            provider: "openai".into(),
            connection: Some(conn.into()),
            field: "api_key".into(),
        }
    }

    fn identity() -> (tempfile::TempDir, Identity) {
        let dir = tempfile::tempdir().unwrap();
        let id = Identity::generate(&dir.path().join("id.txt")).unwrap();
        (dir, id)
    }

    #[test]
    fn round_trips_and_refuses_a_moved_file() {
        let (_d, id) = identity();
        let r = vec![crate::crypto::recipients::parse(id.recipient(), "t").unwrap()];
        let sealed = seal(
            &place("work"),
            &SecretString::from("sk-1\nx".to_owned()),
            &r,
        )
        .unwrap();
        assert!(sealed.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"));
        let v = open(&place("work"), "p", &sealed, &id).unwrap();
        assert_eq!(v.expose_secret(), "sk-1\nx");
        let err = open(&place("personal"), "p", &sealed, &id).unwrap_err();
        assert!(err.message().contains("copied or moved"), "{}", err);
        assert!(!err.message().contains("sk-1"));
    }

    #[test]
    fn refuses_truncated_files() {
        let (_d, id) = identity();
        let r = vec![crate::crypto::recipients::parse(id.recipient(), "t").unwrap()];
        let sealed = seal(&place("w"), &SecretString::from("v".to_owned()), &r).unwrap();
        for cut in [10, sealed.len() / 2, sealed.len() - 40] {
            let err = open(&place("w"), "p", &sealed[..cut], &id).unwrap_err();
            assert_eq!(err.kind(), crate::error::ErrorKind::Crypto);
        }
    }
}
