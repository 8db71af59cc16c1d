//! The admin dashboard's API (`view_dashboard`): `POST /api/v1/admin/measures`, `dimensions`
//! and `retention`, computed from the rows (and, for active users, the daily logins in Redis).

use actix_web::HttpResponse;
use chrono::NaiveDate;
use serde_json::{Map, Value, json};

use super::admin::{State, staff};
use super::auth::Auth;
use super::params::Params;
use crate::core::error::{Error, Result};
use crate::model::metrics;
use crate::model::roles::permission;
use crate::render::entities;

/// Mastodon looks at most two years back.
const MAX_DAYS: i64 = 731;

fn text<'a>(params: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// `start_at` and `end_at` as whole days (ISO dates or times); 400 when missing or unreadable.
fn range(params: &Map<String, Value>) -> Result<(NaiveDate, NaiveDate)> {
    let day = |name: &str| -> Result<NaiveDate> {
        let value = text(params, name).ok_or_else(|| Error::missing_param(name))?;
        value
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| Error::bad_request(format!("invalid date in {name}: {value}")))
    };
    let (start, end) = (day("start_at")?, day("end_at")?);
    Ok((start.max(end - chrono::Duration::days(MAX_DAYS)), end))
}

/// `keys[]`: required, unknown ones dropped later.
fn keys(params: &Map<String, Value>) -> Result<Vec<String>> {
    let keys: Vec<String> = match params.get("keys") {
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    if keys.is_empty() { Err(Error::missing_param("keys")) } else { Ok(keys) }
}

/// The parameter hash of a key (`tag_uses[id]`, `instance_accounts[domain]`): 400 when absent.
fn key_param(params: &Map<String, Value>, key: &str, field: &str) -> Result<String> {
    params
        .get(key)
        .and_then(|h| h.get(field))
        .and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_i64().map(|n| n.to_string())))
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::missing_param(&format!("{key}[{field}]")))
}

/// `POST /api/v1/admin/measures`.
pub async fn measures(state: State, auth: Auth, Params(p): Params<Map<String, Value>>) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read", permission::VIEW_DASHBOARD).await?;
    let (start, end) = range(&p)?;
    let days: Vec<NaiveDate> = start.iter_days().take_while(|d| *d <= end).collect();
    let mut rendered = Vec::new();
    for key in keys(&p)? {
        if key == "active_users" {
            let (each, total) = crate::effects::activity::logins(&state, &days).await?;
            let span = days.len() as i64;
            let before: Vec<NaiveDate> = (1..=span).rev().map(|back| start - chrono::Duration::days(back)).collect();
            let (_, previous_total) = crate::effects::activity::logins(&state, &before).await?;
            let series: Vec<(NaiveDate, i64)> = days.iter().copied().zip(each).collect();
            rendered.push(entities::admin_measure(&key, None, total, Some(previous_total), &series));
            continue;
        }
        let Some(source) = metrics::source(&key) else { continue };
        let instance = key.starts_with("instance_");
        let param = if instance {
            key_param(&p, &key, "domain")?
        } else if key.starts_with("tag_") {
            key_param(&p, &key, "id")?
        } else {
            String::new()
        };
        let subdomains = p
            .get(&key)
            .and_then(|h| h.get("include_subdomains"))
            .and_then(|v| super::params::opt_bool(v.clone()).ok().flatten())
            .unwrap_or(false);
        let measured = metrics::measure(&state.db.replica, &key, &source, (start, end), &param, subdomains).await?;
        let bytes = key == "instance_media_attachments";
        let (total, previous) = if instance {
            (metrics::all_time(&state.db.replica, &key, &source, &param, subdomains).await?, None)
        } else {
            (measured.total, Some(measured.previous_total))
        };
        rendered.push(entities::admin_measure(&key, bytes.then_some("bytes"), total, previous, &measured.days));
    }
    Ok(HttpResponse::Ok().json(rendered))
}

/// `POST /api/v1/admin/dimensions`.
pub async fn dimensions(state: State, auth: Auth, Params(p): Params<Map<String, Value>>) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read", permission::VIEW_DASHBOARD).await?;
    let (start, end) = range(&p)?;
    let limit =
        p.get("limit").and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok())).unwrap_or(10).clamp(1, 100);
    let db = &state.db.replica;
    let mut rendered = Vec::new();
    for key in keys(&p)? {
        let data: Vec<Value> = match key.as_str() {
            "space_usage" => {
                let (database, media) = metrics::space_usage(db).await?;
                let (redis, _) = crate::effects::activity::redis_info(&state).await?;
                [("postgresql", "PostgreSQL", database), ("redis", "Redis", redis), ("media", "Media storage", media)]
                    .iter()
                    .map(|(k, name, bytes)| entities::admin_dimension_item(k, name, *bytes, true))
                    .collect()
            }
            "software_versions" => {
                let (_, redis) = crate::effects::activity::redis_info(&state).await?;
                let versions = [
                    ("mastodon", "Mastodon", crate::model::instance::version_string()),
                    ("postgresql", "PostgreSQL", metrics::postgresql_version(db).await?),
                    ("redis", "Redis", redis),
                ];
                versions.iter().map(|(k, name, v)| json!({"key": k, "human_key": name, "value": v})).collect()
            }
            _ => {
                let param = match key.as_str() {
                    "tag_servers" | "tag_languages" => key_param(&p, &key, "id")?,
                    "instance_accounts" | "instance_languages" => key_param(&p, &key, "domain")?,
                    _ => state.config.local_domain.clone(),
                };
                let Some(top) = metrics::dimension(db, &key, (start, end), &param, limit).await? else { continue };
                top.iter().map(|(k, n)| entities::admin_dimension_item(k, k, *n, false)).collect()
            }
        };
        rendered.push(json!({ "key": key, "data": data }));
    }
    Ok(HttpResponse::Ok().json(rendered))
}

/// `POST /api/v1/admin/retention`: `frequency` day (default) or month.
pub async fn retention(state: State, auth: Auth, Params(p): Params<Map<String, Value>>) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read", permission::VIEW_DASHBOARD).await?;
    let (start, end) = range(&p)?;
    let monthly = text(&p, "frequency") == Some("month");
    // Mastodon looks back at most 31 days, or 12 months.
    let earliest = if monthly { end - chrono::Duration::days(366) } else { end - chrono::Duration::days(31) };
    let cohorts = metrics::retention(&state.db.replica, start.max(earliest), end, monthly).await?;
    let frequency = if monthly { "month" } else { "day" };
    Ok(HttpResponse::Ok().json(cohorts.iter().map(|c| entities::admin_cohort(c, frequency)).collect::<Vec<_>>()))
}
