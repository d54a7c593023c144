//! The core `Client`: options and environment, continuations registered by
//! the execution itself, the receiver releasing follow-ups and waking waits,
//! forward-or-fallback decided in the core.

// Tests panic on purpose when an expectation fails.
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use ezthrottle_core::webhook::signature_header;
use ezthrottle_core::{
    blocking, BlockingClient, Client, ClientOptions, Error, ForwardOrFallback, ForwardToEZThrottle,
    HttpResponse, Outcome, Step, TransportError, API_KEY_ENV,
};
use serde_json::json;

const KEY: &str = "ck_secret_key_that_must_not_leak";
const SECRET: &str = "whsec_primary_0123456789";
const NOW_SECS: i64 = 1_764_320_000;

fn options() -> ClientOptions {
    ClientOptions {
        api_key: Some(KEY.into()),
        tracktags_url: Some("http://gw.invalid".into()),
        continuation_webhook: Some("http://127.0.0.1:9/hooks".into()),
        ..ClientOptions::default()
    }
}

fn queued(id: &str) -> HttpResponse {
    let body = json!({"job_id": id, "status": "queued"}).to_string();
    HttpResponse::new(
        200,
        json!({"status": "allowed", "forwarded_response": {"status_code": 201, "body": body}})
            .to_string(),
    )
}

fn signed(body: &str) -> String {
    signature_header(SECRET, NOW_SECS, body.as_bytes())
}

struct Count(AtomicUsize);
impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn the_key_comes_from_the_options_then_the_environment_and_never_shows() {
    let from_env = ClientOptions {
        api_key: Some(String::new()),
        api_key_from_env: Some(KEY.into()),
        ..ClientOptions::default()
    };
    assert_eq!(from_env.to_config().unwrap().api_key().expose(), KEY);
    assert!(!format!("{from_env:?}").contains(KEY));
    let client = Client::new(from_env).unwrap();
    assert!(!format!("{client:?}").contains(KEY));

    let error = ClientOptions::default().to_config().unwrap_err();
    assert!(matches!(&error, Error::Validation { path, .. } if path == "api_key"));
    assert!(error.to_string().contains(API_KEY_ENV));

    let bad_timeout = ClientOptions {
        timeout_ms: Some(0),
        ..options()
    };
    assert!(
        matches!(bad_timeout.to_config(), Err(Error::Validation { path, .. }) if path == "timeout_ms")
    );
}

#[test]
fn an_execution_registers_its_follow_ups_and_the_receiver_releases_them_once() {
    let client = Client::new(options()).unwrap();
    let step = Step::new()
        .url("https://a.example")
        .on_success(Step::new().url("https://next.example"));
    let mut execution = client.execute(&step).unwrap();
    let run = blocking::run(&mut execution, |_| Ok(queued("job_7")), || 0).unwrap();
    assert_eq!(run.outcome.job_id(), Some("job_7"));
    assert_eq!(
        client.pending_continuations(),
        1,
        "registered by the execution"
    );

    let mut receiver = client.webhook_receiver(SECRET, None).unwrap();
    let body = r#"{"job_id":"job_7","status":"success"}"#;
    let received = receiver.receive(body.as_bytes(), Some(&signed(body)), NOW_SECS);
    assert_eq!(received.status, 200);
    assert_eq!(
        received.follow_up.as_ref().and_then(Step::get_url),
        Some("https://next.example")
    );
    assert_eq!(client.pending_continuations(), 0);

    let again = receiver.receive(body.as_bytes(), Some(&signed(body)), NOW_SECS + 1);
    assert_eq!(
        (again.status, again.follow_up),
        (200, None),
        "a replay runs nothing"
    );
}

#[test]
fn a_wait_ends_when_the_receiver_gets_the_job_even_if_it_came_first() {
    let client = Client::new(options()).unwrap();
    let mut receiver = client.webhook_receiver(SECRET, None).unwrap();
    let count = Arc::new(Count(AtomicUsize::new(0)));
    let waker = Waker::from(count.clone());
    let mut cx = Context::from_waker(&waker);

    let mut wait = pin!(client.wait_for_result("job_1"));
    assert!(wait.as_mut().poll(&mut cx).is_pending());

    let forged = r#"{"job_id":"job_1","status":"success"}"#;
    let refused = receiver.receive(forged.as_bytes(), Some("t=1,v1=00"), NOW_SECS);
    assert_eq!(refused.status, 401);
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        0,
        "a forged delivery wakes nobody"
    );
    assert!(wait.as_mut().poll(&mut cx).is_pending());

    let body = r#"{"job_id":"job_1","status":"failed","metadata":{"n":1}}"#;
    assert_eq!(
        receiver
            .receive(body.as_bytes(), Some(&signed(body)), NOW_SECS)
            .status,
        200
    );
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    match wait.as_mut().poll(&mut cx) {
        Poll::Ready(event) => assert!(!event.succeeded() && event.job_id == "job_1"),
        Poll::Pending => panic!("the result arrived"),
    }

    // A wait that starts after the delivery ends at once; so does a clone's.
    let late = client.clone().wait_for_result("job_1");
    assert!(pin!(late).poll(&mut cx).is_ready());
    assert!(client.result_of("job_1").is_some());
    assert!(client.result_of("job_2").is_none());
}

#[test]
fn forward_or_fallback_falls_back_only_when_the_service_is_unreachable() {
    let client = Client::new(options()).unwrap();
    let forward = ForwardToEZThrottle::new("https://api.example/x");
    let mut call = client.forward_or_fallback(&forward).unwrap();
    let unreachable = blocking::run(
        &mut call,
        |_| Err(TransportError::unreachable("refused")),
        || 0,
    );
    assert_eq!(unreachable.unwrap(), ForwardOrFallback::Fallback(()));

    let mut call = client.forward_or_fallback(&forward).unwrap();
    let refused = blocking::run(&mut call, |_| Ok(HttpResponse::new(500, "no")), || 0);
    assert!(
        refused.is_err(),
        "a gateway failure is an error, not a fallback"
    );

    let mut driver = BlockingClient::with_client(client, |_: &_| Ok(queued("job_9")), || 0);
    let outcome = driver
        .forward_or_fallback(&forward, || "fell back")
        .unwrap();
    assert!(matches!(outcome, ForwardOrFallback::Submitted(a) if a.job_id() == "job_9"));
}

#[test]
fn raw_wire_jobs_are_checked_before_anything_is_sent() {
    let client = Client::new(options()).unwrap();
    let error = client
        .submit_job_json(r#"{"url":"https://a.example","webhooks":[{"url":"ftp://x"}]}"#)
        .unwrap_err();
    assert!(
        matches!(&error, Error::Validation { path, .. } if path == "webhooks[0].url"),
        "{error}"
    );
    // Text and value read alike (C and uniffi give text, the npm package a
    // value): a wrong type or a missing field is named where it sits.
    let refused = [
        (
            r#"{"url":"https://a.example","retry_policy":{"max_retries":"3"}}"#,
            "retry_policy.max_retries",
        ),
        (
            r#"{"url":"https://a.example","on_success":{"method":"GET"}}"#,
            "on_success.url",
        ),
        (
            r#"{"url":"https://a.example","headers":{"A":1}}"#,
            r#"headers["A"]"#,
        ),
        (r#"{"url":"https://a.example","colour":1}"#, "colour"),
    ];
    for (job, at) in refused {
        let value = ezthrottle_core::json::parse(job).unwrap();
        for error in [
            client.submit_job_json(job).unwrap_err(),
            client.submit_job_value(&value).unwrap_err(),
        ] {
            assert_eq!(error.field_path(), Some(at), "{job}: {error}");
        }
    }
    // Only text can give a key twice: refused rather than read last-wins.
    let twice = client
        .submit_job_json(r#"{"url":"https://a.example","url":"https://b.example"}"#)
        .unwrap_err();
    assert_eq!(twice.field_path(), Some("job"), "{twice}");
    let mut driver = BlockingClient::with_client(client, |_: &_| Ok(queued("job_3")), || 0);
    let answer = driver
        .submit_job_json(r#"{"url":"https://a.example","method":"POST"}"#)
        .unwrap();
    assert_eq!(answer.job_id(), "job_3");
    let run = driver
        .execute(&Step::new().url("https://a.example"))
        .unwrap();
    assert!(matches!(run.outcome, Outcome::Submitted(_)));
}

#[test]
fn handling_a_delivery_runs_its_follow_up_through_the_host_transport() {
    let client = Client::new(options()).unwrap();
    let step = Step::new()
        .url("https://a.example")
        .on_success(
            Step::new()
                .url("https://next.example/notify")
                .step_type(ezthrottle_core::StepType::Frugal),
        )
        .on_failure(Step::new().url("https://alert.example"));
    let mut execution = client.execute(&step).unwrap();
    blocking::run(&mut execution, |_| Ok(queued("job_5")), || 0).unwrap();

    let mut receiver = client.webhook_receiver(SECRET, None).unwrap();
    let body = r#"{"job_id":"job_5","status":"success"}"#;
    let mut sent = Vec::new();
    let mut delivery = receiver.handle(body.as_bytes(), Some(&signed(body)), NOW_SECS);
    let handled = blocking::run(
        &mut delivery,
        |request| {
            sent.push(request.url.clone());
            Ok(HttpResponse::new(200, "notified"))
        },
        || 0,
    )
    .unwrap();
    assert_eq!(sent, ["https://next.example/notify"]);
    assert_eq!(handled.received.status, 200);
    let run = handled.follow_up.unwrap().unwrap();
    assert_eq!(run.outcome.to_json()["response"], "notified");

    // The replay is acknowledged; nothing runs again.
    let mut again = receiver.handle(body.as_bytes(), Some(&signed(body)), NOW_SECS);
    let handled = blocking::run(&mut again, |_| panic!("nothing to send"), || 0).unwrap();
    assert_eq!((handled.received.status, handled.follow_up), (200, None));
}

#[test]
fn events_and_secret_info_write_the_same_json_as_serde() {
    let body = br#"{"job_id":"j1","idempotent_key":"k","status":"failed","metadata":{"a":[1]},
        "response":{"status_code":502,"headers":{"x-a":"1"},"body":"bad"},"region":"iad"}"#;
    let event = ezthrottle_core::webhook::WebhookEvent::parse(body).unwrap();
    assert_eq!(event.to_json(), serde_json::to_value(&event).unwrap());
    let bare =
        ezthrottle_core::webhook::WebhookEvent::parse(br#"{"job_id":"j2","status":"success"}"#)
            .unwrap();
    assert_eq!(bare.to_json(), serde_json::to_value(&bare).unwrap());
    let info = ezthrottle_core::SecretInfo {
        customer_id: Some("cust_1".into()),
        primary_secret: "abcd****efgh".into(),
        secondary_secret: None,
        has_secondary: false,
    };
    assert_eq!(info.to_json(), serde_json::to_value(&info).unwrap());
}

#[test]
fn a_webhook_that_beats_the_submit_answer_still_runs_its_follow_up_once() {
    use ezthrottle_core::{Action, Operation, Target};
    let client = Client::new(options()).unwrap();
    let step = Step::new().url("https://a.example").on_success(
        Step::new()
            .url("https://next.example/notify")
            .step_type(ezthrottle_core::StepType::Frugal),
    );
    let mut execution = client.execute(&step).unwrap();
    let Action::Send(submit) = execution.start() else {
        panic!("the submit is sent first")
    };
    assert_eq!(submit.target, Target::Gateway);

    // The job ran and its webhook arrived while the submit answer was on its way.
    let mut receiver = client.webhook_receiver(SECRET, None).unwrap();
    let body = r#"{"job_id":"job_fast","status":"success"}"#;
    let received = receiver.receive(body.as_bytes(), Some(&signed(body)), NOW_SECS);
    assert_eq!(
        (received.status, received.follow_up),
        (200, None),
        "nothing registered yet"
    );

    let Action::Send(follow_up) = execution.feed(0, Ok(queued("job_fast"))) else {
        panic!("the follow-up runs as the end of the execution")
    };
    assert_eq!(follow_up.url, "https://next.example/notify");
    let Action::Done(Ok(run)) = execution.feed(0, Ok(HttpResponse::new(200, "notified"))) else {
        panic!("the execution ends")
    };
    assert_eq!(
        run.outcome.job_id(),
        Some("job_fast"),
        "the outcome is the submission"
    );
    assert_eq!(run.trace.entries().len(), 2, "{}", run.trace);
    assert_eq!(
        client.pending_continuations(),
        0,
        "resolved, not left pending"
    );

    // The same delivery again later runs nothing.
    let again = receiver.receive(body.as_bytes(), Some(&signed(body)), NOW_SECS + 1);
    assert_eq!((again.status, again.follow_up), (200, None));
}

#[test]
fn a_standalone_receiver_verifies_and_refuses_replays_but_sends_nothing() {
    use ezthrottle_core::ClientReceiver;
    assert!(
        ClientReceiver::standalone("", None).is_err(),
        "empty secrets are refused"
    );
    let mut receiver = ClientReceiver::standalone(SECRET, None).unwrap();
    let body = r#"{"job_id":"job_1","status":"success"}"#;
    let mut delivery = receiver.handle(body.as_bytes(), Some(&signed(body)), NOW_SECS);
    let handled = blocking::run(&mut delivery, |_| panic!("nothing to send"), || 0).unwrap();
    assert_eq!(handled.received.status, 200);
    assert_eq!(
        handled.received.event.map(|e| e.job_id).as_deref(),
        Some("job_1")
    );
    assert_eq!(handled.follow_up, None);
    let again = receiver.receive(body.as_bytes(), Some(&signed(body)), NOW_SECS + 1);
    assert_eq!(
        (again.status, again.event),
        (200, None),
        "a replay is not handed over"
    );
    let forged = receiver.receive(body.as_bytes(), Some("t=1,v1=00"), NOW_SECS);
    assert_eq!(forged.status, 401);
}
