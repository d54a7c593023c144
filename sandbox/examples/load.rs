//! Load benchmark of the sandbox, printing figures:
//!
//! 1. accepted submissions per second through the gateway, with p50 / p99
//!    latency (keep-alive clients, rate limit off, jobs not run: they wait
//!    for a `retry_at` far in the future);
//! 2. completed jobs per second end to end (upstream call + signed webhook
//!    delivered), pacing off.
//!
//! `cargo run --release -p ezthrottle-sandbox --example load [SECONDS] [CLIENTS] [JOBS]`
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ezthrottle_core::{ClientConfig, Step, Webhook};
use ezthrottle_sandbox::driver::Client;
use ezthrottle_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

const KEY: &str = "ck_load_cust_0001";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(10);
    let clients: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(32);
    let jobs: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3000);
    let dir = std::env::temp_dir().join(format!("ezt-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = SandboxConfig {
        api_keys: HashMap::from([(KEY.to_owned(), "cust_load".to_owned())]),
        db: Some(dir.join("load.db")),
        gateway_rate: None,
        pacing: None,
        testkit: true,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await.unwrap();
    let base = sandbox.url();
    let client = Client::new(
        ClientConfig::builder(KEY)
            .tracktags_url(&base)
            .build()
            .unwrap(),
    );
    println!(
        "machine: {} cores; sandbox on {base} (SQLite WAL file)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // 1. Gateway submissions.
    let far_future = ezthrottle_sandbox::now_ms() as u64 + 3_600_000;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|w| {
            let client = client.clone();
            let base = base.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let step = Step::new()
                        .url(format!("{base}/upstream/status/200"))
                        .method("POST")
                        .body(r#"{"amount":1000,"currency":"usd"}"#)
                        .header("Content-Type", "application/json")
                        .idempotent_key(format!("load-{w}-{i}"))
                        .retry_at_ms(far_future);
                    let t = Instant::now();
                    let mut execution = client.config.execute(&step).unwrap();
                    let outcome = client.run(&mut execution).await.unwrap();
                    latencies.push(t.elapsed());
                    assert_eq!(outcome.to_json()["status"], "queued");
                    i += 1;
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    println!(
        "gateway submissions: {} accepted in {elapsed:.1} s = {:.0}/s with {clients} keep-alive clients; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
    );

    // 2. End to end: upstream call + signed webhook delivered.
    let mut secrets = client
        .config
        .create_webhook_secret("load_secret_0123456789", None)
        .unwrap();
    client.run(&mut secrets).await.unwrap();
    let hook = format!("{base}/receiver/load");
    let started = Instant::now();
    let submitters: Vec<_> = (0..clients)
        .map(|w| {
            let client = client.clone();
            let (base, hook) = (base.clone(), hook.clone());
            tokio::spawn(async move {
                for i in (w..jobs).step_by(clients) {
                    let step = Step::new()
                        .url(format!("{base}/upstream/status/200"))
                        .idempotent_key(format!("e2e-{i}"))
                        .webhooks([Webhook::new(&hook)]);
                    let mut execution = client.config.execute(&step).unwrap();
                    client.run(&mut execution).await.unwrap();
                }
            })
        })
        .collect();
    for submitter in submitters {
        submitter.await.unwrap();
    }
    let submitted = started.elapsed().as_secs_f64();
    loop {
        let got: Value = client
            .http
            .get(&hook)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if got.as_array().map_or(0, Vec::len) >= jobs {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "end to end: {jobs} jobs submitted in {submitted:.2} s, all run and their signed webhooks delivered in {elapsed:.2} s = {:.0} completed jobs/s",
        jobs as f64 / elapsed
    );
    let wal = std::fs::metadata(dir.join("load.db-wal")).map_or(0, |m| m.len());
    let db = std::fs::metadata(dir.join("load.db")).map_or(0, |m| m.len());
    println!(
        "SQLite after the run: database {:.1} MiB, WAL {:.1} MiB",
        db as f64 / 1048576.0,
        wal as f64 / 1048576.0
    );
    sandbox.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
