//! Background threads for the blocking transport, so async callers (a
//! Kotlin coroutine, a Swift task) never block their executor.
//!
//! The threads are kept between operations, because a thread that calls back
//! into a foreign runtime pays to be attached to it (≈ 100 µs on the JVM) and
//! a fresh thread per request paid that every time. They are capped: past
//! [`MAX_WORKERS`] busy threads, operations queue. An idle thread ends after
//! [`IDLE_EXIT`].

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// The most threads running blocking operations at once.
pub const MAX_WORKERS: usize = 8;
/// How long a thread with nothing to do stays.
pub const IDLE_EXIT: Duration = Duration::from_secs(30);

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

#[derive(Default)]
struct Workers {
    queue: Mutex<Queue>,
    wake: Condvar,
}

fn workers() -> &'static Workers {
    static WORKERS: OnceLock<Workers> = OnceLock::new();
    WORKERS.get_or_init(Workers::default)
}

impl Workers {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Jobs run outside the lock, so a poisoned lock still holds a
        // consistent queue.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn next_job(&self) -> Option<Job> {
        let mut queue = self.lock();
        loop {
            if let Some(job) = queue.jobs.pop_front() {
                return Some(job);
            }
            queue.idle += 1;
            let (woken, waited) = self
                .wake
                .wait_timeout(queue, IDLE_EXIT)
                .unwrap_or_else(|e| e.into_inner());
            queue = woken;
            queue.idle -= 1;
            if waited.timed_out() && queue.jobs.is_empty() {
                queue.threads -= 1;
                return None;
            }
        }
    }
}

/// Run `job` on a worker thread, starting one when none is idle and fewer
/// than [`MAX_WORKERS`] run.
pub(crate) fn spawn(job: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    let pool = workers();
    let mut queue = pool.lock();
    queue.jobs.push_back(Box::new(job));
    if queue.jobs.len() <= queue.idle || queue.threads >= MAX_WORKERS {
        pool.wake.notify_one();
        return Ok(());
    }
    std::thread::Builder::new()
        .name("ezthrottle-http".into())
        .spawn(|| {
            while let Some(job) = workers().next_job() {
                job();
            }
        })
        .inspect_err(|_| {
            queue.jobs.pop_back();
        })?;
    queue.threads += 1;
    Ok(())
}

/// How many worker threads exist now (for tests and diagnostics).
pub fn worker_count() -> usize {
    workers().lock().threads
}
