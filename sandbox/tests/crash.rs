//! Durability: 200 jobs against a slow upstream, `kill -9` of the sandbox
//! process mid-run, restart on the same database file. Every job reaches a
//! terminal state, none is lost, a job already completed is not run again, and
//! every webhook arrives at least once.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::routing::post;
use axum::Router;
use ezthrottle_core::{ClientConfig, Step, Webhook};
use ezthrottle_sandbox::driver::Client;
use ezthrottle_sandbox::store::Store;

use common::{get_json, SandboxProcess};

const KEY: &str = "ck_crash_cust_0001";
const JOBS: usize = 200;

#[derive(Default)]
struct Outside {
    hits: Mutex<HashMap<usize, u32>>,
    delivered: Mutex<HashSet<String>>,
}

async fn slow(State(outside): State<Arc<Outside>>, Path(n): Path<usize>) -> &'static str {
    tokio::time::sleep(Duration::from_millis(250)).await;
    *outside.hits.lock().unwrap().entry(n).or_default() += 1;
    "done"
}

async fn hook(State(outside): State<Arc<Outside>>, body: String) -> &'static str {
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    outside
        .delivered
        .lock()
        .unwrap()
        .insert(event["job_id"].as_str().unwrap().to_owned());
    "ok"
}

fn start_sandbox(db: &std::path::Path, port: u16) -> SandboxProcess {
    let (addr, db, key) = (
        format!("127.0.0.1:{port}"),
        db.to_str().unwrap(),
        format!("{KEY}:cust_crash"),
    );
    SandboxProcess::start(&[
        "--addr",
        &addr,
        "--db",
        db,
        "--api-key",
        &key,
        "--sync",
        "full",
        "--pacing",
        "off",
        "--rate-limit",
        "off",
        "--concurrency",
        "16",
    ])
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_run_loses_nothing_and_reruns_nothing_completed() {
    let outside = Arc::new(Outside::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/slow/{n}", post(slow))
        .route("/hook", post(hook))
        .with_state(outside.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.db");
    let port = free_port();
    let client = Client::new(
        ClientConfig::builder(KEY)
            .tracktags_url(format!("http://127.0.0.1:{port}"))
            .build()
            .unwrap(),
    );

    let first = start_sandbox(&db, port);
    let mut ids = Vec::new();
    for n in 0..JOBS {
        let step = Step::new()
            .url(format!("{upstream}/slow/{n}"))
            .method("POST")
            .webhooks([Webhook::new(format!("{upstream}/hook"))]);
        let mut execution = client.config.execute(&step).unwrap();
        ids.push(
            client
                .run(&mut execution)
                .await
                .unwrap()
                .job_id()
                .unwrap()
                .to_owned(),
        );
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    drop(first); // SIGKILL

    // What the dead process had finished.
    let store = Store::open(Some(&db)).unwrap();
    let completed: Vec<(usize, String)> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| {
            store
                .job(id)
                .unwrap()
                .is_some_and(|j| j.state == "succeeded")
        })
        .map(|(n, id)| (n, id.clone()))
        .collect();
    drop(store);
    let hits_before: u32 = outside.hits.lock().unwrap().values().sum();
    assert!(
        !completed.is_empty() && completed.len() < JOBS,
        "the kill must land mid-run: {} of {JOBS} done",
        completed.len()
    );

    let _second = start_sandbox(&db, port);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let delivered = outside.delivered.lock().unwrap().len();
        if delivered == JOBS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {delivered} of {JOBS} webhooks after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivered = outside.delivered.lock().unwrap().clone();
    assert!(
        ids.iter().all(|id| delivered.contains(id)),
        "every job's webhook arrived"
    );
    for id in &ids {
        let report = get_json(
            &client.http,
            &format!("http://127.0.0.1:{port}/api/v1/jobs/{id}"),
            KEY,
        )
        .await;
        assert_eq!(report["state"], "succeeded", "{report}");
    }
    let hits = outside.hits.lock().unwrap().clone();
    for n in 0..JOBS {
        assert!(hits.get(&n).copied().unwrap_or(0) >= 1, "job {n} never ran");
        assert!(hits[&n] <= 2, "job {n} ran {} times", hits[&n]);
    }
    for (n, id) in &completed {
        assert_eq!(
            hits[n], 1,
            "job {id} was completed before the kill and ran again"
        );
    }
    let reruns = hits.values().filter(|h| **h == 2).count();
    assert!(
        reruns <= 16,
        "only jobs in flight at the kill may run twice: {reruns}"
    );
    eprintln!(
        "crash test: {} of {JOBS} completed before kill -9 ({hits_before} upstream hits); after restart all {JOBS} succeeded, {reruns} in-flight job(s) re-run",
        completed.len()
    );
}
