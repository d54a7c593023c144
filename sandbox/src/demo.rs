//! `ezthrottle-sandbox demo`: the reference SDK's seven integration scenarios
//! plus FRUGAL 429 → forwarded, run through ezthrottle-core over real HTTP
//! against an in-process sandbox; every webhook's signature is verified.

// The demo talks to a person: its timeline goes to stdout.
#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use ezthrottle_core::webhook::{verify_signature, WebhookEvent};
use ezthrottle_core::{
    ClientConfig, ExecutionMode, IdempotentStrategy, Outcome, Step, StepType, Trigger, Webhook,
};
use serde_json::Value;

use crate::driver::Client;
use crate::{Sandbox, SandboxConfig};

const SECRET: &str = "demo_webhook_secret_0123456789";
const API_KEY: &str = "ck_demo_cust_demo_0001";

/// Prints a timeline relative to the demo's start.
#[derive(Debug)]
pub struct Timeline {
    start: Instant,
}

impl Timeline {
    fn say(&self, scenario: &str, what: impl std::fmt::Display) {
        println!(
            "[{:>7.3}s] {scenario:<22} {what}",
            self.start.elapsed().as_secs_f64()
        );
    }
}

/// What each scenario can use.
#[derive(Debug)]
pub struct Ctx {
    pub client: Client,
    pub base: String,
    pub run: String,
    timeline: Timeline,
}

type ScenarioFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;
type Scenario = for<'a> fn(&'a Ctx) -> ScenarioFuture<'a>;

impl Ctx {
    fn upstream(&self, path: &str) -> String {
        format!("{}/upstream/{path}", self.base)
    }

    fn hook(&self, name: &str) -> String {
        format!("{}/receiver/{}-{name}", self.base, self.run)
    }

    async fn execute(&self, name: &str, step: &Step) -> Result<Outcome, String> {
        let mut execution = self
            .client
            .config
            .execute(step)
            .map_err(|e| e.to_string())?;
        let outcome = self
            .client
            .run(&mut execution)
            .await
            .map_err(|e| format!("execute failed: {e}"))?;
        self.timeline
            .say(name, format!("execute → {}", outcome.to_json()));
        Ok(outcome)
    }

    /// Wait for `count` deliveries at a receiver box; verify each signature.
    async fn webhooks(
        &self,
        name: &str,
        hook: &str,
        count: usize,
    ) -> Result<Vec<WebhookEvent>, String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let received = match self.get_json(hook).await? {
                Value::Array(list) => list,
                other => return Err(format!("the receiver answered {other}")),
            };
            if received.len() >= count {
                let mut events = Vec::new();
                for delivery in &received {
                    let body = delivery["body"].as_str().unwrap_or_default();
                    let header = delivery["signature"].as_str().unwrap_or_default();
                    let now = crate::state::now_ms() / 1000;
                    let check = verify_signature(body.as_bytes(), header, SECRET, now, 300);
                    if !check.is_valid() {
                        return Err(format!("webhook signature refused: {}", check.reason));
                    }
                    let event = WebhookEvent::parse(body.as_bytes()).map_err(|e| e.to_string())?;
                    self.timeline.say(
                        name,
                        format!(
                            "webhook ✓ signed  job {} {:?} {}",
                            event.job_id,
                            event.status,
                            event
                                .response
                                .as_ref()
                                .map_or(String::new(), |r| format!("upstream {}", r.status_code))
                        ),
                    );
                    events.push(event);
                }
                return Ok(events);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "waited 20 s for {count} webhook(s) at {hook}, got {}",
                    received.len()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn get_json(&self, url: &str) -> Result<Value, String> {
        let response = self.client.http.get(url).bearer_auth(API_KEY).send().await;
        response
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())
    }

    async fn job_report(&self, job_id: &str) -> Result<Value, String> {
        self.get_json(&format!("{}/api/v1/jobs/{job_id}", self.base))
            .await
    }

    async fn upstream_hits(&self, key: &str) -> Result<u64, String> {
        let value = self
            .get_json(&self.upstream(&format!("hits/{key}")))
            .await?;
        Ok(value["hits"].as_u64().unwrap_or(0))
    }
}

fn ensure(condition: bool, what: impl Into<String>) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(what.into())
    }
}

fn job_id(outcome: &Outcome) -> Result<String, String> {
    outcome
        .job_id()
        .map(str::to_owned)
        .ok_or_else(|| format!("expected a submitted job, got {}", outcome.to_json()))
}

fn performance_basic(ctx: &Ctx) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let name = "performance basic";
        let hook = ctx.hook("basic");
        let step = Step::new()
            .url(ctx.upstream("status/200"))
            .method("POST")
            .webhooks([Webhook::new(&hook)]);
        let id = job_id(&ctx.execute(name, &step).await?)?;
        let events = ctx.webhooks(name, &hook, 1).await?;
        ensure(
            events[0].job_id == id && events[0].succeeded(),
            "the webhook reports the job's success",
        )
    })
}

fn multi_region_race(ctx: &Ctx) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let name = "multi-region race";
        let hook = ctx.hook("race");
        let step = Step::new()
            .url(ctx.upstream("delay/100"))
            .regions(["iad", "lax", "ord"])
            .execution_mode(ExecutionMode::Race)
            .webhooks([Webhook::new(&hook)]);
        let id = job_id(&ctx.execute(name, &step).await?)?;
        ctx.webhooks(name, &hook, 1).await?;
        let report = ctx.job_report(&id).await?;
        let regions: Vec<&str> = report["attempts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["region"].as_str())
            .collect();
        ctx.timeline
            .say(name, format!("attempts in regions {regions:?}"));
        ensure(
            !regions.is_empty() && regions.iter().all(|r| ["iad", "lax", "ord"].contains(r)),
            "attempts ran in the named regions",
        )
    })
}

fn fallback_chain(ctx: &Ctx) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let name = "fallback chain";
        let hook = ctx.hook("fallback");
        let step = Step::new()
            .url(ctx.upstream("status/500"))
            .retry_policy(ezthrottle_core::RetryPolicy {
                max_retries: Some(0),
                ..Default::default()
            })
            .webhooks([Webhook::new(&hook)])
            .fallback(
                Step::new().url(ctx.upstream("delay/3000")),
                Trigger::OnError(vec![500]),
            )
            .fallback(
                Step::new().url(ctx.upstream("status/200")),
                Trigger::OnTimeout(1000),
            );
        let id = job_id(&ctx.execute(name, &step).await?)?;
        let events = ctx.webhooks(name, &hook, 1).await?;
        let report = ctx.job_report(&id).await?;
        let path: Vec<String> = report["attempts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                format!(
                    "{}:{}",
                    a["path"].as_str().unwrap_or("?"),
                    a["status_code"].as_u64().map_or_else(
                        || a["error"].as_str().unwrap_or("error").to_owned(),
                        |s| s.to_string()
                    )
                )
            })
            .collect();
        ctx.timeline.say(name, format!("path {}", path.join(" → ")));
        ensure(events[0].succeeded(), "the chain ends in success")?;
        ensure(
            path.len() == 3
                && path[0] == "job:500"
                && path[1].starts_with("fallback[1]:timed out")
                && path[2] == "fallback[2]:200",
            format!("500 → timeout → 200, got {path:?}"),
        )
    })
}

fn on_success_workflow(ctx: &Ctx) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let name = "on_success workflow";
        let (first, second) = (ctx.hook("workflow-parent"), ctx.hook("workflow-child"));
        let step = Step::new()
            .url(ctx.upstream("status/200"))
            .webhooks([Webhook::new(&first)])
            .on_success(
                Step::new()
                    .url(ctx.upstream("echo"))
                    .method("POST")
                    .body("follow-up")
                    .webhooks([Webhook::new(&second)]),
            );
        let id = job_id(&ctx.execute(name, &step).await?)?;
        let parent = ctx.webhooks(name, &first, 1).await?;
        let child = ctx.webhooks(name, &second, 1).await?;
        let report = ctx.job_report(&id).await?;
        ensure(
            parent[0].job_id == id && child[0].job_id != id && child[0].succeeded(),
            "parent and child each deliver",
        )?;
        ensure(
            report["children"][0]["job_id"] == child[0].job_id.as_str(),
            "the child is linked to its parent",
        )
    })
}

fn hash_dedupe(ctx: &Ctx) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let name = "HASH dedupe";
        let key = format!("{}-hash", ctx.run);
        let step = Step::new()
            .url(ctx.upstream(&format!("count/{key}")))
            .method("POST")
            .body(r#"{"amount":1000}"#)
            .idempotent_strategy(IdempotentStrategy::Hash);
        let first = ctx.execute(name, &step).await?;
        let second = ctx.execute(name, &step).await?;
        ensure(
            first.job_id() == second.job_id(),
            "the same request gets the same job",
        )?;
        ensure(
            second.to_json()["status"] == "duplicate",
            "the repeat is a duplicate",
        )?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let hits = ctx.upstream_hits(&key).await?;
        ctx.timeline
            .say(name, format!("upstream ran {hits} time(s)"));
        ensure(hits == 1, "a duplicate never runs again")
    })
}

fn unique_strategy(ctx: &Ctx) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let name = "UNIQUE";
        let key = format!("{}-unique", ctx.run);
        let step = Step::new()
            .url(ctx.upstream(&format!("count/{key}")))
            .idempotent_strategy(IdempotentStrategy::Unique);
        let first = job_id(&ctx.execute(name, &step).await?)?;
        let second = job_id(&ctx.execute(name, &step).await?)?;
        ensure(first != second, "each UNIQUE submission is a new job")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while ctx.upstream_hits(&key).await? < 2 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ensure(ctx.upstream_hits(&key).await? == 2, "both ran")
    })
}

fn frugal_local(ctx: &Ctx) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let name = "FRUGAL local";
        let step = Step::new()
            .url(ctx.upstream("status/200"))
            .step_type(StepType::Frugal);
        let outcome = ctx.execute(name, &step).await?;
        ensure(
            matches!(
                outcome,
                Outcome::LocalSuccess {
                    status_code: 200,
                    ..
                }
            ),
            "a local 2xx is the result; nothing is submitted",
        )
    })
}

fn frugal_forwarded(ctx: &Ctx) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let name = "FRUGAL 429 → forwarded";
        let hook = ctx.hook("frugal");
        // 429 for the local call, 200 when EZThrottle runs it.
        let step = Step::new()
            .url(ctx.upstream(&format!("flaky/{}-frugal/1/429", ctx.run)))
            .step_type(StepType::Frugal)
            .webhooks([Webhook::new(&hook)]);
        let id = job_id(&ctx.execute(name, &step).await?)?;
        let events = ctx.webhooks(name, &hook, 1).await?;
        ensure(
            events[0].job_id == id && events[0].succeeded(),
            "EZThrottle completed the forwarded job",
        )
    })
}

const SCENARIOS: [(&str, Scenario); 8] = [
    ("PERFORMANCE basic", performance_basic),
    ("multi-region race", multi_region_race),
    ("fallback chain 500 → timeout → 200", fallback_chain),
    ("on_success workflow, two webhooks", on_success_workflow),
    ("HASH dedupe", hash_dedupe),
    ("UNIQUE", unique_strategy),
    ("FRUGAL local", frugal_local),
    ("FRUGAL 429 → forwarded", frugal_forwarded),
];

/// Start a sandbox in-process, run every scenario, say how each ended.
/// Returns whether all passed.
pub async fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let mut config = SandboxConfig {
        api_keys: HashMap::from([(API_KEY.to_owned(), "cust_demo".to_owned())]),
        testkit: true,
        ..SandboxConfig::default()
    };
    config.webhook_backoff = Duration::from_millis(100);
    let sandbox = Sandbox::start(config).await?;
    println!("sandbox listening on {}", sandbox.url());
    let client = Client::new(
        ClientConfig::builder(API_KEY)
            .tracktags_url(sandbox.url())
            .build()?,
    );
    let mut secrets = client.config.create_webhook_secret(SECRET, None)?;
    client.run(&mut secrets).await?;
    let ctx = Ctx {
        client,
        base: sandbox.url(),
        run: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
        timeline: Timeline {
            start: Instant::now(),
        },
    };
    let mut results = Vec::new();
    for (title, scenario) in SCENARIOS {
        println!("\n── {title}");
        let result = scenario(&ctx).await;
        if let Err(why) = &result {
            println!("   ✗ {why}");
        }
        results.push((title, result.is_ok()));
    }
    println!("\nsummary:");
    for (title, ok) in &results {
        println!("  {} {title}", if *ok { "✓" } else { "✗" });
    }
    let passed = results.iter().filter(|(_, ok)| *ok).count();
    println!("{passed} passed, {} failed", results.len() - passed);
    sandbox.stop().await;
    Ok(passed == results.len())
}
