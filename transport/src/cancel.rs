//! Cancelling a background operation: nothing more is sent, and the request
//! in flight has its socket shut down, so its thread is free and the server
//! sees the connection close at once instead of at the request's deadline.
//!
//! ureq shares its connections through a pool, so which socket a request
//! uses is only known while it does I/O: each connection is wrapped, and
//! every read or write names its socket to the operation running on that
//! thread. This uses ureq's `unversioned` transport API, whose shape the
//! lock file pins.

use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, DefaultConnector, NextTimeout, ShutdownHandle, Transport,
};
use ureq::Error;

/// The handles by which one connection's socket is shut down (the TCP
/// socket; a TLS layer over it has none of its own).
type Sockets = Arc<Mutex<Vec<Weak<dyn ShutdownHandle>>>>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while these locks are held.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn shut_down(sockets: &Sockets) {
    for handle in lock(sockets).iter().filter_map(Weak::upgrade) {
        handle.shutdown();
    }
}

/// One background operation's cancellation.
#[derive(Default)]
pub(crate) struct Cancellation {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    cancelled: bool,
    /// The connection the operation last did I/O on.
    in_use: Option<Sockets>,
}

impl Cancellation {
    pub(crate) fn cancel(&self) {
        let mut state = lock(&self.state);
        state.cancelled = true;
        if let Some(sockets) = state.in_use.take() {
            shut_down(&sockets);
        }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        lock(&self.state).cancelled
    }

    /// The operation is about to do I/O on `sockets`: remember them, or, if
    /// it was cancelled meanwhile, shut them down so the I/O fails at once.
    fn using(&self, sockets: &Sockets) {
        let mut state = lock(&self.state);
        if state.cancelled {
            shut_down(sockets);
        } else if !state
            .in_use
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(s, sockets))
        {
            state.in_use = Some(sockets.clone());
        }
    }

    /// Run `work` with this as the current thread's operation.
    pub(crate) fn scope<T>(self: &Arc<Self>, work: impl FnOnce() -> T) -> T {
        CURRENT.with(|current| *current.borrow_mut() = Some(self.clone()));
        let result = work();
        CURRENT.with(|current| current.borrow_mut().take());
        result
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Cancellation>>> = const { RefCell::new(None) };
}

/// ureq's default connector chain (TCP, TLS), each connection wrapped so its
/// I/O reports to the current operation.
#[derive(Debug, Default)]
pub(crate) struct CancellableConnector {
    inner: DefaultConnector,
}

impl Connector<()> for CancellableConnector {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        chained: Option<()>,
    ) -> Result<Option<Self::Out>, Error> {
        let sockets = Sockets::default();
        let recorded = sockets.clone();
        let register = details.register_shutdown.clone();
        let details = ConnectionDetails {
            uri: details.uri,
            addrs: details.addrs.clone(),
            config: details.config,
            request_level: details.request_level,
            resolver: details.resolver,
            now: details.now,
            timeout: details.timeout,
            current_time: details.current_time.clone(),
            run_connector: details.run_connector.clone(),
            register_shutdown: Arc::new(move |handle: Weak<dyn ShutdownHandle>| {
                lock(&recorded).push(handle.clone());
                register(handle)
            }),
        };
        let connection = self.inner.connect(&details, chained)?;
        Ok(connection.map(|inner| Box::new(Tracked { inner, sockets }) as Box<dyn Transport>))
    }
}

/// A connection that names its socket to the current operation before
/// each read and write.
struct Tracked {
    inner: Box<dyn Transport>,
    sockets: Sockets,
}

impl fmt::Debug for Tracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl Tracked {
    fn report(&self) {
        CURRENT.with(|current| {
            if let Some(operation) = current.borrow().as_ref() {
                operation.using(&self.sockets);
            }
        });
    }
}

impl Transport for Tracked {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        self.report();
        self.inner.transmit_output(amount, timeout)
    }

    fn maybe_await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        self.report();
        self.inner.maybe_await_input(timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        self.report();
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}
