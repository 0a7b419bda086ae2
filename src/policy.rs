//! Request policies: a vault's `policy.yaml` compiled into rules, and the decision for one
//! request (which the proxy enforces and `policy check` prints).
//!
//! A rule binds a request when it names the request's provider, its connection (or no
//! connection) and its principal (or no principal). With no binding rule there is no policy for
//! the request. Otherwise a binding `deny` that matches refuses it (deny wins), and it must
//! match a binding `allow`, or it is refused. Paths are matched after the proxy's own
//! normalisation (unreserved escapes decoded, empty and `.` segments dropped, `..` applied),
//! the one the router uses, so `/repos//acme/./x` and `/repos/%61cme/x` are `/repos/acme/x`.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::model::policy::{PolicyFile, Rule};

/// A vault's policy, compiled.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// The file it came from, named in refusals.
    file: String,
    rules: Vec<Compiled>,
}

#[derive(Debug, Clone)]
struct Compiled {
    provider: String,
    connections: Vec<String>,
    principals: Vec<String>,
    allow: Vec<Pattern>,
    deny: Vec<Pattern>,
    rate: Option<Rate>,
}

/// `METHOD PATH`, compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    /// `None` for `*`.
    method: Option<String>,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`: any number of segments, none included.
    Any,
    /// One segment, `*` standing for any run of characters in it.
    Glob(String),
}

/// At most `count` requests per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// How many.
    pub count: u32,
    /// In how long.
    pub per: Duration,
}

/// One request, as a policy sees it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The provider whose host it goes to.
    pub provider: &'a str,
    /// The connection whose credential it would carry.
    pub connection: &'a str,
    /// The principal the proxy runs as, when the identity is one.
    pub principal: Option<&'a str>,
    /// The method.
    pub method: &'a str,
    /// The path, without its query (normalised here).
    pub path: &'a str,
}

/// What a policy says of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No rule binds the request: the policy says nothing of it.
    Unbound,
    /// A binding `allow` matches (and no binding `deny` does).
    Allowed {
        /// The rule's number, from 1.
        rule: usize,
        /// The pattern that matched.
        pattern: String,
        /// The rule's rate limit.
        rate: Option<Rate>,
    },
    /// Refused.
    Denied {
        /// The deny rule's number (from 1), when a deny matched.
        rule: Option<usize>,
        /// One sentence: what was refused, by which rule of which file.
        message: String,
    },
}

impl Decision {
    /// Whether the request may go.
    pub fn allowed(&self) -> bool {
        !matches!(self, Decision::Denied { .. })
    }
}

impl Policy {
    /// Parses and compiles `bytes`, the content of `file`; an error names the rule and pattern
    /// that does not compile.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Policy> {
        let parsed: PolicyFile = crate::model::yaml::parse(file, bytes)?;
        Policy::compile(file, &parsed)
    }

    /// Compiles a parsed policy file.
    pub fn compile(file: &str, parsed: &PolicyFile) -> Result<Policy> {
        let mut rules = Vec::new();
        for (i, rule) in parsed.rules.iter().enumerate() {
            rules.push(
                compile_rule(rule).map_err(|e| {
                    Error::usage(format!("{file}: rule {}: {}", i + 1, e.message()))
                })?,
            );
        }
        Ok(Policy {
            file: file.to_owned(),
            rules,
        })
    }

    /// Whether the policy has no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// What the policy says of `request`.
    pub fn decide(&self, request: &Request<'_>) -> Decision {
        let binding: Vec<(usize, &Compiled)> = self
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.binds(request))
            .map(|(i, r)| (i + 1, r))
            .collect();
        // Most requests meet no rule: an empty vector has not allocated, and nothing else is.
        if binding.is_empty() {
            return Decision::Unbound;
        }
        let path = crate::http_path::normalize(request.path);
        let method = request.method.to_ascii_uppercase();
        // Only a refusal needs the sentence; an allowed request (the hot path) builds none.
        let what = || {
            format!(
                "{method} {path} with {}/{}",
                request.provider, request.connection
            )
        };
        for (n, rule) in &binding {
            if let Some(p) = rule.deny.iter().find(|p| p.matches(&method, &path)) {
                return Decision::Denied {
                    rule: Some(*n),
                    message: format!(
                        "authsome's policy refused {}: rule {n} of {} denies {}",
                        what(),
                        self.file,
                        p.text
                    ),
                };
            }
        }
        for (n, rule) in &binding {
            if let Some(p) = rule.allow.iter().find(|p| p.matches(&method, &path)) {
                return Decision::Allowed {
                    rule: *n,
                    pattern: p.text.clone(),
                    rate: rule.rate,
                };
            }
        }
        let numbers: Vec<String> = binding.iter().map(|(n, _)| n.to_string()).collect();
        Decision::Denied {
            rule: None,
            message: format!(
                "authsome's policy refused {}: no allow of {} matches it (rule{} {} cover{} it)",
                what(),
                self.file,
                if numbers.len() == 1 { "" } else { "s" },
                numbers.join(", "),
                if numbers.len() == 1 { "s" } else { "" },
            ),
        }
    }

    /// The rules as sentences (`deploy-bot may POST /repos/acme/*/issues on github`), for
    /// reviewing a change to the file as a diff.
    pub fn describe(parsed: &PolicyFile) -> Vec<String> {
        let mut lines = Vec::new();
        for rule in &parsed.rules {
            let who = if rule.principals.is_empty() {
                "everyone".to_owned()
            } else {
                rule.principals.join(", ")
            };
            let on = if rule.connections.is_empty() {
                rule.provider.clone()
            } else {
                format!("{} ({})", rule.provider, rule.connections.join(", "))
            };
            for a in &rule.allow {
                lines.push(format!("{who} may {a} on {on}"));
            }
            for d in &rule.deny {
                lines.push(format!("{who} may never {d} on {on}"));
            }
            if let Some(r) = &rule.rate {
                lines.push(format!("{who} may make at most {r} requests to {on}"));
            }
            if rule.allow.is_empty() {
                lines.push(format!("{who} may make no other request to {on}"));
            }
        }
        lines
    }
}

impl Compiled {
    fn binds(&self, r: &Request<'_>) -> bool {
        self.provider == r.provider
            && (self.connections.is_empty() || self.connections.iter().any(|c| c == r.connection))
            && (self.principals.is_empty()
                || r.principal
                    .is_some_and(|p| self.principals.iter().any(|x| x == p)))
    }
}

fn compile_rule(rule: &Rule) -> Result<Compiled> {
    crate::model::names::validate("provider", &rule.provider)?;
    for c in &rule.connections {
        crate::model::names::validate("connection", c)?;
    }
    Ok(Compiled {
        provider: rule.provider.clone(),
        connections: rule.connections.clone(),
        principals: rule.principals.clone(),
        allow: rule
            .allow
            .iter()
            .map(|p| Pattern::parse(p))
            .collect::<Result<_>>()?,
        deny: rule
            .deny
            .iter()
            .map(|p| Pattern::parse(p))
            .collect::<Result<_>>()?,
        rate: rule.rate.as_deref().map(Rate::parse).transpose()?,
    })
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Pattern {
    /// Parses `METHOD PATH` (`GET /repos/acme/**`, `* /v1/**`).
    pub fn parse(text: &str) -> Result<Pattern> {
        let bad = |why: &str| {
            Error::usage(format!(
                "{text:?} is not a request pattern ({why}); write METHOD PATH, such as \"GET /repos/acme/**\" or \"* /v1/**\""
            ))
        };
        let mut words = text.split_whitespace();
        let (Some(method), Some(path), None) = (words.next(), words.next(), words.next()) else {
            return Err(bad("it needs a method and a path"));
        };
        let method = match method {
            "*" => None,
            m if m.chars().all(|c| c.is_ascii_alphabetic()) => Some(m.to_ascii_uppercase()),
            _ => return Err(bad("the method is a word such as GET, or *")),
        };
        if !path.starts_with('/') {
            return Err(bad("the path starts with /"));
        }
        if path.contains(['?', '#']) {
            return Err(bad("the path has no query or fragment"));
        }
        let mut segments = Vec::new();
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            segments.push(match seg {
                "**" => Segment::Any,
                s if s.contains("**") => return Err(bad("** stands alone between slashes")),
                "." | ".." => return Err(bad("the path has no . or .. segments")),
                s => Segment::Glob(s.to_owned()),
            });
        }
        Ok(Pattern {
            text: text.split_whitespace().collect::<Vec<_>>().join(" "),
            method,
            segments,
        })
    }

    /// Whether `method` and the normalised `path` match.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        if self.method.as_deref().is_some_and(|m| m != method) {
            return false;
        }
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match_segments(&self.segments, &parts)
    }
}

fn match_segments(pattern: &[Segment], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((Segment::Any, rest)) => (0..=path.len()).any(|i| match_segments(rest, &path[i..])),
        Some((Segment::Glob(g), rest)) => path
            .split_first()
            .is_some_and(|(first, tail)| glob(g, first) && match_segments(rest, tail)),
    }
}

/// `*` matches any run of characters (within one segment); everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    if text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

impl Rate {
    /// Parses `N/sec`, `N/min` or `N/hour` (also `s`, `m`, `h`, `second`, `minute`).
    pub fn parse(text: &str) -> Result<Rate> {
        let bad = || {
            Error::usage(format!(
                "rate {text:?} is not N/sec, N/min or N/hour (for example 120/min)"
            ))
        };
        let (n, unit) = text.split_once('/').ok_or_else(bad)?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        if count == 0 {
            return Err(bad());
        }
        Ok(Rate { count, per })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(yaml: &str) -> Policy {
        Policy::parse("vaults/default/policy.yaml", yaml.as_bytes()).unwrap()
    }

    fn decide(p: &Policy, who: Option<&str>, method: &str, path: &str) -> Decision {
        p.decide(&Request {
            provider: "github",
            connection: "default",
            principal: who,
            method,
            path,
        })
    }

    #[test]
    fn patterns_match_segments_and_globs() {
        let p = Pattern::parse("GET /repos/acme/**").unwrap();
        assert!(p.matches("GET", "/repos/acme"));
        assert!(p.matches("GET", "/repos/acme/x/issues"));
        assert!(!p.matches("GET", "/repos/acmex/y"));
        assert!(!p.matches("POST", "/repos/acme/x"));
        let p = Pattern::parse("POST /repos/acme/*/issues").unwrap();
        assert!(p.matches("POST", "/repos/acme/web/issues"));
        assert!(!p.matches("POST", "/repos/acme/web/x/issues"));
        let p = Pattern::parse("* /v1/chat*").unwrap();
        assert!(p.matches("PUT", "/v1/chat/"));
        assert!(p.matches("GET", "/v1/chatty"));
        assert!(!p.matches("GET", "/v1/cha"));
        for bad in [
            "GET",
            "GET repos",
            "G-T /x",
            "GET /a/**b",
            "GET /a/../b",
            "GET /a?b",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn deny_wins_and_unmatched_is_refused_only_under_a_binding_rule() {
        let p = policy(
            "rules:\n  - provider: github\n    allow: ['GET /repos/acme/**', '* /user']\n    deny: ['* /repos/acme/secret/**']\n  - provider: github\n    principals: [deploy-bot]\n    allow: ['POST /repos/acme/*/issues']\n",
        );
        assert!(decide(&p, None, "GET", "/repos/acme/web").allowed());
        assert!(!decide(&p, None, "POST", "/repos/acme/web/issues").allowed());
        assert!(decide(&p, Some("deploy-bot"), "POST", "/repos/acme/web/issues").allowed());
        // Deny beats allow, after normalisation: escapes, dot segments, doubled slashes.
        for path in [
            "/repos/acme/secret/x",
            "/repos//acme/./secret/x",
            "/repos/acme/web/../secret/x",
            "/repos/acme/%73ecret/x",
        ] {
            let d = decide(&p, None, "GET", path);
            assert!(
                matches!(&d, Decision::Denied { rule: Some(1), message } if message.contains("rule 1 of vaults/default/policy.yaml denies * /repos/acme/secret/**")),
                "{path}: {d:?}"
            );
        }
        let d = decide(&p, None, "DELETE", "/repos/acme/web");
        assert!(
            matches!(&d, Decision::Denied { rule: None, message } if message.contains("no allow")),
            "{d:?}"
        );
        let other = p.decide(&Request {
            provider: "openai",
            connection: "default",
            principal: None,
            method: "POST",
            path: "/v1/x",
        });
        assert_eq!(other, Decision::Unbound);
    }

    #[test]
    fn rates_and_bad_files_are_refused_with_the_rule() {
        assert_eq!(
            Rate::parse("120/min").unwrap(),
            Rate {
                count: 120,
                per: Duration::from_secs(60)
            }
        );
        assert!(Rate::parse("0/min").is_err() && Rate::parse("5/week").is_err());
        let e = Policy::parse(
            "p.yaml",
            b"rules:\n  - provider: github\n    allow: ['GET /ok']\n  - provider: github\n    allow: ['FETCH']\n",
        )
        .unwrap_err();
        assert!(e.message().contains("p.yaml: rule 2"), "{}", e.message());
        assert!(Policy::parse("p.yaml", b"rules:\n  - provider: github\n    alow: []\n").is_err());
    }
}
