//! Workflow continuations: the on_success / on_failure steps of a submitted
//! job that this client runs itself when the job's webhook arrives.

use std::collections::HashMap;

use super::event::WebhookEvent;
use crate::step::Step;

/// The follow-ups of one submitted job.
#[derive(Debug, Clone, PartialEq)]
pub struct Continuation {
    /// The submitted job.
    pub job_id: String,
    /// Run when the job succeeded.
    pub on_success: Option<Step>,
    /// Run when the job failed.
    pub on_failure: Option<Step>,
}

/// Pending continuations by job id, bounded so an app that never receives its
/// webhooks does not grow without limit (the oldest registration goes first).
#[derive(Debug, Clone)]
pub struct Continuations {
    capacity: usize,
    pending: HashMap<String, (u64, Continuation)>,
    next_order: u64,
}

impl Default for Continuations {
    fn default() -> Self {
        Self::new(10_000)
    }
}

impl Continuations {
    /// A registry holding at most `capacity` pending jobs (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            pending: HashMap::new(),
            next_order: 0,
        }
    }

    /// Remember a job's follow-ups (replacing any earlier ones for that job).
    pub fn register(&mut self, continuation: Continuation) {
        if continuation.on_success.is_none() && continuation.on_failure.is_none() {
            return;
        }
        if self.pending.len() >= self.capacity && !self.pending.contains_key(&continuation.job_id) {
            let oldest = self
                .pending
                .iter()
                .min_by_key(|(_, (order, _))| *order)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                self.pending.remove(&oldest);
            }
        }
        self.next_order += 1;
        self.pending
            .insert(continuation.job_id.clone(), (self.next_order, continuation));
    }

    /// The step to run now that `event` arrived (its job's on_success or
    /// on_failure), forgetting the job. `None` for unknown jobs, repeats, and
    /// jobs with no follow-up for that outcome.
    pub fn resolve(&mut self, event: &WebhookEvent) -> Option<Step> {
        let (_, continuation) = self.pending.remove(&event.job_id)?;
        if event.succeeded() {
            continuation.on_success
        } else {
            continuation.on_failure
        }
    }

    /// How many jobs wait for their webhook.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no job waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(job_id: &str, status: &str) -> WebhookEvent {
        WebhookEvent::parse(format!(r#"{{"job_id":"{job_id}","status":"{status}"}}"#).as_bytes())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn resolves_once_by_status_and_stays_bounded() {
        let ok = Step::new().url("https://ok.example");
        let ko = Step::new().url("https://ko.example");
        let mut registry = Continuations::new(2);
        for id in ["a", "b", "c"] {
            registry.register(Continuation {
                job_id: id.into(),
                on_success: Some(ok.clone()),
                on_failure: Some(ko.clone()),
            });
        }
        assert_eq!(registry.len(), 2);
        assert_eq!(
            registry.resolve(&event("a", "success")),
            None,
            "oldest evicted"
        );
        assert_eq!(registry.resolve(&event("b", "failed")), Some(ko));
        assert_eq!(registry.resolve(&event("b", "failed")), None, "only once");
        assert_eq!(registry.resolve(&event("c", "success")), Some(ok));
        assert!(registry.is_empty());
    }
}
