//! The job payload's JSON text (PROTOCOL §2), written by hand: fields in the
//! protocol's order, a field at its default left out, strings escaped exactly
//! as serde_json escapes them.
//!
//! One writer serves a parsed [`Job`] and a [`Step`]. A step's payload is
//! written straight from its fields, without building a `Job` first: that is
//! the SDK's hottest path (every submit, every forward), and cloning every
//! string into a `Job` then walking it through serde cost six times more.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::job::Job;
use crate::json;
use crate::model::{ExecutionMode, RegionPolicy, RetryPolicy, Trigger, Webhook};
use crate::step::Step;

/// The fields every job and step writes the same way, borrowed.
struct Flat<'a> {
    url: &'a str,
    method: &'a str,
    headers: &'a [(String, String)],
    body: Option<&'a str>,
    metadata: &'a Map<String, Value>,
    webhooks: &'a [Webhook],
    webhook_quorum: u32,
    regions: &'a [String],
    region_policy: RegionPolicy,
    execution_mode: ExecutionMode,
    retry_policy: Option<&'a RetryPolicy>,
    retry_at: Option<u64>,
    idempotent_key: Option<Cow<'a, str>>,
}

/// A job's JSON text.
pub(crate) fn job_json(job: &Job) -> String {
    let mut out = Writer::with_capacity(TYPICAL_PAYLOAD);
    out.job(job);
    out.finish()
}

/// The JSON text of the job a (validated) step becomes.
pub(crate) fn step_json(step: &Step) -> String {
    let mut out = Writer::with_capacity(TYPICAL_PAYLOAD);
    out.step_root(step);
    out.finish()
}

/// Room for a typical payload (the conformance `everything` step is ~800
/// bytes) so that writing it never reallocates.
const TYPICAL_PAYLOAD: usize = 1024;

struct Writer(String);

impl Writer {
    fn with_capacity(capacity: usize) -> Self {
        Self(String::with_capacity(capacity))
    }

    fn finish(self) -> String {
        self.0
    }

    // Inlined so that literal field names become fixed-size copies.
    #[inline(always)]
    fn raw(&mut self, text: &str) {
        self.0.push_str(text);
    }

    fn string(&mut self, text: &str) {
        json::write_string(&mut self.0, text);
    }

    fn number(&mut self, n: u64) {
        json::write_u64(&mut self.0, n);
    }

    fn strings(&mut self, items: &[String]) {
        self.0.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            self.string(item);
        }
        self.0.push(']');
    }

    fn codes(&mut self, codes: &[u16]) {
        self.0.push('[');
        for (i, &code) in codes.iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            self.number(u64::from(code));
        }
        self.0.push(']');
    }

    // Every field after the first, `url`, is written with its comma:
    // `,"name":`.
    fn flat(&mut self, f: &Flat<'_>) {
        self.raw("{\"url\":");
        self.string(f.url);
        self.raw(",\"method\":");
        self.string(f.method);
        if !f.headers.is_empty() {
            self.raw(",\"headers\":");
            self.0.push('{');
            for (i, (name, value)) in f.headers.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                self.string(name);
                self.0.push(':');
                self.string(value);
            }
            self.0.push('}');
        }
        if let Some(body) = f.body {
            self.raw(",\"body\":");
            self.string(body);
        }
        if !f.metadata.is_empty() {
            self.raw(",\"metadata\":");
            json::write_object(&mut self.0, f.metadata);
        }
        if !f.webhooks.is_empty() {
            self.raw(",\"webhooks\":");
            self.webhooks(f.webhooks);
        }
        if f.webhook_quorum != 1 {
            self.raw(",\"webhook_quorum\":");
            self.number(u64::from(f.webhook_quorum));
        }
        if !f.regions.is_empty() {
            self.raw(",\"regions\":");
            self.strings(f.regions);
        }
        if f.region_policy != RegionPolicy::default() {
            self.raw(",\"region_policy\":");
            self.string(f.region_policy.as_str());
        }
        if f.execution_mode != ExecutionMode::default() {
            self.raw(",\"execution_mode\":");
            self.string(f.execution_mode.as_str());
        }
        if let Some(policy) = f.retry_policy {
            self.raw(",\"retry_policy\":");
            self.retry_policy(policy);
        }
        if let Some(at) = f.retry_at {
            self.raw(",\"retry_at\":");
            self.number(at);
        }
        if let Some(key) = &f.idempotent_key {
            self.raw(",\"idempotent_key\":");
            self.string(key);
        }
    }

    fn webhooks(&mut self, webhooks: &[Webhook]) {
        self.0.push('[');
        for (i, hook) in webhooks.iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            self.raw("{\"url\":");
            self.string(&hook.url);
            if let Some(regions) = &hook.regions {
                self.raw(",\"regions\":");
                self.strings(regions);
            }
            if let Some(vote) = hook.has_quorum_vote {
                self.raw(",\"has_quorum_vote\":");
                self.raw(if vote { "true" } else { "false" });
            }
            self.0.push('}');
        }
        self.0.push(']');
    }

    fn retry_policy(&mut self, policy: &RetryPolicy) {
        self.0.push('{');
        let mut separator = "";
        let mut next = |out: &mut Self, name: &str| {
            out.raw(separator);
            out.0.push('"');
            out.raw(name);
            out.0.push_str("\":");
            separator = ",";
        };
        if let Some(n) = policy.max_retries {
            next(self, "max_retries");
            self.number(u64::from(n));
        }
        if let Some(n) = policy.max_reroutes {
            next(self, "max_reroutes");
            self.number(u64::from(n));
        }
        if let Some(codes) = &policy.retry_codes {
            next(self, "retry_codes");
            self.codes(codes);
        }
        if let Some(codes) = &policy.reroute_codes {
            next(self, "reroute_codes");
            self.codes(codes);
        }
        self.0.push('}');
    }

    fn trigger(&mut self, trigger: &Trigger) {
        match trigger {
            Trigger::Always => self.raw("{}"),
            Trigger::OnError(codes) => {
                self.raw("{\"type\":\"on_error\",\"codes\":");
                self.codes(codes);
                self.0.push('}');
            }
            Trigger::OnTimeout(ms) => {
                self.raw("{\"type\":\"on_timeout\",\"timeout_ms\":");
                self.number(*ms);
                self.0.push('}');
            }
        }
    }

    /// The part after the flat fields: on_success, on_failure, the timeout.
    fn children(
        &mut self,
        on_success: Option<&Step>,
        on_failure: Option<&Step>,
        timeout: Option<u64>,
    ) {
        if let Some(child) = on_success {
            self.raw(",\"on_success\":");
            self.step_root(child);
        }
        if let Some(child) = on_failure {
            self.raw(",\"on_failure\":");
            self.step_root(child);
        }
        if let Some(ms) = timeout {
            self.raw(",\"on_failure_timeout_ms\":");
            self.number(ms);
        }
    }

    fn job(&mut self, job: &Job) {
        self.flat(&Flat {
            url: &job.url,
            method: &job.method,
            headers: &job.headers.0,
            body: job.body.as_deref(),
            metadata: &job.metadata,
            webhooks: &job.webhooks,
            webhook_quorum: job.webhook_quorum,
            regions: &job.regions,
            region_policy: job.region_policy,
            execution_mode: job.execution_mode,
            retry_policy: job.retry_policy.as_ref(),
            retry_at: job.retry_at,
            idempotent_key: job.idempotent_key.as_deref().map(Cow::Borrowed),
        });
        if let Some(trigger) = &job.trigger {
            self.raw(",\"trigger\":");
            self.trigger(trigger);
        }
        for (name, child) in [
            (",\"fallback_job\":", &job.fallback_job),
            (",\"on_success\":", &job.on_success),
            (",\"on_failure\":", &job.on_failure),
        ] {
            if let Some(child) = child {
                self.raw(name);
                self.job(child);
            }
        }
        if let Some(ms) = job.on_failure_timeout_ms {
            self.raw(",\"on_failure_timeout_ms\":");
            self.number(ms);
        }
        self.0.push('}');
    }

    /// A step's own fields: its fallbacks are written by whoever holds it
    /// (they are flattened into the chain of the root step).
    fn step_flat(&mut self, step: &Step) {
        self.flat(&Flat {
            url: step.url.as_deref().unwrap_or_default(),
            method: &step.method,
            headers: &step.headers,
            body: step.body.as_deref(),
            metadata: &step.metadata,
            webhooks: &step.webhooks,
            webhook_quorum: step.webhook_quorum,
            regions: &step.regions,
            region_policy: step.region_policy,
            execution_mode: step.execution_mode,
            retry_policy: step.retry_policy.as_ref().filter(|p| !p.is_empty()),
            retry_at: step.retry_at_ms,
            idempotent_key: step.payload_idempotent_key(),
        });
    }

    /// A step with its fallbacks flattened into one `fallback_job` chain.
    fn step_root(&mut self, step: &Step) {
        self.step_flat(step);
        if !step.fallbacks.is_empty() {
            self.raw(",\"fallback_job\":");
            self.chain(&step.flattened_fallbacks());
        }
        self.children(
            step.on_success.as_deref(),
            step.on_failure.as_deref(),
            step.on_failure_timeout_ms,
        );
        self.0.push('}');
    }

    /// One link of a fallback chain and, nested in it, the rest.
    fn chain(&mut self, links: &[(&Step, &Trigger)]) {
        let Some(((step, trigger), rest)) = links.split_first() else {
            return;
        };
        self.step_flat(step);
        self.raw(",\"trigger\":");
        self.trigger(trigger);
        if !rest.is_empty() {
            self.raw(",\"fallback_job\":");
            self.chain(rest);
        }
        self.children(
            step.on_success.as_deref(),
            step.on_failure.as_deref(),
            step.on_failure_timeout_ms,
        );
        self.0.push('}');
    }
}
