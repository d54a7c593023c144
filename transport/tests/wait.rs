//! The blocking wait for a job's result: a delivery on another thread ends
//! it, one already received ends it at once, and none ends it at the timeout.

// Tests panic on purpose when an expectation fails.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use ezthrottle_core::webhook::signature_header;
use ezthrottle_core::{Client, ClientOptions, TransportErrorKind};
use ezthrottle_transport::{now_ms, wait_for_result};

const SECRET: &str = "whsec_primary_0123456789";

fn client() -> Client {
    Client::new(ClientOptions {
        api_key: Some("ck_test_key".into()),
        ..ClientOptions::default()
    })
    .unwrap()
}

/// Hand `client`'s receiver a signed delivery of `job_id`'s success.
fn deliver(client: &Client, job_id: &str) {
    let body = format!(
        r#"{{"job_id":"{job_id}","status":"success","response":{{"status_code":200,"body":"ok"}}}}"#
    );
    let now = (now_ms() / 1000) as i64;
    let header = signature_header(SECRET, now, body.as_bytes());
    let mut receiver = client.webhook_receiver(SECRET, None).unwrap();
    let received = receiver.receive(body.as_bytes(), Some(&header), now);
    assert_eq!(received.status, 200, "{}", received.body);
}

#[test]
fn a_delivery_on_another_thread_ends_the_wait() {
    let client = client();
    let delivering = client.clone();
    let delivery = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        deliver(&delivering, "job_1");
    });
    let event = wait_for_result(&client, "job_1", Duration::from_secs(10)).unwrap();
    assert_eq!(event.job_id, "job_1");
    assert!(event.succeeded());
    delivery.join().unwrap();
}

#[test]
fn a_result_already_received_ends_the_wait_at_once() {
    let client = client();
    deliver(&client, "job_2");
    let event = wait_for_result(&client, "job_2", Duration::ZERO).unwrap();
    assert_eq!(event.job_id, "job_2");
}

#[test]
fn no_result_ends_the_wait_at_its_timeout_naming_the_job() {
    let client = client();
    let started = Instant::now();
    let error = wait_for_result(&client, "job_3", Duration::from_millis(100)).unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(100));
    match error {
        ezthrottle_core::Error::Transport(failure) => {
            assert_eq!(failure.kind, TransportErrorKind::Timeout);
            assert!(failure.message.contains("\"job_3\""), "{}", failure.message);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}
