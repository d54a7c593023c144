//! Bad input never crashes the sandbox: random bodies, headers and paths at
//! every endpoint get 4xx answers, and the sandbox keeps serving.
#![allow(clippy::unwrap_used)]

mod common;

use common::{quick_config, Harness, KEY};
use serde_json::json;

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = (self.next() as usize) % max;
        (0..n).map(|_| self.next() as u8).collect()
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[(self.next() as usize) % options.len()]
    }
}

#[tokio::test]
async fn random_input_gets_4xx_and_the_sandbox_keeps_serving() {
    let h = Harness::start(quick_config()).await;
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let endpoints = [
        "/api/v1/proxy",
        "/api/v1/jobs",
        "/api/v1/webhook-secrets",
        "/api/v1/jobs/%00..%2F",
        "/receiver/x",
    ];
    let envelopes = [
        json!({"scope": "customer", "metric_name": "", "target_url": format!("{}/api/v1/jobs", h.base), "method": "POST", "headers": {}, "body": "{\"url\":[]}"}),
        json!({"scope": "customer", "metric_name": "", "target_url": format!("{}/api/v1/jobs", h.base), "method": "GET", "headers": {}, "body": ""}),
        json!({"scope": "customer", "metric_name": "", "target_url": format!("{}/api/v1/webhook-secrets", h.base), "method": "PATCH", "headers": {}, "body": "x"}),
        json!({"scope": "all", "metric_name": 1}),
    ];
    for round in 0..400 {
        let path = noise.pick(&endpoints);
        let method = noise.pick(&["POST", "GET", "DELETE", "PUT"]);
        let mut body = noise.bytes(2048);
        if round % 4 == 0 {
            body = envelopes[(noise.next() as usize) % envelopes.len()]
                .to_string()
                .into_bytes();
        }
        let request = h
            .client
            .http
            .request(method.parse().unwrap(), format!("{}{path}", h.base))
            .header(
                "content-type",
                noise.pick(&[
                    "application/json",
                    "text/plain",
                    "application/x-garbage; charset=\"x",
                ]),
            )
            .body(body);
        let request = if noise.next() % 3 == 0 {
            request
        } else {
            request.bearer_auth(KEY)
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        assert!(
            status < 500,
            "round {round}: {method} {path} answered {status}: {}",
            response.text().await.unwrap()
        );
    }
    let health: serde_json::Value = h
        .client
        .http
        .get(format!("{}/health", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
}

/// A secret that is not UTF-8 is refused, not stored with U+FFFD in it
/// (no signature made with the intended secret would ever verify).
#[tokio::test]
async fn secrets_that_are_not_utf8_are_refused() {
    let h = Harness::start(quick_config()).await;
    let mut body = br#"{"primary_secret":"whsec_primary_0123456789"#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe]);
    body.extend_from_slice(br#""}"#);
    let response = h
        .client
        .http
        .post(format!("{}/api/v1/webhook-secrets", h.base))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let stored = h
        .client
        .http
        .get(format!("{}/api/v1/webhook-secrets", h.base))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status().as_u16(), 404, "nothing was stored");
}
