//! Executing a step (PROTOCOL §5), sans-IO.
//!
//! PERFORMANCE: submit the job. FRUGAL: run the request locally; a 2xx is the
//! result (then on_success runs the same way); a status in `fallback_on_error`
//! or a transport error tries the FRUGAL fallbacks of the chain locally, in
//! order, and if none answers 2xx the primary job (chain included) is
//! submitted once; any other status is a local failure and nothing is sent.

use serde_json::{json, Map, Value};

use crate::config::ClientConfig;
use crate::error::{Error, Result, TransportErrorKind};
use crate::gateway::{read_submit_answer, SubmitAnswer};
use crate::http::{HttpRequest, Target};
use crate::job::Job;
use crate::model::{LocalFailure, StepType, Webhook};
use crate::operation::{read_reply, Action, Operation, Reply};
use crate::step::Step;
use crate::trace::{Trace, TraceEntry, TraceStatus};
use crate::webhook::Continuation;

/// How a step's execution ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The job was submitted (PERFORMANCE, or FRUGAL forwarded).
    Submitted(SubmitAnswer),
    /// The local request (or a local fallback) answered 2xx.
    LocalSuccess {
        /// Its status code.
        status_code: u16,
        /// Its body text.
        response: String,
    },
    /// The local request failed with a status that does not forward.
    LocalFailure {
        /// Its status code.
        status_code: u16,
    },
}

impl Outcome {
    /// The reference SDK's result shape: the service's answer
    /// (`{job_id, status, …}`) or
    /// `{status, executed_locally, status_code, response | error}`.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Submitted(answer) => Value::Object(answer.as_json().clone()),
            Self::LocalSuccess {
                status_code,
                response,
            } => json!({
                "status": "success",
                "executed_locally": true,
                "status_code": status_code,
                "response": response,
            }),
            Self::LocalFailure { status_code } => json!({
                "status": "failed",
                "executed_locally": true,
                "status_code": status_code,
                "error": local_failure_text(*status_code),
            }),
        }
    }

    /// The job id, when the job was submitted.
    pub fn job_id(&self) -> Option<&str> {
        match self {
            Self::Submitted(answer) => Some(answer.job_id()),
            _ => None,
        }
    }
}

fn local_failure_text(status_code: u16) -> String {
    format!("Request failed: {status_code}")
}

/// The execution of one step and of the follow-ups it runs itself.
#[derive(Debug)]
pub struct Execution {
    config: ClientConfig,
    stack: Vec<Frame>,
    started: bool,
    trace: Trace,
    continuations: Vec<Continuation>,
}

#[derive(Debug)]
struct Frame {
    step: Step,
    phase: Phase,
}

#[derive(Debug)]
enum Phase {
    Start,
    AwaitLocal,
    /// Looking for the next fallback of the chain, from `next`, to try for `failure`.
    Fallbacks {
        failure: LocalFailure,
        next: usize,
    },
    AwaitFallback {
        failure: LocalFailure,
        index: usize,
    },
    AwaitSubmit {
        continuation: bool,
    },
    /// A follow-up step is running above this frame; this frame then ends with `result`.
    AwaitChild {
        result: Result<Outcome>,
    },
}

impl ClientConfig {
    /// Start executing `step` (validated first: nothing is sent if it is bad).
    pub fn execute(&self, step: &Step) -> Result<Execution> {
        step.validate()?;
        Ok(Execution {
            config: self.clone(),
            stack: vec![Frame {
                step: step.clone(),
                phase: Phase::Start,
            }],
            started: false,
            trace: Trace::default(),
            continuations: Vec::new(),
        })
    }
}

impl Execution {
    /// What ran so far, in order (follow-ups included).
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The continuations to register: set when the configuration names a
    /// continuation webhook and a submitted job has on_success / on_failure
    /// steps, which then run in this client when the job's webhook arrives.
    pub fn take_continuations(&mut self) -> Vec<Continuation> {
        std::mem::take(&mut self.continuations)
    }

    /// The next request of the top frame (or its submission).
    fn advance(&mut self) -> Action<Outcome> {
        let Some(frame) = self.stack.last_mut() else {
            return Action::Done(Err(Error::misuse("the execution is over")));
        };
        match frame.phase {
            Phase::Start if frame.step.step_type == StepType::Frugal => {
                frame.phase = Phase::AwaitLocal;
                Action::Send(local_request(&frame.step))
            }
            Phase::Start => self.submit_top(),
            Phase::Fallbacks { failure, next } => {
                let chain = frame.step.flattened_fallbacks();
                let found = chain
                    .iter()
                    .enumerate()
                    .skip(next)
                    .find(|(_, (fb, trigger))| {
                        fb.step_type == StepType::Frugal && trigger.fires_on(&failure)
                    });
                match found {
                    Some((index, (fallback, _))) => {
                        let request = local_request(fallback);
                        frame.phase = Phase::AwaitFallback { failure, index };
                        Action::Send(request)
                    }
                    None => self.submit_top(),
                }
            }
            Phase::AwaitLocal | Phase::AwaitFallback { .. } | Phase::AwaitSubmit { .. } => {
                Action::Done(Err(Error::misuse("a request is in flight; feed its reply")))
            }
            Phase::AwaitChild { .. } => {
                Action::Done(Err(Error::misuse("a follow-up step is lost")))
            }
        }
    }

    /// Submit the job of the top frame.
    fn submit_top(&mut self) -> Action<Outcome> {
        let Some(frame) = self.stack.last_mut() else {
            return Action::Done(Err(Error::misuse("the execution is over")));
        };
        let hook = self.config.continuation_webhook();
        let continuation =
            hook.is_some() && (frame.step.on_success.is_some() || frame.step.on_failure.is_some());
        let mut job = Job::from_valid_step(&frame.step);
        if let (true, Some(hook)) = (continuation, hook) {
            // The follow-ups run here when the webhook arrives, so the service
            // must not spawn them too.
            job.on_success = None;
            job.on_failure = None;
            job.on_failure_timeout_ms = None;
            job.webhooks.push(Webhook::new(hook).quorum_vote(true));
        }
        frame.phase = Phase::AwaitSubmit { continuation };
        Action::Send(self.config.submit_request_json(job.to_json()))
    }

    /// End the top frame with `result`, then resume whoever waits for it.
    fn finish_top(&mut self, result: Result<Outcome>) -> Action<Outcome> {
        self.stack.pop();
        match self.stack.last_mut() {
            None => Action::Done(result),
            Some(parent) => {
                // A follow-up's own result is in the trace; the parent ends
                // with the result it had before the follow-up ran.
                match std::mem::replace(&mut parent.phase, Phase::Start) {
                    Phase::AwaitChild { result } => self.finish_top(result),
                    _ => Action::Done(Err(Error::misuse("a follow-up has no parent waiting"))),
                }
            }
        }
    }

    /// A local 2xx by `step` ends the top frame, after `step`'s on_success.
    fn local_success(&mut self, on_success: Option<Step>, outcome: Outcome) -> Action<Outcome> {
        match (on_success, self.stack.last_mut()) {
            (Some(child), Some(frame)) => {
                frame.phase = Phase::AwaitChild {
                    result: Ok(outcome),
                };
                self.stack.push(Frame {
                    step: child,
                    phase: Phase::Start,
                });
                self.advance()
            }
            _ => self.finish_top(Ok(outcome)),
        }
    }
}

enum Detail {
    Response(String),
    Error(String),
}

fn local_request(step: &Step) -> HttpRequest {
    HttpRequest {
        target: Target::Local,
        method: step.method.clone().into_owned(),
        url: step.url.clone().unwrap_or_default(),
        headers: step.headers.clone(),
        body: step.body.clone(),
        timeout_ms: step.local_timeout_ms,
    }
}

fn transport_failure(kind: TransportErrorKind) -> LocalFailure {
    match kind {
        TransportErrorKind::Timeout => LocalFailure::Timeout,
        _ => LocalFailure::Network,
    }
}

impl Operation for Execution {
    type Output = Outcome;

    fn start(&mut self) -> Action<Outcome> {
        if std::mem::replace(&mut self.started, true) {
            return Action::Done(Err(Error::misuse("the execution was already started")));
        }
        self.advance()
    }

    fn feed(&mut self, now_ms: u64, reply: Reply) -> Action<Outcome> {
        let Self { stack, trace, .. } = self;
        let Some(frame) = stack.last_mut() else {
            return Action::Done(Err(Error::misuse("the execution is over")));
        };
        match std::mem::replace(&mut frame.phase, Phase::Start) {
            Phase::AwaitLocal => match local_attempt(trace, &frame.step, reply) {
                Attempt::Succeeded(outcome) => {
                    let on_success = frame.step.on_success.as_deref().cloned();
                    self.local_success(on_success, outcome)
                }
                Attempt::Failed(LocalFailure::Status(code))
                    if !frame.step.fallback_on_error.contains(&code) =>
                {
                    self.finish_top(Ok(Outcome::LocalFailure { status_code: code }))
                }
                Attempt::Failed(failure) => {
                    frame.phase = Phase::Fallbacks { failure, next: 0 };
                    self.advance()
                }
            },
            Phase::AwaitFallback { failure, index } => {
                let chain = frame.step.flattened_fallbacks();
                let Some((fallback, _)) = chain.get(index) else {
                    return Action::Done(Err(Error::misuse("the fallback chain changed")));
                };
                match local_attempt(trace, fallback, reply) {
                    Attempt::Succeeded(outcome) => {
                        // As the reference: the rescuing fallback's own on_success runs.
                        let on_success = fallback.on_success.as_deref().cloned();
                        self.local_success(on_success, outcome)
                    }
                    Attempt::Failed(_) => {
                        frame.phase = Phase::Fallbacks {
                            failure,
                            next: index + 1,
                        };
                        self.advance()
                    }
                }
            }
            Phase::AwaitSubmit { continuation } => {
                let result = read_reply(reply, now_ms).and_then(read_submit_answer);
                let step = &frame.step;
                match &result {
                    Ok(answer) => {
                        let text = crate::json::object_to_string(answer.as_json());
                        record(
                            trace,
                            step,
                            TraceStatus::Forwarded,
                            None,
                            Detail::Response(text),
                        );
                        if continuation {
                            self.continuations.push(Continuation {
                                job_id: answer.job_id().to_owned(),
                                on_success: step.on_success.as_deref().cloned(),
                                on_failure: step.on_failure.as_deref().cloned(),
                            });
                        }
                    }
                    Err(error) => {
                        record(
                            trace,
                            step,
                            TraceStatus::Failed,
                            None,
                            Detail::Error(error.to_string()),
                        );
                    }
                }
                self.finish_top(result.map(Outcome::Submitted))
            }
            other @ (Phase::Start | Phase::Fallbacks { .. } | Phase::AwaitChild { .. }) => {
                frame.phase = other;
                Action::Done(Err(Error::misuse(
                    "no request of this execution is in flight",
                )))
            }
        }
    }
}

/// How one local request of `step` ended; recorded in the trace.
enum Attempt {
    Succeeded(Outcome),
    Failed(LocalFailure),
}

fn local_attempt(trace: &mut Trace, step: &Step, reply: Reply) -> Attempt {
    match reply {
        Ok(response) if response.is_success() => {
            let code = Some(response.status);
            record(
                trace,
                step,
                TraceStatus::Success,
                code,
                Detail::Response(response.body.clone()),
            );
            Attempt::Succeeded(Outcome::LocalSuccess {
                status_code: response.status,
                response: response.body,
            })
        }
        Ok(response) => {
            let code = response.status;
            record(
                trace,
                step,
                TraceStatus::Failed,
                Some(code),
                Detail::Error(local_failure_text(code)),
            );
            Attempt::Failed(LocalFailure::Status(code))
        }
        Err(error) => {
            record(
                trace,
                step,
                TraceStatus::Failed,
                None,
                Detail::Error(error.to_string()),
            );
            Attempt::Failed(transport_failure(error.kind))
        }
    }
}

fn record(trace: &mut Trace, step: &Step, status: TraceStatus, code: Option<u16>, detail: Detail) {
    let (response, error) = match detail {
        Detail::Response(text) => (Some(text), None),
        Detail::Error(text) => (None, Some(text)),
    };
    let response_meaning = match status {
        TraceStatus::Success | TraceStatus::Forwarded => step.response_description.clone(),
        TraceStatus::Failed => None,
    };
    trace.push(TraceEntry {
        step: step.label(),
        status,
        status_code: code,
        response,
        response_meaning,
        error,
    });
}

/// The JSON form of an outcome, or of an error (`{"error": code, "message": …}`).
pub fn result_to_json(result: &Result<Outcome>) -> Value {
    match result {
        Ok(outcome) => outcome.to_json(),
        Err(error) => {
            let mut map = Map::new();
            map.insert("error".into(), error.code().into());
            map.insert("message".into(), error.to_string().into());
            Value::Object(map)
        }
    }
}
