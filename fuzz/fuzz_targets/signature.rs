//! Signature headers and verification: any header, body, secrets and clock.
//! Never panics; a valid verdict really verifies; an empty secret verifies
//! nothing; the replay guard refuses a second identical delivery.
#![no_main]
use ezthrottle_core::webhook::{sign, verify_signature, verify_with_secrets, ReplayGuard};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let header = parts.next().unwrap_or_default();
    let secret = parts.next().unwrap_or_default();
    let now: i64 = parts.next().and_then(|n| n.trim().parse().ok()).unwrap_or(1_764_320_000);
    let body = parts.next().unwrap_or_default().as_bytes();

    let one = verify_signature(body, header, secret, now, 300);
    let two = verify_with_secrets(body, header, secret, Some("whsec_secondary_0123456789"), now, 300);
    if one.is_valid() {
        assert!(two.is_valid());
        let t = one.timestamp.expect("a valid signature has a timestamp");
        assert!(header.contains(&sign(secret, &t.to_string(), body)));
    }
    let mut guard = ReplayGuard::new(4);
    let first = guard.verify(body, header, secret, None, now, 300);
    let again = guard.verify(body, header, secret, None, now, 300);
    assert!(!(first.is_valid() && again.is_valid()), "a replay verified twice");

    // A header we sign ourselves verifies, unless the secret is empty: anyone
    // can sign with that, so it verifies nothing.
    let signed = format!("t={now},v1={}", sign(secret, &now.to_string(), body));
    let verified = verify_signature(body, &signed, secret, now, 0).is_valid();
    assert_eq!(verified, !secret.is_empty());
});
