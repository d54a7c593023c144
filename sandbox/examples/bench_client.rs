//! The Rust client of the side-by-side benchmark (`tests/bench/run.sh`): the
//! core driven by the sandbox's reqwest driver, the way a Rust app uses it.
//!
//! `bench_client RUN_JSON` reads the resolved workload `tests/bench/run.sh`
//! writes and prints one JSON line of figures. A count of 0 skips a
//! workload (for profiling one alone).
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use ezthrottle_core::{ClientConfig, Step};
use ezthrottle_sandbox::driver::Client;
use ezthrottle_transport::BlockingTransport;
use serde_json::{json, Value};

/// p in [0, 1], nearest rank, in milliseconds.
fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

/// How the bench sends: the sandbox's reqwest driver, or the blocking ureq
/// transport (the uniffi library's built-in one, here without the
/// crossings a Kotlin or Swift submit adds).
enum Driver<'a> {
    Reqwest(&'a Client),
    Ureq(&'a ClientConfig, BlockingTransport),
}

async fn submits(driver: &Driver<'_>, run: &Value, tag: &str) -> Value {
    let count = run["submits"].as_u64().unwrap();
    if count == 0 {
        return Value::Null;
    }
    let mut latencies = Vec::with_capacity(count as usize);
    let started = Instant::now();
    for i in 0..count {
        let t = Instant::now();
        let step = Step::from_calls(&run["submit"])
            .unwrap()
            .idempotent_key(format!("bench-{}-{tag}-{i}", run["run_id"]));
        let outcome = match driver {
            Driver::Reqwest(client) => {
                let mut execution = client.config.execute(&step).unwrap();
                client.run(&mut execution).await.unwrap()
            }
            Driver::Ureq(config, transport) => {
                transport.run(&mut config.execute(&step).unwrap()).unwrap()
            }
        };
        assert_eq!(outcome.to_json()["status"], "queued");
        latencies.push(t.elapsed());
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    json!({
        "n": count, "seconds": seconds, "per_sec": count as f64 / seconds,
        "p50_ms": percentile_ms(&latencies, 0.50), "p99_ms": percentile_ms(&latencies, 0.99),
    })
}

async fn plain(client: &Client, plain: &Value) {
    let mut request = client
        .http
        .request(
            reqwest::Method::from_bytes(plain["method"].as_str().unwrap().as_bytes()).unwrap(),
            plain["url"].as_str().unwrap(),
        )
        .body(plain["body"].as_str().unwrap().to_owned());
    for (name, value) in plain["headers"].as_object().unwrap() {
        request = request.header(name, value.as_str().unwrap());
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success());
    black_box(response.bytes().await.unwrap());
}

async fn frugal(client: &Client, step: &Step) {
    let mut execution = client.config.execute(step).unwrap();
    let outcome = client.run(&mut execution).await.unwrap();
    assert_eq!(outcome.to_json()["executed_locally"], true);
}

/// FRUGAL steps against the same request made plainly, alternating call by
/// call: on this shared VM the loopback's speed drifts within a round of a
/// few hundred calls, and rounds charged the drift to one side.
async fn frugal_overhead(client: &Client, run: &Value) -> Value {
    let count = run["frugal"].as_u64().unwrap();
    if count == 0 {
        return Value::Null;
    }
    let step = Step::from_calls(&run["frugal_calls"]).unwrap();
    for _ in 0..100 {
        plain(client, &run["frugal_plain"]).await;
        frugal(client, &step).await;
    }
    let (mut plain_time, mut step_time) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..count {
        let t = Instant::now();
        plain(client, &run["frugal_plain"]).await;
        let u = Instant::now();
        frugal(client, &step).await;
        plain_time += u - t;
        step_time += u.elapsed();
    }
    let done = count as f64;
    let (plain_ms, step_ms) = (
        plain_time.as_secs_f64() * 1e3 / done,
        step_time.as_secs_f64() * 1e3 / done,
    );
    json!({
        "n": count, "step_ms": step_ms, "plain_ms": plain_ms,
        "overhead_pct": (step_ms - plain_ms) / plain_ms * 100.0,
    })
}

/// Twenty rounds of a twentieth each; the fastest counts (noise only adds).
fn builds(run: &Value) -> Value {
    let count = run["builds"].as_u64().unwrap();
    let step = Step::from_calls(&run["build"]).unwrap();
    for _ in 0..1000 {
        black_box(step.to_json().unwrap());
    }
    let rounds = 20;
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        let started = Instant::now();
        for _ in 0..count / rounds {
            black_box(black_box(&step).to_json().unwrap());
        }
        best = best.min(started.elapsed().as_secs_f64() / (count / rounds) as f64);
    }
    json!({"n": count, "per_sec": 1.0 / best, "us": best * 1e6})
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: bench_client RUN_JSON");
    let run: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let client = Client::new(
        ClientConfig::builder(run["api_key"].as_str().unwrap())
            .tracktags_url(run["sandbox"].as_str().unwrap())
            .build()
            .unwrap(),
    );
    let submit = submits(&Driver::Reqwest(&client), &run, "rust").await;
    let frugal = frugal_overhead(&client, &run).await;
    let build = builds(&run);
    println!(
        "{}",
        json!({"client": "Rust (core + reqwest)", "submit": submit, "frugal": frugal, "build": build})
    );
    let ureq = Driver::Ureq(&client.config, BlockingTransport::default());
    let submit = submits(&ureq, &run, "rust-ureq").await;
    println!(
        "{}",
        json!({"client": "Rust (core + ureq, blocking)", "submit": submit, "frugal": null, "build": build})
    );
}
