//! Identities, recipients and the secret envelope.

pub mod envelope;
mod error;
pub mod identity;
pub mod join;
pub mod recipients;
pub mod signing;

pub use error::Error;
