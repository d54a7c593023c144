//! Fault soak: 3,000 jobs through the sandbox (a separate process, so its
//! memory can be measured) against an upstream that answers at random 200,
//! 429 with `Retry-After`, 500, too slowly or with a connection reset, webhook
//! receivers that fail at random, and a client that keeps resubmitting earlier
//! jobs (some at the very same moment as the original).
//!
//! Among them, poison jobs: 100 headers (the limit) and 5,000 (refused at
//! submission), an upstream answering `X-EZTHROTTLE-RPS: 1e-30`, one
//! answering 20 MiB, one trickling its body a byte every 50 ms. Meanwhile a
//! second customer submits 100 plain jobs.
//!
//! At the end: every job is terminal with its deliveries settled, the poison
//! ones included (the oversized body stored cut at 1 MiB, the trickle timed
//! out); every idempotency key maps to one job; every upstream request the
//! sandbox made is one it recorded, and the attempts of a path never overlap
//! (no job ran twice); every job whose receiver accepted a delivery got it
//! correctly signed, and no other did; each of the second customer's jobs
//! finished within OTHER_BOUND of its submission; the sandbox's peak RSS
//! stays under a bound.
//!
//! Minutes long, so ignored by `cargo test`; `scripts/test.sh` runs it:
//! `cargo test -p ezthrottle-sandbox --test soak -- --ignored --nocapture`.
//! `SOAK_SEED=N` reuses a run's seed (draws interleave with timing, so a
//! replay is close to the original, not exact).
#![allow(clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;
mod world;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ezthrottle_core::{ClientConfig, RetryPolicy, Step, Trigger, Webhook};
use ezthrottle_sandbox::driver::Client;
use serde_json::{json, Value};
use world::{Dice, SoakSandbox, World};

const KEY: &str = "ck_soak_cust_0001";
/// The second customer, whose plain jobs run beside the soak's.
const OTHER_KEY: &str = "ck_soak_other_0002";
const OTHER_JOBS: usize = 100;
/// The longest one of the second customer's jobs may take from submission
/// to finish while the soak's 3,000 run.
const OTHER_BOUND_MS: i64 = 10_000;
/// One poison job after every this many originals.
const POISON_EVERY: usize = 100;
const SECRET: &str = "whsec_soak_0123456789abcdef";
const JOBS: usize = 3_000;
/// Every tenth job is submitted twice at the same instant.
const TWIN_EVERY: usize = 10;
/// Webhook delivery attempts the sandbox makes.
const WEBHOOK_ATTEMPTS: u32 = 4;
/// The bound on the sandbox's peak resident memory.
const MAX_PEAK_RSS_KIB: u64 = 256 * 1024;

fn step_for(n: usize, seed: u64, upstream: &str, receiver: &str) -> Step {
    let step = Step::new()
        .url(format!("{upstream}/chaos/{n}"))
        .method("POST")
        .header("content-type", "application/json")
        .body(json!({"order": n, "amount": 1000 + n}).to_string())
        .idempotent_key(format!("soak-{seed}-{n}"))
        .metadata_entry("n", n)
        .webhook(Webhook::new(format!("{receiver}/hook/{n}")))
        .retry_policy(RetryPolicy {
            max_retries: Some(2),
            retry_codes: Some(vec![429]),
            ..RetryPolicy::default()
        });
    let fallback = Step::new()
        .url(format!("{upstream}/chaos/{n}-fallback"))
        .method("POST");
    match n % 3 {
        0 => step.fallback(fallback, Trigger::OnError(vec![500])),
        1 => step.fallback(fallback, Trigger::OnTimeout(300)),
        _ => step,
    }
}

/// What the submitting clients saw: key index → every job id answered.
#[derive(Default)]
struct Answers {
    ids: Mutex<Vec<String>>,
    duplicates: Mutex<usize>,
    /// Accepted poison jobs: (kind, job id).
    poison: Mutex<Vec<(&'static str, String)>>,
    /// Poison jobs refused at submission.
    refused: Mutex<usize>,
}

/// The poison job submitted after original `n`.
async fn submit_poison(client: &Client, seed: u64, upstream: &str, n: usize, answers: &Answers) {
    let kinds = ["headers", "too-many-headers", "rps", "big", "trickle"];
    let kind = kinds[(n / POISON_EVERY) % kinds.len()];
    let path = if kind == "too-many-headers" {
        "headers"
    } else {
        kind
    };
    let mut step = Step::new()
        .url(format!("{upstream}/poison/{path}/{n}"))
        .idempotent_key(format!("poison-{seed}-{n}"));
    let headers = match kind {
        "headers" => 100,
        "too-many-headers" => 5_000,
        _ => 0,
    };
    step = step.headers((0..headers).map(|i| (format!("X-Poison-{i}"), "v".to_owned())));
    let mut execution = client.config.execute(&step).unwrap();
    match client.run(&mut execution).await {
        Ok(outcome) => {
            assert_ne!(kind, "too-many-headers", "5,000 headers were accepted");
            let id = outcome.to_json()["job_id"].as_str().unwrap().to_owned();
            answers.poison.lock().unwrap().push((kind, id));
        }
        Err(error) => {
            assert_eq!(kind, "too-many-headers", "poison {kind}: {error}");
            assert!(error.to_string().contains("headers"), "{error}");
            *answers.refused.lock().unwrap() += 1;
        }
    }
}

/// The second customer's plain jobs, one every 20 ms.
async fn submit_other(client: Client, upstream: String, ids: Arc<Mutex<Vec<String>>>) {
    for i in 0..OTHER_JOBS {
        let step = Step::new().url(format!("{upstream}/calm/{i}"));
        let (id, status) = submit(&client, &step).await;
        assert_eq!(status, "queued");
        ids.lock().unwrap().push(id);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn submit(client: &Client, step: &Step) -> (String, String) {
    let mut execution = client.config.execute(step).unwrap();
    let answer = client.run(&mut execution).await.unwrap().to_json();
    (
        answer["job_id"].as_str().unwrap().to_owned(),
        answer["status"].as_str().unwrap().to_owned(),
    )
}

/// The originals, one after the other; every tenth sent twice at once.
async fn submit_originals(
    client: Client,
    seed: u64,
    upstream: String,
    receiver: String,
    answers: Arc<Answers>,
) {
    for n in 0..JOBS {
        let step = step_for(n, seed, &upstream, &receiver);
        let id = if n % TWIN_EVERY == 0 {
            let (a, b) = tokio::join!(submit(&client, &step), submit(&client, &step));
            assert_eq!(a.0, b.0, "twin submits of job {n} made two jobs");
            let statuses = [a.1.as_str(), b.1.as_str()];
            assert!(
                statuses.contains(&"queued") && statuses.contains(&"duplicate"),
                "twins of job {n}: {statuses:?}"
            );
            a.0
        } else {
            let (id, status) = submit(&client, &step).await;
            assert_eq!(status, "queued", "job {n}");
            id
        };
        answers.ids.lock().unwrap().push(id);
        if n % POISON_EVERY == POISON_EVERY / 2 {
            submit_poison(&client, seed, &upstream, n, &answers).await;
        }
    }
}

/// Resubmits earlier jobs until `stop`, checking each answers the same job.
async fn submit_duplicates(
    client: Client,
    seed: u64,
    upstream: String,
    receiver: String,
    answers: Arc<Answers>,
    dice: Arc<Dice>,
    stop: Arc<tokio::sync::Notify>,
) {
    loop {
        let known = answers.ids.lock().unwrap().len();
        if known > 0 {
            let n = dice.below(known as u64) as usize;
            let (id, status) = submit(&client, &step_for(n, seed, &upstream, &receiver)).await;
            let first = answers.ids.lock().unwrap()[n].clone();
            assert_eq!(id, first, "a duplicate of job {n} made a new job");
            assert_eq!(status, "duplicate");
            *answers.duplicates.lock().unwrap() += 1;
        }
        tokio::select! {
            () = stop.notified() => return,
            () = tokio::time::sleep(Duration::from_millis(1)) => {}
        }
    }
}

/// Waits until every job is terminal and its deliveries settled.
async fn settle(client: &Client, base: &str, key: &str, ids: &[String]) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut reports = Vec::with_capacity(ids.len());
    for id in ids {
        loop {
            let report =
                common::get_json(&client.http, &format!("{base}/api/v1/jobs/{id}"), key).await;
            let finished = matches!(report["state"].as_str(), Some("succeeded" | "failed"));
            let settled = report["deliveries"]
                .as_array()
                .is_some_and(|d| d.iter().all(|d| d["state"] != "pending"));
            if finished && settled {
                reports.push(report);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "job {id} never settled: {report}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    reports
}

/// No job ran twice: every upstream request is one recorded attempt, and the
/// attempts of one path follow each other.
fn check_runs(world: &World, n: usize, report: &Value) {
    let attempts = report["attempts"].as_array().unwrap();
    let mut recorded: HashMap<String, u64> = HashMap::new();
    let mut by_path: HashMap<&str, Vec<(i64, i64)>> = HashMap::new();
    for attempt in attempts {
        let url = attempt["url"].as_str().unwrap();
        let path = url.rsplit_once("/chaos/").unwrap().1.to_owned();
        *recorded.entry(path).or_default() += 1;
        let start = attempt["started_at"].as_i64().unwrap();
        let end = start + attempt["duration_ms"].as_i64().unwrap();
        by_path
            .entry(attempt["path"].as_str().unwrap())
            .or_default()
            .push((start, end));
    }
    for key in [n.to_string(), format!("{n}-fallback")] {
        let served = world.hits(&key);
        let made = recorded.get(&key).copied().unwrap_or(0);
        assert_eq!(
            served, made,
            "job {n}: upstream saw {served} requests to /chaos/{key}, the sandbox recorded {made}"
        );
    }
    for (path, mut spans) in by_path {
        // Three for the job (two retries of a 429); four for a fallback,
        // which takes the service's default policy (three retries).
        let most = if path == "job" { 3 } else { 4 };
        assert!(
            spans.len() <= most,
            "job {n}: {} attempts on {path}: {report}",
            spans.len()
        );
        spans.sort_unstable();
        for pair in spans.windows(2) {
            // Millisecond clocks: allow the one millisecond of rounding.
            assert!(
                pair[1].0 + 1 >= pair[0].1,
                "job {n}: overlapping attempts on {path}: {report}"
            );
        }
    }
}

/// Every job whose receiver accepted got its webhook, signed; no other did.
fn check_webhooks(world: &World, n: usize, id: &str, key: &str, report: &Value) -> bool {
    let deliveries = report["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 1, "job {n}: {report}");
    let delivered = deliveries[0]["state"] == "delivered";
    let hook = world.hook(n);
    assert_eq!(
        deliveries[0]["attempts"].as_u64().unwrap(),
        hook.attempts,
        "job {n}: the sandbox's delivery attempts against the receiver's"
    );
    assert_eq!(
        delivered,
        !hook.accepted.is_empty(),
        "job {n}: delivered={delivered}, accepted {} deliveries",
        hook.accepted.len()
    );
    let expected_status = if report["state"] == "succeeded" {
        "success"
    } else {
        "failed"
    };
    for accepted in &hook.accepted {
        assert!(
            accepted.signature_valid,
            "job {n}: a delivery with a bad signature: {accepted:?}"
        );
        let body: Value = serde_json::from_str(&accepted.body).unwrap();
        assert_eq!(body["job_id"], id, "job {n}");
        assert_eq!(body["idempotent_key"], key, "job {n}");
        assert_eq!(body["status"], expected_status, "job {n}: {body}");
        assert_eq!(body["metadata"]["n"], n, "job {n}");
    }
    delivered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long; scripts/test.sh runs it"]
async fn three_thousand_jobs_under_random_faults() {
    let started = Instant::now();
    let seed: u64 = std::env::var("SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| ezthrottle_sandbox::now_ms() as u64);
    eprintln!("soak: seed {seed} (SOAK_SEED={seed} reuses it)");
    let dice = Arc::new(Dice::new(seed));
    let world = World::start(dice.clone(), SECRET).await;

    let dir = tempfile::tempdir().unwrap();
    let sandbox = SoakSandbox::start(
        &dir.path().join("soak.db"),
        [
            &format!("{KEY}:cust_soak"),
            &format!("{OTHER_KEY}:cust_other"),
        ],
        WEBHOOK_ATTEMPTS,
    );
    let other = Client::new(
        ClientConfig::builder(OTHER_KEY)
            .tracktags_url(sandbox.url())
            .build()
            .unwrap(),
    );
    let other_ids = Arc::new(Mutex::new(Vec::new()));
    let others = tokio::spawn(submit_other(
        other.clone(),
        world.upstream.clone(),
        other_ids.clone(),
    ));
    let client = Client::new(
        ClientConfig::builder(KEY)
            .tracktags_url(sandbox.url())
            .build()
            .unwrap(),
    );
    let mut create = client.config.create_webhook_secret(SECRET, None).unwrap();
    client.run(&mut create).await.unwrap();

    let answers = Arc::new(Answers::default());
    let stop = Arc::new(tokio::sync::Notify::new());
    let duplicates = tokio::spawn(submit_duplicates(
        client.clone(),
        seed,
        world.upstream.clone(),
        world.receiver.clone(),
        answers.clone(),
        dice.clone(),
        stop.clone(),
    ));
    submit_originals(
        client.clone(),
        seed,
        world.upstream.clone(),
        world.receiver.clone(),
        answers.clone(),
    )
    .await;
    let submitted_in = started.elapsed();
    let rss_submitted = sandbox.memory_kib("VmRSS");
    let ids = answers.ids.lock().unwrap().clone();
    let reports = settle(&client, sandbox.url(), KEY, &ids).await;
    stop.notify_one();
    duplicates.await.unwrap();
    others.await.unwrap();

    // The poison jobs ended, each as its kind should.
    let poison = answers.poison.lock().unwrap().clone();
    let poison_ids: Vec<String> = poison.iter().map(|(_, id)| id.clone()).collect();
    for ((kind, _), report) in poison
        .iter()
        .zip(settle(&client, sandbox.url(), KEY, &poison_ids).await)
    {
        match *kind {
            "big" => {
                let body = report["result"]["response"]["body"]
                    .as_str()
                    .unwrap_or_default();
                assert_eq!(
                    body.len(),
                    1024 * 1024,
                    "the 20 MiB body is stored cut at 1 MiB"
                );
            }
            "trickle" => assert_eq!(report["state"], "failed", "the trickle timed out: {report}"),
            _ => assert_eq!(report["state"], "succeeded", "poison {kind}: {report}"),
        }
    }
    // The second customer's jobs each finished within the bound.
    let other_ids = other_ids.lock().unwrap().clone();
    let mut slowest_other = 0;
    for report in settle(&other, sandbox.url(), OTHER_KEY, &other_ids).await {
        assert_eq!(report["state"], "succeeded", "{report}");
        let took = report["finished_at"].as_i64().unwrap() - report["created_at"].as_i64().unwrap();
        slowest_other = slowest_other.max(took);
    }
    assert!(
        slowest_other <= OTHER_BOUND_MS,
        "a second customer's job took {slowest_other} ms (bound {OTHER_BOUND_MS} ms)"
    );

    let (mut succeeded, mut never_accepted) = (0, 0);
    for (n, (id, report)) in ids.iter().zip(&reports).enumerate() {
        assert_eq!(report["job_id"], id.as_str());
        if report["state"] == "succeeded" {
            succeeded += 1;
        }
        check_runs(&world, n, report);
        if !check_webhooks(&world, n, id, &format!("soak-{seed}-{n}"), report) {
            never_accepted += 1;
        }
    }
    let rss_end = sandbox.memory_kib("VmRSS");
    // The kernel updates the high-water mark lazily: never report less than seen.
    let peak = sandbox.memory_kib("VmHWM").max(rss_end).max(rss_submitted);
    let jobs_stored = sandbox.stop_and_count_jobs();
    assert_eq!(
        jobs_stored,
        JOBS + poison.len() + OTHER_JOBS,
        "one job per idempotency key, no more"
    );

    let faults = world.faults();
    eprintln!(
        "soak: {JOBS} jobs ({succeeded} succeeded, {} failed) in {:.1} s (submitted in {:.1} s); \
         {} duplicate submits, {} twins, all answered with the original job; upstream faults served: {faults}; \
         {never_accepted} webhooks refused {WEBHOOK_ATTEMPTS} times by their receiver, every other one delivered and signed; \
         {} poison jobs ran to their end and {} were refused at submission; the second customer's {OTHER_JOBS} jobs took at most {slowest_other} ms (bound {OTHER_BOUND_MS} ms); \
         sandbox RSS {:.1} MiB once all were submitted, {:.1} MiB at the end, peak {:.1} MiB (bound {} MiB)",
        JOBS - succeeded,
        started.elapsed().as_secs_f64(),
        submitted_in.as_secs_f64(),
        answers.duplicates.lock().unwrap(),
        JOBS / TWIN_EVERY,
        poison.len(),
        answers.refused.lock().unwrap(),
        rss_submitted as f64 / 1024.0,
        rss_end as f64 / 1024.0,
        peak as f64 / 1024.0,
        MAX_PEAK_RSS_KIB / 1024,
    );
    assert!(
        *answers.duplicates.lock().unwrap() >= 500,
        "the duplicate client kept submitting"
    );
    assert!(
        succeeded > JOBS / 3 && succeeded < JOBS,
        "the faults must bite and not always: {succeeded} succeeded"
    );
    assert!(
        peak < MAX_PEAK_RSS_KIB,
        "the sandbox's peak RSS was {peak} KiB"
    );
}
