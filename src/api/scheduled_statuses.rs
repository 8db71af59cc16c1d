//! `/api/v1/scheduled_statuses`, and posting with `scheduled_at`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Auth;
use super::links::json_page_limited;
use super::params::{Params, opt_string, path_id};
use crate::AppState;
use crate::api::params::PageParams;
use crate::core::error::{Error, Result};
use crate::domain::scheduled;
use crate::model::scheduled_statuses::{self as model, ScheduledStatus};
use crate::render::entities;

type State = web::Data<AppState>;

/// A `scheduled_at` as clients send it (ISO 8601, with or without an offset: UTC then).
pub fn parse_time(raw: &str) -> Result<NaiveDateTime> {
    let raw = raw.trim();
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| t.naive_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f"))
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M"))
        .map_err(|_| Error::validation("Scheduled at is invalid"))
}

/// `ScheduledStatus` entities, with the media waiting for each.
pub async fn render(state: &AppState, rows: &[ScheduledStatus]) -> Result<Vec<Value>> {
    let media = model::media(&state.db.primary, &rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
    Ok(rows
        .iter()
        .map(|row| {
            let mut params = row.params.clone().unwrap_or_else(|| json!({}));
            if params.get("quoted_status_id").is_none() {
                params["quoted_status_id"] = Value::Null;
            }
            params["quote_approval_policy"] = json!("nobody");
            if let Some(poll) = params.get_mut("poll").filter(|p| p.is_object()) {
                for key in ["multiple", "hide_totals"] {
                    poll[key] = json!(crate::domain::polls::is_set(&poll[key]));
                }
            }
            let attachments: Vec<Value> = media
                .iter()
                .filter(|(id, _)| *id == row.id)
                .map(|(_, m)| entities::media_attachment(m, &state.config))
                .collect();
            json!({
                "id": row.id.to_string(),
                "scheduled_at": row.scheduled_at.as_ref().map(crate::core::time::iso),
                "params": params,
                "media_attachments": attachments,
            })
        })
        .collect())
}

async fn one(state: &AppState, account_id: i64, id: i64) -> Result<HttpResponse> {
    let row = model::find(&state.db.primary, account_id, id).await?;
    Ok(HttpResponse::Ok().json(render(state, &[row]).await?.pop()))
}

pub async fn index(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:statuses")?;
    let page = page.page(20, 40);
    let rows = model::page(&state.db.primary, viewer.account_id, &page).await?;
    let cursors: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let rendered = render(&state, &rows).await?;
    Ok(json_page_limited(&state, &req, &cursors, page.limit, rendered))
}

pub async fn show(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("read:statuses")?;
    one(&state, viewer.account_id, path_id(&id)?).await
}

#[derive(Deserialize)]
pub struct UpdateParams {
    #[serde(default, deserialize_with = "opt_string")]
    scheduled_at: Option<String>,
}

/// `PUT /api/v1/scheduled_statuses/:id`: a new time.
pub async fn update(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<UpdateParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:statuses")?;
    let id = path_id(&id)?;
    let at = parse_time(p.scheduled_at.as_deref().ok_or_else(|| Error::missing_param("scheduled_at"))?)?;
    scheduled::reschedule(&state, viewer.account_id, id, at).await?;
    one(&state, viewer.account_id, id).await
}

pub async fn destroy(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:statuses")?;
    if !model::delete(&state.db.primary, viewer.account_id, path_id(&id)?).await? {
        return Err(Error::NotFound);
    }
    Ok(HttpResponse::Ok().json(json!({})))
}
