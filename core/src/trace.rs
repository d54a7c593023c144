//! The execution trace (reference 1.3): what ran, in order, with what result
//! and what it means, readable by people and language models alike.

use std::fmt;

use serde::Serialize;

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceStatus {
    /// A local request answered 2xx.
    Success,
    /// A local request failed, or a submission was refused.
    Failed,
    /// The job was handed to EZThrottle, which runs it from here on.
    Forwarded,
}

impl TraceStatus {
    fn label(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Failed => "FAILED",
            Self::Forwarded => "FORWARDED",
        }
    }
}

/// One attempt of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceEntry {
    /// The step's description, else `METHOD url`.
    pub step: String,
    /// How it ended.
    pub status: TraceStatus,
    /// The local status code, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// The response body, or the service's answer to a submission.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// The step's response description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_meaning: Option<String>,
    /// What went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The history of one execution.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Trace {
    entries: Vec<TraceEntry>,
}

/// Responses longer than this are cut in the text form.
const SHOWN_RESPONSE_CHARS: usize = 200;

impl Trace {
    pub(crate) fn extend(&mut self, other: Trace) {
        self.entries.extend(other.entries);
    }

    pub(crate) fn push(&mut self, entry: TraceEntry) {
        self.entries.push(entry);
    }

    /// The attempts, in order.
    pub fn entries(&self) -> &[TraceEntry] {
        &self.entries
    }

    /// Whether nothing ran.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The readable form:
///
/// ```text
/// 1. [SUCCESS] Fetch customer data
///    Response: {"id": 123}
///    Meaning: Customer record
/// 2. [FAILED] POST https://api.example.com/refund
///    Error: Request failed: 402
/// ```
impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.entries.is_empty() {
            return f.write_str("No execution history.");
        }
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}. [{}] {}", i + 1, entry.status.label(), entry.step)?;
            if let Some(response) = &entry.response {
                let mut shown: String = response.chars().take(SHOWN_RESPONSE_CHARS).collect();
                if shown.len() < response.len() {
                    shown.push_str("...");
                }
                write!(f, "\n   Response: {shown}")?;
            }
            if let Some(meaning) = &entry.response_meaning {
                write!(f, "\n   Meaning: {meaning}")?;
            }
            if let Some(error) = &entry.error {
                write!(f, "\n   Error: {error}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_matches_the_reference_layout() {
        let mut trace = Trace::default();
        assert_eq!(trace.to_string(), "No execution history.");
        trace.push(TraceEntry {
            step: "Fetch customer".into(),
            status: TraceStatus::Success,
            status_code: Some(200),
            response: Some("x".repeat(250)),
            response_meaning: Some("Customer record".into()),
            error: None,
        });
        trace.push(TraceEntry {
            step: "POST https://a.example".into(),
            status: TraceStatus::Failed,
            status_code: Some(402),
            response: None,
            response_meaning: None,
            error: Some("Request failed: 402".into()),
        });
        let text = trace.to_string();
        let expected = format!(
            "1. [SUCCESS] Fetch customer\n   Response: {}...\n   Meaning: Customer record\n\
             2. [FAILED] POST https://a.example\n   Error: Request failed: 402",
            "x".repeat(200)
        );
        assert_eq!(text, expected);
    }
}
