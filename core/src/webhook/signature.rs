//! `X-EZThrottle-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`

use std::ffi::CStr;
use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-EZThrottle-Signature";
/// How far (seconds) a signature's timestamp may be from now by default.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;

/// Why a signature was accepted or refused; the codes are shared by every binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureReason {
    /// Verified with the one secret given.
    Valid,
    /// Verified with the primary secret (rotation check).
    ValidPrimary,
    /// Verified with the secondary secret (rotation check).
    ValidSecondary,
    /// The header is absent or empty.
    NoSignatureHeader,
    /// The header has no (or an empty) `v1`.
    MissingV1Signature,
    /// The timestamp is further from now than the tolerance.
    TimestampExpired,
    /// The signature does not match the body and secret.
    SignatureMismatch,
    /// The header's timestamp is missing, repeated or not an integer.
    MalformedHeader,
    /// Neither the primary nor the secondary secret verified it.
    BothSecretsFailed,
    /// The same signature was seen before inside the tolerance (replay guard).
    Replayed,
}

impl SignatureReason {
    /// Every reason.
    pub const ALL: [Self; 10] = [
        Self::Valid,
        Self::ValidPrimary,
        Self::ValidSecondary,
        Self::NoSignatureHeader,
        Self::MissingV1Signature,
        Self::TimestampExpired,
        Self::SignatureMismatch,
        Self::MalformedHeader,
        Self::BothSecretsFailed,
        Self::Replayed,
    ];

    /// The stable snake_case code.
    pub fn as_str(self) -> &'static str {
        self.as_c_str().to_str().unwrap_or_default()
    }

    /// The stable snake_case code, NUL-terminated for C callers.
    pub fn as_c_str(self) -> &'static CStr {
        match self {
            Self::Valid => c"valid",
            Self::ValidPrimary => c"valid_primary",
            Self::ValidSecondary => c"valid_secondary",
            Self::NoSignatureHeader => c"no_signature_header",
            Self::MissingV1Signature => c"missing_v1_signature",
            Self::TimestampExpired => c"timestamp_expired",
            Self::SignatureMismatch => c"signature_mismatch",
            Self::MalformedHeader => c"malformed_header",
            Self::BothSecretsFailed => c"both_secrets_failed",
            Self::Replayed => c"replayed",
        }
    }

    /// Whether this reason means the signature is valid.
    pub fn is_valid(self) -> bool {
        matches!(
            self,
            Self::Valid | Self::ValidPrimary | Self::ValidSecondary
        )
    }
}

impl fmt::Display for SignatureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of a signature check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Why it was accepted or refused.
    pub reason: SignatureReason,
    /// For `both_secrets_failed`: why the primary secret failed.
    pub primary_reason: Option<SignatureReason>,
    /// The header's timestamp, when it had a readable one.
    pub timestamp: Option<i64>,
}

impl Verification {
    /// Whether the delivery is authentic.
    pub fn is_valid(&self) -> bool {
        self.reason.is_valid()
    }

    /// `Ok(self)` when the delivery is authentic, else the error of a
    /// strict verification: `Error::Signature` with the primary secret's
    /// reason during a rotation, the check's own otherwise.
    pub fn into_result(self) -> Result<Self> {
        if self.is_valid() {
            Ok(self)
        } else {
            Err(Error::Signature {
                reason: self.primary_reason.unwrap_or(self.reason),
            })
        }
    }

    fn refused(reason: SignatureReason, timestamp: Option<i64>) -> Self {
        Self {
            reason,
            primary_reason: None,
            timestamp,
        }
    }
}

struct ParsedHeader<'h> {
    timestamp: &'h str,
    signature: &'h str,
}

fn parse_header(header: &str) -> std::result::Result<ParsedHeader<'_>, SignatureReason> {
    if header.is_empty() {
        return Err(SignatureReason::NoSignatureHeader);
    }
    let mut timestamp = None;
    let mut timestamps = 0;
    let mut signature = "";
    for part in header.split(',') {
        // Parts without `=` and unknown schemes (a future `v2`) are ignored.
        // Nothing is trimmed: ` v1` is not `v1`, as in the Python, Node and
        // Go SDKs, which all refuse `t=…, v1=…`.
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        match key {
            "t" => {
                timestamp = Some(value);
                timestamps += 1;
            }
            // As the reference: the last v1 counts.
            "v1" => signature = value,
            _ => {}
        }
    }
    if signature.is_empty() {
        return Err(SignatureReason::MissingV1Signature);
    }
    match timestamp {
        Some(timestamp) if timestamps == 1 => Ok(ParsedHeader {
            timestamp,
            signature,
        }),
        _ => Err(SignatureReason::MalformedHeader),
    }
}

/// The lower-case hex HMAC-SHA256 of `"<timestamp>.<payload>"`.
pub fn sign(secret: &str, timestamp: &str, payload: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(payload);
    hex(&mac.finalize().into_bytes())
}

/// The whole header value for a delivery signed at `timestamp` (unix seconds).
pub fn signature_header(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    let t = timestamp.to_string();
    format!("t={t},v1={}", sign(secret, &t, payload))
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts every key length"),
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// Verify a delivery's signature with one secret.
///
/// `now_secs` is the receiver's clock (unix seconds); a timestamp more than
/// `tolerance_secs` away from it is refused. The comparison is constant-time.
/// An empty secret verifies nothing (`signature_mismatch`): anyone can sign
/// with it.
///
/// The header is read as the official SDKs read it: comma-separated
/// `key=value` parts, nothing trimmed, the last `v1` counts. Where they
/// carry on with a timestamp that is not one, this refuses the header as
/// [`SignatureReason::MalformedHeader`]: no `t`, a `t` that is not a whole
/// number of seconds, or a `t` given twice.
///
/// ```
/// use ezthrottle_core::webhook::{signature_header, verify_signature, SignatureReason};
/// let body = br#"{"job_id":"job_1","status":"success"}"#;
/// let header = signature_header("whsec_primary_0123456789", 1_764_320_000, body);
/// let check = verify_signature(body, &header, "whsec_primary_0123456789", 1_764_320_010, 300);
/// assert_eq!(check.reason, SignatureReason::Valid);
/// ```
pub fn verify_signature(
    payload: &[u8],
    header: &str,
    secret: &str,
    now_secs: i64,
    tolerance_secs: u64,
) -> Verification {
    let parsed = match parse_header(header) {
        Ok(parsed) => parsed,
        Err(reason) => return Verification::refused(reason, None),
    };
    let Ok(timestamp) = parsed.timestamp.parse::<i64>() else {
        return Verification::refused(SignatureReason::MalformedHeader, None);
    };
    if now_secs.abs_diff(timestamp) > tolerance_secs {
        return Verification::refused(SignatureReason::TimestampExpired, Some(timestamp));
    }
    if secret.is_empty() {
        return Verification::refused(SignatureReason::SignatureMismatch, Some(timestamp));
    }
    let expected = sign(secret, parsed.timestamp, payload);
    let matches: bool = expected
        .as_bytes()
        .ct_eq(parsed.signature.as_bytes())
        .into();
    let reason = if matches {
        SignatureReason::Valid
    } else {
        SignatureReason::SignatureMismatch
    };
    Verification::refused(reason, Some(timestamp))
}

/// Verify during a rotation: the primary secret, then the secondary.
pub fn verify_with_secrets(
    payload: &[u8],
    header: &str,
    primary: &str,
    secondary: Option<&str>,
    now_secs: i64,
    tolerance_secs: u64,
) -> Verification {
    let first = verify_signature(payload, header, primary, now_secs, tolerance_secs);
    if first.is_valid() {
        return Verification {
            reason: SignatureReason::ValidPrimary,
            ..first
        };
    }
    if let Some(secondary) = secondary {
        let second = verify_signature(payload, header, secondary, now_secs, tolerance_secs);
        if second.is_valid() {
            return Verification {
                reason: SignatureReason::ValidSecondary,
                ..second
            };
        }
    }
    Verification {
        reason: SignatureReason::BothSecretsFailed,
        primary_reason: Some(first.reason),
        timestamp: first.timestamp,
    }
}

/// [`verify_with_secrets`] as a `Result`: `Err(Error::Signature)` when refused.
pub fn verify_signature_strict(
    payload: &[u8],
    header: &str,
    primary: &str,
    secondary: Option<&str>,
    now_secs: i64,
    tolerance_secs: u64,
) -> Result<Verification> {
    verify_with_secrets(
        payload,
        header,
        primary,
        secondary,
        now_secs,
        tolerance_secs,
    )
    .into_result()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_reason_once() {
        let mut seen = [false; SignatureReason::ALL.len()];
        for reason in SignatureReason::ALL {
            // Exhaustive: a new reason stops this test compiling until it is
            // given a slot here, which is the reminder to put it in `ALL`.
            let slot = match reason {
                SignatureReason::Valid => 0,
                SignatureReason::ValidPrimary => 1,
                SignatureReason::ValidSecondary => 2,
                SignatureReason::NoSignatureHeader => 3,
                SignatureReason::MissingV1Signature => 4,
                SignatureReason::TimestampExpired => 5,
                SignatureReason::SignatureMismatch => 6,
                SignatureReason::MalformedHeader => 7,
                SignatureReason::BothSecretsFailed => 8,
                SignatureReason::Replayed => 9,
            };
            assert!(!std::mem::replace(&mut seen[slot], true), "{reason} twice");
        }
        assert!(seen.iter().all(|s| *s));
    }

    const BODY: &[u8] = b"{\"job_id\":\"j\"}";
    const SECRET: &str = "whsec_primary_0123456789";

    #[test]
    fn round_trip_and_refusals() {
        let header = signature_header(SECRET, 1000, BODY);
        assert!(verify_signature(BODY, &header, SECRET, 1000, 300).is_valid());
        let reason = |h: &str| verify_signature(BODY, h, SECRET, 1000, 300).reason;
        assert_eq!(reason(""), SignatureReason::NoSignatureHeader);
        assert_eq!(reason("   "), SignatureReason::MissingV1Signature);
        assert_eq!(reason("garbage"), SignatureReason::MissingV1Signature);
        assert_eq!(reason("v1=ab"), SignatureReason::MalformedHeader);
        assert_eq!(reason("t=x,v1=ab"), SignatureReason::MalformedHeader);
        assert_eq!(reason("t=1,t=2,v1=ab"), SignatureReason::MalformedHeader);
        assert_eq!(
            reason("t=99999999999999999999,v1=ab"),
            SignatureReason::MalformedHeader
        );
        assert_eq!(reason("t=1301,v1=ab"), SignatureReason::TimestampExpired);
        assert_eq!(reason("t=1000,v1=ab"), SignatureReason::SignatureMismatch);
        // After a comma, a space makes the key ` v1` or ` t`, which no SDK
        // reads; before one, it ends up in the timestamp.
        let spaced = header.replace(',', ", ");
        assert_eq!(reason(&spaced), SignatureReason::MissingV1Signature);
        let (t, v1) = header.split_once(',').unwrap();
        assert_eq!(
            reason(&format!("{v1}, {t}")),
            SignatureReason::MalformedHeader
        );
        assert_eq!(
            reason(&format!("{t} ,{v1}")),
            SignatureReason::MalformedHeader
        );
    }

    /// A signature made with the empty key is forgeable by anyone, so an
    /// empty secret, primary or secondary, never verifies.
    #[test]
    fn empty_secrets_verify_nothing() {
        let forged = signature_header("", 1000, BODY);
        let check = verify_signature(BODY, &forged, "", 1000, 300);
        assert_eq!(check.reason, SignatureReason::SignatureMismatch);
        let check = verify_with_secrets(BODY, &forged, "", Some(""), 1000, 300);
        assert_eq!(check.reason, SignatureReason::BothSecretsFailed);
        let check = verify_with_secrets(BODY, &forged, SECRET, Some(""), 1000, 300);
        assert_eq!(check.reason, SignatureReason::BothSecretsFailed);
        assert!(verify_signature_strict(BODY, &forged, "", Some(""), 1000, 300).is_err());
    }

    #[test]
    fn rotation_prefers_primary_then_secondary() {
        let other = "whsec_secondary_abcdefgh";
        let header = signature_header(other, 1000, BODY);
        let check = verify_with_secrets(BODY, &header, SECRET, Some(other), 1000, 300);
        assert_eq!(check.reason, SignatureReason::ValidSecondary);
        let check = verify_with_secrets(BODY, &header, SECRET, None, 1000, 300);
        assert_eq!(check.reason, SignatureReason::BothSecretsFailed);
        assert_eq!(
            check.primary_reason,
            Some(SignatureReason::SignatureMismatch)
        );
        let err = verify_signature_strict(BODY, &header, SECRET, None, 1000, 300).unwrap_err();
        assert_eq!(err.code(), "signature");
    }
}
