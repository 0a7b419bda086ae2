//! The threads that serve the proxy's connections: one per core (up to [`MAX`]), each running
//! a single-threaded runtime. A connection is given to the next worker in turn and stays there:
//! every task of a tunnel (the client's TLS, its requests, the upstream connections of that
//! worker's pool) runs on one thread, so no wake crosses threads on the way of a request. A
//! work-stealing runtime with two workers cost more in those wakes than it gained
//! (docs/proxy.md); this is how nginx and Envoy use cores.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::mpsc;

/// The most workers, whatever the core count: the proxy serves one child process.
pub const MAX: usize = 4;

thread_local! {
    /// Which worker this thread is (0 on any thread that is not one of the extra workers).
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

/// Workers that take jobs in turn: worker 0 is the thread that calls [`Workers::give`] (inside
/// its runtime), the others are threads of their own.
pub struct Workers<J> {
    others: Vec<mpsc::UnboundedSender<J>>,
    next: AtomicUsize,
    handle: Arc<dyn Fn(J) + Send + Sync>,
}

impl<J: Send + 'static> Workers<J> {
    /// Starts `count - 1` worker threads; `handle` takes each job on the worker it is given to,
    /// inside that worker's runtime (so it may spawn tasks there).
    pub fn start(
        count: usize,
        handle: impl Fn(J) + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let handle: Arc<dyn Fn(J) + Send + Sync> = Arc::new(handle);
        let mut others = Vec::new();
        for index in 1..count.max(1) {
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
                        while let Some(job) = rx.recv().await {
                            handle(job);
                        }
                    });
                    // The jobs' tasks end with the process; blocking ones are not waited for.
                    runtime.shutdown_background();
                })?;
            others.push(tx);
        }
        Ok(Workers {
            others,
            next: AtomicUsize::new(0),
            handle,
        })
    }

    /// Gives `job` to the next worker in turn.
    pub fn give(&self, job: J) {
        let turn = self.next.fetch_add(1, Ordering::Relaxed) % (self.others.len() + 1);
        match turn.checked_sub(1).map(|i| &self.others[i]) {
            None => (self.handle)(job),
            // A worker that has stopped (it panicked) leaves its turn to this thread.
            Some(worker) => {
                if let Err(mpsc::error::SendError(job)) = worker.send(job) {
                    (self.handle)(job);
                }
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
        let here = std::thread::current().name().map(str::to_owned);
        for (job, worker, name) in seen {
            assert_eq!(worker, job % 3, "job {job} ran on worker {worker}");
            let expected = match worker {
                0 => here.clone(),
                n => Some(format!("authsome-proxy-{n}")),
            };
            assert_eq!(name, expected, "job {job}");
        }
    }
}
