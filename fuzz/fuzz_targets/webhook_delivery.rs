//! Webhook delivery JSON: parsing and the receiver's whole decision, signed
//! with the right secret so the parser is reached.
#![no_main]
use ezthrottle_core::webhook::{signature_header, Continuations, WebhookEvent, WebhookReceiver};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "whsec_primary_0123456789";

fuzz_target!(|body: &[u8]| {
    let parsed = WebhookEvent::parse(body);
    let mut receiver = WebhookReceiver::new(SECRET, None).expect("a valid secret");
    let mut pending = Continuations::new(8);
    let header = signature_header(SECRET, 1_764_320_000, body);
    let received = receiver.receive(body, Some(&header), 1_764_320_000, &mut pending);
    match parsed {
        Ok(event) => {
            assert_eq!(received.status, 200);
            assert_eq!(received.event.as_ref().map(|e| &e.job_id), Some(&event.job_id));
        }
        Err(_) => assert_eq!(received.status, 400),
    }
    let replay = receiver.receive(body, Some(&header), 1_764_320_001, &mut pending);
    assert!(replay.event.is_none(), "a replay was handed over twice");
    assert_eq!(receiver.receive(body, None, 1_764_320_000, &mut pending).status, 401);
});
