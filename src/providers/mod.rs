//! The provider catalog: bundled definitions compiled into the binary, and custom definitions
//! committed to the store under `providers/<name>.yaml`, which override bundled ones.

use std::collections::BTreeMap;

use crate::error::{Error, ErrorKind, Result};
use crate::model::names;
use crate::model::provider::{AuthType, BasicAuth, EnvSource, Flow, ProviderDef};
use crate::model::yaml;
use crate::store::Snapshot;

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// Where a definition came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Compiled into authsome.
    Bundled,
    /// Committed to the store.
    Custom,
}

impl Source {
    /// The lowercase name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Bundled => "bundled",
            Source::Custom => "custom",
        }
    }
}

/// A resolved provider definition.
#[derive(Debug, Clone)]
pub struct Provider {
    /// The definition.
    pub def: ProviderDef,
    /// Where it came from.
    pub source: Source,
}

/// Parses and validates a bundled definition.
pub fn bundled(name: &str) -> Option<Result<ProviderDef>> {
    BUNDLED
        .binary_search_by(|(n, _)| n.cmp(&name))
        .ok()
        .map(|i| {
            parse(
                &format!("bundled provider {name}"),
                BUNDLED[i].1.as_bytes(),
                Some(name),
            )
        })
}

/// Parses a definition from a user's file (for `provider add`): problems are usage errors.
pub fn parse_file(path: &std::path::Path, bytes: &[u8]) -> Result<ProviderDef> {
    let origin = path.display().to_string();
    let def: ProviderDef = yaml::parse(&origin, bytes).map_err(|e| {
        let detail = e
            .message()
            .split("; fix the file")
            .next()
            .unwrap_or_default()
            .to_owned();
        Error::usage(format!("{detail}; fix the file and run the command again"))
    })?;
    validate(&def).map_err(|e| Error::new(e.kind(), format!("{origin}: {}", e.message())))?;
    Ok(def)
}

/// Parses a definition from YAML and validates it; `expected_name` checks the `name` field.
pub fn parse(origin: &str, bytes: &[u8], expected_name: Option<&str>) -> Result<ProviderDef> {
    let def: ProviderDef = yaml::parse(origin, bytes)?;
    validate(&def).map_err(|e| Error::new(e.kind(), format!("{origin}: {}", e.message())))?;
    if let Some(expected) = expected_name
        && def.name != expected
    {
        return Err(Error::store(format!(
            "{origin} is named {:?} inside but {expected:?} by its file name; make them agree",
            def.name
        )));
    }
    Ok(def)
}

/// Checks the rules a definition must follow beyond its shape.
pub fn validate(def: &ProviderDef) -> Result<()> {
    let bad = |msg: String| Err(Error::usage(msg));
    names::validate("provider", &def.name)?;
    if def.schema_version != 1 {
        return bad(format!(
            "schema_version {} is not supported; use 1",
            def.schema_version
        ));
    }
    match def.auth_type {
        AuthType::ApiKey => {
            if def.flow != Flow::ApiKey {
                return bad("an api_key provider must use flow: api_key".into());
            }
            let Some(spec) = &def.api_key else {
                return bad("an api_key provider needs an api_key section".into());
            };
            if def.oauth2.is_some() {
                return bad("an api_key provider must not have an oauth2 section".into());
            }
            // An HTTP token (RFC 9110): anything else breaks the request or smuggles a header.
            let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
            if spec.header_name.is_empty() || !spec.header_name.chars().all(token) {
                return bad(format!(
                    "header_name {:?} is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)",
                    spec.header_name
                ));
            }
            if spec.header_prefix.chars().any(|c| c.is_control()) {
                return bad(format!(
                    "header_prefix {:?} holds a control character (a line break would start another header); use plain text such as Bearer",
                    spec.header_prefix
                ));
            }
            if spec.basic_auth.is_some() && !spec.header_prefix.is_empty() {
                return bad(
                    "basic_auth builds the whole header value; remove header_prefix".into(),
                );
            }
            if spec.basic_user.is_some() && spec.basic_auth != Some(BasicAuth::Password) {
                return bad("basic_user goes with basic_auth: password".into());
            }
            if let Some(p) = &spec.key_pattern {
                regex_lite::Regex::new(p)
                    .map_err(|e| Error::usage(format!("key_pattern does not compile: {e}")))?;
            }
        }
        AuthType::Oauth2 => {
            if def.flow == Flow::ApiKey {
                return bad("an oauth2 provider needs an OAuth2 flow (pkce, device_code, dcr_pkce, client_credentials)".into());
            }
            if def.oauth2.is_none() {
                return bad("an oauth2 provider needs an oauth2 section".into());
            }
            if def.api_key.is_some() {
                return bad("an oauth2 provider must not have an api_key section".into());
            }
        }
        AuthType::PersonalToken => {
            return bad(
                "auth_type personal_token is a connection's kind; a provider's is api_key or oauth2 (declare the token under personal_token)".into(),
            );
        }
    }
    if let Some(t) = &def.personal_token {
        if def.auth_type != AuthType::Oauth2 {
            return bad(
                "personal_token is for oauth2 providers; an api_key provider's key is already pasted".into(),
            );
        }
        if t.header_prefix
            .as_deref()
            .is_some_and(|p| p.chars().any(|c| c.is_control()))
        {
            return bad(
                "personal_token header_prefix holds a control character; use plain text such as Bearer".into(),
            );
        }
        if let Some(p) = &t.key_pattern {
            regex_lite::Regex::new(p).map_err(|e| {
                Error::usage(format!("personal_token key_pattern does not compile: {e}"))
            })?;
        }
    }
    if def.hosts.is_empty() {
        return bad("a provider needs at least one entry under hosts".into());
    }
    for h in &def.hosts {
        let wildcard = h.host.starts_with("*.");
        let host = h.host.strip_prefix("*.").unwrap_or(&h.host);
        if host.split('.').any(str::is_empty) {
            return bad(format!(
                "hosts: {:?} has an empty label (a leading, trailing or doubled dot)",
                h.host
            ));
        }
        // A public suffix of the ICANN list (com, co.uk) is nobody's: a wildcard under it sends
        // the credential to every site there. Private entries (githubusercontent.com,
        // googleapis.com) are their operators' own, so a provider may name them.
        let public = !host.contains('{')
            && psl::suffix(host.as_bytes()).is_some_and(|s| {
                s.as_bytes() == host.as_bytes() && s.typ() == Some(psl::Type::Icann)
            });
        if public {
            return bad(if wildcard {
                format!(
                    "hosts: {:?} matches every site under the public suffix {host}, so the credential would go to anyone's server; name the provider's own domain (*.api.example.com)",
                    h.host
                )
            } else {
                format!(
                    "hosts: {host:?} is a public suffix, not a host; name the provider's API host (api.example.com)"
                )
            });
        }
        let ok = !host.is_empty()
            && host.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || c == '.'
                    || c == '-'
                    || c == '{'
                    || c == '}'
                    || c == '_'
            });
        if !ok {
            return bad(format!(
                "hosts: {:?} is not a host name or *.domain",
                h.host
            ));
        }
        if let Some(p) = &h.path_prefix
            && !p.starts_with('/')
        {
            return bad(format!("hosts: path_prefix {p:?} must start with /"));
        }
    }
    for (var, source) in &def.env {
        let ok = !var.is_empty()
            && !var.starts_with(|c: char| c.is_ascii_digit())
            && var
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return bad(format!(
                "env: {var:?} is not an UPPER_SNAKE environment variable name"
            ));
        }
        let fits = match def.auth_type {
            AuthType::ApiKey => matches!(source, EnvSource::ApiKey | EnvSource::BaseUrl),
            AuthType::Oauth2 | AuthType::PersonalToken => !matches!(source, EnvSource::ApiKey),
        };
        if !fits {
            return bad(format!(
                "env: {var} maps to {}, which a {:?} provider does not have",
                source.field(),
                def.auth_type
            ));
        }
    }
    Ok(())
}

/// Looks providers up in the bundled catalog and a store snapshot.
pub struct Catalog<'a, 's> {
    snap: &'a Snapshot<'s>,
}

impl<'a, 's> Catalog<'a, 's> {
    /// A catalog over the committed custom providers of `snap`.
    pub fn new(snap: &'a Snapshot<'s>) -> Self {
        Catalog { snap }
    }

    /// The custom definition named `name`, if one is committed.
    pub fn custom(&self, name: &str) -> Result<Option<ProviderDef>> {
        let path = crate::layout::custom_provider(name);
        match self.snap.read(&path)? {
            Some(bytes) => parse(&path, &bytes, Some(name)).map(Some),
            None => Ok(None),
        }
    }

    /// Resolves `name`: a custom definition wins over a bundled one.
    pub fn get(&self, name: &str) -> Result<Provider> {
        names::validate("provider", name)
            .map_err(|e| Error::new(ErrorKind::ProviderNotFound, e.message()))?;
        if let Some(def) = self.custom(name)? {
            return Ok(Provider {
                def,
                source: Source::Custom,
            });
        }
        match bundled(name) {
            Some(def) => Ok(Provider {
                def: def?,
                source: Source::Bundled,
            }),
            None => Err(self.not_found(name)?),
        }
    }

    /// Every known provider, custom ones replacing bundled ones of the same name.
    pub fn all(&self) -> Result<Vec<Provider>> {
        let mut out: BTreeMap<String, Provider> = BTreeMap::new();
        for (name, _) in BUNDLED {
            let def = bundled(name).expect("listed")?;
            out.insert(
                name.to_string(),
                Provider {
                    def,
                    source: Source::Bundled,
                },
            );
        }
        for name in self.custom_names()? {
            if let Some(def) = self.custom(&name)? {
                out.insert(
                    name,
                    Provider {
                        def,
                        source: Source::Custom,
                    },
                );
            }
        }
        Ok(out.into_values().collect())
    }

    /// Every known provider's name, sorted, without parsing a definition (for completion).
    pub fn names(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = BUNDLED.iter().map(|(n, _)| n.to_string()).collect();
        names.extend(self.custom_names()?);
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Names of the custom definitions committed to the store.
    pub fn custom_names(&self) -> Result<Vec<String>> {
        Ok(self
            .snap
            .list(crate::layout::PROVIDERS)?
            .into_iter()
            .filter(|e| !e.is_dir)
            .filter_map(|e| {
                e.name
                    .strip_suffix(crate::layout::YAML_EXT)
                    .map(str::to_owned)
            })
            .collect())
    }

    fn not_found(&self, name: &str) -> Result<Error> {
        let mut all: Vec<String> = BUNDLED.iter().map(|(n, _)| n.to_string()).collect();
        all.extend(self.custom_names()?);
        let hint = suggestions(name, all.iter().map(String::as_str));
        Ok(Error::new(
            ErrorKind::ProviderNotFound,
            format!(
                "there is no provider named {name:?}; {hint}see `authsome provider list`, or define it with `authsome provider add FILE`"
            ),
        ))
    }
}

/// "did you mean a, b? " for the names closest to `name`, or an empty string.
pub fn suggestions<'n>(name: &str, candidates: impl Iterator<Item = &'n str>) -> String {
    let limit = (name.len() / 3).max(2);
    let mut close: Vec<(usize, &str)> = candidates
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, c)| *d <= limit || (name.len() >= 3 && c.starts_with(name)))
        .collect();
    close.sort();
    close.dedup_by(|a, b| a.1 == b.1);
    let names: Vec<&str> = close.iter().take(3).map(|(_, c)| *c).collect();
    if names.is_empty() {
        String::new()
    } else {
        format!("did you mean {}? ", names.join(", "))
    }
}
