//! `cargo bench -p ezthrottle-core`: the payload of the `everything` vector,
//! one signature check, one FRUGAL decision chain, a job with 40,000 headers,
//! and a step read from its calls (as the JS, C and uniffi bindings hand
//! steps over).

// Benchmarks panic when their fixed inputs are wrong.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ezthrottle_core::webhook::{signature_header, verify_signature};
use ezthrottle_core::{
    blocking, ClientConfig, ExecutionMode, HttpRequest, HttpResponse, RegionPolicy, RetryPolicy,
    Step, StepType, Target, Trigger, Webhook,
};
use serde_json::json;

/// The `everything` vector of payloads.json, through the typed builder.
fn everything() -> Step {
    Step::new()
        .url("https://api.example.com/v1/charge")
        .method("patch")
        .header("X-Trace", "t1")
        .body(r#"{"a":1}"#)
        .metadata_entry("k", "v")
        .webhooks([
            Webhook::new("https://w1.example/h").quorum_vote(true),
            Webhook::new("https://w2.example/h").regions(["ord"]),
        ])
        .webhook_quorum(2)
        .regions(["iad", "ord"])
        .region_policy(RegionPolicy::Strict)
        .execution_mode(ExecutionMode::Fanout)
        .retry_policy(RetryPolicy {
            max_retries: Some(1),
            retry_codes: Some(vec![429]),
            ..RetryPolicy::default()
        })
        .retry_at_ms(1_893_456_000_000)
        .idempotent_key("all-1")
        .fallback(
            Step::new().url("https://fb.example"),
            Trigger::OnError(vec![500]),
        )
        .on_success(Step::new().url("https://ok.example"))
        .on_failure_after(Step::new().url("https://ko.example"), 1000)
}

fn payload(c: &mut Criterion) {
    let calls = json!([["url","https://api.example.com/v1/charge"],["method","patch"],["headers",{"X-Trace":"t1"}],["body","{\"a\":1}"],["metadata",{"k":"v"}],["webhooks",[{"url":"https://w1.example/h","has_quorum_vote":true},{"url":"https://w2.example/h","regions":["ord"]}]],["webhook_quorum",2],["regions",["iad","ord"]],["region_policy","strict"],["execution_mode","fanout"],["retry_policy",{"max_retries":1,"retry_codes":[429]}],["retry_at",1893456000000u64],["idempotent_key","all-1"],["fallback",{"step":[["url","https://fb.example"]],"trigger_on_error":[500]}],["on_success",[["url","https://ok.example"]]],["on_failure",{"step":[["url","https://ko.example"]],"timeout_ms":1000}]]);
    let step = everything();
    assert_eq!(step, Step::from_calls(&calls).unwrap());
    c.bench_function("payload/everything: validate + build + serialize", |b| {
        b.iter(|| black_box(&step).to_json().unwrap())
    });
    let job = step.build_job().unwrap();
    c.bench_function("payload/everything: validate only", |b| {
        b.iter(|| black_box(&step).validate().unwrap())
    });
    c.bench_function("payload/everything: validate + build (no JSON)", |b| {
        b.iter(|| black_box(&step).build_job().unwrap())
    });
    c.bench_function("payload/everything: serialize a built job", |b| {
        b.iter(|| black_box(&job).to_json())
    });
    c.bench_function(
        "payload/everything: typed builder + validate + build + serialize",
        |b| b.iter(|| black_box(everything()).to_json().unwrap()),
    );
    c.bench_function(
        "payload/everything: from JSON calls + validate + build + serialize",
        |b| {
            b.iter(|| {
                Step::from_calls(black_box(&calls))
                    .unwrap()
                    .to_json()
                    .unwrap()
            })
        },
    );
}

fn signature(c: &mut Criterion) {
    let body = br#"{"job_id":"job_1","idempotent_key":"k1","status":"success","response":{"status_code":200,"body":"ok"}}"#;
    let secret = "whsec_primary_0123456789";
    let header = signature_header(secret, 1_764_320_000, body);
    c.bench_function("signature/verify one", |b| {
        b.iter(|| {
            let check = verify_signature(
                black_box(body),
                black_box(&header),
                secret,
                1_764_320_000,
                300,
            );
            assert!(check.is_valid());
        })
    });
}

fn frugal(c: &mut Criterion) {
    let config = ClientConfig::builder("ck_test_cust_abc_123")
        .build()
        .unwrap();
    // second_fallback_rescues: a 502 -> b 404 -> c 200, nothing submitted.
    let step = Step::new()
        .url("https://a.example")
        .step_type(StepType::Frugal)
        .fallback(
            Step::new()
                .url("https://b.example")
                .step_type(StepType::Frugal)
                .fallback_on_error([429]),
            Trigger::OnError(vec![502]),
        )
        .fallback(
            Step::new()
                .url("https://c.example")
                .step_type(StepType::Frugal),
            Trigger::OnError(vec![502]),
        );
    let transport = |r: &HttpRequest| {
        let status = match (r.target, r.url.as_str()) {
            (Target::Local, "https://a.example") => 502,
            (Target::Local, "https://b.example") => 404,
            _ => 200,
        };
        Ok(HttpResponse::new(status, "body"))
    };
    c.bench_function("frugal/decision chain 502 -> 404 -> 200 (scripted)", |b| {
        b.iter(|| {
            let mut execution = config.execute(black_box(&step)).unwrap();
            blocking::run(&mut execution, transport, || 0).unwrap()
        })
    });
}

/// A hostile job's 40,000 headers: validation stays linear (it took 16 s
/// when each header was compared with every earlier one).
fn many_headers(c: &mut Criterion) {
    let headers: Vec<(String, String)> = (0..40_000)
        .map(|i| (format!("X-H{i}"), "v".to_owned()))
        .collect();
    let step = Step::new().url("https://a.example").headers(headers);
    c.bench_function("payload/40,000 headers validated and written", |b| {
        b.iter(|| black_box(&step).to_json().unwrap())
    });
}

/// The benchmark's submit step (tests/bench/workload.json) as `[name, argument]` calls.
fn from_calls(c: &mut Criterion) {
    let calls = json!([
        ["url", "http://127.0.0.1:8080/upstream/status/200"],
        ["method", "POST"],
        ["headers", {"Content-Type": "application/json", "X-Request-Source": "checkout"}],
        ["body", "{\"amount\":1000,\"currency\":\"usd\",\"customer\":\"cus_42\"}"],
        ["metadata", {"order_id": "ord_42", "tenant": "acme"}],
        ["webhooks", [{"url": "http://127.0.0.1:8080/receiver/bench"}]],
        ["regions", ["iad", "lax"]],
        ["retry_policy", {"max_retries": 3, "retry_codes": [429, 503]}],
        ["retry_at", 1_900_000_000_000_u64],
        ["idempotent_key", "bench-1"],
    ]);
    c.bench_function("calls/the bench's submit step from its ten calls", |b| {
        b.iter(|| Step::from_calls(black_box(&calls)).unwrap())
    });
}

/// The core's JSON reader and writer beside serde_json's, on what a submit
/// reads (the gateway answer; the calls of the bench's step) and writes.
fn json_text(c: &mut Criterion) {
    let answer = r#"{"status":"allowed","forwarded_response":{"status_code":200,"headers":{"content-type":"application/json"},"body":"{\"job_id\":\"job_7e5dd39b85cb48c382e0756ea9effa1a\",\"status\":\"queued\",\"idempotent_key\":\"sha256:2b9d8e4e552821e942fdcc13512e0a65379c432383af72aeeb7d9e596e5a000e\"}"},"metadata":{"score":0.30000000000000004,"ratio":1.5e-7,"count":42}}"#;
    let calls = r#"[["url","http://127.0.0.1:8080/upstream/status/200"],["method","POST"],["headers",{"Content-Type":"application/json","X-Request-Source":"checkout"}],["body","{\"amount\":1000,\"currency\":\"usd\",\"customer\":\"cus_42\"}"],["metadata",{"order_id":"ord_42","tenant":"acme"}],["webhooks",[{"url":"http://127.0.0.1:8080/receiver/bench"}]],["regions",["iad","lax"]],["retry_policy",{"max_retries":3,"retry_codes":[429,503]}],["retry_at",1900000000000],["idempotent_key","bench-1"]]"#;
    for (name, text) in [
        ("a gateway answer", answer),
        ("the bench step's calls", calls),
    ] {
        c.bench_function(&format!("json/read {name}: core"), |b| {
            b.iter(|| ezthrottle_core::json::parse(black_box(text)).unwrap())
        });
        c.bench_function(&format!("json/read {name}: serde_json"), |b| {
            b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(text)).unwrap())
        });
        let value = ezthrottle_core::json::parse(text).unwrap();
        c.bench_function(&format!("json/write {name}: core"), |b| {
            b.iter(|| ezthrottle_core::json::to_string(black_box(&value)))
        });
        c.bench_function(&format!("json/write {name}: serde_json"), |b| {
            b.iter(|| serde_json::to_string(black_box(&value)).unwrap())
        });
    }
}

criterion_group!(
    benches,
    payload,
    signature,
    frugal,
    many_headers,
    from_calls,
    json_text
);
criterion_main!(benches);
