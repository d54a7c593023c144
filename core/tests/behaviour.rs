//! Behaviour the vectors do not pin: field paths of refusals, every gateway
//! answer, workflow edges, forwarding, secrets, redaction of the API key.

// Tests panic on purpose when an expectation fails.
#![allow(clippy::unwrap_used)]

use std::cell::RefCell;

use ezthrottle_core::webhook::{Continuations, WebhookEvent};
use ezthrottle_core::{
    read_gateway_answer, Action, AutoForwarded, BlockingClient, ClientConfig, Error,
    ForwardOrFallback, ForwardToEZThrottle, HttpRequest, HttpResponse, Job, Operation, Outcome,
    QueueRequest, Step, StepType, Target, TransportError, Trigger, Webhook,
};
use serde_json::{json, Value};

const KEY: &str = "ck_secret_key_that_must_not_leak";
const NOW_MS: u64 = 1_764_320_000_000;

fn config() -> ClientConfig {
    ClientConfig::builder(KEY)
        .tracktags_url("http://gw.invalid/")
        .ezthrottle_url("http://ezt.invalid")
        .build()
        .unwrap()
}

fn allowed(status_code: u16, body: &str) -> HttpResponse {
    HttpResponse::new(
        200,
        json!({"status": "allowed", "forwarded_response": {"status_code": status_code, "body": body}})
            .to_string(),
    )
}

fn queued(id: &str) -> HttpResponse {
    allowed(201, &json!({"job_id": id, "status": "queued"}).to_string())
}

/// A transport that records what it was asked and answers from a script.
struct Net {
    log: RefCell<Vec<HttpRequest>>,
}

impl Net {
    fn new() -> Self {
        Self {
            log: RefCell::new(Vec::new()),
        }
    }
    fn local_urls(&self) -> Vec<String> {
        self.log
            .borrow()
            .iter()
            .filter(|r| r.target == Target::Local)
            .map(|r| r.url.clone())
            .collect()
    }
    fn submitted(&self) -> Vec<Value> {
        self.log
            .borrow()
            .iter()
            .filter(|r| r.target == Target::Gateway)
            .map(|r| {
                let envelope: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
                serde_json::from_str(envelope["body"].as_str().unwrap()).unwrap()
            })
            .collect()
    }
}

fn run_step(
    step: &Step,
    config: &ClientConfig,
    answer: impl Fn(&HttpRequest) -> Result<HttpResponse, TransportError>,
) -> (Result<ezthrottle_core::Run, Error>, Net) {
    let net = Net::new();
    let result = {
        let transport = |r: &HttpRequest| {
            net.log.borrow_mut().push(r.clone());
            answer(r)
        };
        BlockingClient::new(config.clone(), transport, || NOW_MS).execute(step)
    };
    (result, net)
}

#[test]
fn refusals_name_the_nested_field() {
    let cases: Vec<(Value, &str)> = vec![
        (
            json!([["url", "https://a.example"], ["on_success", [["url", "https://b.example"], ["fallback", {"step": [["url", "ftp://x"]]}]]]]),
            "on_success.fallback[0].url",
        ),
        (
            json!([["url", "https://a.example"], ["on_failure", {"step": [["method", "GET"]]}]]),
            "on_failure.url",
        ),
        (
            json!([["url", "https://a.example"], ["fallback", {"step": [["url", "https://b.example"]]}], ["fallback", {"step": [["url", "https://c.example"], ["headers", {"X": "a\nb"}]]}]]),
            "fallback[1].headers[\"X\"]",
        ),
        (
            json!([["url", "https://a.example"], ["fallback", {"step": [["url", "https://b.example"]], "trigger_on_error": [500], "trigger_on_timeout": 5}]]),
            "fallback[0].trigger",
        ),
        (
            json!([["url", "https://a.example"], ["fallback", {"step": [["url", "https://b.example"]], "trigger_on_error": []}]]),
            "fallback[0].trigger_on_error",
        ),
        (
            json!([["url", "https://a.example"], ["retry_policy", {"retry_codes": [429, 70000]}]]),
            "retry_policy.retry_codes[1]",
        ),
        (
            json!([["url", "https://a.example"], ["retry_policy", {"max_tries": 1}]]),
            "retry_policy.max_tries",
        ),
        (
            json!([["url", "https://a.example"], ["webhooks", [{"url": "https://h.example", "regions": ["IAD"]}]]]),
            "webhooks[0].regions[0]",
        ),
        (
            json!([["url", "https://a.example"], ["regions", ["iad", "iad"]]]),
            "regions[1]",
        ),
        (
            json!([["url", "https://a.example"], ["headers", {"content-length": "5"}]]),
            "headers[\"content-length\"]",
        ),
        (
            json!([["url", "https://a.example"], ["headers", {"X-A": "1", "x-a": "2"}]]),
            "headers[\"x-a\"]",
        ),
        (
            json!([["url", "https://a.example"], ["headers", {"X-A": "café"}]]),
            "headers[\"X-A\"]",
        ),
        (
            json!([
                ["url", "https://a.example"],
                ["type", "frugal"],
                ["body", "x"]
            ]),
            "body",
        ),
        (
            json!([
                ["url", "https://a.example"],
                ["retry_at", 9007199254740993u64]
            ]),
            "retry_at",
        ),
        (
            json!([["url", "https://a.example"], ["webhook_quorum", 1.5]]),
            "webhook_quorum",
        ),
        (
            json!([["url", "https://a.example"], ["type", "cheap"]]),
            "type",
        ),
        (
            json!([["url", "https://a.example"], ["teleport", true]]),
            "teleport",
        ),
        (
            json!([["url", "https://a.example"], ["idempotent_key", "a\u{0}b"]]),
            "idempotent_key",
        ),
        (
            json!([["url", "https://a.example"], ["local_timeout", 86401]]),
            "local_timeout",
        ),
    ];
    for (calls, expected) in cases {
        match Step::from_calls(&calls).and_then(|s| s.build_job()) {
            Err(Error::Validation { path, .. }) => assert_eq!(path, expected, "{calls}"),
            other => panic!("{calls}: expected a refusal at {expected}, got {other:?}"),
        }
    }
}

#[test]
fn nesting_is_bounded() {
    let mut step = Step::new().url("https://leaf.example");
    for _ in 0..40 {
        step = Step::new().url("https://a.example").on_success(step);
    }
    let err = step.build_job().unwrap_err();
    assert_eq!(err.code(), "validation");
    assert!(err.to_string().contains("nested"), "{err}");
}

#[test]
fn gateway_answers_become_typed_results() {
    let read = |r: HttpResponse| read_gateway_answer(&r, NOW_MS);
    // Rate limits: Retry-After wins over the body's retry_at.
    let limited = HttpResponse::new(429, r#"{"error":"slow down","retry_at":5}"#)
        .with_header("retry-after", "7");
    assert_eq!(
        read(limited),
        Err(Error::RateLimited {
            message: "slow down".into(),
            retry_at_ms: Some(NOW_MS + 7000)
        })
    );
    let limited = HttpResponse::new(429, r#"{"error":"slow down","retry_at":5}"#);
    assert!(matches!(
        read(limited),
        Err(Error::RateLimited {
            retry_at_ms: Some(5),
            ..
        })
    ));
    let limited = HttpResponse::new(429, "plain").with_header("Retry-After", "Wed, 21 Oct 2015");
    assert!(matches!(
        read(limited),
        Err(Error::RateLimited {
            retry_at_ms: None,
            ..
        })
    ));
    assert!(matches!(
        read(HttpResponse::new(401, "{}")),
        Err(Error::Authentication { .. })
    ));
    assert!(matches!(
        read(HttpResponse::new(403, "no")),
        Err(Error::Authentication { .. })
    ));
    assert_eq!(
        read(HttpResponse::new(502, "bad gw")),
        Err(Error::Gateway {
            status: 502,
            body: "bad gw".into()
        })
    );
    assert_eq!(
        read(HttpResponse::new(
            200,
            r#"{"status":"denied","error":"plan limit"}"#
        )),
        Err(Error::Denied {
            message: "plan limit".into()
        })
    );
    // Anything but "allowed" is a refusal, as PROTOCOL §1 and the reference
    // read it: a missing or non-string status too.
    for refused in [
        r#"{"forwarded_response":{}}"#,
        r#"{"status":5,"error":"plan limit"}"#,
    ] {
        assert_eq!(
            read(HttpResponse::new(200, refused)).unwrap_err().code(),
            "denied",
            "{refused}"
        );
    }
    // Any whole status code is the service's: out of 2xx, a rejection.
    let odd = r#"{"status":"allowed","forwarded_response":{"status_code":7000,"body":{"a":1}}}"#;
    assert_eq!(
        read(HttpResponse::new(200, odd)).and_then(|f| f.into_success()),
        Err(Error::JobRejected {
            status: 7000,
            body: r#"{"a":1}"#.into()
        })
    );
    for malformed in [
        "not json",
        "[1]",
        r#"{"status":"allowed"}"#,
        r#"{"status":"allowed","forwarded_response":{"body":"{}"}}"#,
        r#"{"status":"allowed","forwarded_response":{"status_code":"200"}}"#,
        r#"{"status":"allowed","forwarded_response":{"status_code":70000}}"#,
        r#"{"status":"allowed","forwarded_response":{"status_code":-1}}"#,
        r#"{"status":"allowed","forwarded_response":{"status_code":201.5}}"#,
        // An answer's body is JSON text, not JSON.
        r#"{"status":"allowed","forwarded_response":{"status_code":201,"body":{"job_id":"j"}}}"#,
    ] {
        assert_eq!(
            read(HttpResponse::new(200, malformed)).unwrap_err().code(),
            "protocol",
            "{malformed}"
        );
    }
    let ok = read(allowed(201, "{}")).unwrap();
    assert_eq!(ok.status_code, 201);

    // A submission: rejection, malformed body, no job_id.
    let submit = |reply: HttpResponse| {
        let mut call = config().submit_job(&Job::new("https://a.example")).unwrap();
        let _ = call.start();
        match call.feed(NOW_MS, Ok(reply)) {
            Action::Done(result) => result,
            Action::Send(_) => panic!("a submit is one request"),
        }
    };
    assert_eq!(
        submit(allowed(400, "bad url")),
        Err(Error::JobRejected {
            status: 400,
            body: "bad url".into()
        })
    );
    assert_eq!(
        submit(allowed(200, "<html>")).unwrap_err().code(),
        "protocol"
    );
    assert_eq!(
        submit(allowed(200, r#"{"status":"queued"}"#))
            .unwrap_err()
            .code(),
        "protocol"
    );
    assert_eq!(submit(queued("j9")).unwrap().job_id(), "j9");
}

#[test]
fn operations_refuse_to_be_driven_out_of_order() {
    let mut call = config().submit_job(&Job::new("https://a.example")).unwrap();
    assert!(matches!(
        call.feed(NOW_MS, Ok(queued("x"))),
        Action::Done(Err(Error::Misuse { .. }))
    ));
    assert!(matches!(call.start(), Action::Send(_)));
    assert!(matches!(
        call.start(),
        Action::Done(Err(Error::Misuse { .. }))
    ));
    assert!(matches!(
        call.feed(NOW_MS, Ok(queued("x"))),
        Action::Done(Ok(_))
    ));
    assert!(matches!(
        call.feed(NOW_MS, Ok(queued("x"))),
        Action::Done(Err(Error::Misuse { .. }))
    ));

    let mut exec = config()
        .execute(&Step::new().url("https://a.example"))
        .unwrap();
    assert!(matches!(
        exec.feed(NOW_MS, Ok(queued("x"))),
        Action::Done(Err(Error::Misuse { .. }))
    ));
    assert!(matches!(exec.start(), Action::Send(_)));
    assert!(matches!(
        exec.feed(NOW_MS, Ok(queued("x"))),
        Action::Done(Ok(_))
    ));
    assert!(matches!(
        exec.feed(NOW_MS, Ok(queued("x"))),
        Action::Done(Err(Error::Misuse { .. }))
    ));
}

#[test]
fn timeout_runs_only_timeout_and_unconditional_fallbacks() {
    let step = Step::new()
        .url("https://a.example")
        .step_type(StepType::Frugal)
        .local_timeout(2)
        .fallback(
            Step::new()
                .url("https://codes.example")
                .step_type(StepType::Frugal),
            Trigger::OnError(vec![500]),
        )
        .fallback(
            Step::new()
                .url("https://slow.example")
                .step_type(StepType::Frugal),
            Trigger::OnTimeout(1000),
        )
        .fallback(
            Step::new()
                .url("https://any.example")
                .step_type(StepType::Frugal),
            Trigger::Always,
        );
    let (result, net) = run_step(&step, &config(), |r| match r.url.as_str() {
        "https://a.example" => {
            assert_eq!(r.timeout_ms, 2000);
            Err(TransportError::timeout("2 s"))
        }
        "https://slow.example" => Ok(HttpResponse::new(503, "busy")),
        _ => Ok(HttpResponse::new(200, "rescued")),
    });
    assert_eq!(
        net.local_urls(),
        [
            "https://a.example",
            "https://slow.example",
            "https://any.example"
        ]
    );
    let run = result.unwrap();
    assert_eq!(
        run.outcome,
        Outcome::LocalSuccess {
            status_code: 200,
            response: "rescued".into()
        }
    );
    assert_eq!(run.trace.entries().len(), 3);
}

#[test]
fn network_error_skips_code_triggers_and_forwards_once() {
    let step = Step::new()
        .url("https://a.example")
        .step_type(StepType::Frugal)
        .fallback(
            Step::new()
                .url("https://b.example")
                .step_type(StepType::Frugal),
            Trigger::OnError(vec![502]),
        );
    let (result, net) = run_step(&step, &config(), |r| match r.target {
        Target::Local => Err(TransportError::unreachable("refused")),
        Target::Gateway => Ok(queued("job_1")),
    });
    assert_eq!(net.local_urls(), ["https://a.example"]);
    assert_eq!(net.submitted().len(), 1);
    assert_eq!(result.unwrap().outcome.job_id(), Some("job_1"));
}

#[test]
fn a_failing_follow_up_does_not_undo_the_success_and_is_traced() {
    let step = Step::new()
        .url("https://a.example")
        .step_type(StepType::Frugal)
        .response_description("the greeting")
        .on_success(Step::new().url("https://b.example").description("notify"));
    let (result, _) = run_step(&step, &config(), |r| match r.target {
        Target::Local => Ok(HttpResponse::new(200, "hi")),
        Target::Gateway => Ok(HttpResponse::new(429, r#"{"error":"limit"}"#)),
    });
    let run = result.unwrap();
    assert_eq!(
        run.outcome,
        Outcome::LocalSuccess {
            status_code: 200,
            response: "hi".into()
        }
    );
    let text = run.trace.to_string();
    assert!(
        text.starts_with(
            "1. [SUCCESS] GET https://a.example\n   Response: hi\n   Meaning: the greeting"
        ),
        "{text}"
    );
    assert!(
        text.contains("2. [FAILED] notify\n   Error: rate limited: limit"),
        "{text}"
    );
}

#[test]
fn continuation_webhook_moves_follow_ups_into_the_client() {
    let config = ClientConfig::builder(KEY)
        .tracktags_url("http://gw.invalid")
        .continuation_webhook("http://127.0.0.1:9/hooks")
        .build()
        .unwrap();
    let step = Step::new()
        .url("https://a.example")
        .webhook_quorum(2)
        .webhooks([
            Webhook::new("https://h.example/1"),
            Webhook::new("https://h.example/2"),
        ])
        .on_success(Step::new().url("https://next.example"))
        .on_failure_after(Step::new().url("https://alert.example"), 500);
    let (result, net) = run_step(&step, &config, |_| Ok(queued("job_7")));
    let run = result.unwrap();
    let job = &net.submitted()[0];
    assert!(job.get("on_success").is_none() && job.get("on_failure").is_none());
    assert!(job.get("on_failure_timeout_ms").is_none());
    assert_eq!(
        job["webhooks"][2],
        json!({"url": "http://127.0.0.1:9/hooks", "has_quorum_vote": true})
    );
    assert_eq!(run.continuations.len(), 1);

    let mut registry = Continuations::default();
    for c in run.continuations {
        registry.register(c);
    }
    let event = WebhookEvent::parse(
        br#"{"job_id":"job_7","status":"failed","metadata":{"a":1},"new_field":true}"#,
    )
    .unwrap();
    assert_eq!(event.extra["new_field"], json!(true));
    assert_eq!(
        registry.resolve(&event).unwrap().get_url(),
        Some("https://alert.example")
    );
}

#[test]
fn forwarding_submits_with_a_fresh_key_and_falls_back_only_when_unreachable() {
    let net = Net::new();
    let mut answers = vec![
        Ok(queued("f1")),
        Err(TransportError::unreachable("refused")),
        Err(TransportError::timeout("slow")),
        Ok(HttpResponse::new(429, "{}")),
        Err(TransportError::other("tls")),
    ]
    .into_iter();
    let transport = |r: &HttpRequest| {
        net.log.borrow_mut().push(r.clone());
        answers.next().unwrap()
    };
    let mut client = BlockingClient::new(config(), transport, || NOW_MS);
    let forward = ForwardToEZThrottle {
        method: "post".into(),
        body: Some("{}".into()),
        ..ForwardToEZThrottle::new("https://api.example/charge")
    };
    let done = client
        .auto_forward(|| -> Result<u8, _> { Err(Box::new(forward.clone())) })
        .unwrap();
    assert!(matches!(done, AutoForwarded::Forwarded(ref a) if a.job_id() == "f1"));
    assert!(matches!(
        client
            .auto_forward(|| Ok::<_, Box<ForwardToEZThrottle>>(3))
            .unwrap(),
        AutoForwarded::Completed(3)
    ));
    assert!(matches!(
        client.forward_or_fallback(&forward, || "local").unwrap(),
        ForwardOrFallback::Fallback("local")
    ));
    assert!(matches!(
        client.forward_or_fallback(&forward, || "local").unwrap(),
        ForwardOrFallback::Fallback("local")
    ));
    assert_eq!(
        client
            .forward_or_fallback(&forward, || "local")
            .unwrap_err()
            .code(),
        "rate_limited"
    );
    assert_eq!(
        client
            .forward_or_fallback(&forward, || "local")
            .unwrap_err()
            .code(),
        "transport"
    );
    drop(client);
    let jobs = net.submitted();
    assert_eq!(jobs[0]["method"], "POST");
    let key = jobs[0]["idempotent_key"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(key).unwrap().get_version_num(), 4);
    assert_ne!(jobs[1]["idempotent_key"], jobs[0]["idempotent_key"]);
    // Bad forwards are refused before anything is sent.
    let before = net.log.borrow().len();
    let mut client = BlockingClient::new(config(), |_: &HttpRequest| panic!("sent"), || NOW_MS);
    let bad = ForwardToEZThrottle::new("nope");
    assert_eq!(
        client.forward_or_fallback(&bad, || ()).unwrap_err().code(),
        "validation"
    );
    assert_eq!(net.log.borrow().len(), before);
}

#[test]
fn legacy_queue_request_has_one_voting_webhook() {
    let mut request = QueueRequest::new("https://a.example", "https://app.example/hook");
    request.method = Some("put".into());
    let job = request.to_job().unwrap();
    assert_eq!(
        job.to_value(),
        json!({"url": "https://a.example", "method": "PUT", "webhooks": [{"url": "https://app.example/hook", "has_quorum_vote": true}]})
    );
}

#[test]
fn secrets_are_checked_before_sending_and_rotation_keeps_a_known_secret() {
    let config = config();
    assert_eq!(
        config
            .create_webhook_secret("short", None)
            .unwrap_err()
            .code(),
        "validation"
    );
    let err = config
        .create_webhook_secret("0123456789abcdef", Some("tiny"))
        .unwrap_err();
    assert!(matches!(err, Error::Validation { ref path, .. } if path == "secondary_secret"));

    let log = RefCell::new(Vec::<Value>::new());
    let transport = |r: &HttpRequest| {
        let envelope: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        log.borrow_mut().push(envelope.clone());
        Ok(match envelope["method"].as_str().unwrap() {
            "GET" => allowed(404, r#"{"error":"none"}"#),
            _ => allowed(200, r#"{"status":"ok"}"#),
        })
    };
    let mut client = BlockingClient::new(config, transport, || NOW_MS);
    assert_eq!(
        client.get_webhook_secret().unwrap_err(),
        Error::SecretsNotConfigured
    );
    client
        .rotate_webhook_secret("new_secret_0123456789", None)
        .unwrap();
    client
        .rotate_webhook_secret("newer_secret_0123456789", Some("new_secret_0123456789"))
        .unwrap();
    client.delete_webhook_secret().unwrap();
    drop(client);
    let log = log.into_inner();
    let methods: Vec<&str> = log.iter().map(|e| e["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["GET", "GET", "POST", "POST", "DELETE"]);
    assert_eq!(
        log[0]["target_url"],
        "http://ezt.invalid/api/v1/webhook-secrets"
    );
    assert_eq!(log[0]["body"], "");
    let created: Value = serde_json::from_str(log[2]["body"].as_str().unwrap()).unwrap();
    assert_eq!(created, json!({"primary_secret": "new_secret_0123456789"}));
    let rotated: Value = serde_json::from_str(log[3]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        rotated,
        json!({"primary_secret": "newer_secret_0123456789", "secondary_secret": "new_secret_0123456789"})
    );
}

#[test]
fn the_api_key_never_shows() {
    let config = config();
    let call = config.submit_job(&Job::new("https://a.example")).unwrap();
    let request = call.request().unwrap();
    assert!(request.header("authorization").unwrap().ends_with(KEY));
    for shown in [
        format!("{config:?}"),
        format!("{:?}", ClientConfig::builder(KEY)),
        format!("{request:?}"),
        format!("{call:?}"),
        format!("{}", config.api_key()),
        format!("{:?}", config.api_key()),
    ] {
        assert!(!shown.contains(KEY), "{shown}");
    }
    let bad = ClientConfig::builder("ck with space").build().unwrap_err();
    assert!(!bad.to_string().contains("ck with space"));
    assert!(ClientConfig::builder("")
        .build()
        .unwrap_err()
        .to_string()
        .contains("EZTHROTTLE_API_KEY"));
    assert_eq!(
        ClientConfig::builder(KEY)
            .tracktags_url("gw")
            .build()
            .unwrap_err(),
        Error::validation(
            "tracktags_url",
            "\"gw\" is not a URL (expected http://… or https://…)"
        )
    );
}

#[test]
fn jobs_from_the_wire_are_checked_strictly() {
    let ok = r#"{"url":"https://a.example","method":"GET","fallback_job":{"url":"https://b.example","method":"GET","trigger":{"type":"on_error","codes":[500]}}}"#;
    let job = Job::from_json(ok).unwrap();
    assert_eq!(job.to_json(), ok);
    for (bad, path) in [
        (r#"{"url":"https://a.example","surprise":1}"#, "job"),
        (
            r#"{"url":"https://a.example","fallback_job":{"url":"https://b.example"}}"#,
            "fallback_job.trigger",
        ),
        (r#"{"url":"https://a.example","trigger":{}}"#, "trigger"),
        (r#"{"url":"https://a.example","method":"get"}"#, "method"),
        (
            r#"{"url":"https://a.example","on_success":{"url":"x"}}"#,
            "on_success.url",
        ),
        (
            r#"{"url":"https://a.example","fallback_job":{"url":"https://b.example","trigger":{"type":"on_timeout","timeout_ms":0}}}"#,
            "fallback_job.trigger_on_timeout",
        ),
    ] {
        match Job::from_json(bad) {
            Err(Error::Validation { path: got, .. }) => assert_eq!(got, path, "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn a_refused_call_leaves_the_step_unchanged() {
    let mut step = Step::new()
        .url("https://a.example")
        .method("POST")
        .header("X-A", "1");
    let before = step.clone();
    let refused = [
        ("url", json!(1)),
        ("headers", json!({"X": 1})),
        (
            "fallback",
            json!({"step": [["url", "https://b.example"]], "trigger_on_error": [1]}),
        ),
        (
            "fallback",
            json!({"step": [["url", "https://b.example"]], "trigger_on_error": [500], "trigger_on_timeout": 9}),
        ),
        (
            "on_failure",
            json!({"step": [["url", "https://b.example"]], "timeout_ms": -1}),
        ),
        ("on_success", json!([["url", 5]])),
        ("teleport", json!(true)),
    ];
    for (name, argument) in refused {
        assert!(
            step.apply_call(name, &argument).is_err(),
            "{name} {argument}"
        );
        assert_eq!(step, before, "a refused {name} changed the step");
    }
}

#[test]
fn forwards_are_read_from_json_naming_the_field() {
    let forward = ForwardToEZThrottle::from_value(&json!({
        "url": "https://api.example/charge", "method": "post", "headers": {"X-A": "1"}, "body": null,
        "metadata": {"order": 7}, "webhooks": [{"url": "https://h.example"}], "regions": ["iad"],
    }))
    .unwrap();
    let job = forward.to_job().unwrap();
    assert_eq!(job.method, "POST");
    assert_eq!(job.headers.get("x-a"), Some("1"));
    assert_eq!(
        (job.body, job.regions.len(), job.webhooks.len()),
        (None, 1, 1)
    );
    for (bad, path) in [
        (json!([]), "forward"),
        (json!({"method": "GET"}), "url"),
        (json!({"url": "https://a.example", "colour": 1}), "colour"),
        (
            json!({"url": "https://a.example", "headers": {"X": 1}}),
            "headers[\"X\"]",
        ),
        (
            json!({"url": "https://a.example", "webhooks": [{"regions": []}]}),
            "webhooks[0].url",
        ),
        (json!({"url": 7}), "url"),
    ] {
        match ForwardToEZThrottle::from_value(&bad) {
            Err(Error::Validation { path: got, .. }) => assert_eq!(got, path, "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn a_receiver_answers_each_kind_of_delivery_and_hands_over_follow_ups() {
    use ezthrottle_core::webhook::{signature_header, Continuation, WebhookReceiver};
    let mut pending = Continuations::default();
    const SECRET: &str = "whsec_primary_0123456789";
    let now = 1_764_320_000;
    assert!(WebhookReceiver::new("", None).is_err());
    let mut receiver =
        WebhookReceiver::new("whsec_new_secret_000000", Some(SECRET.into())).unwrap();
    pending.register(Continuation {
        job_id: "job_1".into(),
        on_success: Some(Step::new().url("https://next.example")),
        on_failure: None,
    });
    let body = br#"{"job_id":"job_1","status":"success"}"#;
    let header = signature_header(SECRET, now, body);

    let forged = receiver.receive(body, Some("t=1,v1=00"), now, &mut pending);
    assert_eq!(forged.status, 401);
    assert!(
        forged.body.contains("both_secrets_failed"),
        "{}",
        forged.body
    );
    assert_eq!(receiver.receive(body, None, now, &mut pending).status, 401);

    let ok = receiver.receive(body, Some(&header), now + 1, &mut pending);
    assert_eq!(ok.status, 200);
    assert_eq!(ok.event.unwrap().job_id, "job_1");
    assert_eq!(
        ok.follow_up.unwrap().get_url(),
        Some("https://next.example")
    );
    assert!(pending.is_empty());

    let repeat = receiver.receive(body, Some(&header), now + 2, &mut pending);
    assert_eq!(
        (repeat.status, repeat.event, repeat.follow_up),
        (200, None, None)
    );

    let garbage = b"{not json";
    let signed = signature_header(SECRET, now, garbage);
    let malformed = receiver.receive(garbage, Some(&signed), now, &mut pending);
    assert_eq!(malformed.status, 400);
    assert!(!format!("{receiver:?}").contains(SECRET));
}

#[test]
fn attaching_a_built_step_names_the_field_and_states_the_trigger_rule_once() {
    let child = Step::new().url("https://b.example");
    let mut step = Step::new().url("https://a.example");
    step.attach("fallback", child.clone(), &Value::Null)
        .unwrap();
    let both = json!({"trigger_on_error": [500], "trigger_on_timeout": 10});
    let refused = step.attach("fallback", child.clone(), &both).unwrap_err();
    assert!(
        refused.to_string().contains("fallback[1].trigger"),
        "{refused}"
    );
    let unknown = step
        .attach("on_failure", child.clone(), &json!({"timeout": 1}))
        .unwrap_err();
    assert!(
        unknown.to_string().contains("on_failure.timeout"),
        "{unknown}"
    );
    assert!(step.attach("url", child.clone(), &Value::Null).is_err());
    step.attach("on_failure", child, &json!({"timeout_ms": 500}))
        .unwrap();
    assert_eq!(step.get_fallbacks().len(), 1);
    assert!(step.get_on_failure().is_some());
}

/// The official Node SDK sets the on_failure timeout apart from the step
/// (`onFailureTimeout(ms)`), before or after it; alone it is refused.
#[test]
fn on_failure_timeout_is_set_apart_in_either_order() {
    let before = Step::from_calls(&serde_json::json!([
        ["url", "https://a.example"],
        ["on_failure_timeout_ms", 5000],
        ["on_failure", {"step": [["url", "https://b.example"]]}],
    ]))
    .unwrap();
    let after = Step::new()
        .url("https://a.example")
        .on_failure(Step::new().url("https://b.example"))
        .on_failure_timeout_ms(5000);
    for step in [before, after] {
        let payload: serde_json::Value = serde_json::from_str(&step.to_json().unwrap()).unwrap();
        assert_eq!(payload["on_failure_timeout_ms"], 5000);
        assert_eq!(payload["on_failure"]["url"], "https://b.example");
    }
    let alone = Step::new()
        .url("https://a.example")
        .on_failure_timeout_ms(5000)
        .to_json()
        .unwrap_err();
    assert_eq!(alone.field_path(), Some("on_failure_timeout_ms"));
}
