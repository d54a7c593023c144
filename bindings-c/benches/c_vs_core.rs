//! The `everything` payload built through the C API (the exported `ezt_`
//! functions, called as a C host would) against the same through the core,
//! in one run: `cargo bench -p ezthrottle-c`.
#![allow(clippy::unwrap_used)]

use std::ffi::{c_char, CStr};
use std::hint::black_box;
use std::ptr;

use criterion::{criterion_group, criterion_main, Criterion};
use ezthrottle::*;
use ezthrottle_core::{ExecutionMode, RegionPolicy, RetryPolicy, Step, Trigger, Webhook};

fn core_everything() -> String {
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
        .to_json()
        .unwrap()
}

unsafe fn leaf(url: &CStr) -> *mut ezt_step {
    let mut step = ptr::null_mut();
    unsafe {
        ezt_step_new(&mut step);
        ezt_step_set_url(step, url.as_ptr());
    }
    step
}

/// The same payload through the C API with the typed setters, as a C
/// program would build it (JSON only for the metadata).
fn c_everything() -> String {
    unsafe {
        let step = leaf(c"https://api.example.com/v1/charge");
        ezt_step_set_method(step, c"patch".as_ptr());
        ezt_step_add_header(step, c"X-Trace".as_ptr(), c"t1".as_ptr());
        ezt_step_set_body(step, c"{\"a\":1}".as_ptr());
        ezt_step_set_json(step, c"metadata".as_ptr(), c"{\"k\":\"v\"}".as_ptr());
        ezt_step_add_webhook(step, c"https://w1.example/h".as_ptr(), ptr::null(), 0, 1);
        let ord = [c"ord".as_ptr()];
        ezt_step_add_webhook(
            step,
            c"https://w2.example/h".as_ptr(),
            ord.as_ptr(),
            1,
            EZT_QUORUM_VOTE_UNSET,
        );
        ezt_step_set_webhook_quorum(step, 2);
        let regions = [c"iad".as_ptr(), c"ord".as_ptr()];
        ezt_step_set_regions(step, regions.as_ptr(), 2);
        ezt_step_set_region_policy(step, EZT_REGION_POLICY_STRICT);
        ezt_step_set_execution_mode(step, EZT_EXECUTION_FANOUT);
        let retry_codes = [429u16];
        ezt_step_set_retry_policy(
            step,
            1,
            EZT_RETRY_UNSET,
            retry_codes.as_ptr(),
            1,
            ptr::null(),
            0,
        );
        ezt_step_set_retry_at_ms(step, 1_893_456_000_000);
        ezt_step_set_idempotent_key(step, c"all-1".as_ptr());
        let (fb, ok, ko) = (
            leaf(c"https://fb.example"),
            leaf(c"https://ok.example"),
            leaf(c"https://ko.example"),
        );
        let codes = [500u16];
        ezt_step_add_fallback(step, fb, codes.as_ptr(), 1, 0);
        ezt_step_set_on_success(step, ok);
        ezt_step_set_on_failure(step, ko, 1000);
        let mut json: *mut c_char = ptr::null_mut();
        assert_eq!(ezt_step_to_json(step, &mut json), ezt_status::EZT_OK);
        let text = CStr::from_ptr(json).to_str().unwrap().to_owned();
        ezt_string_free(json);
        for s in [fb, ok, ko, step] {
            ezt_step_free(s);
        }
        text
    }
}

/// The same payload with every structured option given as JSON.
fn c_everything_json() -> String {
    unsafe {
        let step = leaf(c"https://api.example.com/v1/charge");
        ezt_step_set_method(step, c"patch".as_ptr());
        ezt_step_add_header(step, c"X-Trace".as_ptr(), c"t1".as_ptr());
        ezt_step_set_body(step, c"{\"a\":1}".as_ptr());
        ezt_step_set_json(step, c"metadata".as_ptr(), c"{\"k\":\"v\"}".as_ptr());
        ezt_step_set_json(
            step,
            c"webhooks".as_ptr(),
            c"[{\"url\":\"https://w1.example/h\",\"has_quorum_vote\":true},{\"url\":\"https://w2.example/h\",\"regions\":[\"ord\"]}]".as_ptr(),
        );
        ezt_step_set_webhook_quorum(step, 2);
        ezt_step_set_json(step, c"regions".as_ptr(), c"[\"iad\",\"ord\"]".as_ptr());
        ezt_step_set_region_policy(step, EZT_REGION_POLICY_STRICT);
        ezt_step_set_execution_mode(step, EZT_EXECUTION_FANOUT);
        ezt_step_set_json(
            step,
            c"retry_policy".as_ptr(),
            c"{\"max_retries\":1,\"retry_codes\":[429]}".as_ptr(),
        );
        ezt_step_set_retry_at_ms(step, 1_893_456_000_000);
        ezt_step_set_idempotent_key(step, c"all-1".as_ptr());
        let (fb, ok, ko) = (
            leaf(c"https://fb.example"),
            leaf(c"https://ok.example"),
            leaf(c"https://ko.example"),
        );
        let codes = [500u16];
        ezt_step_add_fallback(step, fb, codes.as_ptr(), 1, 0);
        ezt_step_set_on_success(step, ok);
        ezt_step_set_on_failure(step, ko, 1000);
        let mut json: *mut c_char = ptr::null_mut();
        assert_eq!(ezt_step_to_json(step, &mut json), ezt_status::EZT_OK);
        let text = CStr::from_ptr(json).to_str().unwrap().to_owned();
        ezt_string_free(json);
        for s in [fb, ok, ko, step] {
            ezt_step_free(s);
        }
        text
    }
}

fn bench(c: &mut Criterion) {
    assert_eq!(c_everything(), core_everything());
    assert_eq!(c_everything_json(), core_everything());
    c.bench_function(
        "everything payload: Rust core (typed builder + build + JSON)",
        |b| b.iter(|| black_box(core_everything())),
    );
    c.bench_function(
        "everything payload: C API, typed setters (+ ezt_step_to_json)",
        |b| b.iter(|| black_box(c_everything())),
    );
    c.bench_function(
        "everything payload: C API, JSON setters for structured options",
        |b| b.iter(|| black_box(c_everything_json())),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
