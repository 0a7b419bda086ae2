//! Operations: one file per state change, each one transaction that makes one commit and
//! returns a typed report (`#[derive(Serialize)]`) that a front end prints as text or JSON.
//!
//! An operation takes the resolved [`Context`](crate::context::Context), its own request, and
//! (when it may need the user) a [`Ui`](crate::ui::Ui). It never prints and never names the
//! command line.

pub mod access;
pub mod agent;
pub mod config;
pub mod default;
pub mod export;
pub mod git_setup;
pub mod grant;
pub mod init;
pub mod login;
pub mod logout;
pub mod policy;
pub mod principal;
pub mod provider;
pub mod refresh;
pub mod rekey;
pub mod restore;
pub mod revoke;
pub mod rotation;
pub mod seal;
pub mod sync;
pub mod upgrade;
pub mod vault;

#[cfg(test)]
mod tests;
