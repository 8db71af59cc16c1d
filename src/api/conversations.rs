//! `/api/v1/conversations`: the viewer's direct conversations, read and removed.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::auth::Auth;
use super::links::json_page_limited;
use super::params::{Params, path_id};
use crate::AppState;
use crate::api::params::PageParams;
use crate::core::error::{Error, Result};
use crate::domain::conversations;
use crate::model::conversations as model;
use crate::render::conversations::render;

type State = web::Data<AppState>;

/// `GET /api/v1/conversations`: latest first, paged by their latest status.
pub async fn index(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:statuses")?;
    let page = page.page(20, 40);
    let found = model::page(&state.db.primary, viewer.account_id, &page).await?;
    let cursors: Vec<i64> = found.iter().filter_map(|c| c.last_status_id).collect();
    let rendered = render(&state.db.primary, &state.config, viewer.account_id, &found).await?;
    Ok(json_page_limited(&state, &req, &cursors, page.limit, rendered))
}

/// The conversation as it is after a change.
async fn one(state: &AppState, viewer: i64, id: i64) -> Result<HttpResponse> {
    let found = model::find(&state.db.primary, viewer, id).await?;
    let rendered = render(&state.db.primary, &state.config, viewer, &[found]).await?;
    Ok(HttpResponse::Ok().json(rendered.into_iter().next().ok_or(Error::NotFound)?))
}

/// `POST /api/v1/conversations/:id/read` (and `/unread`).
async fn mark(state: State, auth: Auth, id: web::Path<String>, unread: bool) -> Result<HttpResponse> {
    let viewer = auth.user("write:conversations")?;
    let id = path_id(&id)?;
    conversations::mark(&state, viewer.account_id, id, unread).await?;
    one(&state, viewer.account_id, id).await
}

pub async fn read(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    mark(state, auth, id, false).await
}

pub async fn unread(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    mark(state, auth, id, true).await
}

/// `DELETE /api/v1/conversations/:id`: gone from the list (the statuses stay).
pub async fn destroy(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:conversations")?;
    model::remove(&state.db.primary, viewer.account_id, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}
