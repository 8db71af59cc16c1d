//! The notification policy (`/api/v2/notifications/policy`) and the requests it holds back
//! (`/api/v1/notifications/requests`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::auth::Auth;
use super::links::json_page_limited;
use super::params::{Params, path_id, string_list};
use crate::AppState;
use crate::api::params::PageParams;
use crate::core::error::{Error, Result};
use crate::domain::notification_requests;
use crate::model::notification_policies::{self as policies, OUTCOMES, POLICIES, Request};
use crate::model::{accounts, hydrate};
use crate::render::entities;

type State = web::Data<AppState>;

async fn policy_json(state: &AppState, account_id: i64) -> Result<HttpResponse> {
    let policy = policies::policy(&state.db.primary, account_id).await?;
    let pending = policies::summary(&state.db.primary, account_id).await?;
    Ok(HttpResponse::Ok().json(entities::notification_policy(&policy, pending)))
}

pub async fn policy(state: State, auth: Auth) -> Result<HttpResponse> {
    let viewer = auth.user("read:notifications")?;
    policy_json(&state, viewer.account_id).await
}

/// `PATCH /api/v2/notifications/policy`: any of the `for_*` keys, each accept, filter or drop.
pub async fn update_policy(state: State, auth: Auth, Params(p): Params<Map<String, Value>>) -> Result<HttpResponse> {
    let viewer = auth.user("write:notifications")?;
    let mut changes = Vec::new();
    for (column, _) in POLICIES {
        let Some(value) = p.get(column).and_then(Value::as_str) else { continue };
        let outcome = OUTCOMES
            .iter()
            .position(|o| *o == value)
            .ok_or_else(|| Error::validation(format!("{} is not included in the list", humanize(column))))?;
        changes.push((column, outcome as i32));
    }
    policies::set_policy(&state.db.primary, viewer.account_id, &changes).await?;
    policy_json(&state, viewer.account_id).await
}

/// `for_not_following` → `For not following`, as Rails names attributes in messages.
fn humanize(column: &str) -> String {
    let spaced = column.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

/// `NotificationRequest` entities, with their senders and latest statuses.
async fn render(state: &AppState, viewer: i64, requests: &[Request]) -> Result<Vec<Value>> {
    let db = &state.db.primary;
    let senders = accounts::find_many(db, &requests.iter().map(|r| r.from_account_id).collect::<Vec<_>>()).await?;
    let status_ids: Vec<i64> = requests.iter().filter_map(|r| r.last_status_id).collect();
    let bundle = hydrate::load(db, &status_ids, Some(viewer)).await?;
    Ok(requests
        .iter()
        .filter_map(|r| {
            let sender = senders.iter().find(|a| a.id == r.from_account_id)?;
            Some(json!({
                "id": r.id.to_string(),
                "created_at": crate::core::time::iso(&r.created_at),
                "updated_at": crate::core::time::iso(&r.updated_at),
                "notifications_count": r.notifications_count.to_string(),
                "account": entities::account(sender, &state.config),
                "last_status": r.last_status_id.and_then(|id| entities::status(id, &bundle, &state.config)),
            }))
        })
        .collect())
}

pub async fn index(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:notifications")?;
    let page = page.page(40, 80);
    let requests = policies::requests(&state.db.primary, viewer.account_id, &page).await?;
    let cursors: Vec<i64> = requests.iter().map(|r| r.id).collect();
    let rendered = render(&state, viewer.account_id, &requests).await?;
    Ok(json_page_limited(&state, &req, &cursors, page.limit, rendered))
}

pub async fn show(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("read:notifications")?;
    let request = policies::request(&state.db.primary, viewer.account_id, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(render(&state, viewer.account_id, &[request]).await?.pop()))
}

pub async fn accept(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:notifications")?;
    let request = policies::request(&state.db.primary, viewer.account_id, path_id(&id)?).await?;
    notification_requests::accept(&state, viewer.account_id, &[request.id]).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

pub async fn dismiss(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:notifications")?;
    let request = policies::request(&state.db.primary, viewer.account_id, path_id(&id)?).await?;
    notification_requests::dismiss(&state, viewer.account_id, &[request.id]).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

#[derive(Deserialize)]
pub struct IdsParams {
    #[serde(default, deserialize_with = "string_list")]
    id: Vec<String>,
}

fn ids(p: &IdsParams) -> Vec<i64> {
    p.id.iter().filter_map(|id| id.parse().ok()).collect()
}

/// `POST /api/v1/notifications/requests/accept` (`id[]`).
pub async fn accept_many(state: State, auth: Auth, Params(p): Params<IdsParams>) -> Result<HttpResponse> {
    let viewer = auth.user("write:notifications")?;
    notification_requests::accept(&state, viewer.account_id, &ids(&p)).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

pub async fn dismiss_many(state: State, auth: Auth, Params(p): Params<IdsParams>) -> Result<HttpResponse> {
    let viewer = auth.user("write:notifications")?;
    notification_requests::dismiss(&state, viewer.account_id, &ids(&p)).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `GET /api/v1/notifications/requests/merged`: accepted notifications are let through in
/// the accepting transaction, so they are always merged.
pub async fn merged(auth: Auth) -> Result<HttpResponse> {
    auth.user("read:notifications")?;
    Ok(HttpResponse::Ok().json(json!({ "merged": true })))
}
