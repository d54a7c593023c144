//! The SDK's defaults as C constants.
//!
//! cbindgen can only write literals into the header, so each value is written
//! here once more and tied to the core's constant at compile time: when the
//! core changes one, this crate stops building until it follows.

/// The timeout of each gateway call, in milliseconds, when
/// `ezt_client_options.timeout_ms` is 0.
pub const EZT_DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// A FRUGAL step's local request timeout, in milliseconds, unless set with
/// `ezt_step_options.local_timeout_ms`.
pub const EZT_DEFAULT_LOCAL_TIMEOUT_MS: u64 = 30_000;
/// The default tolerance of a signature's timestamp, in seconds.
pub const EZT_DEFAULT_TOLERANCE_SECS: u64 = 300;
/// The shortest webhook secret the service accepts, in characters.
pub const EZT_MIN_SECRET_LEN: usize = 16;

const _: () = assert!(EZT_DEFAULT_TIMEOUT_MS == ezthrottle_core::DEFAULT_TIMEOUT_MS);
const _: () = assert!(EZT_DEFAULT_LOCAL_TIMEOUT_MS == ezthrottle_core::DEFAULT_LOCAL_TIMEOUT_MS);
const _: () =
    assert!(EZT_DEFAULT_TOLERANCE_SECS == ezthrottle_core::webhook::DEFAULT_TOLERANCE_SECS);
const _: () = assert!(EZT_MIN_SECRET_LEN == ezthrottle_core::MIN_SECRET_LEN);
