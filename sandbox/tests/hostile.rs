//! One job cannot hurt the others (issue 13): a job whose execution panics
//! fails alone, an upstream's absurd `X-EZTHROTTLE-RPS` does not poison its
//! host, and the sandbox's limits refuse amplifying jobs at submission,
//! naming the field.
#![allow(clippy::unwrap_used)]

mod common;

use common::{quick_config, Harness, KEY};
use ezthrottle_core::Step;
use serde_json::{json, Value};

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

/// The process's peak resident memory (Linux), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// An upstream's body is read as it streams, up to 1 MiB, then cut: a
/// 200 MB answer took the sandbox to 220 MB when it was buffered whole.
#[tokio::test]
async fn a_huge_upstream_body_is_cut_as_it_streams() {
    let h = Harness::start(quick_config()).await;
    let before = peak_rss();
    let job = h
        .submit(&Step::new().url(h.up(&format!("bytes/{}", 200 * 1024 * 1024))))
        .await;
    let report = h.settled(&job).await;
    assert_eq!(report["state"], "succeeded", "{report}");
    let body = report["result"]["response"]["body"].as_str().unwrap();
    assert_eq!(body.len(), 1024 * 1024);
    let grown = peak_rss().saturating_sub(before);
    assert!(grown < 64 * 1024 * 1024, "peak RSS grew by {} MB", grown / (1024 * 1024));
}
