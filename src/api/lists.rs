//! `/api/v1/lists`, their members, `/api/v1/accounts/:id/lists` and the list timeline.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Auth;
use super::links::json_page;
use super::params::{Params, opt_bool, opt_string, path_id, string_list};
use super::{render_account_list, render_statuses_in};
use crate::AppState;
use crate::api::params::PageParams;
use crate::core::error::{Error, Result};
use crate::domain::lists;
use crate::effects::feeds;
use crate::render::entities;

type State = web::Data<AppState>;

pub async fn index(state: State, auth: Auth) -> Result<HttpResponse> {
    let viewer = auth.user("read:lists")?;
    let all = crate::model::lists::all(&state.db.primary, viewer.account_id).await?;
    Ok(HttpResponse::Ok().json(all.iter().map(entities::list).collect::<Vec<Value>>()))
}

pub async fn show(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("read:lists")?;
    let list = crate::model::lists::get(&state.db.primary, viewer.account_id, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(entities::list(&list)))
}

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(default, deserialize_with = "opt_string")]
    title: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    replies_policy: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    exclusive: Option<bool>,
}

pub async fn create(state: State, auth: Auth, Params(p): Params<ListParams>) -> Result<HttpResponse> {
    let viewer = auth.user("write:lists")?;
    let list = lists::create(
        &state.db.primary,
        viewer.account_id,
        p.title.as_deref().unwrap_or(""),
        p.replies_policy.as_deref(),
        p.exclusive,
    )
    .await?;
    Ok(HttpResponse::Ok().json(entities::list(&list)))
}

pub async fn update(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<ListParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:lists")?;
    let list = lists::update(
        &state.db.primary,
        viewer.account_id,
        path_id(&id)?,
        p.title.as_deref(),
        p.replies_policy.as_deref(),
        p.exclusive,
    )
    .await?;
    Ok(HttpResponse::Ok().json(entities::list(&list)))
}

pub async fn destroy(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:lists")?;
    lists::delete(&state, viewer.account_id, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

pub async fn members(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<String>,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:lists")?;
    let page = page.page(40, 80);
    let rows = crate::model::lists::members(&state.db.primary, viewer.account_id, path_id(&id)?, &page).await?;
    let cursors: Vec<i64> = rows.iter().map(|(c, _)| *c).collect();
    Ok(json_page(&state, &req, &cursors, render_account_list(&state, &rows)))
}

#[derive(Deserialize)]
pub struct MemberParams {
    #[serde(default, deserialize_with = "string_list")]
    account_ids: Vec<String>,
}

fn account_ids(p: &MemberParams) -> Result<Vec<i64>> {
    if p.account_ids.is_empty() {
        return Err(Error::validation("Account ids can't be blank"));
    }
    p.account_ids.iter().map(|id| path_id(id)).collect()
}

pub async fn add_members(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<MemberParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:lists")?;
    lists::add_members(&state, viewer.account_id, path_id(&id)?, &account_ids(&p)?).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

pub async fn remove_members(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<MemberParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:lists")?;
    lists::remove_members(&state, viewer.account_id, path_id(&id)?, &account_ids(&p)?).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `GET /api/v1/accounts/:id/lists`: which of my lists hold this account.
pub async fn of_account(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("read:lists")?;
    let found = crate::model::lists::containing(&state.db.primary, viewer.account_id, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(found.iter().map(entities::list).collect::<Vec<Value>>()))
}

pub async fn timeline(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<String>,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:lists")?;
    let page = page.page(20, 40);
    let ids = feeds::read_list(&state, viewer.account_id, path_id(&id)?, &page).await?;
    Ok(json_page(&state, &req, &ids, render_statuses_in(&state, &ids, Some(viewer.account_id), "home").await?))
}
