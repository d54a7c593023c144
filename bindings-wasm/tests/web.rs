//! wasm-bindgen tests of the exported layer, run in Node and in headless
//! Chromium (`WASM_BINDGEN_USE_BROWSER=1`), with real fetches to the sandbox
//! named at build time by `EZT_SANDBOX_URL` / `EZT_SANDBOX_KEY`.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use ezthrottle_wasm::{ClientHandle, StepHandle};
use js_sys::{Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

fn sandbox() -> (&'static str, &'static str) {
    match (
        option_env!("EZT_SANDBOX_URL"),
        option_env!("EZT_SANDBOX_KEY"),
    ) {
        (Some(url), Some(key)) => (url, key),
        _ => panic!("build these tests with EZT_SANDBOX_URL and EZT_SANDBOX_KEY set"),
    }
}

fn object(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap()
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).unwrap()
}

fn client() -> ClientHandle {
    let (url, key) = sandbox();
    let options = object(&format!(
        r#"{{"apiKey": "{key}", "tracktagsUrl": "{url}", "ezthrottleUrl": "{url}"}}"#
    ));
    ClientHandle::new(options, JsValue::UNDEFINED, None).unwrap()
}

async fn settle(promise: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

/// A step to `url`, a new job every time (the suite runs twice per sandbox).
fn step(url: &str) -> StepHandle {
    let mut step = StepHandle::new();
    step.apply("url", url.into()).unwrap();
    step.apply("idempotent_strategy", "unique".into()).unwrap();
    step
}

#[wasm_bindgen_test]
fn builder_calls_take_js_spelling_and_refuse_with_the_field() {
    let mut s = StepHandle::new();
    s.apply("url", "https://api.example.com".into()).unwrap();
    s.apply(
        "webhooks",
        object(r#"[{"url": "https://h.example", "hasQuorumVote": false}]"#),
    )
    .unwrap();
    s.apply("retry_policy", object(r#"{"maxRetries": 2}"#))
        .unwrap();
    assert_eq!(
        s.payload_json().unwrap(),
        r#"{"url":"https://api.example.com","method":"GET","webhooks":[{"url":"https://h.example","has_quorum_vote":false}],"retry_policy":{"max_retries":2}}"#
    );
    let refused = s.apply("webhook_quorum", JsValue::from(-1)).unwrap_err();
    assert_eq!(get(&refused, "code"), "validation");
    assert_eq!(get(&refused, "path"), "webhook_quorum");
    // A function is not JSON: refused, not dropped.
    let function = js_sys::Function::new_no_args("return 1");
    assert!(s.apply("metadata", function.into()).is_err());
}

#[wasm_bindgen_test]
async fn a_performance_step_is_submitted_over_fetch() {
    let result = settle(client().execute(&step(&format!("{}/upstream/status/200", sandbox().0))))
        .await
        .unwrap();
    let result = get(&result, "result");
    assert_eq!(get(&result, "status"), "queued");
    assert!(get(&result, "job_id")
        .as_string()
        .unwrap()
        .starts_with("job_"));
}

#[wasm_bindgen_test]
async fn a_frugal_step_runs_locally_over_fetch() {
    let mut s = step(&format!("{}/upstream/status/201", sandbox().0));
    s.apply("type", "frugal".into()).unwrap();
    let run = settle(client().execute(&s)).await.unwrap();
    let result = get(&run, "result");
    assert_eq!(get(&result, "executed_locally"), true);
    assert_eq!(get(&result, "status_code"), 201);
    assert!(get(&run, "trace").as_string().unwrap().contains("SUCCESS"));
}

#[wasm_bindgen_test]
async fn gateway_refusals_and_dead_hosts_are_typed_errors() {
    let (url, _) = sandbox();
    let stranger = ClientHandle::new(
        object(&format!(
            r#"{{"apiKey": "ck_nobody_here", "tracktagsUrl": "{url}"}}"#
        )),
        JsValue::UNDEFINED,
        None,
    )
    .unwrap();
    let refused = settle(stranger.execute(&step("https://api.example.com")))
        .await
        .unwrap_err();
    assert_eq!(get(&refused, "code"), "authentication");
    assert!(!refused
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_default()
        .contains("ck_nobody_here"));

    let down = ClientHandle::new(
        object(r#"{"apiKey": "ck_x", "tracktagsUrl": "http://127.0.0.1:9", "timeoutMs": 2000}"#),
        JsValue::UNDEFINED,
        None,
    )
    .unwrap();
    let unreachable = settle(down.execute(&step("https://api.example.com")))
        .await
        .unwrap_err();
    assert_eq!(get(&unreachable, "code"), "unreachable");
}

#[wasm_bindgen_test]
async fn a_local_call_past_its_timeout_is_a_timeout() {
    let mut s = step(&format!("{}/upstream/delay/3000", sandbox().0));
    s.apply("type", "frugal".into()).unwrap();
    s.apply("local_timeout_ms", JsValue::from(200)).unwrap();
    s.apply("fallback_on_error", object("[]")).unwrap();
    // The local timeout forwards the step: the sandbox takes it as a job.
    let run = settle(client().execute(&s)).await.unwrap();
    assert_eq!(get(&get(&run, "result"), "status"), "queued");
    assert!(get(&run, "trace").as_string().unwrap().contains("imeout"));
}
