//! The official Node SDK's spelling of the SDK's option objects: camelCase
//! keys (`hasQuorumVote`, `fallbackJob`, `maxRetries`) where the wire format
//! and the builder's calls write snake_case. Which objects hold options (and
//! are renamed) and which hold the caller's own data (headers, metadata:
//! never renamed) is the model's knowledge, so it is written here, once, for
//! every binding whose language spells keys that way (the npm package).
//! Keys already in snake_case pass unchanged, so either spelling is read.

use serde_json::{Map, Value};

/// `hasQuorumVote` as `has_quorum_vote`.
pub fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// An options object with its own keys in snake_case (not its values'):
/// anything but an object is returned as it is.
pub fn option_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(snake_keys(map)),
        other => other,
    }
}

/// An options object's own keys in snake_case (not its values').
pub fn snake_keys(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .map(|(key, v)| (snake_case(&key), v))
        .collect()
}

/// A builder call's argument (`retry_policy`'s `{ maxRetries }`, each of
/// `webhooks`' `{ hasQuorumVote }`) in the core's spelling.
pub fn call_argument(name: &str, value: Value) -> Value {
    match (name, value) {
        ("retry_policy", value) => option_keys(value),
        ("webhooks", Value::Array(items)) => {
            Value::Array(items.into_iter().map(option_keys).collect())
        }
        (_, value) => value,
    }
}

/// `[name, argument]` builder calls (what [`crate::Step::from_calls`]
/// reads) in the core's spelling, at every depth: nested steps are their
/// own call lists (`["on_success", calls]`, `["fallback", { step,
/// triggerOnError }]`, `["on_failure", { step, timeoutMs }]`).
pub fn calls(calls: Value) -> Value {
    let Value::Array(list) = calls else {
        return calls;
    };
    let renamed = list.into_iter().map(|call| match call {
        Value::Array(mut pair) if pair.len() == 2 => {
            let argument = pair.pop().unwrap_or_default();
            let name = pair.pop().unwrap_or_default();
            let argument = match name.as_str().unwrap_or_default() {
                "on_success" => self::calls(argument),
                "fallback" | "on_failure" => linked_calls(option_keys(argument)),
                other => call_argument(other, argument),
            };
            Value::Array(vec![name, argument])
        }
        other => other,
    });
    Value::Array(renamed.collect())
}

/// A `{ step, … }` link whose `step` is itself a call list.
fn linked_calls(link: Value) -> Value {
    match link {
        Value::Object(mut map) => {
            if let Some(step) = map.get_mut("step") {
                *step = calls(std::mem::take(step));
            }
            Value::Object(map)
        }
        other => other,
    }
}

/// A job as the official Node SDK nests it (`fallbackJob`, `idempotentKey`,
/// `hasQuorumVote` at any depth) in the wire format's spelling (what
/// [`crate::Step::from_job_value`] reads).
pub fn job(value: Value) -> Value {
    let Value::Object(map) = value else {
        return value;
    };
    let renamed = map.into_iter().map(|(key, value)| {
        let key = snake_case(&key);
        let value = match key.as_str() {
            "fallback_job" | "on_success" | "on_failure" => job(value),
            "retry_policy" | "trigger" => option_keys(value),
            "webhooks" => call_argument("webhooks", value),
            _ => value,
        };
        (key, value)
    });
    Value::Object(renamed.collect())
}

/// A forwarded request's fields (what [`crate::ForwardToEZThrottle::from_value`]
/// reads) in the core's spelling.
pub fn forward(value: Value) -> Value {
    match option_keys(value) {
        Value::Object(mut map) => {
            if let Some(hooks) = map.get_mut("webhooks") {
                *hooks = call_argument("webhooks", std::mem::take(hooks));
            }
            Value::Object(map)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_node_sdk_job_becomes_the_wire_format() {
        let node = json!({
            "url": "https://a.example",
            "headers": {"X-Keep-Case": "1"},
            "metadata": {"orderId": 7},
            "fallbackJob": {"url": "https://b.example", "idempotentKey": "fb",
                "trigger": {"type": "on_error", "codes": [500]}},
            "onSuccess": {"url": "https://c.example", "webhooks": [{"url": "https://w.example", "hasQuorumVote": true}]},
        });
        let wire = super::job(node);
        assert_eq!(wire["headers"], json!({"X-Keep-Case": "1"}));
        assert_eq!(wire["metadata"], json!({"orderId": 7}));
        assert_eq!(wire["fallback_job"]["idempotent_key"], "fb");
        assert_eq!(wire["on_success"]["webhooks"][0]["has_quorum_vote"], true);
    }

    #[test]
    fn calls_are_renamed_at_every_depth_but_caller_data_is_not() {
        let calls = json!([
            ["headers", {"X-Keep-Case": "1"}],
            ["retry_policy", {"maxRetries": 2}],
            ["on_success", [["metadata", {"orderId": 7}], ["webhooks", [{"url": "u", "hasQuorumVote": false}]]]],
            ["fallback", {"step": [["retry_policy", {"maxReroutes": 1}]], "triggerOnError": [500]}],
        ]);
        let renamed = super::calls(calls);
        assert_eq!(renamed[0][1], json!({"X-Keep-Case": "1"}));
        assert_eq!(renamed[1][1], json!({"max_retries": 2}));
        assert_eq!(renamed[2][1][0][1], json!({"orderId": 7}));
        assert_eq!(renamed[2][1][1][1][0]["has_quorum_vote"], false);
        assert_eq!(renamed[3][1]["trigger_on_error"], json!([500]));
        assert_eq!(renamed[3][1]["step"][0][1], json!({"max_reroutes": 1}));
    }

    #[test]
    fn a_forward_renames_its_webhooks_but_not_its_metadata() {
        let forward = super::forward(json!({"idempotentKey": "k", "metadata": {"orderId": 7},
            "webhooks": [{"url": "u", "hasQuorumVote": true}]}));
        assert_eq!(forward["idempotent_key"], "k");
        assert_eq!(forward["metadata"], json!({"orderId": 7}));
        assert_eq!(forward["webhooks"][0]["has_quorum_vote"], true);
    }

    #[test]
    fn camel_case_becomes_snake_case() {
        assert_eq!(super::snake_case("hasQuorumVote"), "has_quorum_vote");
        assert_eq!(super::snake_case("max_retries"), "max_retries");
    }
}
