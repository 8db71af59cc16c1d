//! Site settings: Mastodon's `settings` table, one row per key with its value as Ruby YAML
//! (`--- open\n`), as rails-settings-cached writes it. A key without a row has Mastodon's
//! default (`config/settings.yml`).

use std::collections::HashMap;

use serde_json::Value;
use sqlx::{PgExecutor, PgPool};

use crate::core::error::Result;
use crate::core::time;

/// Who may sign up (`registrations_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationsMode {
    Open,
    /// Anyone may sign up; staff let each sign-up in.
    Approved,
    /// Only with an invite (`none`).
    Closed,
}

impl RegistrationsMode {
    pub fn parse(name: &str) -> Option<RegistrationsMode> {
        match name {
            "open" => Some(RegistrationsMode::Open),
            "approved" => Some(RegistrationsMode::Approved),
            "none" => Some(RegistrationsMode::Closed),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationsMode::Open => "open",
            RegistrationsMode::Approved => "approved",
            RegistrationsMode::Closed => "none",
        }
    }
}

/// Mastodon's defaults for the keys ferrodon reads (text, flags and choices).
const DEFAULTS: &[(&str, Default)] = &[
    ("site_title", Default::Text("Mastodon")),
    ("site_short_description", Default::Text("")),
    ("site_description", Default::Text("")),
    ("site_extended_description", Default::Text("")),
    ("site_terms", Default::Text("")),
    ("site_contact_email", Default::Text("")),
    ("site_contact_username", Default::Text("")),
    ("closed_registrations_message", Default::Text("")),
    ("thumbnail_description", Default::Text("")),
    ("registrations_mode", Default::Text("none")),
    ("require_invite_text", Default::Flag(false)),
    ("profile_directory", Default::Flag(true)),
    ("trends", Default::Flag(true)),
    ("trendable_by_default", Default::Flag(false)),
    ("activity_api_enabled", Default::Flag(true)),
    ("peers_api_enabled", Default::Flag(true)),
    ("preview_sensitive_media", Default::Flag(false)),
    ("noindex", Default::Flag(false)),
    ("captcha_enabled", Default::Flag(false)),
    ("local_live_feed_access", Default::Text("public")),
    ("remote_live_feed_access", Default::Text("public")),
    ("local_topic_feed_access", Default::Text("public")),
    ("remote_topic_feed_access", Default::Text("public")),
    ("show_domain_blocks", Default::Text("disabled")),
    ("show_domain_blocks_rationale", Default::Text("disabled")),
    ("status_page_url", Default::Text("")),
    ("landing_page", Default::Text("trends")),
    ("theme", Default::Text("default")),
];

#[derive(Clone, Copy)]
enum Default {
    Text(&'static str),
    Flag(bool),
}

/// Every stored setting, read at once.
#[derive(Debug, Clone, Default)]
pub struct SiteSettings {
    stored: HashMap<String, Value>,
}

impl SiteSettings {
    fn value(&self, var: &str) -> Value {
        if let Some(value) = self.stored.get(var) {
            return value.clone();
        }
        match DEFAULTS.iter().find(|(name, _)| *name == var).map(|(_, d)| *d) {
            Some(Default::Text(text)) => Value::from(text),
            Some(Default::Flag(flag)) => Value::from(flag),
            None => Value::Null,
        }
    }

    /// A text setting; a stored nil or a number reads as its text (nil as empty).
    pub fn text(&self, var: &str) -> String {
        match self.value(var) {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }

    /// A flag, as Rails casts it: `true`, `"1"` and `"true"` are set.
    pub fn flag(&self, var: &str) -> bool {
        match self.value(var) {
            Value::Bool(b) => b,
            Value::String(s) => s == "1" || s == "true",
            Value::Number(n) => n.as_i64() == Some(1),
            _ => false,
        }
    }

    /// A number setting (`min_age`, retention periods); none when unset or blank.
    pub fn integer(&self, var: &str) -> Option<i64> {
        match self.value(var) {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// `registrations_mode`; an unknown stored value counts as closed.
    pub fn registrations_mode(&self) -> RegistrationsMode {
        RegistrationsMode::parse(&self.text("registrations_mode")).unwrap_or(RegistrationsMode::Closed)
    }
}

pub async fn load(db: &PgPool) -> Result<SiteSettings> {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as("SELECT var, value FROM settings").fetch_all(db).await?;
    let stored = rows.into_iter().map(|(var, value)| (var, value.as_deref().map_or(Value::Null, decode))).collect();
    Ok(SiteSettings { stored })
}

/// Writes `var` (an insert or an update of its row), as Mastodon's settings form does.
pub async fn store<'e>(executor: impl PgExecutor<'e>, var: &str, value: &Value) -> Result<()> {
    sqlx::query(
        "INSERT INTO settings (var, value, created_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (var) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
    )
    .bind(var)
    .bind(encode(value))
    .bind(time::now())
    .execute(executor)
    .await?;
    Ok(())
}

/// A stored value read as JSON: a YAML scalar, list or map (a blank value is nil, as Rails
/// reads it; text that is not YAML is taken as it is).
pub fn decode(yaml: &str) -> Value {
    use yaml_rust2::{Yaml, YamlLoader};
    fn json(yaml: &Yaml) -> Value {
        match yaml {
            Yaml::String(s) | Yaml::Real(s) => Value::from(s.as_str()),
            Yaml::Integer(i) => Value::from(*i),
            Yaml::Boolean(b) => Value::from(*b),
            Yaml::Array(items) => Value::Array(items.iter().map(json).collect()),
            Yaml::Hash(map) => {
                Value::Object(map.iter().filter_map(|(k, v)| Some((k.as_str()?.to_string(), json(v)))).collect())
            }
            Yaml::Null | Yaml::BadValue | Yaml::Alias(_) => Value::Null,
        }
    }
    if yaml.trim().is_empty() {
        return Value::Null;
    }
    match YamlLoader::load_from_str(yaml) {
        Ok(docs) => docs.first().map_or(Value::Null, json),
        Err(_) => Value::from(yaml),
    }
}

/// A value as Ruby's YAML reads it back: a plain scalar where that is unambiguous, otherwise
/// JSON, which is YAML's flow style (Psych reads both).
pub fn encode(value: &Value) -> String {
    match value {
        Value::Null => "--- \n".to_string(),
        Value::String(s) if plain_text(s) => format!("--- {s}\n"),
        other => format!("--- {other}\n"),
    }
}

/// Text YAML reads back as the same string when written bare.
fn plain_text(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || " _-.@/".contains(c))
        && !s.starts_with(['-', ' ', '.', '@'])
        && !s.ends_with(' ')
        && decode(&format!("--- {s}\n")) == *s
}

/// When `var` was last written (none if never).
pub async fn updated_at(db: &PgPool, var: &str) -> Result<Option<chrono::NaiveDateTime>> {
    Ok(sqlx::query_scalar("SELECT updated_at FROM settings WHERE var = $1").bind(var).fetch_optional(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_rails_writes() {
        assert_eq!(decode("--- open\n"), Value::from("open"));
        assert_eq!(decode("--- true\n"), Value::from(true));
        assert_eq!(decode("--- 7\n"), Value::from(7));
        assert_eq!(decode("--- ''\n"), Value::from(""));
        assert_eq!(decode("---\n"), Value::Null);
        assert_eq!(decode(""), Value::Null);
        assert_eq!(decode("---\n- alice\n- bob\n"), serde_json::json!(["alice", "bob"]));
        assert_eq!(decode("--- |-\n  Line one\n  Line two\n"), Value::from("Line one\nLine two"));
        assert_eq!(decode("--- 'yes: no'\n"), Value::from("yes: no"));
    }

    #[test]
    fn writes_what_reads_back() {
        for value in [
            Value::from("open"),
            Value::from("true"),
            Value::from("7"),
            Value::from(""),
            Value::from("A title: with a colon\nand a line"),
            Value::from("  padded "),
            Value::from(true),
            Value::from(30),
            serde_json::json!(["alice", "bob"]),
            Value::Null,
        ] {
            assert_eq!(decode(&encode(&value)), value, "{}", encode(&value));
        }
        assert_eq!(encode(&Value::from("open")), "--- open\n");
        assert_eq!(encode(&Value::from(true)), "--- true\n");
    }
}
