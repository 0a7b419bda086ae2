//! A running proxy's shared state: what every connection task reads (the resolver, the CA, the
//! upstream TLS settings, the password, the placeholders, the audit log), and the refusals and
//! answers every path gives alike.

use std::sync::Arc;

use hyper::header::HeaderMap;

use super::audit::{self, Action, Entry};
use super::credentials::Resolver;
use super::{ca, http, upstream};

/// A running proxy's shared state.
pub struct Proxy {
    pub(super) resolver: Resolver,
    pub(super) ca: ca::LocalCa,
    /// Connections to intercepted hosts: one pool per worker thread, so a request and the
    /// upstream connection it goes out on are served by the same thread.
    pub(super) pools: Vec<super::pool::Pool>,
    /// The HTTP proxy authsome was started behind for HTTPS, if any.
    pub(super) via: Option<upstream::Via>,
    /// The HTTP proxy authsome was started behind for plain HTTP, if any.
    pub(super) via_http: Option<upstream::Via>,
    /// The `Proxy-Authorization` value a client must send.
    pub(super) password_header: String,
    /// (provider, placeholder) for every provider the child got variables for.
    pub(super) placeholders: Vec<(String, String)>,
    /// A searcher for each placeholder, in the same order (built once, used on every request).
    pub(super) finders: Vec<memchr::memmem::Finder<'static>>,
    pub(super) audit: Option<Arc<audit::Log>>,
    /// The connections that have not shown the password yet.
    pub(super) unauthenticated: Arc<super::limits::Unauthenticated>,
    /// The policy and the run's limits.
    pub(super) guard: super::guard::Guard,
}

impl Proxy {
    /// The pool of upstream connections of the calling worker thread.
    pub(super) fn pool(&self) -> &super::pool::Pool {
        &self.pools[super::workers::index().min(self.pools.len() - 1)]
    }

    pub(super) fn authorized(&self, headers: &HeaderMap) -> bool {
        headers
            .get(hyper::header::PROXY_AUTHORIZATION)
            .is_some_and(|v| constant_time_eq(v.as_bytes(), self.password_header.as_bytes()))
    }

    /// Answers with a refusal, and logs it (unless it is the password challenge).
    pub(super) fn refuse(
        &self,
        mut entry: Entry,
        status: hyper::StatusCode,
        message: &str,
    ) -> hyper::Response<http::Body> {
        if entry.action != Action::Challenged {
            entry.action = Action::Refused;
        }
        self.answer(entry, status, message)
    }

    /// Refuses TRACE and TRACK, which echo request headers (and so a credential) back.
    pub(super) fn refuse_trace(&self, entry: Entry) -> hyper::Response<http::Body> {
        self.refuse(
            entry,
            hyper::StatusCode::METHOD_NOT_ALLOWED,
            "authsome refuses TRACE and TRACK, which echo request headers (and so the credential) back",
        )
    }

    /// Refuses a request that carries `provider`'s placeholder to a host it does not serve.
    pub(super) fn refuse_placeholder(
        &self,
        mut entry: Entry,
        provider: &str,
        authority: &str,
    ) -> hyper::Response<http::Body> {
        entry.provider = Some(provider.to_owned());
        self.refuse(
            entry,
            hyper::StatusCode::FORBIDDEN,
            &format!(
                "the request carries authsome's placeholder for {provider}, which does not serve {authority}; authsome blocked it"
            ),
        )
    }

    /// Answers with a message from the proxy, and logs `entry` with it.
    pub(super) fn answer(
        &self,
        mut entry: Entry,
        status: hyper::StatusCode,
        message: &str,
    ) -> hyper::Response<http::Body> {
        entry.status = status.as_u16();
        entry.reason = Some(message.to_owned());
        if entry.action != Action::Challenged {
            self.record(entry);
        }
        http::text(status, message)
    }

    pub(super) fn record(&self, entry: Entry) {
        if let Some(log) = &self.audit {
            log.record(entry);
        }
    }

    /// The provider of a placeholder that a request carries (in a header, the path or the
    /// query) although it does not go to that provider.
    pub(super) fn foreign_placeholder(
        &self,
        headers: &HeaderMap,
        path_and_query: &str,
        route: Option<&str>,
    ) -> Option<&str> {
        // Percent-encoded in the path or query (`%61uthsome-...`) is the same placeholder.
        let decoded: std::borrow::Cow<'_, [u8]> = if path_and_query.contains('%') {
            percent_encoding::percent_decode_str(path_and_query)
                .collect::<Vec<u8>>()
                .into()
        } else {
            path_and_query.as_bytes().into()
        };
        self.placeholders
            .iter()
            .zip(&self.finders)
            .filter(|((provider, _), _)| Some(provider.as_str()) != route)
            .find(|(_, needle)| {
                needle.find(path_and_query.as_bytes()).is_some()
                    || needle.find(&decoded).is_some()
                    || headers
                        .values()
                        .any(|v| needle.find(v.as_bytes()).is_some())
            })
            .map(|((provider, _), _)| provider.as_str())
    }

    /// The placeholder that stands for `provider`'s credential.
    pub(super) fn placeholder_of(&self, provider: &str) -> std::borrow::Cow<'_, str> {
        match self.placeholders.iter().find(|(p, _)| p == provider) {
            Some((_, ph)) => ph.as_str().into(),
            // A provider logged in after the run started has no variable, hence no placeholder.
            None => format!("authsome-placeholder-{provider}").into(),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
