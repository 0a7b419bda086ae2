//! The data the store holds: provider definitions, state files and names.

pub mod names;
pub mod policy;
pub mod project;
pub mod provider;
pub mod report;
pub mod secret;
pub mod state;
pub mod time;
pub mod yaml;
