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

/// A step that only has its URL.
fn leaf(url: &CStr) -> ezt_step_options {
    ezt_step_options {
        url: url.as_ptr(),
        ..blank()
    }
}

fn blank() -> ezt_step_options {
    // SAFETY: every field is a pointer, a count or a number, for which zero is the default.
    unsafe { std::mem::zeroed() }
}

/// The same payload through the C API, as a C program would build it: one
/// options struct (JSON only for the metadata), one `ezt_step_new`.
fn c_everything() -> String {
    let headers = [ezt_header {
        name: c"X-Trace".as_ptr(),
        value: c"t1".as_ptr(),
    }];
    let ord = [c"ord".as_ptr()];
    let hooks = [
        ezt_webhook {
            url: c"https://w1.example/h".as_ptr(),
            regions: ptr::null(),
            region_count: 0,
            quorum_vote: EZT_QUORUM_VOTE_YES,
        },
        ezt_webhook {
            url: c"https://w2.example/h".as_ptr(),
            regions: ord.as_ptr(),
            region_count: 1,
            quorum_vote: EZT_QUORUM_VOTE_DEFAULT,
        },
    ];
    let regions = [c"iad".as_ptr(), c"ord".as_ptr()];
    let retry_codes = [429u16];
    let retry = ezt_retry_policy {
        max_retries: 1,
        max_reroutes: EZT_RETRY_UNSET,
        retry_codes: retry_codes.as_ptr(),
        retry_code_count: 1,
        reroute_codes: ptr::null(),
        reroute_code_count: 0,
    };
    let (fb, ok, ko) = (
        leaf(c"https://fb.example"),
        leaf(c"https://ok.example"),
        leaf(c"https://ko.example"),
    );
    let codes = [500u16];
    let fallbacks = [ezt_fallback {
        step: &fb,
        trigger_on_error: codes.as_ptr(),
        trigger_on_error_count: 1,
        trigger_on_timeout_ms: 0,
    }];
    let options = ezt_step_options {
        url: c"https://api.example.com/v1/charge".as_ptr(),
        method: c"patch".as_ptr(),
        headers: headers.as_ptr(),
        header_count: 1,
        body: c"{\"a\":1}".as_ptr(),
        metadata_json: c"{\"k\":\"v\"}".as_ptr(),
        webhooks: hooks.as_ptr(),
        webhook_count: 2,
        webhook_quorum: 2,
        regions: regions.as_ptr(),
        region_count: 2,
        region_policy: EZT_REGION_POLICY_STRICT,
        execution_mode: EZT_EXECUTION_FANOUT,
        retry_policy: &retry,
        retry_at_ms: 1_893_456_000_000,
        idempotent_key: c"all-1".as_ptr(),
        fallbacks: fallbacks.as_ptr(),
        fallback_count: 1,
        on_success: &ok,
        on_failure: &ko,
        on_failure_timeout_ms: 1000,
        ..blank()
    };
    unsafe {
        let mut step = ptr::null_mut();
        assert_eq!(ezt_step_new(&options, &mut step), ezt_status::EZT_OK);
        let mut json: *mut c_char = ptr::null_mut();
        assert_eq!(ezt_step_to_json(step, &mut json), ezt_status::EZT_OK);
        let text = CStr::from_ptr(json).to_str().unwrap().to_owned();
        ezt_string_free(json);
        ezt_step_free(step);
        text
    }
}

fn bench(c: &mut Criterion) {
    assert_eq!(c_everything(), core_everything());
    c.bench_function(
        "everything payload: Rust core (typed builder + build + JSON)",
        |b| b.iter(|| black_box(core_everything())),
    );
    c.bench_function(
        "everything payload: C API, one ezt_step_options (+ ezt_step_to_json)",
        |b| b.iter(|| black_box(c_everything())),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
