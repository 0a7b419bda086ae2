//! The private key this process decrypts with.
//!
//! An identity file is either in age-keygen format (`AGE-SECRET-KEY-1...`, comments allowed) or
//! an unencrypted OpenSSH ed25519/RSA private key. It lives outside the store and must not be
//! readable by group or others.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// A loaded identity: what decrypts, and the recipient string others encrypt to.
pub struct Identity {
    path: PathBuf,
    identities: Vec<Box<dyn age::Identity + Send + Sync>>,
    recipient: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("path", &self.path)
            .field("recipient", &self.recipient)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Loads the identity at `path`, refusing files that group or others can read.
    pub fn load(path: &Path) -> Result<Self> {
        let meta = fs::metadata(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::crypto(format!(
                    "no identity at {}; run `authsome init` to create one, or point --identity (or AUTHSOME_IDENTITY) at your age or SSH key",
                    path.display()
                ))
            } else {
                Error::io("read the identity", path, e)
            }
        })?;
        crate::private_files::check_private(path, &meta)?;
        let text = Zeroizing::new(
            fs::read_to_string(path).map_err(|e| Error::io("read the identity", path, e))?,
        );
        if text.contains("-----BEGIN ") {
            Self::from_ssh(path, &text)
        } else {
            Self::from_age(path, &text)
        }
    }

    fn from_age(path: &Path, text: &str) -> Result<Self> {
        let mut key = None;
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with("AGE-SECRET-KEY-PQ-") || line.starts_with("AGE-PLUGIN-") {
                return Err(Error::crypto(format!(
                    "{} holds a post-quantum or plugin identity, which this build cannot use yet; use an X25519 key from age-keygen or an ssh-ed25519 key",
                    path.display()
                )));
            }
            if key.is_some() {
                return Err(Error::crypto(format!(
                    "{} holds more than one key; keep exactly one AGE-SECRET-KEY-1... line",
                    path.display()
                )));
            }
            key = Some(line);
        }
        let key = key.ok_or_else(|| {
            Error::crypto(format!(
                "{} holds no age key; create one with `authsome init` or `age-keygen -o FILE`",
                path.display()
            ))
        })?;
        let identity: age::x25519::Identity = key.parse().map_err(|_| {
            Error::crypto(format!(
                "{} does not hold a valid age identity (expected a line starting AGE-SECRET-KEY-1); use a file made by age-keygen",
                path.display()
            ))
        })?;
        let recipient = identity.to_public().to_string();
        Ok(Identity {
            path: path.to_owned(),
            identities: vec![Box::new(identity)],
            recipient,
        })
    }

    fn from_ssh(path: &Path, text: &str) -> Result<Self> {
        let name = path.display().to_string();
        let identity = age::ssh::Identity::from_buffer(text.as_bytes(), Some(name.clone()))
            .map_err(|e| Error::crypto(format!("{name} is not a usable SSH key: {e}")))?;
        match &identity {
            age::ssh::Identity::Unencrypted(_) => {}
            age::ssh::Identity::Encrypted(_) => {
                return Err(Error::crypto(format!(
                    "{name} is a passphrase-protected SSH key, which authsome cannot unlock yet; use an unencrypted key kept at mode 0600, or an age identity"
                )));
            }
            age::ssh::Identity::Unsupported(_) => {
                return Err(Error::crypto(format!(
                    "{name} is an SSH key type age does not support; use an ssh-ed25519 or ssh-rsa key"
                )));
            }
        }
        let recipient = age::ssh::Recipient::try_from(identity.clone())
            .map_err(|_| Error::crypto(format!("{name}: could not derive the SSH public key")))?
            .to_string();
        Ok(Identity {
            path: path.to_owned(),
            identities: vec![Box::new(identity)],
            recipient,
        })
    }

    /// Generates a new X25519 identity and writes it to `path` (mode 0600, never overwriting).
    pub fn generate(path: &Path) -> Result<Self> {
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public().to_string();
        if let Some(dir) = path.parent() {
            crate::private_files::create_private_dir(dir)?;
        }
        let secret = identity.to_string();
        let contents = Zeroizing::new(format!(
            "# created: {}\n# public key: {recipient}\n{}\n",
            jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            secret.expose_secret()
        ));
        let mut file = crate::private_files::open_private_new(path)?;
        file.write_all(contents.as_bytes())
            .and_then(|_| file.sync_all())
            .map_err(|e| Error::io("write the identity", path, e))?;
        Ok(Identity {
            path: path.to_owned(),
            identities: vec![Box::new(identity)],
            recipient,
        })
    }

    /// The file this identity was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The public recipient (`age1...` or `ssh-ed25519 ...`).
    pub fn recipient(&self) -> &str {
        &self.recipient
    }

    /// The identities to try when decrypting.
    pub fn age_identities(&self) -> impl Iterator<Item = &dyn age::Identity> {
        self.identities
            .iter()
            .map(|i| i.as_ref() as &dyn age::Identity)
    }
}

/// Where the identity is looked for when neither `--identity` nor `AUTHSOME_IDENTITY` is set.
pub fn default_path() -> Result<PathBuf> {
    Ok(crate::dirs::config_dir()?.join("identity.txt"))
}
