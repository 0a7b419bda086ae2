//! Interrupts held back while a write is in flight: SIGINT, SIGTERM or SIGHUP during a
//! transaction take effect once it has committed or rolled back, so an interrupted command
//! leaves no journal, lock or half-written work tree behind (a kill still can; the next
//! command finishes what it left). Off unless the process asks for it, because a process that
//! handles these signals itself (the proxy of `authsome run` and `shell`, which pass them to
//! their child) must not be ended by one.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);
/// How many writes are in flight.
static WRITING: AtomicUsize = AtomicUsize::new(0);
/// The signal that arrived during a write (0 when none did).
static PENDING: AtomicI32 = AtomicI32::new(0);

const HELD: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Makes every later write of this process finish (or roll back) before an interrupt or a
/// termination signal ends it; outside writes the signals end the process as they always do.
pub fn hold_during_writes() {
    if ENABLED.swap(true, Ordering::SeqCst) {
        return;
    }
    for sig in HELD {
        // Installed once for the life of the process: signal-hook-registry does not put the
        // default action back when an action is removed, so removing ours would leave the
        // signal ignored.
        // SAFETY: the action only touches atomics and calls signal() and raise(), which are
        // async-signal-safe.
        let _ = unsafe {
            signal_hook_registry::register(sig, move || {
                if WRITING.load(Ordering::SeqCst) > 0 {
                    let _ = PENDING.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
                } else {
                    die_of(sig);
                }
            })
        };
    }
}

/// Ends the process by `sig`, as its default action does.
fn die_of(sig: libc::c_int) {
    // SAFETY: restoring the default action and raising the signal on ourselves.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// A write in flight: signals wait until it is dropped, and the first that arrived then ends
/// the process, as it would have.
pub(super) struct Held(());

/// Holds signals back for as long as the returned guard lives (nothing when not enabled).
pub(super) fn hold() -> Option<Held> {
    if !ENABLED.load(Ordering::SeqCst) {
        return None;
    }
    WRITING.fetch_add(1, Ordering::SeqCst);
    Some(Held(()))
}

impl Drop for Held {
    fn drop(&mut self) {
        if WRITING.fetch_sub(1, Ordering::SeqCst) == 1 {
            let sig = PENDING.swap(0, Ordering::SeqCst);
            if sig != 0 {
                die_of(sig);
            }
        }
    }
}
