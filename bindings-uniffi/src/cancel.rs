//! An explicit cancellation handle, for hosts whose own cancellation does
//! not reach Rust: Swift (uniffi's glue ignores `Task.cancel()`; the
//! package's `withCancellation` wires it) and Python. Kotlin's coroutine
//! cancellation already drops the call.

use std::future::Future;
use std::pin::pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{Poll, Waker};

use crate::error::{EzThrottleError, Result};

/// Cancels every call it is handed to, in flight or later: the call
/// throws `Cancelled`, nothing more is sent, and the built-in transport
/// shuts the socket of the request in flight.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancellationToken {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    cancelled: bool,
    waiting: Vec<Waker>,
}

impl CancellationToken {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `call` until it ends or this token is cancelled, whichever is
    /// first; a cancelled call is dropped, which is what stops it.
    pub(crate) async fn guard<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        let mut call = pin!(call);
        std::future::poll_fn(|cx| {
            {
                let mut state = self.lock();
                if state.cancelled {
                    return Poll::Ready(Err(EzThrottleError::Cancelled));
                }
                if !state.waiting.iter().any(|w| w.will_wake(cx.waker())) {
                    state.waiting.push(cx.waker().clone());
                }
            }
            call.as_mut().poll(cx)
        })
        .await
    }
}

#[uniffi::export]
impl CancellationToken {
    #[uniffi::constructor]
    pub fn new() -> std::sync::Arc<Self> {
        Default::default()
    }

    /// Cancel the calls this token was handed to (idempotent).
    pub fn cancel(&self) {
        let waiting = {
            let mut state = self.lock();
            state.cancelled = true;
            std::mem::take(&mut state.waiting)
        };
        waiting.into_iter().for_each(Waker::wake);
    }

    pub fn is_cancelled(&self) -> bool {
        self.lock().cancelled
    }
}
