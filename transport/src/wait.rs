//! Waiting for a job's result on the caller's thread, for apps without an
//! async runtime (and the C library's `ezt_wait_for_result`).

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use ezthrottle_core::webhook::WebhookEvent;
use ezthrottle_core::{Client, Error, ResultWait};

/// Block until `job_id`'s result reaches one of `client`'s webhook receivers
/// (at once if it already has), for at most `timeout`; a
/// [`TransportError`](ezthrottle_core::TransportError) of kind timeout when
/// it runs out. Deliveries are handed to a receiver by the app's own HTTP
/// server, so wait on a thread other than the one serving them.
///
/// ```no_run
/// # let client = ezthrottle_core::Client::new(Default::default())?;
/// let event = ezthrottle_transport::wait_for_result(&client, "job-1", std::time::Duration::from_secs(30))?;
/// println!("{}", event.to_json());
/// # Ok::<(), ezthrottle_core::Error>(())
/// ```
pub fn wait_for_result(
    client: &Client,
    job_id: &str,
    timeout: Duration,
) -> Result<WebhookEvent, Error> {
    block_on_until(client.wait_for_result(job_id), timeout).ok_or_else(|| {
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        ResultWait::timed_out(job_id, timeout_ms).into()
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
