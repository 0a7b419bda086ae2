//! A one-shot web form on 127.0.0.1 for entering secrets (an API key, an OAuth client).
//!
//! The page lives at an unguessable path on a random port (see [`crate::loopback`]) and serves
//! until one valid submission arrives or five minutes pass.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use age::secrecy::SecretString;

use crate::error::Result;
use crate::loopback::{self, PAGE_STYLE, Response, Server, escape};
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
    /// What the success page says was done (plain text): the provider, the connection, the
    /// store.
    pub saved: String,
}

/// How long after a submission the page keeps answering, with "this link is closed".
const GRACE: Duration = Duration::from_secs(3);

/// The servers still answering "this link is closed", joined by [`close_forms`].
static LINGERING: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// Serves the form, opens it in the browser, and returns the submitted values of the editable
/// fields (empty optional fields are left out). `None` when the browser failed to open and
/// there is a terminal to ask at instead (the failure has been warned about).
pub fn collect_via_form(
    ui: &dyn Ui,
    req: &FormRequest<'_>,
) -> Result<Option<BTreeMap<String, SecretString>>> {
    let server = Server::bind(0)?;
    let token = crate::random_hex(16);
    let url = format!("http://127.0.0.1:{}/{token}", server.port());
    ui.message(&format!(
        "Opening the page to continue ({}) in your browser; if it does not open, open this URL:\n  {url}",
        req.title
    ));
    ui.awaiting(&crate::ui::Awaiting::Page {
        url: url.clone(),
        expires_at: crate::model::time::Stamp::in_seconds(TIMEOUT.as_secs()).to_string(),
    });
    let launch = ui.open_url(&url);
    let path = format!("/{token}");
    let poll = |left: u64| {
        ui.waiting("the form to be submitted in the browser", left);
        let reason = launch.failure()?;
        ui.warn(&format!("could not open a browser ({reason})"));
        ui.can_ask().then_some(Ok(None))
    };
    let result = server.serve_polling(TIMEOUT, "the form to be submitted", poll, |request| {
        if request.path != path {
            return (Response::error("404 Not Found", "Not found."), None);
        }
        match request.method.as_str() {
            "GET" => (Response::ok(page(req, None)), None),
            "POST" => match submitted(req, request) {
                Ok(values) => (Response::ok(done_page(req)), Some(Some(values))),
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
    });
    ui.waited(matches!(result, Ok(Some(_))));
    if let Ok(Some(_)) = &result {
        let closed = Response::ok(closed_page(req));
        if let Ok(mut all) = LINGERING.lock() {
            all.push(server.linger(GRACE, closed));
        }
    }
    result
}

/// Waits until every submitted form's grace period is over (so a reload right after the
/// submission still gets a page); the command line calls it before it exits.
pub fn close_forms() {
    let all = LINGERING
        .lock()
        .map(|mut all| std::mem::take(&mut *all))
        .unwrap_or_default();
    for handle in all {
        let _ = handle.join();
    }
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
                // `autocomplete=off` and the managers' own opt-outs: a key typed here is not a
                // password for 127.0.0.1 and must not be saved as one.
                "<input id={id} name=\"{}\" type={}{}{} spellcheck=false autocomplete=off data-1p-ignore data-lpignore=true data-bwignore>",
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
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>authsome: {title}</title>{PAGE_STYLE}</head><body><main>\
<h1>{title}</h1><p>{intro}</p>{error}<form method=post autocomplete=off>{fields}<button type=submit>Save</button></form>{docs}</main></body></html>",
        title = escape(req.title),
        intro = escape(&req.intro),
    )
}

fn done_page(req: &FormRequest<'_>) -> String {
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>authsome: saved</title>{PAGE_STYLE}</head><body><main>\
<h1 class=ok>&#10003; Saved</h1><p>{saved}</p><p>Return to your terminal. You can close this tab.</p></main></body></html>",
        saved = escape(&req.saved),
    )
}

fn closed_page(req: &FormRequest<'_>) -> String {
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>authsome: link closed</title>{PAGE_STYLE}</head><body><main>\
<h1>This link is closed</h1><p>{title} was already saved from this page, and it accepts nothing more. Return to your terminal; to change the credential, run <code>authsome login</code> again.</p></main></body></html>",
        title = escape(req.title),
    )
}
