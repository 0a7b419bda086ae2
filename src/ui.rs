//! How the library talks to the person at the keyboard: the front end (the command line)
//! implements [`Ui`] and decides where lines go, whether `--quiet` silences them, and how a
//! browser is opened. The library never prints.

use zeroize::Zeroizing;

/// The user, as the library sees them.
pub trait Ui: Send + Sync {
    /// A line the user must see to go on (a URL to open, a code to enter, what is awaited);
    /// shown even when output is quiet.
    fn message(&self, text: &str);

    /// Something went wrong, but the operation goes on.
    fn warn(&self, text: &str);

    /// Opens `url` in the user's browser, when there is one. Failure is fine: the URL has
    /// always been given through [`Ui::message`] too.
    fn open_url(&self, url: &str);

    /// Asks for a value at the terminal without echoing it. `None` when there is no terminal
    /// to ask at.
    fn ask_secret(&self, prompt: &str) -> Option<Zeroizing<String>>;
}

/// A [`Ui`] that shows nothing and cannot ask: for tests and for callers with no user.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Ui for Silent {
    fn message(&self, _: &str) {}
    fn warn(&self, _: &str) {}
    fn open_url(&self, _: &str) {}
    fn ask_secret(&self, _: &str) -> Option<Zeroizing<String>> {
        None
    }
}
