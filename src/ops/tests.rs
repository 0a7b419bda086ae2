//! The operations on temporary stores, in process: each state change makes exactly the commit it
//! describes, reports what it did, and a refused change leaves HEAD where it was.

use std::sync::Mutex;

use age::secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::login::{Report as LoginReport, Request, Source};
use super::{default, export, init, login, logout, provider, restore};
use crate::context::{Context, Options};
use crate::error::ErrorKind;
use crate::model::names::ConnectionName;
use crate::ui::Ui;

/// A user who types the given answers at the prompt, and whose warnings are kept.
struct Scripted {
    answers: Mutex<Vec<&'static str>>,
    warnings: Mutex<Vec<String>>,
}

impl Scripted {
    fn typing(answers: &[&'static str]) -> Self {
        Scripted {
            answers: Mutex::new(answers.iter().rev().copied().collect()),
            warnings: Mutex::new(Vec::new()),
        }
    }
}

impl Ui for Scripted {
    fn message(&self, _: &str) {}
    fn warn(&self, text: &str) {
        self.warnings.lock().unwrap().push(text.to_owned());
    }
    fn can_open_browser(&self) -> bool {
        false
    }
    fn open_url(&self, _: &str) -> crate::ui::Launch {
        crate::ui::Launch::unwatched()
    }
    fn can_ask(&self) -> bool {
        true
    }
    fn ask(&self, _: &str, _: bool) -> crate::ui::Answer {
        match self.answers.lock().unwrap().pop() {
            Some(a) => crate::ui::Answer::Text(Zeroizing::new(a.to_owned())),
            None => crate::ui::Answer::NoTerminal,
        }
    }
}

/// A fresh store and identity in a temporary folder, initialized.
fn store() -> (tempfile::TempDir, Context) {
    let dir = tempfile::tempdir().unwrap();
    let cx = Context::resolve(Options {
        store: Some(dir.path().join("store")),
        identity: Some(dir.path().join("identity.txt")),
        vault: None,
        signing_key: Some(dir.path().join("signing_key")),
        trust: Default::default(),
    })
    .unwrap();
    let report = init::init(&cx, false).unwrap();
    assert_eq!(report.status, "initialized");
    assert!(report.identity_is_recipient);
    (dir, cx)
}

fn conn(name: &str) -> ConnectionName {
    name.parse().unwrap()
}

fn api_key_login(connection: &str, force: bool) -> Request {
    Request {
        provider: "openai".into(),
        connection: conn(connection),
        force,
        keep_default: false,
        with_token: false,
        source: Source::Prompt,
        open_browser: false,
        flow: None,
        scopes: None,
        base_url: None,
        client_id: None,
        client_secret_stdin: false,
    }
}

/// A custom API-key provider `acme`, with `extra` YAML appended.
fn acme(extra: &str) -> crate::model::provider::ProviderDef {
    let yaml = format!(
        "schema_version: 1\nname: acme\ndisplay_name: Acme\nauth_type: api_key\nflow: api_key\nhosts:\n  - host: api.acme.test\napi_key:\n  header_name: Authorization\n  header_prefix: Bearer\n{extra}"
    );
    crate::providers::parse("acme.yaml", yaml.as_bytes(), None).unwrap()
}

/// The summary of HEAD's commit.
fn head_message(cx: &Context) -> String {
    let store = cx.store().unwrap();
    let head = store.snapshot().unwrap().commit().unwrap();
    store.commit_info(head).unwrap().summary
}

fn head(cx: &Context) -> Option<gix::ObjectId> {
    cx.store().unwrap().snapshot().unwrap().commit()
}

#[test]
fn init_makes_one_commit_and_is_safe_to_repeat() {
    let (_dir, cx) = store();
    assert_eq!(head_message(&cx), "init store");
    let before = head(&cx);
    let again = init::init(&cx, false).unwrap();
    assert_eq!(again.status, "unchanged");
    assert!(again.created.is_empty());
    assert_eq!(head(&cx), before);
}

#[test]
fn login_stores_a_key_as_one_commit_and_keeps_an_existing_connection() {
    let (_dir, cx) = store();
    let ui = Scripted::typing(&["sk-test-1"]);
    let LoginReport::Success(s) = login::login(&cx, &ui, &api_key_login("default", false)).unwrap()
    else {
        panic!("the first login stores the key");
    };
    assert!(s.default, "the first connection becomes the default");
    assert_eq!(head_message(&cx), "login openai/default");

    // Without force, an existing connection is not asked for again, and nothing changes.
    let before = head(&cx);
    let ui = Scripted::typing(&[]);
    let report = login::login(&cx, &ui, &api_key_login("default", false)).unwrap();
    assert!(matches!(report, LoginReport::AlreadyConnected { .. }));
    assert_eq!(head(&cx), before);

    // The same key again with force changes nothing, so it makes no commit.
    let ui = Scripted::typing(&["sk-test-1"]);
    let report = login::login(&cx, &ui, &api_key_login("default", true)).unwrap();
    assert!(matches!(report, LoginReport::Unchanged(_)), "{report:?}");
    assert_eq!(head(&cx), before);

    let vars = export::export(&cx, &ui, Some("openai"), None).unwrap();
    let vars: Vec<(&str, &str)> = vars
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose_secret()))
        .collect();
    assert_eq!(vars, [("OPENAI_API_KEY", "sk-test-1")]);
}

#[test]
fn a_key_that_fails_the_pattern_makes_no_commit() {
    let (_dir, cx) = store();
    let before = head(&cx);
    let ui = Scripted::typing(&["not-a-key"]);
    let err = login::login(&cx, &ui, &api_key_login("default", false)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert_eq!(head(&cx), before);
}

#[test]
fn default_logout_and_restore_each_make_the_commit_they_describe() {
    let (_dir, cx) = store();
    for (name, key) in [("default", "sk-a"), ("work", "sk-b")] {
        let ui = Scripted::typing(&[key]);
        login::login(&cx, &ui, &api_key_login(name, false)).unwrap();
    }
    let switched = default::set_default(&cx, "openai", &conn("work")).unwrap();
    assert_eq!(switched.previous.as_deref(), Some("default"));
    assert_eq!(head_message(&cx), "default openai: default -> work");
    let again = default::set_default(&cx, "openai", &conn("work")).unwrap();
    assert_eq!((again.status, again.commit), ("unchanged", None));

    // A refused change leaves HEAD where it was.
    let before = head(&cx);
    let err = default::set_default(&cx, "openai", &conn("personal")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionNotFound);
    assert_eq!(head(&cx), before);

    let before_logout = head(&cx).unwrap().to_string();
    let out = logout::logout(&cx, "openai", Some(&conn("work"))).unwrap();
    assert_eq!(
        out.default.as_deref(),
        Some("default"),
        "the heir is `default`"
    );
    assert_eq!(head_message(&cx), "logout openai/work");

    let back = restore::restore(&cx, "openai/work", &before_logout).unwrap();
    assert_eq!(back.status, "restored");
    assert_eq!(
        head_message(&cx),
        format!("restore openai/work to {}", &before_logout[..8])
    );
    let ui = Scripted::typing(&[]);
    let vars = export::export(&cx, &ui, Some("openai"), Some(&conn("work"))).unwrap();
    assert_eq!(vars[0].1.expose_secret(), "sk-b");
}

#[test]
fn custom_providers_are_added_and_removed_by_commits() {
    let (_dir, cx) = store();
    let def = acme("");
    let added = provider::add(&cx, &def, false).unwrap();
    assert_eq!(added.status, "added");
    assert_eq!(head_message(&cx), "provider add acme");
    let err = provider::add(&cx, &def, false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    provider::remove(&cx, "acme").unwrap();
    assert_eq!(head_message(&cx), "provider remove acme");
}

#[test]
fn export_of_every_default_renames_a_shared_variable_and_warns_through_the_ui() {
    let (_dir, cx) = store();
    let def = acme("env:\n  OPENAI_API_KEY: api_key\n");
    provider::add(&cx, &def, false).unwrap();
    let ui = Scripted::typing(&["acme-key", "sk-a"]);
    login::login(
        &cx,
        &ui,
        &Request {
            provider: "acme".into(),
            ..api_key_login("default", false)
        },
    )
    .unwrap();
    login::login(&cx, &ui, &api_key_login("default", false)).unwrap();
    let vars = export::export(&cx, &ui, None, None).unwrap();
    let vars: Vec<(&str, &str)> = vars
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose_secret()))
        .collect();
    assert_eq!(
        vars,
        [
            ("OPENAI_API_KEY", "acme-key"),
            ("OPENAI_API_KEY_OPENAI", "sk-a")
        ]
    );
    let warnings = ui.warnings.lock().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("already exported for acme"),
        "{warnings:?}"
    );
}
