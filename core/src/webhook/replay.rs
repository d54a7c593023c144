//! Refusing a signed delivery seen twice inside the tolerance window.

use std::collections::{HashSet, VecDeque};

use super::signature::{verify_with_secrets, SignatureReason, Verification};

/// Remembers the (timestamp, signature) pairs of accepted deliveries for as
/// long as they could verify, so an attacker who captured one cannot replay it.
///
/// Bounded: beyond `capacity` entries the oldest are forgotten first (a
/// delivery whose signature is older than the tolerance is refused anyway).
#[derive(Debug, Clone)]
pub struct ReplayGuard {
    capacity: usize,
    order: VecDeque<(i64, String)>,
    seen: HashSet<(i64, String)>,
}

impl ReplayGuard {
    /// A guard remembering at most `capacity` deliveries (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            order: VecDeque::new(),
            seen: HashSet::new(),
        }
    }

    /// How many deliveries are remembered now.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Verify like [`verify_with_secrets`], then refuse a valid delivery whose
    /// timestamp and signature were already accepted (`replayed`).
    pub fn verify(
        &mut self,
        payload: &[u8],
        header: &str,
        primary: &str,
        secondary: Option<&str>,
        now_secs: i64,
        tolerance_secs: u64,
    ) -> Verification {
        let mut check = verify_with_secrets(
            payload,
            header,
            primary,
            secondary,
            now_secs,
            tolerance_secs,
        );
        let (true, Some(timestamp)) = (check.is_valid(), check.timestamp) else {
            return check;
        };
        self.forget_expired(now_secs, tolerance_secs);
        let signature = header
            .split(',')
            .filter_map(|part| part.trim().strip_prefix("v1="))
            .next_back()
            .unwrap_or_default()
            .to_owned();
        let key = (timestamp, signature);
        if self.seen.contains(&key) {
            check.reason = SignatureReason::Replayed;
            return check;
        }
        if self.order.len() == self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        self.seen.insert(key.clone());
        self.order.push_back(key);
        check
    }

    fn forget_expired(&mut self, now_secs: i64, tolerance_secs: u64) {
        while let Some((timestamp, _)) = self.order.front() {
            if now_secs.abs_diff(*timestamp) <= tolerance_secs {
                break;
            }
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::signature_header;

    #[test]
    fn a_replay_inside_the_window_is_refused() {
        let secret = "whsec_primary_0123456789";
        let mut guard = ReplayGuard::new(2);
        let one = signature_header(secret, 1000, b"a");
        let check = |g: &mut ReplayGuard, body: &[u8], h: &str, now| {
            g.verify(body, h, secret, None, now, 300).reason
        };
        assert_eq!(
            check(&mut guard, b"a", &one, 1000),
            SignatureReason::ValidPrimary
        );
        assert_eq!(
            check(&mut guard, b"a", &one, 1001),
            SignatureReason::Replayed
        );
        // Bounded: two more deliveries push the first one out.
        let two = signature_header(secret, 1001, b"b");
        let three = signature_header(secret, 1002, b"c");
        assert!(guard.verify(b"b", &two, secret, None, 1002, 300).is_valid());
        assert!(guard
            .verify(b"c", &three, secret, None, 1002, 300)
            .is_valid());
        assert_eq!(guard.len(), 2);
        // An expired one is refused by the timestamp check, not remembered.
        assert_eq!(
            check(&mut guard, b"a", &one, 2000),
            SignatureReason::BothSecretsFailed
        );
    }
}
