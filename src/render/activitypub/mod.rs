//! ActivityPub documents: actors and WebFinger, and the vocabulary both directions share.

pub mod actors;

use serde_json::Value;

pub const CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
/// The audience of public posts.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// The id of an object given by its id or embedded.
pub fn id_of(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}
