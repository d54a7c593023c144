//! Delivered results, and the waits for them.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::{Shared, RESULTS_KEPT};
use crate::error::TransportError;
use crate::webhook::WebhookEvent;

/// Delivered results (bounded, oldest forgotten first) and the wakers of
/// those waiting for one. Plain lists rather than hash maps: a lookup scans
/// at most [`RESULTS_KEPT`] entries once per delivery or wake-up, and each
/// map type would add its own copy of the hash table to every binding
/// (the npm package's size is a feature).
#[derive(Debug, Default)]
pub(super) struct Results {
    pub(super) delivered: VecDeque<WebhookEvent>,
    waiting: Vec<Waiter>,
    next_waiter: u64,
}

#[derive(Debug)]
struct Waiter {
    id: u64,
    job_id: String,
    waker: Waker,
}

impl Results {
    pub(super) fn get(&self, job_id: &str) -> Option<WebhookEvent> {
        self.delivered.iter().find(|e| e.job_id == job_id).cloned()
    }

    /// Keep `event`; hand back the wakers of its waiters, to be woken once
    /// the caller has let go of the lock (a waker may poll at once, and the
    /// poll takes the lock).
    #[must_use = "the waiters wait until their wakers are woken"]
    pub(super) fn deliver(&mut self, event: WebhookEvent) -> Vec<Waker> {
        let job_id = event.job_id.clone();
        match self.delivered.iter_mut().find(|e| e.job_id == job_id) {
            Some(known) => *known = event,
            None => {
                if self.delivered.len() == RESULTS_KEPT {
                    self.delivered.pop_front();
                }
                self.delivered.push_back(event);
            }
        }
        let (woken, waiting): (Vec<Waiter>, Vec<Waiter>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|w| w.job_id == job_id);
        self.waiting = waiting;
        woken.into_iter().map(|w| w.waker).collect()
    }

    /// Remember (or refresh) `waiter`'s waker for `job_id`; returns its id.
    pub(super) fn register(&mut self, job_id: &str, waiter: Option<u64>, waker: &Waker) -> u64 {
        if let Some(known) = waiter.and_then(|id| self.waiting.iter_mut().find(|w| w.id == id)) {
            known.waker.clone_from(waker);
            return known.id;
        }
        self.next_waiter += 1;
        self.waiting.push(Waiter {
            id: self.next_waiter,
            job_id: job_id.to_owned(),
            waker: waker.clone(),
        });
        self.next_waiter
    }

    pub(super) fn forget(&mut self, waiter: u64) {
        self.waiting.retain(|w| w.id != waiter);
    }

    #[cfg(test)]
    pub(super) fn waiters(&self) -> usize {
        self.waiting.len()
    }
}

/// A wait for one job's result (see [`Client::wait_for_result`](super::Client::wait_for_result)).
#[derive(Debug)]
#[must_use = "a wait does nothing unless polled"]
pub struct ResultWait {
    pub(super) job_id: String,
    pub(super) waiter: Option<u64>,
    pub(super) shared: Arc<Mutex<Shared>>,
}

impl ResultWait {
    /// The job waited for.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// How a wait for `job_id` ends when `timeout_ms` passed without its
    /// result, in every binding's words.
    pub fn timed_out(job_id: &str, timeout_ms: u64) -> TransportError {
        TransportError::timeout(format!(
            "no result for job {job_id:?} within {timeout_ms} ms"
        ))
    }

    /// The result if it has arrived, without waiting.
    pub fn ready(&self) -> Option<WebhookEvent> {
        let shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        shared.results.get(&self.job_id)
    }
}

impl Future for ResultWait {
    type Output = WebhookEvent;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<WebhookEvent> {
        let this = self.get_mut();
        let mut shared = this.shared.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(event) = shared.results.get(&this.job_id) {
            if let Some(waiter) = this.waiter.take() {
                shared.results.forget(waiter);
            }
            return Poll::Ready(event);
        }
        this.waiter = Some(
            shared
                .results
                .register(&this.job_id, this.waiter, cx.waker()),
        );
        Poll::Pending
    }
}

impl Drop for ResultWait {
    fn drop(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            shared.results.forget(waiter);
        }
    }
}
