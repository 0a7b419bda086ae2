//! Names of providers, connections, vaults and principals.
//!
//! Every name becomes a directory or file name in the store, so the rules are strict: lowercase
//! ASCII letters, digits, `-` and `_`, starting with a letter or digit, at most 64 characters.
//! That rules out path separators, `..`, hidden files, case collisions on case-insensitive file
//! systems and clashes with the store's own file names (which all contain a dot).

use crate::error::{Error, Result};

/// Names no provider, connection or vault may take: the store keeps files by them (seals and
/// request policies, with the trust and agents issues).
pub const RESERVED: [&str; 2] = ["seal", "policy"];

/// The longest name accepted.
pub const MAX_NAME_LEN: usize = 64;

/// The connection used when none is named.
pub const DEFAULT_CONNECTION: &str = "default";

/// The vault used when none is named.
pub const DEFAULT_VAULT: &str = "default";

/// Checks that `name` is a valid name; `what` says what kind of name it is ("connection").
pub fn validate(what: &str, name: &str) -> Result<()> {
    let problem = if name.is_empty() {
        Some("is empty".to_owned())
    } else if name.len() > MAX_NAME_LEN {
        Some(format!("is longer than {MAX_NAME_LEN} characters"))
    } else if name.chars().any(|c| c.is_control()) {
        Some("contains a control character".to_owned())
    } else if name.starts_with('-') || name.starts_with('_') || name.starts_with('.') {
        Some("must start with a letter or digit".to_owned())
    } else {
        name.chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
            .map(|c| format!("contains {c:?}"))
    };
    let problem = problem.or_else(|| {
        (what != "principal" && RESERVED.contains(&name))
            .then(|| "is reserved for authsome's own files".to_owned())
    });
    match problem {
        None => Ok(()),
        Some(problem) => Err(Error::usage(format!(
            "the {what} name {} {problem}; use 1 to {MAX_NAME_LEN} lowercase letters, digits, '-' or '_', starting with a letter or digit",
            shown(name)
        ))),
    }
}

/// Declares a validated name type: it can only be made through [`std::str::FromStr`] (or
/// deserialization), which applies [`validate`], so an unchecked name cannot reach the store.
macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::error::Error;
            fn from_str(s: &str) -> Result<Self> {
                validate($what, s)?;
                Ok($name(s.to_owned()))
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        // Shown as the name in quotes, as a `&str` would be: messages use `{:?}` for names.
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "pattern": format!("^[a-z0-9][a-z0-9_-]{{0,{}}}$", MAX_NAME_LEN - 1),
                    "description": concat!("A ", $what, " name: lowercase letters, digits, '-' and '_'."),
                })
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(|e: Error| serde::de::Error::custom(e.message()))
            }
        }
    };
}

name_type!(
    /// The name of a provider (`openai`, `github`).
    ProviderName,
    "provider"
);
name_type!(
    /// The name of a connection of a provider (`default`, `work`).
    ConnectionName,
    "connection"
);
name_type!(
    /// The name of a vault (`default`, `prod`).
    VaultName,
    "vault"
);

impl ConnectionName {
    /// The connection used when none is named.
    pub fn default_name() -> Self {
        ConnectionName(DEFAULT_CONNECTION.to_owned())
    }
}

impl VaultName {
    /// The vault used when none is named.
    pub fn default_name() -> Self {
        VaultName(DEFAULT_VAULT.to_owned())
    }
}

/// A name quoted for a message, with control characters escaped and long names cut.
fn shown(name: &str) -> String {
    let cut: String = name.chars().take(80).collect();
    format!("{:?}", cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for n in ["default", "work", "a", "my-team_2", "0day", &"x".repeat(64)] {
            validate("connection", n).unwrap();
            assert_eq!(n.parse::<ConnectionName>().unwrap().as_str(), n);
        }
    }

    #[test]
    fn refuses_names_that_escape_or_collide() {
        for n in [
            "",
            "../x",
            "a/b",
            ".hidden",
            "x".repeat(65).as_str(),
            "a\nb",
            "a\u{7}",
            "Work",
            "-x",
            "a.yaml",
            "a b",
            "..",
        ] {
            let err = validate("connection", n).unwrap_err();
            assert_eq!(err.kind(), crate::error::ErrorKind::Usage, "{n:?}");
            assert!(n.parse::<VaultName>().is_err(), "{n:?}");
            let yaml = format!("{n:?}");
            assert!(
                serde_saphyr::from_str::<ProviderName>(&yaml).is_err(),
                "{n:?}"
            );
        }
    }
}
