//! # libezthrottle: the EZThrottle SDK for C
//!
//! Every decision is ezthrottle-core's; this crate only converts types, calls
//! the host's HTTP transport and maps errors to status codes.
//!
//! Conventions (see `include/ezthrottle.h`):
//! - every symbol is prefixed `ezt_`; handles are opaque pointers;
//! - functions return an `ezt_status`; on failure `ezt_last_error_message()`
//!   (thread-local) says why, `ezt_last_error_path()` names the refused field;
//! - strings are UTF-8 and NUL-terminated; NULL or invalid UTF-8 is an error;
//! - whatever the library returns is freed with its `_free` function
//!   (`ezt_string_free`, `ezt_step_free`, …);
//! - no panic crosses the boundary: it becomes `EZT_ERR_INTERNAL`;
//! - thread safety: a client may be shared by threads if its transport is
//!   thread-safe; steps, results and events are used by one thread at a time.
#![allow(non_camel_case_types)]
// The handles are opaque to C; the request one carries the API key, so none
// of them gets a Debug that could print it.
#![allow(missing_debug_implementations)]

mod client;
mod defaults;
mod ffi;
mod receiver;
mod step;
mod transport;
mod view;
mod webhook;

pub use client::*;
pub use defaults::*;
pub use ffi::*;
pub use receiver::*;
pub use step::*;
pub use transport::*;
pub use webhook::*;
