//! The client's operations that end by updating it: an execution (its
//! continuations) and forward-or-fallback (the core's rule for falling back).

use std::collections::VecDeque;

use super::{Client, Shared};
use crate::blocking::Run;
use crate::error::Result;
use crate::forward::ForwardOrFallback;
use crate::gateway::SubmitAnswer;
use crate::operation::{Action, GatewayCall, Operation, Reply};
use crate::step::Step;
use crate::workflow::Execution;

/// [`Client::execute`]'s operation: an [`Execution`] that registers its
/// continuations with the client when it ends.
///
/// A fast job's webhook can reach the client's receiver before the submit
/// answer reaches this execution: its follow-up then finds nothing
/// registered. So a continuation whose job's result is already here is
/// resolved at once, and its step runs as the end of this execution (in its
/// trace; a failure there does not undo the submission).
#[derive(Debug)]
pub struct ClientExecution {
    pub(super) client: Client,
    pub(super) execution: Execution,
    /// The main run, once over, while late follow-ups run.
    pub(super) done: Option<Run>,
    pub(super) late: VecDeque<Step>,
    /// The late follow-up running now, and its step.
    pub(super) current: Option<(Step, Box<ClientExecution>)>,
}

impl ClientExecution {
    fn finish(&mut self, action: Action<crate::Outcome>) -> Action<Run> {
        let outcome = match action {
            Action::Send(request) => return Action::Send(request),
            Action::Done(Err(error)) => return Action::Done(Err(error)),
            Action::Done(Ok(outcome)) => outcome,
        };
        let continuations = self.execution.take_continuations();
        {
            let mut shared = self.client.shared();
            let Shared {
                continuations: pending,
                results,
            } = &mut *shared;
            for continuation in &continuations {
                pending.register(continuation.clone());
                if let Some(event) = results.get(&continuation.job_id) {
                    self.late.extend(pending.resolve(&event));
                }
            }
        }
        self.done = Some(Run {
            outcome,
            trace: self.execution.trace().clone(),
            continuations,
        });
        self.next_late()
    }

    /// Start the next late follow-up, or end with the main run.
    fn next_late(&mut self) -> Action<Run> {
        while let Some(step) = self.late.pop_front() {
            let mut child = match self.client.execute(&step) {
                Ok(child) => child,
                Err(error) => {
                    self.absorb(&step, Err(error));
                    continue;
                }
            };
            match child.start() {
                Action::Send(request) => {
                    self.current = Some((step, Box::new(child)));
                    return Action::Send(request);
                }
                Action::Done(result) => self.absorb(&step, result),
            }
        }
        match self.done.take() {
            Some(run) => Action::Done(Ok(run)),
            None => Action::Done(Err(crate::Error::misuse("the execution is over"))),
        }
    }

    /// A late follow-up ended: its trace (or its failure) joins the main one.
    fn absorb(&mut self, step: &Step, result: Result<Run>) {
        let Some(done) = self.done.as_mut() else {
            return;
        };
        match result {
            Ok(run) => done.trace.extend(run.trace),
            Err(error) => done.trace.push(crate::TraceEntry {
                step: step.label(),
                status: crate::TraceStatus::Failed,
                status_code: None,
                response: None,
                response_meaning: None,
                error: Some(error.to_string()),
            }),
        }
    }
}

impl Operation for ClientExecution {
    type Output = Run;

    fn start(&mut self) -> Action<Run> {
        let action = self.execution.start();
        self.finish(action)
    }

    fn feed(&mut self, now_ms: u64, reply: Reply) -> Action<Run> {
        let Some((_, child)) = self.current.as_mut() else {
            let action = self.execution.feed(now_ms, reply);
            return self.finish(action);
        };
        match child.feed(now_ms, reply) {
            Action::Send(request) => Action::Send(request),
            Action::Done(result) => {
                if let Some((step, _)) = self.current.take() {
                    self.absorb(&step, result);
                }
                self.next_late()
            }
        }
    }
}

/// [`Client::forward_or_fallback`]'s operation.
#[derive(Debug)]
pub struct ForwardCall(pub(super) GatewayCall<SubmitAnswer>);

impl ForwardCall {
    /// The submission's end, read as forward-or-fallback.
    fn decide(action: Action<SubmitAnswer>) -> Action<ForwardOrFallback<()>> {
        match action {
            Action::Send(request) => Action::Send(request),
            Action::Done(Ok(answer)) => Action::Done(Ok(ForwardOrFallback::Submitted(answer))),
            Action::Done(Err(error)) if error.is_service_unreachable() => {
                Action::Done(Ok(ForwardOrFallback::Fallback(())))
            }
            Action::Done(Err(error)) => Action::Done(Err(error)),
        }
    }
}

impl Operation for ForwardCall {
    type Output = ForwardOrFallback<()>;

    fn start(&mut self) -> Action<Self::Output> {
        Self::decide(self.0.start())
    }

    fn feed(&mut self, now_ms: u64, reply: Reply) -> Action<Self::Output> {
        Self::decide(self.0.feed(now_ms, reply))
    }
}

impl From<ForwardCall> for GatewayCall<SubmitAnswer> {
    fn from(call: ForwardCall) -> Self {
        call.0
    }
}
