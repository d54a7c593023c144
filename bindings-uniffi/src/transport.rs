//! HTTP for the core: the app's [`HttpTransport`] (OkHttp, URLSession, …),
//! its [`BlockingHttpTransport`], or the built-in one, and the loop that
//! drives an operation over it.

use std::sync::Arc;

use ezthrottle_transport::now_ms;

use ezthrottle_core::{
    run_async, shown_header_value, Error, Operation, Target, TransportError, TransportErrorKind,
};

/// One header. Its `toString()` / `description` / `repr` show an
/// `Authorization` value, which carries the API key, as `<redacted>`.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

impl std::fmt::Debug for HttpHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpHeader")
            .field("name", &self.name)
            .field("value", &shown_header_value(&self.name, &self.value))
            .finish()
    }
}

impl std::fmt::Display for HttpHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// Whom a request is for: the step's own URL (a FRUGAL local call) or the
/// EZThrottle gateway. Lets an app route or meter them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RequestTarget {
    Local,
    Gateway,
}

/// A request the SDK asks the transport to send: a value, handed over
/// whole in one crossing. Its `toString()` / `description` / `repr` (the
/// core's `Debug`) show the `Authorization` header, which carries the API
/// key, as `<redacted>`.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct HttpRequest {
    /// Whom it is for: a FRUGAL local call or the gateway.
    pub target: RequestTarget,
    pub method: String,
    pub url: String,
    /// In order; `Authorization` carries the API key: never log its value.
    pub headers: Vec<HttpHeader>,
    pub body: Option<String>,
    /// Give up after this long and fail with `TransportFailure.Timeout`.
    pub timeout_ms: i64,
}

impl From<&ezthrottle_core::HttpRequest> for HttpRequest {
    fn from(request: &ezthrottle_core::HttpRequest) -> Self {
        Self {
            target: match request.target {
                Target::Local => RequestTarget::Local,
                Target::Gateway => RequestTarget::Gateway,
            },
            method: request.method.clone(),
            url: request.url.clone(),
            headers: request
                .headers
                .iter()
                .map(|(name, value)| HttpHeader {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            body: request.body.clone(),
            timeout_ms: i64::try_from(request.timeout_ms).unwrap_or(i64::MAX),
        }
    }
}

impl From<HttpRequest> for ezthrottle_core::HttpRequest {
    /// A negative timeout reads as 0.
    fn from(request: HttpRequest) -> Self {
        Self {
            target: match request.target {
                RequestTarget::Local => Target::Local,
                RequestTarget::Gateway => Target::Gateway,
            },
            method: request.method,
            url: request.url,
            headers: request
                .headers
                .into_iter()
                .map(|h| (h.name, h.value))
                .collect(),
            body: request.body,
            timeout_ms: u64::try_from(request.timeout_ms).unwrap_or(0),
        }
    }
}

impl std::fmt::Debug for HttpRequest {
    /// The core's format (and its redaction), so every binding logs a
    /// request alike.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        ezthrottle_core::HttpRequest::from(self.clone()).fmt(f)
    }
}

impl std::fmt::Display for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    /// 100–599 (any other value is the transport's failure).
    pub status: i32,
    pub headers: Vec<HttpHeader>,
    pub body: String,
}

/// Why a transport produced no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum TransportFailure {
    /// The deadline passed.
    #[error("timed out: {detail}")]
    Timeout { detail: String },
    /// No answer came back (DNS, refused, offline, a failed TLS handshake,
    /// a peer that hung up before or during its answer).
    #[error("unreachable: {detail}")]
    Unreachable { detail: String },
    /// Anything else.
    #[error("{detail}")]
    Other { detail: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for TransportFailure {
    /// An exception of another type thrown by the app's transport.
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Other {
            detail: format!("the transport threw: {}", error.reason),
        }
    }
}

/// The app's HTTP stack. Implement it over OkHttp / HttpURLConnection /
/// `java.net.http` on Android and the JVM, URLSession on Apple platforms.
/// In Kotlin, `send` starts on the calling coroutine's thread, as a suspend
/// function called directly does: move blocking I/O to `Dispatchers.IO`.
#[uniffi::export(foreign)]
#[async_trait::async_trait]
pub trait HttpTransport: Send + Sync {
    /// Send `request`; a status of any value is a response, not a failure.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportFailure>;
}

/// The app's HTTP stack, called synchronously on the thread of the call
/// that sends: `OkHttp`'s `execute()`, `java.net.http`'s `send`. No
/// hand-off between threads per request, unlike [`HttpTransport`]'s
/// suspending `send`: for apps that call the SDK from their own background
/// threads (`executeBlocking`), or from `Dispatchers.IO`.
#[uniffi::export(foreign)]
pub trait BlockingHttpTransport: Send + Sync {
    /// Send `request` and wait for the whole response; a status of any
    /// value is a response, not a failure.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportFailure>;
}

fn from_record(response: HttpResponse) -> Result<ezthrottle_core::HttpResponse, TransportError> {
    Ok(ezthrottle_core::HttpResponse {
        status: ezthrottle_core::HttpResponse::status_from_transport(response.status.into())?,
        headers: response
            .headers
            .into_iter()
            .map(|h| (h.name, h.value))
            .collect(),
        body: response.body,
    })
}

impl From<ezthrottle_core::HttpResponse> for HttpResponse {
    fn from(response: ezthrottle_core::HttpResponse) -> Self {
        Self {
            status: response.status.into(),
            headers: response
                .headers
                .into_iter()
                .map(|(name, value)| HttpHeader { name, value })
                .collect(),
            body: response.body,
        }
    }
}

impl From<TransportError> for TransportFailure {
    fn from(error: TransportError) -> Self {
        let detail = error.message;
        match error.kind {
            TransportErrorKind::Timeout => Self::Timeout { detail },
            TransportErrorKind::Unreachable => Self::Unreachable { detail },
            TransportErrorKind::Other => Self::Other { detail },
        }
    }
}

fn to_core_failure(failure: TransportFailure) -> TransportError {
    match failure {
        TransportFailure::Timeout { detail } => TransportError::timeout(detail),
        TransportFailure::Unreachable { detail } => TransportError::unreachable(detail),
        TransportFailure::Other { detail } => TransportError::other(detail),
    }
}

/// The built-in HTTP client on its own (ureq + rustls, Mozilla's roots):
/// what a client made without a transport sends through. Wrap it in a
/// [`BlockingHttpTransport`] to meter, log or add headers to the SDK's
/// requests and hand each on, or send the app's own requests with it.
///
/// Exported by every build, so that one set of generated bindings fits
/// them all; a build without the built-in transport refuses to make one.
#[derive(Debug, uniffi::Object)]
pub struct BuiltinHttpTransport {
    #[cfg(feature = "builtin-transport")]
    transport: ezthrottle_transport::BlockingTransport,
}

#[uniffi::export]
impl BuiltinHttpTransport {
    /// A client with its own pool of kept-alive connections; `Misuse` in a
    /// build without the built-in transport.
    #[uniffi::constructor]
    pub fn new() -> Result<Arc<Self>, crate::EzThrottleError> {
        #[cfg(feature = "builtin-transport")]
        return Ok(Arc::new(Self {
            transport: Default::default(),
        }));
        #[cfg(not(feature = "builtin-transport"))]
        Err(no_builtin_transport())
    }

    /// Send `request` on the caller's thread and wait for the whole
    /// response, within `request.timeoutMs` (a negative one times out at
    /// once). A status of any value is a response, not a failure.
    #[cfg_attr(not(feature = "builtin-transport"), allow(unused_variables))]
    pub fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportFailure> {
        #[cfg(feature = "builtin-transport")]
        return Ok(self.transport.send(&request.into())?.into());
        #[cfg(not(feature = "builtin-transport"))]
        Err(TransportFailure::Other {
            detail: no_builtin_transport().to_string(),
        })
    }
}

#[cfg(not(feature = "builtin-transport"))]
fn no_builtin_transport() -> crate::EzThrottleError {
    crate::EzThrottleError::Misuse {
        detail: "this build has no built-in transport: pass an HttpTransport".into(),
    }
}

/// Where a client's requests go.
#[derive(Clone)]
pub(crate) enum Transport {
    /// The app's own.
    App(Arc<dyn HttpTransport>),
    /// The app's own, called on the sending call's thread.
    AppBlocking(Arc<dyn BlockingHttpTransport>),
    /// ezthrottle-transport's blocking one (ureq + rustls, Mozilla's roots):
    /// async calls run on its worker threads, blocking calls on the caller's.
    #[cfg(feature = "builtin-transport")]
    Builtin(ezthrottle_transport::BlockingTransport),
    /// None at all: a stand-alone webhook receiver's, whose deliveries send
    /// nothing.
    Nothing,
}

impl Transport {
    /// The app's transport, or the built-in one when it hands in none.
    pub(crate) fn new(app: Option<Arc<dyn HttpTransport>>) -> Result<Self, crate::EzThrottleError> {
        match app {
            Some(app) => Ok(Self::App(app)),
            #[cfg(feature = "builtin-transport")]
            None => Ok(Self::Builtin(Default::default())),
            #[cfg(not(feature = "builtin-transport"))]
            None => Err(no_builtin_transport()),
        }
    }

    /// Run an operation to its end without blocking the caller's executor.
    pub(crate) async fn run<O>(&self, mut op: O) -> Result<O::Output, Error>
    where
        O: Operation + Send + 'static,
        O::Output: Send + 'static,
    {
        match self {
            Self::App(app) => run_on_app(app, &mut op).await,
            // On the thread that polls this call: the app chose to block.
            Self::AppBlocking(app) => run_on_blocking_app(app, &mut op),
            #[cfg(feature = "builtin-transport")]
            Self::Builtin(builtin) => builtin.run_in_background(op).await,
            Self::Nothing => run_on_nothing(&mut op),
        }
    }

    /// Run an operation to its end on the caller's thread.
    pub(crate) fn run_blocking<O: Operation>(&self, mut op: O) -> Result<O::Output, Error> {
        match self {
            Self::App(app) => futures_executor::block_on(run_on_app(app, &mut op)),
            Self::AppBlocking(app) => run_on_blocking_app(app, &mut op),
            #[cfg(feature = "builtin-transport")]
            Self::Builtin(builtin) => builtin.run(&mut op),
            Self::Nothing => run_on_nothing(&mut op),
        }
    }
}

async fn run_on_app<O: Operation>(
    app: &Arc<dyn HttpTransport>,
    op: &mut O,
) -> Result<O::Output, Error> {
    let send = |request| async move {
        app.send(HttpRequest::from(&request))
            .await
            .map_err(to_core_failure)
            .and_then(from_record)
    };
    run_async(op, send, now_ms).await
}

fn run_on_blocking_app<O: Operation>(
    app: &Arc<dyn BlockingHttpTransport>,
    op: &mut O,
) -> Result<O::Output, Error> {
    let send = |request: &ezthrottle_core::HttpRequest| {
        app.send(HttpRequest::from(request))
            .map_err(to_core_failure)
            .and_then(from_record)
    };
    ezthrottle_core::blocking::run(op, send, now_ms)
}

fn run_on_nothing<O: Operation>(op: &mut O) -> Result<O::Output, Error> {
    let refuse = |_: &_| {
        Err(TransportError::other(
            "a stand-alone receiver sends nothing",
        ))
    };
    ezthrottle_core::blocking::run(op, refuse, now_ms)
}
