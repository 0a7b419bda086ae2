//! How the library talks to the person at the keyboard: the front end (the command line)
//! implements [`Ui`] and decides where lines go, whether `--quiet` silences them, and how a
//! browser is opened. The library never prints.

use std::sync::mpsc::Receiver;

use zeroize::Zeroizing;

/// The user, as the library sees them.
pub trait Ui: Send + Sync {
    /// A line the user must see to go on (a URL to open, a code to enter, what is awaited);
    /// shown even when output is quiet.
    fn message(&self, text: &str);

    /// Something went wrong, but the operation goes on.
    fn warn(&self, text: &str);

    /// Whether a browser can be opened here (a desktop session, or `$BROWSER`); false on a
    /// machine reached over SSH without a display, and on a headless one.
    fn can_open_browser(&self) -> bool;

    /// Opens `url` in the user's browser. The URL has always been given through
    /// [`Ui::message`] too, so a browser that fails to start leaves the user a way on; what is
    /// returned says when it did fail.
    fn open_url(&self, url: &str) -> Launch;

    /// Whether there is a terminal to ask at.
    fn can_ask(&self) -> bool;

    /// Asks for a value at the terminal: `masked` echoes nothing.
    fn ask(&self, prompt: &str, masked: bool) -> Answer;

    /// Called while the library waits (for a form, a callback, a device approval) with what it
    /// waits for and the seconds left; a front end may show progress. Never on stdout.
    fn waiting(&self, _what: &str, _seconds_left: u64) {}

    /// The wait is over (`done` says whether it ended as hoped).
    fn waited(&self, _done: bool) {}

    /// What a person must do for the login to go on, said once as the wait begins (it is in
    /// a [`Ui::message`] too): a front end that does not wait (`login --no-wait`) hands it on.
    fn awaiting(&self, _what: &Awaiting) {}
}

/// What a person must do for a login to complete; nothing in it is secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Awaiting {
    /// Enter `user_code` at `verification_uri` (the device flow).
    Device {
        /// Where to enter the code.
        verification_uri: String,
        /// The same page with the code filled in, when the provider gives one.
        #[serde(skip_serializing_if = "Option::is_none")]
        verification_uri_complete: Option<String>,
        /// The code.
        user_code: String,
        /// When the code expires (RFC 3339).
        expires_at: String,
    },
    /// Open `url` (the local form, or the provider's authorization page).
    Page {
        /// The page.
        url: String,
        /// When the wait ends (RFC 3339).
        expires_at: String,
    },
}

/// What came of asking at the terminal.
#[derive(Debug)]
pub enum Answer {
    /// What the user typed (possibly empty).
    Text(Zeroizing<String>),
    /// The user pressed Ctrl-C, or Ctrl-D on an empty line.
    Cancelled,
    /// There is no terminal to ask at.
    NoTerminal,
}

/// A browser being started: a failure to start it arrives on the channel, as the reason.
#[derive(Debug, Default)]
pub struct Launch(Option<Receiver<String>>);

impl Launch {
    /// A launch that reports its failure on `failed`.
    pub fn watching(failed: Receiver<String>) -> Self {
        Launch(Some(failed))
    }

    /// A launch that cannot fail (or whose failure cannot be known).
    pub fn unwatched() -> Self {
        Launch(None)
    }

    /// A launch that failed at once, for `reason`.
    pub fn failed(reason: String) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        let _ = tx.send(reason);
        Launch(Some(rx))
    }

    /// Why the browser failed to start, once it is known; `None` while it is not (yet).
    pub fn failure(&self) -> Option<String> {
        self.0.as_ref().and_then(|rx| rx.try_recv().ok())
    }
}

/// A [`Ui`] that shows nothing and cannot ask: for tests and for callers with no user.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Ui for Silent {
    fn message(&self, _: &str) {}
    fn warn(&self, _: &str) {}
    fn can_open_browser(&self) -> bool {
        false
    }
    fn open_url(&self, _: &str) -> Launch {
        Launch::unwatched()
    }
    fn can_ask(&self) -> bool {
        false
    }
    fn ask(&self, _: &str, _: bool) -> Answer {
        Answer::NoTerminal
    }
}
