//! The HTTP the core asks its host to perform, and what the host answers.

use std::fmt;

use crate::error::TransportError;

/// Who a request goes to: decides nothing in the host, but lets it log, route
/// or meter the two kinds separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// The step's own URL, run locally (FRUGAL).
    Local,
    /// The EZThrottle account gateway.
    Gateway,
}

/// One HTTP request for the host to send.
///
/// `Debug` redacts the `Authorization` header, so logging a request never
/// leaks the API key.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Local step call or gateway call.
    pub target: Target,
    /// Upper-case method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body text, if any.
    pub body: Option<String>,
    /// Give up after this many milliseconds and report a timeout.
    pub timeout_ms: u64,
}

impl HttpRequest {
    /// The first value of header `name`, ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// What a log or `Debug` output shows of header `name`'s `value`: the value,
/// except an `Authorization` header's (which carries the API key), shown as
/// `<redacted>`. Bindings that hand headers to the host format them with this.
pub fn shown_header_value<'a>(name: &str, value: &'a str) -> &'a str {
    if name.eq_ignore_ascii_case("authorization") {
        "<redacted>"
    } else {
        value
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), shown_header_value(k, v)))
            .collect();
        f.debug_struct("HttpRequest")
            .field("target", &self.target)
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body", &self.body)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// What the host received.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Response headers in order (names in any case).
    pub headers: Vec<(String, String)>,
    /// The body as text (hosts decode bytes lossily as UTF-8).
    pub body: String,
}

impl HttpResponse {
    /// A response with no headers.
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Add a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The first value of header `name`, ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The status a host's transport reported, as a response's: one a
    /// server cannot send (not a whole number in 100..=599) is the
    /// transport's failure. Every binding reads its transport's status here.
    pub fn status_from_transport(status: f64) -> Result<u16, TransportError> {
        let whole = (status.fract() == 0.0).then_some(status as i64);
        match whole.map(crate::validate::check_status_code) {
            Some(Ok(())) => Ok(status as u16),
            Some(Err(why)) => Err(TransportError::other(format!(
                "the transport answered {why}"
            ))),
            // Not formatted: a float's Display would cost the npm package 6 KB.
            None => Err(TransportError::other(
                "the transport answered a status that is not a whole number",
            )),
        }
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::HttpResponse;

    #[test]
    fn a_transport_status_is_one_a_server_can_send() {
        assert_eq!(HttpResponse::status_from_transport(200.0), Ok(200));
        assert_eq!(HttpResponse::status_from_transport(599.0), Ok(599));
        for refused in [
            99.0,
            600.0,
            999.0,
            -1.0,
            200.5,
            f64::NAN,
            f64::INFINITY,
            1e300,
        ] {
            let error = HttpResponse::status_from_transport(refused).unwrap_err();
            assert!(
                error.message.starts_with("the transport answered"),
                "{refused}: {error}"
            );
        }
    }
}
