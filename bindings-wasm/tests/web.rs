//! wasm-bindgen tests of the exported layer, run in Node and in headless
//! Chromium (`WASM_BINDGEN_USE_BROWSER=1`), with real fetches (through the
//! package's own js/fetch-http.js) to the sandbox
//! named at build time by `EZT_SANDBOX_URL` / `EZT_SANDBOX_KEY`.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use ezthrottle_wasm::{ClientHandle, Exchange, StepHandle};
use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

// The package's fetch transport and driver, as the browser entry uses them.
#[wasm_bindgen(module = "/js/fetch-http.js")]
extern "C" {
    #[wasm_bindgen(js_name = fetchSend)]
    fn fetch_send() -> js_sys::Function;
}

#[wasm_bindgen(module = "/js/drive.js")]
extern "C" {
    #[wasm_bindgen(js_name = drive)]
    fn drive_with(exchange: Exchange, send: &js_sys::Function) -> Promise;
}

/// Run a call's exchange over fetch.
async fn run(exchange: Result<Exchange, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(drive_with(exchange?, &fetch_send())).await
}

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
    ClientHandle::new(options).unwrap()
}

/// A step to `url`, a new job every time (the suite runs twice per sandbox),
/// with `more` calls (JSON, each followed by a comma).
fn step_with(url: &str, more: &str) -> StepHandle {
    StepHandle::from_calls(object(&format!(
        r#"[{more} ["url", "{url}"], ["idempotent_strategy", "unique"]]"#
    )))
    .unwrap()
}

fn step(url: &str) -> StepHandle {
    step_with(url, "")
}

#[wasm_bindgen_test]
fn builder_calls_take_js_spelling_and_refuse_with_the_field() {
    let s = StepHandle::from_calls(object(
        r#"[["url", "https://api.example.com"],
            ["webhooks", [{"url": "https://h.example", "hasQuorumVote": false}]],
            ["retry_policy", {"maxRetries": 2}]]"#,
    ))
    .unwrap();
    assert_eq!(
        s.payload_json().unwrap(),
        r#"{"url":"https://api.example.com","method":"GET","webhooks":[{"url":"https://h.example","has_quorum_vote":false}],"retry_policy":{"max_retries":2}}"#
    );
    let refused = StepHandle::from_calls(object(
        r#"[["url", "https://a.example"],
            ["fallback", {"triggerOnError": [500], "step": [["webhook_quorum", -1]]}]]"#,
    ))
    .unwrap_err();
    assert_eq!(get(&refused, "code"), "validation");
    assert_eq!(get(&refused, "path"), "fallback[0].webhook_quorum");
    // A BigInt is not JSON: refused with its call named.
    let calls = js_sys::Array::of1(&js_sys::Array::of2(
        &"metadata".into(),
        &js_sys::BigInt::from(10u32).into(),
    ));
    let refused = StepHandle::from_calls(calls.into()).unwrap_err();
    assert_eq!(get(&refused, "path"), "metadata");
}

#[wasm_bindgen_test]
async fn a_performance_step_is_submitted_over_fetch() {
    let result = run(client().execute(&step(&format!("{}/upstream/status/200", sandbox().0))))
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
    let s = step_with(
        &format!("{}/upstream/status/201", sandbox().0),
        r#"["type", "frugal"],"#,
    );
    let run = run(client().execute(&s)).await.unwrap();
    let result = get(&run, "result");
    assert_eq!(get(&result, "executed_locally"), true);
    assert_eq!(get(&result, "status_code"), 201);
    assert!(get(&run, "trace").as_string().unwrap().contains("SUCCESS"));
}

#[wasm_bindgen_test]
async fn gateway_refusals_and_dead_hosts_are_typed_errors() {
    let (url, _) = sandbox();
    let stranger = ClientHandle::new(object(&format!(
        r#"{{"apiKey": "ck_nobody_here", "tracktagsUrl": "{url}"}}"#
    )))
    .unwrap();
    let refused = run(stranger.execute(&step("https://api.example.com")))
        .await
        .unwrap_err();
    assert_eq!(get(&refused, "code"), "authentication");
    assert!(!refused
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_default()
        .contains("ck_nobody_here"));

    let down = ClientHandle::new(object(
        r#"{"apiKey": "ck_x", "tracktagsUrl": "http://127.0.0.1:9", "timeoutMs": 2000}"#,
    ))
    .unwrap();
    let unreachable = run(down.execute(&step("https://api.example.com")))
        .await
        .unwrap_err();
    assert_eq!(get(&unreachable, "code"), "unreachable");
}

#[wasm_bindgen_test]
async fn a_local_call_past_its_timeout_is_a_timeout() {
    let s = step_with(
        &format!("{}/upstream/delay/3000", sandbox().0),
        r#"["type", "frugal"], ["local_timeout_ms", 200], ["fallback_on_error", []],"#,
    );
    // The local timeout forwards the step: the sandbox takes it as a job.
    let run = run(client().execute(&s)).await.unwrap();
    assert_eq!(get(&get(&run, "result"), "status"), "queued");
    assert!(get(&run, "trace").as_string().unwrap().contains("imeout"));
}
