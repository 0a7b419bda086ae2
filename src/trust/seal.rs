//! Seals: signed statements, one per scope, kept in the tree beside what they cover.
//!
//! ```text
//! authsome-seal: 1
//! store: 6b6e309dae75e8c748d9c1662a061ffe
//! scope: vaults/prod
//! seq: 14
//! tree: 9d1c5b0e...       the scope's git tree id without its `seal` entry (store: also without `vaults`)
//! prev: sha256:41aa...    digest of the previous statement of this scope (`none` for seq 1)
//! vaults: default prod    (store scope only)
//! signer: alice
//! date: 2026-12-02T10:00:00Z   (informational; never used to decide anything)
//! -----BEGIN SSH SIGNATURE-----
//! ...                     SSHSIG over the statement above, namespace authsome-seal (one a signer)
//! -----END SSH SIGNATURE-----
//! ```
//!
//! Stock tools check one: split at the first `-----BEGIN SSH SIGNATURE-----` line and run
//! `ssh-keygen -Y verify -n authsome-seal -f <(authsome trust allowed-signers) -I alice -s sig < msg`;
//! recompute the tree with `git ls-tree HEAD:vaults/prod | grep -v '\tseal$' | git mktree`.

use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};
use crate::layout;
use crate::model::time::Stamp;
use crate::store::Snapshot;

/// The namespace seal signatures are made in, so no other SSH signature passes for one.
pub const NAMESPACE: &str = "authsome-seal";

const HEADER: &str = "authsome-seal: 1";
const BEGIN: &str = "-----BEGIN SSH SIGNATURE-----";
const END: &str = "-----END SSH SIGNATURE-----";

/// What a seal covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// `store.yaml`, `principals/`, `providers/`, `.gitattributes` and the list of vaults.
    Store,
    /// Everything under `vaults/<name>/` but its seal.
    Vault(String),
}

impl Scope {
    /// The name seals and messages use: `store` or `vaults/<name>`.
    pub fn name(&self) -> String {
        match self {
            Scope::Store => "store".to_owned(),
            Scope::Vault(v) => layout::vault(v),
        }
    }

    /// Reads `store` or `vaults/<name>`.
    pub fn parse(text: &str) -> Result<Self> {
        if text == "store" {
            return Ok(Scope::Store);
        }
        let name = text.strip_prefix("vaults/").ok_or_else(|| {
            Error::usage(format!("{text:?} is not a scope; use store or vaults/NAME"))
        })?;
        crate::model::names::validate("vault", name)?;
        Ok(Scope::Vault(name.to_owned()))
    }

    /// The seal file.
    pub fn seal_path(&self) -> String {
        match self {
            Scope::Store => layout::store_seal(),
            Scope::Vault(v) => layout::vault_seal(v),
        }
    }

    /// The tree id the scope's seal must name, as of `snap`.
    pub fn tree(&self, snap: &Snapshot<'_>) -> Result<Option<String>> {
        let id = match self {
            Scope::Store => snap.tree_id_without("", &[layout::SEAL, layout::VAULTS])?,
            Scope::Vault(v) => snap.tree_id_without(&layout::vault(v), &[layout::SEAL])?,
        };
        Ok(id.map(|i| i.to_string()))
    }
}

/// The signed part of a seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The store id.
    pub store: String,
    /// What it covers.
    pub scope: Scope,
    /// Rises by one with every seal of the scope.
    pub seq: u64,
    /// The covered tree's id.
    pub tree: String,
    /// The digest of the previous statement of the scope.
    pub prev: Option<String>,
    /// The store's vaults (store scope only).
    pub vaults: Option<Vec<String>>,
    /// The principal who sealed it.
    pub signer: String,
    /// When (informational).
    pub date: Stamp,
}

impl Statement {
    /// The statement as signed.
    pub fn render(&self) -> String {
        let mut s = format!(
            "{HEADER}\nstore: {}\nscope: {}\nseq: {}\ntree: {}\nprev: {}\n",
            self.store,
            self.scope.name(),
            self.seq,
            self.tree,
            self.prev.as_deref().unwrap_or("none")
        );
        if let Some(v) = &self.vaults {
            s.push_str(&format!("vaults: {}\n", v.join(" ")));
        }
        s.push_str(&format!("signer: {}\ndate: {}\n", self.signer, self.date));
        s
    }

    /// `sha256:<hex>` of the rendered statement: what the next seal's `prev` names.
    pub fn digest(&self) -> String {
        digest(&self.render())
    }
}

/// `sha256:<hex>` of a statement's text.
fn digest(text: &str) -> String {
    let hash = Sha256::digest(text.as_bytes());
    format!(
        "sha256:{}",
        hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// A seal as committed: its statement (and the exact text signed) and its signatures.
#[derive(Debug, Clone)]
pub struct Seal {
    /// The statement.
    pub statement: Statement,
    /// The statement's text, exactly as signed.
    pub text: String,
    /// PEM-armored SSHSIG blocks over `text`.
    pub signatures: Vec<String>,
}

impl Seal {
    /// The file's content.
    pub fn render(&self) -> String {
        let mut s = self.text.clone();
        for sig in &self.signatures {
            s.push_str(sig.trim_end());
            s.push('\n');
        }
        s
    }

    /// Reads a seal file; `path` names it in messages.
    pub fn parse(path: &str, bytes: &[u8]) -> Result<Self> {
        let bad = |why: &str| {
            Error::new(
                ErrorKind::Trust,
                format!("{path} is not a well-formed seal ({why})"),
            )
        };
        let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8"))?;
        let split = text.find(BEGIN).ok_or_else(|| bad("it has no signature"))?;
        let (statement_text, sigs) = text.split_at(split);
        let mut signatures = Vec::new();
        let mut rest = sigs;
        while let Some(start) = rest.find(BEGIN) {
            let end = rest[start..]
                .find(END)
                .map(|e| start + e + END.len())
                .ok_or_else(|| bad("a signature is not closed"))?;
            signatures.push(format!("{}\n", &rest[start..end]));
            rest = &rest[end..];
        }
        let mut fields = std::collections::BTreeMap::new();
        let mut lines = statement_text.lines();
        if lines.next() != Some(HEADER) {
            return Err(bad("it does not start with authsome-seal: 1"));
        }
        for line in lines {
            let (k, v) = line
                .split_once(": ")
                .ok_or_else(|| bad("a line is not `key: value`"))?;
            if fields.insert(k, v).is_some() {
                return Err(bad("a field appears twice"));
            }
        }
        let get = |k: &str| {
            fields
                .get(k)
                .copied()
                .ok_or_else(|| bad(&format!("it has no {k}")))
        };
        let statement = Statement {
            store: get("store")?.to_owned(),
            scope: Scope::parse(get("scope")?).map_err(|_| bad("its scope is unknown"))?,
            seq: get("seq")?
                .parse()
                .map_err(|_| bad("its seq is not a number"))?,
            tree: get("tree")?.to_owned(),
            prev: match get("prev")? {
                "none" => None,
                d => Some(d.to_owned()),
            },
            vaults: fields
                .get("vaults")
                .map(|v| v.split_whitespace().map(str::to_owned).collect()),
            signer: get("signer")?.to_owned(),
            date: get("date")?
                .parse()
                .map_err(|_| bad("its date is not a time"))?,
        };
        // Only a statement that renders back to the very text signed is accepted, so no field
        // can be smuggled past the parser.
        if statement.render() != statement_text {
            return Err(bad("it is not in the canonical form"));
        }
        Ok(Seal {
            statement,
            text: statement_text.to_owned(),
            signatures,
        })
    }

    /// The principals among `candidates` (name, signer keys) that signed this seal.
    pub fn signed_by<'a>(&self, candidates: &'a [(String, Vec<String>)]) -> Vec<&'a str> {
        let mut who = Vec::new();
        for (name, keys) in candidates {
            let signed = self.signatures.iter().any(|sig| {
                keys.iter().any(|k| {
                    crate::crypto::signing::verify(k, NAMESPACE, self.text.as_bytes(), sig)
                })
            });
            if signed {
                who.push(name.as_str());
            }
        }
        who
    }
}
