//! HTTP through the host: the library asks a host callback to perform each
//! request synchronously; the callback reads the request's fields and fills
//! the response through setters that copy.

use std::ffi::{c_char, c_int, c_void, CString};

use ezthrottle_core::{HttpRequest, HttpResponse, Operation, Reply, Target, TransportError};
use ezthrottle_transport::now_ms;

use crate::ezt_status;
use crate::ffi::{c_string, guard, handle_mut, slice_arg, str_arg};
use crate::step::ezt_header;

/// The transport finished the request; the response was filled in.
pub const EZT_TRANSPORT_OK: c_int = 0;
/// The request timed out.
pub const EZT_TRANSPORT_TIMEOUT: c_int = 1;
/// No answer came back: DNS failure, connection refused, a failed TLS
/// handshake, a peer that hung up before or during its answer.
pub const EZT_TRANSPORT_UNREACHABLE: c_int = 2;
/// Any other failure.
pub const EZT_TRANSPORT_FAILED: c_int = 3;

/// A host function performing one HTTP request synchronously.
///
/// It reads `request`'s fields, fills `response`
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

/// A request for the host to perform (read-only). Every pointer is valid
/// during the transport call only.
#[repr(C)]
pub struct ezt_http_request {
    /// `GET`, `POST`, … .
    pub method: *const c_char,
    pub url: *const c_char,
    /// The headers to send, as in `ezt_step_options`.
    pub headers: *const ezt_header,
    pub header_count: usize,
    /// The body, NUL-terminated for convenience, or NULL when there is none.
    pub body: *const u8,
    /// The body's length in bytes, without the NUL.
    pub body_length: usize,
    /// Give up after this many milliseconds and return `EZT_TRANSPORT_TIMEOUT`.
    pub timeout_ms: u64,
    /// Whether this is a step's own request run locally (FRUGAL), rather
    /// than a call to the EZThrottle gateway.
    pub is_local: bool,
}

/// The host's answer (see the `ezt_response_*` setters).
#[derive(Default)]
pub struct ezt_http_response {
    status: Option<u16>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    error: Option<String>,
}

/// The C strings an `ezt_http_request` points into, kept for the call.
struct RequestStorage {
    method: CString,
    url: CString,
    headers: Vec<(CString, CString)>,
    /// The body's bytes (a NUL inside kept) and a NUL after them.
    body: Option<Vec<u8>>,
}

impl RequestStorage {
    fn of(request: &HttpRequest) -> Self {
        Self {
            method: c_string(&request.method),
            url: c_string(&request.url),
            headers: request
                .headers
                .iter()
                .map(|(k, v)| (c_string(k), c_string(v)))
                .collect(),
            body: request.body.as_ref().map(|b| [b.as_bytes(), &[0]].concat()),
        }
    }

    /// Runs `call` with the view, whose headers borrow this storage.
    fn view<T>(&self, request: &HttpRequest, call: impl FnOnce(&ezt_http_request) -> T) -> T {
        let headers: Vec<ezt_header> = self
            .headers
            .iter()
            .map(|(name, value)| ezt_header {
                name: name.as_ptr(),
                value: value.as_ptr(),
            })
            .collect();
        let body = self.body.as_ref();
        call(&ezt_http_request {
            method: self.method.as_ptr(),
            url: self.url.as_ptr(),
            headers: headers.as_ptr(),
            header_count: headers.len(),
            body: body.map_or(std::ptr::null(), |b| b.as_ptr()),
            body_length: body.map_or(0, |b| b.len() - 1),
            timeout_ms: request.timeout_ms,
            is_local: request.target == Target::Local,
        })
    }
}

/// A host transport and its user data.
#[derive(Clone, Copy)]
pub(crate) struct HostTransport {
    pub function:
        unsafe extern "C" fn(*mut c_void, *const ezt_http_request, *mut ezt_http_response) -> c_int,
    pub user_data: *mut c_void,
}

impl HostTransport {
    /// Drive `op` to its end through this transport and the system clock.
    pub fn run<O: Operation>(&self, op: &mut O) -> Result<O::Output, ezthrottle_core::Error> {
        ezthrottle_core::blocking::run(op, |request| self.send(request), now_ms)
    }

    /// Perform `request` through the host; whatever the host does or
    /// returns, the core gets a response or a typed transport error.
    pub fn send(&self, request: &HttpRequest) -> Reply {
        let storage = RequestStorage::of(request);
        let mut response = ezt_http_response::default();
        // SAFETY: the function pointer and user data come from the host,
        // which promised a function with this signature; both structs live
        // for the whole call.
        let outcome = storage.view(request, |view| unsafe {
            (self.function)(self.user_data, view, &mut response)
        });
        let said = |default: &str| response.error.clone().unwrap_or_else(|| default.to_owned());
        match outcome {
            EZT_TRANSPORT_OK => match response.status {
                Some(status) => Ok(HttpResponse {
                    status: HttpResponse::status_from_transport(status.into())?,
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

/// Set the response status. Setting it again replaces it; one a server
/// cannot send (outside 100..=599) makes the request fail as the transport's.
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
