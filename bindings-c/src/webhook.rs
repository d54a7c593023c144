//! Webhook deliveries: signature verification (with rotation) and parsing.

use std::ffi::{c_char, c_int, CString};

use ezthrottle_core::webhook::{
    verify_signature, verify_with_secrets, SignatureReason, Verification, WebhookEvent,
};

use crate::ezt_status;
use crate::ffi::{
    c_string, give_box, guard, opt_str_arg, out_arg, read_handle, slice_arg, str_arg, Failure,
};

/// Pass as `now_secs` to verify against the current time.
pub const EZT_NOW: i64 = i64::MIN;

/// `now_secs` as given, or the system clock's for `EZT_NOW`.
pub(crate) fn resolve_now_secs(now_secs: i64) -> i64 {
    if now_secs == EZT_NOW {
        (crate::transport::now_ms() / 1000) as i64
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

const REASON_NAMES: [&std::ffi::CStr; 10] = [
    c"valid",
    c"valid_primary",
    c"valid_secondary",
    c"no_signature_header",
    c"missing_v1_signature",
    c"timestamp_expired",
    c"signature_mismatch",
    c"malformed_header",
    c"both_secrets_failed",
    c"replayed",
];

/// The stable snake_case code of a reason ("signature_mismatch"); static.
/// Any other number (C lets an enum hold one) gives "".
#[no_mangle]
pub extern "C" fn ezt_signature_reason_name(reason: c_int) -> *const c_char {
    usize::try_from(reason)
        .ok()
        .and_then(|i| REASON_NAMES.get(i))
        .map_or(c"".as_ptr(), |n| n.as_ptr())
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
        if check.is_valid() {
            Ok(())
        } else {
            let why = check
                .primary_reason
                .map_or(String::new(), |r| format!(" (primary: {r})"));
            Err(Failure::new(
                ezt_status::EZT_ERR_SIGNATURE,
                format!("webhook signature refused: {}{why}", check.reason),
            ))
        }
    })
}

/// A parsed delivery (opaque; read with the `ezt_webhook_event_*` accessors).
pub struct ezt_webhook_event {
    job_id: CString,
    idempotent_key: Option<CString>,
    succeeded: bool,
    response_status: u16,
    response_body: Option<CString>,
    metadata_json: CString,
}

impl ezt_webhook_event {
    pub(crate) fn new(event: &WebhookEvent) -> Self {
        Self {
            job_id: c_string(&event.job_id),
            idempotent_key: event.idempotent_key.as_deref().map(c_string),
            succeeded: event.succeeded(),
            response_status: event.response.as_ref().map_or(0, |r| r.status_code),
            response_body: event.response.as_ref().map(|r| c_string(&r.body)),
            metadata_json: c_string(&ezthrottle_core::json::object_to_string(&event.metadata)),
        }
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
        let parsed = ezt_webhook_event::new(&event);
        // SAFETY: checked above.
        unsafe { give_box(out, parsed) };
        Ok(())
    })
}

/// The job's id.
///
/// # Safety
/// `event` is NULL or a live event handle; strings are owned by it.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_event_job_id(
    event: *const ezt_webhook_event,
) -> *const c_char {
    // SAFETY: `event` is NULL or a live event, not freed during the call, as
    // `ezt_webhook_event_job_id`'s # Safety requires of its caller.
    unsafe { read_handle(event, std::ptr::null(), |e| e.job_id.as_ptr()) }
}

/// The job's idempotency key, or NULL.
///
/// # Safety
/// `event` is NULL or a live event handle; strings are owned by it.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_event_idempotent_key(
    event: *const ezt_webhook_event,
) -> *const c_char {
    // SAFETY: `event` is NULL or a live event, not freed during the call, as
    // `ezt_webhook_event_idempotent_key`'s # Safety requires of its caller.
    unsafe {
        read_handle(event, std::ptr::null(), |e| {
            e.idempotent_key
                .as_ref()
                .map_or(std::ptr::null(), |k| k.as_ptr())
        })
    }
}

/// Whether the job succeeded (`"status": "success"`).
///
/// # Safety
/// `event` is NULL or a live event handle; strings are owned by it.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_event_succeeded(event: *const ezt_webhook_event) -> bool {
    // SAFETY: `event` is NULL or a live event, not freed during the call, as
    // `ezt_webhook_event_succeeded`'s # Safety requires of its caller.
    unsafe { read_handle(event, false, |e| e.succeeded) }
}

/// The upstream status code, or 0 when there was no response.
///
/// # Safety
/// `event` is NULL or a live event handle; strings are owned by it.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_event_response_status(event: *const ezt_webhook_event) -> u16 {
    // SAFETY: `event` is NULL or a live event, not freed during the call, as
    // `ezt_webhook_event_response_status`'s # Safety requires of its caller.
    unsafe { read_handle(event, 0, |e| e.response_status) }
}

/// The upstream body, or NULL when there was no response.
///
/// # Safety
/// `event` is NULL or a live event handle; strings are owned by it.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_event_response_body(
    event: *const ezt_webhook_event,
) -> *const c_char {
    // SAFETY: `event` is NULL or a live event, not freed during the call, as
    // `ezt_webhook_event_response_body`'s # Safety requires of its caller.
    unsafe {
        read_handle(event, std::ptr::null(), |e| {
            e.response_body
                .as_ref()
                .map_or(std::ptr::null(), |b| b.as_ptr())
        })
    }
}

/// The job's metadata as a JSON object ("{}" when none).
///
/// # Safety
/// `event` is NULL or a live event handle; strings are owned by it.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_event_metadata_json(
    event: *const ezt_webhook_event,
) -> *const c_char {
    // SAFETY: `event` is NULL or a live event, not freed during the call, as
    // `ezt_webhook_event_metadata_json`'s # Safety requires of its caller.
    unsafe { read_handle(event, std::ptr::null(), |e| e.metadata_json.as_ptr()) }
}

/// Free an event. NULL is ignored.
///
/// # Safety
/// `event` is NULL or a live event handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_event_free(event: *mut ezt_webhook_event) {
    if !event.is_null() {
        // SAFETY: a handle from `Box::into_raw`, freed once, per the contract.
        drop(unsafe { Box::from_raw(event) });
    }
}
