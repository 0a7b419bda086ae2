//! Join requests: a one-line token a newcomer hands to an owner, carrying their age recipient and
//! ssh-ed25519 signer for one store, signed by that signer (SSHSIG, namespace `authsome-join`) to
//! prove they hold its private key:
//!
//! ```text
//! authsome-join:1:<store id>:<name>:<age recipient>:<ssh signer>:<base64 of the SSHSIG PEM>
//! ```

use base64::Engine;

use super::signing::{self, SigningKey};
use crate::error::{Error, Result};

/// The namespace join signatures are made in, so no other signature can pass for one.
pub const NAMESPACE: &str = "authsome-join";
const PREFIX: &str = "authsome-join:1:";

/// What a verified join request says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The store it is for.
    pub store_id: String,
    /// The name the newcomer proposes.
    pub name: String,
    /// Their age recipient.
    pub recipient: String,
    /// Their ssh-ed25519 signer.
    pub signer: String,
}

/// Makes the token for `request`, signed with `key` (whose public key must be its signer).
pub fn create(request: &Request, key: &SigningKey) -> Result<String> {
    let body = format!(
        "{PREFIX}{}:{}:{}:{}",
        request.store_id, request.name, request.recipient, request.signer
    );
    let sig = key.sign(NAMESPACE, body.as_bytes())?;
    Ok(format!(
        "{body}:{}",
        base64::engine::general_purpose::STANDARD.encode(sig)
    ))
}

/// Reads a token and checks its signature; any change to it fails the check.
pub fn verify(token: &str) -> Result<Request> {
    let bad = |why: &str| {
        Error::usage(format!(
            "that join request is not valid ({why}); ask for a new one with `authsome join-request`"
        ))
    };
    let token = token.trim();
    let rest = token
        .strip_prefix(PREFIX)
        .ok_or_else(|| bad("it does not start with authsome-join:1:"))?;
    let (body, sig) = token
        .rsplit_once(':')
        .ok_or_else(|| bad("it has no signature"))?;
    let fields: Vec<&str> = rest
        .rsplit_once(':')
        .map(|(f, _)| f)
        .unwrap_or("")
        .split(':')
        .collect();
    let [store_id, name, recipient, signer] = fields[..] else {
        return Err(bad("it does not have the six fields"));
    };
    let pem = base64::engine::general_purpose::STANDARD
        .decode(sig)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| bad("its signature is not readable"))?;
    if !signing::verify(signer, NAMESPACE, body.as_bytes(), &pem) {
        return Err(bad(
            "its signature does not match its contents, so it was changed or not made by the key it names",
        ));
    }
    crate::model::names::validate("principal", name)?;
    Ok(Request {
        store_id: store_id.to_owned(),
        name: name.to_owned(),
        recipient: recipient.to_owned(),
        signer: signer.to_owned(),
    })
}
