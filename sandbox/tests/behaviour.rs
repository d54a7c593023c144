//! The sandbox's behaviour, each with a real upstream and webhook receiver on
//! loopback.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{quick_config, Harness, KEY, SECRET};
use ezthrottle_core::webhook::verify_signature;
use ezthrottle_core::{
    ClientConfig, Error, Job, RegionPolicy, RetryPolicy, Step, Trigger, Webhook,
};
use ezthrottle_sandbox::driver::Client;
use ezthrottle_sandbox::Rate;
use serde_json::{json, Value};

/// POST an envelope to the gateway as it is, bypassing the core's checks.
async fn proxy_raw(h: &Harness, envelope: &Value) -> Value {
    let url = format!("{}/api/v1/proxy", h.base);
    let response = h
        .client
        .http
        .post(url)
        .bearer_auth(KEY)
        .body(envelope.to_string())
        .send()
        .await;
    response.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn the_gateway_authenticates_and_never_echoes_the_key() {
    let h = Harness::start(quick_config()).await;
    for key in ["ck_wrong_key_123", "ck_other"] {
        let client = Client::new(
            ClientConfig::builder(key)
                .tracktags_url(&h.base)
                .build()
                .unwrap(),
        );
        let mut call = client
            .config
            .submit_job(&Job::new(h.up("status/200")))
            .unwrap();
        let err = client.run(&mut call).await.unwrap_err();
        assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
        assert!(!err.to_string().contains(key));
    }
    let raw = h
        .client
        .http
        .post(format!("{}/api/v1/proxy", h.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
}

#[tokio::test]
async fn the_gateway_rate_limits_per_key_with_retry_after() {
    let mut config = quick_config();
    config.gateway_rate = Some(Rate {
        per_second: 1.0,
        burst: 2.0,
    });
    let h = Harness::start(config).await;
    let step = Step::new()
        .url(h.up("status/200"))
        .idempotent_strategy(ezthrottle_core::IdempotentStrategy::Unique);
    h.submit(&step).await;
    h.submit(&step).await;
    let before = ezthrottle_sandbox::now_ms() as u64;
    match h.execute(&step).await {
        Err(Error::RateLimited {
            retry_at_ms: Some(at),
            ..
        }) => {
            assert!(
                at >= before + 1000 && at <= before + 3000,
                "retry_at {at} vs now {before}"
            );
        }
        other => panic!("expected a rate limit, got {other:?}"),
    }
}

#[tokio::test]
async fn the_gateway_is_not_an_open_relay_and_refuses_bad_input() {
    let h = Harness::start(quick_config()).await;
    let proxy = format!("{}/api/v1/proxy", h.base);
    let post = |body: String| {
        h.client
            .http
            .post(&proxy)
            .bearer_auth(KEY)
            .body(body)
            .send()
    };
    for target in [
        "http://evil.example/api/v1/jobs",
        "https://ezthrottle.fly.dev/api/v1/admin",
        "http://127.0.0.1:1/api/v1/jobs",
    ] {
        let envelope = json!({"scope": "customer", "metric_name": "", "target_url": target, "method": "POST", "headers": {}, "body": "{}"});
        let response = post(envelope.to_string()).await.unwrap();
        assert_eq!(response.status(), 400, "{target}");
        let text = response.text().await.unwrap();
        assert!(text.contains("not an EZThrottle endpoint"), "{text}");
    }
    let response = post("{not json".into()).await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("invalid proxy envelope"));
    let response = post("x".repeat(2 * 1024 * 1024)).await.unwrap();
    assert_eq!(response.status(), 413);
    // The hosted service's URL (the SDKs' default) is served here.
    let envelope = json!({"scope": "customer", "metric_name": "", "target_url": "https://ezthrottle.fly.dev/api/v1/jobs",
        "method": "POST", "headers": {}, "body": json!({"url": h.up("status/200")}).to_string()});
    let answer: Value = post(envelope.to_string())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["forwarded_response"]["status_code"], 201, "{answer}");
}

#[tokio::test]
async fn bad_jobs_are_refused_naming_the_field() {
    let h = Harness::start(quick_config()).await;
    // The core refuses this before sending; send it raw to prove the service checks too.
    let envelope = json!({"scope": "customer", "metric_name": "", "target_url": format!("{}/api/v1/jobs", h.base),
        "method": "POST", "headers": {}, "body": json!({"url": h.up("status/200"), "fallback_job": {"url": "ftp://x", "trigger": {}}}).to_string()});
    let answer = proxy_raw(&h, &envelope).await;
    assert_eq!(answer["forwarded_response"]["status_code"], 400);
    assert!(
        answer["forwarded_response"]["body"]
            .as_str()
            .unwrap()
            .contains("fallback_job.url"),
        "{answer}"
    );
    let envelope = json!({"scope": "customer", "metric_name": "", "target_url": format!("{}/api/v1/jobs", h.base),
        "method": "POST", "headers": {}, "body": json!({"url": h.up("status/200"), "priority": 1}).to_string()});
    let answer = proxy_raw(&h, &envelope).await;
    assert!(
        answer["forwarded_response"]["body"]
            .as_str()
            .unwrap()
            .contains("unknown field `priority`"),
        "{answer}"
    );
    // A valid job goes through.
    let mut call = h
        .client
        .config
        .submit_job(&Job::new(h.up("status/200")))
        .unwrap();
    assert!(h.client.run(&mut call).await.is_ok());
}

#[tokio::test]
async fn a_hundred_identical_submissions_at_once_make_one_job_that_runs_once() {
    let h = Harness::start(quick_config()).await;
    let step = Step::new()
        .url(h.up("count/dedupe"))
        .method("POST")
        .body("same");
    let runs = (0..100).map(|_| h.execute(&step));
    let outcomes = futures_util::future::join_all(runs).await;
    let answers: Vec<Value> = outcomes.into_iter().map(|o| o.unwrap().to_json()).collect();
    let first = answers[0]["job_id"].clone();
    assert!(answers.iter().all(|a| a["job_id"] == first));
    assert_eq!(
        answers.iter().filter(|a| a["status"] == "queued").count(),
        1
    );
    assert_eq!(
        answers
            .iter()
            .filter(|a| a["status"] == "duplicate")
            .count(),
        99
    );
    h.settled(first.as_str().unwrap()).await;
    assert_eq!(h.hits("dedupe").await, 1);
}

#[tokio::test]
async fn retry_at_is_respected() {
    let h = Harness::start(quick_config()).await;
    let at = ezthrottle_sandbox::now_ms() as u64 + 800;
    let id = h
        .submit(&Step::new().url(h.up("count/later")).retry_at_ms(at))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.hits("later").await, 0, "not before retry_at");
    let report = h.settled(&id).await;
    assert!(report["attempts"][0]["started_at"].as_u64().unwrap() >= at);
}

#[tokio::test]
async fn regions_strict_fails_on_a_down_region_and_fallback_routes_around() {
    let mut config = quick_config();
    config.down_regions = vec!["lax".into()];
    let h = Harness::start(config).await;
    let strict = h
        .submit(
            &Step::new()
                .url(h.up("status/200"))
                .regions(["lax"])
                .region_policy(RegionPolicy::Strict),
        )
        .await;
    let report = h.settled(&strict).await;
    assert_eq!(report["state"], "failed");
    assert!(report["attempts"][0]["error"]
        .as_str()
        .unwrap()
        .contains("lax is down"));
    let routed = h
        .submit(&Step::new().url(h.up("status/201")).regions(["lax", "ord"]))
        .await;
    let report = h.settled(&routed).await;
    assert_eq!(report["state"], "succeeded");
    let regions: Vec<&str> = report["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["region"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["ord"]);
    let fanout = h
        .submit(
            &Step::new()
                .url(h.up("status/204"))
                .regions(["iad", "ord"])
                .execution_mode(ezthrottle_core::ExecutionMode::Fanout),
        )
        .await;
    assert_eq!(
        h.settled(&fanout).await["attempts"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "fanout runs every region"
    );
}

#[tokio::test]
async fn retries_honour_retry_after_and_reroutes_move_region() {
    let h = Harness::start(quick_config()).await;
    let started = Instant::now();
    let id = h
        .submit(&Step::new().url(h.up("flaky/retry/2/429")).regions(["iad"]))
        .await;
    let report = h.settled(&id).await;
    assert_eq!(report["state"], "succeeded");
    let attempts = report["attempts"].as_array().unwrap();
    assert_eq!(
        attempts
            .iter()
            .map(|a| a["status_code"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [429, 429, 200]
    );
    assert!(
        attempts.iter().all(|a| a["region"] == "iad"),
        "retries stay in the region"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After: 1 was honoured twice"
    );

    let policy = RetryPolicy {
        max_retries: Some(0),
        max_reroutes: Some(1),
        reroute_codes: Some(vec![502]),
        ..Default::default()
    };
    let id = h
        .submit(
            &Step::new()
                .url(h.up("flaky/reroute/1/502"))
                .regions(["iad"])
                .retry_policy(policy),
        )
        .await;
    let report = h.settled(&id).await;
    let regions: Vec<&str> = report["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["region"].as_str().unwrap())
        .collect();
    assert_eq!(report["state"], "succeeded");
    assert_eq!(
        regions,
        ["iad", "lax"],
        "a reroute code moves to the next region"
    );
}

#[tokio::test]
async fn upstream_pacing_follows_x_ezthrottle_rps() {
    let mut config = quick_config();
    config.pacing = Some(Rate {
        per_second: 1000.0,
        burst: 1000.0,
    });
    let h = Harness::start(config).await;
    // The first answer lowers this host's pace to 4 per second.
    let first = h
        .submit(&Step::new().url(h.up("rps/4")).idempotent_key("pace-0"))
        .await;
    h.settled(&first).await;
    let started = Instant::now();
    let mut ids = Vec::new();
    for i in 1..=6 {
        ids.push(
            h.submit(
                &Step::new()
                    .url(h.up("rps/4"))
                    .idempotent_key(format!("pace-{i}")),
            )
            .await,
        );
    }
    for id in &ids {
        h.settled(id).await;
    }
    // A burst of 4, then two more at 4 per second: at least 0.5 s (unpaced, a few ms).
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "not paced: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn failure_spawns_on_failure_and_the_timeout_is_honoured() {
    let h = Harness::start(quick_config()).await;
    let step = Step::new()
        .url(h.up("delay/3000"))
        .webhooks([Webhook::new(h.hook("fail-parent"))])
        .on_failure_after(
            Step::new()
                .url(h.up("count/alert"))
                .webhooks([Webhook::new(h.hook("fail-child"))]),
            500,
        );
    let started = Instant::now();
    let id = h.submit(&step).await;
    let parent = h.received("fail-parent", 1).await;
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "declared failed after on_failure_timeout_ms"
    );
    let event: Value = serde_json::from_str(parent[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(event["status"], "failed");
    h.received("fail-child", 1).await;
    let report = h.report(&id).await;
    assert_eq!(report["children"][0]["relation"], "on_failure");
    assert_eq!(h.hits("alert").await, 1);
}

#[tokio::test]
async fn webhooks_are_signed_retried_and_counted_toward_the_quorum() {
    let h = Harness::start(quick_config()).await;
    let mut create = h.client.config.create_webhook_secret(SECRET, None).unwrap();
    h.client.run(&mut create).await.unwrap();
    let mut get = h.client.config.get_webhook_secret();
    let info = h.client.run(&mut get).await.unwrap();
    assert_eq!(info.primary_secret, "in****89");
    assert!(!info.has_secondary);

    let step = Step::new()
        .url(h.up("status/200"))
        .metadata_entry("order", 42)
        .webhooks([
            Webhook::new(format!("{}?fail=2", h.hook("flaky-hook"))),
            Webhook::new(h.hook("steady-hook")),
            Webhook::new(format!("{}/upstream/status/500", h.base)).quorum_vote(false),
        ])
        .webhook_quorum(2);
    let id = h.submit(&step).await;
    let report = h.settled(&id).await;
    let deliveries = report["deliveries"].as_array().unwrap();
    assert_eq!(deliveries[0]["state"], "delivered");
    assert_eq!(deliveries[0]["attempts"], 3, "two failures, then delivered");
    assert_eq!(deliveries[2]["state"], "failed");
    assert_eq!(report["quorum_met"], true);
    let got = h.received("flaky-hook", 1).await;
    let body = got[0]["body"].as_str().unwrap();
    let check = verify_signature(
        body.as_bytes(),
        got[0]["signature"].as_str().unwrap(),
        SECRET,
        ezthrottle_sandbox::now_ms() / 1000,
        300,
    );
    assert!(check.is_valid(), "{:?}", check.reason);
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["job_id"], id.as_str());
    assert_eq!(event["metadata"], json!({"order": 42}));
    assert_eq!(event["response"]["status_code"], 200);

    let mut delete = h.client.config.delete_webhook_secret();
    h.client.run(&mut delete).await.unwrap();
    let mut get = h.client.config.get_webhook_secret();
    assert_eq!(
        h.client.run(&mut get).await.unwrap_err(),
        Error::SecretsNotConfigured
    );
}

#[tokio::test]
async fn fallback_triggers_and_on_success_children() {
    let h = Harness::start(quick_config()).await;
    let step = Step::new()
        .url(h.up("status/503"))
        .retry_policy(RetryPolicy {
            max_retries: Some(0),
            ..Default::default()
        })
        .fallback(
            Step::new().url(h.up("count/never")),
            Trigger::OnError(vec![404]),
        )
        .fallback(
            Step::new().url(h.up("status/202")),
            Trigger::OnError(vec![503]),
        )
        .on_success(Step::new().url(h.up("count/child")));
    let id = h.submit(&step).await;
    let report = h.settled(&id).await;
    let paths: Vec<&str> = report["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["job", "fallback[2]"],
        "a fallback whose trigger does not fire is skipped"
    );
    assert_eq!(report["result"]["response"]["status_code"], 202);
    let child = report["children"][0]["job_id"].as_str().unwrap().to_owned();
    h.settled(&child).await;
    assert_eq!(h.hits("child").await, 1);
    assert_eq!(h.hits("never").await, 0);
}

#[tokio::test]
async fn cors_health_and_unknown_jobs() {
    let h = Harness::start(quick_config()).await;
    let preflight = h
        .client
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/api/v1/proxy", h.base))
        .header("origin", "http://localhost:9999")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight
        .headers()
        .contains_key("access-control-allow-origin"));
    assert_eq!(h.get(&format!("{}/health", h.base)).await["status"], "ok");
    let missing = h
        .client
        .http
        .get(format!("{}/api/v1/jobs/nope", h.base))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// Reads one HTTP/1.1 response (headers and a `content-length` body) from
/// `stream`; `None` when the connection ends first.
async fn read_response(stream: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&seen).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                return Some(text);
            }
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        seen.extend_from_slice(&chunk[..n]);
    }
}

/// A client that writes a request's headers and body apart (java.net.http
/// does) keeps its connection: the testkit reads the body before answering.
/// Unread, hyper closed the connection after the answer, and the client's
/// next request on it met a reset.
#[tokio::test]
async fn a_body_sent_after_its_headers_keeps_the_connection_alive() {
    use tokio::io::AsyncWriteExt;
    let h = Harness::start(quick_config()).await;
    let addr = h.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let head = format!(
        "POST /upstream/status/200 HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    // The answer may come before the body is sent: the endpoint needs none.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    stream.write_all(b"{\"a\":12345}").await.unwrap();
    let first = read_response(&mut stream).await.expect("a first answer");
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    let again = format!("GET /upstream/status/201 HTTP/1.1\r\nhost: {addr}\r\n\r\n");
    stream.write_all(again.as_bytes()).await.unwrap();
    let second = read_response(&mut stream).await;
    assert!(
        second
            .as_deref()
            .is_some_and(|s| s.starts_with("HTTP/1.1 201")),
        "the connection was not kept: {second:?}"
    );
}
