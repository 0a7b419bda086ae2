//! Operations: one file per state change, each one transaction that makes one commit and
//! returns a typed report (`#[derive(Serialize)]`) that a front end prints as text or JSON.
//!
//! An operation takes the resolved [`Context`](crate::context::Context), its own request, and
//! (when it may need the user) a [`Ui`](crate::ui::Ui). It never prints and never names the
//! command line.

pub mod default;
pub mod export;
pub mod git_setup;
pub mod init;
pub mod login;
pub mod logout;
pub mod provider;
pub mod refresh;
pub mod restore;
pub mod revoke;
pub mod sync;

#[cfg(test)]
mod tests;
