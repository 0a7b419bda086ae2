//! What keeps the proxy answering its own client when others misbehave: time-outs for a
//! request's head and a TLS handshake, a cap on connections that have not shown the run's
//! password yet (the oldest is closed to make room, so a flood cannot lock the real client out),
//! and the soft descriptor limit raised to the hard one.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::sync::Notify;

use super::http::MAX_HEAD;

/// How long a client may take to send a request's head (slowloris) or a TLS handshake.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// How many connections may wait without having shown the password.
pub const MAX_UNAUTHENTICATED: usize = 64;

/// The most header fields a request's head may have (Apache's default is 100).
pub const MAX_HEADERS: usize = 512;

/// The HTTP/1.1 server settings every connection the proxy serves uses: heads up to
/// [`MAX_HEAD`] bytes and [`MAX_HEADERS`] fields, read within [`HEAD_TIMEOUT`].
pub fn server() -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .max_header_size(MAX_HEAD)
        // hyper sets up room for this many fields on every request it parses: 16,384 (one per
        // four bytes of MAX_HEAD) cost a quarter of the proxy's CPU per request.
        .max_headers(MAX_HEADERS)
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT);
    builder
}

/// The HTTP/2 server settings of an intercepted connection whose client chose `h2`: header
/// blocks up to [`MAX_HEAD`] bytes, as for HTTP/1.1.
pub fn server_h2() -> http2::Builder<TokioExecutor> {
    let mut builder = http2::Builder::new(TokioExecutor::new());
    builder
        .max_header_list_size(MAX_HEAD as u32)
        .timer(TokioTimer::new());
    builder
}

/// The connections that have not shown the password yet, oldest first.
#[derive(Default)]
pub struct Unauthenticated {
    waiting: Mutex<VecDeque<(u64, Arc<Notify>)>>,
    next: std::sync::atomic::AtomicU64,
}

/// One connection's place among the unauthenticated: closed when told to, left when the
/// connection shows the password or ends.
pub struct Pending {
    id: u64,
    /// Notified when the connection must close to make room.
    pub evicted: Arc<Notify>,
    list: Arc<Unauthenticated>,
}

impl Unauthenticated {
    /// Registers a new connection; past [`MAX_UNAUTHENTICATED`], the oldest is told to close.
    pub fn admit(list: &Arc<Unauthenticated>) -> Pending {
        let id = list.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let evicted = Arc::new(Notify::new());
        let mut waiting = list.waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting.push_back((id, evicted.clone()));
        while waiting.len() > MAX_UNAUTHENTICATED {
            if let Some((_, oldest)) = waiting.pop_front() {
                oldest.notify_one();
            }
        }
        Pending {
            id,
            evicted,
            list: list.clone(),
        }
    }

    fn leave(&self, id: u64) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting.retain(|(i, _)| *i != id);
    }
}

impl Pending {
    /// The connection showed the password: it no longer counts, and is never closed for room.
    pub fn authenticated(&self) {
        self.list.leave(self.id);
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.list.leave(self.id);
    }
}
