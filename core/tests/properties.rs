//! Properties: no input panics anything; valid payloads round-trip.

// Tests panic on purpose when an expectation fails.
#![allow(clippy::unwrap_used)]

use ezthrottle_core::webhook::{verify_with_secrets, WebhookEvent};
use ezthrottle_core::{read_gateway_answer, HttpResponse, Job, Step};
use proptest::prelude::*;
use serde_json::{json, Value};

const CALLS: &[&str] = &[
    "url",
    "method",
    "headers",
    "body",
    "metadata",
    "type",
    "webhooks",
    "webhook_quorum",
    "regions",
    "region_policy",
    "execution_mode",
    "retry_policy",
    "retry_at",
    "idempotent_key",
    "idempotent_strategy",
    "fallback_on_error",
    "local_timeout",
    "fallback",
    "on_success",
    "on_failure",
    "description",
    "response_description",
];

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        (100u16..600).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("https://a.example/x"),
            Just("frugal"),
            Just("unique"),
            Just("strict"),
            Just("fanout"),
            Just("iad"),
            Just("POST"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("step".to_owned()),
                    Just("url".to_owned()),
                    Just("trigger_on_error".to_owned()),
                    Just("trigger_on_timeout".to_owned()),
                    Just("timeout_ms".to_owned()),
                    Just("has_quorum_vote".to_owned()),
                    Just("regions".to_owned()),
                    Just("max_retries".to_owned()),
                    "[a-zA-Z -]{1,8}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn any_calls() -> impl Strategy<Value = Value> {
    let call = (prop::sample::select(CALLS), any_json()).prop_map(|(name, arg)| json!([name, arg]));
    prop::collection::vec(call, 0..10).prop_map(|calls| {
        let mut all = vec![json!(["url", "https://base.example"])];
        all.extend(calls);
        Value::from(all)
    })
}

/// Steps built only from valid values, nested a little.
fn valid_step() -> impl Strategy<Value = Step> {
    let leaf = (
        prop::sample::select(vec!["https://a.example/p", "http://127.0.0.1:8080/x?y=1"]),
        prop::sample::select(vec!["GET", "POST", "delete", "patch"]),
        prop::collection::vec(("X-[A-Za-z]{1,6}", "[ -~]{0,10}"), 0..3),
        prop::option::of("[a-z{}\":0-9 ]{1,20}"),
        prop::collection::btree_map("[a-z]{1,4}", any::<i32>(), 0..3),
        prop::option::of(0u64..=9_007_199_254_740_991),
        prop::option::of("[a-z0-9-]{1,16}"),
        any::<bool>(),
    )
        .prop_map(
            |(url, method, headers, body, metadata, retry_at, key, unique)| {
                let mut seen = std::collections::HashSet::new();
                let headers: Vec<_> = headers
                    .into_iter()
                    .filter(|(k, _)| seen.insert(k.to_ascii_lowercase()))
                    .collect();
                let mut step = Step::new().url(url).method(method).headers(headers);
                if let Some(body) = body {
                    step = step.body(body);
                }
                for (k, v) in metadata {
                    step = step.metadata_entry(k, v);
                }
                if let Some(at) = retry_at {
                    step = step.retry_at_ms(at);
                }
                if let Some(key) = key {
                    step = step.idempotent_key(key);
                } else if unique {
                    step = step.idempotent_strategy(ezthrottle_core::IdempotentStrategy::Unique);
                }
                step
            },
        );
    leaf.prop_recursive(3, 12, 3, |inner| {
        (
            inner.clone(),
            prop::collection::vec(
                (
                    inner.clone(),
                    prop::option::of(prop::collection::vec(100u16..600, 1..3)),
                ),
                0..3,
            ),
            prop::option::of(inner),
        )
            .prop_map(|(base, fallbacks, child)| {
                let mut step = base;
                for (fb, codes) in fallbacks {
                    let trigger = codes.map_or(
                        ezthrottle_core::Trigger::Always,
                        ezthrottle_core::Trigger::OnError,
                    );
                    step = step.fallback(fb, trigger);
                }
                if let Some(child) = child {
                    step = step.on_success(child);
                }
                step
            })
    })
}

/// UNIQUE keys are fresh UUIDs at each build: compare everything else.
fn mask_uuids(text: &str) -> String {
    let marker = "\"idempotent_key\":\"";
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let value = &rest[at + marker.len()..];
        let end = value.find('"').unwrap_or(value.len());
        let is_uuid = end == 36
            && value[..end]
                .bytes()
                .all(|b| b == b'-' || b.is_ascii_hexdigit());
        out.push_str(&rest[..at + marker.len()]);
        out.push_str(if is_uuid { "<uuid>" } else { &value[..end] });
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn payload_strings_are_escaped_as_serde_json_escapes_them() {
    let mut hostile: String = (0u8..0x20).map(char::from).collect();
    hostile.push_str("\"\\/\u{7f}é€😀</script>");
    let step = Step::new()
        .url("https://a.example/p")
        .body(hostile.clone())
        .header("X-Odd", "tab\there \"quoted\"")
        .metadata_entry(hostile.clone(), hostile.clone())
        .idempotent_key("key-\"quoted\"");
    let text = step.to_json().unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string(&value).unwrap(), text);
    assert_eq!(value["body"], hostile.as_str());
    assert_eq!(value["metadata"][hostile.as_str()], hostile.as_str());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_builder_input_never_panics(calls in any_calls()) {
        if let Ok(step) = Step::from_calls(&calls) {
            if let Ok(job) = step.build_job() {
                // Whatever the builder accepts, the wire format accepts back.
                let parsed = Job::from_json(&job.to_json());
                prop_assert_eq!(parsed.as_ref().ok(), Some(&job), "{:?}", parsed);
            }
        }
    }

    #[test]
    fn valid_payloads_round_trip(step in valid_step()) {
        let job = step.build_job().expect("valid by construction");
        let text = job.to_json();
        prop_assert_eq!(&text, &job.to_json(), "serialization is deterministic");
        let back = Job::from_json(&text).expect("the payload parses back");
        prop_assert_eq!(back, job);
        // The step writes its payload directly (without a Job): the same text.
        prop_assert_eq!(mask_uuids(&step.to_json().unwrap()), mask_uuids(&text));
        // And exactly the text serde_json writes for it (escapes, order, spacing).
        let value: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(serde_json::to_string(&value).unwrap(), text);
    }

    #[test]
    fn gateway_answers_never_panic(status in 0u16..1000, body in any_json(), raw in ".{0,40}", retry in ".{0,12}") {
        for text in [body.to_string(), raw.clone(), json!({"status": "allowed", "forwarded_response": body}).to_string()] {
            let response = HttpResponse::new(status, text).with_header("Retry-After", retry.clone());
            let _ = read_gateway_answer(&response, u64::MAX);
            let _ = read_gateway_answer(&response, 0);
        }
    }

    #[test]
    fn signatures_and_deliveries_never_panic(payload in prop::collection::vec(any::<u8>(), 0..64), header in "[tv1=,0-9a-f ]{0,80}", now in any::<i64>(), tolerance in any::<u64>()) {
        let _ = verify_with_secrets(&payload, &header, "whsec_primary_0123456789", Some("s"), now, tolerance);
        let _ = WebhookEvent::parse(&payload);
    }

    #[test]
    fn deliveries_of_any_json_never_panic(value in any_json()) {
        let _ = WebhookEvent::parse(value.to_string().as_bytes());
    }
}
