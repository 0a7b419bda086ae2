//! Crash points for tests (`--features fault-injection`, never in a release build): with
//! `AUTHSOME_CRASH_AT=NAME[:N]`, the process exits at once, without unwinding or cleaning up, the
//! N-th time (default the first) it reaches the point NAME of a write, as a kill would leave it.
//! The crash tests stop every kind of write at every point and check that the next command
//! finds the store whole. This is how SQLite tests crash safety: every step, not random timing.

/// The exit code of a crash point, so a test tells it from an ordinary failure.
pub const CRASHED: i32 = 86;

/// A point in a write where a crash can be injected.
#[cfg(feature = "fault-injection")]
pub(crate) fn point(name: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SEEN: AtomicUsize = AtomicUsize::new(0);
    interrupt(name);
    let Ok(want) = std::env::var("AUTHSOME_CRASH_AT") else {
        return;
    };
    let (point, nth) = match want.split_once(':') {
        Some((p, n)) => (p.to_owned(), n.parse().unwrap_or(1)),
        None => (want, 1),
    };
    if point == name && SEEN.fetch_add(1, Ordering::SeqCst) + 1 == nth {
        // No destructor runs: locks, temporary files and the journal stay as a kill leaves them.
        std::process::exit(CRASHED);
    }
}

/// With `AUTHSOME_INTERRUPT_AT=NAME[:TERM|:HUP]`, the process sends itself SIGINT (or the signal
/// named) the first time it reaches the point NAME, as a Ctrl-C at that moment would.
#[cfg(feature = "fault-injection")]
fn interrupt(name: &str) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static SENT: AtomicBool = AtomicBool::new(false);
    let Ok(want) = std::env::var("AUTHSOME_INTERRUPT_AT") else {
        return;
    };
    let (point, sig) = match want.split_once(':') {
        Some((p, "TERM")) => (p.to_owned(), libc::SIGTERM),
        Some((p, "HUP")) => (p.to_owned(), libc::SIGHUP),
        Some((p, _)) => (p.to_owned(), libc::SIGINT),
        None => (want, libc::SIGINT),
    };
    if point == name && !SENT.swap(true, Ordering::SeqCst) {
        // SAFETY: sending a signal to this process.
        #[allow(unsafe_code)]
        unsafe {
            libc::raise(sig);
        }
    }
}

/// A point in a write where a crash can be injected (nothing in this build).
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn point(_: &str) {}
