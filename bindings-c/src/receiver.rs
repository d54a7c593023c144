//! A client's webhook endpoint (verify, refuse replays, parse, run the
//! follow-ups) and waiting for a job's result. Every decision is the core
//! `Client`'s; this module converts types and blocks the calling thread.

use std::ffi::{c_char, CString};
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use ezthrottle_core::ClientReceiver;

use crate::client::{ezt_client, ezt_result};
use crate::ezt_status;
use crate::ffi::{
    c_string, give_box, guard, handle, opt_str_arg, out_arg, read_handle, slice_arg, str_arg,
    Failure,
};
use crate::transport::HostTransport;
use crate::webhook::{ezt_signature_reason, ezt_webhook_event, resolve_now_secs};

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

/// What the receiver did with one delivery (opaque; read with the
/// `ezt_delivery_*` accessors, free with `ezt_delivery_free`).
pub struct ezt_delivery {
    status: u16,
    body: CString,
    reason: ezt_signature_reason,
    event: Option<ezt_webhook_event>,
    follow_up: Option<Result<ezt_result, Failure>>,
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
        let delivery = ezt_delivery {
            status: handled.received.status,
            body: c_string(&handled.received.body),
            reason: handled.received.verification.reason.into(),
            event: handled.received.event.as_ref().map(ezt_webhook_event::new),
            follow_up: handled
                .follow_up
                .map(|run| run.map(ezt_result::from).map_err(Failure::from)),
        };
        // SAFETY: checked above.
        unsafe { give_box(out, delivery) };
        Ok(())
    })
}

/// The HTTP status to answer the sender: 200 accepted (or a replay,
/// acknowledged), 401 bad signature, 400 malformed body; 0 for NULL.
///
/// # Safety
/// `delivery` is NULL or a live delivery handle.
#[no_mangle]
pub unsafe extern "C" fn ezt_delivery_status(delivery: *const ezt_delivery) -> u16 {
    // SAFETY: `delivery` is NULL or a live delivery, as this function's # Safety and
    // `read_handle`'s require.
    unsafe { read_handle(delivery, 0, |d| d.status) }
}

/// The JSON body to answer the sender. Owned by the delivery.
///
/// # Safety
/// `delivery` is NULL or a live delivery handle.
#[no_mangle]
pub unsafe extern "C" fn ezt_delivery_body(delivery: *const ezt_delivery) -> *const c_char {
    // SAFETY: `delivery` is NULL or a live delivery, as this function's # Safety and
    // `read_handle`'s require.
    unsafe { read_handle(delivery, std::ptr::null(), |d| d.body.as_ptr()) }
}

/// Why the signature was accepted or refused (`EZT_SIGNATURE_REPLAYED` for a
/// repeat).
///
/// # Safety
/// `delivery` is NULL or a live delivery handle.
#[no_mangle]
pub unsafe extern "C" fn ezt_delivery_reason(
    delivery: *const ezt_delivery,
) -> ezt_signature_reason {
    let refused = ezt_signature_reason::EZT_SIGNATURE_NO_SIGNATURE_HEADER;
    // SAFETY: `delivery` is NULL or a live delivery, as this function's # Safety and
    // `read_handle`'s require.
    unsafe { read_handle(delivery, refused, |d| d.reason) }
}

/// The event, when the delivery was authentic, well-formed and new; else
/// NULL. Owned by the delivery (read it with the `ezt_webhook_event_*`
/// accessors; do not free it).
///
/// # Safety
/// `delivery` is NULL or a live delivery handle.
#[no_mangle]
pub unsafe extern "C" fn ezt_delivery_event(
    delivery: *const ezt_delivery,
) -> *const ezt_webhook_event {
    // SAFETY: `delivery` is NULL or a live delivery, as this function's # Safety and
    // `read_handle`'s require.
    unsafe {
        read_handle(delivery, std::ptr::null(), |d| {
            d.event.as_ref().map_or(std::ptr::null(), |e| e as *const _)
        })
    }
}

/// How the released follow-up step ran: `EZT_OK` with its result through
/// `*result` (owned by the delivery), or its failure's status (the message
/// and path are left as by any failing call; `*result` is NULL). With no
/// follow-up, `EZT_OK` and NULL.
///
/// # Safety
/// `delivery` is a live delivery handle; `result` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_delivery_follow_up(
    delivery: *const ezt_delivery,
    result: *mut *const ezt_result,
) -> ezt_status {
    guard(|| {
        let result = out_arg(result, "result")?;
        // SAFETY: `delivery` is NULL or a live handle of this library, as
        // `ezt_delivery_follow_up`'s # Safety requires of its caller.
        let delivery = unsafe { handle(delivery, "delivery") }?;
        // SAFETY: `result` was checked writable above.
        unsafe { *result = std::ptr::null() };
        match &delivery.follow_up {
            None => Ok(()),
            Some(Ok(run)) => {
                // SAFETY: as above; the result lives as long as the delivery.
                unsafe { *result = run as *const ezt_result };
                Ok(())
            }
            Some(Err(failure)) => Err(failure.clone()),
        }
    })
}

/// Free a delivery (its event and follow-up result with it). NULL is ignored.
///
/// # Safety
/// `delivery` is NULL or a live delivery handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn ezt_delivery_free(delivery: *mut ezt_delivery) {
    if !delivery.is_null() {
        // SAFETY: a handle from `Box::into_raw`, freed once, per the contract.
        drop(unsafe { Box::from_raw(delivery) });
    }
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
        let wait = client.client.wait_for_result(job_id);
        match block_on_until(wait, Duration::from_millis(timeout_ms)) {
            Some(event) => {
                // SAFETY: checked above.
                unsafe { give_box(out, ezt_webhook_event::new(&event)) };
                Ok(())
            }
            None => Err(Failure::new(
                ezt_status::EZT_ERR_TIMEOUT,
                format!("no result for job {job_id:?} within {timeout_ms} ms"),
            )),
        }
    })
}

/// Wakes the waiting thread. A condition variable rather than thread
/// parking: `std::thread::current()` on a thread C created leaves a handle in
/// its thread-local storage that is never freed for the main thread.
#[derive(Default)]
struct Signal {
    woken: Mutex<bool>,
    condvar: Condvar,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        *self.woken.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.condvar.notify_one();
    }
}

/// Poll `future` on this thread until it is ready or `timeout` has passed;
/// dropping it on timeout cancels it.
fn block_on_until<F: Future>(future: F, timeout: Duration) -> Option<F::Output> {
    let deadline = Instant::now().checked_add(timeout);
    let signal = Arc::new(Signal::default());
    let waker = Waker::from(signal.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        let mut woken = signal.woken.lock().unwrap_or_else(|e| e.into_inner());
        while !*woken {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            woken = match left {
                Some(left) if left.is_zero() => return None,
                Some(left) => signal
                    .condvar
                    .wait_timeout(woken, left)
                    .map_or_else(|e| e.into_inner().0, |(w, _)| w),
                None => signal
                    .condvar
                    .wait(woken)
                    .unwrap_or_else(|e| e.into_inner()),
            };
        }
        *woken = false;
    }
}
