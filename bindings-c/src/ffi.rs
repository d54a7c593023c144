//! The conventions every `ezt_` function follows: a status code, a
//! thread-local message, no panic across the boundary, checked strings.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use ezthrottle_core::{Error, TransportErrorKind};

/// What an `ezt_` call returns. `EZT_OK` is 0; every failure also leaves a
/// message for `ezt_last_error_message()` on the calling thread.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ezt_status {
    /// Success.
    EZT_OK = 0,
    /// A required pointer argument was NULL.
    EZT_ERR_NULL_ARGUMENT = 1,
    /// A string argument was not valid UTF-8.
    EZT_ERR_INVALID_UTF8 = 2,
    /// A JSON argument did not parse.
    EZT_ERR_INVALID_JSON = 3,
    /// Input refused before anything was sent; `ezt_last_error_path()` names the field.
    EZT_ERR_VALIDATION = 4,
    /// The gateway rate-limited the call; see `ezt_last_error_retry_at_ms()`.
    EZT_ERR_RATE_LIMITED = 5,
    /// The API key is missing, unknown or revoked.
    EZT_ERR_AUTHENTICATION = 6,
    /// The plan does not allow the call.
    EZT_ERR_DENIED = 7,
    /// EZThrottle refused the job (a non-2xx forwarded answer).
    EZT_ERR_JOB_REJECTED = 8,
    /// The gateway failed.
    EZT_ERR_GATEWAY = 9,
    /// No webhook secrets are configured.
    EZT_ERR_SECRETS_NOT_CONFIGURED = 10,
    /// An answer did not follow the protocol.
    EZT_ERR_PROTOCOL = 11,
    /// The transport timed out.
    EZT_ERR_TIMEOUT = 12,
    /// The service could not be reached.
    EZT_ERR_UNREACHABLE = 13,
    /// The transport failed otherwise (or returned something invalid).
    EZT_ERR_TRANSPORT = 14,
    /// A webhook signature did not verify.
    EZT_ERR_SIGNATURE = 15,
    /// Calls made out of order.
    EZT_ERR_MISUSE = 16,
    /// A bug in the library was caught before it reached the caller.
    EZT_ERR_INTERNAL = 17,
    /// Arguments that cannot go together, such as one handle passed as both
    /// a step and the step linked to it.
    EZT_ERR_INVALID_ARGUMENT = 18,
}

/// A failure on its way to the caller.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub status: ezt_status,
    pub message: String,
    pub path: Option<String>,
    pub retry_at_ms: Option<u64>,
    /// A rejected or failed answer's status code and body.
    pub answer: Option<(u16, String)>,
}

impl Failure {
    pub fn new(status: ezt_status, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            path: None,
            retry_at_ms: None,
            answer: None,
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        use ezt_status::*;
        let status = match &error {
            Error::Validation { .. } => EZT_ERR_VALIDATION,
            Error::RateLimited { .. } => EZT_ERR_RATE_LIMITED,
            Error::Authentication { .. } => EZT_ERR_AUTHENTICATION,
            Error::Denied { .. } => EZT_ERR_DENIED,
            Error::JobRejected { .. } => EZT_ERR_JOB_REJECTED,
            Error::Gateway { .. } => EZT_ERR_GATEWAY,
            Error::SecretsNotConfigured => EZT_ERR_SECRETS_NOT_CONFIGURED,
            Error::Protocol { .. } => EZT_ERR_PROTOCOL,
            Error::Transport(e) => match e.kind {
                TransportErrorKind::Timeout => EZT_ERR_TIMEOUT,
                TransportErrorKind::Unreachable => EZT_ERR_UNREACHABLE,
                TransportErrorKind::Other => EZT_ERR_TRANSPORT,
            },
            Error::Signature { .. } => EZT_ERR_SIGNATURE,
            Error::Misuse { .. } => EZT_ERR_MISUSE,
        };
        Self {
            status,
            message: error.to_string(),
            path: error.field_path().map(str::to_owned),
            retry_at_ms: error.retry_at_ms(),
            answer: error
                .answer()
                .map(|(status, body)| (status, body.to_owned())),
        }
    }
}

#[derive(Default)]
struct LastError {
    message: Option<CString>,
    path: Option<CString>,
    retry_at_ms: Option<u64>,
    answer_status: u16,
    answer_body: Option<CString>,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError::default());
}

/// A C string from Rust text; NUL bytes (impossible in C strings) become U+FFFD.
pub(crate) fn c_string(text: &str) -> CString {
    owned_c_string(text.to_owned())
}

/// As [`c_string`], reusing the allocation of `text` when it has no NUL.
pub(crate) fn owned_c_string(text: String) -> CString {
    CString::new(text).unwrap_or_else(|e| {
        let text = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\u{FFFD}");
        CString::new(text).unwrap_or_default()
    })
}

fn remember(failure: &Failure) {
    LAST_ERROR.with(|last| {
        *last.borrow_mut() = LastError {
            message: Some(c_string(&failure.message)),
            path: failure.path.as_deref().map(c_string),
            retry_at_ms: failure.retry_at_ms,
            answer_status: failure.answer.as_ref().map_or(0, |(status, _)| *status),
            answer_body: failure.answer.as_ref().map(|(_, body)| c_string(body)),
        }
    });
}

fn forget() {
    LAST_ERROR.with(|last| *last.borrow_mut() = LastError::default());
}

/// Run the body of an `ezt_` function: its failure (or panic) becomes a
/// status and a message; success clears the message.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Failure>) -> ezt_status {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        Err(Failure::new(
            ezt_status::EZT_ERR_INTERNAL,
            "internal error: a panic was caught at the C boundary",
        ))
    });
    match outcome {
        Ok(()) => {
            forget();
            ezt_status::EZT_OK
        }
        Err(failure) => {
            remember(&failure);
            failure.status
        }
    }
}

/// Run a function that returns a value rather than a status (accessors):
/// a panic yields `fallback`.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Borrow a C string argument.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(null_argument(name));
    }
    // SAFETY: non-NULL and NUL-terminated per the contract above.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes.to_str().map_err(|e| {
        Failure::new(
            ezt_status::EZT_ERR_INVALID_UTF8,
            format!("argument `{name}` is not UTF-8 (byte {})", e.valid_up_to()),
        )
    })
}

/// The refusal of a required pointer that is NULL.
pub(crate) fn null_argument(name: &str) -> Failure {
    Failure::new(
        ezt_status::EZT_ERR_NULL_ARGUMENT,
        format!("argument `{name}` is NULL"),
    )
}

/// Borrow an optional C string argument (NULL is `None`).
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(
    ptr: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: `ptr` is NULL or a NUL-terminated string readable for the call, as this
        // helper's own # Safety requires of its caller.
        unsafe { str_arg(ptr, name) }.map(Some)
    }
}

/// Parse a JSON string argument.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn json_arg(
    ptr: *const c_char,
    name: &str,
) -> Result<serde_json::Value, Failure> {
    // SAFETY: `ptr` is NULL or a NUL-terminated string readable for the call, as this helper's
    // own # Safety requires of its caller.
    let text = unsafe { str_arg(ptr, name) }?;
    ezthrottle_core::json::parse(text).map_err(|e| {
        Failure::new(
            ezt_status::EZT_ERR_INVALID_JSON,
            format!("argument `{name}` is not JSON: {e}"),
        )
    })
}

/// Borrow an array argument of `len` items (NULL is allowed when `len` is 0).
///
/// # Safety
/// `ptr` points to `len` readable, aligned items that outlive `'a`.
pub(crate) unsafe fn slice_arg<'a, T>(
    ptr: *const T,
    len: usize,
    name: &str,
) -> Result<&'a [T], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::new(
            ezt_status::EZT_ERR_NULL_ARGUMENT,
            format!("argument `{name}` is NULL with a length of {len}"),
        ));
    }
    // SAFETY: non-NULL with `len` readable items per the contract above.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Check an out-pointer argument.
pub(crate) fn out_arg<T>(ptr: *mut T, name: &str) -> Result<*mut T, Failure> {
    if ptr.is_null() {
        Err(Failure::new(
            ezt_status::EZT_ERR_NULL_ARGUMENT,
            format!("out-argument `{name}` is NULL"),
        ))
    } else {
        Ok(ptr)
    }
}

/// Hand a new string to the caller through `out` (free with `ezt_string_free`).
///
/// # Safety
/// `out` was checked with [`out_arg`] and is writable.
pub(crate) unsafe fn give_string(out: *mut *mut c_char, text: String) {
    // SAFETY: `out` is a valid, writable pointer per the contract above.
    unsafe { *out = owned_c_string(text).into_raw() };
}

/// Hand a new object to the caller through `out`.
///
/// # Safety
/// `out` was checked with [`out_arg`] and is writable.
pub(crate) unsafe fn give_box<T>(out: *mut *mut T, value: T) {
    // SAFETY: `out` is a valid, writable pointer per the contract above.
    unsafe { *out = Box::into_raw(Box::new(value)) };
}

/// Borrow a handle argument.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `T` made by this library.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: NULL or a live handle per the contract above.
    unsafe { ptr.as_ref() }.ok_or_else(|| null_handle(name))
}

/// Borrow a handle argument mutably.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `T` made by this library, not used
/// elsewhere during the call.
pub(crate) unsafe fn handle_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: NULL or a live, unaliased handle per the contract above.
    unsafe { ptr.as_mut() }.ok_or_else(|| null_handle(name))
}

fn null_handle(name: &str) -> Failure {
    Failure::new(
        ezt_status::EZT_ERR_NULL_ARGUMENT,
        format!("handle `{name}` is NULL"),
    )
}

/// The message of the last failed call on this thread, or "" after a
/// successful one. Owned by the library: do not free it. It stays valid
/// until the next call on this thread that returns an `ezt_status` (which
/// replaces it), so read it, or copy it, before calling again. Accessors
/// such as `ezt_last_error_path()` leave it valid, so
/// `printf("%s at %s", ezt_last_error_message(), ezt_last_error_path())` is
/// safe.
#[no_mangle]
pub extern "C" fn ezt_last_error_message() -> *const c_char {
    last_error_text(|last| &last.message)
}

/// For `EZT_ERR_VALIDATION`: the path of the refused field
/// (`on_success.fallback[0].url`); "" otherwise. Same lifetime as
/// `ezt_last_error_message()`.
#[no_mangle]
pub extern "C" fn ezt_last_error_path() -> *const c_char {
    last_error_text(|last| &last.path)
}

/// A text of the thread's last failure, "" when it has none. The pointer
/// outlives the borrow: the string stays in the thread-local until replaced.
fn last_error_text(field: fn(&LastError) -> &Option<CString>) -> *const c_char {
    guard_value(c"".as_ptr(), || {
        LAST_ERROR.with(|last| {
            field(&last.borrow())
                .as_ref()
                .map_or(c"".as_ptr(), |t| t.as_ptr())
        })
    })
}

/// For `EZT_ERR_JOB_REJECTED` and `EZT_ERR_GATEWAY`: the status code of the
/// answer (the service's or the gateway's); 0 after any other outcome.
#[no_mangle]
pub extern "C" fn ezt_last_error_answer_status() -> u16 {
    guard_value(0, || LAST_ERROR.with(|last| last.borrow().answer_status))
}

/// For `EZT_ERR_JOB_REJECTED` and `EZT_ERR_GATEWAY`: the body text of the
/// answer (a NUL in it reads as U+FFFD); "" otherwise. Same lifetime as
/// `ezt_last_error_message()`.
#[no_mangle]
pub extern "C" fn ezt_last_error_answer_body() -> *const c_char {
    last_error_text(|last| &last.answer_body)
}

/// For `EZT_ERR_RATE_LIMITED`: when to retry, in milliseconds since the Unix
/// epoch; -1 when unknown or after any other outcome.
#[no_mangle]
pub extern "C" fn ezt_last_error_retry_at_ms() -> i64 {
    guard_value(-1, || {
        LAST_ERROR.with(|last| {
            last.borrow()
                .retry_at_ms
                .and_then(|ms| i64::try_from(ms).ok())
                .unwrap_or(-1)
        })
    })
}

/// Free a string returned by this library. NULL is ignored.
///
/// # Safety
/// `text` is NULL or a string this library returned, not freed before.
#[no_mangle]
pub unsafe extern "C" fn ezt_string_free(text: *mut c_char) {
    if !text.is_null() {
        // SAFETY: a string from `CString::into_raw`, freed once, per the contract.
        drop(unsafe { CString::from_raw(text) });
    }
}

/// The library's version, e.g. "0.1.0". Static; never free it.
#[no_mangle]
pub extern "C" fn ezt_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
