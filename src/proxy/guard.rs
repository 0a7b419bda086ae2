//! What a credential may do on this run: the vault's committed policy, narrowed (never widened)
//! by the run's own limits (`--read-only`, `--allow`, `--max-requests`), and the rate limits of
//! the rules that allow a request. Judged before a credential is attached; a refusal is
//! answered locally and the upstream receives nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use hyper::StatusCode;

use super::credentials::View;
use crate::policy::{Decision, Pattern, Request};

/// The run's own limits, which only narrow what the committed policy allows.
#[derive(Debug, Clone, Default)]
pub struct Narrowing {
    /// Only GET, HEAD and OPTIONS, to every provider.
    pub read_only: bool,
    /// `PROVIDER:METHOD PATH` patterns; when any is given, a provider's request must match one
    /// of its own (a provider none names gets no request through).
    pub allow: Vec<(String, Pattern)>,
    /// At most this many credentialed requests in the whole run.
    pub max_requests: Option<u64>,
    /// `--egress providers-only`: no tunnel or plain request to a host no provider covers.
    pub providers_only: bool,
    /// Hosts let through anyway under `providers_only` (`example.com`, `*.example.com`).
    pub allow_hosts: Vec<String>,
}

impl Narrowing {
    /// Parses `--allow PROVIDER:METHOD PATH`.
    pub fn parse_allow(text: &str) -> crate::error::Result<(String, Pattern)> {
        let (provider, pattern) = text.split_once(':').ok_or_else(|| {
            crate::error::Error::usage(format!(
                "--allow {text:?} is not PROVIDER:METHOD PATH (for example 'github:GET /repos/acme/**')"
            ))
        })?;
        crate::model::names::validate("provider", provider.trim())?;
        Ok((provider.trim().to_owned(), Pattern::parse(pattern)?))
    }

    /// Whether the run narrows anything.
    pub fn is_set(&self) -> bool {
        self.read_only
            || !self.allow.is_empty()
            || self.max_requests.is_some()
            || self.providers_only
    }

    /// Why a connection to `host`, which no provider covers, is refused; `None` when the run's
    /// egress lets it through.
    pub fn egress_refusal(&self, host: &str) -> Option<String> {
        if !self.providers_only {
            return None;
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let allowed = self.allow_hosts.iter().any(|a| {
            let a = a.to_ascii_lowercase();
            match a.strip_prefix("*.") {
                Some(suffix) => host.ends_with(&format!(".{suffix}")),
                None => host == a,
            }
        });
        (!allowed).then(|| {
            format!(
                "authsome refused a connection to {host}: this run is --egress providers-only and no provider covers that host (add --allow-host {host} to let it through)"
            )
        })
    }
}

/// What to do with one request.
pub enum Verdict {
    /// Send it; `rule` names the allow that let it through, when a policy bound it.
    Go {
        /// `rule N: PATTERN` of the committed policy, or the run's own allow.
        rule: Option<String>,
    },
    /// Answer locally with `status` and `message`; nothing goes upstream.
    Refuse {
        /// 403 for a refusal, 429 for a limit.
        status: StatusCode,
        /// One sentence, naming the rule and the file or the run option.
        message: String,
    },
}

/// The judge, with the counts its limits keep.
#[derive(Debug, Default)]
pub struct Guard {
    narrowing: Narrowing,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: u64,
    /// Per rule (by number): the times of the requests it let through within its window.
    windows: HashMap<usize, VecDeque<Instant>>,
}

impl Guard {
    /// The run's limits.
    pub fn narrowing(&self) -> &Narrowing {
        &self.narrowing
    }

    /// A guard with the run's narrowing.
    pub fn new(narrowing: Narrowing) -> Self {
        Guard {
            narrowing,
            counts: Mutex::default(),
        }
    }

    /// Judges a request to `provider` with `connection`'s credential.
    pub fn judge(
        &self,
        view: &View,
        provider: &str,
        connection: &str,
        method: &str,
        path: &str,
    ) -> Verdict {
        let refuse = |message: String| Verdict::Refuse {
            status: StatusCode::FORBIDDEN,
            message,
        };
        let policy = match &view.policy {
            Ok(p) => p,
            Err(why) => {
                return refuse(format!(
                    "authsome refused the request because the vault's policy cannot be read ({why}); fix the file (`authsome doctor` shows it)"
                ));
            }
        };
        let path = path.split('?').next().unwrap_or("/");
        let decision = policy.decide(&Request {
            provider,
            connection,
            principal: view.principal.as_deref(),
            method,
            path,
        });
        let (mut rule, rate) = match decision {
            Decision::Denied { message, .. } => return refuse(message),
            Decision::Unbound => (None, None),
            Decision::Allowed {
                rule,
                pattern,
                rate,
            } => (Some((rule, pattern)), rate),
        };
        let n = &self.narrowing;
        // Without narrowing or counting (the usual run), nothing below applies.
        if !n.read_only && n.allow.is_empty() && rate.is_none() && n.max_requests.is_none() {
            return Verdict::Go { rule: label(rule) };
        }
        let method = method.to_ascii_uppercase();
        if n.read_only && !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS") {
            return refuse(format!(
                "authsome refused {method} {path} to {provider}: this run is --read-only (GET, HEAD and OPTIONS only)"
            ));
        }
        if !n.allow.is_empty() {
            let normal = crate::http_path::normalize(path);
            let Some((_, p)) = n
                .allow
                .iter()
                .find(|(pr, p)| pr == provider && p.matches(&method, &normal))
            else {
                return refuse(format!(
                    "authsome refused {method} {normal} to {provider}: no --allow of this run matches it"
                ));
            };
            if rule.is_none() {
                rule = Some((0, format!("--allow {provider}:{}", pattern_text(p))));
            }
        }
        // Nothing to count: no lock on the way.
        if rate.is_none() && n.max_requests.is_none() {
            return Verdict::Go { rule: label(rule) };
        }
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some((number, _)), Some(rate)) = (&rule, rate) {
            let now = Instant::now();
            let window = counts.windows.entry(*number).or_default();
            while window
                .front()
                .is_some_and(|t| now.duration_since(*t) >= rate.per)
            {
                window.pop_front();
            }
            if window.len() as u64 >= u64::from(rate.count) {
                return Verdict::Refuse {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    message: format!(
                        "authsome refused {method} {path} to {provider}: rule {number} of the vault's policy allows {} requests per {} s, and they are used",
                        rate.count,
                        rate.per.as_secs()
                    ),
                };
            }
            window.push_back(now);
        }
        if let Some(max) = n.max_requests
            && counts.total >= max
        {
            return Verdict::Refuse {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: format!(
                    "authsome refused {method} {path} to {provider}: this run's --max-requests {max} are used"
                ),
            };
        }
        counts.total += 1;
        Verdict::Go { rule: label(rule) }
    }
}

/// How the audit names what let a request through: `rule N: PATTERN`, or the run's `--allow`.
fn label(rule: Option<(usize, String)>) -> Option<String> {
    rule.map(|(n, p)| if n == 0 { p } else { format!("rule {n}: {p}") })
}

fn pattern_text(p: &Pattern) -> String {
    format!("{p}")
}
