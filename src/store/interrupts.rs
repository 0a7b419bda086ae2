//! Interrupts held back while a write is in flight: SIGINT, SIGTERM or SIGHUP during a
//! transaction take effect once it has committed or rolled back, so an interrupted command
//! leaves no journal, lock or half-written work tree behind (a kill still can; the next
//! command finishes what it left). Off unless the process asks for it, because a process that
//! handles these signals itself (the proxy of `authsome run`, which passes them to its child)
//! must not be ended by one.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);
/// The signal that arrived during a write (0 when none did).
static PENDING: AtomicI32 = AtomicI32::new(0);

const HELD: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Makes every later write of this process finish (or roll back) before an interrupt or a
/// termination signal ends it.
pub fn hold_during_writes() {
    ENABLED.store(true, Ordering::SeqCst);
}

/// Signals held back until this is dropped, which then lets the first that arrived end the
/// process, as it would have.
pub(super) struct Held {
    ids: Vec<signal_hook_registry::SigId>,
}

/// Holds signals back for as long as the returned guard lives (nothing when not enabled).
pub(super) fn hold() -> Option<Held> {
    if !ENABLED.load(Ordering::SeqCst) {
        return None;
    }
    let ids = HELD
        .iter()
        .filter_map(|&sig| {
            // SAFETY: the action only stores to an atomic, which is async-signal-safe.
            unsafe {
                signal_hook_registry::register(sig, move || {
                    let _ = PENDING.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
                })
            }
            .ok()
        })
        .collect();
    Some(Held { ids })
}

impl Drop for Held {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook_registry::unregister(id);
        }
        let sig = PENDING.swap(0, Ordering::SeqCst);
        if sig != 0 {
            // SAFETY: restoring the default action and raising the signal on ourselves ends
            // the process as the signal would have, now that the write is whole.
            unsafe {
                libc::signal(sig, libc::SIG_DFL);
                libc::raise(sig);
            }
        }
    }
}
