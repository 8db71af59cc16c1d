//! Timestamps as Mastodon stores them (UTC, without time zone) and renders them.

use chrono::{NaiveDateTime, Utc};

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// ISO 8601 with milliseconds and `Z`, as Mastodon's JSON has it.
pub fn iso(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Midnight of the day, as Mastodon renders `Account#created_at`.
pub fn iso_midnight(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%dT00:00:00.000Z").to_string()
}

pub fn date(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%d").to_string()
}
