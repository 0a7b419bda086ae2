//! The integration tests: one binary (linked once), one module per area, shared helpers in
//! `common`. Every test drives the built `authsome` binary against real tools (git, age,
//! ssh-keygen, curl, Python, Chromium) and real local servers.

#![allow(dead_code)]

mod architecture;
mod bad_input;
mod browser;
mod cli;
mod common;
mod crash;
mod disk;
mod form;
mod history;
mod interop;
mod json;
mod login_ux;
mod mcp;
mod oauth;
mod policy;
mod project;
mod proxy;
mod review;
mod schema;
mod teams;
mod trust;
mod walkthrough;
