//! Webhook deliveries: signature verification (with rotation) and parsing.

use std::ffi::{c_char, c_int, CString};

use ezthrottle_core::webhook::{
    verify_signature, verify_with_secrets, SignatureReason, Verification, WebhookEvent,
};

use crate::ezt_status;
use crate::ffi::{c_string, guard, opt_str_arg, out_arg, owned_c_string, slice_arg, str_arg};
use crate::view::{or_null, own, Owned};

/// Pass as `now_secs` to verify against the current time.
pub const EZT_NOW: i64 = i64::MIN;

/// `now_secs` as given, or the system clock's for `EZT_NOW`.
pub(crate) fn resolve_now_secs(now_secs: i64) -> i64 {
    if now_secs == EZT_NOW {
        (ezthrottle_transport::now_ms() / 1000) as i64
    } else {
        now_secs
    }
}

/// Why a signature was accepted or refused.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ezt_signature_reason {
    /// Verified with the one secret given.
    EZT_SIGNATURE_VALID = 0,
    /// Verified with the primary secret (rotation).
    EZT_SIGNATURE_VALID_PRIMARY = 1,
    /// Verified with the secondary secret (rotation).
    EZT_SIGNATURE_VALID_SECONDARY = 2,
    /// No (or an empty) signature header.
    EZT_SIGNATURE_NO_SIGNATURE_HEADER = 3,
    /// No (or an empty) v1 signature.
    EZT_SIGNATURE_MISSING_V1_SIGNATURE = 4,
    /// The timestamp is outside the tolerance.
    EZT_SIGNATURE_TIMESTAMP_EXPIRED = 5,
    /// The signature does not match.
    EZT_SIGNATURE_SIGNATURE_MISMATCH = 6,
    /// The timestamp is missing, repeated or not an integer.
    EZT_SIGNATURE_MALFORMED_HEADER = 7,
    /// Neither secret verified it (rotation).
    EZT_SIGNATURE_BOTH_SECRETS_FAILED = 8,
    /// Seen before (replay guard).
    EZT_SIGNATURE_REPLAYED = 9,
}

impl From<SignatureReason> for ezt_signature_reason {
    fn from(reason: SignatureReason) -> Self {
        use ezt_signature_reason::*;
        match reason {
            SignatureReason::Valid => EZT_SIGNATURE_VALID,
            SignatureReason::ValidPrimary => EZT_SIGNATURE_VALID_PRIMARY,
            SignatureReason::ValidSecondary => EZT_SIGNATURE_VALID_SECONDARY,
            SignatureReason::NoSignatureHeader => EZT_SIGNATURE_NO_SIGNATURE_HEADER,
            SignatureReason::MissingV1Signature => EZT_SIGNATURE_MISSING_V1_SIGNATURE,
            SignatureReason::TimestampExpired => EZT_SIGNATURE_TIMESTAMP_EXPIRED,
            SignatureReason::SignatureMismatch => EZT_SIGNATURE_SIGNATURE_MISMATCH,
            SignatureReason::MalformedHeader => EZT_SIGNATURE_MALFORMED_HEADER,
            SignatureReason::BothSecretsFailed => EZT_SIGNATURE_BOTH_SECRETS_FAILED,
            SignatureReason::Replayed => EZT_SIGNATURE_REPLAYED,
        }
    }
}

/// The stable snake_case code of a reason ("signature_mismatch"); static.
/// Any other number (C lets an enum hold one) gives "".
#[no_mangle]
pub extern "C" fn ezt_signature_reason_name(reason: c_int) -> *const c_char {
    let named = SignatureReason::ALL
        .into_iter()
        .find(|r| ezt_signature_reason::from(*r) as c_int == reason);
    named.map_or(c"".as_ptr(), |r| r.as_c_str().as_ptr())
}

/// A signature check, the same fields as in every binding.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ezt_signature_check {
    /// Whether the delivery is authentic.
    pub valid: bool,
    /// Why it was accepted or refused.
    pub reason: ezt_signature_reason,
    /// Whether `primary_reason` is set: for `EZT_SIGNATURE_BOTH_SECRETS_FAILED`.
    pub has_primary_reason: bool,
    /// Why the primary secret failed (rotation).
    pub primary_reason: ezt_signature_reason,
    /// Whether `timestamp` is set: the header had a readable one.
    pub has_timestamp: bool,
    /// The header's timestamp, in unix seconds.
    pub timestamp: i64,
}

impl From<&Verification> for ezt_signature_check {
    fn from(check: &Verification) -> Self {
        Self {
            valid: check.is_valid(),
            reason: check.reason.into(),
            has_primary_reason: check.primary_reason.is_some(),
            primary_reason: check.primary_reason.unwrap_or(check.reason).into(),
            has_timestamp: check.timestamp.is_some(),
            timestamp: check.timestamp.unwrap_or_default(),
        }
    }
}

/// Verify a delivery's `X-EZThrottle-Signature` header (NULL = absent) over
/// the raw body. With `secondary_secret` NULL the single-secret check runs
/// (reason `valid`); with it, the rotation check (`valid_primary` /
/// `valid_secondary` / `both_secrets_failed`). `now_secs` is unix seconds or
/// `EZT_NOW`. Returns `EZT_OK` when valid, `EZT_ERR_SIGNATURE` when refused;
/// either way the whole check goes to `*check` when not NULL.
///
/// # Safety
/// `body` points to `length` bytes; strings are NUL-terminated or NULL where
/// allowed; `check` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_verify(
    body: *const u8,
    length: usize,
    signature_header: *const c_char,
    primary_secret: *const c_char,
    secondary_secret: *const c_char,
    now_secs: i64,
    tolerance_secs: u64,
    check: *mut ezt_signature_check,
) -> ezt_status {
    let out = check;
    guard(|| {
        // SAFETY: `body` is NULL or points to `length` readable items for the call;
        // `signature_header` is NULL or a NUL-terminated string readable for the call;
        // `primary_secret` is NULL or a NUL-terminated string readable for the call;
        // `secondary_secret` is NULL or a NUL-terminated string readable for the call, as
        // `ezt_webhook_verify`'s # Safety requires of its caller.
        let (body, header, primary, secondary) = unsafe {
            (
                slice_arg(body, length, "body")?,
                opt_str_arg(signature_header, "signature_header")?.unwrap_or(""),
                str_arg(primary_secret, "primary_secret")?,
                opt_str_arg(secondary_secret, "secondary_secret")?,
            )
        };
        let now = resolve_now_secs(now_secs);
        let check = match secondary {
            Some(secondary) => {
                verify_with_secrets(body, header, primary, Some(secondary), now, tolerance_secs)
            }
            None => verify_signature(body, header, primary, now, tolerance_secs),
        };
        if !out.is_null() {
            // SAFETY: non-NULL and writable per the contract.
            unsafe { *out = ezt_signature_check::from(&check) };
        }
        check.into_result()?;
        Ok(())
    })
}

/// A parsed delivery (read-only; free with `ezt_webhook_event_free`). Its
/// strings live as long as it does.
#[repr(C)]
pub struct ezt_webhook_event {
    pub job_id: *const c_char,
    /// NULL when the delivery has none.
    pub idempotent_key: *const c_char,
    /// Whether the job succeeded.
    pub succeeded: bool,
    /// The upstream response's status; 0 when there was no response.
    pub response_status: u16,
    /// The upstream response's body; NULL when there was no response.
    pub response_body: *const c_char,
    /// The job's metadata, a JSON object.
    pub metadata_json: *const c_char,
}

/// The strings an event points into.
pub(crate) struct EventStrings([Option<CString>; 4]);

/// An event as handed out.
pub(crate) type OwnedEvent = Owned<ezt_webhook_event, EventStrings>;

impl ezt_webhook_event {
    pub(crate) fn new(event: &WebhookEvent) -> Box<OwnedEvent> {
        let metadata = ezthrottle_core::json::object_to_string(&event.metadata);
        let strings = EventStrings([
            Some(c_string(&event.job_id)),
            event.idempotent_key.as_deref().map(c_string),
            event.response.as_ref().map(|r| c_string(&r.body)),
            Some(owned_c_string(metadata)),
        ]);
        let [job_id, idempotent_key, response_body, metadata_json] =
            strings.0.each_ref().map(or_null);
        let view = Self {
            job_id,
            idempotent_key,
            succeeded: event.succeeded(),
            response_status: event.response.as_ref().map_or(0, |r| r.status_code),
            response_body,
            metadata_json,
        };
        own(view, strings)
    }
}

/// Parse a delivery's raw body (PROTOCOL §7) through `*out` (free with
/// `ezt_webhook_event_free`); `EZT_ERR_PROTOCOL` when it is malformed.
///
/// # Safety
/// `body` points to `length` bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_parse(
    body: *const u8,
    length: usize,
    out: *mut *mut ezt_webhook_event,
) -> ezt_status {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: `body` is NULL or points to `length` readable items for the call, as
        // `ezt_webhook_parse`'s # Safety requires of its caller.
        let event = WebhookEvent::parse(unsafe { slice_arg(body, length, "body") }?)?;
        // SAFETY: checked above.
        unsafe { *out = ezt_webhook_event::new(&event).into_raw() };
        Ok(())
    })
}

/// Free an event. NULL is ignored.
///
/// # Safety
/// `event` is NULL or an event this library handed out, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_event_free(event: *mut ezt_webhook_event) {
    // SAFETY: NULL or an event from `ezt_webhook_event::new`, per the contract.
    unsafe { OwnedEvent::free(event) }
}
