//! Which provider a request belongs to: the routing table built from the providers that have a
//! connection, and the rules that pick one route when several match.

use std::borrow::Cow;

use crate::http_path::{is_normal, normalize};
use crate::model::provider::ProviderDef;

/// A host pattern from a provider definition.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    /// `api.openai.com`
    Exact(String),
    /// `*.googleapis.com`: exactly one more label in front of the suffix.
    OneLabel(String),
}

impl HostPattern {
    fn parse(pattern: &str) -> Self {
        let pattern = pattern.to_ascii_lowercase();
        match pattern.strip_prefix("*.") {
            Some(suffix) => HostPattern::OneLabel(suffix.to_owned()),
            None => HostPattern::Exact(pattern),
        }
    }

    fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(h) => h == host,
            HostPattern::OneLabel(suffix) => host
                .strip_suffix(suffix.as_str())
                .and_then(|front| front.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty() && !label.contains('.')),
        }
    }
}

/// One host rule of one provider.
#[derive(Debug, Clone)]
struct Route {
    provider: String,
    host: HostPattern,
    port: u16,
    path_prefix: Option<String>,
}

/// The routes of every provider that has a connection, plus the OAuth endpoints that must never
/// carry an injected credential.
#[derive(Debug, Default, Clone)]
pub struct Table {
    routes: Vec<Route>,
    /// (host, path) of token, authorization, revocation, device and registration endpoints.
    oauth_endpoints: Vec<(String, String)>,
}

impl Table {
    /// Adds a provider's host rules and OAuth endpoints.
    pub fn add(&mut self, def: &ProviderDef, base_url: Option<&str>) {
        for rule in &def.hosts {
            self.routes.push(Route {
                provider: def.name.clone(),
                host: HostPattern::parse(&rule.host),
                port: rule.port.unwrap_or(443),
                path_prefix: rule
                    .path_prefix
                    .as_deref()
                    .map(normalize)
                    .filter(|p| p != "/"),
            });
        }
        if let Some(spec) = &def.oauth2 {
            let endpoints = [
                Some(&spec.authorization_url),
                Some(&spec.token_url),
                spec.revocation_url.as_ref(),
                spec.device_authorization_url.as_ref(),
                spec.registration_url.as_ref(),
            ];
            let base_url = base_url.or(spec.base_url.as_deref());
            for e in endpoints.into_iter().flatten() {
                let e = match base_url {
                    Some(base) => e.replace("{base_url}", base.trim_end_matches('/')),
                    None => e.clone(),
                };
                if let Ok(u) = url::Url::parse(&e)
                    && let Some(h) = u.host_str()
                {
                    self.oauth_endpoints
                        .push((h.to_ascii_lowercase(), normalize(u.path())));
                }
            }
        }
    }

    /// Whether any route covers `host:port`: such hosts are intercepted, all others tunnelled.
    pub fn covers(&self, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        self.routes.iter().any(|r| r.applies(&host, port))
    }

    /// The provider a request to `host:port` + `path` goes to, if any. An exact host beats a
    /// pattern, a longer path prefix beats a shorter one, and the provider name breaks what is
    /// left of a tie. Paths are compared normalized (`//`, `.`, `..`, escaped letters), as a
    /// server would read them.
    pub fn route(&self, host: &str, port: u16, path: &str) -> Option<&str> {
        let host: Cow<'_, str> = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            host.to_ascii_lowercase().into()
        } else {
            host.into()
        };
        let path = path.split(['?', '#']).next().unwrap_or("/");
        // Most paths are already in normal form: they are compared as they are.
        let path: Cow<'_, str> = if is_normal(path) {
            path.into()
        } else {
            normalize(path).into()
        };
        if self
            .oauth_endpoints
            .iter()
            .any(|(h, p)| *h == host && p.trim_end_matches('/') == path.trim_end_matches('/'))
        {
            return None;
        }
        self.routes
            .iter()
            .filter(|r| r.applies(&host, port) && r.covers_path(&path))
            .max_by(|a, b| {
                a.rank()
                    .cmp(&b.rank())
                    // Reversed, so that the alphabetically first provider wins a tie.
                    .then_with(|| b.provider.cmp(&a.provider))
            })
            .map(|r| r.provider.as_str())
    }

    /// The providers in the table.
    pub fn providers(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().map(|r| r.provider.as_str())
    }
}

impl Route {
    fn applies(&self, host: &str, port: u16) -> bool {
        self.port == port && self.host.matches(host)
    }

    /// A prefix covers a path at a segment boundary: `/v1` covers `/v1` and `/v1/x`, not `/v10`.
    fn covers_path(&self, path: &str) -> bool {
        match &self.path_prefix {
            None => true,
            Some(prefix) => {
                let prefix = prefix.trim_end_matches('/');
                path.strip_prefix(prefix)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            }
        }
    }

    fn rank(&self) -> (bool, usize) {
        (
            matches!(self.host, HostPattern::Exact(_)),
            self.path_prefix.as_ref().map_or(0, String::len),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(name: &str, hosts: &[(&str, Option<&str>)]) -> ProviderDef {
        let yaml = format!(
            "schema_version: 1\nname: {name}\ndisplay_name: {name}\nauth_type: api_key\nflow: api_key\napi_key:\n  header_name: X-Key\nhosts:\n{}",
            hosts
                .iter()
                .map(|(h, p)| match p {
                    Some(p) => format!("  - host: '{h}'\n    path_prefix: '{p}'\n"),
                    None => format!("  - host: '{h}'\n"),
                })
                .collect::<String>()
        );
        crate::providers::parse("test", yaml.as_bytes(), None).unwrap()
    }

    #[test]
    fn exact_beats_pattern_and_longest_prefix_wins() {
        let mut t = Table::default();
        t.add(&def("wide", &[("*.example.com", None)]), None);
        t.add(&def("api", &[("api.example.com", None)]), None);
        t.add(&def("admin", &[("api.example.com", Some("/admin"))]), None);
        assert_eq!(t.route("api.example.com", 443, "/v1/x"), Some("api"));
        assert_eq!(
            t.route("API.example.com", 443, "/admin/users"),
            Some("admin")
        );
        assert_eq!(
            t.route("api.example.com", 443, "/administrator"),
            Some("api")
        );
        assert_eq!(t.route("www.example.com", 443, "/"), Some("wide"));
        assert_eq!(t.route("a.b.example.com", 443, "/"), None);
        assert_eq!(t.route("example.com", 443, "/"), None);
        assert!(t.covers("www.example.com", 443));
        assert!(
            !t.covers("www.example.com", 8443),
            "credentials go to the API's port only"
        );
        assert!(!t.covers("example.org", 443));
    }

    #[test]
    fn ties_break_by_name() {
        let mut t = Table::default();
        t.add(
            &def("klaviyo-oauth", &[("a.klaviyo.com", Some("/api"))]),
            None,
        );
        t.add(&def("klaviyo", &[("a.klaviyo.com", Some("/api"))]), None);
        assert_eq!(t.route("a.klaviyo.com", 443, "/api/lists"), Some("klaviyo"));
    }

    #[test]
    fn oauth_endpoints_are_never_routed() {
        let yaml = "schema_version: 1\nname: gh\ndisplay_name: gh\nauth_type: oauth2\nflow: pkce\nhosts:\n  - host: github.com\noauth2:\n  authorization_url: https://github.com/login/oauth/authorize\n  token_url: https://github.com/login/oauth/access_token\n";
        let mut t = Table::default();
        t.add(
            &crate::providers::parse("t", yaml.as_bytes(), None).unwrap(),
            None,
        );
        assert_eq!(
            t.route("github.com", 443, "/login/oauth/access_token"),
            None
        );
        assert_eq!(
            t.route("github.com", 443, "/login/oauth/access_token?x=1"),
            None
        );
        assert_eq!(
            t.route("github.com", 443, "/user/repo.git/info/refs"),
            Some("gh")
        );
        for tricky in [
            "//login/oauth/access_token",
            "/login/oauth/./access_token",
            "/login/x/../oauth/access_token",
            "/login/oauth/%61ccess_token",
        ] {
            assert_eq!(t.route("github.com", 443, tricky), None, "{tricky}");
        }
    }
}
