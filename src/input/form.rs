//! A one-shot web form on 127.0.0.1 for entering secrets (an API key, an OAuth client).
//!
//! The page lives at an unguessable path on a random port (see [`crate::loopback`]) and serves
//! until one valid submission arrives or five minutes pass.

use std::collections::BTreeMap;
use std::time::Duration;

use age::secrecy::SecretString;

use crate::error::Result;
use crate::loopback::{self, Response, Server, escape};
use crate::ui::Ui;

const TIMEOUT: Duration = Duration::from_secs(300);

/// One field of the form.
pub struct Field<'a> {
    /// The form field name, and the key of the returned map.
    pub name: &'a str,
    /// The label shown.
    pub label: &'a str,
    /// Masked input.
    pub secret: bool,
    /// Whether an empty value is refused.
    pub required: bool,
    /// A note under the field.
    pub hint: Option<&'a str>,
    /// A value shown read-only (for example the redirect URI to register); not submitted.
    pub read_only: Option<&'a str>,
}

/// What the form asks for.
pub struct FormRequest<'a> {
    /// The page title (the provider's display name).
    pub title: &'a str,
    /// One paragraph of explanation (plain text).
    pub intro: String,
    /// The fields.
    pub fields: Vec<Field<'a>>,
    /// Where to learn more.
    pub docs_url: Option<&'a str>,
    /// Validates the submitted values; an error message is shown on the page.
    pub validate: &'a dyn Fn(&BTreeMap<String, SecretString>) -> Result<()>,
    /// Whether to try to open a browser.
    pub open_browser: bool,
}

/// Serves the form and returns the submitted values of the editable fields (empty optional
/// fields are left out).
pub fn collect_via_form(
    ui: &dyn Ui,
    req: &FormRequest<'_>,
) -> Result<BTreeMap<String, SecretString>> {
    let server = Server::bind(0)?;
    let token = crate::random_hex(16);
    let url = format!("http://127.0.0.1:{}/{token}", server.port());
    ui.message(&format!(
        "Open this page to continue ({}):\n  {url}\n(waiting up to 5 minutes; press Ctrl-C to cancel)",
        req.title
    ));
    if req.open_browser {
        ui.open_url(&url);
    }
    let path = format!("/{token}");
    server.serve(TIMEOUT, "the form to be submitted", |request| {
        if request.path != path {
            return (Response::error("404 Not Found", "Not found."), None);
        }
        match request.method.as_str() {
            "GET" => (Response::ok(page(req, None)), None),
            "POST" => match submitted(req, request) {
                Ok(values) => (Response::ok(DONE_PAGE.to_owned()), Some(values)),
                Err(e) => (
                    Response {
                        status: "400 Bad Request",
                        body: page(req, Some(e.message())),
                    },
                    None,
                ),
            },
            _ => (
                Response::error("405 Method Not Allowed", "Method not allowed."),
                None,
            ),
        }
    })
}

fn submitted(
    req: &FormRequest<'_>,
    request: &loopback::Request,
) -> Result<BTreeMap<String, SecretString>> {
    let mut values = BTreeMap::new();
    for f in req.fields.iter().filter(|f| f.read_only.is_none()) {
        let raw = request.form(f.name);
        let raw = raw.as_deref().map(|s| s.as_str()).unwrap_or("");
        if raw.trim().is_empty() && !f.required {
            continue;
        }
        values.insert(f.name.to_owned(), super::finish(f.label, raw)?);
    }
    (req.validate)(&values)?;
    Ok(values)
}

fn page(req: &FormRequest<'_>, error: Option<&str>) -> String {
    let mut fields = String::new();
    for (i, f) in req.fields.iter().enumerate() {
        let id = format!("f{i}");
        fields.push_str(&format!("<label for={id}>{}</label>", escape(f.label)));
        match f.read_only {
            Some(v) => {
                fields.push_str(&format!("<input id={id} readonly value=\"{}\">", escape(v)))
            }
            None => fields.push_str(&format!(
                "<input id={id} name=\"{}\" type={}{}{} spellcheck=false>",
                escape(f.name),
                if f.secret { "password" } else { "text" },
                if f.required { " required" } else { "" },
                if i == 0 { " autofocus" } else { "" },
            )),
        }
        if let Some(h) = f.hint {
            fields.push_str(&format!("<p class=hint>{}</p>", escape(h)));
        }
    }
    let docs = req
        .docs_url
        .filter(|u| u.starts_with("https://"))
        .map(|u| {
            format!(
                "<p><a href=\"{}\" target=_blank rel=noreferrer>Where do I find these?</a></p>",
                escape(u)
            )
        })
        .unwrap_or_default();
    let error = error
        .map(|e| format!("<p class=error role=alert>{}</p>", escape(e)))
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>authsome: {title}</title>{STYLE}</head><body><main>\
<h1>{title}</h1><p>{intro}</p>{error}<form method=post autocomplete=off>{fields}<button type=submit>Save</button></form>{docs}</main></body></html>",
        title = escape(req.title),
        intro = escape(&req.intro),
    )
}

const STYLE: &str = "<style>body{font-family:system-ui,sans-serif;background:#f6f7f9;margin:0}main{max-width:30rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}label{display:block;margin-top:1rem;font-weight:600}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box;margin:.4rem 0}input[readonly]{background:#eee}button{margin-top:1rem;padding:.5rem 1rem;font-size:1rem}.error{color:#b00020}.hint{color:#555;font-size:.9rem;margin:0}</style>";

const DONE_PAGE: &str = "<!doctype html><html lang=en><head><meta charset=utf-8><title>authsome: saved</title></head><body style=\"font-family:system-ui,sans-serif\"><main style=\"max-width:28rem;margin:4rem auto\"><h1>Saved</h1><p>Saved. You can close this tab.</p></main><script>setTimeout(function(){window.close()},800)</script></body></html>";
