//! HTTP through the host: the library asks a host callback to perform each
//! request synchronously; the callback reads the request through accessors
//! and fills the response through setters that copy.

use std::ffi::{c_char, c_int, c_void, CString};

use ezthrottle_core::{HttpRequest, HttpResponse, Operation, Reply, Target, TransportError};

use crate::ezt_status;
use crate::ffi::{
    c_string, guard, guard_value, handle_mut, read_handle, slice_arg, str_arg, Failure,
};

/// The transport finished the request; the response was filled in.
pub const EZT_TRANSPORT_OK: c_int = 0;
/// The request timed out.
pub const EZT_TRANSPORT_TIMEOUT: c_int = 1;
/// The peer could not be reached (connection refused, DNS failure).
pub const EZT_TRANSPORT_UNREACHABLE: c_int = 2;
/// Any other failure.
pub const EZT_TRANSPORT_FAILED: c_int = 3;

/// A host function performing one HTTP request synchronously.
///
/// It reads `request` with the `ezt_request_*` accessors, fills `response`
/// with the `ezt_response_*` setters and returns one of `EZT_TRANSPORT_OK`,
/// `EZT_TRANSPORT_TIMEOUT`, `EZT_TRANSPORT_UNREACHABLE`,
/// `EZT_TRANSPORT_FAILED`. Both pointers are valid only during the call.
pub type ezt_transport_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        request: *const ezt_http_request,
        response: *mut ezt_http_response,
    ) -> c_int,
>;

/// A request for the host to perform (read-only; see the `ezt_request_*` accessors).
pub struct ezt_http_request {
    method: CString,
    url: CString,
    headers: Vec<(CString, CString)>,
    body: Option<Vec<u8>>,
    timeout_ms: u64,
    local: bool,
}

/// The host's answer (see the `ezt_response_*` setters).
#[derive(Default)]
pub struct ezt_http_response {
    status: Option<u16>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    error: Option<String>,
}

impl ezt_http_request {
    fn from_core(request: &HttpRequest) -> Self {
        Self {
            method: c_string(&request.method),
            url: c_string(&request.url),
            headers: request
                .headers
                .iter()
                .map(|(k, v)| (c_string(k), c_string(v)))
                .collect(),
            // NUL-terminated for convenience; the length excludes the NUL.
            body: request.body.as_ref().map(|b| {
                let mut bytes = b.as_bytes().to_vec();
                bytes.push(0);
                bytes
            }),
            timeout_ms: request.timeout_ms,
            local: request.target == Target::Local,
        }
    }
}

/// A host transport and its user data.
#[derive(Clone, Copy)]
pub(crate) struct HostTransport {
    pub function:
        unsafe extern "C" fn(*mut c_void, *const ezt_http_request, *mut ezt_http_response) -> c_int,
    pub user_data: *mut c_void,
}

/// Milliseconds since the Unix epoch: the clock the core is fed.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl HostTransport {
    /// Drive `op` to its end through this transport and the system clock.
    pub fn run<O: Operation>(&self, op: &mut O) -> Result<O::Output, ezthrottle_core::Error> {
        ezthrottle_core::blocking::run(op, |request| self.send(request), now_ms)
    }

    /// Perform `request` through the host; whatever the host does or
    /// returns, the core gets a response or a typed transport error.
    pub fn send(&self, request: &HttpRequest) -> Reply {
        let c_request = ezt_http_request::from_core(request);
        let mut response = ezt_http_response::default();
        // SAFETY: the function pointer and user data come from the host,
        // which promised a function with this signature; both structs live
        // for the whole call.
        let outcome = unsafe { (self.function)(self.user_data, &c_request, &mut response) };
        let said = |default: &str| response.error.clone().unwrap_or_else(|| default.to_owned());
        match outcome {
            EZT_TRANSPORT_OK => match response.status {
                Some(status) => Ok(HttpResponse {
                    status,
                    headers: response.headers,
                    body: String::from_utf8_lossy(&response.body).into_owned(),
                }),
                None => Err(TransportError::other(
                    "the transport reported success but set no status",
                )),
            },
            EZT_TRANSPORT_TIMEOUT => Err(TransportError::timeout(said("timed out"))),
            EZT_TRANSPORT_UNREACHABLE => Err(TransportError::unreachable(said("unreachable"))),
            EZT_TRANSPORT_FAILED => Err(TransportError::other(said("the transport failed"))),
            other => Err(TransportError::other(format!(
                "the transport returned {other}, not an EZT_TRANSPORT_* value"
            ))),
        }
    }
}

/// The request's method ("GET", "POST", …). Valid during the transport call.
///
/// # Safety
/// `request` is NULL or the pointer given to the transport, during the call.
#[no_mangle]
pub unsafe extern "C" fn ezt_request_method(request: *const ezt_http_request) -> *const c_char {
    // SAFETY: `request` is NULL or a live handle of this library, not freed during the call, as
    // `ezt_request_method`'s # Safety requires of its caller.
    unsafe { read_handle(request, std::ptr::null(), |r| r.method.as_ptr()) }
}

/// The request's absolute URL. Valid during the transport call.
///
/// # Safety
/// As `ezt_request_method`.
#[no_mangle]
pub unsafe extern "C" fn ezt_request_url(request: *const ezt_http_request) -> *const c_char {
    // SAFETY: `request` is NULL or a live handle of this library, not freed during the call, as
    // `ezt_request_url`'s # Safety requires of its caller.
    unsafe { read_handle(request, std::ptr::null(), |r| r.url.as_ptr()) }
}

/// How many headers the request has.
///
/// # Safety
/// As `ezt_request_method`.
#[no_mangle]
pub unsafe extern "C" fn ezt_request_header_count(request: *const ezt_http_request) -> usize {
    // SAFETY: `request` is NULL or a live handle of this library, not freed during the call, as
    // `ezt_request_header_count`'s # Safety requires of its caller.
    unsafe { read_handle(request, 0, |r| r.headers.len()) }
}

/// The name of header `index`, or NULL past the end.
///
/// # Safety
/// As `ezt_request_method`.
#[no_mangle]
pub unsafe extern "C" fn ezt_request_header_name(
    request: *const ezt_http_request,
    index: usize,
) -> *const c_char {
    // SAFETY: `request` is NULL or a live handle of this library, not freed during the call, as
    // `ezt_request_header_name`'s # Safety requires of its caller.
    unsafe {
        read_handle(request, std::ptr::null(), |r| {
            r.headers
                .get(index)
                .map_or(std::ptr::null(), |(k, _)| k.as_ptr())
        })
    }
}

/// The value of header `index`, or NULL past the end.
///
/// # Safety
/// As `ezt_request_method`.
#[no_mangle]
pub unsafe extern "C" fn ezt_request_header_value(
    request: *const ezt_http_request,
    index: usize,
) -> *const c_char {
    // SAFETY: `request` is NULL or a live handle of this library, not freed during the call, as
    // `ezt_request_header_value`'s # Safety requires of its caller.
    unsafe {
        read_handle(request, std::ptr::null(), |r| {
            r.headers
                .get(index)
                .map_or(std::ptr::null(), |(_, v)| v.as_ptr())
        })
    }
}

/// The request body (NUL-terminated for convenience) or NULL when there is
/// none; its length, without the NUL, goes to `*length` when not NULL.
///
/// # Safety
/// As `ezt_request_method`; `length` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_request_body(
    request: *const ezt_http_request,
    length: *mut usize,
) -> *const u8 {
    guard_value(std::ptr::null(), || {
        // SAFETY: `request` is NULL or a live handle of this library, not freed during the call,
        // as `ezt_request_body`'s # Safety requires of its caller.
        let body = unsafe { request.as_ref() }.and_then(|r| r.body.as_ref());
        if !length.is_null() {
            // SAFETY: non-NULL and writable per the contract.
            unsafe { *length = body.map_or(0, |b| b.len() - 1) };
        }
        body.map_or(std::ptr::null(), |b| b.as_ptr())
    })
}

/// Give up after this many milliseconds and return `EZT_TRANSPORT_TIMEOUT`.
///
/// # Safety
/// As `ezt_request_method`.
#[no_mangle]
pub unsafe extern "C" fn ezt_request_timeout_ms(request: *const ezt_http_request) -> u64 {
    // SAFETY: `request` is NULL or a live handle of this library, not freed during the call, as
    // `ezt_request_timeout_ms`'s # Safety requires of its caller.
    unsafe { read_handle(request, 0, |r| r.timeout_ms) }
}

/// Whether this is a step's own request run locally (FRUGAL), rather than a
/// call to the EZThrottle gateway.
///
/// # Safety
/// As `ezt_request_method`.
#[no_mangle]
pub unsafe extern "C" fn ezt_request_is_local(request: *const ezt_http_request) -> bool {
    // SAFETY: `request` is NULL or a live handle of this library, not freed during the call, as
    // `ezt_request_is_local`'s # Safety requires of its caller.
    unsafe { read_handle(request, false, |r| r.local) }
}

/// Set the response status (100..=599). Setting it again replaces it.
///
/// # Safety
/// `response` is NULL or the pointer given to the transport, during the call.
#[no_mangle]
pub unsafe extern "C" fn ezt_response_set_status(
    response: *mut ezt_http_response,
    status: u16,
) -> ezt_status {
    guard(|| {
        // SAFETY: `response` is NULL or a live handle that no other call uses meanwhile, as
        // `ezt_response_set_status`'s # Safety requires of its caller.
        let response = unsafe { handle_mut(response, "response") }?;
        if !(100..=599).contains(&status) {
            return Err(Failure::new(
                ezt_status::EZT_ERR_VALIDATION,
                format!("{status} is not an HTTP status (100..=599)"),
            ));
        }
        response.status = Some(status);
        Ok(())
    })
}

/// Add a response header (copied).
///
/// # Safety
/// As `ezt_response_set_status`; `name` and `value` are NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn ezt_response_add_header(
    response: *mut ezt_http_response,
    name: *const c_char,
    value: *const c_char,
) -> ezt_status {
    guard(|| {
        // SAFETY: `response` is NULL or a live handle that no other call uses meanwhile, as
        // `ezt_response_add_header`'s # Safety requires of its caller.
        let response = unsafe { handle_mut(response, "response") }?;
        // SAFETY: `name` is NULL or a NUL-terminated string readable for the call; `value` is
        // NULL or a NUL-terminated string readable for the call, as `ezt_response_add_header`'s #
        // Safety requires of its caller.
        let (name, value) = unsafe { (str_arg(name, "name")?, str_arg(value, "value")?) };
        response.headers.push((name.to_owned(), value.to_owned()));
        Ok(())
    })
}

/// Set the response body (copied; need not be NUL-terminated). Setting it
/// again replaces it. Bytes that are not UTF-8 are replaced by U+FFFD.
///
/// # Safety
/// As `ezt_response_set_status`; `body` points to `length` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn ezt_response_set_body(
    response: *mut ezt_http_response,
    body: *const u8,
    length: usize,
) -> ezt_status {
    guard(|| {
        // SAFETY: `response` is NULL or a live handle that no other call uses meanwhile, as
        // `ezt_response_set_body`'s # Safety requires of its caller.
        let response = unsafe { handle_mut(response, "response") }?;
        // SAFETY: `body` is NULL or points to `length` readable items for the call, as
        // `ezt_response_set_body`'s # Safety requires of its caller.
        response.body = unsafe { slice_arg(body, length, "body") }?.to_vec();
        Ok(())
    })
}

/// Append to the response body (copied): for hosts that receive it in parts.
///
/// # Safety
/// As `ezt_response_set_body`.
#[no_mangle]
pub unsafe extern "C" fn ezt_response_append_body(
    response: *mut ezt_http_response,
    part: *const u8,
    length: usize,
) -> ezt_status {
    guard(|| {
        // SAFETY: `response` is NULL or a live handle that no other call uses meanwhile, as
        // `ezt_response_append_body`'s # Safety requires of its caller.
        let response = unsafe { handle_mut(response, "response") }?;
        // SAFETY: `part` is NULL or points to `length` readable items for the call, as
        // `ezt_response_append_body`'s # Safety requires of its caller.
        response
            .body
            .extend_from_slice(unsafe { slice_arg(part, length, "part") }?);
        Ok(())
    })
}

/// Describe a transport failure in the host's words (copied).
///
/// # Safety
/// As `ezt_response_set_status`; `message` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn ezt_response_set_error(
    response: *mut ezt_http_response,
    message: *const c_char,
) -> ezt_status {
    guard(|| {
        // SAFETY: `response` is NULL or a live handle that no other call uses meanwhile, as
        // `ezt_response_set_error`'s # Safety requires of its caller.
        let response = unsafe { handle_mut(response, "response") }?;
        // SAFETY: `message` is NULL or a NUL-terminated string readable for the call, as
        // `ezt_response_set_error`'s # Safety requires of its caller.
        response.error = Some(unsafe { str_arg(message, "message") }?.to_owned());
        Ok(())
    })
}
