//! Identities, recipients and the secret envelope.

pub mod envelope;
pub mod identity;
pub mod recipients;
