//! Identities, recipients and the secret envelope.

pub mod envelope;
mod error;
pub mod identity;
pub mod recipients;

pub use error::Error;
