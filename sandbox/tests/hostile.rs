//! One job cannot hurt the others (issue 13): a job whose execution panics
//! fails alone, an upstream's absurd `X-EZTHROTTLE-RPS` does not poison its
//! host, and the sandbox's limits refuse amplifying jobs at submission,
//! naming the field.
#![allow(clippy::unwrap_used)]

mod common;

use common::{quick_config, Harness, KEY};
use ezthrottle_core::Step;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[tokio::test]
async fn a_job_that_panics_fails_alone_with_the_reason() {
    let mut config = quick_config();
    config.panic_on_url = Some("poison=1".into());
    let h = Harness::start(config).await;
    let poison = h
        .submit(&Step::new().url(format!("{}?poison=1", h.up("status/200"))))
        .await;
    let healthy = h.submit(&Step::new().url(h.up("status/200"))).await;
    let report = h.settled(&poison).await;
    assert_eq!(report["state"], "failed", "{report}");
    let error = report["result"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("a panic: fault injected"), "{report}");
    assert_eq!(h.settled(&healthy).await["state"], "succeeded");
    let after = h.submit(&Step::new().url(h.up("status/201"))).await;
    assert_eq!(h.settled(&after).await["state"], "succeeded");
}

/// `X-EZTHROTTLE-RPS: 1e-30` asked the pacing for a wait of 1e30 s, which
/// panicked every later job to that host. The rate is clamped (one request
/// a minute at the slowest): the job after the token is spent waits for
/// its turn instead of failing.
#[tokio::test]
async fn an_absurd_upstream_rate_does_not_poison_its_host() {
    let mut config = quick_config();
    config.pacing = Some(ezthrottle_sandbox::Rate {
        per_second: 50.0,
        burst: 50.0,
    });
    let h = Harness::start(config).await;
    let slow = h.submit(&Step::new().url(h.up("rps/1e-30"))).await;
    assert_eq!(h.settled(&slow).await["state"], "succeeded");
    let next = h.submit(&Step::new().url(h.up("status/200"))).await;
    assert_eq!(h.settled(&next).await["state"], "succeeded");
    let paced = h.submit(&Step::new().url(h.up("status/202"))).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let report = h.report(&paced).await;
    assert_ne!(report["state"], "failed", "{report}");
}

async fn submit_raw(h: &Harness, job: Value) -> (u16, String) {
    let response = h
        .client
        .http
        .post(format!("{}/api/v1/jobs", h.base))
        .bearer_auth(KEY)
        .json(&job)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn amplifying_jobs_are_refused_naming_the_field() {
    let h = Harness::start(quick_config()).await;
    let url = h.up("status/200");
    let headers: serde_json::Map<String, Value> = (0..40_000)
        .map(|i| (format!("X-H{i}"), json!("v")))
        .collect();
    let webhooks: Vec<Value> = (0..1_000)
        .map(|i| json!({"url": format!("{}-{i}", h.hook("amp"))}))
        .collect();
    let regions: Vec<String> = (0..2_000).map(|i| format!("r{i}")).collect();
    let cases = [
        (
            json!({"url": url, "headers": headers}),
            "invalid headers: 40000 headers",
        ),
        (
            json!({"url": url, "webhooks": webhooks}),
            "invalid webhooks: 1000 webhooks",
        ),
        (
            json!({"url": url, "regions": regions}),
            "invalid regions: \\\"r0\\\" is not a region of this sandbox",
        ),
        (
            json!({"url": url, "retry_policy": {"max_retries": 4_294_967_295u32}}),
            "invalid retry_policy.max_retries",
        ),
        (
            json!({"url": url, "on_success": {"url": url, "regions": ["mars"]}}),
            "invalid on_success.regions",
        ),
    ];
    for (job, expected) in cases {
        let (status, body) = submit_raw(&h, job).await;
        assert_eq!(status, 400, "{expected}: {body}");
        assert!(body.contains(expected), "{expected}: {body}");
    }
    // Within the limits, the same shapes are accepted.
    let (status, body) = submit_raw(&h, json!({"url": url, "regions": ["iad", "lax"]})).await;
    assert_eq!(status, 201, "{body}");
}

/// The testkit (a demo upstream and webhook boxes readable by anyone) is
/// served only when asked for (`serve --testkit`).
#[tokio::test]
async fn the_testkit_is_off_unless_asked_for() {
    let mut config = quick_config();
    config.testkit = false;
    let h = Harness::start(config).await;
    for path in ["/receiver/x", "/upstream/status/200"] {
        let status = h
            .client
            .http
            .get(format!("{}{path}", h.base))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 404, "{path}");
    }
}

/// Every `/api/v1` route is admitted the same way: the key is checked
/// before the body is read, and the rate limit covers the direct routes too.
#[tokio::test]
async fn every_api_route_is_keyed_before_its_body_and_rate_limited() {
    let mut config = quick_config();
    config.gateway_rate = Some(ezthrottle_sandbox::Rate {
        per_second: 1.0,
        burst: 1.0,
    });
    let h = Harness::start(config).await;
    // A body over the 1 MiB limit with an unknown key: refused for the key
    // (401), not for the body (413), since the body was never read.
    let response = h
        .client
        .http
        .post(format!("{}/api/v1/jobs", h.base))
        .bearer_auth("ck_unknown_key_0000")
        .body(vec![b'x'; 4 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let job = json!({"url": h.up("status/200")});
    let mut statuses = Vec::new();
    for path in ["/api/v1/jobs", "/api/v1/jobs", "/api/v1/webhook-secrets"] {
        let response = h
            .client
            .http
            .post(format!("{}{path}", h.base))
            .bearer_auth(KEY)
            .json(&job)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses,
        [201, 429, 429],
        "the direct routes share the key's limit"
    );
}

/// Posting to the receiver boxes cannot grow the process without bound:
/// together they hold at most MAX_BOX_BYTES.
#[tokio::test]
async fn the_receiver_boxes_are_bounded_in_bytes() {
    let h = Harness::start(quick_config()).await;
    let megabyte = vec![b'x'; 1000 * 1000];
    for _ in 0..40 {
        let response = h
            .client
            .http
            .post(h.hook("flood"))
            .body(megabyte.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    let held = h.get(&h.hook("flood")).await;
    let bytes: usize = held
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["body"].as_str().unwrap().len())
        .sum();
    assert!(
        bytes <= ezthrottle_sandbox::testkit::MAX_BOX_BYTES,
        "{bytes}"
    );
    assert!(bytes > 0, "the latest deliveries are kept");
}

/// With two job slots, customer A's two jobs retrying 500s kept customer
/// B's job queued for as long as they retried (40 s and counting). Waits
/// (backoff, pacing) give the slot back and each customer gets its share,
/// so B's job runs at once.
#[tokio::test]
async fn one_customer_cannot_starve_another() {
    const OTHER: &str = "ck_test_cust_other_0002";
    let mut config = quick_config();
    config.concurrency = 2;
    config.api_keys.insert(OTHER.into(), "cust_other".into());
    let h = Harness::start(config).await;
    let failing = json!({
        "url": h.up("status/500"),
        "retry_policy": {"max_retries": 20, "retry_codes": [500]},
    });
    let (status, _) = submit_raw(&h, failing.clone()).await;
    assert_eq!(status, 201);
    let mut second = failing;
    second["idempotent_key"] = json!("a-second");
    assert_eq!(submit_raw(&h, second).await.0, 201);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let response = h
        .client
        .http
        .post(format!("{}/api/v1/jobs", h.base))
        .bearer_auth(OTHER)
        .json(&json!({"url": h.up("status/200")}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let job: Value = response.json().await.unwrap();
    let id = job["job_id"].as_str().unwrap();
    let started = std::time::Instant::now();
    loop {
        let report = common::get_json(
            &h.client.http,
            &format!("{}/api/v1/jobs/{id}", h.base),
            OTHER,
        )
        .await;
        if report["state"] == "succeeded" {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "B's job is still {} after 3 s while A's jobs retry",
            report["state"]
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// A receiver that answers each delivery after 100 ms and records how many
/// were open at once.
async fn slow_receiver() -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (open, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (open2, most2) = (open.clone(), most.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let (open, most) = (open2.clone(), most2.clone());
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                let mut buffer = vec![0u8; 64 * 1024];
                let _ = stream.read(&mut buffer).await;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
                open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (url, open, most)
}

/// 96 webhooks at once are delivered with at most `delivery_concurrency`
/// connections open.
#[tokio::test]
async fn deliveries_run_a_bounded_number_at_once() {
    let mut config = quick_config();
    config.delivery_concurrency = 8;
    let h = Harness::start(config).await;
    let (receiver, _, most) = slow_receiver().await;
    let mut ids = Vec::new();
    for job in 0..3 {
        let webhooks: Vec<Value> = (0..32)
            .map(|i| json!({"url": format!("{receiver}/hook/{job}/{i}")}))
            .collect();
        let (status, body) =
            submit_raw(&h, json!({"url": h.up("status/200"), "webhooks": webhooks, "idempotent_key": format!("fan-{job}")})).await;
        assert_eq!(status, 201, "{body}");
        ids.push(
            serde_json::from_str::<Value>(&body).unwrap()["job_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for id in ids {
        h.settled(&id).await;
    }
    let most = most.load(Ordering::SeqCst);
    assert!((1..=8).contains(&most), "{most} deliveries at once");
}

/// The official Node SDK nests camelCase fields (`fallbackJob`, an
/// `idempotentKey` inside `on_success`). The hosted service ignores fields
/// it does not know, so by default the sandbox does too and reports each
/// (the job's `warnings`); `--strict` refuses them, naming the field. The
/// submit answer carries the idempotency key.
#[tokio::test]
async fn unknown_job_fields_are_ignored_and_reported_unless_strict() {
    let mut config = quick_config();
    config.strict = false;
    let h = Harness::start(config).await;
    let job = json!({
        "url": h.up("status/200"),
        "idempotent_key": "node-style-1",
        "fallbackJob": {"url": h.up("status/201")},
        "on_success": {"url": h.up("status/202"), "idempotentKey": "child"},
    });
    let (status, body) = submit_raw(&h, job.clone()).await;
    assert_eq!(status, 201, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["idempotent_key"], "node-style-1");
    let report = h.settled(answer["job_id"].as_str().unwrap()).await;
    assert_eq!(report["state"], "succeeded");
    assert_eq!(
        report["warnings"],
        json!(["fallbackJob", "on_success.idempotentKey"])
    );

    let strict = Harness::start(quick_config()).await;
    let (status, body) = submit_raw(&strict, job).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("unknown field `fallbackJob`"), "{body}");
}
