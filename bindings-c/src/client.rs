//! The client: configuration, the host transport, and every network call.
//! A client may be used from several threads at once when its transport
//! callback is thread-safe; each call blocks its thread until done.

use std::ffi::{c_char, c_void, CString};

use ezthrottle_core::{
    Client, ClientOptions, ForwardOrFallback, ForwardToEZThrottle, Operation, Outcome,
    QueueRequest, Run, API_KEY_ENV,
};
use serde_json::Value;

use crate::ezt_status;
use crate::ffi::{
    c_string, give_box, give_string, guard, handle, json_arg, null_argument, opt_str_arg, out_arg,
    owned_c_string, str_arg, Failure,
};
use crate::step::ezt_step;
use crate::transport::{ezt_transport_fn, HostTransport};
use crate::view::{or_null, own, Owned};

/// How to build a client. Zero / NULL fields take the defaults.
#[repr(C)]
pub struct ezt_client_options {
    /// The API key; NULL reads the environment variable `EZTHROTTLE_API_KEY`.
    pub api_key: *const c_char,
    /// The gateway base URL; NULL is the hosted one (the core's `DEFAULT_TRACKTAGS_URL`).
    pub tracktags_url: *const c_char,
    /// The EZThrottle base URL; NULL is the hosted one (the core's `DEFAULT_EZTHROTTLE_URL`).
    pub ezthrottle_url: *const c_char,
    /// Timeout of each gateway call in milliseconds; 0 is `EZT_DEFAULT_TIMEOUT_MS`.
    pub timeout_ms: u64,
    /// Your webhook receiving every submitted job's result; NULL for none.
    /// With it, on_success / on_failure steps run in this client when an
    /// `ezt_webhook_receiver` of it handles the job's delivery.
    pub continuation_webhook: *const c_char,
}

/// A configured client (opaque).
pub struct ezt_client {
    pub(crate) client: Client,
    transport: HostTransport,
}

// SAFETY: the client's only non-thread-safe part is the host's user_data
// pointer; the header documents that a client is shared across threads only
// with a thread-safe transport.
unsafe impl Send for ezt_client {}
// SAFETY: as above; the client itself is immutable after creation.
unsafe impl Sync for ezt_client {}

impl ezt_client {
    pub(crate) fn run<O: Operation>(
        &self,
        op: &mut O,
    ) -> Result<O::Output, ezthrottle_core::Error> {
        self.transport.run(op)
    }

    pub(crate) fn transport(&self) -> HostTransport {
        self.transport
    }
}

/// Create a client through `*out` (free with `ezt_client_free`). `transport`
/// performs every HTTP request; `user_data` is passed to it untouched.
///
/// # Safety
/// `options` is NULL or valid with NUL-terminated (or NULL) strings;
/// `transport` is a function of the `ezt_transport_fn` signature that stays
/// valid, with `user_data`, for the client's life; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_client_new(
    options: *const ezt_client_options,
    transport: ezt_transport_fn,
    user_data: *mut c_void,
    out: *mut *mut ezt_client,
) -> ezt_status {
    guard(|| {
        let out = out_arg(out, "out")?;
        let function = transport.ok_or_else(|| null_argument("transport"))?;
        // SAFETY: `options` is NULL or points to an `ezt_client_options` readable for the call,
        // as `ezt_client_new`'s # Safety requires of its caller.
        let options = unsafe { options.as_ref() };
        // SAFETY: each string field of `options` is NULL or a NUL-terminated string readable for
        // the call, as `ezt_client_new`'s # Safety requires of its caller.
        let text = |pick: fn(&ezt_client_options) -> *const c_char, name| unsafe {
            opt_str_arg(options.map_or(std::ptr::null(), pick), name).map(|v| v.map(str::to_owned))
        };
        let client = Client::new(ClientOptions {
            api_key: text(|o| o.api_key, "api_key")?,
            api_key_from_env: std::env::var(API_KEY_ENV).ok(),
            tracktags_url: text(|o| o.tracktags_url, "tracktags_url")?,
            ezthrottle_url: text(|o| o.ezthrottle_url, "ezthrottle_url")?,
            timeout_ms: options.map(|o| o.timeout_ms).filter(|ms| *ms > 0),
            continuation_webhook: text(|o| o.continuation_webhook, "continuation_webhook")?,
        })?;
        let transport = HostTransport {
            function,
            user_data,
        };
        // SAFETY: checked above.
        unsafe { give_box(out, ezt_client { client, transport }) };
        Ok(())
    })
}

/// Free a client. NULL is ignored.
///
/// # Safety
/// `client` is NULL or a live client handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn ezt_client_free(client: *mut ezt_client) {
    if !client.is_null() {
        // SAFETY: a handle from `Box::into_raw`, freed once, per the contract.
        drop(unsafe { Box::from_raw(client) });
    }
}

/// The result of an executed step (read-only; free with `ezt_result_free`).
/// Its strings live as long as it does.
#[repr(C)]
pub struct ezt_result {
    /// The result in the reference SDK's JSON shape.
    pub json: *const c_char,
    /// The job id when the job was submitted; NULL when it ran locally.
    pub job_id: *const c_char,
    /// "queued" / "duplicate" (submitted) or "success" / "failed" (local).
    pub status: *const c_char,
    /// The local status code; 0 when the job was submitted.
    pub status_code: u16,
    /// Whether the step ran locally (FRUGAL) rather than being submitted.
    pub executed_locally: bool,
    /// The execution trace, readable text (`1. [SUCCESS] GET https://…`).
    pub trace: *const c_char,
}

/// The strings a result points into.
pub(crate) struct ResultStrings([Option<CString>; 4]);

/// A result as handed out.
pub(crate) type OwnedResult = Owned<ezt_result, ResultStrings>;

impl ezt_result {
    pub(crate) fn new(run: Run) -> Box<OwnedResult> {
        let json = run.outcome.to_json();
        let (status_code, executed_locally) = match &run.outcome {
            Outcome::Submitted(_) => (0, false),
            Outcome::LocalSuccess { status_code, .. } | Outcome::LocalFailure { status_code } => {
                (*status_code, true)
            }
        };
        let strings = ResultStrings([
            Some(owned_c_string(ezthrottle_core::json::to_string(&json))),
            run.outcome.job_id().map(c_string),
            Some(c_string(json["status"].as_str().unwrap_or_default())),
            Some(owned_c_string(run.trace.to_string())),
        ]);
        let [json, job_id, status, trace] = strings.0.each_ref().map(or_null);
        let view = Self {
            json,
            job_id,
            status,
            status_code,
            executed_locally,
            trace,
        };
        own(view, strings)
    }
}

/// Execute a step (PERFORMANCE: submit; FRUGAL: run locally first, through
/// the transport) and hand its result through `*out` (free with `ezt_result_free`).
/// With a `continuation_webhook`, the submitted job's on_success / on_failure
/// are kept by the client and run when its receiver handles the delivery.
///
/// # Safety
/// `client` and `step` are live handles; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_execute(
    client: *const ezt_client,
    step: *const ezt_step,
    out: *mut *mut ezt_result,
) -> ezt_status {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: `client` is NULL or a live handle of this library, not freed during the call;
        // `step` is NULL or a live handle of this library, not freed during the call, as
        // `ezt_execute`'s # Safety requires of its caller.
        let (client, step) = unsafe { (handle(client, "client")?, handle(step, "step")?) };
        let mut execution = client.client.execute(&step.inner)?;
        let result = ezt_result::new(client.run(&mut execution)?);
        // SAFETY: checked above.
        unsafe { *out = result.into_raw() };
        Ok(())
    })
}

/// Free a result. NULL is ignored.
///
/// # Safety
/// `result` is NULL or a result this library handed out (not one inside a
/// delivery), not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn ezt_result_free(result: *mut ezt_result) {
    // SAFETY: NULL or a result from `ezt_result::new`, per the contract.
    unsafe { OwnedResult::free(result) }
}

/// Run a call that answers JSON and hand the answer through `out`.
///
/// # Safety
/// `client` is a live handle or NULL; `out` is writable or NULL.
unsafe fn answer_json(
    client: *const ezt_client,
    out: *mut *mut c_char,
    call: impl FnOnce(&ezt_client) -> Result<Value, Failure>,
) -> ezt_status {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: `client` is NULL or a live handle of this library, not freed during the call,
        // as this helper's own # Safety requires of its caller.
        let client = unsafe { handle(client, "client") }?;
        let answer = call(client)?;
        // SAFETY: checked above.
        unsafe { give_string(out, ezthrottle_core::json::to_string(&answer)) };
        Ok(())
    })
}

/// Submit a job payload (JSON, PROTOCOL §2), checked field by field as the
/// step builder checks it (a refusal's `ezt_last_error_path()` names the
/// field, e.g. `on_success.url`); the service's answer
/// (`{"job_id":…,"status":…}`) through `*out` (free with `ezt_string_free`).
///
/// # Safety
/// `client` is a live handle; `job_json` is NUL-terminated; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_submit_job(
    client: *const ezt_client,
    job_json: *const c_char,
    out: *mut *mut c_char,
) -> ezt_status {
    // SAFETY: `client` is NULL or a live client and `out` is NULL or writable; `job_json` is NULL
    // or a NUL-terminated string readable for the call, as `ezt_submit_job`'s # Safety requires
    // of its caller.
    unsafe {
        answer_json(client, out, |client| {
            let mut call = client
                .client
                .submit_job_json(str_arg(job_json, "job_json")?)?;
            Ok(Value::Object(client.run(&mut call)?.as_json().clone()))
        })
    }
}

/// Submit a forwarded request (a `ForwardToEZThrottle` as JSON, see
/// `ezt_forward_or_fallback`; a random UUID key when none); the service's
/// answer through `*out`.
///
/// # Safety
/// `client` is a live handle; `forward_json` is NUL-terminated; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_forward(
    client: *const ezt_client,
    forward_json: *const c_char,
    out: *mut *mut c_char,
) -> ezt_status {
    // SAFETY: `client` is NULL or a live client and `out` is NULL or writable; `forward_json` is
    // NULL or a NUL-terminated string readable for the call, as `ezt_forward`'s # Safety requires
    // of its caller.
    unsafe {
        answer_json(client, out, |client| {
            let forward =
                ForwardToEZThrottle::from_value(&json_arg(forward_json, "forward_json")?)?;
            let mut call = client.client.forward(&forward)?;
            Ok(Value::Object(client.run(&mut call)?.as_json().clone()))
        })
    }
}

/// The legacy single-webhook call: `request_json` is `{"url", "webhook_url",
/// "method"?, "headers"?, "body"?, "metadata"?, "retry_at"?}` (`retry_at` in
/// ms since the epoch); the service's answer through `*out`.
///
/// # Safety
/// `client` is a live handle; `request_json` is NUL-terminated; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_queue_request(
    client: *const ezt_client,
    request_json: *const c_char,
    out: *mut *mut c_char,
) -> ezt_status {
    // SAFETY: `client` is NULL or a live client and `out` is NULL or writable; `request_json` is
    // NULL or a NUL-terminated string readable for the call, as `ezt_queue_request`'s # Safety
    // requires of its caller.
    unsafe {
        answer_json(client, out, |client| {
            let request = QueueRequest::from_value(&json_arg(request_json, "request_json")?)?;
            let mut call = client.client.queue_request(&request)?;
            Ok(Value::Object(client.run(&mut call)?.as_json().clone()))
        })
    }
}

/// The host's fallback for `ezt_forward_or_fallback`.
pub type ezt_fallback_fn = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// Submit a forwarded request; only when EZThrottle cannot be reached at all
/// (a timeout, or `EZT_TRANSPORT_UNREACHABLE`) call `fallback(user_data)`
/// instead and set `*fell_back`. Rate limits and rejections are errors, not a
/// reason to fall back. On submission, the answer goes through `*out`; on
/// fallback `*out` is NULL.
///
/// `forward_json`: `{"url", "method"?, "headers"?, "body"?, "idempotent_key"?,
/// "metadata"?, "webhooks"?, "regions"?}`.
///
/// # Safety
/// `client` is a live handle; `forward_json` is NUL-terminated; `fallback` is
/// a valid function; `out` and `fell_back` are writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_forward_or_fallback(
    client: *const ezt_client,
    forward_json: *const c_char,
    fallback: ezt_fallback_fn,
    user_data: *mut c_void,
    out: *mut *mut c_char,
    fell_back: *mut bool,
) -> ezt_status {
    guard(|| {
        let out = out_arg(out, "out")?;
        let fell_back = out_arg(fell_back, "fell_back")?;
        let fallback = fallback.ok_or_else(|| null_argument("fallback"))?;
        // SAFETY: `client` is NULL or a live handle of this library, not freed during the call,
        // as `ezt_forward_or_fallback`'s # Safety requires of its caller.
        let client = unsafe { handle(client, "client") }?;
        // SAFETY: `forward_json` is NULL or a NUL-terminated string readable for the call, as
        // `ezt_forward_or_fallback`'s # Safety requires of its caller.
        let forward =
            ForwardToEZThrottle::from_value(&unsafe { json_arg(forward_json, "forward_json") }?)?;
        let mut call = client.client.forward_or_fallback(&forward)?;
        // SAFETY: both out-pointers were checked above.
        unsafe {
            *out = std::ptr::null_mut();
            *fell_back = false;
        }
        match client.run(&mut call)? {
            ForwardOrFallback::Submitted(answer) => {
                // SAFETY: checked above.
                unsafe {
                    give_string(
                        out,
                        ezthrottle_core::json::object_to_string(answer.as_json()),
                    )
                };
            }
            // SAFETY: the host's function with its own user data; `fell_back` checked above.
            ForwardOrFallback::Fallback(()) => unsafe {
                fallback(user_data);
                *fell_back = true;
            },
        }
        Ok(())
    })
}

/// Create or replace the webhook secrets (each at least `EZT_MIN_SECRET_LEN` characters;
/// `secondary` may be NULL); the answer JSON through `*out`.
///
/// # Safety
/// `client` is a live handle; strings are NUL-terminated (or NULL where
/// allowed); `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_secret_create(
    client: *const ezt_client,
    primary: *const c_char,
    secondary: *const c_char,
    out: *mut *mut c_char,
) -> ezt_status {
    // SAFETY: `client` is NULL or a live client and `out` is NULL or writable; `primary` is NULL
    // or a NUL-terminated string readable for the call; `secondary` is NULL or a NUL-terminated
    // string readable for the call, as `ezt_webhook_secret_create`'s # Safety requires of its
    // caller.
    unsafe {
        answer_json(client, out, |client| {
            let mut call = client.client.create_webhook_secret(
                str_arg(primary, "primary")?,
                opt_str_arg(secondary, "secondary")?,
            )?;
            Ok(Value::Object(client.run(&mut call)?))
        })
    }
}

/// The webhook secrets, masked: `{"customer_id", "primary_secret",
/// "secondary_secret", "has_secondary"}` through `*out`;
/// `EZT_ERR_SECRETS_NOT_CONFIGURED` when there are none.
///
/// # Safety
/// `client` is a live handle; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_secret_get(
    client: *const ezt_client,
    out: *mut *mut c_char,
) -> ezt_status {
    // SAFETY: `client` is NULL or a live client and `out` is NULL or writable, as
    // `ezt_webhook_secret_get`'s # Safety requires of its caller.
    unsafe {
        answer_json(client, out, |client| {
            let mut call = client.client.get_webhook_secret();
            Ok(client.run(&mut call)?.to_json())
        })
    }
}

/// Remove the webhook secrets; the answer JSON through `*out`.
///
/// # Safety
/// `client` is a live handle; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_secret_delete(
    client: *const ezt_client,
    out: *mut *mut c_char,
) -> ezt_status {
    // SAFETY: `client` is NULL or a live client and `out` is NULL or writable, as
    // `ezt_webhook_secret_delete`'s # Safety requires of its caller.
    unsafe {
        answer_json(client, out, |client| {
            let mut call = client.client.delete_webhook_secret();
            Ok(Value::Object(client.run(&mut call)?))
        })
    }
}

/// Rotate: `new_secret` becomes primary and `current_secret` (when given; the
/// service only shows secrets masked) secondary. The answer JSON through `*out`.
///
/// # Safety
/// `client` is a live handle; strings are NUL-terminated (or NULL where
/// allowed); `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_webhook_secret_rotate(
    client: *const ezt_client,
    new_secret: *const c_char,
    current_secret: *const c_char,
    out: *mut *mut c_char,
) -> ezt_status {
    // SAFETY: `client` is NULL or a live client and `out` is NULL or writable; `new_secret` is
    // NULL or a NUL-terminated string readable for the call; `current_secret` is NULL or a
    // NUL-terminated string readable for the call, as `ezt_webhook_secret_rotate`'s # Safety
    // requires of its caller.
    unsafe {
        answer_json(client, out, |client| {
            let mut rotation = client.client.rotate_webhook_secret(
                str_arg(new_secret, "new_secret")?,
                opt_str_arg(current_secret, "current_secret")?,
            )?;
            Ok(Value::Object(client.run(&mut rotation)?))
        })
    }
}
