//! A client's webhook endpoint (verify, refuse replays, parse, run the
//! follow-ups) and waiting for a job's result. Every decision is the core
//! `Client`'s; this module converts types and blocks the calling thread.

use std::ffi::{c_char, CString};
use std::sync::Mutex;
use std::time::Duration;

use ezthrottle_core::{ClientReceiver, Handled};

use crate::client::{ezt_client, ezt_result, OwnedResult};
use crate::ezt_status;
use crate::ffi::{
    c_string, give_box, guard, handle, opt_str_arg, out_arg, owned_c_string, slice_arg, str_arg,
    Failure,
};
use crate::transport::HostTransport;
use crate::view::{or_null, own, Owned};
use crate::webhook::{ezt_signature_reason, ezt_webhook_event, resolve_now_secs, OwnedEvent};

/// A client's webhook endpoint (opaque). Several threads may hand it
/// deliveries at once; each call blocks while a released follow-up runs.
pub struct ezt_webhook_receiver {
    receiver: Mutex<ClientReceiver>,
    transport: HostTransport,
}

// SAFETY: as for `ezt_client`: the only non-thread-safe part is the host's
// user_data, shared across threads only with a thread-safe transport (header).
unsafe impl Send for ezt_webhook_receiver {}
// SAFETY: as above; the core receiver is behind a mutex.
unsafe impl Sync for ezt_webhook_receiver {}

/// What the receiver did with one delivery (read-only; free with
/// `ezt_delivery_free`). Everything it points to lives as long as it does.
#[repr(C)]
pub struct ezt_delivery {
    /// The HTTP status to answer the sender: 200 accepted (or a replay,
    /// acknowledged), 401 bad signature, 400 malformed body.
    pub status: u16,
    /// The JSON body to answer the sender.
    pub body: *const c_char,
    /// Why the signature was accepted or refused (`EZT_SIGNATURE_REPLAYED`
    /// for a repeat).
    pub reason: ezt_signature_reason,
    /// The event, when the delivery was authentic, well-formed and new; else
    /// NULL. Part of the delivery: do not free it.
    pub event: *const ezt_webhook_event,
    /// The result of the follow-up step the delivery released; NULL when
    /// there was none or it failed. Part of the delivery: do not free it.
    pub follow_up: *const ezt_result,
    /// `EZT_OK`, or the status of the follow-up's failure.
    pub follow_up_status: ezt_status,
    /// The follow-up's failure message; NULL when it did not fail.
    pub follow_up_error: *const c_char,
}

/// What a delivery points into.
struct DeliveryParts {
    _body: CString,
    _event: Option<Box<OwnedEvent>>,
    _follow_up: Option<Box<OwnedResult>>,
    _error: Option<CString>,
}

type OwnedDelivery = Owned<ezt_delivery, DeliveryParts>;

impl ezt_delivery {
    fn new(handled: Handled) -> Box<OwnedDelivery> {
        let received = handled.received;
        let body = owned_c_string(received.body);
        let event = received.event.as_ref().map(ezt_webhook_event::new);
        let (follow_up, failure) = match handled.follow_up {
            None => (None, None),
            Some(Ok(run)) => (Some(ezt_result::new(run)), None),
            Some(Err(error)) => (None, Some(Failure::from(error))),
        };
        let error = failure.as_ref().map(|f| c_string(&f.message));
        let view = Self {
            status: received.status,
            body: body.as_ptr(),
            reason: received.verification.reason.into(),
            event: event.as_ref().map_or(std::ptr::null(), |e| e.view()),
            follow_up: follow_up.as_ref().map_or(std::ptr::null(), |r| r.view()),
            follow_up_status: failure.map_or(ezt_status::EZT_OK, |f| f.status),
            follow_up_error: or_null(&error),
        };
        let parts = DeliveryParts {
            _body: body,
            _event: event,
            _follow_up: follow_up,
            _error: error,
        };
        own(view, parts)
    }
}

/// A webhook endpoint of `client` through `*out` (free with
/// `ezt_webhook_receiver_free`): it verifies with `primary_secret` (and
/// `secondary_secret` during a rotation, or NULL) within `tolerance_secs`
/// (usually `EZT_DEFAULT_TOLERANCE_SECS`), acknowledges a replayed delivery
/// without handling it twice, runs the client's registered on_success /
/// on_failure step through the client's transport, and ends the client's
/// `ezt_wait_for_result` calls for the job.
///
/// # Safety
/// `client` is a live handle; its transport and user data stay valid for the
/// receiver's life too; the secrets are NUL-terminated (the secondary may be
/// NULL); `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_receiver_new(
    client: *const ezt_client,
    primary_secret: *const c_char,
    secondary_secret: *const c_char,
    tolerance_secs: u64,
    out: *mut *mut ezt_webhook_receiver,
) -> ezt_status {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: `client` is NULL or a live handle of this library; the secrets are NULL or
        // NUL-terminated strings readable for the call, as `ezt_webhook_receiver_new`'s
        // # Safety requires of its caller.
        let (client, primary, secondary) = unsafe {
            (
                handle(client, "client")?,
                str_arg(primary_secret, "primary_secret")?,
                opt_str_arg(secondary_secret, "secondary_secret")?,
            )
        };
        let receiver = client
            .client
            .webhook_receiver(primary, secondary)?
            .tolerance_secs(tolerance_secs);
        let receiver = ezt_webhook_receiver {
            receiver: Mutex::new(receiver),
            transport: client.transport(),
        };
        // SAFETY: checked above.
        unsafe { give_box(out, receiver) };
        Ok(())
    })
}

/// Free a receiver. NULL is ignored.
///
/// # Safety
/// `receiver` is NULL or a live receiver handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_receiver_free(receiver: *mut ezt_webhook_receiver) {
    if !receiver.is_null() {
        // SAFETY: a handle from `Box::into_raw`, freed once, per the contract.
        drop(unsafe { Box::from_raw(receiver) });
    }
}

/// Handle one delivery: its raw body, its `X-EZThrottle-Signature` header
/// (NULL when absent) and the time (`now_secs`, unix seconds, or `EZT_NOW`).
/// What to answer the sender, the event and the follow-up's result go
/// through `*out` (free with `ezt_delivery_free`). Returns `EZT_OK` whenever
/// a delivery was decided, refused ones included: read its status.
///
/// # Safety
/// `receiver` is a live handle; `body` points to `length` bytes;
/// `signature_header` is NUL-terminated or NULL; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_receive(
    receiver: *const ezt_webhook_receiver,
    body: *const u8,
    length: usize,
    signature_header: *const c_char,
    now_secs: i64,
    out: *mut *mut ezt_delivery,
) -> ezt_status {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: `receiver` is NULL or a live handle, `body` NULL or `length` readable bytes and
        // `signature_header` NULL or a NUL-terminated string, as `ezt_webhook_receive`'s
        // # Safety requires of its caller.
        let (receiver, body, signature) = unsafe {
            (
                handle(receiver, "receiver")?,
                slice_arg(body, length, "body")?,
                opt_str_arg(signature_header, "signature_header")?,
            )
        };
        let now_secs = resolve_now_secs(now_secs);
        // The lock covers the decision only, never the follow-up's requests.
        let mut delivery = receiver
            .receiver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .handle(body, signature, now_secs);
        let handled = receiver.transport.run(&mut delivery)?;
        // SAFETY: checked above.
        unsafe { *out = ezt_delivery::new(handled).into_raw() };
        Ok(())
    })
}

/// Free a delivery (its event and follow-up result with it). NULL is ignored.
///
/// # Safety
/// `delivery` is NULL or a live delivery handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn ezt_delivery_free(delivery: *mut ezt_delivery) {
    // SAFETY: NULL or a delivery from `ezt_delivery::new`, per the contract.
    unsafe { OwnedDelivery::free(delivery) }
}

/// Block until `job_id`'s result reaches one of `client`'s receivers (at
/// once if it already has), for at most `timeout_ms`; the event through
/// `*out` (free with `ezt_webhook_event_free`). `EZT_ERR_TIMEOUT` when the
/// time runs out. Deliveries are handed to a receiver by the app's own HTTP
/// server, so wait on a thread other than the one serving them.
///
/// # Safety
/// `client` is a live handle; `job_id` is NUL-terminated; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_wait_for_result(
    client: *const ezt_client,
    job_id: *const c_char,
    timeout_ms: u64,
    out: *mut *mut ezt_webhook_event,
) -> ezt_status {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: `client` is NULL or a live handle and `job_id` NULL or a NUL-terminated
        // string, as `ezt_wait_for_result`'s # Safety requires of its caller.
        let (client, job_id) = unsafe { (handle(client, "client")?, str_arg(job_id, "job_id")?) };
        let timeout = Duration::from_millis(timeout_ms);
        let event = ezthrottle_transport::wait_for_result(&client.client, job_id, timeout)?;
        // SAFETY: checked above.
        unsafe { *out = ezt_webhook_event::new(&event).into_raw() };
        Ok(())
    })
}
