//! Every JSON shape the command line prints, by the name of its schema under `schema/`.
//!
//! A report type is printed under `--json` only once it is listed here: the list implements
//! [`JsonReport`] for it, and the schema test writes or checks one file per entry.

use crate::model::report::*;
use crate::{ops, proxy, trust};

/// Implements [`JsonReport`] for each type and lists them for [`schemas`].
macro_rules! reports {
    ($($ty:ty => $name:literal,)*) => {
        $(impl JsonReport for $ty { const SCHEMA: &'static str = $name; })*

        /// Every report's schema name and schema.
        pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
            vec![$(($name, schemars::schema_for!($ty)),)*]
        }
    };
}

reports! {
    ErrorReport => "error",
    StatusReport => "status",
    LogReport => "log",
    ShowReport => "show",
    DiffReport => "diff",
    GetReport => "get",
    FieldReport => "get-field",
    ExportReport => "export",
    ListReport => "list",
    InspectReport => "inspect",
    WhoamiReport => "whoami",
    DoctorReport => "doctor",
    PrincipalListReport => "principal-list",
    PrincipalShowReport => "principal-show",
    ProviderListReport => "provider-list",
    ProviderShowReport => "provider-show",
    RotationListReport => "rotation-list",
    VaultListReport => "vault-list",
    VaultShowReport => "vault-show",
    TrustShowReport => "trust-show",
    TrustReport => "trust",
    JoinRequestReport => "join-request",
    LoginPendingReport => "login-pending",
    LoginStatusReport => "login-status",
    trust::VerifyReport => "verify",
    proxy::audit::AuditReport => "audit",
    ops::agent::Report => "agent",
    ops::agent::Created<'_> => "agent-created",
    ops::config::Report => "config",
    ops::default::Report => "default",
    ops::git_setup::Report => "git-setup",
    ops::grant::Report => "grant",
    ops::init::Report => "init",
    ops::login::Report => "login",
    ops::logout::Report => "logout",
    ops::principal::AddReport => "principal-add",
    ops::principal::RemoveReport => "principal-remove",
    ops::principal::RotateReport => "principal-rotate",
    ops::provider::AddReport => "provider-add",
    ops::provider::RemoveReport => "provider-remove",
    ops::refresh::Report => "refresh",
    ops::rekey::Report => "rekey",
    ops::restore::Report => "restore",
    ops::revoke::Report => "revoke",
    ops::rotation::Report => "rotation",
    ops::policy::Report => "policy",
    ops::policy::CheckReport => "policy-check",
    crate::model::policy::PolicyFile => "policy-show",
    ops::seal::Report => "seal",
    ops::seal::CosignReport => "seal-cosign",
    ops::sync::Report => "sync",
    ops::upgrade::Report => "upgrade",
    ops::vault::CreateReport => "vault-create",
    ops::vault::DeleteReport => "vault-delete",
}
