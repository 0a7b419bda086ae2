//! What the caller decides about trust checks: which owner keys a first use trusts, and how far
//! a read may go past what this machine verified.

use std::str::FromStr;

use crate::error::{Error, Result};

/// Owner keys a first use of a store trusts, given over another channel
/// (`SHA256:...[,SHA256:...][,min-seq=N]`): verification starts at the newest store seal one of
/// them signed, at or above `min_seq` (which CI sets from a protected setting, so a remote rolled
/// back below it is refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustRoot {
    /// `SHA256:...` fingerprints of owner signing keys.
    pub keys: Vec<String>,
    /// The lowest store seal `seq` to start from.
    pub min_seq: u64,
}

impl FromStr for TrustRoot {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let mut root = TrustRoot {
            keys: Vec::new(),
            min_seq: 0,
        };
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if let Some(n) = part.strip_prefix("min-seq=") {
                root.min_seq = n.parse().map_err(|_| {
                    Error::usage(format!("the trust root's min-seq {n:?} is not a number"))
                })?;
            } else if part.starts_with("SHA256:") && part.len() > "SHA256:".len() {
                root.keys.push(part.to_owned());
            } else {
                return Err(Error::usage(format!(
                    "the trust root names {part:?}; give owner key fingerprints as `ssh-keygen -l` prints them: SHA256:...[,SHA256:...][,min-seq=N]"
                )));
            }
        }
        if root.keys.is_empty() {
            return Err(Error::usage(
                "the trust root names no key; give at least one SHA256:... fingerprint of an owner's signing key",
            ));
        }
        Ok(root)
    }
}

/// The caller's choices about trust checks.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The owner keys a first use trusts (`--trust-root`, `AUTHSOME_TRUST_ROOT`).
    pub root: Option<TrustRoot>,
    /// Reads may use a state older than this machine verified, with a warning
    /// (`--allow-rollback`); writes never do.
    pub allow_rollback: bool,
    /// Commands that reveal no secret (`list`, `inspect`) may show a state that does not verify,
    /// with a warning (`--allow-unverified`, `AUTHSOME_TRUST=warn`). The gate itself never
    /// looks at it: commands that reveal or use secrets never take that path.
    pub allow_unverified: bool,
}

impl Settings {
    /// The same settings without any leniency, for writes and `verify`.
    pub fn strict(&self) -> Self {
        Settings {
            root: self.root.clone(),
            allow_rollback: false,
            allow_unverified: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trust_root_reads_keys_and_a_min_seq() {
        let root: TrustRoot = "SHA256:abc, SHA256:def,min-seq=15".parse().unwrap();
        assert_eq!(root.keys, ["SHA256:abc", "SHA256:def"]);
        assert_eq!(root.min_seq, 15);
        assert!("min-seq=3".parse::<TrustRoot>().is_err());
        assert!("SHA256:abc,min-seq=x".parse::<TrustRoot>().is_err());
        assert!("md5:ab".parse::<TrustRoot>().is_err());
    }
}
