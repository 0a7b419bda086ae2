//! Signing keys: OpenSSH ed25519 keys whose SSHSIG signatures prove who wrote something (a join
//! request today; seals with the trust issue). age X25519 keys cannot sign, so a principal has
//! signers beside its recipients.

use std::path::{Path, PathBuf};

use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// A private signing key, loaded from its file.
pub struct SigningKey {
    key: PrivateKey,
    path: PathBuf,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("path", &self.path)
            .field("public", &self.public())
            .finish_non_exhaustive()
    }
}

/// Where the signing key is looked for when `AUTHSOME_SIGNING_KEY` is not set.
pub fn default_path() -> Result<PathBuf> {
    Ok(crate::dirs::config_dir()?.join("signing_key"))
}

/// The signing key's path: `AUTHSOME_SIGNING_KEY`, else the default.
pub fn path() -> Result<PathBuf> {
    match std::env::var_os("AUTHSOME_SIGNING_KEY").filter(|v| !v.is_empty()) {
        Some(p) => Ok(PathBuf::from(p)),
        None => default_path(),
    }
}

/// A new ed25519 key, from the operating system's generator.
fn new_key() -> Result<PrivateKey> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::getrandom(seed.as_mut()).map_err(|e| {
        Error::internal(format!(
            "the operating system's random generator failed: {e}"
        ))
    })?;
    Ok(PrivateKey::from(
        ssh_key::private::Ed25519Keypair::from_seed(&seed),
    ))
}

/// A new key as text: the private key (OpenSSH format) for a file of its own, and the public key
/// as a principal lists it.
pub fn generate_text() -> Result<(Zeroizing<String>, String)> {
    let key = new_key()?;
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| Error::internal(format!("could not encode the signing key: {e}")))?;
    Ok((text, public_text(key.public_key())))
}

impl SigningKey {
    /// Makes a new ed25519 key and writes it (OpenSSH format, mode 0600); refuses to overwrite.
    pub fn generate(path: &Path) -> Result<Self> {
        let key = new_key()?;
        let text = key
            .to_openssh(LineEnding::LF)
            .map_err(|e| Error::internal(format!("could not encode the signing key: {e}")))?;
        if let Some(dir) = path.parent() {
            crate::private_files::create_private_dir(dir)?;
        }
        let mut file = crate::private_files::open_private_new(path)?;
        std::io::Write::write_all(&mut file, text.as_bytes())
            .map_err(|e| Error::io("write the signing key", path, e))?;
        Ok(SigningKey {
            key,
            path: path.to_path_buf(),
        })
    }

    /// Loads the key at `path`, refusing a file others can read.
    pub fn load(path: &Path) -> Result<Self> {
        crate::private_files::check_private_file(path).map_err(|_| {
            Error::crypto(format!(
                "there is no signing key at {} (or others can read it); run `authsome init` to make one, or set AUTHSOME_SIGNING_KEY",
                path.display()
            ))
        })?;
        let key = PrivateKey::read_openssh_file(path).map_err(|e| {
            Error::crypto(format!(
                "{} is not an unencrypted OpenSSH ed25519 key ({e}); point AUTHSOME_SIGNING_KEY at one",
                path.display()
            ))
        })?;
        if key.algorithm() != ssh_key::Algorithm::Ed25519 {
            return Err(Error::crypto(format!(
                "{} is not an ed25519 key; authsome signs with ssh-ed25519",
                path.display()
            )));
        }
        Ok(SigningKey {
            key,
            path: path.to_path_buf(),
        })
    }

    /// The public key as a principal lists it: `ssh-ed25519 AAAA...` (no comment).
    pub fn public(&self) -> String {
        public_text(self.key.public_key())
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Signs `msg` in `namespace`, as a PEM-armored SSHSIG (what `ssh-keygen -Y sign` writes).
    pub fn sign(&self, namespace: &str, msg: &[u8]) -> Result<String> {
        self.key
            .sign(namespace, HashAlg::Sha512, msg)
            .and_then(|sig| sig.to_pem(LineEnding::LF))
            .map_err(|e| Error::internal(format!("could not sign: {e}")))
    }
}

/// `ssh-ed25519 AAAA...` without the comment.
fn public_text(key: &PublicKey) -> String {
    let mut key = key.clone();
    key.set_comment("");
    key.to_openssh()
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// Checks a PEM-armored SSHSIG over `msg` in `namespace` by the key `signer` (`ssh-ed25519 ...`).
pub fn verify(signer: &str, namespace: &str, msg: &[u8], signature_pem: &str) -> bool {
    let Ok(key) = PublicKey::from_openssh(signer.trim()) else {
        return false;
    };
    let Ok(sig) = SshSig::from_pem(signature_pem) else {
        return false;
    };
    key.verify(namespace, msg, &sig).is_ok()
}

/// Checks a signer's text: an ssh-ed25519 public key.
pub fn parse_signer(text: &str) -> Result<String> {
    let key = PublicKey::from_openssh(text.trim()).map_err(|_| {
        Error::usage(format!(
            "{:?} is not an SSH public key; a signer is `ssh-ed25519 AAAA...`",
            text.chars().take(24).collect::<String>()
        ))
    })?;
    if key.algorithm() != ssh_key::Algorithm::Ed25519 {
        return Err(Error::usage(
            "a signer must be an ssh-ed25519 key (authsome signs with ed25519)",
        ));
    }
    Ok(public_text(&key))
}
