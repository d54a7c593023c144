//! JSON text to and from a [`Value`]: what every SDK entry point reads (the
//! caller's options, the service's answers, webhook deliveries) and what the
//! core writes.
//!
//! The reader accepts and refuses what serde_json's does, and reads the same
//! values (the tests check it against serde_json); the writer writes what
//! serde_json writes. Both are written here because serde_json reads floats
//! exactly only through tables and a second copy of its number code
//! (`float_roundtrip`), and its reader and writer were together an eighth of
//! the npm package. Here a float is read exactly by comparing with a small
//! big integer, which the common cases never reach.

use std::fmt;

use serde_json::Value;

mod float;
mod read;
mod write;

pub use read::MAX_DEPTH;
pub use write::{object_to_string, to_string};
pub(crate) use write::{write_object, write_string, write_u64};

/// Why text is not JSON, and where (1-based, columns in bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    reason: &'static str,
    line: usize,
    column: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.reason, self.line, self.column
        )
    }
}

impl std::error::Error for JsonError {}

/// Parse `text` as one JSON value (whitespace around it allowed).
///
/// ```
/// let value = ezthrottle_core::json::parse(r#" {"a": [1, -2, 0.1, "\u00e9"]} "#)?;
/// assert_eq!(value, serde_json::json!({"a": [1, -2, 0.1, "é"]}));
/// assert!(ezthrottle_core::json::parse("[1,]").is_err());
/// # Ok::<(), ezthrottle_core::json::JsonError>(())
/// ```
pub fn parse(text: &str) -> Result<Value, JsonError> {
    read::parse(text, false)
}

/// [`parse`], refusing an object that gives a key twice (where serde_json
/// keeps the last value): for jobs read strictly, as a derived reader
/// refuses a field given twice.
///
/// ```
/// use ezthrottle_core::json::{parse, parse_refusing_repeated_keys};
/// assert_eq!(parse(r#"{"a":1,"a":2}"#)?, serde_json::json!({"a": 2}));
/// let refused = parse_refusing_repeated_keys(r#"{"a":1,"a":2}"#).unwrap_err();
/// assert_eq!(refused.to_string(), "repeated key at line 1 column 8");
/// # Ok::<(), ezthrottle_core::json::JsonError>(())
/// ```
pub fn parse_refusing_repeated_keys(text: &str) -> Result<Value, JsonError> {
    read::parse(text, true)
}
