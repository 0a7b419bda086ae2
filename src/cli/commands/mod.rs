//! One file per command, named as the command: its clap arguments and its `exec`, which calls
//! one operation (or reads committed state) and prints the result as text or JSON.

pub mod agent;
pub mod audit;
pub mod default;
pub mod diff;
pub mod doctor;
pub mod export;
pub mod get;
pub mod git_setup;
pub mod grant;
pub mod init;
pub mod inspect;
pub mod join_request;
pub mod list;
pub mod log;
pub mod login;
pub mod logout;
pub mod principal;
pub mod provider;
pub mod rekey;
pub mod restore;
pub mod revoke;
pub mod revoke_access;
pub mod rotation;
pub mod run;
pub mod seal;
pub mod shell;
pub mod show;
pub mod status;
pub mod sync;
pub mod textconv;
pub mod trust;
pub mod upgrade;
pub mod vault;
pub mod verify;
pub mod whoami;
