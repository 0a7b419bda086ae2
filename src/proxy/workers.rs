//! The threads that serve the proxy's connections: one per core (up to [`MAX`]), each running
//! a single-threaded runtime (the thread that accepts connections only hands them out). A
//! connection is given to the next worker in turn and stays there: every task of a tunnel (the
//! client's TLS, its requests, the upstream connections of that worker's pool) runs on one
//! thread, so no wake crosses threads on the way of a request. A work-stealing runtime with two
//! workers cost more in those wakes than it gained (docs/proxy.md); this is how nginx and Envoy
//! use cores.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::mpsc;

/// The most workers, whatever the core count: the proxy serves one child process.
pub const MAX: usize = 4;

/// How often a worker's standing timer fires. hyper arms a fresh head time-out
/// ([`super::limits::HEAD_TIMEOUT`], 10 s) for every request, and tokio wakes its own driver (a
/// write to an eventfd, and a spurious return from the next `epoll_wait`) whenever a timer is
/// set to fire before every timer it holds; a timer always due sooner keeps those silent. That
/// was one system call for every other request.
const STANDING: std::time::Duration = std::time::Duration::from_secs(5);

thread_local! {
    /// Which worker this thread is (0 on any thread that is not a worker).
    static INDEX: Cell<usize> = const { Cell::new(0) };
}

/// How many workers to run on this machine: one per core, at least one, at most [`MAX`].
pub fn count() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX)
}

/// The worker the calling thread is, from 0 to `count - 1`.
pub fn index() -> usize {
    INDEX.with(Cell::get)
}

/// Workers that take jobs in turn, each a thread of its own.
pub struct Workers<J> {
    threads: Vec<mpsc::UnboundedSender<J>>,
    next: AtomicUsize,
}

impl<J: Send + 'static> Workers<J> {
    /// Starts `count` worker threads (at least one); `handle` takes each job on the worker it
    /// is given to, inside that worker's runtime (so it may spawn tasks there).
    pub fn start(
        count: usize,
        handle: impl Fn(J) + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let handle: Arc<dyn Fn(J) + Send + Sync> = Arc::new(handle);
        let mut threads = Vec::new();
        for index in 0..count.max(1) {
            let (tx, mut rx) = mpsc::unbounded_channel::<J>();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let handle = handle.clone();
            std::thread::Builder::new()
                .name(format!("authsome-proxy-{index}"))
                .spawn(move || {
                    INDEX.with(|i| i.set(index));
                    runtime.block_on(async {
                        let standing = tokio::spawn(async {
                            loop {
                                tokio::time::sleep(STANDING).await;
                            }
                        });
                        while let Some(job) = rx.recv().await {
                            handle(job);
                        }
                        standing.abort();
                    });
                    // The jobs' tasks end with the process; blocking ones are not waited for.
                    runtime.shutdown_background();
                })?;
            threads.push(tx);
        }
        Ok(Workers {
            threads,
            next: AtomicUsize::new(0),
        })
    }

    /// Gives `job` to the next worker in turn (passing over one that has stopped).
    pub fn give(&self, job: J) {
        let mut job = job;
        for _ in 0..self.threads.len() {
            let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.threads.len();
            match self.threads[turn].send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(back)) => job = back,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn jobs_go_to_each_worker_in_turn_and_run_on_its_thread() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let workers = Workers::start(3, move |job: usize| {
            let tx = tx.clone();
            // Spawned, as a connection is: the task must run on the worker that took the job.
            tokio::spawn(async move {
                let name = std::thread::current().name().map(str::to_owned);
                let _ = tx.send((job, index(), name));
            });
        })
        .unwrap();
        for job in 0..6 {
            workers.give(job);
        }
        let mut seen = Vec::new();
        for _ in 0..6 {
            seen.push(rx.recv().await.unwrap());
        }
        seen.sort();
        for (job, worker, name) in seen {
            assert_eq!(worker, job % 3, "job {job} ran on worker {worker}");
            assert_eq!(name, Some(format!("authsome-proxy-{worker}")), "job {job}");
        }
    }
}
